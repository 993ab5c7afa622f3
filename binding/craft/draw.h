// Pictures of what the detector found: outlines drawn on the image, colour-mapped heatmaps, image encoding.
// Plain C++ (no napi.h); binding/render.cc exposes it to JS.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace craft {

// One outline: a box or a polygon, in image pixels (sub-pixel positions are kept: anti-aliased drawing).
struct Stroke {
  std::vector<cv::Point2f> points;
  cv::Scalar rgb{255, 0, 0};  // colour, RGB order
  int thickness = 0;          // 0 = automatic: grows with the image size (1 px up to 500 px, 2 up to 1000, ...)
  bool closed = true;
};

// A short text (legend, index, score) drawn on a filled background for legibility; `at` is its top-left corner.
struct Label {
  std::string text;
  cv::Point2f at;
  cv::Scalar rgb{255, 255, 255};
  cv::Scalar backgroundRgb{0, 0, 0};
  float height = 0;  // text height in pixels (cv::putText scaled to it, e.g. a word's own height); 0 = automatic
};

// Default stroke width for an image of this size.
int AutoThickness(int width, int height);

// A piece of a caption row (text in a colour); `Label::at` and the background are not used in captions.
using CaptionRow = std::vector<Label>;

// Draws the strokes, then the labels, on a copy of an 8-bit RGB image; returns the copy as BGR (ready to encode).
// With caption rows, a dark band holding them (one row per line, pieces side by side, text scaled to fit the width)
// is added above the image: the picture is then taller than the image and the drawing is shifted down by the band.
cv::Mat DrawOverlay(const cv::Mat& rgb, const std::vector<Stroke>& strokes, const std::vector<Label>& labels,
                    const std::vector<CaptionRow>& caption = {});

// CRAFT-pytorch's picture of the maps (test.py: cvt2HeatmapImg(np.hstack((score_text, score_link)))): the region
// map on the left, the affinity map on the right, each clipped to [0, 1], scaled by 255 and truncated to 8 bits,
// then colour-mapped with COLORMAP_JET. Returns a BGR image of (2 * width) x height. NaN counts as 0.
cv::Mat HeatmapImage(const float* region, const float* affinity, int width, int height);

// Encodes a BGR (or grey) 8-bit image. format: png, jpg/jpeg, webp, bmp, tif/tiff (case-insensitive).
// Throws Error(kInvalidInput) for another format, Error(kInternal) when OpenCV fails.
std::vector<uint8_t> EncodeImage(const cv::Mat& bgr, const std::string& format);

}  // namespace craft
