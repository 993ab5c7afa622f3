#include "input.h"

#include <cmath>
#include <cstring>

namespace craft_napi {

void Require(bool ok, const Napi::Env& env, const std::string& what) {
  if (!ok) throw Napi::TypeError::New(env, "craft binding: invalid " + what);
}

Napi::Value Own(const Napi::Object& o, const char* key) {
  if (!o.HasOwnProperty(key)) return o.Env().Undefined();
  return o.Get(key);
}

double GetNumber(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = Own(o, key);
  if (!v.IsNumber()) return fallback;
  // NaN / Infinity / out of int range would make the casts downstream undefined behaviour: a direct caller of the
  // binding (the facade validates) gets the default instead.
  const double d = v.As<Napi::Number>().DoubleValue();
  return std::isfinite(d) && std::fabs(d) < 9.0e15 ? d : fallback;
}

int GetInt(const Napi::Object& o, const char* key, int fallback) {
  const double d = GetNumber(o, key, fallback);
  return d >= -2147483648.0 && d <= 2147483647.0 ? static_cast<int>(d) : -1;
}

bool GetBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = Own(o, key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

std::string ToPath(const Napi::Env& env, const Napi::Value& value, const std::string& what) {
  Require(value.IsString(), env, what + " (a path string expected)");
  std::string path = value.As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, "craft binding: invalid " + what + " (a path must not contain NUL bytes)");
  }
  return path;
}

std::vector<uint8_t> CopyBytes(const Napi::Env& env, const Napi::Value& value, const std::string& what,
                               size_t limit) {
  Require(value.IsTypedArray(), env, what + " (Uint8Array expected)");
  Napi::TypedArray ta = value.As<Napi::TypedArray>();
  Require(ta.TypedArrayType() == napi_uint8_array || ta.TypedArrayType() == napi_uint8_clamped_array, env,
          what + " (Uint8Array expected)");
  // Data() and ByteLength() describe the memory now (0 / null once detached); it is copied before anything else runs.
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  const size_t n = std::min(bytes.ByteLength(), limit);
  std::vector<uint8_t> out(n);
  if (n > 0) std::memcpy(out.data(), bytes.Data(), n);
  return out;
}

std::vector<float> CopyFloats(const Napi::Env& env, const Napi::Value& value, size_t count, const std::string& what) {
  Require(value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array, env,
          what + " (Float32Array expected)");
  Napi::Float32Array floats = value.As<Napi::Float32Array>();
  Require(floats.ElementLength() >= count, env, what + " (too short)");
  std::vector<float> out(count);
  if (count > 0) std::memcpy(out.data(), floats.Data(), count * sizeof(float));
  return out;
}

craft::ImageInput OwnedInput::view() const {
  static const uint8_t kEmpty = 0;
  craft::ImageInput in;
  if (!path_.empty()) {
    in.path = path_;
    return in;
  }
  const uint8_t* ptr = bytes_.empty() ? &kEmpty : bytes_.data();
  if (raw_) {
    in.pixels = ptr;
    // Only the bytes the description needs were copied; a shorter array is refused by LoadImage from its length.
    in.pixelsSize = std::min(rawSize_, bytes_.size());
    in.width = width_;
    in.height = height_;
    in.channels = channels_;
  } else {
    in.encoded = ptr;
    in.encodedSize = bytes_.size();
  }
  return in;
}

OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value) {
  Require(value.IsObject(), env, "input");
  Napi::Object o = value.As<Napi::Object>();
  OwnedInput p;
  Napi::Value path = Own(o, "path");
  if (!path.IsUndefined()) {
    p.path_ = ToPath(env, path, "input.path");
    Require(!p.path_.empty(), env, "input.path (empty)");
    return p;
  }
  Napi::Value data = Own(o, "data");
  if (Own(o, "width").IsNumber()) {
    p.raw_ = true;
    p.width_ = GetInt(o, "width", 0);
    p.height_ = GetInt(o, "height", 0);
    p.channels_ = GetInt(o, "channels", 0);
    // Copy what the description needs, not a longer array's tail (nothing for a description LoadImage refuses).
    const bool valid = p.width_ > 0 && p.height_ > 0 && (p.channels_ == 1 || p.channels_ == 3 || p.channels_ == 4);
    const uint64_t needed = valid ? uint64_t(p.width_) * uint64_t(p.height_) * uint64_t(p.channels_) : 0;
    Require(data.IsTypedArray(), env, "input.data");
    p.rawSize_ = data.As<Napi::TypedArray>().ByteLength();
    p.bytes_ = CopyBytes(env, data, "input.data", static_cast<size_t>(std::min<uint64_t>(needed, SIZE_MAX)));
    if (!valid) p.rawSize_ = 0;
  } else {
    Require(data.IsTypedArray(), env, "input.data");
    p.bytes_ = CopyBytes(env, data, "input.data");
  }
  return p;
}

}  // namespace craft_napi
