// JS -> C++ conversion of what every N-API entry point takes (images, heatmaps, paths, model/session options, option
// fields), shared by the detector, the recogniser and the renderers; and decoded images (decodeImage): an image decoded
// once, then given to detect() and recognize() (Ocr.read()). The rules that keep a caller from crashing the process:
//
//  - Ownership: memory a worker reads off the JS thread is COPIED on the JS thread, at the call. A JS buffer can be
//    detached (transferred with postMessage/structuredClone, then collected) or shrunk (a resizable ArrayBuffer's
//    resize()) while the call runs, and Node-API can neither prevent nor observe that; a reference to the typed array
//    keeps the object alive, not its memory. The one provably stable case is a SharedArrayBuffer: it can't be
//    detached, and it can't shrink (a growable one only grows, in place), so image bytes in one are read in place,
//    the SharedArrayBuffer pinned for the call. Nothing else is (a pooled Buffer's slab is an ArrayBuffer that can be
//    transferred too). The copy costs an allocation and a memcpy on the JS thread (bench/input-copy.js,
//    docs/robustness.md); file paths are read by the worker and never copied.
//  - Own properties only: an input object's `path`/`data`/... and option fields are read only when the object itself
//    has them, so a polluted Object.prototype can't redirect an input to a file or change an option.
//  - Paths with NUL bytes are refused (TypeError), as node:fs does: C APIs would open the prefix.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "craft/pipeline.h"

namespace craft_napi {

// The facade validates everything; these checks only keep a direct caller of the binding from crashing us.
void Require(bool ok, const Napi::Env& env, const std::string& what);

// o[key] if `o` has it as an own property, else undefined (never an inherited value, never a getter's throw).
Napi::Value Own(const Napi::Object& o, const char* key);

// Own numeric/boolean fields; NaN, Infinity and values far out of range give the fallback (ints beyond int range -1).
double GetNumber(const Napi::Object& o, const char* key, double fallback);
int GetInt(const Napi::Object& o, const char* key, int fallback);
bool GetBool(const Napi::Object& o, const char* key, bool fallback);

// A path argument: a string without NUL bytes (TypeError naming `what` otherwise).
std::string ToPath(const Napi::Env& env, const Napi::Value& value, const std::string& what);

// Bytes a worker may read off the JS thread: a copy, or read in place (pinned): a SharedArrayBuffer's memory, or a
// buffer only craft-text holds (inPlace: the one lib/options.ts got from an opencv4nodejs Mat's getData()).
// Holds a JS reference in the second case: destroy it on the JS thread (AsyncWorkers are).
class Bytes {
 public:
  Bytes() = default;
  Bytes(Bytes&&) = default;
  Bytes& operator=(Bytes&&) = default;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool borrowed() const { return !pin_.IsEmpty(); }

 private:
  friend Bytes TakeBytes(const Napi::Env&, const Napi::Value&, const std::string&, size_t, bool);
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> owned_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  Napi::Reference<Napi::Value> pin_;
};

// The bytes of a Uint8Array / Uint8ClampedArray (at most `limit` of them) under the ownership rule above: copied, or
// borrowed from a SharedArrayBuffer. TypeError for anything else.
Bytes TakeBytes(const Napi::Env& env, const Napi::Value& value, const std::string& what, size_t limit = SIZE_MAX,
                bool inPlace = false);

// The bytes of a Uint8Array / Uint8ClampedArray, always copied (for data kept beyond the call, e.g. a model).
std::vector<uint8_t> CopyBytes(const Napi::Env& env, const Napi::Value& value, const std::string& what);

// The first `count` floats of a Float32Array, copied; TypeError for another type or fewer elements.
std::vector<float> CopyFloats(const Napi::Env& env, const Napi::Value& value, size_t count, const std::string& what);

// createDetector / createRecognizer options: the model (a path without NUL bytes, or bytes, copied), the runtime,
// threads, providers. Own properties only.
craft::SessionOptions ToSessionOptions(Napi::Env env, const Napi::Object& o);

// An image input owned by the worker: a path, a copy of the encoded bytes / raw pixels (or a SharedArrayBuffer's,
// pinned), or a decoded image (shared).
class OwnedInput {
 public:
  OwnedInput() = default;
  OwnedInput(OwnedInput&&) = default;
  OwnedInput& operator=(OwnedInput&&) = default;
  OwnedInput(const OwnedInput&) = delete;
  OwnedInput& operator=(const OwnedInput&) = delete;

  // The input as the pipeline reads it; its pointers stay valid as long as this object (moves included).
  craft::ImageInput view() const;

 private:
  friend OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value);
  std::shared_ptr<const cv::Mat> image_;
  bool imageReleased_ = false;
  std::string path_;
  Bytes bytes_;
  bool raw_ = false;
  size_t rawSize_ = 0;  // the JS array's byte length (only width*height*channels of it are copied)
  int width_ = 0, height_ = 0, channels_ = 0;
  bool bgr_ = false;  // raw pixels in BGR(A) order (an opencv4nodejs Mat, channelOrder: 'bgr')
};

// { path } | { data } (encoded) | { data, width, height, channels } (raw) | { image: decodedRef } -> an OwnedInput.
// TypeError for anything else.
OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value);

// [async] decodeImage(input, { maxPixels }) -> Promise<{ ref, width, height, decode }>: the image decoded (8-bit RGB)
// and held natively; { image: ref } is then an input of detect/prepare and recognize.
Napi::Value DecodeImage(const Napi::CallbackInfo& info);
// [sync] releaseImage(ref): frees the pixels now (work already given the image keeps its own reference).
Napi::Value ReleaseImage(const Napi::CallbackInfo& info);

}  // namespace craft_napi
