#include "pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <opencv2/imgproc.hpp>

#include "autoscale.h"
#include "characters.h"
#include "error.h"
#include "file.h"

namespace craft {

namespace {

// Enough for every format's signature and, except for JPEGs with large metadata segments and TIFFs with their
// directory at the end, for the image size too.
constexpr size_t kHeaderBytes = 64 * 1024;

// Reads an image file: its header first, so a file that is no image (or an image over maxPixels) is refused before
// the rest of it is read; a 2 GB file of zeros costs one 64 KB read, not 2 GB of memory.
std::vector<uint8_t> ReadImageFile(const std::string& path, uint64_t maxPixels) {
  RegularFile file(path, ErrorCode::kIo, "Input file");
  std::vector<uint8_t> bytes = file.ReadPrefix(kHeaderBytes);
  if (bytes.empty()) throw Error(ErrorCode::kDecode, "Input file '" + path + "' is empty");
  const ImageHeader header = SniffImage(bytes.data(), bytes.size());
  if (header.format.empty()) {
    throw Error(ErrorCode::kDecode, "Input file '" + path + "' is not in a supported image format");
  }
  CheckPixels(header.width, header.height, maxPixels);
  if (file.size() > bytes.size()) bytes = file.ReadAll();
  return bytes;
}

// The working scale of scale 'fixed' for a width x height image (what Prepare does with these options).
double FixedScale(int width, int height, const DetectOptions& options) {
  if (ShouldTile(width, height, options.canvasSize, options.magRatio, options.tiling)) return options.magRatio;
  return ComputeResize(width, height, options.canvasSize, options.magRatio).ratio;
}

// The options of a fixed pass at working scale `scale`: untiled while it fits the canvas, tiled beyond.
DetectOptions AtScale(const DetectOptions& options, double scale, int width, int height) {
  DetectOptions o = options;
  o.autoScale = false;
  o.magRatio = static_cast<float>(scale);
  // tiling 'off' is honoured: the canvas caps the scale (CRAFT's behaviour), as it does for the fixed pass.
  if (options.tiling.mode != TilingMode::kOff) {
    o.tiling.mode = scale * std::max(width, height) > options.canvasSize ? TilingMode::kOn : TilingMode::kAuto;
  }
  return o;
}

// The decoded image, owned: an unconverted raw 3-channel input is the caller's memory, which the staged path frees
// after Prepare, while the extra passes of scale 'auto' read the image in Finish.
cv::Mat Owned(const cv::Mat& rgb, const ImageInput& input) {
  return input.pixels != nullptr && rgb.data == input.pixels ? rgb.clone() : rgb;
}

}  // namespace

cv::Mat LoadImage(const ImageInput& input, uint64_t maxPixels) {
  if (input.imageReleased) {
    throw Error(ErrorCode::kInvalidInput, "The DecodedImage was released before this call could read it");
  }
  if (input.image) {
    const uint64_t pixels = static_cast<uint64_t>(input.image->cols) * input.image->rows;
    if (maxPixels > 0 && pixels > maxPixels) {
      throw Error(ErrorCode::kInputTooLarge, "Input image exceeds pixel limit: " + std::to_string(input.image->cols) +
                                                 "x" + std::to_string(input.image->rows) + " > maxPixels " +
                                                 std::to_string(maxPixels));
    }
    return *input.image;  // shares the pixels (read-only by contract)
  }
  if (input.pixels != nullptr) {
    if (input.width <= 0 || input.height <= 0) {
      throw Error(ErrorCode::kInvalidInput, "Raw input has zero (or negative) width or height");
    }
    const uint64_t w = input.width, h = input.height, c = input.channels;
    if (c != 1 && c != 3 && c != 4) throw Error(ErrorCode::kInvalidInput, "Raw input must have 1, 3 or 4 channels");
    if (maxPixels > 0 && w * h > maxPixels) {
      throw Error(ErrorCode::kInputTooLarge, "Input image exceeds pixel limit: " + std::to_string(w) + "x" +
                                                 std::to_string(h) + " > maxPixels " + std::to_string(maxPixels));
    }
    if (input.pixelsSize < w * h * c) {
      throw Error(ErrorCode::kInvalidInput, "Raw input data has " + std::to_string(input.pixelsSize) +
                                                " bytes, expected width*height*channels = " +
                                                std::to_string(w * h * c));
    }
    return RawToRgb(input.pixels, input.width, input.height, input.channels, input.bgr);
  }
  if (input.encoded != nullptr || input.path.empty()) return DecodeImage(input.encoded, input.encodedSize, maxPixels);
  std::vector<uint8_t> bytes = ReadImageFile(input.path, maxPixels);
  return DecodeImage(bytes.data(), bytes.size(), maxPixels);
}

Detector::Detector(const SessionOptions& options)
    : session_(options), scale_(ScaleConstantsFromMetadata(session_.info().metadata)) {}

PreparedImage Detector::Prepare(const ImageInput& input, const DetectOptions& options, RunControl* control) const {
  auto t0 = Clock::now();
  cv::Mat rgb = LoadImage(input, options.maxPixels);
  const double decode = MsSince(t0);
  if (!options.autoScale) {
    PreparedImage prepared = PrepareAt(rgb, input, options);
    prepared.timings.decode = decode;
    prepared.passes.insert(prepared.passes.begin(), Pass{});
    return prepared;
  }
  // scale 'auto' (autoscale.h): probe, plan, maybe a pass for large text; the main pass is prepared as usual.
  auto t1 = Clock::now();
  const double fixed = FixedScale(rgb.cols, rgb.rows, options);
  const int longSide = std::max(rgb.cols, rgb.rows);
  // maxPixels bounds the working image (PlanTiles lowers the scale to fit it; so does this plan).
  double maxScale =
      options.maxPixels > 0 ? std::sqrt(static_cast<double>(options.maxPixels) / (double(rgb.cols) * rgb.rows)) : 64.0;
  if (options.tiling.mode == TilingMode::kOff) maxScale = std::min(maxScale, double(options.canvasSize) / longSide);
  DetectOptions fixedOptions = options;
  fixedOptions.autoScale = false;
  if (!ShouldTile(rgb.cols, rgb.rows, options.canvasSize, options.magRatio, options.tiling)) {
    // The fixed pass fits one canvas: it is its own probe (no pass is cheaper that sees as much); Finish judges its
    // words (RefineScales). An ordinary page costs exactly the fixed pass.
    PreparedImage prepared = PrepareAt(rgb, input, fixedOptions);
    prepared.timings.decode = decode;
    prepared.passes.push_back(Pass{});
    prepared.source = Owned(rgb, input);
    prepared.maxScale = maxScale;
    prepared.judgeLarge = true;
    return prepared;
  }
  const double probeScale = std::min(kProbeFraction * fixed, static_cast<double>(options.canvasSize) / longSide);
  DetectOptions probeOptions = AtScale(options, probeScale, rgb.cols, rgb.rows);
  probeOptions.characters = false;
  probeOptions.heatmaps = false;
  probeOptions.polygons = false;
  probeOptions.refine = false;
  DetectResult probe = RunPass(rgb, probeOptions, control);
  const std::vector<float> heights = TextHeights(probe.words, scale_);
  const ScalePlan plan = PlanScales(heights, fixed, maxScale, scale_);
  std::vector<Pass> passes = {Pass{"probe", probe.scale, probe.tiles, static_cast<int>(probe.words.size())}};
  std::vector<Word> large;
  if (plan.second > 0) large = LargePass(rgb, options, plan, control, passes);
  const double autoMs = MsSince(t1);
  // The fixed scale itself: exactly the fixed pass (the same options, not a float re-derivation of its ratio).
  PreparedImage prepared = PrepareAt(rgb, input, plan.main == fixed ? fixedOptions
                                                                    : AtScale(options, plan.main, rgb.cols, rgb.rows));
  prepared.timings.decode = decode;
  prepared.timings.autoScale = autoMs;
  passes.insert(passes.begin() + 1, Pass{});  // the main pass (Finish fills it in)
  prepared.passes = std::move(passes);
  prepared.largeWords = std::move(large);
  prepared.largeFrom = plan.largeFrom;
  prepared.source = Owned(rgb, input);
  prepared.maxScale = maxScale;
  return prepared;
}

DetectResult Detector::RunPass(const cv::Mat& rgb, const DetectOptions& options, RunControl* control) const {
  if (control != nullptr && control->terminated()) throw Error(ErrorCode::kAborted, "Detection was aborted");
  PreparedImage prepared = PrepareAt(rgb, ImageInput{}, options);
  ModelOutput output = Infer({&prepared}, control);
  prepared.tensor = {};
  prepared.rgb.release();
  return Finish(prepared, output, 0, options, control);
}

PreparedImage Detector::PrepareAt(const cv::Mat& rgb, const ImageInput& input, const DetectOptions& options) const {
  PreparedImage prepared;
  auto t1 = Clock::now();
  prepared.width = rgb.cols;
  prepared.height = rgb.rows;
  if (ShouldTile(rgb.cols, rgb.rows, options.canvasSize, options.magRatio, options.tiling)) {
    // No full-resolution network input is ever allocated: tiles are cut from the resized image when they run.
    prepared.tiled = true;
    prepared.plan = PlanTiles(rgb.cols, rgb.rows, options.canvasSize, options.magRatio, options.tiling,
                              options.maxPixels);
    prepared.resize.ratio = static_cast<float>(prepared.plan.ratio);
    prepared.resize.resizedWidth = prepared.plan.workWidth;
    prepared.resize.resizedHeight = prepared.plan.workHeight;
    prepared.resize.paddedWidth = prepared.plan.mapWidth * 2;
    prepared.resize.paddedHeight = prepared.plan.mapHeight * 2;
    // The reference's resize, once, at the working scale (tiles are cut from it, so they hold exactly the pixels an
    // untiled run would see); the decoded image is freed when this returns. An unresized raw 3-channel input is
    // borrowed and the tiles run later (maybe after the caller's buffer is gone): own a copy.
    if (rgb.cols == prepared.plan.workWidth && rgb.rows == prepared.plan.workHeight) {
      prepared.rgb = input.pixels != nullptr && rgb.data == input.pixels ? rgb.clone() : rgb;
    } else {
      cv::resize(rgb, prepared.rgb, cv::Size(prepared.plan.workWidth, prepared.plan.workHeight), 0, 0,
                 cv::INTER_LINEAR);
    }
    prepared.timings.preprocess = MsSince(t1);
    return prepared;
  }
  prepared.resize = ComputeResize(rgb.cols, rgb.rows, options.canvasSize, options.magRatio);
  // maxPixels bounds the network input too, not only the decoded image: magRatio and canvasSize can magnify a small
  // image into a tensor of many gigabytes (and the network's activations are ~100x larger still).
  const uint64_t network = uint64_t(prepared.resize.paddedWidth) * uint64_t(prepared.resize.paddedHeight);
  if (options.maxPixels > 0 && network > options.maxPixels) {
    char mag[32];
    std::snprintf(mag, sizeof mag, "%g", static_cast<double>(options.magRatio));
    throw Error(ErrorCode::kInputTooLarge,
                "Network input " + std::to_string(prepared.resize.paddedWidth) + "x" +
                    std::to_string(prepared.resize.paddedHeight) + " (the " + std::to_string(rgb.cols) + "x" +
                    std::to_string(rgb.rows) + " image at magRatio " + mag + ", canvasSize " +
                    std::to_string(options.canvasSize) + ") exceeds pixel limit: > maxPixels " +
                    std::to_string(options.maxPixels) + "; lower magRatio or canvasSize, or let tiling cut it");
  }
  // The canvas cap shrank the image below its original resolution (what tiling exists to avoid).
  prepared.downscaled = prepared.resize.ratio < 1.f &&
                        static_cast<double>(options.magRatio) * std::max(rgb.cols, rgb.rows) > options.canvasSize;
  prepared.tensor.resize(static_cast<size_t>(3) * prepared.resize.paddedWidth * prepared.resize.paddedHeight);
  PreprocessInto(rgb, prepared.resize, prepared.tensor.data());
  prepared.timings.preprocess = MsSince(t1);
  return prepared;
}

ModelOutput Detector::Infer(const std::vector<const PreparedImage*>& batch, RunControl* control) const {
  if (batch.empty()) return {};
  const int h = batch[0]->resize.paddedHeight, w = batch[0]->resize.paddedWidth;
  bool any_tiled = false;
  for (const PreparedImage* image : batch) {
    any_tiled = any_tiled || image->tiled;
    if (image->resize.paddedHeight != h || image->resize.paddedWidth != w) {
      throw Error(ErrorCode::kInternal, "Batched images must share one padded shape");
    }
  }
  if (any_tiled) {
    // Same output as one run of the whole batch: untiled images share one inference, tiled ones run their tiles.
    ModelOutput out;
    out.n = static_cast<int>(batch.size());
    out.h = h / 2;
    out.w = w / 2;
    const size_t plane = static_cast<size_t>(out.h) * out.w;
    out.scores.assign(plane * 2 * batch.size(), 0.f);
    if (session_.info().refinedOutput >= 0) out.refined.assign(plane * batch.size(), 0.f);
    std::vector<const PreparedImage*> plain;
    std::vector<size_t> slots;
    for (size_t i = 0; i < batch.size(); i++) {
      if (batch[i]->tiled) {
        InferTiled(*batch[i], control, out, static_cast<int>(i));
      } else {
        plain.push_back(batch[i]);
        slots.push_back(i);
      }
    }
    if (!plain.empty()) {
      ModelOutput part = Infer(plain, control);
      if (part.h != out.h || part.w != out.w) throw Error(ErrorCode::kInference, "Model output is not half the input");
      for (size_t k = 0; k < slots.size(); k++) {
        std::memcpy(out.scores.data() + plane * 2 * slots[k], part.scores.data() + plane * 2 * k,
                    plane * 2 * sizeof(float));
        if (!part.refined.empty() && !out.refined.empty()) {
          std::memcpy(out.refined.data() + plane * slots[k], part.refined.data() + plane * k, plane * sizeof(float));
        }
      }
    }
    return out;
  }
  if (batch.size() == 1) return session_.Run(batch[0]->tensor.data(), 1, h, w, control);
  const size_t per = static_cast<size_t>(3) * h * w;
  std::vector<float> input(per * batch.size());
  for (size_t i = 0; i < batch.size(); i++) {
    if (batch[i]->resize.paddedHeight != h || batch[i]->resize.paddedWidth != w) {
      throw Error(ErrorCode::kInternal, "Batched images must share one padded shape");
    }
    std::memcpy(input.data() + i * per, batch[i]->tensor.data(), per * sizeof(float));
  }
  return session_.Run(input.data(), static_cast<int>(batch.size()), h, w, control);
}

DetectResult Detector::Finish(const PreparedImage& image, const ModelOutput& output, int index,
                              const DetectOptions& options, RunControl* control) const {
  auto t0 = Clock::now();
  DetectResult result;
  result.width = image.width;
  result.height = image.height;
  result.scale = image.resize.ratio;
  result.downscaled = image.downscaled;
  result.tiles = image.tiled ? static_cast<int>(image.plan.tiles.size()) : 1;
  result.timings = image.timings;
  result.passes = image.passes;

  const bool refine = options.refine;
  if (refine && output.refined.empty()) {
    throw Error(ErrorCode::kInvalidInput,
                "refine needs a model with a LinkRefiner output (convert with --refiner); this model has none");
  }
  // Split the interleaved [h, w, 2] maps into the planar textmap/linkmap the reference post-processes.
  const size_t plane = static_cast<size_t>(output.h) * output.w;
  std::vector<float> region(plane), affinity(plane);
  const float* src = output.scores.data() + plane * 2 * index;
  for (size_t i = 0; i < plane; i++) {
    region[i] = src[2 * i];
    affinity[i] = src[2 * i + 1];
  }
  if (refine) {
    const float* r = output.refined.data() + plane * index;
    std::memcpy(affinity.data(), r, plane * sizeof(float));
  }

  PostprocessOptions post;
  post.textThreshold = options.textThreshold;
  post.linkThreshold = options.linkThreshold;
  post.lowText = options.lowText;
  post.polygons = options.polygons || refine;
  result.words = GetDetBoxes(region.data(), affinity.data(), output.w, output.h, post);
  ScoreWords(region.data(), output.w, output.h, options.lowText, options.characters, result.words);

  // adjustResultCoordinates: heatmap -> network input (x2) -> original image (/ ratio).
  const float k = 2.0f / image.resize.ratio;
  for (Word& word : result.words) {
    for (Point& p : word.box) { p.x *= k; p.y *= k; }
    for (Point& p : word.polygon) { p.x *= k; p.y *= k; }
    for (auto& c : word.characters) for (Point& p : c) { p.x *= k; p.y *= k; }
    word.charHeight *= k;
    word.levelHeight *= k;
  }
  for (Pass& pass : result.passes) {
    if (std::strcmp(pass.role, "main") != 0) continue;
    pass.words = static_cast<int>(result.words.size());
    pass.scale = result.scale;
    pass.tiles = result.tiles;
  }
  if (!image.source.empty()) RefineScales(image, options, result, control);
  if (!image.largeWords.empty()) {
    const std::vector<float> heights = TextHeights(result.words, scale_);
    result.words = MergeLarge(std::move(result.words), heights, image.largeFrom, image.largeWords);
  }
  if (options.heatmaps) {
    result.hasHeatmaps = true;
    result.heatmaps.width = output.w;
    result.heatmaps.height = output.h;
    result.heatmaps.region = std::move(region);
    result.heatmaps.affinity = std::move(affinity);
  }
  result.timings.postprocess = MsSince(t0);
  return result;
}

void Detector::RefineScales(const PreparedImage& image, const DetectOptions& options, DetectResult& result,
                            RunControl* control) const {
  const std::vector<float> heights = TextHeights(result.words, scale_);
  double next = PlanUpscale(heights, result.scale, image.maxScale, scale_);
  // Without a probe (the fixed pass fitted one canvas), the main pass's words also say whether the text is too tall.
  ScalePlan plan;
  if (next == 0 && image.judgeLarge) {
    plan = PlanScales(heights, result.scale, image.maxScale, scale_);
    if (plan.main < result.scale) next = plan.main;
  }
  auto t0 = Clock::now();
  if (next > 0) {
    // Another main pass (larger for small text, smaller for large text); the old main pass's words that the new scale
    // would put outside the good range stay (as a 'large' or 'small' pass) and replace what they cover.
    DetectResult pass = RunPass(image.source, AtScale(options, next, image.width, image.height), control);
    const bool up = pass.scale > result.scale;
    std::vector<Word> keep;
    for (size_t i = 0; i < heights.size(); i++) {
      const float h = static_cast<float>(heights[i] * pass.scale);
      if (up ? h > scale_.goodHigh : h < scale_.goodLow) keep.push_back(std::move(result.words[i]));
    }
    for (Pass& p : result.passes) {
      if (std::strcmp(p.role, "main") == 0) { p.role = up ? "large" : "small"; p.words = static_cast<int>(keep.size()); }
    }
    result.passes.push_back(Pass{"main", pass.scale, pass.tiles, static_cast<int>(pass.words.size())});
    result.words = ReplaceCovered(std::move(pass.words), keep);
    result.scale = pass.scale;
    result.tiles = pass.tiles;
    result.downscaled = false;
    if (options.heatmaps) result.heatmaps = std::move(pass.heatmaps);
  } else if (plan.second > 0) {
    // A few words too tall for the main scale (a headline): a pass for them, as after a probe.
    const std::vector<Word> large = LargePass(image.source, options, plan, control, result.passes);
    result.words = MergeLarge(std::move(result.words), heights, plan.largeFrom, large);
  } else {
    return;
  }
  result.timings.autoScale += MsSince(t0);
}

std::vector<Word> Detector::LargePass(const cv::Mat& rgb, const DetectOptions& options, const ScalePlan& plan,
                                     RunControl* control, std::vector<Pass>& passes) const {
  DetectOptions o = AtScale(options, plan.second, rgb.cols, rgb.rows);
  o.heatmaps = false;
  DetectResult second = RunPass(rgb, o, control);
  std::vector<Word> large;
  const std::vector<float> h = TextHeights(second.words, scale_);
  for (size_t i = 0; i < h.size(); i++) {
    if (h[i] > plan.largeFrom) large.push_back(std::move(second.words[i]));
  }
  passes.push_back(Pass{"large", second.scale, second.tiles, static_cast<int>(large.size())});
  return large;
}

void Detector::InferTiled(const PreparedImage& image, RunControl* control, ModelOutput& out, int index) const {
  const TilePlan& plan = image.plan;
  if (out.w != plan.mapWidth || out.h != plan.mapHeight || image.rgb.empty()) {
    throw Error(ErrorCode::kInternal, "Tiled image without its pixels or plan");
  }
  const size_t plane = static_cast<size_t>(out.h) * out.w;
  float* scores = out.scores.data() + plane * 2 * index;
  float* refined = out.refined.empty() ? nullptr : out.refined.data() + plane * index;
  const int64_t fixed = session_.info().fixedBatch;
  const int batch = fixed > 0 ? static_cast<int>(fixed) : plan.batch;
  const size_t per = static_cast<size_t>(3) * plan.tileWidth * plan.tileHeight;
  std::vector<float> input(per * batch);  // one batch of tiles: the only network input ever allocated
  for (size_t first = 0; first < plan.tiles.size(); first += batch) {
    if (control != nullptr && control->terminated()) throw Error(ErrorCode::kAborted, "Inference was aborted");
    const size_t count = std::min<size_t>(batch, plan.tiles.size() - first);
    for (size_t k = 0; k < count; k++) SampleTile(image.rgb, plan, plan.tiles[first + k], input.data() + k * per);
    // A model with a fixed batch size gets full batches: repeat the last tile (its output is ignored).
    const size_t n = fixed > 0 ? static_cast<size_t>(batch) : count;
    for (size_t k = count; k < n; k++) {
      std::memcpy(input.data() + k * per, input.data() + (count - 1) * per, per * sizeof(float));
    }
    ModelOutput part = session_.Run(input.data(), static_cast<int>(n), plan.tileHeight, plan.tileWidth, control);
    if (part.w * 2 != plan.tileWidth || part.h * 2 != plan.tileHeight) {
      throw Error(ErrorCode::kInference, "Model output is " + std::to_string(part.w) + "x" + std::to_string(part.h) +
                                             " for a " + std::to_string(plan.tileWidth) + "x" +
                                             std::to_string(plan.tileHeight) + " input; tiling needs half resolution");
    }
    const float* part_refined = part.refined.empty() ? nullptr : part.refined.data();
    for (size_t k = 0; k < count; k++) {
      StitchTile(plan, plan.tiles[first + k], part.scores.data(), part_refined, part.w, part.h, static_cast<int>(k),
                 scores, refined);
    }
  }
}

DetectResult Detector::Detect(const ImageInput& input, const DetectOptions& options, RunControl* control) const {
  PreparedImage prepared = Prepare(input, options, control);
  auto t0 = Clock::now();
  ModelOutput output = Infer({&prepared}, control);
  const double inference = MsSince(t0);
  prepared.tensor = {};  // release the input tensor (or the tiles' source image) before post-processing
  prepared.rgb.release();
  DetectResult result = Finish(prepared, output, 0, options, control);
  result.timings.inference = inference;
  return result;
}

}  // namespace craft
