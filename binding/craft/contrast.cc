#include "contrast.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "error.h"
#include "pil_resize.h"

namespace craft {

namespace {

// numpy.percentile(levels, q) (method 'linear'): the value at rank q/100 * (n - 1) of the sorted levels,
// interpolated between its two neighbours; the levels given as a histogram.
double Percentile(const std::array<uint64_t, 256>& hist, uint64_t n, double q) {
  const double rank = q / 100.0 * static_cast<double>(n - 1);
  const uint64_t lo = static_cast<uint64_t>(std::floor(rank));
  const uint64_t hi = std::min(lo + 1, n - 1);
  auto at = [&](uint64_t k) {  // the k-th smallest level (0-based)
    uint64_t seen = 0;
    for (int v = 0; v < 256; v++) {
      seen += hist[v];
      if (seen > k) return static_cast<double>(v);
    }
    return 255.0;
  };
  const double a = at(lo), b = at(hi);
  return a + (b - a) * (rank - static_cast<double>(lo));
}

}  // namespace

GreyContrast ContrastGrey(const cv::Mat& grey) {
  if (grey.type() != CV_8UC1) throw Error(ErrorCode::kInternal, "ContrastGrey needs an 8-bit grey image");
  GreyContrast c;
  if (grey.empty()) return c;
  std::array<uint64_t, 256> hist{};
  for (int y = 0; y < grey.rows; y++) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    for (int x = 0; x < grey.cols; x++) hist[row[x]]++;
  }
  const uint64_t n = static_cast<uint64_t>(grey.total());
  c.high = Percentile(hist, n, 90);
  c.low = Percentile(hist, n, 10);
  c.contrast = (c.high - c.low) / std::max(10.0, c.high + c.low);
  return c;
}

bool AdjustContrastGrey(cv::Mat& strip, double target) {
  if (strip.depth() != CV_8U || (strip.channels() != 1 && strip.channels() != 3)) {
    throw Error(ErrorCode::kInternal, "AdjustContrastGrey needs an 8-bit 1- or 3-channel image");
  }
  if (strip.empty()) return false;
  const GreyContrast c = ContrastGrey(strip.channels() == 1 ? strip : PilGrey(strip));
  if (!(c.contrast < target)) return false;
  const double ratio = 200.0 / std::max(10.0, c.high - c.low);
  cv::Mat lut(1, 256, CV_8UC1);
  for (int v = 0; v < 256; v++) {
    const double s = (v - c.low + 25) * ratio;
    lut.at<uint8_t>(v) = static_cast<uint8_t>(std::clamp(s, 0.0, 255.0));  // numpy's astype(uint8) truncates
  }
  cv::Mat out;
  cv::LUT(strip, lut, out);
  strip = out;
  return true;
}

}  // namespace craft
