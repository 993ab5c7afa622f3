// Known-answer tests of scale 'auto''s planning (autoscale.h: PlanScales, PlanUpscale, TextHeights, MergeLarge) and of
// the character split, character heights and calibrated scores (characters.h: ScoreWords), on hand-made height lists,
// words and region maps (no model, no ONNX Runtime).
//
//   scale_test
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "check.h"
#include "autoscale.h"
#include "characters.h"

using craft::Point;
using craft::Word;

namespace {

bool Near(double a, double b, double tol) { return std::fabs(a - b) <= tol; }

std::vector<float> Repeat(float h, int n) { return std::vector<float>(n, h); }

std::vector<float> Concat(std::vector<float> a, const std::vector<float>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ---- PlanScales / PlanUpscale ------------------------------------------------------------------------------------

void TestPlanScales() {
  const double big = 64.0;  // maxScale that never binds
  {
    // One text size the fixed scale already puts in the good range (10 px at 1.5 = 15 px): exactly the fixed pass.
    const auto p = craft::PlanScales(Repeat(10.f, 40), 1.5, big);
    CHECK(p.main == 1.5 && p.second == 0, "single good size: main %g second %g", p.main, p.second);
  }
  {
    // Tiny text (4 px, 6 px at the fixed scale): one pass at the scale that puts it at kTargetHeight (30 / 4 = 7.5).
    const auto p = craft::PlanScales(Repeat(4.f, 40), 1.5, big);
    CHECK(Near(p.main, craft::kTargetHeight / 4.0, 1e-6) && p.second == 0, "tiny: main %g second %g", p.main, p.second);
    // ... clamped to maxScale (maxPixels).
    const auto q = craft::PlanScales(Repeat(4.f, 40), 1.5, 3.0);
    CHECK(q.main == 3.0 && q.second == 0, "tiny, maxScale 3: main %g second %g", q.main, q.second);
  }
  {
    // Huge text (100 px, 150 px at the fixed scale, a poster): one pass scaled down to put it at 30 px.
    const auto p = craft::PlanScales(Repeat(100.f, 20), 1.5, big);
    CHECK(Near(p.main, 0.3, 1e-6) && p.second == 0, "huge: main %g second %g", p.main, p.second);
  }
  {
    // Too large, two sizes (12 words at 50 px, 28 at 100 px; 75 and 150 px at the fixed scale): the median word goes
    // to kTargetHeight (30 / 100), not the small quarter (30 / 50 would leave most words at 60 px).
    const auto p = craft::PlanScales(Concat(Repeat(50.f, 12), Repeat(100.f, 28)), 1.5, big);
    CHECK(Near(p.main, 0.3, 1e-6), "too large, two sizes: main %g, want 0.3", p.main);
    // ... but not below the scale that keeps the small quarter at kGoodLow: 12 words at 50 px, 28 at 500 px ->
    // kGoodLow / 50 = 0.22 (the median's 30 / 500 = 0.06 would make the small words 3 px).
    const auto q = craft::PlanScales(Concat(Repeat(50.f, 12), Repeat(500.f, 28)), 1.5, big);
    CHECK(Near(q.main, craft::kGoodLow / 50.0, 1e-6), "too large, wide spread: main %g, want %g", q.main,
          craft::kGoodLow / 50.0);
    // Judged on the median word: small text just inside the range (12 words at 40 px: 60 px at the fixed scale) under
    // most words far above it (28 at 100 px: 150 px) -> down to 30 / 100 (the small quarter at 12 px).
    const auto r = craft::PlanScales(Concat(Repeat(40.f, 12), Repeat(100.f, 28)), 1.5, big);
    CHECK(Near(r.main, 0.3, 1e-6), "too large, small quarter in range: main %g, want 0.3", r.main);
  }
  {
    // Headline over body text: 40 body words of 10 px and 5 headline words of 80 px (120 px at the fixed scale).
    // The body keeps the fixed scale; the headline gets a second pass at 30 / 80, and words from kGoodHigh / 1.5
    // original pixels up belong to it.
    const auto p = craft::PlanScales(Concat(Repeat(10.f, 40), Repeat(80.f, 5)), 1.5, big);
    CHECK(p.main == 1.5, "mixed: main %g", p.main);
    CHECK(Near(p.second, 30.0 / 80.0, 1e-6), "mixed: second %g", p.second);
    CHECK(Near(p.largeFrom, craft::kGoodHigh / 1.5, 1e-4), "mixed: largeFrom %g", p.largeFrom);
    // One large word among many (a one-word headline) gets its pass too.
    const auto one = craft::PlanScales(Concat(Repeat(10.f, 100), {90.f}), 1.5, big);
    CHECK(one.main == 1.5 && Near(one.second, 30.0 / 90.0, 1e-6), "one headline word: main %g second %g", one.main,
          one.second);
    // The headline's scale is its median height's: two sizes of large text -> the middle one.
    const auto q = craft::PlanScales(Concat(Repeat(10.f, 40), {60.f, 80.f, 100.f}), 1.5, big);
    CHECK(Near(q.second, 30.0 / 80.0, 1e-6), "mixed, three large sizes: second %g", q.second);
  }
  {
    // The main scale follows the page's small text (25th percentile): 30 % tiny (4 px) and 70 % body (10 px) text
    // -> the tiny text's scale (7.5); at 7.5 the body is 75 px, over kGoodHigh: a second pass puts it at 30 px.
    const auto p = craft::PlanScales(Concat(Repeat(4.f, 30), Repeat(10.f, 70)), 1.5, big);
    CHECK(Near(p.main, 7.5, 1e-6), "small quarter: main %g", p.main);
    CHECK(Near(p.second, 3.0, 1e-6) && Near(p.largeFrom, craft::kGoodHigh / 7.5, 1e-4),
          "small quarter: second %g largeFrom %g", p.second, p.largeFrom);
  }
  {
    // Both ends of the good range are inside it: no change.
    const double lo = craft::kGoodLow / 1.5 + 1e-3, hi = craft::kGoodHigh / 1.5 - 1e-3;
    CHECK(craft::PlanScales(Repeat(static_cast<float>(lo), 10), 1.5, big).main == 1.5, "at kGoodLow");
    CHECK(craft::PlanScales(Repeat(static_cast<float>(hi), 10), 1.5, big).main == 1.5, "at kGoodHigh");
  }
  {
    // Too few words for an estimate (after dropping non-positive and NaN heights): the fixed pass alone.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const auto p = craft::PlanScales({4.f, 4.f, 0.f, -3.f, nan}, 1.5, big);
    CHECK(p.main == 1.5 && p.second == 0, "two valid heights: main %g second %g", p.main, p.second);
    const auto q = craft::PlanScales({}, 1.5, big);
    CHECK(q.main == 1.5 && q.second == 0, "no heights: main %g", q.main);
    // ... but a word too large for the main scale still gets its pass: two 100 px words (a two-word poster).
    const auto two = craft::PlanScales({100.f, 100.f}, 1.5, big);
    CHECK(two.main == 1.5 && Near(two.second, 0.3, 1e-6), "two large words: main %g second %g", two.main, two.second);
    const auto r = craft::PlanScales({4.f, 4.f, 4.f, nan}, 1.5, big);
    CHECK(Near(r.main, 7.5, 1e-6), "three valid heights: main %g", r.main);
  }
}

void TestPlanUpscale() {
  const double big = 64.0;
  // Main-pass words of 5 px at scale 1.5 (7.5 px, under kGoodLow): the scale that puts them at 30 px (6).
  CHECK(Near(craft::PlanUpscale(Repeat(5.f, 20), 1.5, big), 6.0, 1e-6), "5 px: %g",
        craft::PlanUpscale(Repeat(5.f, 20), 1.5, big));
  // 2 px: 15 would be needed; at most kMaxUpscale x the main scale.
  CHECK(Near(craft::PlanUpscale(Repeat(2.f, 20), 1.5, big), craft::kMaxUpscale * 1.5, 1e-6), "2 px: %g",
        craft::PlanUpscale(Repeat(2.f, 20), 1.5, big));
  // ... and within maxScale.
  CHECK(Near(craft::PlanUpscale(Repeat(2.f, 20), 1.5, 4.0), 4.0, 1e-6), "2 px, maxScale 4");
  // A gain under 1.25x is not worth a pass.
  CHECK(craft::PlanUpscale(Repeat(2.f, 20), 1.5, 1.8) == 0, "2 px, maxScale 1.8");
  // Text already in range, or too few words: no pass.
  CHECK(craft::PlanUpscale(Repeat(10.f, 20), 1.5, big) == 0, "10 px");
  CHECK(craft::PlanUpscale({2.f, 2.f}, 1.5, big) == 0, "two words");
}

// ---- ScoreWords -------------------------------------------------------------------------------------------------

struct Peak {
  float x, y, height, sigma;
};

// A region map of isotropic Gaussians (CRAFT's character target: peak `height` at the character's centre).
std::vector<float> GaussianMap(int w, int h, const std::vector<Peak>& peaks) {
  std::vector<float> map(static_cast<size_t>(w) * h, 0.f);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      float v = 0.f;
      for (const Peak& p : peaks) {
        const float d2 = (x - p.x) * (x - p.x) + (y - p.y) * (y - p.y);
        v = std::max(v, p.height * std::exp(-d2 / (2 * p.sigma * p.sigma)));
      }
      map[static_cast<size_t>(y) * w + x] = v;
    }
  }
  return map;
}

Word Box(Point a, Point b, Point c, Point d, float score = 0.9f) {
  Word w;
  w.box = {a, b, c, d};
  w.score = score;
  return w;
}

Point Centre(const std::array<Point, 4>& q) {
  return {(q[0].x + q[1].x + q[2].x + q[3].x) / 4, (q[0].y + q[1].y + q[2].y + q[3].y) / 4};
}

float MinX(const std::array<Point, 4>& q) {
  return std::min(std::min(q[0].x, q[1].x), std::min(q[2].x, q[3].x));
}
float MaxX(const std::array<Point, 4>& q) {
  return std::max(std::max(q[0].x, q[1].x), std::max(q[2].x, q[3].x));
}

void TestThreeCharacters() {
  // Three separated characters at x = 40, 100, 160 in a 200 x 60 map; the word box spans x 20..180, y 15..45.
  const int W = 200, H = 60;
  const auto map = GaussianMap(W, H, {{40, 30, 1.f, 8}, {100, 30, 1.f, 8}, {160, 30, 1.f, 8}});
  std::vector<Word> words = {Box({20, 15}, {180, 15}, {180, 45}, {20, 45}, 1.07f)};
  craft::ScoreWords(map.data(), W, H, 0.4f, true, words);
  const Word& w = words[0];
  CHECK(w.characters.size() == 3, "three peaks: %zu characters", w.characters.size());
  CHECK(Near(w.rawScore, 1.07, 1e-6), "rawScore keeps the incoming max: %g", w.rawScore);
  CHECK(Near(w.score, 1.0, 0.01), "score of three full peaks: %g", w.score);
  if (w.characters.size() != 3) return;
  const float want[3] = {40, 100, 160};
  // Each character is the box whose training Gaussian its peak is: exp(-0.5 (K u)^2), u = offset / half box, so the
  // half box is K sigma = 14 around the peak (the map's pixel i spans [i, i + 1): centres at 40.5, 100.5, 160.5).
  const float half = craft::kRegionGaussianK * 8;
  for (int k = 0; k < 3; k++) {
    const Point c = Centre(w.characters[k]);
    CHECK(Near(c.x, want[k] + 0.5, 1.0) && Near(c.y, 30.5, 1.0), "character %d centre (%g, %g), peak at %g", k, c.x, c.y,
          want[k]);
    const float width = MaxX(w.characters[k]) - MinX(w.characters[k]);
    const float height = w.characters[k][2].y - w.characters[k][1].y;
    CHECK(Near(width, 2 * half, 1.5) && Near(height, 2 * half, 1.5), "character %d is %g x %g, want %g x %g", k, width,
          height, 2 * half, 2 * half);
    // Boxes come clockwise from the top-left corner, like the word's.
    CHECK(w.characters[k][0].x < w.characters[k][1].x && w.characters[k][1].y < w.characters[k][2].y,
          "character %d corner order", k);
  }
  // Clipped to their slices (the valleys at 70 and 130) and the word's ends: a character too wide for its slice.
  const auto wide = GaussianMap(W, H, {{40, 30, 1.f, 20}, {100, 30, 1.f, 20}, {160, 30, 1.f, 20}});
  std::vector<Word> clipped = {Box({20, 15}, {180, 15}, {180, 45}, {20, 45})};
  craft::ScoreWords(wide.data(), W, H, 0.4f, true, clipped);
  CHECK(clipped[0].characters.size() == 3, "wide characters: %zu", clipped[0].characters.size());
  if (clipped[0].characters.size() == 3) {
    const auto& q = clipped[0].characters;
    CHECK(Near(MinX(q[0]), 20, 1.0) && Near(MaxX(q[0]), 70, 1.0) && Near(MinX(q[1]), 70, 1.0) &&
              Near(MaxX(q[2]), 180, 1.0), "wide characters clipped to the valleys and the ends: %g %g %g %g", MinX(q[0]),
          MaxX(q[0]), MinX(q[1]), MaxX(q[2]));
    CHECK(Near(q[1][0].y, 15, 1.0) && Near(q[1][3].y, 45, 1.0), "and to the word's height: %g %g", q[1][0].y, q[1][3].y);
  }
  // The same word without characters: the same score, no boxes.
  std::vector<Word> plain = {Box({20, 15}, {180, 15}, {180, 45}, {20, 45}, 1.07f)};
  craft::ScoreWords(map.data(), W, H, 0.4f, false, plain);
  CHECK(plain[0].characters.empty() && Near(plain[0].score, w.score, 1e-6), "characters: false");
}

void TestScores() {
  const int W = 200, H = 60;
  std::vector<Word> box = {Box({20, 15}, {180, 15}, {180, 45}, {20, 45}, 1.2f)};
  // An overshooting model (peaks 1.2) saturates per character: score 1, not 1.2.
  auto words = box;
  auto over = GaussianMap(W, H, {{40, 30, 1.2f, 8}, {100, 30, 1.2f, 8}, {160, 30, 1.2f, 8}});
  craft::ScoreWords(over.data(), W, H, 0.4f, false, words);
  CHECK(Near(words[0].score, 1.0, 1e-6) && Near(words[0].rawScore, 1.2, 1e-6), "overshoot: score %g raw %g",
        words[0].score, words[0].rawScore);
  // One weak character lowers the word: (1 + 0.6 + 1) / 3.
  words = box;
  auto weak = GaussianMap(W, H, {{40, 30, 1.2f, 8}, {100, 30, 0.6f, 8}, {160, 30, 1.2f, 8}});
  craft::ScoreWords(weak.data(), W, H, 0.4f, true, words);
  CHECK(words[0].characters.size() == 3, "weak middle character still a character: %zu", words[0].characters.size());
  CHECK(Near(words[0].score, 2.6 / 3, 0.01), "weak middle: score %g", words[0].score);
  // Nothing above lowText inside the box: the clamped incoming score, no characters.
  words = box;
  std::vector<float> empty(static_cast<size_t>(W) * H, 0.f);
  craft::ScoreWords(empty.data(), W, H, 0.4f, true, words);
  CHECK(Near(words[0].score, 1.0, 1e-6) && words[0].characters.empty(), "empty map: score %g", words[0].score);
  // A degenerate (0, 0) box and a NaN score: score 0 (in [0, 1]), no characters, no crash.
  std::vector<Word> degenerate = {Box({5, 5}, {5, 5}, {5, 5}, {5, 5}, std::numeric_limits<float>::quiet_NaN())};
  craft::ScoreWords(over.data(), W, H, 0.4f, true, degenerate);
  CHECK(degenerate[0].score == 0.f && degenerate[0].characters.empty(), "degenerate: score %g", degenerate[0].score);
  // A box partly outside the map: clipped, the character inside still found.
  std::vector<Word> outside = {Box({150, 15}, {260, 15}, {260, 45}, {150, 45})};
  craft::ScoreWords(over.data(), W, H, 0.4f, true, outside);
  CHECK(outside[0].characters.size() == 1, "box over the edge: %zu characters", outside[0].characters.size());
}

void TestMerging() {
  const int W = 200, H = 60;
  // Two peaks 8 px apart (sigma 8): the valley between them is about 0.9 of the peaks (after the profile's [1 2 1]
  // smoothing), not prominent (kPeakProminence 0.15): one character. 14 px apart: about 0.72, two characters.
  for (const auto& [gap, want] : std::vector<std::pair<float, size_t>>{{8.f, 1}, {14.f, 2}}) {
    const auto map = GaussianMap(W, H, {{100 - gap / 2, 30, 1.f, 8}, {100 + gap / 2, 30, 1.f, 8}});
    std::vector<Word> words = {Box({70, 15}, {130, 15}, {130, 45}, {70, 45})};
    craft::ScoreWords(map.data(), W, H, 0.4f, true, words);
    CHECK(words[0].characters.size() == want, "gap %g: %zu characters, want %zu", gap, words[0].characters.size(),
          want);
  }
}

void TestVertical() {
  // A vertical word (taller than wide): characters from top to bottom.
  const int W = 60, H = 200;
  const auto map = GaussianMap(W, H, {{30, 40, 1.f, 8}, {30, 100, 1.f, 8}, {30, 160, 1.f, 8}});
  std::vector<Word> words = {Box({15, 20}, {45, 20}, {45, 180}, {15, 180})};
  craft::ScoreWords(map.data(), W, H, 0.4f, true, words);
  CHECK(words[0].characters.size() == 3, "vertical: %zu characters", words[0].characters.size());
  if (words[0].characters.size() != 3) return;
  const float want[3] = {40.5, 100.5, 160.5};  // at the peaks (pixel i spans [i, i + 1))
  for (int k = 0; k < 3; k++) {
    const Point c = Centre(words[0].characters[k]);
    CHECK(Near(c.y, want[k], 2.0) && Near(c.x, 30, 2.0), "vertical character %d centre (%g, %g)", k, c.x, c.y);
  }
}

void TestRotated() {
  // A word rotated by 20 degrees about (100, 100): peaks at -40, 0, 40 along its axis; characters follow the axis.
  const int W = 200, H = 200;
  const float a = 20.f * 3.14159265f / 180.f, ca = std::cos(a), sa = std::sin(a);
  auto at = [&](float u, float v) { return Point{100 + u * ca - v * sa, 100 + u * sa + v * ca}; };
  std::vector<Peak> peaks;
  for (float u : {-40.f, 0.f, 40.f}) peaks.push_back({at(u, 0).x, at(u, 0).y, 1.f, 8});
  const auto map = GaussianMap(W, H, peaks);
  std::vector<Word> words = {Box(at(-70, -15), at(70, -15), at(70, 15), at(-70, 15))};
  craft::ScoreWords(map.data(), W, H, 0.4f, true, words);
  CHECK(words[0].characters.size() == 3, "rotated: %zu characters", words[0].characters.size());
  if (words[0].characters.size() != 3) return;
  const float along[3] = {-40, 0, 40};  // at the peaks
  for (int k = 0; k < 3; k++) {
    const Point c = Centre(words[0].characters[k]), want = at(along[k], 0);
    CHECK(Near(c.x, want.x, 2.5) && Near(c.y, want.y, 2.5), "rotated character %d centre (%g, %g), want (%g, %g)", k,
          c.x, c.y, want.x, want.y);
  }
}


void TestLowLowText() {
  // The characters and the word's height are read at kCharacterLevel, not at a lower lowText. The same three
  // characters (sigma 8) in the boxes GetDetBoxes would draw at lowText = kCharacterLevel and at lowText 0.2 and 0.1:
  // region > lowText reaches r = 8 sqrt(2 ln(1 / lowText)) from a peak, dilated by 5 (at 0.1: rows 13..47, box 8..52).
  const int W = 200, H = 60;
  const auto map = GaussianMap(W, H, {{40, 30, 1.f, 8}, {100, 30, 1.f, 8}, {160, 30, 1.f, 8}});
  auto box = [](float lowText) {
    const float r = std::floor(8 * std::sqrt(2 * std::log(1 / lowText))) + 5;
    return std::vector<Word>{Box({40 - r, 30 - r}, {160 + r, 30 - r}, {160 + r, 30 + r}, {40 - r, 30 + r})};
  };
  std::vector<Word> ref = box(craft::kCharacterLevel);
  craft::ScoreWords(map.data(), W, H, craft::kCharacterLevel, true, ref);
  const float side = ref[0].box[2].y - ref[0].box[1].y;
  CHECK(ref[0].levelHeight == 0.f, "at the level: the box's own height (levelHeight %g)", ref[0].levelHeight);
  CHECK(craft::ShortSide(ref[0]) == side, "at the level: ShortSide is the box's, %g", craft::ShortSide(ref[0]));
  for (float lowText : {0.2f, 0.1f}) {
    std::vector<Word> low = box(lowText);
    craft::ScoreWords(map.data(), W, H, lowText, true, low);
    CHECK(low[0].characters.size() == 3 && ref[0].characters.size() == 3, "lowText %g: %zu characters", lowText,
          low[0].characters.size());
    if (low[0].characters.size() != 3 || ref[0].characters.size() != 3) continue;
    float worst = 0.f;
    for (int k = 0; k < 3; k++) {
      for (int i = 0; i < 4; i++) {
        const Point a = low[0].characters[k][i], b = ref[0].characters[k][i];
        worst = std::max(worst, std::hypot(a.x - b.x, a.y - b.y));
      }
    }
    CHECK(worst < 1.5f, "lowText %g: the same character boxes as at the level (corners %g px apart)", lowText, worst);
    const float own = low[0].box[2].y - low[0].box[1].y;
    CHECK(Near(craft::ShortSide(low[0]), side, 1.5), "lowText %g: the word's height as at the level (%g): %g, not the "
          "box's %g", lowText, side, craft::ShortSide(low[0]), own);
    CHECK(Near(low[0].score, ref[0].score, 1e-6), "lowText %g: the same score", lowText);
  }
  // Above the level, lowText is the level: the characters are grown from region > 0.4 (the half box K sigma = 14).
  std::vector<Word> high = box(0.4f);
  craft::ScoreWords(map.data(), W, H, 0.4f, true, high);
  CHECK(high[0].levelHeight == 0.f && high[0].characters.size() == 3, "lowText 0.4: %zu characters",
        high[0].characters.size());
}

// ---- Text size from the characters (TextHeights) and the large-text merge (MergeLarge) ------------------------------

// An axis-aligned word box x0..x1, y0..y1 with a given character height (as ScoreWords would set it).
Word Rect(float x0, float y0, float x1, float y1, float charHeight) {
  Word w = Box({x0, y0}, {x1, y0}, {x1, y1}, {x0, y1});
  w.charHeight = charHeight;
  return w;
}

void TestCharHeight() {
  // One line of characters (sigma 8): the region's half-maximum run across the word is 2 sqrt(2 ln 2) sigma = 18.8.
  const int W = 200, H = 120;
  const auto line = GaussianMap(W, H, {{40, 30, 1.f, 8}, {100, 30, 1.f, 8}, {160, 30, 1.f, 8}});
  std::vector<Word> words = {Box({20, 15}, {180, 15}, {180, 45}, {20, 45})};
  craft::ScoreWords(line.data(), W, H, 0.4f, false, words);
  CHECK(Near(words[0].charHeight, 18.8, 1.5), "one line: charHeight %g, want 18.8", words[0].charHeight);
  // Two stacked lines (centres 34 px apart) that GetDetBoxes joined into one 64 px tall box: the characters are still
  // one line's height, not the box's.
  const auto two = GaussianMap(W, H, {{40, 30, 1.f, 8}, {100, 30, 1.f, 8}, {160, 30, 1.f, 8},
                                      {40, 64, 1.f, 8}, {100, 64, 1.f, 8}, {160, 64, 1.f, 8}});
  std::vector<Word> joined = {Box({20, 15}, {180, 15}, {180, 79}, {20, 79})};
  craft::ScoreWords(two.data(), W, H, 0.4f, false, joined);
  CHECK(Near(joined[0].charHeight, 18.8, 1.5), "two joined lines: charHeight %g, want 18.8", joined[0].charHeight);
  // A headline (sigma 20, in a 120 px tall map): its characters are large.
  const auto big = GaussianMap(W, H, {{50, 60, 1.f, 20}, {150, 60, 1.f, 20}});
  std::vector<Word> head = {Box({10, 10}, {190, 10}, {190, 110}, {10, 110})};
  craft::ScoreWords(big.data(), W, H, 0.4f, false, head);
  CHECK(Near(head[0].charHeight, 47.1, 3.0), "headline: charHeight %g, want 47.1", head[0].charHeight);
  // No peak: no character height.
  std::vector<float> empty(static_cast<size_t>(W) * H, 0.f);
  std::vector<Word> none = {Box({20, 15}, {180, 15}, {180, 45}, {20, 45})};
  craft::ScoreWords(empty.data(), W, H, 0.4f, false, none);
  CHECK(none[0].charHeight == 0.f, "no peak: charHeight %g", none[0].charHeight);
}

void TestTextHeights() {
  const float k = craft::kDetectedToTruth;
  // Body text: 20 px boxes, 10 px characters (the page's ratio: 2). At the fixed scale 1.5 it is 25 / 0.8 x 1.5 =
  // 37.5 px: the good range. The large-text pass starts above kGoodHigh / 1.5 = 42.7 (ground-truth px).
  std::vector<Word> page;
  for (int i = 0; i < 10; i++) page.push_back(Rect(0, 30.f * i, 100, 30.f * i + 20, 10));
  // Two body lines joined into one 45 px box (its short side alone reads 56 px ground truth: "large").
  page.push_back(Rect(200, 0, 400, 45, 10));
  auto h = craft::TextHeights(page);
  CHECK(h.size() == page.size() && Near(h[0], 20 / k, 1e-4), "body word: %g", h.empty() ? -1.f : h[0]);
  CHECK(Near(h.back(), 20 / k, 1e-4), "joined lines read as one line: %g, want %g", h.back(), 20 / k);
  auto plan = craft::PlanScales(h, 1.5, 64.0);
  CHECK(plan.main == 1.5 && plan.second == 0, "joined lines: no large-text pass (second %g)", plan.second);
  // What the box heights alone would have said (the old trigger): a large-text pass.
  std::vector<float> boxes;
  for (const Word& w : page) boxes.push_back(craft::ShortSide(w) / k);
  CHECK(craft::PlanScales(boxes, 1.5, 64.0).second > 0, "box heights alone trigger the pass");
  // A real headline: 50 px box, 25 px characters (the page's ratio): 62.5 px ground truth, a large-text pass for it.
  page.push_back(Rect(0, 400, 300, 450, 25));
  h = craft::TextHeights(page);
  CHECK(Near(h.back(), 50 / k, 1e-4), "headline: %g", h.back());
  plan = craft::PlanScales(h, 1.5, 64.0);
  CHECK(plan.second > 0 && Near(plan.second, craft::kTargetHeight / (50 / k), 1e-4), "headline: second %g",
        plan.second);
  // Fewer than kProbeMinWords words with characters: no ratio, the box's short side.
  std::vector<Word> few = {Rect(0, 0, 100, 45, 10), Rect(0, 50, 100, 70, 10), Rect(0, 80, 100, 100, 0)};
  h = craft::TextHeights(few);
  CHECK(Near(h[0], 45 / k, 1e-4) && Near(h[2], 20 / k, 1e-4), "few words: %g %g", h[0], h[2]);
}

void TestMergeLarge() {
  // Main pass: a two-line heading read right (two 30 px words, good range), a large word cut into two pieces by
  // the main scale (heights 100), a body word far away. largeFrom 60.
  std::vector<Word> main = {Rect(0, 0, 200, 30, 0), Rect(0, 40, 200, 70, 0), Rect(300, 0, 400, 100, 0),
                            Rect(400, 0, 500, 100, 0), Rect(0, 500, 50, 520, 0)};
  const std::vector<float> heights = {30, 30, 100, 100, 20};
  std::vector<Word> large = {
      Rect(-5, -5, 205, 75, 0),    // the heading's lines joined at the low scale: over good-range words, dropped
      Rect(295, -5, 505, 105, 0),  // the large word whole: replaces its two pieces
      Rect(600, 600, 800, 700, 0), // text the main pass did not find at all: added
  };
  auto out = craft::MergeLarge(main, heights, 60.f, large);
  auto has = [&](const Word& w) {
    for (const Word& o : out) if (o.box[0].x == w.box[0].x && o.box[0].y == w.box[0].y && o.box[2].x == w.box[2].x) return true;
    return false;
  };
  CHECK(out.size() == 5, "merged: %zu words, want 5", out.size());
  CHECK(has(main[0]) && has(main[1]) && !has(large[0]), "good-range heading words stay, the joined box is dropped");
  CHECK(!has(main[2]) && !has(main[3]) && has(large[1]), "the large word replaces its pieces");
  CHECK(has(main[4]) && has(large[2]), "the body word stays, new text is added");
  // A large box over one large piece and one good-range word: dropped; both main words stay.
  auto mixed = craft::MergeLarge({main[1], main[2]}, {30, 100}, 60.f, {Rect(-5, 35, 350, 105, 0)});
  CHECK(mixed.size() == 2, "mixed cover: %zu words, want the 2 main words", mixed.size());
  // ReplaceCovered (the other passes' merge) replaces whatever it mostly covers.
  auto replaced = craft::ReplaceCovered({main[0], main[1], main[4]}, {large[0]});
  CHECK(replaced.size() == 2, "ReplaceCovered: %zu words, want 2", replaced.size());
  // A main word seen whole, covered by two pieces of the other pass, each under half of it: replaced by the pieces;
  // a word one piece only grazes stays.
  auto pieces = craft::ReplaceCovered({Rect(0, 0, 300, 40, 0), Rect(0, 100, 100, 140, 0)},
                                      {Rect(-5, -5, 140, 45, 0), Rect(160, -5, 305, 45, 0), Rect(80, 90, 130, 150, 0)});
  CHECK(pieces.size() == 4 && pieces[0].box[0].y == 100, "two pieces replace the whole word: %zu words, want 4",
        pieces.size());
}

}  // namespace

// ---- per-model constants (ScaleConstantsFromMetadata) ------------------------------------------------------------

void TestScaleConstants() {
  using M = std::map<std::string, std::string>;
  const auto same = [](const craft::ScaleConstants& c, float t, float lo, float hi, float r) {
    return c.targetHeight == t && c.goodLow == lo && c.goodHigh == hi && c.detectedToTruth == r;
  };
  const float T = craft::kTargetHeight, L = craft::kGoodLow, H = craft::kGoodHigh, R = craft::kDetectedToTruth;
  CHECK(same(craft::ScaleConstantsFromMetadata(M{{"craft.textThreshold", "0.7"}}), T, L, H, R), "no keys: defaults");
  {
    const auto c = craft::ScaleConstantsFromMetadata(M{{"craft.scaleTargetHeight", "24"}, {"craft.scaleGoodLow", "8"},
                                                       {"craft.scaleGoodHigh", "90.5"}, {"craft.detectedToTruth", "1.02"}});
    CHECK(same(c, 24, 8, 90.5f, 1.02f), "all four read: %g %g %g %g", c.targetHeight, c.goodLow, c.goodHigh,
          c.detectedToTruth);
  }
  // One height alone joins the defaults when the three stay ordered (11 < 40 < 64) ...
  CHECK(same(craft::ScaleConstantsFromMetadata(M{{"craft.scaleTargetHeight", "40"}}), 40, L, H, R), "target alone");
  // ... and is ignored with the other two when not (80 > 64): the range is one model's or the defaults'.
  CHECK(same(craft::ScaleConstantsFromMetadata(M{{"craft.scaleTargetHeight", "80"}, {"craft.detectedToTruth", "1"}}),
             T, L, H, 1), "unordered range: defaults, ratio kept");
  // Not numbers, out of range, trailing text, hex, inf/nan: ignored (a bad height takes the range's others with it).
  for (const char* bad : {"", "abc", "0", "-3", "1e9", "30px", "0x1E", "inf", "nan", " 30"}) {
    const auto c = craft::ScaleConstantsFromMetadata(M{{"craft.scaleTargetHeight", bad}, {"craft.scaleGoodLow", "5"},
                                                       {"craft.detectedToTruth", bad}});
    CHECK(same(c, T, L, H, R), "bad value '%s': defaults", bad);
  }
  for (const char* bad : {"0.1", "5", "0.24"}) {
    CHECK(same(craft::ScaleConstantsFromMetadata(M{{"craft.detectedToTruth", bad}}), T, L, H, R), "ratio %s", bad);
  }
  // The constants move the plan: 10 px text at the fixed scale 1.5 (15 px) is in the defaults' range, under a model's
  // whose range starts at 20 (an upscaled pass to its target 40: 40 / 10 = 4).
  const craft::ScaleConstants other = craft::ScaleConstantsFromMetadata(
      M{{"craft.scaleTargetHeight", "40"}, {"craft.scaleGoodLow", "20"}, {"craft.scaleGoodHigh", "100"}});
  CHECK(craft::PlanUpscale(Repeat(10.f, 20), 1.5, 64) == 0, "defaults: no upscale");
  CHECK(Near(craft::PlanUpscale(Repeat(10.f, 20), 1.5, 64, other), 4.0, 1e-6), "model range: upscale to 4");
  CHECK(Near(craft::PlanScales(Repeat(10.f, 20), 1.5, 64, other).main, 4.0, 1e-6), "model range: plan main 4");
}

int main() {
  TestScaleConstants();
  TestPlanScales();
  TestPlanUpscale();
  TestThreeCharacters();
  TestScores();
  TestMerging();
  TestVertical();
  TestRotated();
  TestLowLowText();
  TestCharHeight();
  TestTextHeights();
  TestMergeLarge();
  std::printf("%d checks, %d failures\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
