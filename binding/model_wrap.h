// The N-API class of a model (the detector, the recogniser): one shape for both, the stage protocol lib/scheduler.ts
// drives, info(), runStats() and dispose().
#pragma once

#include <napi.h>

#include <memory>
#include <utility>
#include <vector>

#include "craft/session.h"

namespace craft_napi {

// Every model's runStats(): { runs, running, peak } of its network runs (session.h, RunGate).
inline Napi::Object RunStatsToJs(Napi::Env env, const craft::RunStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("runs", Napi::Number::New(env, static_cast<double>(s.runs)));
  o.Set("running", Napi::Number::New(env, s.running));
  o.Set("peak", Napi::Number::New(env, s.peak));
  return o;
}

// [async] Wrap (DetectorWrap, RecognizerWrap): holds a shared Model. JS never constructs it; createDetector() /
// createRecognizer() make it (CreateModel, worker.h). The stages are declared here once and defined per model in its
// wrap's .cc (template<> ModelWrap<...>::Infer ...), where each says what it resolves with; runStats() and
// dispose() are the same for every model.
template <typename Wrap, typename Model>
class ModelWrap : public Napi::ObjectWrap<Wrap> {
 public:
  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Wrap>(info) {}
  void Attach(std::shared_ptr<Model> model) { model_ = std::move(model); }

 protected:
  using Methods = std::vector<typename Napi::ObjectWrap<Wrap>::PropertyDescriptor>;

  // The class JS sees: the model's own methods (`own`) and the ones below.
  static Napi::Function DefineModelClass(Napi::Env env, const char* name, Methods own = {}) {
    own.push_back(Wrap::InstanceMethod("prepare", &ModelWrap::Prepare));
    own.push_back(Wrap::InstanceMethod("infer", &ModelWrap::Infer));
    own.push_back(Wrap::InstanceMethod("prepareInfer", &ModelWrap::PrepareInfer));
    own.push_back(Wrap::InstanceMethod("finish", &ModelWrap::Finish));
    own.push_back(Wrap::InstanceMethod("release", &ModelWrap::Release));
    own.push_back(Wrap::InstanceMethod("info", &ModelWrap::Info));
    own.push_back(Wrap::InstanceMethod("runStats", &ModelWrap::RunStats));
    own.push_back(Wrap::InstanceMethod("dispose", &ModelWrap::Dispose));
    return Wrap::DefineClass(env, name, own);
  }

  // Stages, for the facade's scheduler (pipelining, micro-batching, cancellation). Refs are opaque Externals.
  // [async] prepare(input, options, control?) -> Promise<{ ref, width, height, paddedWidth, paddedHeight, decode, preprocess }>
  Napi::Value Prepare(const Napi::CallbackInfo& info) { return StartPrepare(info, false); }
  // [async] infer(preparedRefs[], control?) -> Promise<{ ref, ms }>: one run for refs of one padded shape
  Napi::Value Infer(const Napi::CallbackInfo& info);
  // [async] prepareInfer(input, options, control?) -> Promise<prepare()'s object & { output: infer()'s { ref, ms } }>:
  //   both stages in one thread-pool job (the scheduler's path for a request it would infer right away)
  Napi::Value PrepareInfer(const Napi::CallbackInfo& info) { return StartPrepare(info, true); }
  // prepare() and prepareInfer() take the same arguments: one worker does both (`infer` adds the run).
  Napi::Value StartPrepare(const Napi::CallbackInfo& info, bool infer);
  // [async] finish(preparedRef, outputRef, index, options, control?) -> Promise<result>
  Napi::Value Finish(const Napi::CallbackInfo& info);
  // [sync] release(...refs): frees the data a ref holds now instead of at the next GC (works after dispose())
  Napi::Value Release(const Napi::CallbackInfo& info);
  // [sync] info() -> ModelInfoToJs's fields (worker.h) and the model's own
  Napi::Value Info(const Napi::CallbackInfo& info);

  // [sync] runStats() -> { runs, running, peak }: the model's network runs (all of them: tiles, the passes of scale
  // 'auto'); after dispose(), the counts at dispose
  Napi::Value RunStats(const Napi::CallbackInfo& info) {
    return RunStatsToJs(info.Env(), model_ ? model_->runStats() : disposedStats_);
  }
  // [sync] dispose(): new calls are refused; workers hold their own shared_ptr, so the model (its session) is freed
  // when the last in-flight call finishes
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (model_) disposedStats_ = model_->runStats();
    model_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<Model> model_;
  craft::RunStats disposedStats_;  // runStats() after dispose(): the counts at dispose
};

}  // namespace craft_napi
