// JS -> C++ conversion of image inputs and option fields, shared by the detector and the recogniser; and decoded
// images (decodeImage): an image decoded once, then given to detect() and recognize() (Ocr.read()).
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "craft/pipeline.h"

namespace craft_napi {

// The facade validates everything; these checks only keep a direct caller of the binding from crashing us.
void Require(bool ok, const Napi::Env& env, const std::string& what);

// Option fields: a missing or non-finite number gives the fallback (the facade validates; this keeps a direct
// caller of the binding from reaching undefined behaviour).
double GetNumber(const Napi::Object& o, const char* key, double fallback);
// An int-valued field; values beyond int range become -1 (refused downstream as invalid).
int GetInt(const Napi::Object& o, const char* key, int fallback);
bool GetBool(const Napi::Object& o, const char* key, bool fallback);

// createDetector / createRecognizer options: the model (path or bytes, copied), the runtime, threads, providers.
craft::SessionOptions ToSessionOptions(Napi::Env env, const Napi::Object& o);

// An image input held by a worker: a path, the JS bytes it borrows (a reference to the typed array pins it until
// the worker is destroyed), or a decoded image (shared).
class OwnedInput {
 public:
  OwnedInput() = default;
  OwnedInput(OwnedInput&&) = default;
  OwnedInput& operator=(OwnedInput&&) = default;
  OwnedInput(const OwnedInput&) = delete;
  OwnedInput& operator=(const OwnedInput&) = delete;

  // The input as the pipeline reads it.
  craft::ImageInput view() const { return input_; }

 private:
  friend OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value);
  craft::ImageInput input_;
  Napi::Reference<Napi::Value> pin_;
};

// { path } | { data } (encoded) | { data, width, height, channels } (raw) | { image: decodedRef }.
OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value);

// [async] decodeImage(input, { maxPixels }) -> Promise<{ ref, width, height, decode }>: the image decoded (8-bit RGB)
// and held natively; { image: ref } is then an input of detect/prepare and recognize.
Napi::Value DecodeImage(const Napi::CallbackInfo& info);
// [sync] releaseImage(ref): frees the pixels now (work already given the image keeps its own reference).
Napi::Value ReleaseImage(const Napi::CallbackInfo& info);

}  // namespace craft_napi
