// Word crops for recognition: a detected box (or CRAFT polygon) cut out of the image as an upright strip.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "types.h"

namespace craft {

// A region to read, in image pixels: 4 points = a quadrilateral (CRAFT's box order: top-left, top-right,
// bottom-right, bottom-left); 2n >= 6 points = a CRAFT polygon (getPoly_core: n top points left to right, then n
// bottom points right to left); anything else is refused by the caller.
using Region = std::vector<Point>;

// Where a region's strip comes from, decided from the geometry before any pixel is touched.
struct CropPlan {
  bool skipped = false;
  std::string skipReason;    // "degenerate" (under a pixel wide or high, or no area, before or after clipping) or
                             // "outside" (no part in the image)
  std::vector<Point> points; // clipped to the image
  bool axisAligned = false;  // an integer axis-aligned rectangle: cut exactly (a ROI), no interpolation
  int width = 0, height = 0; // size of the straightened strip before any rotation
  bool vertical = false;     // height > verticalRatio * width: read after a quarter turn
  float extendedBy = 0;      // the crop margin in pixels a side PlanCrop (or PlanInkCrop) planned with; 0: none
};

// Clips the region to the image, measures the straightened strip: a quad becomes a rectangle whose sides are its
// longer opposite edges (EasyOCR's four_point_transform); a polygon becomes its quad strips side by side, each as
// wide as its longer horizontal edge and all as high as the polygon's mean height.
// `margin` > 0 first extends the region by margin x its text height, rounded to whole pixels, on every side
// (ExtendRegion; the text height is the strip's height, or its width when the strip is read as vertical text), so a
// tight box gets the context a recogniser trained on loose crops expects (EasyOCR's add_margin); whether the strip is
// vertical is decided on the region as given.
CropPlan PlanCrop(const Region& region, int imageWidth, int imageHeight, float verticalRatio, float margin = 0);

// The region moved outward by `by` pixels in its own frame: every top point away from its bottom partner and every
// bottom point away from its top one (across the reading direction), the two end pairs along their edges (along it).
// A rectangle grows by `by` on each side; CRAFT polygons keep their point order.
Region ExtendRegion(const Region& region, float by);

// ExtendRegion with a signed amount per side, in the region's own frame: `top` moves the top points (the first half)
// away from their bottom partners, `bottom` the bottom points, `left` / `right` the first / last pair along the
// reading direction; a negative amount moves that side inward.
Region ExtendRegionSides(const Region& region, float top, float bottom, float left, float right);

// The strip of a plan, 8-bit like `image` (3 channels RGB or 1), turned by `quarterTurns` x 90 degrees clockwise
// (0..3): a quad through cv::warpPerspective (bilinear, border replicated; the quad's corners map to the strip's
// corners, pixel centres at +0.5), a polygon piecewise per quad strip, an axis-aligned integer box as an exact ROI copy.
cv::Mat CropStrip(const cv::Mat& image, const CropPlan& plan, int quarterTurns);

}  // namespace craft
