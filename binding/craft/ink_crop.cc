#include "ink_crop.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace craft {

namespace {

// The training generator's legibility rule (wordsynth.py: a crop whose 3rd-97th percentile grey spread is under 50
// is dropped): below it Otsu splits noise, not ink from paper.
constexpr int kMinContrast = 50;

// The grey level at fraction q of the pixels (0..1), from a 256-bin histogram.
int Percentile(const std::array<int, 256>& hist, int total, double q) {
  const double want = q * total;
  int seen = 0;
  for (int v = 0; v < 256; v++) {
    seen += hist[v];
    if (seen > want) return v;
  }
  return 255;
}

struct Band {
  int begin, end;
};

}  // namespace

cv::Mat InkMask(const cv::Mat& strip) {
  if (strip.empty() || strip.rows < 3 || strip.cols < 3 || strip.depth() != CV_8U) return cv::Mat();
  cv::Mat grey;
  if (strip.channels() == 3) {
    cv::cvtColor(strip, grey, cv::COLOR_RGB2GRAY);
  } else if (strip.channels() == 1) {
    grey = strip;
  } else {
    return cv::Mat();
  }
  std::array<int, 256> hist{};
  for (int y = 0; y < grey.rows; y++) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    for (int x = 0; x < grey.cols; x++) hist[row[x]]++;
  }
  const int total = grey.rows * grey.cols;
  if (Percentile(hist, total, 0.97) - Percentile(hist, total, 0.03) < kMinContrast) return cv::Mat();

  cv::Mat bright;
  const double otsu = cv::threshold(grey, bright, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  // The background is the class most of the outer ring is in: the cut is around the word, so mostly paper.
  int ring = 0, ringBright = 0;
  for (int y = 0; y < bright.rows; y++) {
    const uint8_t* row = bright.ptr<uint8_t>(y);
    const bool edgeRow = y == 0 || y == bright.rows - 1;
    for (int x = 0; x < bright.cols; x += edgeRow ? 1 : bright.cols - 1) {
      ring++;
      ringBright += row[x] != 0;
    }
  }
  const bool darkInk = 2 * ringBright >= ring;
  // The two levels: the paper's (the median of the ring's background pixels) and the ink's (the median of the
  // strip's pixels on the other side of Otsu's threshold).
  std::array<int, 256> paperHist{}, inkHist{};
  int paperCount = 0, inkCount = 0;
  for (int y = 0; y < grey.rows; y++) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    const bool edgeRow = y == 0 || y == grey.rows - 1;
    for (int x = 0; x < grey.cols; x++) {
      const bool paperSide = (row[x] > otsu) == darkInk;
      if (!paperSide) inkHist[row[x]]++, inkCount++;
      if (paperSide && (edgeRow || x == 0 || x == grey.cols - 1)) paperHist[row[x]]++, paperCount++;
    }
  }
  if (paperCount == 0 || inkCount == 0) return cv::Mat();
  const double paper = Percentile(paperHist, paperCount, 0.5), inkLevel = Percentile(inkHist, inkCount, 0.5);
  // A pixel a quarter of the way from the paper to the ink is ink: the glyph ink boxes the training crops were cut
  // around count anti-aliased edges (Otsu's threshold, about halfway, would not).
  const double level = paper + 0.25 * (inkLevel - paper);
  return darkInk ? grey < level : grey > level;  // 255 where ink
}

InkExtent FindInk(const cv::Mat& strip, bool vertical, int margin) {
  InkExtent e;
  cv::Mat ink = InkMask(strip);
  if (ink.empty()) return e;
  if (vertical) ink = ink.t();  // rows across the text from here on

  // Bands of consecutive inked rows.
  std::vector<Band> bands;
  for (int y = 0; y < ink.rows; y++) {
    const int n = cv::countNonZero(ink.row(y));
    if (n == 0) continue;
    if (!bands.empty() && bands.back().end == y) {
      bands.back().end = y + 1;
    } else {
      bands.push_back({y, y + 1});
    }
  }
  if (bands.empty()) return e;
  // A band cut by the strip's edge and lying wholly in the margin (outside the region as given) is a fragment of a
  // neighbouring line; everything else may be the word's.
  int top = ink.rows, bottom = 0;
  for (const Band& b : bands) {
    if ((b.begin == 0 && b.end <= margin) || (b.end == ink.rows && b.begin >= ink.rows - margin)) continue;
    top = std::min(top, b.begin);
    bottom = std::max(bottom, b.end);
  }
  if (top >= bottom) return e;
  // Ink from edge to edge across: the box cuts the word (or Otsu split a texture, or the polarity is lost to it).
  if (top == 0 && bottom == ink.rows) return e;
  cv::Mat columns;
  cv::reduce(ink.rowRange(top, bottom), columns, 0, cv::REDUCE_MAX);
  int left = -1, right = -1;
  for (int x = 0; x < columns.cols; x++) {
    if (columns.at<uint8_t>(0, x) == 0) continue;
    if (left < 0) left = x;
    right = x + 1;
  }
  if (left < 0) return e;  // unreachable: the rows have ink
  e.found = true;
  if (vertical) {
    e.left = top, e.right = bottom, e.top = left, e.bottom = right;
  } else {
    e.top = top, e.bottom = bottom, e.left = left, e.right = right;
  }
  return e;
}

InkFit FitInk(const cv::Mat& image, const Region& region, float verticalRatio, float margin) {
  InkFit fit;
  const CropPlan plan = PlanCrop(region, image.cols, image.rows, verticalRatio, margin);
  const float by = plan.extendedBy;
  if (plan.skipped || !(by > 0)) return fit;
  // Strip pixels map onto the region's frame one to one only when the extended region was not clipped. (PlanCrop
  // clipped the extended points into plan.points; the unclipped ones are needed to tell.)
  const float W = static_cast<float>(image.cols), H = static_cast<float>(image.rows);
  for (const Point& p : ExtendRegion(region, by)) {
    if (p.x < 0 || p.y < 0 || p.x > W || p.y > H) return fit;
  }
  const cv::Mat strip = CropStrip(image, plan, 0);
  const InkExtent ink = FindInk(strip, plan.vertical, static_cast<int>(by));
  if (!ink.found) return fit;
  // The strip's edges are the region's sides moved out by `by`.
  fit.found = true;
  fit.top = by - static_cast<float>(ink.top);
  fit.bottom = by - static_cast<float>(strip.rows - ink.bottom);
  fit.left = by - static_cast<float>(ink.left);
  fit.right = by - static_cast<float>(strip.cols - ink.right);
  fit.across = static_cast<float>(plan.vertical ? ink.right - ink.left : ink.bottom - ink.top);
  return fit;
}

CropPlan PlanInkCrop(const cv::Mat& image, const Region& region, float verticalRatio, float margin, const InkFit& ink) {
  CropPlan plan = PlanCrop(region, image.cols, image.rows, verticalRatio, margin);
  if (plan.skipped || !ink.found) return plan;
  const float by = plan.extendedBy;  // 0 at margin 0: nothing outside the box
  const float m = std::round(margin * ink.across);  // whole pixels, as PlanCrop's margin
  // Each side: the ink's edge plus m; at most `by` out.
  auto side = [&](float inkOut) { return std::min(by, inkOut + m); };
  const float top = side(ink.top), bottom = side(ink.bottom), left = side(ink.left), right = side(ink.right);
  if (top == by && bottom == by && left == by && right == by) return plan;
  // The fitted crop is the region as given, each side moved by its own amount (a fresh extension of the region, not
  // of the plan's points, which PlanCrop may have clipped), planned without a margin of its own.
  CropPlan fitted = PlanCrop(ExtendRegionSides(region, top, bottom, left, right), image.cols, image.rows,
                             verticalRatio, 0);
  if (fitted.skipped) return plan;
  fitted.vertical = plan.vertical;  // decided on the region as given, as PlanCrop does
  fitted.extendedBy = by;
  return fitted;
}

CropPlan PlanInkCrop(const cv::Mat& image, const Region& region, float verticalRatio, float margin) {
  return PlanInkCrop(image, region, verticalRatio, margin, FitInk(image, region, verticalRatio, margin));
}

}  // namespace craft
