// EasyOCR's contrast retry (utils.contrast_grey / adjust_contrast_grey): a low-confidence word is read again with its
// grey levels stretched so that its 10th-90th percentile range spans most of 0..255. docs/recognition.md#crops
#pragma once

#include <opencv2/core.hpp>

namespace craft {

// EasyOCR's readtext default `adjust_contrast`: a crop whose contrast is already at least this is left as it is.
constexpr double kAdjustContrastTarget = 0.5;

// contrast_grey: the 90th and 10th percentiles of a grey strip's levels (numpy's linear interpolation between ranks)
// and their contrast (high - low) / max(10, high + low).
struct GreyContrast {
  double contrast = 0, high = 0, low = 0;
};
GreyContrast ContrastGrey(const cv::Mat& grey);

// adjust_contrast_grey: when the strip's contrast (of its grey levels, PIL's `L`) is under `target`, every level v
// (of each channel of an RGB strip alike) becomes clip((v - low + 25) * 200 / max(10, high - low), 0, 255), truncated
// to 8 bits, and true is returned; otherwise the strip is left untouched and false is returned (the re-read would
// read the same pixels). 8-bit, 1 or 3 channels.
bool AdjustContrastGrey(cv::Mat& strip, double target = kAdjustContrastTarget);

}  // namespace craft
