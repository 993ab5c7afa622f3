// Numbers in a model's ONNX metadata: one reading for every key, header-only so the native tests' small libraries
// (test/native/CMakeLists.txt) take it without the session code.
#pragma once

#include <cmath>
#include <cstdlib>
#include <string>

namespace craft {

// A plain decimal as craft-text's writers emit it (digits, sign, point, exponent; at most 32 characters; finite; no
// hex, inf, nan, white space or trailing text); false when `text` is not one. What a bad value does is the policy of
// the key's reader:
// - a detector's defaults (craft.scale*, craft.detectedToTruth: autoscale.h) are ignored, the bundled default kept:
//   they only tune a model that detects without them (the thresholds, read in JS by lib/options.ts modelDefaults
//   with metadataNumber, this rule, are ignored alike; test/scale-model.test.ts checks both on one model);
// - a recogniser's contract (craft.recognizer.mean, .std, .margin: ParseRecognizerConfig) throws kModelLoad
//   (ERR_CRAFT_MODEL_LOAD) naming the key: a recogniser normalised or cropped unlike its training reads wrong text
//   without any error.
inline bool ParseMetadataNumber(const std::string& text, double& out) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
  }
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace craft
