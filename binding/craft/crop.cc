#include "crop.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace craft {

namespace {

float Dist(const Point& a, const Point& b) { return std::hypot(a.x - b.x, a.y - b.y); }

double Area(const std::vector<Point>& p) {
  double a = 0;
  for (size_t i = 0; i < p.size(); i++) {
    const Point& u = p[i];
    const Point& v = p[(i + 1) % p.size()];
    a += static_cast<double>(u.x) * v.y - static_cast<double>(v.x) * u.y;
  }
  return std::fabs(a) / 2;
}

// Straightens quad (tl, tr, br, bl) into a w x h strip. Pixel centres: the corner (x, y) of the quad is the outer
// corner of the strip's first pixel, so an axis-aligned box maps exactly onto the pixels it covers.
cv::Mat WarpQuad(const cv::Mat& image, const Point* q, int w, int h) {
  const cv::Point2f src[4] = {{q[0].x - 0.5f, q[0].y - 0.5f},
                              {q[1].x - 0.5f, q[1].y - 0.5f},
                              {q[2].x - 0.5f, q[2].y - 0.5f},
                              {q[3].x - 0.5f, q[3].y - 0.5f}};
  const cv::Point2f dst[4] = {{-0.5f, -0.5f}, {w - 0.5f, -0.5f}, {w - 0.5f, h - 0.5f}, {-0.5f, h - 0.5f}};
  cv::Mat m = cv::getPerspectiveTransform(src, dst);
  cv::Mat out;
  cv::warpPerspective(image, out, m, cv::Size(w, h), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

}  // namespace

namespace {

// The straightened strip's size: a quad's longer opposite edges; a polygon's quad strips side by side at its mean
// height.
void StripSize(const std::vector<Point>& p, float* w, float* h) {
  const size_t n = p.size();
  *w = 0;
  *h = 0;
  if (n == 4) {
    *w = std::max(Dist(p[0], p[1]), Dist(p[3], p[2]));
    *h = std::max(Dist(p[0], p[3]), Dist(p[1], p[2]));
    return;
  }
  const size_t half = n / 2;
  float hs = 0;
  for (size_t i = 0; i + 1 < half; i++) *w += std::max(Dist(p[i], p[i + 1]), Dist(p[n - 1 - i], p[n - 2 - i]));
  for (size_t i = 0; i < half; i++) hs += Dist(p[i], p[n - 1 - i]);
  *h = hs / half;
}

bool Degenerate(const std::vector<Point>& p, float w, float h) {
  return !(w >= 1 && h >= 1 && Area(p) >= 1 && std::isfinite(w) && std::isfinite(h));
}

}  // namespace

namespace {

Point Unit(const Point& from, const Point& to) {
  const float d = Dist(from, to);
  return d > 0 && std::isfinite(d) ? Point{(to.x - from.x) / d, (to.y - from.y) / d} : Point{0, 0};
}

// `regionW` / `regionH`, if given, receive the strip size of the region as given (before clipping): PlanCrop's margin
// is a fraction of it, and it is measured here anyway.
CropPlan PlanTight(const Region& region, int imageWidth, int imageHeight, float verticalRatio, float* regionW = nullptr,
                   float* regionH = nullptr) {
  CropPlan plan;
  const float W = static_cast<float>(imageWidth), H = static_cast<float>(imageHeight);
  float w = 0, h = 0;
  StripSize(region, &w, &h);
  if (regionW != nullptr) *regionW = w;
  if (regionH != nullptr) *regionH = h;
  if (Degenerate(region, w, h)) {
    plan.skipped = true;
    plan.skipReason = "degenerate";
    return plan;
  }
  float minx = W, maxx = 0, miny = H, maxy = 0;
  bool first = true;
  for (const Point& p : region) {
    if (first) minx = maxx = p.x, miny = maxy = p.y, first = false;
    minx = std::min(minx, p.x), maxx = std::max(maxx, p.x), miny = std::min(miny, p.y), maxy = std::max(maxy, p.y);
  }
  if (maxx <= 0 || maxy <= 0 || minx >= W || miny >= H) {
    plan.skipped = true;
    plan.skipReason = "outside";
    return plan;
  }
  plan.points.reserve(region.size());
  for (const Point& p : region) plan.points.push_back({std::clamp(p.x, 0.f, W), std::clamp(p.y, 0.f, H)});
  const std::vector<Point>& p = plan.points;
  StripSize(p, &w, &h);
  if (Degenerate(p, w, h)) {  // what is left inside the image is a sliver
    plan.skipped = true;
    plan.skipReason = "degenerate";
    return plan;
  }
  if (p.size() == 4) {
    plan.axisAligned = p[0].y == p[1].y && p[2].y == p[3].y && p[0].x == p[3].x && p[1].x == p[2].x &&
                       p[0].x < p[1].x && p[0].y < p[3].y && std::floor(p[0].x) == p[0].x &&
                       std::floor(p[0].y) == p[0].y && std::floor(p[2].x) == p[2].x && std::floor(p[2].y) == p[2].y;
  }
  plan.width = std::max(1, static_cast<int>(std::lround(w)));
  plan.height = std::max(1, static_cast<int>(std::lround(h)));
  plan.vertical = plan.height > verticalRatio * plan.width;
  return plan;
}

}  // namespace

Region ExtendRegion(const Region& r, float by) {
  if (!(by > 0)) return r;
  return ExtendRegionSides(r, by, by, by, by);
}

Region ExtendRegionSides(const Region& r, float top, float bottom, float left, float right) {
  const size_t n = r.size(), half = n / 2;
  if (n < 4 || n % 2 != 0) return r;
  for (float v : {top, bottom, left, right}) {
    if (!std::isfinite(v)) return r;
  }
  Region out = r;
  auto move = [&](size_t i, float by, const Point& dir) { out[i].x += by * dir.x, out[i].y += by * dir.y; };
  for (size_t i = 0; i < half; i++) {  // across: top point i and its bottom partner n-1-i apart
    const size_t b = n - 1 - i;
    move(i, top, Unit(r[b], r[i]));
    move(b, bottom, Unit(r[i], r[b]));
  }
  // along: the first pair outward along the first top / last bottom edge, the last pair along the last edges
  move(0, left, Unit(r[1], r[0]));
  move(n - 1, left, Unit(r[n - 2], r[n - 1]));
  move(half - 1, right, Unit(r[half - 2], r[half - 1]));
  move(half, right, Unit(r[half + 1], r[half]));
  return out;
}

CropPlan PlanCrop(const Region& region, int imageWidth, int imageHeight, float verticalRatio, float margin) {
  float w = 0, h = 0;
  CropPlan plan = PlanTight(region, imageWidth, imageHeight, verticalRatio, &w, &h);
  if (plan.skipped || !(margin > 0)) return plan;
  // Whole pixels (EasyOCR's margin is an int too): an integer box stays an exact pixel copy. A fractional margin
  // would resample the strip, and small text read through a blurred bilinear warp loses strokes (D -> O, I -> T).
  const float by = std::round(margin * (plan.vertical ? w : h));  // text height: across the reading direction
  if (!(by > 0)) return plan;
  CropPlan grown = PlanTight(ExtendRegion(region, by), imageWidth, imageHeight, verticalRatio);
  if (grown.skipped) return plan;  // not for a region it contains; kept as a guard
  grown.vertical = plan.vertical;
  grown.extendedBy = by;
  return grown;
}

cv::Mat CropStrip(const cv::Mat& image, const CropPlan& plan, int quarterTurns) {
  const std::vector<Point>& p = plan.points;
  cv::Mat strip;
  if (plan.axisAligned) {
    const int x0 = static_cast<int>(p[0].x), y0 = static_cast<int>(p[0].y);
    const int x1 = static_cast<int>(p[2].x), y1 = static_cast<int>(p[2].y);
    strip = image(cv::Rect(x0, y0, x1 - x0, y1 - y0)).clone();
  } else if (p.size() == 4) {
    strip = WarpQuad(image, p.data(), plan.width, plan.height);
  } else {
    // Piecewise: each pair of neighbouring top/bottom point pairs is a quad, straightened to its own width.
    const size_t n = p.size(), half = n / 2;
    std::vector<cv::Mat> pieces;
    for (size_t i = 0; i + 1 < half; i++) {
      const Point q[4] = {p[i], p[i + 1], p[n - 2 - i], p[n - 1 - i]};
      const int w = static_cast<int>(std::lround(std::max(Dist(q[0], q[1]), Dist(q[3], q[2]))));
      if (w < 1) continue;
      pieces.push_back(WarpQuad(image, q, w, plan.height));
    }
    if (pieces.empty()) return WarpQuad(image, p.data(), plan.width, plan.height);  // unreachable for a kept plan
    cv::hconcat(pieces, strip);
  }
  switch (((quarterTurns % 4) + 4) % 4) {
    case 1: cv::rotate(strip, strip, cv::ROTATE_90_CLOCKWISE); break;
    case 2: cv::rotate(strip, strip, cv::ROTATE_180); break;
    case 3: cv::rotate(strip, strip, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: break;
  }
  return strip;
}

}  // namespace craft
