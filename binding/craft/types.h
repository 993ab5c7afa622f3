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
  float score = 0.f;           // GetDetBoxes: max region score over the component (rawScore); the pipeline then
                               // replaces it with the calibrated score in [0, 1] (characters.h, ScoreWords)
  float rawScore = 0.f;        // the max region score (not in the reference; may exceed 1)
  std::vector<std::array<Point, 4>> characters;  // from the region peaks, in reading order (only when asked)
  float charHeight = 0.f;      // median height of its character blobs across the word, in the box's units; 0 = no
                               // peak (characters.h; scale 'auto' reads text size from it, autoscale.h)
  float levelHeight = 0.f;     // the box's short side as GetDetBoxes would draw it at kCharacterLevel, when lowText
                               // is below that level (characters.h); 0 = the box's own short side
};

struct PostprocessOptions {
  float textThreshold = 0.7f;  // CRAFT text_threshold: a component is kept if its max region score >= this
  float linkThreshold = 0.4f;  // CRAFT link_threshold: affinity > this joins characters
  float lowText = 0.4f;        // CRAFT low_text: region > this is text
  bool polygons = false;       // also run getPoly_core
};

}  // namespace craft
