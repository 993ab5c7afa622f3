#include "detector_wrap.h"
#include "input.h"
#include "native_error.h"
#include "worker.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "craft/characters.h"
#include "craft/error.h"
#include "craft/ort_api.h"

namespace craft_napi {

namespace {

// ---- JS -> C++ (shared rules in input.h) ------------------------------------------------------------------------

craft::DetectOptions ToDetectOptions(const Napi::Object& o) {
  craft::DetectOptions d;
  d.textThreshold = static_cast<float>(GetNumber(o, "textThreshold", d.textThreshold));
  d.linkThreshold = static_cast<float>(GetNumber(o, "linkThreshold", d.linkThreshold));
  d.lowText = static_cast<float>(GetNumber(o, "lowText", d.lowText));
  d.canvasSize = GetInt(o, "canvasSize", d.canvasSize);
  d.magRatio = static_cast<float>(GetNumber(o, "magRatio", d.magRatio));
  d.polygons = GetBool(o, "polygons", d.polygons);
  d.heatmaps = GetBool(o, "heatmaps", d.heatmaps);
  d.refine = GetBool(o, "refine", d.refine);
  const double max_pixels = GetNumber(o, "maxPixels", static_cast<double>(d.maxPixels));
  if (max_pixels >= 0) d.maxPixels = static_cast<uint64_t>(max_pixels);
  Napi::Value tiling = Own(o, "tiling");
  if (tiling.IsString()) {
    const std::string mode = tiling.As<Napi::String>().Utf8Value();
    d.tiling.mode = mode == "off" ? craft::TilingMode::kOff : mode == "on" ? craft::TilingMode::kOn
                                                                           : craft::TilingMode::kAuto;
  }
  Napi::Value scale = Own(o, "scale");
  d.autoScale = scale.IsString() && scale.As<Napi::String>().Utf8Value() == "auto";
  d.characters = GetBool(o, "characters", d.characters);
  d.tiling.tileSize = GetInt(o, "tileSize", d.tiling.tileSize);
  d.tiling.overlap = GetInt(o, "tileOverlap", d.tiling.overlap);
  return d;
}

// ---- C++ -> JS --------------------------------------------------------------------------------------------------

Napi::Array WordsToJs(Napi::Env env, const std::vector<craft::Word>& words, bool polygons, bool characters = false) {
  Napi::Array arr = Napi::Array::New(env, words.size());
  for (size_t i = 0; i < words.size(); i++) {
    const craft::Word& w = words[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("box", PointsToJs(env, w.box.data(), 4));
    if (polygons) {
      // test.py falls back to the box where getPoly_core finds no polygon.
      o.Set("polygon", w.polygon.empty() ? PointsToJs(env, w.box.data(), 4)
                                         : PointsToJs(env, w.polygon.data(), w.polygon.size()));
    }
    o.Set("score", Napi::Number::New(env, w.score));
    o.Set("rawScore", Napi::Number::New(env, w.rawScore));
    if (characters) {
      Napi::Array chars = Napi::Array::New(env, w.characters.size());
      for (size_t c = 0; c < w.characters.size(); c++) {
        chars.Set(static_cast<uint32_t>(c), PointsToJs(env, w.characters[c].data(), 4));
      }
      o.Set("characters", chars);
    }
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

// Hands a vector to JS without copying when the runtime allows external buffers; copies otherwise (Electron).
Napi::Float32Array VectorToFloat32(Napi::Env env, std::vector<float>&& v) {
  AddonData* data = env.GetInstanceData<AddonData>();
  const size_t n = v.size();
  if (data != nullptr && data->externalBuffers && n > 0) {
    auto* owned = new std::vector<float>(std::move(v));
    napi_value ab;
    napi_status status = napi_create_external_arraybuffer(
        env, owned->data(), n * sizeof(float),
        [](napi_env, void*, void* hint) { delete static_cast<std::vector<float>*>(hint); }, owned, &ab);
    if (status == napi_ok) {
      // Tell V8 about memory it can't see, so GC pressure reflects large heatmaps.
      Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(n * sizeof(float)));
      return Napi::Float32Array::New(env, n, Napi::ArrayBuffer(env, ab), 0);
    }
    // Refused (e.g. napi_no_external_buffers_allowed): remember it and fall back to a copy.
    const napi_extended_error_info* ignored;
    napi_get_last_error_info(env, &ignored);
    data->externalBuffers = false;
    v = std::move(*owned);
    delete owned;
  }
  Napi::Float32Array arr = Napi::Float32Array::New(env, n);
  if (n > 0) std::memcpy(arr.Data(), v.data(), n * sizeof(float));
  return arr;
}

Napi::Object ResultToJs(Napi::Env env, craft::DetectResult& r, bool polygons, bool characters) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", Napi::Number::New(env, r.width));
  o.Set("height", Napi::Number::New(env, r.height));
  o.Set("words", WordsToJs(env, r.words, polygons, characters));
  Napi::Array passes = Napi::Array::New(env, r.passes.size());
  for (size_t i = 0; i < r.passes.size(); i++) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("role", Napi::String::New(env, r.passes[i].role));
    p.Set("scale", Napi::Number::New(env, r.passes[i].scale));
    p.Set("tiles", Napi::Number::New(env, r.passes[i].tiles));
    p.Set("words", Napi::Number::New(env, r.passes[i].words));
    passes.Set(static_cast<uint32_t>(i), p);
  }
  o.Set("passes", passes);
  o.Set("scale", Napi::Number::New(env, r.scale));
  o.Set("downscaled", Napi::Boolean::New(env, r.downscaled));
  o.Set("tiles", Napi::Number::New(env, r.tiles));
  if (r.hasHeatmaps) {
    Napi::Object h = Napi::Object::New(env);
    h.Set("width", Napi::Number::New(env, r.heatmaps.width));
    h.Set("height", Napi::Number::New(env, r.heatmaps.height));
    h.Set("region", VectorToFloat32(env, std::move(r.heatmaps.region)));
    h.Set("affinity", VectorToFloat32(env, std::move(r.heatmaps.affinity)));
    o.Set("heatmaps", h);
  }
  Napi::Object t = TimingsToJs(env, r.timings);
  t.Set("autoScale", Napi::Number::New(env, r.timings.autoScale));
  o.Set("timings", t);
  return o;
}

// ---- Workers ----------------------------------------------------------------------------------------------------

class DetectWorker : public PromiseWorker {
 public:
  DetectWorker(Napi::Env env, Napi::Object self, std::shared_ptr<const craft::Detector> detector,
               std::vector<OwnedInput> inputs, craft::DetectOptions options, bool batch,
               std::shared_ptr<craft::RunControl> control)
      : PromiseWorker(env, "craft.detect"),
        detector_(std::move(detector)),
        inputs_(std::move(inputs)),
        options_(options),
        batch_(batch),
        control_(std::move(control)) {
    self_ = Napi::Persistent(self);  // keep the wrapper alive while we run
  }
  void Execute() override {
    Run([&] {
      if (control_ && control_->terminated()) throw craft::Error(craft::ErrorCode::kAborted, "Detection was aborted");
      if (!batch_) {
        results_.push_back(detector_->Detect(inputs_[0].view(), options_, control_.get()));
        return;
      }
      // One inference for all images; the batch must share a padded shape (the facade groups them).
      std::vector<craft::PreparedImage> prepared;
      prepared.reserve(inputs_.size());
      for (auto& in : inputs_) prepared.push_back(detector_->Prepare(in.view(), options_, control_.get()));
      std::vector<const craft::PreparedImage*> ptrs;
      for (auto& p : prepared) ptrs.push_back(&p);
      auto t0 = std::chrono::steady_clock::now();
      craft::ModelOutput out = detector_->Infer(ptrs, control_.get());
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      for (size_t i = 0; i < prepared.size(); i++) {
        prepared[i].tensor = {};
        results_.push_back(detector_->Finish(prepared[i], out, static_cast<int>(i), options_, control_.get()));
        results_.back().timings.inference = ms / prepared.size();
      }
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value {
      const bool polygons = options_.polygons || options_.refine;
      if (!batch_) return ResultToJs(Env(), results_[0], polygons, options_.characters);
      Napi::Array arr = Napi::Array::New(Env(), results_.size());
      for (size_t i = 0; i < results_.size(); i++) arr.Set(i, ResultToJs(Env(), results_[i], polygons, options_.characters));
      return arr;
    });
  }

 private:
  std::shared_ptr<const craft::Detector> detector_;
  std::vector<OwnedInput> inputs_;
  craft::DetectOptions options_;
  bool batch_;
  std::shared_ptr<craft::RunControl> control_;
  Napi::ObjectReference self_;
  std::vector<craft::DetectResult> results_;
};

// ---- Stage workers (the facade's scheduler) ---------------------------------------------------------------------
// prepare -> infer -> finish as separate AsyncWorkers, so decoding and post-processing of some requests overlap the
// inference of others while the facade bounds how many inferences run at once and batches same-shape images.

const napi_type_tag kPreparedTag = {0x8f3a1c2e5b7d4f60ull, 0x9c1e2a3b4d5f6071ull};
const napi_type_tag kOutputTag = {0x1d2c3b4a59687766ull, 0xa5b4c3d2e1f00918ull};

Napi::Object PreparedToJs(Napi::Env env, std::shared_ptr<craft::PreparedImage> prepared) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", Napi::Number::New(env, prepared->width));
  o.Set("height", Napi::Number::New(env, prepared->height));
  o.Set("paddedWidth", Napi::Number::New(env, prepared->resize.paddedWidth));
  o.Set("paddedHeight", Napi::Number::New(env, prepared->resize.paddedHeight));
  o.Set("decode", Napi::Number::New(env, prepared->timings.decode));
  o.Set("preprocess", Napi::Number::New(env, prepared->timings.preprocess));
  o.Set("ref", MakeStageRef(env, std::move(prepared), &kPreparedTag));
  return o;
}

// infer()'s work on same-shape prepared images; their input tensors are freed afterwards (finish uses only the
// geometry), success or not.
std::shared_ptr<craft::ModelOutput> InferPrepared(const craft::Detector& detector,
                                                  const std::vector<std::shared_ptr<craft::PreparedImage>>& images,
                                                  craft::RunControl* control, double& ms) {
  struct FreeTensors {
    const std::vector<std::shared_ptr<craft::PreparedImage>>& images;
    ~FreeTensors() {
      for (auto& img : images) {
        std::vector<float>().swap(img->tensor);
        img->rgb.release();  // a tiled image's source pixels
      }
    }
  } free_tensors{images};
  if (control && control->terminated()) throw craft::Error(craft::ErrorCode::kAborted, "Detection was aborted");
  std::vector<const craft::PreparedImage*> ptrs;
  ptrs.reserve(images.size());
  for (auto& img : images) ptrs.push_back(img.get());
  auto t0 = std::chrono::steady_clock::now();
  auto output = std::make_shared<craft::ModelOutput>(detector.Infer(ptrs, control));
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return output;
}

// prepare()'s work: decode the input and resize it for the network (what infer() then runs).
std::shared_ptr<craft::PreparedImage> PrepareImage(const craft::Detector& detector, const OwnedInput& input,
                                                   const craft::DetectOptions& options, craft::RunControl* control) {
  if (control && control->terminated()) throw craft::Error(craft::ErrorCode::kAborted, "Detection was aborted");
  return std::make_shared<craft::PreparedImage>(detector.Prepare(input.view(), options, control));
}

// The detector's prepare / prepareInfer and infer stages (worker.h's PrepareWorker, InferWorker).
struct DetectorStages {
  using Model = craft::Detector;
  using Options = craft::DetectOptions;
  using Prepared = craft::PreparedImage;
  using Output = craft::ModelOutput;
  static constexpr auto Prepare = &PrepareImage;
  static constexpr auto Infer = &InferPrepared;
  static constexpr auto PreparedToJs = &craft_napi::PreparedToJs;
  static constexpr const napi_type_tag* kOutputTag = &craft_napi::kOutputTag;
  static constexpr const char* kPrepareName = "craft.prepare";
  static constexpr const char* kPrepareInferName = "craft.prepareInfer";
  static constexpr const char* kInferName = "craft.infer";
};

class FinishWorker : public PromiseWorker {
 public:
  FinishWorker(Napi::Env env, std::shared_ptr<const craft::Detector> detector,
               std::shared_ptr<craft::PreparedImage> image, std::shared_ptr<craft::ModelOutput> output, int index,
               craft::DetectOptions options, std::shared_ptr<craft::RunControl> control)
      : PromiseWorker(env, "craft.finish"),
        detector_(std::move(detector)),
        image_(std::move(image)),
        output_(std::move(output)),
        index_(index),
        options_(options),
        control_(std::move(control)) {}
  void Execute() override {
    Run([&] {
      if (control_ && control_->terminated()) throw craft::Error(craft::ErrorCode::kAborted, "Detection was aborted");
      result_ = detector_->Finish(*image_, *output_, index_, options_, control_.get());
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value { return ResultToJs(Env(), result_, options_.polygons || options_.refine, options_.characters); });
  }

 private:
  std::shared_ptr<const craft::Detector> detector_;
  std::shared_ptr<craft::PreparedImage> image_;
  std::shared_ptr<craft::ModelOutput> output_;
  int index_;
  craft::DetectOptions options_;
  std::shared_ptr<craft::RunControl> control_;  // the passes of scale 'auto' that Finish runs
  craft::DetectResult result_;
};

class PostprocessWorker : public PromiseWorker {
 public:
  // The maps are copies (input.h): the caller's arrays may be detached or resized while this runs.
  PostprocessWorker(Napi::Env env, std::vector<float> region, std::vector<float> affinity, int width, int height,
                    craft::PostprocessOptions options)
      : PromiseWorker(env, "craft.postprocess"),
        region_(std::move(region)),
        affinity_(std::move(affinity)),
        width_(width),
        height_(height),
        options_(options) {}
  void Execute() override {
    Run([&] {
      words_ = craft::GetDetBoxes(region_.data(), affinity_.data(), width_, height_, options_);
      craft::ScoreWords(region_.data(), width_, height_, options_.lowText, false, words_);
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value { return WordsToJs(Env(), words_, options_.polygons); });
  }

 private:
  std::vector<float> region_, affinity_;
  int width_, height_;
  craft::PostprocessOptions options_;
  std::vector<craft::Word> words_;
};

}  // namespace

// ---- DetectorWrap -----------------------------------------------------------------------------------------------

Napi::Value DetectorWrap::Detect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Detector");
  Require(info.Length() >= 2 && info[1].IsObject(), env, "options");
  std::vector<OwnedInput> inputs;
  inputs.push_back(ToInput(env, info[0]));
  return QueueWorker<DetectWorker>(env, info.This().As<Napi::Object>(), model_, std::move(inputs),
                                   ToDetectOptions(info[1].As<Napi::Object>()), false,
                                   info.Length() > 2 ? ToControl(info[2]) : nullptr);
}

Napi::Value DetectorWrap::DetectBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Detector");
  Require(info.Length() >= 2 && info[0].IsArray() && info[1].IsObject(), env, "detectBatch arguments");
  Napi::Array arr = info[0].As<Napi::Array>();
  Require(arr.Length() > 0, env, "inputs (empty)");
  std::vector<OwnedInput> inputs;
  for (uint32_t i = 0; i < arr.Length(); i++) inputs.push_back(ToInput(env, arr.Get(i)));
  return QueueWorker<DetectWorker>(env, info.This().As<Napi::Object>(), model_, std::move(inputs),
                                   ToDetectOptions(info[1].As<Napi::Object>()), true,
                                   info.Length() > 2 ? ToControl(info[2]) : nullptr);
}

using DetectorBase = ModelWrap<DetectorWrap, craft::Detector>;

template <>
Napi::Value DetectorBase::StartPrepare(const Napi::CallbackInfo& info, bool infer) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Detector");
  Require(info.Length() >= 2 && info[1].IsObject(), env, "options");
  return QueueWorker<PrepareWorker<DetectorStages>>(env, model_, ToInput(env, info[0]),
                                                    ToDetectOptions(info[1].As<Napi::Object>()),
                                                    info.Length() > 2 ? ToControl(info[2]) : nullptr, infer);
}

template <>
Napi::Value DetectorBase::Infer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Detector");
  Require(info.Length() >= 1 && info[0].IsArray(), env, "infer arguments");
  Napi::Array arr = info[0].As<Napi::Array>();
  Require(arr.Length() > 0, env, "refs (empty)");
  std::vector<std::shared_ptr<craft::PreparedImage>> images;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto img = StageRef<craft::PreparedImage>(arr.Get(i), &kPreparedTag);
    Require(img != nullptr && (!img->tensor.empty() || !img->rgb.empty()), env,
            "prepared ref (released or already inferred)");
    if (!images.empty()) {
      Require(img->resize.paddedWidth == images[0]->resize.paddedWidth &&
                  img->resize.paddedHeight == images[0]->resize.paddedHeight,
              env, "batch (images must share one padded shape)");
    }
    images.push_back(std::move(img));
  }
  return QueueWorker<InferWorker<DetectorStages>>(env, model_, std::move(images),
                                                  info.Length() > 1 ? ToControl(info[1]) : nullptr);
}

// finish(): timings.inference is left 0 (the facade knows it); `control` cancels the passes of scale 'auto' that finish
// runs.
template <>
Napi::Value DetectorBase::Finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Detector");
  Require(info.Length() >= 4 && info[2].IsNumber() && info[3].IsObject(), env, "finish arguments");
  auto img = StageRef<craft::PreparedImage>(info[0], &kPreparedTag);
  auto out = StageRef<craft::ModelOutput>(info[1], &kOutputTag);
  Require(img != nullptr && out != nullptr, env, "finish refs (released?)");
  const int index = info[2].As<Napi::Number>().Int32Value();
  Require(index >= 0 && index < out->n, env, "finish index");
  return QueueWorker<FinishWorker>(env, model_, std::move(img), std::move(out), index,
                                   ToDetectOptions(info[3].As<Napi::Object>()),
                                   info.Length() > 4 ? ToControl(info[4]) : nullptr);
}

template <>
Napi::Value DetectorBase::Release(const Napi::CallbackInfo& info) {
  return ReleaseStageRefs<craft::PreparedImage, craft::ModelOutput>(info, &kPreparedTag, &kOutputTag);
}

// info() -> { inputName, outputNames, fixedBatch, executionProvider, providerAttempts, metadata, refiner, autoScale }
template <>
Napi::Value DetectorBase::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) {
    throw MakeError(env, {"ERR_CRAFT_DISPOSED", "Detector is disposed"});
  }
  const craft::ModelInfo& m = model_->info();
  Napi::Object o = ModelInfoToJs(env, m);
  o.Set("refiner", Napi::Boolean::New(env, m.refinedOutput >= 0));
  const craft::ScaleConstants& s = model_->scaleConstants();
  Napi::Object scale = Napi::Object::New(env);
  const auto number = [&](float v) {  // 0.8f as 0.8, not 0.800000011920929
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", static_cast<double>(v));
    return Napi::Number::New(env, std::strtod(text, nullptr));
  };
  scale.Set("targetHeight", number(s.targetHeight));
  scale.Set("goodLow", number(s.goodLow));
  scale.Set("goodHigh", number(s.goodHigh));
  scale.Set("detectedToTruth", number(s.detectedToTruth));
  o.Set("autoScale", scale);
  return o;
}

Napi::Function DetectorWrap::Init(Napi::Env env) {
  return DefineModelClass(env, "NativeDetector", {InstanceMethod("detect", &DetectorWrap::Detect),
                                                  InstanceMethod("detectBatch", &DetectorWrap::DetectBatch)});
}

// ---- RunControlWrap ---------------------------------------------------------------------------------------------

Napi::Function RunControlWrap::Init(Napi::Env env) {
  return DefineClass(env, "RunControl", {InstanceMethod("terminate", &RunControlWrap::Terminate)});
}

RunControlWrap::RunControlWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<RunControlWrap>(info), control_(std::make_shared<craft::RunControl>()) {}

Napi::Value RunControlWrap::Terminate(const Napi::CallbackInfo& info) {
  control_->Terminate();
  return info.Env().Undefined();
}

// ---- Functions --------------------------------------------------------------------------------------------------

Napi::Value CreateDetector(const Napi::CallbackInfo& info) {
  return CreateModel<craft::Detector, DetectorWrap>(info, "craft.createDetector", &AddonData::detectorConstructor);
}

Napi::Value Postprocess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(info.Length() >= 5 && info[0].IsTypedArray() && info[1].IsTypedArray() && info[2].IsNumber() &&
              info[3].IsNumber() && info[4].IsObject(),
          env, "postprocess arguments");
  const int width = info[2].As<Napi::Number>().Int32Value();
  const int height = info[3].As<Napi::Number>().Int32Value();
  Require(width > 0 && height > 0, env, "heatmap size");
  const size_t count = static_cast<size_t>(width) * height;
  std::vector<float> region = CopyFloats(env, info[0], count, "heatmaps (region)");
  std::vector<float> affinity = CopyFloats(env, info[1], count, "heatmaps (affinity)");
  Napi::Object o = info[4].As<Napi::Object>();
  craft::PostprocessOptions p;
  p.textThreshold = static_cast<float>(GetNumber(o, "textThreshold", p.textThreshold));
  p.linkThreshold = static_cast<float>(GetNumber(o, "linkThreshold", p.linkThreshold));
  p.lowText = static_cast<float>(GetNumber(o, "lowText", p.lowText));
  p.polygons = GetBool(o, "polygons", p.polygons);
  return QueueWorker<PostprocessWorker>(env, std::move(region), std::move(affinity), width, height, p);
}

Napi::Value OrtInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!craft::OrtRuntimeLoaded()) return env.Null();
  const craft::OrtRuntimeInfo& r = craft::LoadOrtRuntime("");
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", r.path);
  o.Set("version", r.version);
  o.Set("apiVersion", r.apiVersion);
  return o;
}

Napi::Value SetExternalBuffers(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  if (info.Length() > 0 && info[0].IsBoolean()) data->externalBuffers = info[0].As<Napi::Boolean>().Value();
  return Napi::Boolean::New(info.Env(), data->externalBuffers);
}

}  // namespace craft_napi
