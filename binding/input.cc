#include "input.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

#include "worker.h"

namespace craft_napi {

namespace {
const napi_type_tag kDecodedTag = {0x6b1f0e2d3c4a5968ull, 0x7e8d9cab0b1a2f3eull};
}  // namespace

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

void Bytes::Free::operator()(uint8_t* p) const { std::free(p); }

namespace {

// Storage for a copy. Large blocks come straight from mmap, and a memcpy into them faults the memory in 4 KB at a
// time: that, not the copy, is most of the cost of copying tens of MB (bench/input-copy.js). Where the kernel offers
// transparent huge pages on request, blocks of 16 MB and more ask for them: 512 times fewer faults.
uint8_t* Allocate(size_t n) {
  constexpr size_t kHugePage = size_t(2) << 20;
  if (n >= 8 * kHugePage) {
    void* p = nullptr;
    const size_t rounded = (n + kHugePage - 1) / kHugePage * kHugePage;
    if (posix_memalign(&p, kHugePage, rounded) == 0) {
#ifdef MADV_HUGEPAGE
      madvise(p, rounded, MADV_HUGEPAGE);  // advice only: ignored where THP is off
#endif
      return static_cast<uint8_t*>(p);
    }
  }
  void* p = std::malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<uint8_t*>(p);
}

Napi::Uint8Array ByteArray(const Napi::Env& env, const Napi::Value& value, const std::string& what) {
  Require(value.IsTypedArray(), env, what + " (Uint8Array expected)");
  Napi::TypedArray ta = value.As<Napi::TypedArray>();
  Require(ta.TypedArrayType() == napi_uint8_array || ta.TypedArrayType() == napi_uint8_clamped_array, env,
          what + " (Uint8Array expected)");
  return value.As<Napi::Uint8Array>();
}

}  // namespace

Bytes TakeBytes(const Napi::Env& env, const Napi::Value& value, const std::string& what, size_t limit, bool inPlace) {
  Napi::Uint8Array bytes = ByteArray(env, value, what);
  // Data() and ByteLength() describe the memory now (null / 0 once detached).
  Bytes out;
  out.size_ = std::min(bytes.ByteLength(), limit);
  if (out.size_ == 0) return out;
  // A typed array's buffer is an ArrayBuffer or a SharedArrayBuffer; Node-API's IsArrayBuffer() is false for the
  // latter, whose memory can neither be detached nor shrunk: read it in place, pinned for the call.
  Napi::Value buffer = bytes.ArrayBuffer();
  if (!buffer.IsArrayBuffer() || inPlace) {
    out.data_ = bytes.Data();
    out.pin_ = Napi::Persistent(buffer);
    return out;
  }
  // Uninitialised storage: the memcpy is the only pass over it.
  out.owned_.reset(Allocate(out.size_));
  std::memcpy(out.owned_.get(), bytes.Data(), out.size_);
  out.data_ = out.owned_.get();
  return out;
}

std::vector<uint8_t> CopyBytes(const Napi::Env& env, const Napi::Value& value, const std::string& what) {
  Napi::Uint8Array bytes = ByteArray(env, value, what);
  const size_t n = bytes.ByteLength();
  return n > 0 ? std::vector<uint8_t>(bytes.Data(), bytes.Data() + n) : std::vector<uint8_t>();
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

craft::SessionOptions ToSessionOptions(Napi::Env env, const Napi::Object& o) {
  craft::SessionOptions so;
  Napi::Value model = Own(o, "model");
  if (model.IsString()) {
    so.modelPath = ToPath(env, model, "options.model");
  } else {
    so.modelData = CopyBytes(env, model, "options.model");
  }
  so.ortLibrary = ToPath(env, Own(o, "ortLibrary"), "options.ortLibrary");
  so.intraOpThreads = static_cast<int>(GetNumber(o, "threads", 0));
  so.interOpThreads = static_cast<int>(GetNumber(o, "interOpThreads", 1));
  so.intraOpSpinning = GetBool(o, "spinning", true);
  so.maxConcurrentRuns = static_cast<int>(GetNumber(o, "maxConcurrentRuns", 0));
  so.runLanes = std::max(1, static_cast<int>(GetNumber(o, "runLanes", 1)));
  so.deviceId = static_cast<int>(GetNumber(o, "deviceId", 0));
  Napi::Value eps = Own(o, "executionProviders");
  if (eps.IsArray()) {
    so.executionProviders.clear();
    Napi::Array a = eps.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) so.executionProviders.push_back(a.Get(i).ToString().Utf8Value());
  }
  return so;
}

craft::ImageInput OwnedInput::view() const {
  static const uint8_t kEmpty = 0;
  craft::ImageInput in;
  if (image_ || imageReleased_) {
    in.image = image_;
    in.imageReleased = imageReleased_;
    return in;
  }
  if (!path_.empty()) {
    in.path = path_;
    return in;
  }
  const uint8_t* ptr = bytes_.size() == 0 ? &kEmpty : bytes_.data();
  if (raw_) {
    in.pixels = ptr;
    // Only the bytes the description needs were copied; a shorter array is refused by LoadImage from its length.
    in.pixelsSize = std::min(rawSize_, bytes_.size());
    in.width = width_;
    in.height = height_;
    in.channels = channels_;
    in.bgr = bgr_;
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
  Napi::Value image = Own(o, "image");
  if (image.IsExternal()) {
    Require(image.As<Napi::External<void>>().CheckTypeTag(&kDecodedTag), env, "input.image (not a decoded image)");
    // Released after the call was queued: the work fails with a coded error instead of throwing here.
    p.image_ = StageRef<cv::Mat>(image, &kDecodedTag);
    p.imageReleased_ = p.image_ == nullptr;
    return p;
  }
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
    p.bgr_ = Own(o, "bgr").ToBoolean();
    // Copy what the description needs, not a longer array's tail (nothing for a description LoadImage refuses).
    const bool valid = p.width_ > 0 && p.height_ > 0 && (p.channels_ == 1 || p.channels_ == 3 || p.channels_ == 4);
    const uint64_t needed = valid ? uint64_t(p.width_) * uint64_t(p.height_) * uint64_t(p.channels_) : 0;
    Require(data.IsTypedArray(), env, "input.data");
    p.rawSize_ = data.As<Napi::TypedArray>().ByteLength();
    // unshared: a buffer nobody else references (a Mat's getData() copy, lib/options.ts) is read in place.
    p.bytes_ = TakeBytes(env, data, "input.data", static_cast<size_t>(std::min<uint64_t>(needed, SIZE_MAX)),
                         Own(o, "unshared").ToBoolean());
    if (!valid) p.rawSize_ = 0;
  } else {
    Require(data.IsTypedArray(), env, "input.data");
    p.bytes_ = TakeBytes(env, data, "input.data");
  }
  return p;
}

namespace {

class DecodeImageWorker : public PromiseWorker {
 public:
  DecodeImageWorker(Napi::Env env, OwnedInput input, uint64_t maxPixels)
      : PromiseWorker(env, "craft.decodeImage"), input_(std::move(input)), maxPixels_(maxPixels) {}
  void Execute() override {
    Run([&] {
      auto t0 = std::chrono::steady_clock::now();
      const craft::ImageInput in = input_.view();
      cv::Mat rgb = craft::LoadImage(in, maxPixels_);
      // Raw RGB pixels are wrapped, not converted: the handle outlives this call (and the input's copy), so it owns
      // a copy of its own.
      if (in.pixels != nullptr && rgb.data == in.pixels) rgb = rgb.clone();
      image_ = std::make_shared<cv::Mat>(std::move(rgb));
      ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    });
  }
  void OnOK() override {
    ResolveWith([&]() -> Napi::Value {
      Napi::Env env = Env();
      Napi::Object o = Napi::Object::New(env);
      o.Set("width", Napi::Number::New(env, image_->cols));
      o.Set("height", Napi::Number::New(env, image_->rows));
      o.Set("decode", Napi::Number::New(env, ms_));
      const int64_t bytes = static_cast<int64_t>(image_->total() * image_->elemSize());
      o.Set("bytes", Napi::Number::New(env, static_cast<double>(bytes)));
      o.Set("ref", MakeStageRef(env, std::move(image_), &kDecodedTag));
      return o;
    });
  }

 private:
  OwnedInput input_;
  uint64_t maxPixels_;
  std::shared_ptr<cv::Mat> image_;
  double ms_ = 0;
};

}  // namespace

Napi::Value DecodeImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(info.Length() >= 2 && info[1].IsObject(), env, "decodeImage arguments");
  OwnedInput input = ToInput(env, info[0]);
  Require(!input.view().image && !input.view().imageReleased, env, "input (already decoded)");
  const double max_pixels = GetNumber(info[1].As<Napi::Object>(), "maxPixels", 268402689.0);
  return QueueWorker<DecodeImageWorker>(env, std::move(input), max_pixels >= 0 ? static_cast<uint64_t>(max_pixels) : 0);
}

Napi::Value ReleaseImage(const Napi::CallbackInfo& info) {
  for (size_t i = 0; i < info.Length(); i++) ReleaseStageRef<cv::Mat>(info[i], &kDecodedTag);
  return info.Env().Undefined();
}

}  // namespace craft_napi
