// Text recognition: a recogniser model in craft-text's contract (docs/recognition.md), word crops, batched inference
// and decoding. Stages: Plan (geometry only, after the image is loaded) -> Run (crop, resize, normalise, infer by
// padded-width batch, decode, retry low-confidence words rotated, at other crop margins, along their ink's line, with
// their contrast stretched, read wider).
#pragma once

#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "crop.h"
#include "label_converter.h"
#include "pipeline.h"
#include "session.h"

namespace craft {

enum class ResizeKind { kSquash, kPad };

// The model contract, read from the ONNX metadata (craft.recognizer.*) and checked against the graph at load.
struct RecognizerConfig {
  std::string name;
  std::vector<std::string> charset;  // UTF-8 characters in class order (without blank / [GO] / [s])
  DecoderKind decoder = DecoderKind::kCtc;
  int imgH = 32;
  int imgW = 100;          // fixed width, or the widest input of a dynamic-width model
  bool dynamicWidth = false;
  int channels = 1;        // 1 = PIL 'L', 3 = RGB
  ResizeKind resize = ResizeKind::kSquash;
  float mean = 0.5f, std = 0.5f;
  ConfidenceKind confidence = ConfidenceKind::kDtrb;
  int batchMaxLength = 25;
  // Default crop margin (craft.recognizer.margin, a fraction of the text height added on every side of a region):
  // what the model saw around words in training; 0 (absent) = crops cut at the box, as DTRB / EasyOCR's demos do.
  double margin = 0;
  int numClasses() const { return static_cast<int>(charset.size()) + (decoder == DecoderKind::kCtc ? 1 : 2); }
};

// Parses and validates the contract's metadata; throws kModelLoad naming the key and what is wrong.
RecognizerConfig ParseRecognizerConfig(const std::map<std::string, std::string>& metadata, const std::string& model);


struct RecognizeOptions {
  DecodeOptions decode;
  // Classes never read (recognize()'s allowlist / blocklist, EasyOCR's ignore_idx; CTC models, never the blank):
  // every reading of the call, retries included, is decoded and scored from Softmax's masked probabilities.
  std::vector<int> ignoredClasses;
  // A word whose confidence is below this is read again rotated 180 degrees (a vertical one also unrotated and
  // turned the other way) and the most confident reading is kept. 0: never.
  float rotationRetryThreshold = 0.1f;
  // A word (of a call with regions and a crop margin m > 0) whose kept reading is still below this is read again cut
  // at margin 0 (the box as given; with inkCrop, the ink) and at twice the margin (MarginRetryMargins; with inkCrop,
  // the ink + twice the margin's share of its height), at the kept reading's rotation, and
  // the most confident reading is kept: a box may already be loose (hand-drawn ground truth) or tighter than the
  // model's training crops. 0: never (the default: with the 192-wide bundled model both retries put a dense page's
  // recognition at the speed rule's limit, 0.99x of detection, and end to end the margin retry measured nothing).
  float marginRetryThreshold = 0.f;
  // A word (with a 4-point region or none) whose kept reading is still below this (after the other retries) is cut
  // again along its ink's text line (PlanLineCrop: a word cut as the axis-aligned box of a rotated, oblique or
  // vertical word), read both ways along it, and the most confident reading is kept; not when the line is within
  // kOrientationTolerance of the direction the strip was read in (NewOrientation). 0: never.
  float orientationRetryThreshold = 0.2f;
  // Vertical crops (taller than verticalRatio x their width) are read turned a quarter each way whatever the first
  // reading's confidence (the 180-degree retry then leaves them be), unturned (upright: a tall character, a condensed
  // word) at UprightStretches() times their width, and, when their ink is a stack of upright letters (IsGlyphStack),
  // laid out side by side as a line (LayOutGlyphs); the reading most confident per character (PerCharacterConfidence;
  // never an empty one) is kept. false: turned clockwise, and the 180-degree retry's other quarter turn and unturned
  // reading (as wide as it is) below rotationRetryThreshold.
  bool verticalRetry = true;
  // A word whose kept reading is still below this (after the other retries) is read again from the same crop with its
  // grey levels stretched (AdjustContrastGrey: EasyOCR's contrast_ths / adjust_contrast; only a crop whose contrast
  // is under kAdjustContrastTarget), and the more confident reading is kept. 0: never.
  float contrastRetryThreshold = 0.f;
  // A word whose kept reading is still below this (after the other retries) is read again from the same crop resized
  // StretchRetryFactors() times wider (a CTC model's frames per character: a condensed word's characters are dropped),
  // and the most confident reading is kept. Only for CTC models that keep the aspect ratio (`pad`); a stretch capped
  // at imgW to the kept reading's width is not run. 0: never.
  float stretchRetryThreshold = 0.2f;
  float verticalRatio = 1.5f;  // a strip taller than this times its width is read after a quarter turn
  double margin = -1;          // crop margin (PlanCrop) in [0, 1]; outside it (-1): the model's config().margin
  // Fit each region's crop to its ink (PlanInkCrop: the ink's extent plus the margin, never looser than the margin
  // alone): a loose box is cut as the model's training crops were. The margin retry's crops too, fitted to the ink
  // found for the first read (at retry margin 0: the ink itself).
  bool inkCrop = true;
  int maxBatch = 32;           // crops per inference run (same padded width)
  bool logits = false;         // keep each word's raw model output (T x K, before softmax)
  uint64_t maxPixels = 268402689ull;
};

// One word's reading.
struct WordText {
  std::string text;
  double confidence = 0;
  std::vector<float> characters;  // with characterProbabilities
  std::vector<float> logits;      // with RecognizeOptions::logits: the chosen reading's T x K model output
  int rotation = 0;               // degrees clockwise the strip was turned before reading (0, 90, 180, 270; any whole
                                  // degree for a reading along the ink's line: the orientation retry)
  std::string skipped;            // "" or why the region was not read ("degenerate", "outside")
};

struct RecognizeTimings {
  double decode = 0, preprocess = 0, inference = 0, postprocess = 0;  // ms: image decode, crop+resize, runs, decode
};

// An image loaded and its regions planned: the recogniser's "prepared" stage.
struct PreparedRegions {
  cv::Mat image;  // 8-bit RGB (shared with a DecodedImage when given one)
  std::vector<CropPlan> plans;
  // With a margin retry: the regions planned at each retry margin (MarginRetryMargins), parallel to `plans`.
  std::vector<std::vector<CropPlan>> retryPlans;
  double margin = 0;  // the call's crop margin: RecognizeOptions::margin, or the model's when that is outside [0, 1]
  RecognizeTimings timings;
};

// The margins a low-confidence word is read again at, for a crop margin m > 0: 0 (the box as given) and 2m (at most
// 1), the two ends of a range centred on the model's; none for m = 0.
std::vector<double> MarginRetryMargins(double margin);

struct RecognizeResult {
  int width = 0, height = 0;
  std::vector<WordText> words;
  RecognizeTimings timings;
  int runs = 0;  // inference runs
};

// One recognize() call's share of a merged run (Recognizer::RunMany): its image, planned regions and options.
struct RecognizeJob {
  const PreparedRegions* prepared;
  const RecognizeOptions* options;
};

// What RunMany gives a job: its result, or why it failed (its crops could not be cut or pre-processed: one call's bad
// input does not fail the calls it shares runs with).
struct JobResult {
  RecognizeResult result;
  std::exception_ptr error;
};

class RecognizerSession : public OrtModel {
 public:
  explicit RecognizerSession(const SessionOptions& options);
  const RecognizerConfig& config() const { return config_; }
  // input [n, C, imgH, w] -> logits [n, T, K] (copied into `out`); returns T.
  int Run(const float* input, int n, int w, std::vector<float>& out, RunControl* control) const;

 private:
  RecognizerConfig config_;
};

class Recognizer {
 public:
  explicit Recognizer(const SessionOptions& options);

  // Loads the image and plans each region (no regions = the whole image as one line). Thread-safe.
  PreparedRegions Prepare(const ImageInput& input, const std::vector<Region>& regions, bool wholeImage,
                          const RecognizeOptions& options) const;
  // Crops, runs and decodes every planned region. Thread-safe.
  RecognizeResult Run(const PreparedRegions& prepared, const RecognizeOptions& options, RunControl* control) const;
  // Run() of several calls at once: their crops share the inference runs (grouped by padded width, up to the
  // smallest maxBatch per run), each call keeps its own options (decoding, retries, logits) and gets exactly the
  // readings it would get alone. A run failure (inference, abort) throws for all; a crop failure fails its job only.
  std::vector<JobResult> RunMany(const std::vector<RecognizeJob>& jobs, RunControl* control) const;

  // The input geometry of a strip: the width it is resized to (`stretch` times wider than its aspect ratio says, `pad`
  // only: StretchedWidth) and the width it is padded to (its batch key).
  void StripWidths(int stripWidth, int stripHeight, int* resized, int* padded, double stretch = 1.0) const;
  // Pre-processing of one strip into `out` (C x imgH x padded floats): grey or RGB, PIL bicubic resize, normalise,
  // pad by repeating the last column.
  void Preprocess(const cv::Mat& strip, int resized, int padded, float* out) const;

  const ModelInfo& info() const { return session_.info(); }
  const RecognizerConfig& config() const { return session_.config(); }
  RunStats runStats() const { return session_.runStats(); }

 private:
  RecognizerSession session_;
  int lanes_ = 1;  // batches of a pass run at once (SessionOptions::runLanes)
};

}  // namespace craft
