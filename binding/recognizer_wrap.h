// N-API surface of the recogniser: the Recognizer ObjectWrap and its stage workers (the facade's scheduler runs them).
#pragma once

#include <napi.h>

#include <memory>

#include "craft/recognizer.h"

namespace craft_napi {

// [async] Recognizer: wraps a shared craft::Recognizer. createRecognizer() makes it.
class RecognizerWrap : public Napi::ObjectWrap<RecognizerWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RecognizerWrap(const Napi::CallbackInfo& info);
  void Attach(std::shared_ptr<craft::Recognizer> recognizer) { recognizer_ = std::move(recognizer); }

 private:
  // Stages, as the detector's (lib/scheduler.ts drives both). `options` carries the regions:
  //   { regions?: { coords: Float64Array (x, y pairs), counts: Uint32Array (points per region) }, decoder, beamWidth,
  //     characterProbabilities, rotationRetryThreshold, verticalRatio, maxBatch, maxPixels }
  // [async] prepare(input, options, control?) -> Promise<{ ref, width, height, paddedWidth, paddedHeight, decode, preprocess }>
  //   (image loaded, regions planned; paddedWidth/Height are the image's size)
  Napi::Value Prepare(const Napi::CallbackInfo& info);
  // [async] infer([preparedRef], control?) -> Promise<{ ref, ms }>: crop, run by padded-width batch, decode, retries
  Napi::Value Infer(const Napi::CallbackInfo& info);
  // [async] prepareInfer(input, options, control?) -> Promise<prepare()'s object & { output: infer()'s { ref, ms } }>:
  //   both stages in one thread-pool job (the scheduler's path for a request it would infer right away)
  Napi::Value PrepareInfer(const Napi::CallbackInfo& info);
  // finish(preparedRef, outputRef, 0, options) -> Promise<{ width, height, words, timings, runs }>, already settled
  //   (the conversion to JS is all there is to do)
  Napi::Value Finish(const Napi::CallbackInfo& info);
  // [sync] release(...refs)
  Napi::Value Release(const Napi::CallbackInfo& info);
  // [sync] info() -> { inputName, outputNames, fixedBatch, executionProvider, providerAttempts, metadata, config }
  Napi::Value Info(const Napi::CallbackInfo& info);
  // [sync] runStats() -> { runs, running, peak }: the model's network runs
  Napi::Value RunStats(const Napi::CallbackInfo& info);
  // [sync] dispose()
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<craft::Recognizer> recognizer_;
  craft::RunStats disposedStats_;  // runStats() after dispose(): the counts at dispose
};

// [async] createRecognizer(options) -> Promise<Recognizer>
Napi::Value CreateRecognizer(const Napi::CallbackInfo& info);

}  // namespace craft_napi
