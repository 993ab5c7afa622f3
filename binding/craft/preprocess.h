// Image decoding and CRAFT's pre-processing (imgproc.resize_aspect_ratio + normalizeMeanVariance).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace craft {

struct ImageHeader {
  std::string format;  // "png", "jpeg", "gif", "bmp", "webp", "tiff" or "" when not recognised
  int64_t width = 0;
  int64_t height = 0;
};

// Reads the dimensions from the header alone, so decompression bombs are refused before any pixel is allocated.
ImageHeader SniffImage(const uint8_t* data, size_t size);

// Throws kInputTooLarge when width x height is over maxPixels (0 = no limit; unknown sizes <= 0 pass).
void CheckPixels(int64_t width, int64_t height, uint64_t maxPixels);

// Decode work limits (docs/robustness.md). A progressive JPEG costs one pass over the image per scan, and scans can be
// nearly empty; libjpeg's standard scripts use 6 (grey) to 10 (colour) scans, encoders that optimise the script a few
// dozen at most. libjpeg-turbo's own scan limit (TJPARAM_SCANLIMIT, djpeg -maxscans) guards against the same bomb.
constexpr size_t kMaxJpegScans = 100;

// Start-of-scan markers in a JPEG stream up to its EOI, found the way libjpeg's marker reader finds them. Stops
// counting once the count exceeds `stopAfter`.
size_t CountJpegScans(const uint8_t* data, size_t size, size_t stopAfter);

// Decodes an encoded image to 8-bit RGB (alpha dropped, grey expanded, as CRAFT's imgproc.loadImage does).
// Throws kDecode for unknown, corrupt or truncated data and for decoder work bombs (JPEGs with more than kMaxJpegScans
// scans), kInputTooLarge above maxPixels (0 = no limit). Multi-image formats give their first image only (GIF frames,
// TIFF pages: OpenCV's imdecode and DecodeGif read the first).
cv::Mat DecodeImage(const uint8_t* data, size_t size, uint64_t maxPixels);

// Wraps raw interleaved pixels (1, 3 or 4 channels, RGB(A) order) as RGB without copying when channels == 3.
cv::Mat RawToRgb(const uint8_t* data, int width, int height, int channels, bool bgr = false);

struct ResizeInfo {
  float ratio = 1.f;     // target_ratio of resize_aspect_ratio: working size / original size
  int resizedWidth = 0;  // size of the resized image before padding
  int resizedHeight = 0;
  int paddedWidth = 0;   // padded to a multiple of 32: the network input size
  int paddedHeight = 0;
};

// resize_aspect_ratio's geometry: long side * magRatio, capped at canvasSize, then padded to a multiple of 32.
ResizeInfo ComputeResize(int width, int height, int canvasSize, float magRatio);

// Bilinear resize of the 8-bit RGB image, zero padding, then (x - mean*255) / (std*255) per channel, written as
// planar CHW into `out` (3 * paddedHeight * paddedWidth floats). Padding is normalised too, as in the reference.
void PreprocessInto(const cv::Mat& rgb, const ResizeInfo& info, float* out);

// The normalisation of PreprocessInto for a W x H window of an already resized 8-bit RGB image, starting at (x0, y0):
// planar CHW floats into `out` (3 * W * H); window pixels outside the image are padding. Tiles use it.
void NormalizeInto(const cv::Mat& resized, int x0, int y0, int W, int H, float* out);

}  // namespace craft
