// Pillow's resampling (libImaging/Resample.c, ImagingResample) for BICUBIC, ported for exact parity with recognisers
// whose reference pre-processing is PIL's `img.resize((w, h), Image.BICUBIC)` (DTRB dataset.py, EasyOCR
// AlignCollate), and PIL's `convert('L')`.
#pragma once

#include <opencv2/core.hpp>

namespace craft {

// PIL `Image.convert('L')` of 8-bit RGB: (19595 R + 38470 G + 7471 B + 0x8000) >> 16 (ITU-R 601-2 luma, fixed point).
cv::Mat PilGrey(const cv::Mat& rgb);

// PIL `resize((outW, outH), Image.BICUBIC)` of an 8-bit image with 1 or 3 channels (box = whole image): separable,
// horizontal pass first (over only the rows the vertical pass reads), cubic kernel a = -0.5 whose support grows
// with the scale when shrinking (antialiasing), coefficients normalised and rounded to 22-bit fixed point, each pass
// rounding and clipping to 8 bits. A pass whose size does not change is skipped, as in Pillow.
cv::Mat PilResizeBicubic(const cv::Mat& src, int outW, int outH);

}  // namespace craft
