#include "vertical.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace craft {

std::vector<cv::Rect> FindGlyphSlots(const cv::Mat& ink) {
  std::vector<cv::Rect> slots;
  if (ink.empty()) return slots;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  std::vector<cv::Rect> parts;
  int largest = 0;
  for (int k = 1; k < n; k++) {  // 0 is the background
    const cv::Rect r(stats.at<int>(k, cv::CC_STAT_LEFT), stats.at<int>(k, cv::CC_STAT_TOP),
                     stats.at<int>(k, cv::CC_STAT_WIDTH), stats.at<int>(k, cv::CC_STAT_HEIGHT));
    parts.push_back(r);
    largest = std::max(largest, std::max(r.width, r.height));
  }
  // Dots and specks (an i's dot is about a fifth of the letter's height) do not make a glyph of their own.
  parts.erase(std::remove_if(parts.begin(), parts.end(),
                             [&](const cv::Rect& r) { return 5 * std::max(r.width, r.height) < largest; }),
              parts.end());
  std::sort(parts.begin(), parts.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.y < b.y; });
  for (const cv::Rect& r : parts) {
    // Parts whose rows overlap are one glyph (a broken stroke, a glyph of two parts side by side).
    if (!slots.empty() && r.y < slots.back().y + slots.back().height) {
      slots.back() |= r;
    } else {
      slots.push_back(r);
    }
  }
  return slots;
}

bool IsGlyphStack(const std::vector<cv::Rect>& slots, int maxGlyphs) {
  // More parts than one character has (':' is two dots of a width, '=' two bars): a stack of two is left to the
  // quarter turns and the unturned reading.
  if (slots.size() <= kMaxCharacterParts || static_cast<int>(slots.size()) > maxGlyphs) return false;
  std::vector<int> widths, heights;
  for (const cv::Rect& r : slots) widths.push_back(r.width), heights.push_back(r.height);
  std::nth_element(widths.begin(), widths.begin() + widths.size() / 2, widths.end());
  std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
  const double w = widths[widths.size() / 2], h = heights[heights.size() / 2];
  for (const cv::Rect& r : slots) {
    const bool similar = r.width >= 0.5 * w && r.width <= 2 * w;
    const bool stroke = r.height >= 2 * r.width && r.height >= 0.5 * h && r.height <= 2 * h;
    if (!similar && !stroke) return false;
  }
  return true;
}

const std::vector<double>& UprightStretches() {
  static const std::vector<double> stretches{1.0, 2.0, 3.0};
  return stretches;
}

double PerCharacterConfidence(double confidence, const std::string& text) {
  size_t n = 0;
  for (unsigned char ch : text) n += (ch & 0xC0) != 0x80;  // UTF-8 lead bytes
  return n <= 1 ? confidence : std::pow(confidence, 1.0 / static_cast<double>(n));
}

cv::Mat LayOutGlyphs(const cv::Mat& strip, const cv::Mat& ink, const std::vector<cv::Rect>& slots, double margin) {
  int h = 0, w = 0;
  for (const cv::Rect& r : slots) h = std::max(h, r.height), w += r.width;
  if (slots.empty() || h <= 0) return cv::Mat();
  const int gap = std::max(1, static_cast<int>(std::lround(kStackGap * h)));
  const int m = std::max(1, static_cast<int>(std::lround(margin * h)));
  const cv::Scalar paper = ink.empty() ? cv::mean(strip) : cv::mean(strip, ~ink);
  cv::Mat line(h + 2 * m, w + gap * static_cast<int>(slots.size() - 1) + 2 * m, strip.type(), paper);
  int x = m;
  for (const cv::Rect& r : slots) {
    strip(r).copyTo(line(cv::Rect(x, m + h - r.height, r.width, r.height)));  // on one baseline
    x += r.width + gap;
  }
  return line;
}

}  // namespace craft
