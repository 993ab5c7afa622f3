// Character boxes and calibrated word scores from CRAFT's region map (issue 17). Not in the reference: the word boxes
// of GetDetBoxes are left exactly as they are; this adds what the region map says inside each of them.
//
// CRAFT trains its region score as one 2-D Gaussian per character, peak 1 at the character's centre. Inside a word's
// box (heatmap coordinates) the map is sampled into an axis-aligned strip along the word's axis (its longer side;
// top to bottom for vertical words); the strip's column profile (max over the word's height) has one peak per
// character. Peaks are the profile's local maxima above the level (below) that stand out of the valley to their
// neighbours by a prominence of at least kPeakProminence x the lower of the two peaks; the character boundaries are the
// valley minima between neighbouring peaks (the watershed of the 1-D profile), and the word's ends bound the first and
// last characters. In its slice a character is the box whose training Gaussian has the slice's region > level: that
// extent widened by 1 / GaussianAt(level) (tools/train/weak.py grow(): a model that reproduces its training targets
// gets the characters' own boxes back).
//
// The level is max(lowText, kCharacterLevel). lowText decides which pixels group into words (and how far the boxes
// reach); where a character ends is the model's convention, not the caller's. Read at a low lowText, the characters
// came out as wide as the words' boxes (bench/characters.js: a fine-tuned model at its tuned lowText 0.2, character
// precision 0.33; 0.67 now), and so did the word heights scale 'auto' plans with (Word::levelHeight: small text
// judged too tall to upscale, ICDAR 2013 at 0.5x 0.374 -> 0.492 now; docs/robustness.md).
//
// Score: the mean over the word's character peaks of min(peak, 1). The training target of a character peak is 1, so
// the score reads "how close, on average, each character of the word comes to the model's idea of a certain
// character"; it is in [0, 1] for any model (a model that overshoots its target saturates per character, not per word,
// so one weak character still lowers the word's score). rawScore keeps the reference-style maximum.
#pragma once

#include <cmath>
#include <vector>

#include "types.h"

namespace craft {

// Minimum relative depth of the valley between two neighbouring peaks for both to count as characters.
constexpr float kPeakProminence = 0.15f;

// The lowest level the characters and word heights are read at (above): the bundled model's tuned lowText, at which
// scale 'auto''s constants were measured (autoscale.h: the good range, kDetectedToTruth; bench/scale-range.js), so
// its plans are the same at its defaults (0.4, CRAFT's low_text, moved its FUNSD 4x pages: 0.799 -> 0.748). The
// characters do not depend on it much: they are grown to their training boxes from whatever level (bench/characters.js,
// bundled: 0.752 / 0.702 at 0.4, 0.748 / 0.700 at 0.35). The region target of a character is
// exp(-0.5 (kRegionGaussianK u)^2) at u = offset / half its box (tools/train/synth.py GAUSS_K_REGION: the 0.4 level at
// 77 % of the half box, where GetDetBoxes' dilation restores the ink box; tools/train/weak.py GAUSS_LEVEL_AT_LOW_TEXT).
constexpr float kCharacterLevel = 0.35f;
constexpr float kRegionGaussianK = 1.75f;

// Where the training Gaussian falls to `level` (0 < level <= 1), as a fraction of the half box.
inline float GaussianAt(float level) { return std::sqrt(2.f * std::log(1.f / level)) / kRegionGaussianK; }

// Fills rawScore (= the incoming score), score (calibrated, see above), charHeight, levelHeight (when lowText <
// kCharacterLevel: the word's short side at the level, its region > level widened by the margins GetDetBoxes' dilation
// gave its box) and, when `characters` is set, the character boxes of every word; all in the map's coordinates (the
// caller scales them with the word). `region` is the width x height region map the words came from.
void ScoreWords(const float* region, int width, int height, float lowText, bool characters, std::vector<Word>& words);

}  // namespace craft
