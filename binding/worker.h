// Pieces every N-API wrapper shares: the promise-returning AsyncWorker base and QueueWorker, stage refs (opaque
// Externals holding a shared_ptr to native data), what both models' results share in JS, the RunControl lookup and
// model creation. (Argument conversion and checks: input.h.)
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "detector_wrap.h"
#include "input.h"
#include "native_error.h"

namespace craft_napi {

// [[x, y], ...] from points.
inline Napi::Array PointsToJs(Napi::Env env, const craft::Point* pts, size_t n) {
  Napi::Array arr = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    Napi::Array xy = Napi::Array::New(env, 2);
    xy.Set(0u, Napi::Number::New(env, pts[i].x));
    xy.Set(1u, Napi::Number::New(env, pts[i].y));
    arr.Set(static_cast<uint32_t>(i), xy);
  }
  return arr;
}

// A result's per-stage times in ms, as every model's result carries them: { decode, preprocess, inference, postprocess }.
template <typename Timings>
Napi::Object TimingsToJs(Napi::Env env, const Timings& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("decode", Napi::Number::New(env, t.decode));
  o.Set("preprocess", Napi::Number::New(env, t.preprocess));
  o.Set("inference", Napi::Number::New(env, t.inference));
  o.Set("postprocess", Napi::Number::New(env, t.postprocess));
  return o;
}

// Base: a promise-returning AsyncWorker whose failures reject with a coded Error.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Run(const std::function<void()>& fn) {
    if (!Guard(failure_, fn)) SetError(failure_.message);
  }
  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(MakeError(Env(), failure_).Value());
  }
  void Resolve(Napi::Value v) { deferred_.Resolve(v); }
  // Converting results can throw (e.g. out of memory in V8): reject instead of crashing.
  template <typename Fn>
  void ResolveWith(Fn&& fn) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(fn());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  NativeFailure failure_;
};

// Queues a new Worker(env, args...) in the thread pool: what the JS call returns is its promise.
template <typename Worker, typename... Args>
Napi::Promise QueueWorker(Napi::Env env, Args&&... args) {
  auto* worker = new Worker(env, std::forward<Args>(args)...);
  worker->Queue();
  return worker->Promise();
}

// ---- Stage refs -------------------------------------------------------------------------------------------------
// Intermediate data stays in C++ and crosses JS as a type-tagged External holding a shared_ptr; release() frees it
// early (an aborted request must not keep a 20 MB tensor alive until the next GC).

template <typename T>
struct StageBox {
  std::shared_ptr<T> value;
};

template <typename T>
Napi::External<StageBox<T>> MakeStageRef(Napi::Env env, std::shared_ptr<T> value, const napi_type_tag* tag) {
  auto ref = Napi::External<StageBox<T>>::New(env, new StageBox<T>{std::move(value)},
                                              [](Napi::Env, StageBox<T>* box) { delete box; });
  ref.TypeTag(tag);
  return ref;
}

// The shared_ptr behind a ref, or null when `v` is not a ref of this kind or was released.
template <typename T>
std::shared_ptr<T> StageRef(const Napi::Value& v, const napi_type_tag* tag) {
  if (!v.IsExternal()) return nullptr;
  auto ext = v.As<Napi::External<StageBox<T>>>();
  if (!ext.CheckTypeTag(tag)) return nullptr;
  return ext.Data()->value;
}

// Drops a ref's hold on its data if `v` is a ref of this kind; returns whether it was.
template <typename T>
bool ReleaseStageRef(const Napi::Value& v, const napi_type_tag* tag) {
  if (!v.IsExternal()) return false;
  Napi::External<void> ext = v.As<Napi::External<void>>();
  if (!ext.CheckTypeTag(tag)) return false;
  v.As<Napi::External<StageBox<T>>>().Data()->value.reset();
  return true;
}

// Every model's release(...refs): drops each ref's hold on its data (a prepared ref or an output ref); workers still
// using it keep their own reference. Works after dispose().
template <typename Prepared, typename Output>
Napi::Value ReleaseStageRefs(const Napi::CallbackInfo& info, const napi_type_tag* prepared, const napi_type_tag* output) {
  for (size_t i = 0; i < info.Length(); i++) {
    if (!ReleaseStageRef<Prepared>(info[i], prepared)) ReleaseStageRef<Output>(info[i], output);
  }
  return info.Env().Undefined();
}

// What infer() resolves with: { ms, ref } (the ref of the network's output).
template <typename T>
Napi::Object OutputToJs(Napi::Env env, std::shared_ptr<T> output, double ms, const napi_type_tag* tag) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ms", Napi::Number::New(env, ms));
  o.Set("ref", MakeStageRef(env, std::move(output), tag));
  return o;
}

inline Napi::Value RejectDisposed(Napi::Env env, const char* what) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(MakeError(env, {"ERR_CRAFT_DISPOSED", std::string(what) + " is disposed"}).Value());
  return deferred.Promise();
}

inline std::shared_ptr<craft::RunControl> ToControl(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  Napi::Object o = v.As<Napi::Object>();
  AddonData* data = v.Env().GetInstanceData<AddonData>();
  if (!o.InstanceOf(data->runControlConstructor.Value())) return nullptr;
  return RunControlWrap::Unwrap(o)->control();
}

// What every model's info() reports: the session's input/outputs, batch, provider choice and ONNX metadata.
inline Napi::Object ModelInfoToJs(Napi::Env env, const craft::ModelInfo& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("inputName", m.inputName);
  Napi::Array outs = Napi::Array::New(env, m.outputNames.size());
  for (size_t i = 0; i < m.outputNames.size(); i++) outs.Set(i, m.outputNames[i]);
  o.Set("outputNames", outs);
  o.Set("fixedBatch", Napi::Number::New(env, static_cast<double>(m.fixedBatch)));
  o.Set("executionProvider", m.executionProvider);
  Napi::Array attempts = Napi::Array::New(env, m.providerAttempts.size());
  for (size_t i = 0; i < m.providerAttempts.size(); i++) {
    Napi::Object a = Napi::Object::New(env);
    a.Set("name", m.providerAttempts[i].name);
    a.Set("ok", m.providerAttempts[i].ok);
    if (!m.providerAttempts[i].reason.empty()) a.Set("reason", m.providerAttempts[i].reason);
    attempts.Set(i, a);
  }
  o.Set("providerAttempts", attempts);
  Napi::Object meta = Napi::Object::New(env);
  for (const auto& kv : m.metadata) meta.Set(kv.first, kv.second);
  o.Set("metadata", meta);
  return o;
}

// ---- Stage workers ----------------------------------------------------------------------------------------------
// prepare / prepareInfer and infer, one shape for every model. `Stages` (detector_wrap.cc, recognizer_wrap.cc) names
// the model's types (Model, Options, Prepared, Output), its work (Prepare; Infer, which frees the prepared inputs'
// tensors or pixels afterwards, success or not), what prepare() resolves with (PreparedToJs), the output refs' tag
// and the workers' names.

// prepare(), and for prepareInfer() infer() too in the same thread-pool job: a request the scheduler would infer right
// after preparing it (it is alone) takes one hand-over between threads less. With `infer`, resolves with prepare()'s
// object plus `output` (infer()'s).
template <typename Stages>
class PrepareWorker : public PromiseWorker {
 public:
  PrepareWorker(Napi::Env env, std::shared_ptr<const typename Stages::Model> model, OwnedInput input,
                typename Stages::Options options, std::shared_ptr<craft::RunControl> control, bool infer)
      : PromiseWorker(env, infer ? Stages::kPrepareInferName : Stages::kPrepareName),
        model_(std::move(model)),
        input_(std::move(input)),
        options_(std::move(options)),
        control_(std::move(control)),
        infer_(infer) {}
  void Execute() override {
    Run([&] {
      prepared_.push_back(Stages::Prepare(*model_, input_, options_, control_.get()));
      if (infer_) output_ = Stages::Infer(*model_, prepared_, control_.get(), ms_);
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value {
      Napi::Object o = Stages::PreparedToJs(Env(), std::move(prepared_[0]));
      if (infer_) o.Set("output", OutputToJs(Env(), std::move(output_), ms_, Stages::kOutputTag));
      return o;
    });
  }

 private:
  std::shared_ptr<const typename Stages::Model> model_;
  OwnedInput input_;
  typename Stages::Options options_;
  std::shared_ptr<craft::RunControl> control_;
  bool infer_;
  std::vector<std::shared_ptr<typename Stages::Prepared>> prepared_;  // one: Infer's argument
  std::shared_ptr<typename Stages::Output> output_;
  double ms_ = 0;
};

// infer(): one run of prepared requests (same-shape images, merged recognize() calls).
template <typename Stages>
class InferWorker : public PromiseWorker {
 public:
  InferWorker(Napi::Env env, std::shared_ptr<const typename Stages::Model> model,
              std::vector<std::shared_ptr<typename Stages::Prepared>> prepared, std::shared_ptr<craft::RunControl> control)
      : PromiseWorker(env, Stages::kInferName),
        model_(std::move(model)),
        prepared_(std::move(prepared)),
        control_(std::move(control)) {}
  void Execute() override {
    Run([&] { output_ = Stages::Infer(*model_, prepared_, control_.get(), ms_); });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value { return OutputToJs(Env(), std::move(output_), ms_, Stages::kOutputTag); });
  }

 private:
  std::shared_ptr<const typename Stages::Model> model_;
  std::vector<std::shared_ptr<typename Stages::Prepared>> prepared_;
  std::shared_ptr<craft::RunControl> control_;
  std::shared_ptr<typename Stages::Output> output_;
  double ms_ = 0;
};

// ---- Models -----------------------------------------------------------------------------------------------------

// createDetector() / createRecognizer(): loads the Model (its ONNX Runtime session) in the thread pool and resolves
// with a new Wrap holding it, made by the environment's constructor (AddonData).
template <typename Model, typename Wrap>
class CreateModelWorker : public PromiseWorker {
 public:
  CreateModelWorker(Napi::Env env, const char* name, craft::SessionOptions options,
                    Napi::FunctionReference AddonData::*constructor)
      : PromiseWorker(env, name), options_(std::move(options)), constructor_(constructor) {}
  void Execute() override {
    Run([&] { model_ = std::make_shared<Model>(options_); });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value {
      AddonData* data = Env().GetInstanceData<AddonData>();
      Napi::Object obj = (data->*constructor_).New({});
      Wrap::Unwrap(obj)->Attach(std::move(model_));
      return obj;
    });
  }

 private:
  craft::SessionOptions options_;
  Napi::FunctionReference AddonData::*constructor_;
  std::shared_ptr<Model> model_;
};

// [async] createDetector(options) / createRecognizer(options) -> Promise<Wrap>
template <typename Model, typename Wrap>
Napi::Value CreateModel(const Napi::CallbackInfo& info, const char* name,
                        Napi::FunctionReference AddonData::*constructor) {
  Napi::Env env = info.Env();
  Require(info.Length() >= 1 && info[0].IsObject(), env, "options");
  return QueueWorker<CreateModelWorker<Model, Wrap>>(env, name, ToSessionOptions(env, info[0].As<Napi::Object>()),
                                                     constructor);
}

}  // namespace craft_napi
