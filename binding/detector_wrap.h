// N-API surface: the Detector ModelWrap, its AsyncWorkers, and the stand-alone postprocess().
#pragma once

#include <napi.h>

#include <memory>

#include "craft/pipeline.h"
#include "model_wrap.h"

namespace craft_napi {

// Per-environment data, so the addon works in several worker_threads at once (context-aware).
struct AddonData {
  Napi::FunctionReference detectorConstructor;
  Napi::FunctionReference recognizerConstructor;
  Napi::FunctionReference runControlConstructor;
  bool externalBuffers = true;  // false once the runtime refused an external ArrayBuffer (Electron's memory cage)
};

// [async] Detector: the ModelWrap of a craft::Detector, plus the calls that run a whole detection in one job.
class DetectorWrap : public ModelWrap<DetectorWrap, craft::Detector> {
 public:
  static Napi::Function Init(Napi::Env env);
  using ModelWrap::ModelWrap;

 private:
  // [async] detect(input, options, control?) -> Promise<result>
  Napi::Value Detect(const Napi::CallbackInfo& info);
  // [async] detectBatch(inputs[], options, control?) -> Promise<result[]>: one inference for the whole batch
  Napi::Value DetectBatch(const Napi::CallbackInfo& info);
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
