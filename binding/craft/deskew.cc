#include "deskew.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "ink_crop.h"

namespace craft {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr size_t kMaxPoints = 4096;  // ink pixels the angle search looks at (evenly subsampled beyond)
constexpr size_t kMinPoints = 16;
constexpr double kTrim = 0.05;       // the spread across the line: 5th to 95th percentile
constexpr double kBandFloor = 0.02;  // a profile bin is inked at 2 % of the fullest bin's count

// The 5th-95th percentile spread of the points projected on the normal of a line at `degrees`.
double Spread(const std::vector<cv::Point2f>& pts, double degrees, std::vector<float>& scratch) {
  const double a = degrees * kPi / 180;
  const float s = static_cast<float>(std::sin(a)), c = static_cast<float>(std::cos(a));
  scratch.resize(pts.size());
  for (size_t i = 0; i < pts.size(); i++) scratch[i] = -pts[i].x * s + pts[i].y * c;
  const size_t lo = static_cast<size_t>(kTrim * (pts.size() - 1));
  const size_t hi = pts.size() - 1 - lo;
  std::nth_element(scratch.begin(), scratch.begin() + hi, scratch.end());
  const float top = scratch[hi];
  std::nth_element(scratch.begin(), scratch.begin() + lo, scratch.begin() + hi);
  return top - scratch[lo];
}

// Into (-90, 90].
double Wrap(double degrees) {
  while (degrees <= -90) degrees += 180;
  while (degrees > 90) degrees -= 180;
  return degrees;
}

}  // namespace

namespace {

// The points of the profile's band with the most ink across a line at `degrees` (1 px bins; a bin is inked at
// kBandFloor of the fullest): one line of a sign that has two.
std::vector<cv::Point2f> Band(const std::vector<cv::Point2f>& pts, double degrees) {
  const double a = degrees * kPi / 180;
  const float nx = static_cast<float>(-std::sin(a)), ny = static_cast<float>(std::cos(a));
  std::vector<float> v(pts.size());
  float vmin = INFINITY, vmax = -INFINITY;
  for (size_t i = 0; i < pts.size(); i++) {
    v[i] = pts[i].x * nx + pts[i].y * ny;
    vmin = std::min(vmin, v[i]);
    vmax = std::max(vmax, v[i]);
  }
  const int bins = static_cast<int>(std::floor(vmax - vmin)) + 1;
  std::vector<int> profile(bins, 0);
  for (float x : v) profile[std::min(bins - 1, static_cast<int>(x - vmin))]++;
  const double floor = kBandFloor * *std::max_element(profile.begin(), profile.end());
  int begin = 0, end = 0;
  long best = -1;
  for (int b = 0; b < bins;) {
    if (profile[b] < floor) {
      b++;
      continue;
    }
    int e = b;
    long mass = 0;
    while (e < bins && profile[e] >= floor) mass += profile[e++];
    if (mass > best) best = mass, begin = b, end = e;
    b = e;
  }
  std::vector<cv::Point2f> out;
  for (size_t i = 0; i < pts.size(); i++) {
    const int b = std::min(bins - 1, static_cast<int>(v[i] - vmin));
    if (b >= begin && b < end) out.push_back(pts[i]);
  }
  return out;
}

// The direction in (lo, hi) degrees (steps of `step`) across which the points are thinnest, starting from `best`.
double Thinnest(const std::vector<cv::Point2f>& pts, double lo, double hi, double step, double best) {
  std::vector<float> sample;
  std::vector<cv::Point2f> some;
  const size_t every = (pts.size() + kMaxPoints - 1) / kMaxPoints;
  for (size_t i = 0; i < pts.size(); i += every) some.push_back(pts[i]);
  double bestSpread = Spread(some, best, sample);
  for (double d = lo; d <= hi + 1e-9; d += step) {
    const double s = Spread(some, d, sample);
    if (s < bestSpread) best = d, bestSpread = s;
  }
  return best;
}

}  // namespace

InkLine FindInkLine(const cv::Mat& strip, float margin) {
  InkLine line;
  const cv::Mat ink = InkMask(strip);
  if (ink.empty()) return line;
  std::vector<cv::Point> found;
  cv::findNonZero(ink, found);
  if (found.size() < kMinPoints) return line;
  std::vector<cv::Point2f> all(found.size());  // pixel centres
  for (size_t i = 0; i < found.size(); i++) all[i] = {found[i].x + 0.5f, found[i].y + 0.5f};

  // The direction across which the ink is thinnest (1-degree steps), then the same for the ink of the line found
  // across it alone (quarter degrees within 3 degrees: a second line or clutter tilts the first estimate).
  double best = Thinnest(all, -89, 90, 1, 0);
  std::vector<cv::Point2f> band = Band(all, best);
  if (band.size() >= kMinPoints) {
    best = Wrap(Thinnest(band, best - 3, best + 3, 0.25, best));
    band = Band(all, best);
  }
  if (band.size() < kMinPoints) return line;
  const double a = best * kPi / 180;
  const float dx = static_cast<float>(std::cos(a)), dy = static_cast<float>(std::sin(a));  // along
  const float nx = -dy, ny = dx;                                                            // across
  float u0 = INFINITY, u1 = -INFINITY, v0 = INFINITY, v1 = -INFINITY;
  for (const cv::Point2f& p : band) {
    const float u = p.x * dx + p.y * dy, v = p.x * nx + p.y * ny;
    u0 = std::min(u0, u), u1 = std::max(u1, u), v0 = std::min(v0, v), v1 = std::max(v1, v);
  }
  // From pixel centres to the pixels' extent, then the margin in whole pixels.
  u0 -= 0.5f, u1 += 0.5f, v0 -= 0.5f, v1 += 0.5f;
  line.uncertainty = std::atan((v1 - v0) / (2 * (u1 - u0))) * 180 / kPi;
  const float by = std::round(std::max(0.f, margin) * (v1 - v0));
  u0 -= by, u1 += by, v0 -= by, v1 += by;
  if (!(u1 - u0 >= 2 && v1 - v0 >= 2)) return line;
  auto at = [&](float u, float w) { return Point{u * dx + w * nx, u * dy + w * ny}; };
  line.found = true;
  line.angle = best;
  line.corners[0] = at(u0, v0);
  line.corners[1] = at(u1, v0);
  line.corners[2] = at(u1, v1);
  line.corners[3] = at(u0, v1);
  line.width = u1 - u0;
  line.height = v1 - v0;
  return line;
}

bool NewOrientation(const InkLine& line, bool vertical) {
  const double a = std::fabs(line.angle);  // from the horizontal, 0..90
  return (vertical ? 90 - a : a) > std::max(kOrientationTolerance, line.uncertainty);
}

CropPlan PlanLineCrop(const cv::Mat& image, const CropPlan& plan, float margin, InkLine* found) {
  CropPlan out;
  out.skipped = true;
  out.skipReason = "no line";
  if (plan.skipped || plan.points.size() != 4) return out;
  const InkLine line = FindInkLine(CropStrip(image, plan, 0), margin);
  if (!line.found) return out;
  // The strip's corners are the plan's quad's (CropStrip's warp maps one onto the other; an axis-aligned box's strip
  // is its pixels): the same homography, inverted, takes the line's corners into the image.
  const float w = static_cast<float>(plan.width), h = static_cast<float>(plan.height);
  const cv::Point2f strip[4] = {{0, 0}, {w, 0}, {w, h}, {0, h}};
  const cv::Point2f quad[4] = {{plan.points[0].x, plan.points[0].y}, {plan.points[1].x, plan.points[1].y},
                               {plan.points[2].x, plan.points[2].y}, {plan.points[3].x, plan.points[3].y}};
  const cv::Mat back = cv::getPerspectiveTransform(strip, quad);
  std::vector<cv::Point2f> corners(4), mapped;
  for (int k = 0; k < 4; k++) corners[k] = {line.corners[k].x, line.corners[k].y};
  cv::perspectiveTransform(corners, mapped, back);
  out.skipped = false;
  out.skipReason.clear();
  for (const cv::Point2f& p : mapped) out.points.push_back({p.x, p.y});
  out.width = std::max(1, static_cast<int>(std::lround(line.width)));
  out.height = std::max(1, static_cast<int>(std::lround(line.height)));
  if (found != nullptr) *found = line;
  return out;
}

}  // namespace craft
