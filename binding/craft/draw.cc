#include "craft/draw.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "craft/error.h"

namespace craft {

namespace {

constexpr int kShift = 4;  // fractional bits of the polyline coordinates (sub-pixel, anti-aliased outlines)

cv::Scalar Bgr(const cv::Scalar& rgb) { return cv::Scalar(rgb[2], rgb[1], rgb[0]); }

// Clip to [0, 1], * 255, truncate: numpy's (np.clip(img, 0, 1) * 255).astype(np.uint8).
inline uint8_t ToByte(float v) {
  if (!(v > 0.f)) return 0;  // also NaN
  if (v >= 1.f) return 255;
  return static_cast<uint8_t>(v * 255.f);
}

// A dark band above the image with one text row per caption row; the text is scaled so the widest row fits.
cv::Mat AddCaption(const cv::Mat& bgr, const std::vector<CaptionRow>& rows) {
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const int gap = 12;  // pixels (at scale 1) between the pieces of a row
  double widest = 1;
  for (const CaptionRow& row : rows) {
    double w = 0;
    for (const Label& l : row) w += cv::getTextSize(l.text, font, 1.0, 1, nullptr).width + gap;
    widest = std::max(widest, w);
  }
  const double scale = std::clamp((bgr.cols - 8) / widest, 0.3, std::max(0.5, bgr.cols / 1600.0));
  const int thickness = scale > 0.8 ? 2 : 1;
  int baseline = 0;
  const int lineHeight = cv::getTextSize("Ag", font, scale, thickness, &baseline).height + baseline + 6;
  const int band = lineHeight * static_cast<int>(rows.size()) + 4;
  cv::Mat out(bgr.rows + band, bgr.cols, bgr.type(), cv::Scalar(30, 30, 30));
  bgr.copyTo(out(cv::Rect(0, band, bgr.cols, bgr.rows)));
  for (size_t r = 0; r < rows.size(); r++) {
    int x = 4;
    const int y = 2 + static_cast<int>(r + 1) * lineHeight - baseline - 3;
    for (const Label& l : rows[r]) {
      cv::putText(out, l.text, cv::Point(x, y), font, scale, Bgr(l.rgb), thickness, cv::LINE_AA);
      x += cv::getTextSize(l.text, font, scale, thickness, nullptr).width + static_cast<int>(gap * scale);
    }
  }
  return out;
}

}  // namespace

int AutoThickness(int width, int height) {
  const int longSide = std::max(width, height);
  return std::max(1, (longSide + 499) / 500);
}

cv::Mat DrawOverlay(const cv::Mat& rgb, const std::vector<Stroke>& strokes, const std::vector<Label>& labels,
                    const std::vector<CaptionRow>& caption) {
  if (rgb.empty() || rgb.type() != CV_8UC3) throw Error(ErrorCode::kInvalidInput, "DrawOverlay expects an 8-bit RGB image");
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  const int autoThickness = AutoThickness(bgr.cols, bgr.rows);
  const float scale = static_cast<float>(1 << kShift);
  // Coordinates far outside the image would overflow the fixed-point arithmetic: clamp to a generous margin.
  const float limit = static_cast<float>(std::max(bgr.cols, bgr.rows)) * 4.f + 1024.f;
  std::vector<cv::Point> pts;
  for (const Stroke& s : strokes) {
    if (s.points.empty()) continue;
    pts.clear();
    for (const cv::Point2f& p : s.points) {
      const float x = std::isfinite(p.x) ? std::clamp(p.x, -limit, limit) : 0.f;
      const float y = std::isfinite(p.y) ? std::clamp(p.y, -limit, limit) : 0.f;
      pts.emplace_back(static_cast<int>(std::lround(x * scale)), static_cast<int>(std::lround(y * scale)));
    }
    const int thickness = s.thickness > 0 ? s.thickness : autoThickness;
    if (pts.size() == 1) {
      cv::circle(bgr, pts[0], thickness << kShift, Bgr(s.rgb), cv::FILLED, cv::LINE_AA, kShift);
      continue;
    }
    const cv::Point* data = pts.data();
    const int n = static_cast<int>(pts.size());
    cv::polylines(bgr, &data, &n, 1, s.closed, Bgr(s.rgb), thickness, cv::LINE_AA, kShift);
  }
  const double fontScale = std::max(0.4, std::max(bgr.cols, bgr.rows) / 1600.0);
  const int fontThickness = std::max(1, static_cast<int>(std::lround(fontScale * 1.5)));
  for (const Label& l : labels) {
    if (l.text.empty()) continue;
    int baseline = 0;
    double scale = fontScale;
    int thick = fontThickness;
    if (l.height > 0) {  // Hershey fonts: a cap height of about 22 px at scale 1
      scale = std::max(0.25, l.height / 22.0);
      thick = std::max(1, static_cast<int>(std::lround(scale * 1.2)));
    }
    const cv::Size size = cv::getTextSize(l.text, cv::FONT_HERSHEY_SIMPLEX, scale, thick, &baseline);
    const int pad = l.height > 0 ? std::max(1, thick) : std::max(2, fontThickness * 2);
    const int x = static_cast<int>(std::lround(std::isfinite(l.at.x) ? l.at.x : 0.f));
    const int y = static_cast<int>(std::lround(std::isfinite(l.at.y) ? l.at.y : 0.f));
    cv::rectangle(bgr, cv::Rect(x, y, size.width + 2 * pad, size.height + baseline + 2 * pad), Bgr(l.backgroundRgb),
                  cv::FILLED);
    cv::putText(bgr, l.text, cv::Point(x + pad, y + pad + size.height), cv::FONT_HERSHEY_SIMPLEX, scale, Bgr(l.rgb),
                thick, cv::LINE_AA);
  }
  if (caption.empty()) return bgr;
  return AddCaption(bgr, caption);
}

cv::Mat HeatmapImage(const float* region, const float* affinity, int width, int height) {
  if (width <= 0 || height <= 0 || !region || !affinity) throw Error(ErrorCode::kInvalidInput, "empty heatmaps");
  cv::Mat gray(height, 2 * width, CV_8UC1);
  for (int y = 0; y < height; y++) {
    uint8_t* row = gray.ptr<uint8_t>(y);
    const float* r = region + static_cast<size_t>(y) * width;
    const float* a = affinity + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; x++) row[x] = ToByte(r[x]);
    for (int x = 0; x < width; x++) row[width + x] = ToByte(a[x]);
  }
  cv::Mat color;
  cv::applyColorMap(gray, color, cv::COLORMAP_JET);
  return color;
}

std::vector<uint8_t> EncodeImage(const cv::Mat& bgr, const std::string& format) {
  std::string f = format;
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!f.empty() && f[0] == '.') f.erase(0, 1);
  std::vector<int> params;
  if (f == "jpg" || f == "jpeg") {
    f = "jpg";
    params = {cv::IMWRITE_JPEG_QUALITY, 92};
  } else if (f == "png") {
    params = {cv::IMWRITE_PNG_COMPRESSION, 3};
  } else if (f == "webp") {
    params = {cv::IMWRITE_WEBP_QUALITY, 90};
  } else if (f == "tif" || f == "tiff") {
    f = "tiff";
  } else if (f != "bmp") {
    throw Error(ErrorCode::kInvalidInput, "unsupported image format '" + format + "' (png, jpg, webp, bmp, tiff)");
  }
  std::vector<uint8_t> out;
  if (!cv::imencode("." + f, bgr, out, params)) throw Error(ErrorCode::kInternal, "could not encode the image as " + f);
  return out;
}

}  // namespace craft
