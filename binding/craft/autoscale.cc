#include "autoscale.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "metadata.h"

namespace craft {

namespace {
float Percentile(const std::vector<float>& sorted, double q) {
  const size_t i = static_cast<size_t>(std::floor(q * (sorted.size() - 1) + 0.5));
  return sorted[std::min(i, sorted.size() - 1)];
}

std::vector<cv::Point2f> Quad(const Word& w) {
  std::vector<cv::Point2f> q;
  for (const Point& p : w.box) q.emplace_back(p.x, p.y);
  return q;
}

// Area of `inner` inside `outer`.
double Overlap(const std::vector<cv::Point2f>& outer, const std::vector<cv::Point2f>& inner) {
  std::vector<cv::Point2f> overlap;
  return cv::intersectConvexConvex(inner, outer, overlap);
}

// Whether more than half of `inner`'s area lies inside `outer`.
bool Covers(const std::vector<cv::Point2f>& outer, const std::vector<cv::Point2f>& inner) {
  const double area = std::fabs(cv::contourArea(inner));
  return area > 0 && Overlap(outer, inner) > 0.5 * area;
}
}  // namespace

ScaleConstants ScaleConstantsFromMetadata(const std::map<std::string, std::string>& metadata) {
  ScaleConstants c;
  // key, min, max; present = found, ok = parsed and in range.
  struct Field { const char* key; double min, max; double value; bool present, ok; };
  Field f[] = {{"craft.scaleTargetHeight", 1, 4096, 0, false, false},
               {"craft.scaleGoodLow", 1, 4096, 0, false, false},
               {"craft.scaleGoodHigh", 1, 4096, 0, false, false},
               {"craft.detectedToTruth", 0.25, 4, 0, false, false}};
  for (Field& x : f) {
    const auto it = metadata.find(x.key);
    if (it == metadata.end()) continue;
    x.present = true;
    x.ok = ParseMetadataNumber(it->second, x.value) && x.value >= x.min && x.value <= x.max;
  }
  // The range: target, low and high, each from the metadata if there and usable, else the default; then all three
  // from the metadata only if ordered (low < target < high).
  if (f[0].present || f[1].present || f[2].present) {
    const bool usable = (!f[0].present || f[0].ok) && (!f[1].present || f[1].ok) && (!f[2].present || f[2].ok);
    const double target = f[0].ok ? f[0].value : c.targetHeight, low = f[1].ok ? f[1].value : c.goodLow,
                 high = f[2].ok ? f[2].value : c.goodHigh;
    if (usable && low < target && target < high) {
      c.targetHeight = static_cast<float>(target);
      c.goodLow = static_cast<float>(low);
      c.goodHigh = static_cast<float>(high);
    }
  }
  if (f[3].ok) c.detectedToTruth = static_cast<float>(f[3].value);
  return c;
}

float ShortSide(const Word& w) {
  if (w.levelHeight > 0.f) return w.levelHeight;
  const auto d = [](const Point& a, const Point& b) { return std::hypot(a.x - b.x, a.y - b.y); };
  return std::min(d(w.box[0], w.box[1]), d(w.box[1], w.box[2]));
}

std::vector<float> TextHeights(const std::vector<Word>& words, const ScaleConstants& model) {
  std::vector<float> ratios;
  for (const Word& w : words) {
    if (w.charHeight > 0.f && ShortSide(w) > 0.f) ratios.push_back(ShortSide(w) / w.charHeight);
  }
  float r = 0.f;
  if (ratios.size() >= static_cast<size_t>(kProbeMinWords)) {
    std::nth_element(ratios.begin(), ratios.begin() + ratios.size() / 2, ratios.end());
    r = ratios[ratios.size() / 2];
  }
  std::vector<float> heights;
  for (const Word& w : words) {
    float h = ShortSide(w);
    if (r > 0.f && w.charHeight > 0.f) h = std::min(h, r * w.charHeight);
    heights.push_back(h / model.detectedToTruth);
  }
  return heights;
}

std::vector<Word> ReplaceCovered(std::vector<Word> main, const std::vector<Word>& others) {
  if (others.empty()) return main;
  std::vector<std::vector<cv::Point2f>> big;
  for (const Word& w : others) big.push_back(Quad(w));
  std::vector<Word> out;
  for (Word& m : main) {
    // Covered by the other pass's words together: a word one pass sees whole may be two pieces in the other (a
    // heading's `craft-text` at the main scale, `craft` and `text` in the large pass), each under half of it. The
    // words of one pass barely overlap, so the sum of the overlaps stands for their union.
    const auto q = Quad(m);
    const double area = std::fabs(cv::contourArea(q));
    double inside = 0;
    for (const auto& b : big) inside += Overlap(b, q);
    if (!(area > 0 && inside > 0.5 * area)) out.push_back(std::move(m));
  }
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

std::vector<Word> MergeLarge(std::vector<Word> main, const std::vector<float>& mainHeights, float largeFrom,
                             const std::vector<Word>& large) {
  std::vector<std::vector<cv::Point2f>> quads;
  for (const Word& m : main) quads.push_back(Quad(m));
  std::vector<Word> kept;
  for (const Word& l : large) {
    const auto b = Quad(l);
    bool good = false;
    for (size_t i = 0; i < main.size() && !good; i++) {
      good = !(i < mainHeights.size() && mainHeights[i] > largeFrom) && Covers(b, quads[i]);
    }
    if (!good) kept.push_back(l);
  }
  return ReplaceCovered(std::move(main), kept);
}

ScalePlan PlanScales(std::vector<float> heights, double fixed, double maxScale, const ScaleConstants& model) {
  ScalePlan plan;
  plan.main = fixed;
  heights.erase(std::remove_if(heights.begin(), heights.end(), [](float h) { return !(h > 0.f); }), heights.end());
  if (heights.empty()) return plan;
  std::sort(heights.begin(), heights.end());
  // The page's text size needs a few words; a word too large for the main scale is judged alone (a page may be one
  // headline: at 4x, a two-word page whose words the fixed scale cannot see whole).
  if (heights.size() >= static_cast<size_t>(kProbeMinWords)) {
    const float small = Percentile(heights, 0.25), typical = Percentile(heights, 0.5);
    if (small * fixed < model.goodLow) plan.main = std::min<double>(maxScale, model.targetHeight / small);
    // Too large (the median word over kGoodHigh): the scale comes down until the median word is at kTargetHeight, but
    // not below what keeps the small text (the 25th percentile) in the good range; the bulk of the words then sits in
    // the best bins. Judging and placing the small quarter instead kept most words well above the range (at 4x: on
    // ICDAR 2013 pages twice the scale the fixed pass uses at 1x, and worse; FUNSD pages whose small text sat just
    // inside the range stayed at the fixed scale in 30 tiles).
    else if (typical * fixed > model.goodHigh) {
      const double down = std::max<double>(model.targetHeight / typical, model.goodLow / small);
      plan.main = std::min<double>(maxScale, down);
    }
  }
  // Words the main scale makes too tall: a second pass for them, however few (a headline may be one word). Their
  // scale is always below main x targetHeight / goodHigh (< main / 2 with the defaults), so the pass is never a near-copy
  // of the main.
  const float largeFrom = static_cast<float>(model.goodHigh / plan.main);
  std::vector<float> large;
  for (float h : heights) if (h > largeFrom) large.push_back(h);
  if (!large.empty()) {
    plan.second = model.targetHeight / Percentile(large, 0.5);
    plan.largeFrom = largeFrom;
  }
  return plan;
}

double PlanUpscale(std::vector<float> heights, double main, double maxScale, const ScaleConstants& model) {
  heights.erase(std::remove_if(heights.begin(), heights.end(), [](float h) { return !(h > 0.f); }), heights.end());
  if (heights.size() < static_cast<size_t>(kProbeMinWords)) return 0;
  std::sort(heights.begin(), heights.end());
  const float small = Percentile(heights, 0.25);
  if (small * main >= model.goodLow) return 0;
  const double up = std::min({static_cast<double>(model.targetHeight / small), kMaxUpscale * main, maxScale});
  return up > main * 1.25 ? up : 0;
}

}  // namespace craft
