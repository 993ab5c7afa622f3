// The detection pipeline: decode -> resize_aspect_ratio + normalizeMeanVariance -> network -> getDetBoxes ->
// adjustResultCoordinates. Stages are separate functions so a batcher can run several images through one inference.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "autoscale.h"
#include "postprocess.h"
#include "preprocess.h"
#include "session.h"
#include "tiling.h"

namespace craft {

struct DetectOptions {
  float textThreshold = 0.7f;
  float linkThreshold = 0.4f;
  float lowText = 0.4f;
  int canvasSize = 1280;
  float magRatio = 1.5f;
  bool polygons = false;
  bool heatmaps = false;  // return the region/affinity maps
  bool refine = false;    // use the LinkRefiner's link map (implies polygons, as test.py --refine does)
  uint64_t maxPixels = 268402689ull;
  TilingOptions tiling;   // what happens when the image exceeds canvasSize (see tiling.h)
  bool autoScale = false;  // scale 'auto' (autoscale.h); false = CRAFT's canvasSize/magRatio ('fixed')
  bool characters = false; // character boxes per word (characters.h)
};

// Exactly one of: a file path, encoded bytes, raw interleaved pixels, or an image decoded before (DecodedImage: 8-bit
// RGB, shared, never modified; lets detection and recognition of one image decode it once). Pointers are borrowed
// for the call.
struct ImageInput {
  std::shared_ptr<const cv::Mat> image;
  bool imageReleased = false;  // a DecodedImage released before the work ran (LoadImage refuses it)
  std::string path;
  const uint8_t* encoded = nullptr;
  size_t encodedSize = 0;
  const uint8_t* pixels = nullptr;
  size_t pixelsSize = 0;
  int width = 0, height = 0, channels = 0;
  bool bgr = false;  // raw pixels in OpenCV's BGR(A) order (an opencv4nodejs Mat); converted while reading
};

struct Timings {
  double decode = 0, preprocess = 0, inference = 0, postprocess = 0;  // milliseconds
  double autoScale = 0;  // the probe and any second pass of scale 'auto' (run while preparing)
};

// The stage timer of both models' timings (Timings, RecognizeTimings): ms since t0.
using Clock = std::chrono::steady_clock;
inline double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// One network pass over the image: the probe of scale 'auto', the main pass, or the second pass for large text.
struct Pass {
  const char* role = "main";  // "probe" | "main" | "large" | "small" (Detector::RefineScales)
  float scale = 1.f;
  int tiles = 1;
  int words = 0;
};

struct Heatmaps {
  int width = 0, height = 0;
  std::vector<float> region, affinity;  // planar height x width each
};

struct DetectResult {
  int width = 0, height = 0;  // original image size
  std::vector<Word> words;    // original-image coordinates
  float scale = 1.f;          // working (network) size / original size
  bool downscaled = false;    // canvasSize forced the working scale below 1 (the reference's shrink; tiling avoids it)
  int tiles = 1;              // network inputs the image was cut into (1 = untiled)
  std::vector<Pass> passes;   // what ran, in order (one main pass for scale 'fixed')
  bool hasHeatmaps = false;
  Heatmaps heatmaps;
  Timings timings;
};

// An image decoded and pre-processed, ready for inference.
struct PreparedImage {
  int width = 0, height = 0;
  ResizeInfo resize;
  std::vector<float> tensor;  // [3, paddedHeight, paddedWidth]; empty when tiled
  bool downscaled = false;    // canvasSize shrank the image below its original resolution
  // Tiled (larger than the canvas, see tiling.h): no tensor; Infer samples the tiles from `rgb` (owned), runs them
  // and returns the stitched maps as if one input of paddedWidth x paddedHeight (resize) had been run, so a tiled
  // image goes through Infer/Finish like any other, and may share a batch with images of the same padded shape.
  bool tiled = false;
  TilePlan plan;
  cv::Mat rgb;
  Timings timings;
  // scale 'auto': the passes run while preparing (probe, large text) and the large-text words (original pixels),
  // merged into the main pass's words by Finish.
  std::vector<Pass> passes;
  std::vector<Word> largeWords;
  float largeFrom = 0;  // ScalePlan::largeFrom of largeWords (MergeLarge)
  cv::Mat source;   // the decoded image (shared, not copied), kept for an upscaled pass (autoscale.h, PlanUpscale)
  double maxScale = 0;
  bool judgeLarge = false;  // no probe ran: the main pass's words decide about large text too
};

class Detector {
 public:
  explicit Detector(const SessionOptions& options);

  // Runs the whole pipeline on the calling thread. Thread-safe: many threads may call it at once.
  DetectResult Detect(const ImageInput& input, const DetectOptions& options, RunControl* control = nullptr) const;

  // Stages, for callers that batch: Prepare each image, Infer a same-shape batch, Finish each. Prepare and Finish run
  // network passes of their own with scale 'auto' (the probe; large-text and upscaled passes): `control` cancels
  // them (kAborted) like an inference.
  PreparedImage Prepare(const ImageInput& input, const DetectOptions& options, RunControl* control = nullptr) const;
  ModelOutput Infer(const std::vector<const PreparedImage*>& batch, RunControl* control) const;
  DetectResult Finish(const PreparedImage& image, const ModelOutput& output, int index, const DetectOptions& options,
                      RunControl* control = nullptr) const;

  // The model's network runs (session.h, RunGate): every one, the extra passes of scale 'auto' included.
  RunStats runStats() const { return session_.runStats(); }

  const ModelInfo& info() const { return session_.info(); }
  // scale 'auto''s constants in effect: the model's metadata's, else the bundled model's (autoscale.h).
  const ScaleConstants& scaleConstants() const { return scale_; }

 private:
  // Prepare after decoding, at the scale the options give (CRAFT's canvasSize/magRatio).
  PreparedImage PrepareAt(const cv::Mat& rgb, const ImageInput& input, const DetectOptions& options) const;
  // A whole pass (prepare, infer, finish) on a decoded image: its words in original pixels.
  DetectResult RunPass(const cv::Mat& rgb, const DetectOptions& options, RunControl* control) const;
  // scale 'auto''s pass for large text (after a probe, or after a main pass that fitted one canvas): the words of a
  // pass at plan.second whose text height is over plan.largeFrom; appends its Pass.
  std::vector<Word> LargePass(const cv::Mat& rgb, const DetectOptions& options, const ScalePlan& plan,
                              RunControl* control, std::vector<Pass>& passes) const;
  // scale 'auto', after the main pass: another main pass when its words are too small (PlanUpscale) or, without a
  // probe, too large (PlanScales), or a pass for a few large words (autoscale.h).
  void RefineScales(const PreparedImage& image, const DetectOptions& options, DetectResult& result,
                    RunControl* control) const;
  // Runs a tiled image's tiles (batched) and stitches their maps into item `index` of `out`.
  void InferTiled(const PreparedImage& image, RunControl* control, ModelOutput& out, int index) const;

  Session session_;
  ScaleConstants scale_;  // after session_ (read from its metadata)
};

// Decodes (or wraps) the input as 8-bit RGB. Reads files itself so large inputs never pass through JS.
cv::Mat LoadImage(const ImageInput& input, uint64_t maxPixels);

}  // namespace craft
