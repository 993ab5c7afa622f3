// A word's orientation inside its crop: a crop cut as the axis-aligned box of a rotated, oblique or vertical word
// (ICDAR 2015's word crops, another detector's boxes) holds its word along a line the recogniser, which reads a
// horizontal strip, does not follow. The line is found in the word's ink and the word cut again along it as a
// rotated rectangle (recognize()'s orientation retry: docs/recognition.md#crops).
#pragma once

#include <opencv2/core.hpp>

#include "crop.h"

namespace craft {

// The text line of the ink in a strip, in the strip's pixels as cut (not turned; x right, y down, a pixel (x, y)
// covering [x, x + 1) x [y, y + 1)).
struct InkLine {
  bool found = false;
  // Degrees clockwise from the strip's x axis to the line, in (-90, 90]: reading along it goes left to right (or,
  // at 90, downwards); the other way is this + 180.
  double angle = 0;
  // The word's rectangle along the line: corners top-left, top-right, bottom-right, bottom-left in the line's frame
  // (the first edge along the line), and its size along (width) and across (height) the line.
  Point corners[4];
  float width = 0, height = 0;
  // Degrees of tilt that move the ends of the word's ink (its rectangle before the margin, w x h) by less than half
  // its height across the line: atan(h / 2w). A tilt within it the recogniser reads as a line anyway, and the ink
  // cannot tell it apart either: a short word's nearly square ink ('1', 'No.', a checkbox) leaves its direction open.
  double uncertainty = 90;
};

// Finds the text line of a strip's ink (InkMask: Otsu, polarity from the strip's border). The line's direction is
// the one across which the ink is thinnest: the direction whose normal gives the narrowest 5th-95th percentile
// spread of the ink's pixel centres (a trimmed minimum-width rectangle: letter gaps do not matter, as they would to
// a projection profile's peaks, and a few stray pixels of clutter are trimmed), searched over 180 degrees in 1-degree
// steps. Across the line the word is the band of the ink's profile (1 px bins, the bins holding at least 2 % of the
// fullest) with the most ink, a second line of a sign left out; the direction is then searched again on that band's
// ink alone (quarter degrees within 3 degrees: the other line or clutter tilts the first estimate) and the band taken
// again across it. Along the line, the band's ink. `margin` (a fraction of the band's height, in whole pixels) is
// added on every side. Not found for a strip without a mask, with fewer than 16 ink pixels (in its band), or a
// rectangle under 2 px a side.
InkLine FindInkLine(const cv::Mat& strip, float margin);

// Degrees from a direction already read within which the orientation retry does not read a line again: about the
// spread of the rotations the bundled recogniser was trained on (wordsynth.py: scene text at a normal angle of
// sigma 0.12 rad = 6.9 degrees), which it reads as they are.
constexpr double kOrientationTolerance = 7.0;

// Whether a text line is a direction not yet read in a strip that was read horizontally (or, `vertical`, a quarter
// turned): more than kOrientationTolerance and more than the line's own uncertainty from it.
bool NewOrientation(const InkLine& line, bool vertical);

// The crop along the text line of a plan's strip (FindInkLine on CropStrip(image, plan, 0)), mapped back to the
// image through the plan's own geometry (its quad's perspective: an axis-aligned box's strip is a translation of the
// image): a 4-point plan read left to right along the line; `line` receives the line found (in the strip).
// Skipped (`skipped` true) when the plan is skipped or a polygon (a CRAFT polygon already follows its text) or no
// line is found. The plan's corners may lie outside the image: CropStrip's warp replicates the border.
CropPlan PlanLineCrop(const cv::Mat& image, const CropPlan& plan, float margin, InkLine* line);

}  // namespace craft
