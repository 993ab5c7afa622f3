// GIF decoding through giflib: Debian's OpenCV 4.6 has no GIF codec, and web images (ICDAR born-digital) use it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

namespace craft {

// First frame of a GIF as 8-bit RGB, composited on the logical screen. Throws kDecode / kInputTooLarge.
cv::Mat DecodeGif(const uint8_t* data, size_t size, uint64_t maxPixels);

}  // namespace craft
