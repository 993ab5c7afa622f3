// The stretch retry: a low-confidence word is read again resized wider than its aspect ratio says, so that a CTC
// recogniser has more frames per character. docs/recognition.md#crops
#pragma once

#include <vector>

namespace craft {

// How much wider a retried word is read: a CRNN emits one frame per 4 input columns, and a condensed word (tall narrow
// letters, `SUSHI` on a sign) at height 32 can have fewer frames than CTC needs (one per character and a blank between
// repeated letters), so characters are dropped; 1.5x and 2x give it the frames of an ordinary font.
const std::vector<double>& StretchRetryFactors();

// The width a strip w x h is resized to at height imgH, keeping its aspect ratio times `stretch` (DTRB's
// AlignCollate(keep_ratio_with_pad) for stretch 1: ceil(imgH * (w / h))), at least 1 and at most maxWidth.
int StretchedWidth(int w, int h, int imgH, int maxWidth, double stretch = 1.0);

}  // namespace craft
