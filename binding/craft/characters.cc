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
  // Local maxima above lowText (the first index of a plateau), then the 1-D watershed: neighbours whose valley is not
  // deep enough merge into the higher one.
  std::vector<int> peaks;
  for (int x = 0; x < L; x++) {
    if (p[x] <= lowText) continue;
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
  // half that maximum (and lowText). Two text lines joined into one box have a valley between their characters'
  // Gaussians, so this is one line's character height however tall the box is.
  std::vector<float> heights;
  for (int pk : kept) {
    int ym = 0;
    for (int y = 1; y < H; y++) if (strip.at<float>(y, pk) > strip.at<float>(ym, pk)) ym = y;
    const float cut = std::max(lowText, 0.5f * strip.at<float>(ym, pk));
    int y0 = ym, y1 = ym;
    while (y0 > 0 && strip.at<float>(y0 - 1, pk) > cut) y0--;
    while (y1 + 1 < H && strip.at<float>(y1 + 1, pk) > cut) y1++;
    heights.push_back((y1 - y0 + 1) * thickness / H);
  }
  std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
  word.charHeight = heights[heights.size() / 2];
  if (!characters) return;

  // Boundaries: the valleys between peaks; the word box's ends (dilated by GetDetBoxes) bound the first and last
  // characters. Across the word, a character spans its region > lowText widened by the word's own margin there.
  auto rows = [&](int x0, int x1, int& y0, int& y1) {
    y0 = H;
    y1 = -1;
    for (int y = 0; y < H; y++) {
      const float* row = strip.ptr<float>(y);
      for (int x = x0; x < x1; x++) {
        if (row[x] > lowText) { y0 = std::min(y0, y); y1 = std::max(y1, y); break; }
      }
    }
  };
  int wy0, wy1;
  rows(0, L, wy0, wy1);
  const int marginTop = wy1 >= wy0 ? wy0 : 0, marginBottom = wy1 >= wy0 ? H - 1 - wy1 : 0;
  std::vector<int> bounds = {0};
  for (size_t k = 0; k + 1 < kept.size(); k++) bounds.push_back(valley(kept[k], kept[k + 1]));
  bounds.push_back(L);
  cv::Mat inverse = M.inv();
  for (size_t k = 0; k + 1 < bounds.size(); k++) {
    const int x0 = bounds[k], x1 = std::max(bounds[k + 1], x0 + 1);
    int y0, y1;
    rows(x0, std::min(x1, L), y0, y1);
    float fy0 = 0.f, fy1 = static_cast<float>(H);
    if (y1 >= y0) {
      fy0 = static_cast<float>(std::max(0, y0 - marginTop));
      fy1 = static_cast<float>(std::min(H, y1 + 1 + marginBottom));
    }
    std::vector<cv::Point2f> q = {{float(x0), fy0}, {float(x1), fy0}, {float(x1), fy1}, {float(x0), fy1}}, out;
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
