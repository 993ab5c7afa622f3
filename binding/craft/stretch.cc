#include "stretch.h"

#include <algorithm>
#include <cmath>

namespace craft {

const std::vector<double>& StretchRetryFactors() {
  static const std::vector<double> factors{1.5, 2.0};
  return factors;
}

int StretchedWidth(int w, int h, int imgH, int maxWidth, double stretch) {
  // imgH * ratio as DTRB computes it (ratio = w / float(h)), so that stretch 1 rounds as the reference does.
  const double ratio = static_cast<double>(w) / h;
  const double want = std::ceil(imgH * ratio * stretch);
  return std::max(1, want > maxWidth ? maxWidth : static_cast<int>(want));
}

}  // namespace craft
