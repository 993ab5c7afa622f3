// Vertical words: a crop taller than verticalRatio x its width holds either a word turned a quarter (letters lying on
// their side, read top to bottom or bottom to top) or upright letters stacked one above the other (signs: 'HOTEL').
// A recogniser reads a horizontal line, so the first is read after a quarter turn each way and the second laid out
// side by side as a line (recognize()'s verticalRetry: docs/recognition.md#vertical-words).
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace craft {

// The glyphs along the length of a vertical strip (as cut, not turned), from its ink mask `ink` (InkMask of the
// strip, computed once by the caller and shared with LayOutGlyphs): the connected components (8-connected) of the
// ink, those under a fifth of the largest one's size (max of width and height: an i's dot, specks) left out, and the
// rest merged where their rows overlap, top to bottom. Each is a rectangle in the strip's pixels. Empty for a strip
// without a mask (InkMask: too small or no contrast).
std::vector<cv::Rect> FindGlyphSlots(const cv::Mat& ink);

// The most parts one character stacks along its length (':', ';', '=', '!', '?', 'i', 'j'): a vertical strip whose
// ink holds more glyph slots than this (FindGlyphSlots) is several characters: it may be a stack (IsGlyphStack), and
// its unturned reading is not re-read at other margins (the margin retry).
constexpr size_t kMaxCharacterParts = 2;

// Whether glyph slots look like upright letters stacked one above the other: more than kMaxCharacterParts of them
// (and at most `maxGlyphs`, the recogniser's longest reading), each as wide as half to twice their median width, or a
// thin upright stroke (I, 1, l: at least twice as high as wide and half to twice their median height).
bool IsGlyphStack(const std::vector<cv::Rect>& slots, int maxGlyphs);

// The glyphs laid out side by side as a horizontal line: each slot's pixels, their bottoms on one baseline (a
// stacked sign's capitals stand on it; so do lowercase letters but for descenders), in a row as high as the highest
// slot (h), a gap of kStackGap x h between them and round(margin x h) (at least 1 px) around, on the paper's
// colour (the mean of the strip's pixels outside `ink`, the strip's InkMask as FindGlyphSlots took it).
cv::Mat LayOutGlyphs(const cv::Mat& strip, const cv::Mat& ink, const std::vector<cv::Rect>& slots, double margin);

// A reading's confidence per character: the geometric mean of its characters' (confidence^(1/n), n the UTF-8
// characters of `text`, at least 1). The readings of a vertical strip are compared by it: read unturned, a strip
// narrower than a character holds one or two, and a product over a character or two beats one over a whole word
// read turned ('mentos' read unturned as '|' at 0.59, turned as 'montos' at 0.60, 0.92 a character).
double PerCharacterConfidence(double confidence, const std::string& text);

// How much wider than its aspect ratio a vertical strip is read unturned (upright): 1, 2 and 3 times. A strip taller
// than verticalRatio x its width that holds upright text is a tall character or a condensed word, and a word's letters
// are then narrower than 1 / (1.5 n) of their height (n letters; 'Lift' 36 x 55 px: 0.16 each), a third of an
// ordinary font's ~0.5: at height 32 the CTC recogniser has too few frames for them (stretch.h), and reads them right
// only wider ('Lift' turned a quarter 'if' 0.49, upright 2x 'Lift' 0.89). The stretched readings are for a CTC model
// that keeps the aspect ratio (`pad`) only; the others read the strip unturned as it is.
const std::vector<double>& UprightStretches();

// The gap between laid-out glyphs, a fraction of their height: ordinary letter spacing is about a tenth of the
// capital height and a word space about 0.4 of it; a fifth reads as one word without joining the letters.
constexpr double kStackGap = 0.2;

}  // namespace craft
