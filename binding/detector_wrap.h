// N-API surface: the Detector ObjectWrap, its AsyncWorkers, and the stand-alone postprocess().
#pragma once

#include <napi.h>

#include <memory>

#include "craft/pipeline.h"

namespace craft_napi {

// Per-environment data, so the addon works in several worker_threads at once (context-aware).
struct AddonData {
  Napi::FunctionReference detectorConstructor;
  Napi::FunctionReference recognizerConstructor;
  Napi::FunctionReference runControlConstructor;
  bool externalBuffers = true;  // false once the runtime refused an external ArrayBuffer (Electron's memory cage)
};

// [async] Detector: wraps a shared craft::Detector. JS never constructs it directly; createDetector() does.
class DetectorWrap : public Napi::ObjectWrap<DetectorWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit DetectorWrap(const Napi::CallbackInfo& info);

  void Attach(std::shared_ptr<craft::Detector> detector) { detector_ = std::move(detector); }

 private:
  // [async] detect(input, options, control?) -> Promise<result>
  Napi::Value Detect(const Napi::CallbackInfo& info);
  // [async] detectBatch(inputs[], options, control?) -> Promise<result[]>: one inference for the whole batch
  Napi::Value DetectBatch(const Napi::CallbackInfo& info);
  // Stages, for the facade's scheduler (pipelining, micro-batching, cancellation). Refs are opaque Externals.
  // [async] prepare(input, options, control?) -> Promise<{ ref, width, height, paddedWidth, paddedHeight, decode, preprocess }>
  Napi::Value Prepare(const Napi::CallbackInfo& info);
  // [async] infer(preparedRefs[], control?) -> Promise<{ ref, ms }>: one run for refs of one padded shape
  Napi::Value Infer(const Napi::CallbackInfo& info);
  // [async] prepareInfer(input, options, control?) -> Promise<prepare()'s object & { output: infer()'s { ref, ms } }>:
  //   both stages in one thread-pool job (the scheduler's path for a request it would infer right away)
  Napi::Value PrepareInfer(const Napi::CallbackInfo& info);
  // [async] finish(preparedRef, outputRef, index, options, control?) -> Promise<result> (timings.inference left 0);
  // control cancels the passes of scale 'auto' that finish runs
  Napi::Value Finish(const Napi::CallbackInfo& info);
  // [sync] release(...refs): frees the tensors/maps a ref holds now instead of at the next GC
  Napi::Value Release(const Napi::CallbackInfo& info);
  // [sync] info() -> { inputName, outputNames, executionProvider, providerAttempts, metadata, refiner }
  Napi::Value Info(const Napi::CallbackInfo& info);
  // [sync] runStats() -> { runs, running, peak }: the model's network runs (all of them: tiles, scale 'auto' passes);
  // after dispose(), the counts at dispose
  Napi::Value RunStats(const Napi::CallbackInfo& info);
  // [sync] dispose(): in-flight detections keep the model alive until they finish; new calls are refused
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<craft::Detector> detector_;
  craft::RunStats disposedStats_;  // runStats() after dispose(): the counts at dispose (stats() keeps working)
};

// [sync] RunControl: terminate() stops a queued or running inference (AbortSignal support).
class RunControlWrap : public Napi::ObjectWrap<RunControlWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RunControlWrap(const Napi::CallbackInfo& info);
  std::shared_ptr<craft::RunControl> control() const { return control_; }

 private:
  Napi::Value Terminate(const Napi::CallbackInfo& info);
  std::shared_ptr<craft::RunControl> control_;
};

// [async] createDetector(options) -> Promise<Detector>
Napi::Value CreateDetector(const Napi::CallbackInfo& info);
// [async] postprocess(region, affinity, width, height, options) -> Promise<words>
Napi::Value Postprocess(const Napi::CallbackInfo& info);
// [sync] ortInfo() -> { path, version, apiVersion } | null
Napi::Value OrtInfo(const Napi::CallbackInfo& info);
// [sync] setExternalBuffers(bool): tests force the copying path that Electron needs
Napi::Value SetExternalBuffers(const Napi::CallbackInfo& info);

}  // namespace craft_napi
