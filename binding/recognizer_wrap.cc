#include "recognizer_wrap.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "craft/char_lm.h"
#include "input.h"
#include "native_error.h"
#include "worker.h"

namespace craft_napi {

namespace {

const napi_type_tag kRecPreparedTag = {0x3a5c7e9f1b2d4f60ull, 0x0f1e2d3c4b5a6978ull};
const napi_type_tag kRecOutputTag = {0x5d4c3b2a19087f6eull, 0x1122334455667788ull};
const napi_type_tag kCharLmTag = {0x2b4d6f8091a3c5e7ull, 0x7e5c3a1908f6d4b2ull};

// What prepare() hands to infer(): the image, the regions' plans and the options of the call; the image's size kept
// apart (infer() frees the pixels, prepareInfer() reports the size after it).
struct RecPrepared {
  craft::PreparedRegions regions;
  craft::RecognizeOptions options;
  int width = 0, height = 0;
};

struct RecOptions {
  craft::RecognizeOptions options;
  std::vector<craft::Region> regions;
  bool wholeImage = true;
};

RecOptions ToRecognizeOptions(Napi::Env env, const Napi::Object& o, const craft::RecognizerConfig& config) {
  RecOptions r;
  craft::RecognizeOptions& d = r.options;
  Napi::Value decoder = Own(o, "decoder");
  if (decoder.IsString()) {
    d.decode.search = decoder.As<Napi::String>().Utf8Value() == "beam" ? craft::CtcSearch::kBeam
                                                                       : craft::CtcSearch::kGreedy;
  }
  d.decode.beamWidth = std::max(1, std::min(GetInt(o, "beamWidth", d.decode.beamWidth), 1000));
  d.decode.characterProbabilities = GetBool(o, "characterProbabilities", false);
  Napi::Value ignored = Own(o, "ignoredClasses");
  if (!ignored.IsUndefined()) {
    Require(ignored.IsTypedArray() && ignored.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array, env,
            "options.ignoredClasses (Uint32Array expected)");
    Require(config.decoder == craft::DecoderKind::kCtc, env, "options.ignoredClasses (CTC models only)");
    Napi::Uint32Array classes = ignored.As<Napi::Uint32Array>();
    for (size_t i = 0; i < classes.ElementLength(); i++) {
      // Never the blank: every frame keeps a class.
      Require(classes[i] >= 1 && classes[i] < static_cast<uint32_t>(config.numClasses()), env,
              "options.ignoredClasses (a class index out of range, or the blank)");
      d.ignoredClasses.push_back(static_cast<int>(classes[i]));
    }
  }
  // The character LM (loadLanguageModel's ref), fused into the beam search; lib/ passes it only with decoder 'beam'.
  if (auto lm = StageRef<const craft::CharLm>(Own(o, "languageModel"), &kCharLmTag)) {
    d.decode.lm = std::move(lm);
    d.decode.lmWeight = GetNumber(o, "lmWeight", 0);
    d.decode.insertionBonus = GetNumber(o, "insertionBonus", 0);
  }
  d.rotationRetryThreshold = static_cast<float>(GetNumber(o, "rotationRetryThreshold", d.rotationRetryThreshold));
  d.marginRetryThreshold = static_cast<float>(GetNumber(o, "marginRetryThreshold", d.marginRetryThreshold));
  d.orientationRetryThreshold =
      static_cast<float>(GetNumber(o, "orientationRetryThreshold", d.orientationRetryThreshold));
  d.contrastRetryThreshold = static_cast<float>(GetNumber(o, "contrastRetryThreshold", d.contrastRetryThreshold));
  d.stretchRetryThreshold = static_cast<float>(GetNumber(o, "stretchRetryThreshold", d.stretchRetryThreshold));
  // Infinity (never vertical) arrives as a non-finite number: GetNumber gives the fallback, so read it directly.
  Napi::Value vr = Own(o, "verticalRatio");
  if (vr.IsNumber()) {
    const double v = vr.As<Napi::Number>().DoubleValue();
    if (v > 0) d.verticalRatio = static_cast<float>(v);
  }
  d.maxBatch = std::max(1, GetInt(o, "maxBatch", d.maxBatch));
  d.margin = GetNumber(o, "margin", d.margin);  // absent: the model's (lib/options.ts always passes it)
  d.logits = GetBool(o, "logits", false);
  d.inkCrop = GetBool(o, "inkCrop", d.inkCrop);
  d.verticalRetry = GetBool(o, "verticalRetry", d.verticalRetry);
  const double max_pixels = GetNumber(o, "maxPixels", static_cast<double>(d.maxPixels));
  if (max_pixels >= 0) d.maxPixels = static_cast<uint64_t>(max_pixels);

  Napi::Value regions = Own(o, "regions");
  if (regions.IsObject()) {
    r.wholeImage = false;
    Napi::Object ro = regions.As<Napi::Object>();
    Napi::Value coords = Own(ro, "coords"), counts = Own(ro, "counts");
    Require(coords.IsTypedArray() && coords.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array, env,
            "options.regions.coords (Float64Array expected)");
    Require(counts.IsTypedArray() && counts.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array, env,
            "options.regions.counts (Uint32Array expected)");
    Napi::Float64Array c = coords.As<Napi::Float64Array>();
    Napi::Uint32Array n = counts.As<Napi::Uint32Array>();
    size_t at = 0;
    r.regions.reserve(n.ElementLength());
    for (size_t i = 0; i < n.ElementLength(); i++) {
      const uint32_t k = n[i];
      Require(k == 4 || (k >= 6 && k % 2 == 0), env, "options.regions.counts (4 or an even number >= 6)");
      Require(at + 2 * static_cast<size_t>(k) <= c.ElementLength(), env, "options.regions (coords too short)");
      craft::Region region(k);
      for (uint32_t j = 0; j < k; j++) {
        const double x = c[at + 2 * j], y = c[at + 2 * j + 1];
        Require(std::isfinite(x) && std::isfinite(y), env, "options.regions (non-finite coordinate)");
        // Far-off coordinates are clipped to the image later; keep them finite as floats.
        region[j] = {static_cast<float>(std::clamp(x, -1e9, 1e9)), static_cast<float>(std::clamp(y, -1e9, 1e9))};
      }
      at += 2 * static_cast<size_t>(k);
      r.regions.push_back(std::move(region));
    }
  }
  return r;
}

Napi::Object ResultToJs(Napi::Env env, const craft::RecognizeResult& r, bool characters) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", Napi::Number::New(env, r.width));
  o.Set("height", Napi::Number::New(env, r.height));
  Napi::Array words = Napi::Array::New(env, r.words.size());
  for (size_t i = 0; i < r.words.size(); i++) {
    const craft::WordText& w = r.words[i];
    Napi::Object wo = Napi::Object::New(env);
    wo.Set("text", Napi::String::New(env, w.text));
    wo.Set("confidence", Napi::Number::New(env, w.confidence));
    if (characters) {
      Napi::Array ch = Napi::Array::New(env, w.characters.size());
      for (size_t k = 0; k < w.characters.size(); k++) ch.Set(static_cast<uint32_t>(k), Napi::Number::New(env, w.characters[k]));
      wo.Set("characters", ch);
    }
    if (!w.logits.empty()) {
      Napi::Float32Array l = Napi::Float32Array::New(env, w.logits.size());
      std::copy(w.logits.begin(), w.logits.end(), l.Data());
      wo.Set("logits", l);
    }
    wo.Set("rotation", Napi::Number::New(env, w.rotation));
    if (!w.skipped.empty()) wo.Set("skipped", Napi::String::New(env, w.skipped));
    words.Set(static_cast<uint32_t>(i), wo);
  }
  o.Set("words", words);
  o.Set("timings", TimingsToJs(env, r.timings));
  o.Set("runs", Napi::Number::New(env, r.runs));
  return o;
}

// What prepare() resolves with.
Napi::Object PreparedToJs(Napi::Env env, std::shared_ptr<RecPrepared> prepared) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", Napi::Number::New(env, prepared->width));
  o.Set("height", Napi::Number::New(env, prepared->height));
  o.Set("paddedWidth", Napi::Number::New(env, prepared->width));
  o.Set("paddedHeight", Napi::Number::New(env, prepared->height));
  o.Set("decode", Napi::Number::New(env, prepared->regions.timings.decode));
  o.Set("preprocess", Napi::Number::New(env, prepared->regions.timings.preprocess));
  o.Set("ref", MakeStageRef(env, std::move(prepared), &kRecPreparedTag));
  return o;
}

// prepare()'s work: decode the input and straighten the regions' crops (what infer() then runs).
std::shared_ptr<RecPrepared> PrepareRegions(const craft::Recognizer& recognizer, const OwnedInput& input,
                                            const RecOptions& options, craft::RunControl* control) {
  if (control && control->terminated()) throw craft::Error(craft::ErrorCode::kAborted, "Recognition was aborted");
  auto prepared = std::make_shared<RecPrepared>();
  prepared->regions = recognizer.Prepare(input.view(), options.regions, options.wholeImage, options.options);
  prepared->options = options.options;
  prepared->width = prepared->regions.image.cols;
  prepared->height = prepared->regions.image.rows;
  return prepared;
}

// infer()'s output: one result (or failure) per prepared request of the run, in the order they were given.
struct RecOutput {
  std::vector<craft::JobResult> jobs;
};

// infer()'s work on prepared requests (several calls merged, or one): crop, run, decode; the pixels are freed
// afterwards, success or not.
std::shared_ptr<RecOutput> RunPrepared(const craft::Recognizer& recognizer,
                                       const std::vector<std::shared_ptr<RecPrepared>>& prepared,
                                       craft::RunControl* control, double& ms) {
  struct FreePixels {
    const std::vector<std::shared_ptr<RecPrepared>>& p;
    ~FreePixels() {
      for (const auto& r : p) r->regions.image.release();
    }
  } free_pixels{prepared};
  if (control && control->terminated()) throw craft::Error(craft::ErrorCode::kAborted, "Recognition was aborted");
  std::vector<craft::RecognizeJob> jobs;
  jobs.reserve(prepared.size());
  for (const auto& r : prepared) jobs.push_back({&r->regions, &r->options});
  auto t0 = std::chrono::steady_clock::now();
  auto output = std::make_shared<RecOutput>();
  output->jobs = recognizer.RunMany(jobs, control);
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return output;
}

// The recogniser's prepare / prepareInfer and infer stages (worker.h's PrepareWorker, InferWorker).
struct RecognizerStages {
  using Model = craft::Recognizer;
  using Options = RecOptions;
  using Prepared = RecPrepared;
  using Output = RecOutput;
  static constexpr auto Prepare = &PrepareRegions;
  static constexpr auto Infer = &RunPrepared;
  static constexpr auto PreparedToJs = &craft_napi::PreparedToJs;
  static constexpr const napi_type_tag* kOutputTag = &kRecOutputTag;
  static constexpr const char* kPrepareName = "craft.recognizer.prepare";
  static constexpr const char* kPrepareInferName = "craft.recognizer.prepareInfer";
  static constexpr const char* kInferName = "craft.recognizer.infer";
};

// prepareInferMany()'s work: several recognize() calls prepared and run together in one thread-pool job (the
// scheduler's merged calls). A call whose input cannot be loaded fails alone: its failure is its entry of the output
// (finish rejects with it); the others' crops share the runs.
class PrepareRunWorker : public PromiseWorker {
 public:
  PrepareRunWorker(Napi::Env env, std::shared_ptr<const craft::Recognizer> recognizer, std::vector<OwnedInput> inputs,
                   std::vector<RecOptions> options, std::shared_ptr<craft::RunControl> control)
      : PromiseWorker(env, "craft.recognizer.prepareInferMany"),
        recognizer_(std::move(recognizer)),
        inputs_(std::move(inputs)),
        options_(std::move(options)),
        control_(std::move(control)),
        decode_(inputs_.size(), 0),
        preprocess_(inputs_.size(), 0) {}
  void Execute() override {
    Run([&] {
      std::vector<std::shared_ptr<RecPrepared>> prepared;
      std::vector<size_t> at;
      std::vector<craft::JobResult> jobs(inputs_.size());
      for (size_t i = 0; i < inputs_.size(); i++) {
        try {
          auto p = PrepareRegions(*recognizer_, inputs_[i], options_[i], control_.get());
          decode_[i] = p->regions.timings.decode;
          preprocess_[i] = p->regions.timings.preprocess;
          prepared.push_back(std::move(p));
          at.push_back(i);
        } catch (...) {
          jobs[i].error = std::current_exception();
        }
      }
      if (!prepared.empty()) {
        auto run = RunPrepared(*recognizer_, prepared, control_.get(), ms_);
        for (size_t k = 0; k < at.size(); k++) jobs[at[k]] = std::move(run->jobs[k]);
      }
      output_ = std::make_shared<RecOutput>();
      output_->jobs = std::move(jobs);
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value {
      Napi::Env env = Env();
      Napi::Object o = Napi::Object::New(env);
      Napi::Array decode = Napi::Array::New(env, decode_.size()), preprocess = Napi::Array::New(env, preprocess_.size());
      for (size_t i = 0; i < decode_.size(); i++) {
        decode.Set(static_cast<uint32_t>(i), Napi::Number::New(env, decode_[i]));
        preprocess.Set(static_cast<uint32_t>(i), Napi::Number::New(env, preprocess_[i]));
      }
      o.Set("decode", decode);
      o.Set("preprocess", preprocess);
      o.Set("output", OutputToJs(env, std::move(output_), ms_, &kRecOutputTag));
      return o;
    });
  }

 private:
  std::shared_ptr<const craft::Recognizer> recognizer_;
  std::vector<OwnedInput> inputs_;
  std::vector<RecOptions> options_;
  std::shared_ptr<craft::RunControl> control_;
  std::vector<double> decode_, preprocess_;
  std::shared_ptr<RecOutput> output_;
  double ms_ = 0;
};

}  // namespace

using RecognizerBase = ModelWrap<RecognizerWrap, craft::Recognizer>;

// prepare(input, options, control?): `options` carries the regions:
//   { regions?: { coords: Float64Array (x, y pairs), counts: Uint32Array (points per region) }, decoder, beamWidth,
//     characterProbabilities, logits, rotationRetryThreshold, marginRetryThreshold, orientationRetryThreshold,
//     contrastRetryThreshold, stretchRetryThreshold, verticalRatio, verticalRetry, margin, inkCrop, maxBatch, maxPixels,
//     ignoredClasses?: Uint32Array (class indices, CTC models only, never the blank 0) }
// The image is loaded and the regions planned; paddedWidth/Height are the image's size.
template <>
Napi::Value RecognizerBase::StartPrepare(const Napi::CallbackInfo& info, bool infer) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Recognizer");
  Require(info.Length() >= 2 && info[1].IsObject(), env, "options");
  OwnedInput input = ToInput(env, info[0]);
  RecOptions options = ToRecognizeOptions(env, info[1].As<Napi::Object>(), model_->config());
  return QueueWorker<PrepareWorker<RecognizerStages>>(env, model_, std::move(input), std::move(options),
                                                      info.Length() > 2 ? ToControl(info[2]) : nullptr, infer);
}

// infer([preparedRef, ...], control?): the prepared requests' crops together (several recognize() calls merged: the
// scheduler's batch), run by padded-width batch, decoded, retried; each request keeps its own options.
template <>
Napi::Value RecognizerBase::Infer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Recognizer");
  Require(info.Length() >= 1 && info[0].IsArray() && info[0].As<Napi::Array>().Length() >= 1, env,
          "infer arguments (prepared refs)");
  Napi::Array refs = info[0].As<Napi::Array>();
  std::vector<std::shared_ptr<RecPrepared>> prepared;
  prepared.reserve(refs.Length());
  for (uint32_t i = 0; i < refs.Length(); i++) {
    auto p = StageRef<RecPrepared>(refs.Get(i), &kRecPreparedTag);
    Require(p != nullptr && !p->regions.image.empty(), env, "prepared ref (released or already run)");
    for (const auto& q : prepared) Require(q != p, env, "prepared refs (the same one twice)");
    prepared.push_back(std::move(p));
  }
  return QueueWorker<InferWorker<RecognizerStages>>(env, model_, std::move(prepared),
                                                    info.Length() > 1 ? ToControl(info[1]) : nullptr);
}

// finish(preparedRef, outputRef, index, options) -> Promise<{ width, height, words, timings, runs }>: the index-th
// request's result of the run, already settled (converting the words to JS is all finish() does, and that happens on
// the JS thread anyway, so it resolves at once instead of taking a round trip through the thread pool); rejects with
// the request's own failure when its crops could not be made.
template <>
Napi::Value RecognizerBase::Finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Recognizer");
  Require(info.Length() >= 4 && info[2].IsNumber() && info[3].IsObject(), env, "finish arguments");
  auto output = StageRef<RecOutput>(info[1], &kRecOutputTag);
  Require(output != nullptr, env, "finish refs (released?)");
  const double index = info[2].As<Napi::Number>().DoubleValue();
  Require(index >= 0 && index < static_cast<double>(output->jobs.size()) && index == std::floor(index), env,
          "finish index (out of range)");
  const craft::JobResult& job = output->jobs[static_cast<size_t>(index)];
  const bool characters = GetBool(info[3].As<Napi::Object>(), "characterProbabilities", false);
  auto deferred = Napi::Promise::Deferred::New(env);
  try {
    if (job.error) {
      NativeFailure failure;
      Guard(failure, [&] { std::rethrow_exception(job.error); });
      deferred.Reject(MakeError(env, failure).Value());
    } else {
      deferred.Resolve(ResultToJs(env, job.result, characters));
    }
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());
  }
  return deferred.Promise();
}

template <>
Napi::Value RecognizerBase::Release(const Napi::CallbackInfo& info) {
  return ReleaseStageRefs<RecPrepared, RecOutput>(info, &kRecPreparedTag, &kRecOutputTag);
}

// info() -> { inputName, outputNames, fixedBatch, executionProvider, providerAttempts, metadata, config }
template <>
Napi::Value RecognizerBase::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw MakeError(env, {"ERR_CRAFT_DISPOSED", "Recognizer is disposed"});
  const craft::RecognizerConfig& c = model_->config();
  Napi::Object o = ModelInfoToJs(env, model_->info());
  Napi::Object cfg = Napi::Object::New(env);
  cfg.Set("name", c.name);
  Napi::Array charset = Napi::Array::New(env, c.charset.size());
  for (size_t i = 0; i < c.charset.size(); i++) charset.Set(i, c.charset[i]);
  cfg.Set("charset", charset);
  cfg.Set("decoder", c.decoder == craft::DecoderKind::kCtc ? "ctc" : "attn");
  cfg.Set("imgH", c.imgH);
  cfg.Set("imgW", c.imgW);
  cfg.Set("dynamicWidth", c.dynamicWidth);
  cfg.Set("channels", c.channels);
  cfg.Set("resize", c.resize == craft::ResizeKind::kPad ? "pad" : "squash");
  cfg.Set("mean", c.mean);
  cfg.Set("std", c.std);
  cfg.Set("confidence", c.confidence == craft::ConfidenceKind::kDtrb ? "dtrb" : "easyocr");
  cfg.Set("batchMaxLength", c.batchMaxLength);
  cfg.Set("margin", c.margin);
  o.Set("config", cfg);
  return o;
}

// prepareInferMany(inputs[], options[], control?) -> Promise<{ output: { ref, ms }, decode: number[], preprocess:
// number[] }>: prepareInfer() of several calls in one job, their crops sharing the runs; finish(null, output.ref, i,
// options[i]) gives call i's result (or its own failure).
Napi::Value RecognizerWrap::PrepareInferMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return RejectDisposed(env, "Recognizer");
  Require(info.Length() >= 2 && info[0].IsArray() && info[1].IsArray(), env, "prepareInferMany arguments");
  Napi::Array inputs = info[0].As<Napi::Array>(), options = info[1].As<Napi::Array>();
  Require(inputs.Length() >= 1 && inputs.Length() == options.Length(), env,
          "prepareInferMany arguments (as many options as inputs, at least one)");
  std::vector<OwnedInput> in;
  std::vector<RecOptions> opts;
  in.reserve(inputs.Length());
  opts.reserve(inputs.Length());
  for (uint32_t i = 0; i < inputs.Length(); i++) {
    Napi::Value o = options.Get(i);
    Require(o.IsObject(), env, "options");
    in.push_back(ToInput(env, inputs.Get(i)));
    opts.push_back(ToRecognizeOptions(env, o.As<Napi::Object>(), model_->config()));
  }
  return QueueWorker<PrepareRunWorker>(env, model_, std::move(in), std::move(opts),
                                       info.Length() > 2 ? ToControl(info[2]) : nullptr);
}

Napi::Function RecognizerWrap::Init(Napi::Env env) {
  return DefineModelClass(env, "NativeRecognizer",
                          {InstanceMethod("prepareInferMany", &RecognizerWrap::PrepareInferMany)});
}

Napi::Value CreateRecognizer(const Napi::CallbackInfo& info) {
  return CreateModel<craft::Recognizer, RecognizerWrap>(info, "craft.createRecognizer", &AddonData::recognizerConstructor);
}

// Parses a character LM (char_lm.h) off the JS thread.
class LoadCharLmWorker : public PromiseWorker {
 public:
  LoadCharLmWorker(Napi::Env env, std::vector<uint8_t> bytes)
      : PromiseWorker(env, "craft:loadLanguageModel"), bytes_(std::move(bytes)) {}
  void Execute() override {
    Run([&] {
      try {
        lm_ = craft::CharLm::Parse(bytes_.data(), bytes_.size());
      } catch (const std::invalid_argument& e) {
        throw craft::Error(craft::ErrorCode::kModelLoad, std::string("language model: ") + e.what());
      }
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value {
      Napi::Object o = Napi::Object::New(Env());
      o.Set("order", Napi::Number::New(Env(), lm_->order()));
      o.Set("ngrams", Napi::Number::New(Env(), static_cast<double>(lm_->ngrams())));
      o.Set("ref", MakeStageRef(Env(), std::move(lm_), &kCharLmTag));
      return o;
    });
  }

 private:
  std::vector<uint8_t> bytes_;
  std::shared_ptr<const craft::CharLm> lm_;
};

Napi::Value LoadLanguageModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(info.Length() >= 1 && info[0].IsTypedArray() &&
              info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array, env, "bytes (Uint8Array expected)");
  Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
  return QueueWorker<LoadCharLmWorker>(env, std::vector<uint8_t>(a.Data(), a.Data() + a.ElementLength()));
}

}  // namespace craft_napi
