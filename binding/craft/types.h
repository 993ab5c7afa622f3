// Plain data shared by the native core and the N-API layer (no OpenCV, no napi.h).
#pragma once

#include <array>
#include <vector>

namespace craft {

struct Point {
  float x;
  float y;
};

// One detected word. Coordinates are in the space of the maps they came from (heatmap coordinates out of
// GetDetBoxes; the pipeline scales them to the original image).
struct Word {
  std::array<Point, 4> box;    // clockwise, starting at the corner with the smallest x + y
  std::vector<Point> polygon;  // 14 points, or empty where the reference (getPoly_core) gives none
  float score = 0.f;           // max region score over the word's connected component (not in the reference)
};

struct PostprocessOptions {
  float textThreshold = 0.7f;  // CRAFT text_threshold: a component is kept if its max region score >= this
  float linkThreshold = 0.4f;  // CRAFT link_threshold: affinity > this joins characters
  float lowText = 0.4f;        // CRAFT low_text: region > this is text
  bool polygons = false;       // also run getPoly_core
};

}  // namespace craft
