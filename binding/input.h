// JS -> C++ conversion of what every N-API entry point takes (images, heatmaps, paths, option fields), with the rules
// that keep a caller from crashing the process:
//
//  - Ownership: memory a worker reads off the JS thread is COPIED on the JS thread, at the call. A JS buffer can be
//    detached (transferred with postMessage/structuredClone, then collected) or shrunk (a resizable ArrayBuffer's
//    resize()) while the call runs, and Node-API can neither prevent nor observe that; a reference to the typed array
//    keeps the object alive, not its memory. Node-API exposes no buffer that is provably stable (a pooled Buffer's
//    slab can be detached too), so the rule has no exception. The copy costs a memcpy on the JS thread (a few ms
//    per 10 MB, bench/input-copy.js, docs/robustness.md); file paths are read by the worker and never copied.
//  - Own properties only: an input object's `path`/`data`/... and option fields are read only when the object itself
//    has them, so a polluted Object.prototype can't redirect an input to a file or change an option.
//  - Paths with NUL bytes are refused (TypeError), as node:fs does: C APIs would open the prefix.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

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

// The bytes of a Uint8Array / Uint8ClampedArray, copied (at most `limit` bytes). TypeError for anything else.
std::vector<uint8_t> CopyBytes(const Napi::Env& env, const Napi::Value& value, const std::string& what,
                               size_t limit = SIZE_MAX);

// The first `count` floats of a Float32Array, copied; TypeError for another type or fewer elements.
std::vector<float> CopyFloats(const Napi::Env& env, const Napi::Value& value, size_t count, const std::string& what);

// An image input owned by the worker: a path, or a copy of the encoded bytes / raw pixels.
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
  std::string path_;
  std::vector<uint8_t> bytes_;
  bool raw_ = false;
  size_t rawSize_ = 0;  // the JS array's byte length (only width*height*channels of it are copied)
  int width_ = 0, height_ = 0, channels_ = 0;
};

// { path } | { data } | { data, width, height, channels } -> an OwnedInput. TypeError for anything else.
OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value);

}  // namespace craft_napi
