#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "error.h"
#include "gif.h"

namespace craft {

namespace {

uint32_t Be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t Be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint32_t Le16(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t Le32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }

ImageHeader SniffJpeg(const uint8_t* d, size_t n) {
  ImageHeader h{"jpeg", 0, 0};
  size_t i = 2;
  while (i + 4 <= n) {
    // libjpeg skips garbage between segments ("extraneous bytes before marker"): so must we, or a frame header it
    // would find hides from the pixel-limit check.
    if (d[i] != 0xFF) { i++; continue; }
    uint8_t marker = d[i + 1];
    if (marker == 0xFF) { i++; continue; }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) { i += 2; continue; }
    if (i + 4 > n) break;
    uint32_t len = Be16(d + i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (i + 9 <= n) {
        h.height = Be16(d + i + 5);
        h.width = Be16(d + i + 7);
      }
      return h;
    }
    if (marker == 0xDA || len < 2) return h;
    i += 2 + len;
  }
  return h;
}

ImageHeader SniffTiff(const uint8_t* d, size_t n) {
  ImageHeader h{"tiff", 0, 0};
  const bool le = d[0] == 'I';
  auto u16 = [&](size_t o) { return le ? Le16(d + o) : Be16(d + o); };
  auto u32 = [&](size_t o) { return le ? Le32(d + o) : Be32(d + o); };
  const uint64_t ifd = u32(4);
  if (ifd + 2 > n) return h;
  uint32_t count = u16(ifd);
  // The value of a dimension tag as libtiff reads it (any integer type); -1 if it can't be known here.
  auto value = [&](size_t e, uint32_t type) -> int64_t {
    switch (type) {
      case 1: case 6: return d[e + 8];              // (S)BYTE
      case 3: case 8: return u16(e + 8);            // (S)SHORT
      case 4: case 9: return u32(e + 8);            // (S)LONG
      case 16: case 17: {                           // (S)LONG8: 8 bytes, stored at an offset in classic TIFF
        const uint64_t off = u32(e + 8);
        if (off + 8 > n) return -1;
        const uint64_t hi = le ? u32(off + 4) : u32(off), lo = le ? u32(off) : u32(off + 4);
        return hi != 0 ? INT64_MAX / 4 : static_cast<int64_t>(lo);
      }
      default: return -1;  // libtiff refuses other types for the image size
    }
  };
  for (uint32_t k = 0; k < count; k++) {
    size_t e = ifd + 2 + size_t(k) * 12;
    if (e + 12 > n) break;
    uint32_t tag = u16(e), type = u16(e + 2);
    if (tag != 256 && tag != 257) continue;
    const int64_t v = value(e, type);
    if (v < 0) return {"tiff", 0, 0};
    // A repeated tag: keep the larger value, whichever one the decoder uses.
    int64_t& dim = tag == 256 ? h.width : h.height;
    dim = std::max(dim, v);
  }
  return h;
}

ImageHeader SniffWebp(const uint8_t* d, size_t n) {
  ImageHeader h{"webp", 0, 0};
  if (n < 30) return h;
  if (std::memcmp(d + 12, "VP8 ", 4) == 0) {
    h.width = Le16(d + 26) & 0x3FFF;
    h.height = Le16(d + 28) & 0x3FFF;
  } else if (std::memcmp(d + 12, "VP8L", 4) == 0) {
    uint32_t b = Le32(d + 21);
    h.width = (b & 0x3FFF) + 1;
    h.height = ((b >> 14) & 0x3FFF) + 1;
  } else if (std::memcmp(d + 12, "VP8X", 4) == 0) {
    h.width = 1 + (uint32_t(d[24]) | (uint32_t(d[25]) << 8) | (uint32_t(d[26]) << 16));
    h.height = 1 + (uint32_t(d[27]) | (uint32_t(d[28]) << 8) | (uint32_t(d[29]) << 16));
  }
  return h;
}

cv::Mat ToRgb(const cv::Mat& img) {
  cv::Mat rgb;
  switch (img.channels()) {
    case 1: cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(img, rgb, cv::COLOR_BGRA2RGB); break;
    default: throw Error(ErrorCode::kDecode, "Unsupported number of channels: " + std::to_string(img.channels()));
  }
  return rgb;
}

}  // namespace

void CheckPixels(int64_t width, int64_t height, uint64_t maxPixels) {
  if (maxPixels > 0 && width > 0 && height > 0 && uint64_t(width) * uint64_t(height) > maxPixels) {
    throw Error(ErrorCode::kInputTooLarge, "Input image exceeds pixel limit: " + std::to_string(width) + "x" +
                                               std::to_string(height) + " > maxPixels " + std::to_string(maxPixels));
  }
}

size_t CountJpegScans(const uint8_t* d, size_t n, size_t stopAfter) {
  // libjpeg's marker reader: garbage and entropy-coded data are skipped up to the next 0xFF; 0xFF fill bytes, stuffed
  // zeros (FF 00), restart markers and TEM carry no length; every other marker is a segment with a 16-bit length.
  size_t scans = 0;
  size_t i = 2;
  while (i + 1 < n) {
    if (d[i] != 0xFF) {
      const void* next = std::memchr(d + i, 0xFF, n - i);
      if (next == nullptr) break;
      i = static_cast<const uint8_t*>(next) - d;
      continue;
    }
    const uint8_t marker = d[i + 1];
    if (marker == 0xFF) { i++; continue; }
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
    if (marker == 0xD9) break;  // EOI: libjpeg reads nothing after it
    if (marker == 0xDA && ++scans > stopAfter) break;
    if (i + 4 > n) break;
    const uint32_t len = Be16(d + i + 2);
    if (len < 2) break;
    i += 2 + len;
  }
  return scans;
}

ImageHeader SniffImage(const uint8_t* d, size_t n) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (n >= 24 && std::memcmp(d, kPng, 8) == 0) return {"png", Be32(d + 16), Be32(d + 20)};
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return SniffJpeg(d, n);
  if (n >= 10 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) {
    return {"gif", Le16(d + 6), Le16(d + 8)};
  }
  if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
    if (Le32(d + 14) == 12) return {"bmp", Le16(d + 18), Le16(d + 20)};  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    int32_t w = static_cast<int32_t>(Le32(d + 18)), hgt = static_cast<int32_t>(Le32(d + 22));
    return {"bmp", std::abs(int64_t(w)), std::abs(int64_t(hgt))};
  }
  if (n >= 16 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) return SniffWebp(d, n);
  if (n >= 8 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) ||
                 (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42))) {
    return SniffTiff(d, n);
  }
  return {};
}

cv::Mat DecodeImage(const uint8_t* data, size_t size, uint64_t maxPixels) {
  if (size == 0) throw Error(ErrorCode::kDecode, "Input image is empty");
  ImageHeader header = SniffImage(data, size);
  if (header.format.empty()) {
    throw Error(ErrorCode::kDecode, "Input buffer contains unsupported image format");
  }
  // The decoders allocate the image from the header's size before reading pixels, so every image is checked against
  // maxPixels first. A header whose size can't be read here is one the decoder would refuse too: refuse it now
  // rather than let the decoder allocate from a size this check did not see.
  if (header.width <= 0 || header.height <= 0) {
    throw Error(ErrorCode::kDecode, "Input " + header.format + " image is corrupt: no readable image size in its header");
  }
  CheckPixels(header.width, header.height, maxPixels);
  if (header.format == "jpeg") {
    // libjpeg fills a truncated stream with grey and only warns: treat a missing end-of-image marker as corrupt.
    bool has_eoi = false;
    for (size_t i = size; i-- > 2;) {
      if (data[i - 1] == 0xFF && data[i] == 0xD9) { has_eoi = true; break; }
      if (size - i > 65536) break;  // tolerate trailing bytes, but not megabytes of them
    }
    if (!has_eoi) throw Error(ErrorCode::kDecode, "Input JPEG is truncated (no end-of-image marker)");
    // Every scan of a progressive JPEG is a pass over the whole image, however few bytes it has: thousands of empty
    // scans make a few kilobytes cost seconds to decode (a scan bomb). Count them from the markers first.
    const size_t scans = CountJpegScans(data, size, kMaxJpegScans);
    if (scans > kMaxJpegScans) {
      throw Error(ErrorCode::kDecode, "Input JPEG has more than " + std::to_string(kMaxJpegScans) +
                                          " scans (a decoder work bomb); refused before decoding");
    }
  }
  cv::Mat img;
  if (header.format == "gif") {
    img = DecodeGif(data, size, maxPixels);  // OpenCV 4.6 has no GIF codec
  } else {
    try {
      cv::Mat buf(1, static_cast<int>(std::min<size_t>(size, INT32_MAX)), CV_8UC1, const_cast<uint8_t*>(data));
      img = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::kDecode, std::string("Input image could not be decoded: ") + e.err);
    }
  }
  if (img.empty()) throw Error(ErrorCode::kDecode, "Input " + header.format + " image is corrupt or truncated");
  CheckPixels(img.cols, img.rows, maxPixels);
  if (img.depth() != CV_8U) {
    // 16-bit PNG/TIFF: scale to 8 bits like skimage's loader would before CRAFT sees it.
    cv::Mat eight;
    double scale = img.depth() == CV_16U ? 1.0 / 257.0 : (img.depth() == CV_32F ? 255.0 : 1.0);
    img.convertTo(eight, CV_8U, scale);
    img = eight;
  }
  if (header.format == "gif") return img;  // DecodeGif already returns RGB
  return ToRgb(img);
}

cv::Mat RawToRgb(const uint8_t* data, int width, int height, int channels, bool bgr) {
  cv::Mat src(height, width, CV_8UC(channels), const_cast<uint8_t*>(data));
  if (channels == 3 && !bgr) return src;  // borrowed: the caller keeps the buffer alive for the whole detection
  cv::Mat rgb;
  // BGR(A) is swapped in the one conversion pass RGBA and grey inputs need anyway; the caller's buffer is not touched.
  if (channels == 1) cv::cvtColor(src, rgb, cv::COLOR_GRAY2RGB);
  else if (channels == 3) cv::cvtColor(src, rgb, cv::COLOR_BGR2RGB);
  else if (channels == 4) cv::cvtColor(src, rgb, bgr ? cv::COLOR_BGRA2RGB : cv::COLOR_RGBA2RGB);
  else throw Error(ErrorCode::kInvalidInput, "Raw input must have 1, 3 or 4 channels");
  return rgb;
}

ResizeInfo ComputeResize(int width, int height, int canvasSize, float magRatio) {
  ResizeInfo info;
  // Mirrors imgproc.resize_aspect_ratio (Python floats are doubles: keep the arithmetic in double).
  const double long_side = std::max(width, height);
  double target_size = static_cast<double>(magRatio) * long_side;
  if (target_size > canvasSize) target_size = canvasSize;
  const double ratio = target_size / long_side;
  info.ratio = static_cast<float>(ratio);
  info.resizedHeight = std::max(1, static_cast<int>(height * ratio));
  info.resizedWidth = std::max(1, static_cast<int>(width * ratio));
  info.paddedHeight = (info.resizedHeight + 31) / 32 * 32;
  info.paddedWidth = (info.resizedWidth + 31) / 32 * 32;
  return info;
}

void PreprocessInto(const cv::Mat& rgb, const ResizeInfo& info, float* out) {
  cv::Mat resized;
  if (rgb.cols == info.resizedWidth && rgb.rows == info.resizedHeight) {
    resized = rgb;
  } else {
    cv::resize(rgb, resized, cv::Size(info.resizedWidth, info.resizedHeight), 0, 0, cv::INTER_LINEAR);
  }
  NormalizeInto(resized, 0, 0, info.paddedWidth, info.paddedHeight, out);
}

void NormalizeInto(const cv::Mat& resized, int x0, int y0, int W, int H, float* out) {
  // numpy computes mean*255.0 in double and then stores float32: do the same so the tensor matches bit for bit.
  static const float kMean[3] = {static_cast<float>(0.485 * 255.0), static_cast<float>(0.456 * 255.0),
                                 static_cast<float>(0.406 * 255.0)};
  static const float kStd[3] = {static_cast<float>(0.229 * 255.0), static_cast<float>(0.224 * 255.0),
                                static_cast<float>(0.225 * 255.0)};
  const size_t plane = static_cast<size_t>(W) * H;
  // The part of the window inside the image; the rest is padding (normalised zeros, as in the reference).
  const int cx0 = std::clamp(x0, 0, resized.cols), cx1 = std::clamp(x0 + W, 0, resized.cols);
  const int cy0 = std::clamp(y0, 0, resized.rows), cy1 = std::clamp(y0 + H, 0, resized.rows);
  for (int c = 0; c < 3; c++) {
    // The reference divides by std*255 in float32: keep the division (not a reciprocal multiply) for equality.
    const float mean = kMean[c], stdv = kStd[c];
    const float pad = (0.f - mean) / stdv;
    float* dst = out + c * plane;
    for (int y = 0; y < H; y++) {
      float* d = dst + static_cast<size_t>(y) * W;
      const int Y = y0 + y;
      if (Y < cy0 || Y >= cy1 || cx1 <= cx0) {
        std::fill(d, d + W, pad);
        continue;
      }
      const uint8_t* row = resized.ptr<uint8_t>(Y);
      std::fill(d, d + (cx0 - x0), pad);
      for (int x = cx0; x < cx1; x++) d[x - x0] = (static_cast<float>(row[x * 3 + c]) - mean) / stdv;
      std::fill(d + (cx1 - x0), d + W, pad);
    }
  }
}

}  // namespace craft
