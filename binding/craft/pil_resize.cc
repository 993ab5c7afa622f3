#include "pil_resize.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "error.h"

namespace craft {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Resample.c PRECISION_BITS

// Resample.c bicubic_filter (a = -0.5), support 2.
double BicubicFilter(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output pixel: xmin, count
  std::vector<int32_t> kk;  // per output pixel: ksize fixed-point coefficients
};

// Resample.c precompute_coeffs (box [0, inSize]) followed by normalize_coeffs_8bpc.
Coeffs PrecomputeCoeffs(int inSize, int outSize) {
  const double support_base = 2.0;
  double scale = static_cast<double>(inSize) / outSize;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = support_base * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(outSize) * 2);
  std::vector<double> kk(static_cast<size_t>(outSize) * c.ksize, 0.0);
  for (int xx = 0; xx < outSize; xx++) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);  // C truncation toward zero, as in Pillow
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    double* k = &kk[static_cast<size_t>(xx) * c.ksize];
    double ww = 0.0;
    for (int x = 0; x < xmax; x++) {
      const double w = BicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; x++) {
      if (ww != 0.0) k[x] /= ww;
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  c.kk.resize(kk.size());
  for (size_t i = 0; i < kk.size(); i++) {
    c.kk[i] = kk[i] < 0 ? static_cast<int32_t>(-0.5 + kk[i] * (1 << kPrecisionBits))
                        : static_cast<int32_t>(0.5 + kk[i] * (1 << kPrecisionBits));
  }
  return c;
}

inline uint8_t Clip8(int32_t in) {
  const int32_t v = in >> kPrecisionBits;  // arithmetic shift, as Pillow's clip8 lookup
  return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v);
}

// Rows [y0, y0 + out.rows) of `in` resampled horizontally into `out`.
void ResampleHorizontal(const cv::Mat& in, cv::Mat& out, int y0, const Coeffs& c) {
  const int cn = in.channels();
  for (int yy = 0; yy < out.rows; yy++) {
    const uint8_t* src = in.ptr<uint8_t>(yy + y0);
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int xx = 0; xx < out.cols; xx++) {
      const int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1];
      const int32_t* k = &c.kk[static_cast<size_t>(xx) * c.ksize];
      for (int ch = 0; ch < cn; ch++) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < xmax; x++) ss += src[(x + xmin) * cn + ch] * k[x];
        dst[xx * cn + ch] = Clip8(ss);
      }
    }
  }
}

void ResampleVertical(const cv::Mat& in, cv::Mat& out, const Coeffs& c, int shift) {
  const int cn = in.channels();
  const int row = out.cols * cn;
  for (int yy = 0; yy < out.rows; yy++) {
    const int ymin = c.bounds[yy * 2] - shift, ymax = c.bounds[yy * 2 + 1];
    const int32_t* k = &c.kk[static_cast<size_t>(yy) * c.ksize];
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int i = 0; i < row; i++) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < ymax; y++) ss += in.ptr<uint8_t>(y + ymin)[i] * k[y];
      dst[i] = Clip8(ss);
    }
  }
}

}  // namespace

cv::Mat PilGrey(const cv::Mat& rgb) {
  if (rgb.type() == CV_8UC1) return rgb.clone();
  if (rgb.type() != CV_8UC3) throw Error(ErrorCode::kInternal, "PilGrey needs 8-bit RGB");
  cv::Mat out(rgb.rows, rgb.cols, CV_8UC1);
  for (int y = 0; y < rgb.rows; y++) {
    const uint8_t* s = rgb.ptr<uint8_t>(y);
    uint8_t* d = out.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; x++) {
      d[x] = static_cast<uint8_t>((s[3 * x] * 19595 + s[3 * x + 1] * 38470 + s[3 * x + 2] * 7471 + 0x8000) >> 16);
    }
  }
  return out;
}

cv::Mat PilResizeBicubic(const cv::Mat& src, int outW, int outH) {
  if (src.depth() != CV_8U || (src.channels() != 1 && src.channels() != 3) || src.empty() || outW <= 0 || outH <= 0) {
    throw Error(ErrorCode::kInternal, "PilResizeBicubic needs a non-empty 8-bit 1- or 3-channel image");
  }
  const bool need_h = outW != src.cols;
  const bool need_v = outH != src.rows;
  if (!need_h && !need_v) return src.clone();
  const Coeffs cv_ = PrecomputeCoeffs(src.rows, outH);
  cv::Mat cur = src;
  int shift = 0;
  if (need_h) {
    const Coeffs ch = PrecomputeCoeffs(src.cols, outW);
    // Only the rows the vertical pass reads (ImagingResampleInner's ybox_first / ybox_last).
    int first = 0, last = src.rows;
    if (need_v) {
      first = cv_.bounds[0];
      last = cv_.bounds[(outH - 1) * 2] + cv_.bounds[(outH - 1) * 2 + 1];
    }
    cv::Mat tmp(last - first, outW, src.type());
    ResampleHorizontal(src, tmp, first, ch);
    cur = tmp;
    shift = first;
  }
  if (!need_v) return cur;
  cv::Mat out(outH, cur.cols, src.type());
  ResampleVertical(cur, out, cv_, shift);
  return out;
}

}  // namespace craft
