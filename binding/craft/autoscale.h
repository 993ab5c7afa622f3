// scale 'auto' (issue 17): choose the working scale(s) from the text itself instead of canvasSize/magRatio.
//
// A cheap probe pass (the same model, at kProbeFraction of the fixed scale, its long side at most canvasSize) gives
// word boxes; their text heights (TextHeights: from the characters, not the boxes) estimate the page's text-height
// distribution. Small text (the 25th percentile height) under kGoodLow at the fixed scale: the main pass runs at the
// scale that puts it at kTargetHeight; over kGoodHigh: at the scale that puts the median word at kTargetHeight (the
// 25th percentile kept at kGoodLow or more). Otherwise the main pass is exactly the fixed one (ordinary pages cost the
// probe and nothing else; text too small for the main scale gets an upscaled pass, PlanUpscale). Words that the main
// scale would make taller than kGoodHigh (a headline over body text, a poster) get a second pass at the scale that
// puts them at kTargetHeight; its words go where the main pass saw large text or nothing (MergeLarge). Working images
// larger than the canvas are tiled (tiling.h).
//
// The range is measured, not guessed: bench/scale-range.js gives the synthetic model's recall per ground-truth word
// height at the working scale (FUNSD + ICDAR 2013 pages at scales 0.35 .. 6, docs/robustness.md). Heights here are
// ground-truth-equivalent: a detected word's height in box units (TextHeights) / kDetectedToTruth (the median ratio of
// detected to ground-truth box heights over matches there).
//
// Those four constants are the synthetic step-10,500 model's (the bundled default until 2026-11-30; today's, a
// WiSE-FT mix, carries its own). Another model (fine-tuned, converted official weights) has its own
// range and box convention (looser boxes: detected/truth ~1.0), so a model may carry its own in ONNX metadata
// (ScaleConstants, FromMetadata; measured by `craft-text tune --scale`); without them, these defaults.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "types.h"

namespace craft {

constexpr float kTargetHeight = 30.f;     // in the best bins (recall 0.79-0.82 at 22-45 px)
constexpr float kGoodLow = 11.f;          // recall >= 0.70 in every bin from here ...
constexpr float kGoodHigh = 64.f;         // ... to here (0.695 at 64-90 px, then 0.59, 0.08, 0)
constexpr float kDetectedToTruth = 0.8f;  // detected box height / ground-truth box height
constexpr float kProbeFraction = 0.4f;    // probe scale / fixed scale (its cost: 0.16 of the fixed pass's pixels)
constexpr int kProbeMinWords = 3;         // fewer: no estimate, the main pass is the fixed one (a large
                                          // word still gets its pass)

// One model's scale constants (the defaults above unless its metadata says otherwise).
struct ScaleConstants {
  float targetHeight = kTargetHeight;        // craft.scaleTargetHeight
  float goodLow = kGoodLow;                  // craft.scaleGoodLow
  float goodHigh = kGoodHigh;                // craft.scaleGoodHigh
  float detectedToTruth = kDetectedToTruth;  // craft.detectedToTruth
};

// The constants a model's metadata carries. Metadata that can't be used is ignored (the default kept), as the
// threshold defaults' is (lib/options.ts modelDefaults; the policy: metadata.h): a value that is not a plain finite
// number in its range (heights 1..4096 px, detectedToTruth 0.25..4); the three heights are taken together or not at
// all, and only when goodLow < targetHeight < goodHigh (a range mixed from two models' measurements would be neither's).
ScaleConstants ScaleConstantsFromMetadata(const std::map<std::string, std::string>& metadata);

struct ScalePlan {
  double main = 1.0;    // working scale of the main pass
  double second = 0.0;  // of the pass for large text; 0 = none
  float largeFrom = 0;  // ground-truth-equivalent height (original pixels) from which a word belongs to the second pass
};

// heights: ground-truth-equivalent word heights in original pixels (from the probe); fixed: the fixed pass's scale;
// maxScale: the largest scale the image may be worked at (maxPixels).
ScalePlan PlanScales(std::vector<float> heights, double fixed, double maxScale, const ScaleConstants& model = {});

// Small text. The probe (0.4 x the fixed scale) cannot see text that is too small at the fixed scale, so that is
// judged on the main pass's own words: if their 25th percentile height is under kGoodLow at the main scale, the scale
// that puts it at kTargetHeight (at most kMaxUpscale x the main scale, and within maxScale); 0 = no upscaled pass.
// Ordinary pages pay nothing for this check.
constexpr double kMaxUpscale = 4.0;
double PlanUpscale(std::vector<float> heights, double main, double maxScale, const ScaleConstants& model = {});

// Text size (issue 17). A word's box height is not its text size: lines joined into one box (often, at the scale
// where text is large) read as one huge word and would trigger a pass for large text that then joins the lines again.
// The characters say the size: Word::charHeight (characters.h) is one line's character height whatever the box. The
// page's own words convert it to box units, r = the median box short side / charHeight over its words (most words of
// a page are one line; no model constant), and a word's height is min(short side, r x charHeight): a two-line box
// gets one line's height, a real headline keeps its box's. Fewer than kProbeMinWords words with characters: the
// short side. Returns ground-truth-equivalent heights (/ the model's detectedToTruth) in the words' units, one per word.
// The short side is the box's as drawn at kCharacterLevel (Word::levelHeight, characters.h) when lowText is lower: a
// lower lowText widens the boxes, not the text (a model tuned to lowText 0.2 otherwise read the small text of ICDAR
// 2013 pages at 0.5x too tall and upscaled none of them).
float ShortSide(const Word& w);
std::vector<float> TextHeights(const std::vector<Word>& words, const ScaleConstants& model = {});

// Words of another pass replace the main pass's words they mostly (> half the area, together) cover; a main word
// covered by none stays. Main words first (their order), then the others.
std::vector<Word> ReplaceCovered(std::vector<Word> main, const std::vector<Word>& others);

// The large-text pass's words go only where the main pass saw large text or nothing: a large word that mostly covers
// a main word whose height (mainHeights, TextHeights units) is at most largeFrom, a word in the good range, is
// dropped (the main pass read that text at a good size; at the low scale its lines and words join); a kept large word
// replaces the (large) main words it covers.
std::vector<Word> MergeLarge(std::vector<Word> main, const std::vector<float>& mainHeights, float largeFrom,
                             const std::vector<Word>& large);

}  // namespace craft
