// JS -> C++ conversion of image inputs and option fields, shared by the detector and the recogniser; and decoded
// images (decodeImage): an image decoded once, then given to detect() and recognize() (Ocr.read()).
#pragma once

#include <napi.h>

#include <memory>

#include <opencv2/core.hpp>

#include "craft/pipeline.h"

namespace craft_napi {

// Option fields: a missing or non-finite number gives the fallback (the facade validates; this keeps a direct
// caller of the binding from reaching undefined behaviour).
double GetNumber(const Napi::Object& o, const char* key, double fallback);
// An int-valued field; values beyond int range become -1 (refused downstream as invalid).
int GetInt(const Napi::Object& o, const char* key, int fallback);
bool GetBool(const Napi::Object& o, const char* key, bool fallback);

// createDetector / createRecognizer options: the model (path or bytes, copied), the runtime, threads, providers.
craft::SessionOptions ToSessionOptions(Napi::Env env, const Napi::Object& o);

// An input pins the JS memory it borrows (a reference to the typed array) until the worker is destroyed.
struct PinnedInput {
  craft::ImageInput input;
  Napi::Reference<Napi::Value> pin;
};

// { path } | { data } (encoded) | { data, width, height, channels } (raw) | { image: decodedRef }.
PinnedInput ToInput(Napi::Env env, const Napi::Value& value);

// [async] decodeImage(input, { maxPixels }) -> Promise<{ ref, width, height, decode }>: the image decoded (8-bit RGB)
// and held natively; { image: ref } is then an input of detect/prepare and recognize.
Napi::Value DecodeImage(const Napi::CallbackInfo& info);
// [sync] releaseImage(ref): frees the pixels now (work already given the image keeps its own reference).
Napi::Value ReleaseImage(const Napi::CallbackInfo& info);

}  // namespace craft_napi
