// Box-aware word crops: where a word's ink lies inside the crop its box gives, so that a loose box (hand-drawn ground
// truth, a form template) is cut like a tight one: at the ink plus the recogniser's trained margin, as its training
// crops were (synthetic words boxed at their ink, grown by a margin in units of that height). docs/recognition.md#crops
#pragma once

#include <opencv2/core.hpp>

#include "crop.h"

namespace craft {

// The word's ink in a strip, in the strip's pixels as cut (not turned): rows [top, bottom), columns [left, right).
struct InkExtent {
  bool found = false;
  int top = 0, bottom = 0, left = 0, right = 0;
};

// The ink of a strip (8-bit, RGB or grey) as a mask, 255 where ink. Otsu's threshold splits the strip; the
// background is the class most of the strip's outer ring falls in (dark text on light or light on dark); a pixel is
// ink a quarter of the way or more from the paper's level (the median of the ring's background pixels) to the ink's
// (the median of the other class): the glyph ink boxes the training crops were cut around count anti-aliased edges,
// which Otsu's threshold, about halfway, would leave out. Empty for a strip under 3 px a side or without contrast
// (its 3rd-97th percentile grey spread under 50 levels, the rule the training generator drops illegible crops by:
// tools/train/wordsynth.py).
cv::Mat InkMask(const cv::Mat& strip);

// Finds the ink of the word a strip was cut around (InkMask).
// Across the text (rows; columns of a `vertical` strip) the ink is every band of consecutive inked rows but those
// cut by the strip's first or last row that lie wholly within its `margin` rows there (the strip's rows outside the
// region as given: fragments of neighbouring lines the margin cut through; an i's dot or an accent inside the box
// stays); along the text, every inked column within those rows.
// Not found (`found` false) for a strip without a mask (InkMask), or whose ink band runs from edge to edge across (a
// box that cuts the word, or a texture: nothing to fit, and a polarity read from a ring lying on the ink would be
// wrong).
InkExtent FindInk(const cv::Mat& strip, bool vertical, int margin = 0);

// Where a region's word ink lies in the region's own frame: how far each side of the ink lies outside the region as
// given (pixels; negative: inside), and the ink's height across the text. Found (FindInk) in the region's strip at
// `margin`; not found when there is nothing to fit: margin 0 (a model cut at its boxes, DTRB / EasyOCR), a margin that
// rounds to 0 px, a skipped region, a region whose extended strip is clipped by the image's edge (its pixels then do
// not map onto the region's frame one to one), or no ink found.
struct InkFit {
  bool found = false;
  float top = 0, bottom = 0, left = 0, right = 0;
  float across = 0;
};
InkFit FitInk(const cv::Mat& image, const Region& region, float verticalRatio, float margin);

// PlanCrop(region, ..., margin) fitted to the ink: each side of the crop moved to the ink's edge plus round(margin x
// the ink's height across the text), never further out than the margin puts it and so never into ink the plan at
// `margin` keeps. `ink` may have been found at another margin (FitInk): the margin retry's crops (recognizer.cc) are
// fitted to the ink the first read's crop found, so at margin 0 a loose box is cut at the ink itself (and a box that
// cuts the ink stays the box). The plan at `margin` unchanged when the ink was not found or the result is the same.
CropPlan PlanInkCrop(const cv::Mat& image, const Region& region, float verticalRatio, float margin, const InkFit& ink);
// The same with the ink found in the crop at `margin` itself (recognize()'s inkCrop).
CropPlan PlanInkCrop(const cv::Mat& image, const Region& region, float verticalRatio, float margin);

}  // namespace craft
