// Character boxes and calibrated word scores from CRAFT's region map (issue 17). Not in the reference: the word boxes
// of GetDetBoxes are left exactly as they are; this adds what the region map says inside each of them.
//
// CRAFT trains its region score as one 2-D Gaussian per character, peak 1 at the character's centre. Inside a word's
// box (heatmap coordinates) the map is sampled into an axis-aligned strip along the word's axis (its longer side;
// top to bottom for vertical words); the strip's column profile (max over the word's height) has one peak per
// character. Peaks are the profile's local maxima above lowText that stand out of the valley to their neighbours by
// a prominence of at least kPeakProminence x the lower of the two peaks; the character boundaries are the valley
// minima between neighbouring peaks (the watershed of the 1-D profile), the word's ends bound the first and last
// characters, and each character's height is the extent of region > lowText inside its slice.
//
// Score: the mean over the word's character peaks of min(peak, 1). The training target of a character peak is 1, so
// the score reads "how close, on average, each character of the word comes to the model's idea of a certain
// character"; it is in [0, 1] for any model (a model that overshoots its target saturates per character, not per word,
// so one weak character still lowers the word's score). rawScore keeps the reference-style maximum.
#pragma once

#include <vector>

#include "types.h"

namespace craft {

// Minimum relative depth of the valley between two neighbouring peaks for both to count as characters.
constexpr float kPeakProminence = 0.15f;

// Fills rawScore (= the incoming score), score (calibrated, see above) and, when `characters` is set, the character
// boxes of every word; all in the map's coordinates (the caller scales them with the word). `region` is the
// width x height region map the words came from.
void ScoreWords(const float* region, int width, int height, float lowText, bool characters, std::vector<Word>& words);

}  // namespace craft
