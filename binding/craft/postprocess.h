// CRAFT post-processing: the official CRAFT-pytorch `craft_utils.getDetBoxes(textmap, linkmap, text_threshold,
// link_threshold, low_text, poly)` (= getDetBoxes_core + getPoly_core), ported to C++ with the same results
// (parity-tested against the reference's output, test/native/postprocess_test.cc) but with every per-component step
// done inside the component's bounding region instead of on full-size maps.
#pragma once

#include <vector>

#include "types.h"

namespace craft {

// region / affinity: row-major float32 maps of height x width (CRAFT's y[0,:,:,0] and y[0,:,:,1]).
// Returns the words in the reference's order (connected-component label order, i.e. by the first pixel of each
// component in raster order), in heatmap coordinates.
//
//  - box: getDetBoxes_core's box (minAreaRect of the dilated component, or its axis-aligned bounds when the
//    rectangle is nearly square), clockwise from the corner with the smallest x + y.
//  - polygon: only with opts.polygons; getPoly_core's 14-point polygon, or empty where it returns None: box side
//    under 10 px, the word too short/straight to bend (tallest column > 0.7 x box height), a pivot segment without
//    pixels, or segments narrower than a quarter of the character height. (test.py then uses the box.)
//  - score: not in the reference: the maximum region score over the word's connected component (>= textThreshold,
//    which is the reference's keep condition; NaN if the component has a NaN region score).
//
// Reference corner cases reproduced on purpose:
//  - textThreshold <= lowText can keep a component made only of link pixels; its segmap is empty and the
//    reference's minAreaRect of no points gives a box with all four corners at (0, 0). We return that box too.
// Deviations (where the reference would fail): niter is computed in 64-bit (the reference's int32 product
// overflows for components over ~2^31 / min(w, h) pixels), and polygon end-line coordinates are clamped to
// +-2^30 before the int conversion.
//
// The reference itself is not stable across OpenCV versions where minAreaRect's float noise decides (OpenCV 4.6, which
// we link, and 4.14 / 5.0 use different angle conventions): a box at exactly 45 degrees ties on x + y and may start at
// another corner; polygons of axis-aligned boxes touching x = 0 or y = 0 can move by a few pixels (the +-1e-15 noise
// of a corner at 0 flips nearest-neighbour samples of warpPerspective). GetDetBoxes gives the linked OpenCV's answer.
//
// Throws craft::Error(kInvalidInput) for null maps or a non-positive / too large size. Thread-safe (no state).
std::vector<Word> GetDetBoxes(const float* region, const float* affinity, int width, int height,
                              const PostprocessOptions& opts);

}  // namespace craft
