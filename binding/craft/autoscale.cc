#include "autoscale.h"

#include <algorithm>
#include <cmath>

namespace craft {

namespace {
float Percentile(const std::vector<float>& sorted, double q) {
  const size_t i = static_cast<size_t>(std::floor(q * (sorted.size() - 1) + 0.5));
  return sorted[std::min(i, sorted.size() - 1)];
}
}  // namespace

ScalePlan PlanScales(std::vector<float> heights, double fixed, double maxScale) {
  ScalePlan plan;
  plan.main = fixed;
  heights.erase(std::remove_if(heights.begin(), heights.end(), [](float h) { return !(h > 0.f); }), heights.end());
  if (heights.size() < static_cast<size_t>(kProbeMinWords)) return plan;
  std::sort(heights.begin(), heights.end());
  const float small = Percentile(heights, 0.25);
  const double atFixed = small * fixed;
  if (atFixed < kGoodLow || atFixed > kGoodHigh) plan.main = std::min<double>(maxScale, kTargetHeight / small);
  // Words the main scale makes too tall: a second pass for them, however few (a headline may be one word). Their
  // scale is always below main x kTargetHeight / kGoodHigh (< main / 2), so the pass is never a near-copy of the main.
  const float largeFrom = static_cast<float>(kGoodHigh / plan.main);
  std::vector<float> large;
  for (float h : heights) if (h > largeFrom) large.push_back(h);
  if (!large.empty()) {
    plan.second = kTargetHeight / Percentile(large, 0.5);
    plan.largeFrom = largeFrom;
  }
  return plan;
}

double PlanUpscale(std::vector<float> heights, double main, double maxScale) {
  heights.erase(std::remove_if(heights.begin(), heights.end(), [](float h) { return !(h > 0.f); }), heights.end());
  if (heights.size() < static_cast<size_t>(kProbeMinWords)) return 0;
  std::sort(heights.begin(), heights.end());
  const float small = Percentile(heights, 0.25);
  if (small * main >= kGoodLow) return 0;
  const double up = std::min({static_cast<double>(kTargetHeight / small), kMaxUpscale * main, maxScale});
  return up > main * 1.25 ? up : 0;
}

}  // namespace craft
