// Port of CRAFT-pytorch craft_utils.getDetBoxes (getDetBoxes_core + getPoly_core), clovaai/CRAFT-pytorch, MIT.
//
// Comments quote the reference line they stand for ("ref:"), names follow it (textThreshold = text_threshold, ...).
// The reference allocates and scans full-size maps once per component; here:
//   - one pass over the maps thresholds them and labels the union of text and link pixels as horizontal runs joined
//     with 4-connectivity (union-find), numbering the components exactly as cv::connectedComponentsWithStats does
//     (raster order of each component's first pixel); the runs give the stats, each component's max region score
//     and, per row, its leftmost/rightmost text pixel (its segmap rows) without a label image;
//   - per component, the dilation is applied to those row extents (a rectangular dilation of a set is a windowed
//     min/max of its row extents), and minAreaRect gets the dilated row extents instead of every pixel: both point
//     sets have the same convex hull, and minAreaRect only looks at the hull (it runs convexHull first), so the
//     rectangle is the same (test/native/postprocess_test.cc checks this bit for bit against a literal full-map port
//     that uses OpenCV's labeling);
//   - for polygons, a label image is drawn from the runs of the kept components, and getPoly_core's
//     warpPerspective only reads the labels under its output grid (w x h of the box).
#include "postprocess.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "error.h"

namespace craft {
namespace {

// np.linalg.norm of a float32 2-vector: float32 products, float32 sum, float32 sqrt.
float Norm(const cv::Point2f& a, const cv::Point2f& b) {
  const float dx = a.x - b.x, dy = a.y - b.y;
  const float sq = dx * dx + dy * dy;
  return std::sqrt(sq);
}

// A horizontal run of foreground (text or link) pixels: [x0, x1] on row y.
struct Run {
  int y, x0, x1;
  int textMin, textMax;  // first/last text pixel (region > lowText) in the run; -1 if none
  float maxScore;        // max region score over the run (NaN if any is NaN, as np.max)
};

// Connected components of the union of text and link pixels, with 4-connectivity, as
// cv::connectedComponentsWithStats(..., connectivity=4) numbers them: label k is the k-th component in raster order
// of its first pixel (OpenCV's 4-connectivity labelers, SAUF and Spaghetti4C, keep the minimum provisional label as
// the root and provisional labels follow the raster scan). Done on runs, so the cost is one pass over the maps plus
// work proportional to the foreground, and no label image.
struct Labeling {
  int nLabels = 1;  // including the background, like OpenCV's nLabels
  std::vector<Run> runs;
  std::vector<int> runLabel;  // final label of each run
  std::vector<int> area, left, top, right, bottom;  // per label (ref: stats)
  std::vector<float> maxScore;                      // per label (ref: np.max(textmap[labels==k]))
};

inline float MaxNaN(float a, float b) {  // np.max semantics: NaN wins
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  return a > b ? a : b;
}

int FindRoot(std::vector<int>& parent, int i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];  // path halving keeps the root (the set's minimum) unchanged
    i = parent[i];
  }
  return i;
}

Labeling LabelRuns(const float* region, const float* affinity, int imgW, int imgH, float lowText,
                   float linkThreshold) {
  Labeling out;
  std::vector<int> parent;
  std::vector<uint8_t> mask(imgW);  // one row: bit 0 = text_score, bit 1 = link_score
  size_t prevBegin = 0, prevEnd = 0;
  for (int y = 0; y < imgH; y++) {
    const float* reg = region + static_cast<size_t>(y) * imgW;
    const float* aff = affinity + static_cast<size_t>(y) * imgW;
    uint8_t* m = mask.data();
    for (int x = 0; x < imgW; x++) {
      m[x] = static_cast<uint8_t>((reg[x] > lowText) | ((aff[x] > linkThreshold) << 1));
    }
    // Runs of this row.
    const size_t curBegin = out.runs.size();
    int x = 0;
    while (x < imgW) {
      while (x + 8 <= imgW) {  // skip background 8 pixels at a time
        uint64_t chunk;
        std::memcpy(&chunk, m + x, 8);
        if (chunk != 0) break;
        x += 8;
      }
      while (x < imgW && m[x] == 0) x++;
      if (x >= imgW) break;
      Run run{y, x, x, -1, -1, reg[x]};
      for (; x < imgW && m[x] != 0; x++) {
        run.maxScore = MaxNaN(run.maxScore, reg[x]);
        if (m[x] & 1) {
          if (run.textMin < 0) run.textMin = x;
          run.textMax = x;
        }
      }
      run.x1 = x - 1;
      const int index = static_cast<int>(out.runs.size());
      out.runs.push_back(run);
      parent.push_back(index);
    }
    const size_t curEnd = out.runs.size();
    // 4-connectivity: a run touches the runs of the row above that share a column with it.
    size_t p = prevBegin, c = curBegin;
    while (p < prevEnd && c < curEnd) {
      const Run& a = out.runs[p];
      const Run& b = out.runs[c];
      if (a.x0 <= b.x1 && b.x0 <= a.x1) {
        const int ra = FindRoot(parent, static_cast<int>(p)), rb = FindRoot(parent, static_cast<int>(c));
        if (ra < rb) {
          parent[rb] = ra;
        } else if (rb < ra) {
          parent[ra] = rb;
        }
      }
      if (a.x1 < b.x1) {
        p++;
      } else {
        c++;
      }
    }
    prevBegin = curBegin;
    prevEnd = curEnd;
  }

  // Final labels in order of the roots (each set's first run in raster order), and the stats.
  const size_t nRuns = out.runs.size();
  out.runLabel.resize(nRuns);
  for (size_t i = 0; i < nRuns; i++) {
    const int r = FindRoot(parent, static_cast<int>(i));
    out.runLabel[i] = r == static_cast<int>(i) ? out.nLabels++ : out.runLabel[r];
  }
  const int n = out.nLabels;
  out.area.assign(n, 0);
  out.left.assign(n, std::numeric_limits<int>::max());
  out.top.assign(n, std::numeric_limits<int>::max());
  out.right.assign(n, -1);
  out.bottom.assign(n, -1);
  out.maxScore.assign(n, -std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < nRuns; i++) {
    const Run& run = out.runs[i];
    const int k = out.runLabel[i];
    out.area[k] += run.x1 - run.x0 + 1;
    out.left[k] = std::min(out.left[k], run.x0);
    out.right[k] = std::max(out.right[k], run.x1);
    out.top[k] = std::min(out.top[k], run.y);
    out.bottom[k] = std::max(out.bottom[k], run.y);
    out.maxScore[k] = MaxNaN(out.maxScore[k], run.maxScore);
  }
  return out;
}

// Buffers reused across components.
struct Scratch {
  std::vector<cv::Point> points;  // dilated segmap, as row extents
  std::vector<uint8_t> wordLabel;
};

// ref getDetBoxes_core, from "make segmentation map" to "make clock-wise order", for one component.
// rowMin/rowMax: extents of the segmap rows top .. top + h - 1 (rowMax < 0: empty row).
std::array<cv::Point2f, 4> MakeBox(const int* rowMin, const int* rowMax, int top, int h, int niter, int imgW,
                                   int imgH, Scratch& scratch) {
  std::array<cv::Point2f, 4> box;
  // ref: kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1 + niter, 1 + niter))
  //      segmap[sy:ey, sx:ex] = cv2.dilate(segmap[sy:ey, sx:ex], kernel)
  // The anchor is the kernel center (1 + niter) / 2, so a pixel spreads `lo` up/left and `hi` down/right. The ROI
  // [x - niter, x + w + niter + 1) always holds the whole spread, so clipping to it is clipping to the image, and the
  // ROI's constant border (dilate's default) adds nothing.
  const int hi = (1 + niter) / 2;
  const int lo = niter - hi;
  int first = -1, last = -1;
  for (int r = 0; r < h; r++) {
    if (rowMax[r] >= 0) {
      if (first < 0) first = r;
      last = r;
    }
  }
  if (first < 0) {
    // Only when textThreshold <= lowText: a component of link pixels only has an empty segmap, and the reference's
    // cv2.minAreaRect of no points is ((0, 0), (0, 0), angle): all four corners at (0, 0).
    box.fill(cv::Point2f(0.f, 0.f));
    return box;
  }

  // ref: np_contours = np.roll(np.array(np.where(segmap!=0)),1,axis=0).transpose().reshape(-1,2)
  // Only the extremes of each dilated row: the same convex hull as all the pixels.
  std::vector<cv::Point>& points = scratch.points;
  points.clear();
  int l = std::numeric_limits<int>::max(), r = -1, t = -1, b = -1;
  const int yBegin = std::max(0, top + first - lo), yEnd = std::min(imgH - 1, top + last + hi);
  for (int y = yBegin; y <= yEnd; y++) {
    // Source rows that reach dilated row y: [y - hi, y + lo].
    const int s0 = std::max(y - hi - top, first), s1 = std::min(y + lo - top, last);
    int xMin = std::numeric_limits<int>::max(), xMax = -1;
    for (int s = s0; s <= s1; s++) {
      if (rowMax[s] < 0) continue;
      xMin = std::min(xMin, rowMin[s]);
      xMax = std::max(xMax, rowMax[s]);
    }
    if (xMax < 0) continue;  // a gap in the segmap wider than the kernel
    xMin = std::max(0, xMin - lo);
    xMax = std::min(imgW - 1, xMax + hi);
    points.emplace_back(xMin, y);
    if (xMax != xMin) points.emplace_back(xMax, y);
    l = std::min(l, xMin);
    r = std::max(r, xMax);
    if (t < 0) t = y;
    b = y;
  }

  // ref: rectangle = cv2.minAreaRect(np_contours); box = cv2.boxPoints(rectangle)
  const cv::RotatedRect rectangle = cv::minAreaRect(points);
  rectangle.points(box.data());

  // ref: align diamond-shape
  //      w, h = np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[1] - box[2])
  //      box_ratio = max(w, h) / (min(w, h) + 1e-5)
  //      if abs(1 - box_ratio) <= 0.1: box = [[l, t], [r, t], [r, b], [l, b]] (bounds of the pixels)
  // float32 arithmetic, as numpy does with float32 scalars and Python floats (NEP 50).
  const float bw = Norm(box[0], box[1]), bh = Norm(box[1], box[2]);
  const float boxRatio = std::max(bw, bh) / (std::min(bw, bh) + 1e-5f);
  if (std::fabs(1.f - boxRatio) <= 0.1f) {
    box = {cv::Point2f(static_cast<float>(l), static_cast<float>(t)),
           cv::Point2f(static_cast<float>(r), static_cast<float>(t)),
           cv::Point2f(static_cast<float>(r), static_cast<float>(b)),
           cv::Point2f(static_cast<float>(l), static_cast<float>(b))};
  }

  // ref: startidx = box.sum(axis=1).argmin(); box = np.roll(box, 4-startidx, 0)
  int startIdx = 0;
  float minSum = box[0].x + box[0].y;
  for (int i = 1; i < 4; i++) {
    const float s = box[i].x + box[i].y;
    if (s < minSum) {
      minSum = s;
      startIdx = i;
    }
  }
  std::rotate(box.begin(), box.begin() + startIdx, box.end());
  return box;
}

// ref: warpCoord(Minv, pt)
Point WarpCoord(const cv::Matx33d& minv, double x, double y) {
  const double ox = minv(0, 0) * x + minv(0, 1) * y + minv(0, 2);
  const double oy = minv(1, 0) * x + minv(1, 1) * y + minv(1, 2);
  const double oz = minv(2, 0) * x + minv(2, 1) * y + minv(2, 2);
  return {static_cast<float>(ox / oz), static_cast<float>(oy / oz)};
}

// Python's int() of a double, for cv2.line's points. Clamped so the conversion is defined (the reference would
// raise on values outside int range; they can't occur with finite maps of a sane size).
int TruncToInt(double v) {
  constexpr double kLimit = 1 << 30;
  if (!(v > -kLimit)) return -(1 << 30);
  if (!(v < kLimit)) return 1 << 30;
  return static_cast<int>(v);
}

// ref: cv2.line(line_img, p1, p2, 1, thickness=1); np.sum(np.logical_and(word_label, line_img)) != 0
// cv::line (thickness 1, LINE_8, no shift) draws exactly the pixels of LineIterator(img, p1, p2, 8, true).
bool LineHitsWord(const cv::Mat& wordLabel, const double p[4]) {
  cv::LineIterator it(wordLabel, cv::Point(TruncToInt(p[0]), TruncToInt(p[1])),
                      cv::Point(TruncToInt(p[2]), TruncToInt(p[3])), 8, true);
  for (int i = 0; i < it.count; i++, ++it) {
    if (**it != 0) return true;
  }
  return false;
}

// ref getPoly_core, for one box. Returns false where the reference appends None.
bool GetPoly(const std::array<cv::Point2f, 4>& box, const cv::Mat& labels, int curLabel, Scratch& scratch,
             std::vector<Point>& poly) {
  // ref: configs
  constexpr int numCp = 5;
  constexpr double maxLenRatio = 0.7;
  constexpr double expandRatio = 1.45;
  constexpr double maxR = 2.0;
  constexpr double stepR = 0.2;

  // ref: size filter for small instance
  //      w, h = int(np.linalg.norm(box[0] - box[1]) + 1), int(np.linalg.norm(box[1] - box[2]) + 1)
  int w = static_cast<int>(Norm(box[0], box[1]) + 1.f);
  int h = static_cast<int>(Norm(box[1], box[2]) + 1.f);
  if (w < 10 || h < 10) return false;

  // ref: warp image
  const cv::Point2f tar[4] = {{0.f, 0.f}, {static_cast<float>(w), 0.f}, {static_cast<float>(w), static_cast<float>(h)},
                              {0.f, static_cast<float>(h)}};
  const cv::Mat M = cv::getPerspectiveTransform(box.data(), tar);
  cv::Mat warped;
  // Reads only the labels under the w x h output grid.
  cv::warpPerspective(labels, warped, M, cv::Size(w, h), cv::INTER_NEAREST);
  cv::Matx33d minv;
  if (cv::invert(M, minv, cv::DECOMP_LU) == 0) return false;  // ref: np.linalg.inv raising

  // ref: word_label[word_label != cur_label] = 0; word_label[word_label > 0] = 1
  //      if h > w: swap w/h, word_label = word_label.transpose(), flag = True
  const bool flag = h > w;
  if (flag) std::swap(w, h);
  std::vector<uint8_t>& wl = scratch.wordLabel;  // h rows x w cols, after the transpose
  wl.assign(static_cast<size_t>(w) * h, 0);
  for (int r = 0; r < warped.rows; r++) {
    const int* src = warped.ptr<int>(r);
    for (int c = 0; c < warped.cols; c++) {
      if (src[c] == curLabel) wl[flag ? static_cast<size_t>(c) * w + r : static_cast<size_t>(r) * w + c] = 1;
    }
  }
  const cv::Mat wordLabel(h, w, CV_8U, wl.data());

  // ref: find top/bottom contours
  struct Column {
    int x, sy, ey;
  };
  std::vector<Column> cp;
  cp.reserve(w);
  int maxLen = -1;
  for (int i = 0; i < w; i++) {
    int first = -1, last = -1;
    for (int j = 0; j < h; j++) {
      if (wl[static_cast<size_t>(j) * w + i]) {
        if (first < 0) first = j;
        last = j;
      }
    }
    if (first < 0 || first == last) continue;  // ref: if len(region) < 2 : continue
    cp.push_back({i, first, last});
    maxLen = std::max(maxLen, last - first + 1);
  }

  // ref: pass if max_len is similar to h
  if (h * maxLenRatio < maxLen) return false;

  // ref: get pivot points with fixed length
  constexpr int totSeg = numCp * 2 + 1;
  const double segW = static_cast<double>(w) / totSeg;
  struct Pivot {
    int x;
    double cy;
  };
  std::array<Pivot, numCp> pp;
  std::array<bool, numCp> ppSet{};  // pp[i] is not None
  std::array<std::array<double, 2>, totSeg> cpSection{};
  std::array<int, numCp> segHeight{};
  int segNum = 0;
  int numSec = 0;
  int prevH = -1;
  for (const Column& c : cp) {
    const int x = c.x, sy = c.sy, ey = c.ey;
    if ((segNum + 1) * segW <= x && segNum <= totSeg) {
      // ref: average previous segment
      if (numSec == 0) break;
      cpSection[segNum] = {cpSection[segNum][0] / numSec, cpSection[segNum][1] / numSec};
      numSec = 0;
      // ref: reset variables
      segNum += 1;
      prevH = -1;
    }
    // ref: accumulate center points
    const double cy = (sy + ey) * 0.5;
    const int curH = ey - sy + 1;
    cpSection[segNum] = {cpSection[segNum][0] + x, cpSection[segNum][1] + cy};
    numSec += 1;

    if (segNum % 2 == 0) continue;  // ref: No polygon area

    if (prevH < curH) {
      pp[(segNum - 1) / 2] = {x, cy};
      ppSet[(segNum - 1) / 2] = true;
      segHeight[(segNum - 1) / 2] = curH;
      prevH = curH;
    }
  }
  // ref: processing last segment -- cp_section[-1], the last section, whichever section the loop ended in.
  if (numSec != 0) cpSection[totSeg - 1] = {cpSection[totSeg - 1][0] / numSec, cpSection[totSeg - 1][1] / numSec};

  // ref: pass if num of pivots is not sufficient or segment width is smaller than character height
  //      if None in pp or seg_w < np.max(seg_height) * 0.25
  if (std::find(ppSet.begin(), ppSet.end(), false) != ppSet.end()) return false;
  if (segW < *std::max_element(segHeight.begin(), segHeight.end()) * 0.25) return false;

  // ref: calc median maximum of pivot points
  //      half_char_h = np.median(seg_height) * expand_ratio / 2
  std::array<int, numCp> sortedHeight = segHeight;
  std::sort(sortedHeight.begin(), sortedHeight.end());
  const double halfCharH = static_cast<double>(sortedHeight[numCp / 2]) * expandRatio / 2;

  // ref: calc gradiant and apply to make horizontal pivots
  std::array<std::array<double, 4>, numCp> newPp;
  for (int i = 0; i < numCp; i++) {
    const double x = pp[i].x, cy = pp[i].cy;
    const double dx = cpSection[i * 2 + 2][0] - cpSection[i * 2][0];
    const double dy = cpSection[i * 2 + 2][1] - cpSection[i * 2][1];
    if (dx == 0) {  // ref: gradient if zero
      newPp[i] = {x, cy - halfCharH, x, cy + halfCharH};
      continue;
    }
    const double rad = -std::atan2(dy, dx);
    const double c = halfCharH * std::cos(rad), s = halfCharH * std::sin(rad);
    newPp[i] = {x - s, cy - c, x + s, cy + c};
  }

  // ref: get edge points to cover character heatmaps
  bool isSppFound = false, isEppFound = false;
  double spp[4] = {0, 0, 0, 0}, epp[4] = {0, 0, 0, 0};
  const double gradS = (pp[1].cy - pp[0].cy) / (pp[1].x - pp[0].x) + (pp[2].cy - pp[1].cy) / (pp[2].x - pp[1].x);
  const double gradE = (pp[numCp - 2].cy - pp[numCp - 1].cy) / (pp[numCp - 2].x - pp[numCp - 1].x) +
                       (pp[numCp - 3].cy - pp[numCp - 2].cy) / (pp[numCp - 3].x - pp[numCp - 2].x);
  // ref: for r in np.arange(0.5, max_r, step_r) -- numpy fills start + i * ((start + step) - start).
  const double rStart = 0.5;
  const double rDelta = (rStart + stepR) - rStart;
  const int rCount = static_cast<int>(std::ceil((maxR - rStart) / stepR));
  for (int i = 0; i < rCount; i++) {
    const double r = rStart + i * rDelta;
    const double dx = 2 * halfCharH * r;
    if (!isSppFound) {
      const double dy = gradS * dx;
      const double p[4] = {newPp[0][0] - dx, newPp[0][1] - dy, newPp[0][2] - dx, newPp[0][3] - dy};
      if (!LineHitsWord(wordLabel, p) || r + 2 * stepR >= maxR) {
        std::copy(p, p + 4, spp);
        isSppFound = true;
      }
    }
    if (!isEppFound) {
      const double dy = gradE * dx;
      const auto& e = newPp[numCp - 1];
      const double p[4] = {e[0] + dx, e[1] + dy, e[2] + dx, e[3] + dy};
      if (!LineHitsWord(wordLabel, p) || r + 2 * stepR >= maxR) {
        std::copy(p, p + 4, epp);
        isEppFound = true;
      }
    }
    if (isSppFound && isEppFound) break;
  }

  // ref: pass if boundary of polygon is not found
  if (!(isSppFound && isEppFound)) return false;

  // ref: make final polygon (coordinates swapped back if the word label was transposed)
  const int ix = flag ? 1 : 0, iy = flag ? 0 : 1;
  poly.clear();
  poly.reserve(numCp * 2 + 4);
  poly.push_back(WarpCoord(minv, spp[ix], spp[iy]));
  for (int i = 0; i < numCp; i++) poly.push_back(WarpCoord(minv, newPp[i][ix], newPp[i][iy]));
  poly.push_back(WarpCoord(minv, epp[ix], epp[iy]));
  poly.push_back(WarpCoord(minv, epp[ix + 2], epp[iy + 2]));
  for (int i = numCp - 1; i >= 0; i--) poly.push_back(WarpCoord(minv, newPp[i][ix + 2], newPp[i][iy + 2]));
  poly.push_back(WarpCoord(minv, spp[ix + 2], spp[iy + 2]));
  return true;
}

}  // namespace

std::vector<Word> GetDetBoxes(const float* region, const float* affinity, int width, int height,
                              const PostprocessOptions& opts) {
  if (!region || !affinity) throw Error(ErrorCode::kInvalidInput, "GetDetBoxes: null score map");
  if (width <= 0 || height <= 0 || static_cast<int64_t>(width) * height > std::numeric_limits<int>::max()) {
    throw Error(ErrorCode::kInvalidInput,
                "GetDetBoxes: invalid map size " + std::to_string(width) + "x" + std::to_string(height));
  }
  const int imgW = width, imgH = height;  // ref: img_h, img_w = textmap.shape
  const float textThreshold = opts.textThreshold, linkThreshold = opts.linkThreshold, lowText = opts.lowText;

  // ref: labeling method
  //      ret, text_score = cv2.threshold(textmap, low_text, 1, 0)          (strictly greater)
  //      ret, link_score = cv2.threshold(linkmap, link_threshold, 1, 0)
  //      text_score_comb = np.clip(text_score + link_score, 0, 1)
  //      nLabels, labels, stats, centroids = cv2.connectedComponentsWithStats(text_score_comb, connectivity=4)
  const Labeling cc = LabelRuns(region, affinity, imgW, imgH, lowText, linkThreshold);
  const int nLabels = cc.nLabels;

  // Row extents of each kept component's segmap (ref: segmap[labels==k] = 255;
  // segmap[np.logical_and(link_score==1, text_score==0)] = 0 -- a component pixel is text or link, so the segmap
  // is the component's text pixels).
  std::vector<int> rowOffset(nLabels, -1);
  size_t rows = 0;
  for (int k = 1; k < nLabels; k++) {
    // ref: size filtering -- if size < 10: continue
    if (cc.area[k] < 10) continue;
    // ref: thresholding -- if np.max(textmap[labels==k]) < text_threshold: continue  (float32 compare, NEP 50)
    if (cc.maxScore[k] < textThreshold) continue;
    rowOffset[k] = static_cast<int>(rows);
    rows += cc.bottom[k] - cc.top[k] + 1;
  }
  std::vector<int> rowMin(rows, std::numeric_limits<int>::max()), rowMax(rows, -1);
  for (size_t i = 0; i < cc.runs.size(); i++) {
    const Run& run = cc.runs[i];
    const int k = cc.runLabel[i];
    if (rowOffset[k] < 0 || run.textMax < 0) continue;
    const int slot = rowOffset[k] + run.y - cc.top[k];
    rowMin[slot] = std::min(rowMin[slot], run.textMin);
    rowMax[slot] = std::max(rowMax[slot], run.textMax);
  }

  std::vector<Word> det;
  std::vector<int> mapper;
  std::vector<std::array<cv::Point2f, 4>> boxes;
  Scratch scratch;
  for (int k = 1; k < nLabels; k++) {
    if (rowOffset[k] < 0) continue;  // dropped by the size or score filter above

    // ref: x, y = stats[k, cv2.CC_STAT_LEFT], stats[k, cv2.CC_STAT_TOP]
    //      w, h = stats[k, cv2.CC_STAT_WIDTH], stats[k, cv2.CC_STAT_HEIGHT]
    //      niter = int(math.sqrt(size * min(w, h) / (w * h)) * 2)
    const int size = cc.area[k];
    const int y = cc.top[k];
    const int w = cc.right[k] - cc.left[k] + 1, h = cc.bottom[k] - cc.top[k] + 1;
    const double fill = static_cast<double>(static_cast<int64_t>(size) * std::min(w, h)) /
                        static_cast<double>(static_cast<int64_t>(w) * h);
    const int niter = static_cast<int>(std::sqrt(fill) * 2);

    const std::array<cv::Point2f, 4> box =
        MakeBox(rowMin.data() + rowOffset[k], rowMax.data() + rowOffset[k], y, h, niter, imgW, imgH, scratch);
    Word word;
    for (int i = 0; i < 4; i++) word.box[i] = {box[i].x, box[i].y};
    word.score = cc.maxScore[k];
    det.push_back(std::move(word));
    boxes.push_back(box);
    mapper.push_back(k);
  }

  // ref: if poly: polys = getPoly_core(boxes, labels, mapper, linkmap)
  if (opts.polygons && !det.empty()) {
    // The label image, for warpPerspective. Only the kept components are drawn: getPoly_core only ever compares the
    // warped labels with the word's own label.
    cv::Mat labels(imgH, imgW, CV_32S, cv::Scalar(0));
    for (size_t i = 0; i < cc.runs.size(); i++) {
      const Run& run = cc.runs[i];
      const int k = cc.runLabel[i];
      if (rowOffset[k] < 0) continue;
      std::fill(labels.ptr<int>(run.y) + run.x0, labels.ptr<int>(run.y) + run.x1 + 1, k);
    }
    for (size_t i = 0; i < det.size(); i++) {
      if (!GetPoly(boxes[i], labels, mapper[i], scratch, det[i].polygon)) det[i].polygon.clear();
    }
  }
  return det;
}

}  // namespace craft
