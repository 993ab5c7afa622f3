#include "characters.h"

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace craft {
namespace {

float Dist(const Point& a, const Point& b) { return std::hypot(a.x - b.x, a.y - b.y); }

// Clockwise (y down) from the corner with the smallest x + y, like the word boxes.
std::array<Point, 4> Ordered(std::array<Point, 4> q) {
  double area = 0;
  for (int i = 0; i < 4; i++) area += q[i].x * q[(i + 1) % 4].y - q[(i + 1) % 4].x * q[i].y;
  if (area < 0) std::swap(q[1], q[3]);
  int first = 0;
  for (int i = 1; i < 4; i++) {
    if (q[i].x + q[i].y < q[first].x + q[first].y) first = i;
  }
  std::rotate(q.begin(), q.begin() + first, q.end());
  return q;
}

void ScoreWord(const cv::Mat& map, float lowText, bool characters, Word& word) {
  word.rawScore = word.score;
  word.charHeight = 0.f;
  word.levelHeight = 0.f;
  // The characters are read at the map's own level, whatever the words were grouped at (characters.h).
  const float level = std::max(lowText, kCharacterLevel);
  const float fallback = std::isnan(word.score) ? 0.f : std::min(std::max(word.score, 0.f), 1.f);
  word.score = fallback;
  const auto& b = word.box;
  const float top = Dist(b[0], b[1]), side = Dist(b[1], b[2]);
  if (top < 1.f || side < 1.f) return;  // the reference's degenerate (0, 0) box
  const bool vertical = side > top;
  // Strip coordinates: x along the reading direction, y across it.
  const Point origin = b[0], along = vertical ? b[3] : b[1], far = b[2], across = vertical ? b[1] : b[3];
  const float length = vertical ? side : top, thickness = vertical ? top : side;
  // Enough samples across small words; at most kMaxStrip along either axis (OpenCV's remap takes < 32767, and a
  // longer profile would not resolve more characters than the map has pixels for).
  constexpr float kMaxStrip = 4096.f;
  const float s = std::min(4.f, std::max(1.f, 12.f / thickness));
  const int L = std::max(2, static_cast<int>(std::lround(std::min(length * s, kMaxStrip))));
  const int H = std::max(1, static_cast<int>(std::lround(std::min(thickness * s, kMaxStrip))));
  // Sampled from the word's bounding region of the map (OpenCV's remap takes maps under 32767 px a side; a word that
  // long keeps its capped rawScore and gets no character boxes).
  float bx0 = b[0].x, by0 = b[0].y, bx1 = b[0].x, by1 = b[0].y;
  for (const Point& p : b) {
    bx0 = std::min(bx0, p.x); by0 = std::min(by0, p.y); bx1 = std::max(bx1, p.x); by1 = std::max(by1, p.y);
  }
  const int rx0 = std::max(0, static_cast<int>(std::floor(bx0)) - 1), ry0 = std::max(0, static_cast<int>(std::floor(by0)) - 1);
  const int rx1 = std::min(map.cols, static_cast<int>(std::ceil(bx1)) + 2), ry1 = std::min(map.rows, static_cast<int>(std::ceil(by1)) + 2);
  if (rx1 <= rx0 || ry1 <= ry0 || rx1 - rx0 >= 32000 || ry1 - ry0 >= 32000) return;
  const cv::Mat roi = map(cv::Rect(rx0, ry0, rx1 - rx0, ry1 - ry0));
  const cv::Point2f src[4] = {{origin.x - rx0, origin.y - ry0}, {along.x - rx0, along.y - ry0},
                              {far.x - rx0, far.y - ry0}, {across.x - rx0, across.y - ry0}};
  const cv::Point2f dst[4] = {{0.f, 0.f}, {float(L), 0.f}, {float(L), float(H)}, {0.f, float(H)}};
  const cv::Mat M = cv::getPerspectiveTransform(src, dst);
  cv::Mat strip;
  cv::warpPerspective(roi, strip, M, cv::Size(L, H), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);

  std::vector<float> raw(L, 0.f), p(L, 0.f);
  for (int y = 0; y < H; y++) {
    const float* row = strip.ptr<float>(y);
    for (int x = 0; x < L; x++) raw[x] = std::max(raw[x], row[x]);
  }
  for (int x = 0; x < L; x++) {
    p[x] = (raw[std::max(0, x - 1)] + 2 * raw[x] + raw[std::min(L - 1, x + 1)]) / 4;
  }
  // Local maxima above the level (the first index of a plateau), then the 1-D watershed: neighbours whose valley is not
  // deep enough merge into the higher one.
  std::vector<int> peaks;
  for (int x = 0; x < L; x++) {
    if (p[x] <= level) continue;
    if (x > 0 && p[x - 1] >= p[x]) continue;
    int e = x;
    while (e + 1 < L && p[e + 1] == p[x]) e++;
    if (e + 1 < L && p[e + 1] > p[x]) continue;
    peaks.push_back((x + e) / 2);
  }
  auto valley = [&](int a, int c) {
    int v = a;
    for (int x = a; x <= c; x++) if (p[x] < p[v]) v = x;
    return v;
  };
  std::vector<int> kept;
  for (int pk : peaks) {
    kept.push_back(pk);
    while (kept.size() >= 2) {
      const int a = kept[kept.size() - 2], c = kept.back();
      const float low = std::min(p[a], p[c]);
      if (p[valley(a, c)] < (1.f - kPeakProminence) * low) break;
      const int higher = p[a] >= p[c] ? a : c;
      kept.pop_back();
      kept.back() = higher;
    }
  }
  if (kept.empty()) return;
  double sum = 0;
  for (int pk : kept) sum += std::min(std::max(raw[pk], 0.f), 1.f);
  word.score = static_cast<float>(sum / kept.size());
  // Character height: at each peak's column, the run of rows around the column's maximum where the region stays above
  // half that maximum (and the level). Two text lines joined into one box have a valley between their characters'
  // Gaussians, so this is one line's character height however tall the box is.
  std::vector<float> heights;
  for (int pk : kept) {
    int ym = 0;
    for (int y = 1; y < H; y++) if (strip.at<float>(y, pk) > strip.at<float>(ym, pk)) ym = y;
    const float cut = std::max(level, 0.5f * strip.at<float>(ym, pk));
    int y0 = ym, y1 = ym;
    while (y0 > 0 && strip.at<float>(y0 - 1, pk) > cut) y0--;
    while (y1 + 1 < H && strip.at<float>(y1 + 1, pk) > cut) y1++;
    heights.push_back((y1 - y0 + 1) * thickness / H);
  }
  std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
  word.charHeight = heights[heights.size() / 2];

  // levelHeight: the word's short side as GetDetBoxes would draw it at the level, its rows of region > level widened
  // by the margins its dilation gave the box beyond region > lowText (scale 'auto' reads word heights in the units of
  // boxes drawn at the level: autoscale.h kDetectedToTruth).
  if (level > lowText) {
    // The first and last rows with a value over lowText (wy) and over the level (ly), in one scan of the strip: a
    // value over the level is over lowText too, so a row's scan stops at its first one.
    int wy0 = H, wy1 = -1, ly0 = H, ly1 = -1;
    for (int y = 0; y < H; y++) {
      const float* row = strip.ptr<float>(y);
      bool overLow = false;
      for (int x = 0; x < L; x++) {
        if (row[x] > level) { overLow = true; ly0 = std::min(ly0, y); ly1 = y; break; }
        if (row[x] > lowText) overLow = true;
      }
      if (overLow) { wy0 = std::min(wy0, y); wy1 = y; }
    }
    if (wy1 >= wy0 && ly1 >= ly0) word.levelHeight = std::min(H, ly1 - ly0 + 1 + wy0 + (H - 1 - wy1)) * thickness / H;
  }
  if (!characters) return;

  // Boundaries: the valleys between peaks, and the word box's ends. In its slice, a character is the box whose
  // training Gaussian has the slice's region > level: that extent (rows and columns) widened by 1 / GaussianAt(level),
  // clipped to the slice. A slice with nothing over the level keeps its whole extent.
  const float widen = 1.f / std::max(0.1f, GaussianAt(level));  // at most 10x (a level near 1)
  std::vector<int> bounds = {0};
  for (size_t k = 0; k + 1 < kept.size(); k++) bounds.push_back(valley(kept[k], kept[k + 1]));
  bounds.push_back(L);
  cv::Mat inverse = M.inv();
  for (size_t k = 0; k + 1 < bounds.size(); k++) {
    const int x0 = bounds[k], x1 = std::min(L, std::max(bounds[k + 1], x0 + 1));
    int y0 = H, y1 = -1, c0 = x1, c1 = -1;
    for (int y = 0; y < H; y++) {
      const float* row = strip.ptr<float>(y);
      for (int x = x0; x < x1; x++) {
        if (row[x] > level) { y0 = std::min(y0, y); y1 = y; c0 = std::min(c0, x); c1 = std::max(c1, x); }
      }
    }
    float fx0 = static_cast<float>(x0), fx1 = static_cast<float>(x1), fy0 = 0.f, fy1 = static_cast<float>(H);
    if (y1 >= y0) {
      // Samples y0 .. y1 span [y0, y1 + 1) of the strip.
      const float cy = (y0 + y1 + 1) / 2.f, hy = (y1 + 1 - y0) / 2.f * widen;
      const float cx = (c0 + c1 + 1) / 2.f, hx = (c1 + 1 - c0) / 2.f * widen;
      fy0 = std::max(0.f, cy - hy);
      fy1 = std::min(static_cast<float>(H), cy + hy);
      fx0 = std::max(fx0, cx - hx);
      fx1 = std::min(fx1, cx + hx);
    }
    std::vector<cv::Point2f> q = {{fx0, fy0}, {fx1, fy0}, {fx1, fy1}, {fx0, fy1}}, out;
    cv::perspectiveTransform(q, out, inverse);
    std::array<Point, 4> box;
    for (int i = 0; i < 4; i++) box[i] = {out[i].x + rx0, out[i].y + ry0};
    word.characters.push_back(Ordered(box));
  }
}

}  // namespace

void ScoreWords(const float* region, int width, int height, float lowText, bool characters, std::vector<Word>& words) {
  if (region == nullptr || width <= 0 || height <= 0) return;
  const cv::Mat map(height, width, CV_32F, const_cast<float*>(region));
  for (Word& word : words) ScoreWord(map, lowText, characters, word);
}

}  // namespace craft
