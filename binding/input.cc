#include "input.h"

#include <chrono>
#include <cmath>
#include <string>

#include "worker.h"

namespace craft_napi {

namespace {
const napi_type_tag kDecodedTag = {0x6b1f0e2d3c4a5968ull, 0x7e8d9cab0b1a2f3eull};
}  // namespace

void Require(bool ok, const Napi::Env& env, const std::string& what) {
  if (!ok) throw Napi::TypeError::New(env, "craft binding: invalid " + what);
}

double GetNumber(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return fallback;
  // NaN / Infinity / out of int range would make the casts below undefined behaviour: a direct caller of the binding
  // (the facade validates) gets the default instead.
  const double d = v.As<Napi::Number>().DoubleValue();
  return std::isfinite(d) && std::fabs(d) < 9.0e15 ? d : fallback;
}

int GetInt(const Napi::Object& o, const char* key, int fallback) {
  const double d = GetNumber(o, key, fallback);
  return d >= -2147483648.0 && d <= 2147483647.0 ? static_cast<int>(d) : -1;
}

bool GetBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

craft::SessionOptions ToSessionOptions(Napi::Env env, const Napi::Object& o) {
  craft::SessionOptions so;
  Napi::Value model = o.Get("model");
  if (model.IsString()) {
    so.modelPath = model.As<Napi::String>().Utf8Value();
  } else {
    Require(model.IsTypedArray(), env, "options.model");
    Napi::Uint8Array bytes = model.As<Napi::Uint8Array>();
    so.modelData.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
  }
  Napi::Value ort = o.Get("ortLibrary");
  Require(ort.IsString(), env, "options.ortLibrary");
  so.ortLibrary = ort.As<Napi::String>().Utf8Value();
  so.intraOpThreads = static_cast<int>(GetNumber(o, "threads", 0));
  so.interOpThreads = static_cast<int>(GetNumber(o, "interOpThreads", 1));
  so.intraOpSpinning = GetBool(o, "spinning", true);
  so.deviceId = static_cast<int>(GetNumber(o, "deviceId", 0));
  Napi::Value eps = o.Get("executionProviders");
  if (eps.IsArray()) {
    so.executionProviders.clear();
    Napi::Array a = eps.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) so.executionProviders.push_back(a.Get(i).ToString().Utf8Value());
  }
  return so;
}

OwnedInput ToInput(const Napi::Env& env, const Napi::Value& value) {
  Require(value.IsObject(), env, "input");
  Napi::Object o = value.As<Napi::Object>();
  OwnedInput p;
  Napi::Value image = o.Get("image");
  if (image.IsExternal()) {
    Require(image.As<Napi::External<void>>().CheckTypeTag(&kDecodedTag), env, "input.image (not a decoded image)");
    // Released after the call was queued: the work fails with a coded error instead of throwing here.
    p.input_.image = StageRef<cv::Mat>(image, &kDecodedTag);
    p.input_.imageReleased = p.input_.image == nullptr;
    return p;
  }
  Napi::Value path = o.Get("path");
  if (path.IsString()) {
    p.input_.path = path.As<Napi::String>().Utf8Value();
    return p;
  }
  Napi::Value data = o.Get("data");
  Require(data.IsTypedArray(), env, "input.data");
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  Require(ta.TypedArrayType() == napi_uint8_array || ta.TypedArrayType() == napi_uint8_clamped_array, env,
          "input.data (Uint8Array expected)");
  Napi::Uint8Array bytes = data.As<Napi::Uint8Array>();
  const uint8_t* ptr = bytes.ByteLength() > 0 ? bytes.Data() : nullptr;
  static const uint8_t kEmpty = 0;
  if (o.Get("width").IsNumber()) {
    p.input_.pixels = ptr != nullptr ? ptr : &kEmpty;
    p.input_.pixelsSize = bytes.ByteLength();
    p.input_.width = GetInt(o, "width", 0);
    p.input_.height = GetInt(o, "height", 0);
    p.input_.channels = GetInt(o, "channels", 0);
    p.input_.bgr = o.Get("bgr").ToBoolean();
  } else {
    p.input_.encoded = ptr != nullptr ? ptr : &kEmpty;
    p.input_.encodedSize = bytes.ByteLength();
  }
  p.pin_ = Napi::Persistent(data);
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
      // Raw pixels are borrowed from JS: the handle outlives this call, so it owns a copy.
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
  auto* worker = new DecodeImageWorker(env, std::move(input), max_pixels >= 0 ? static_cast<uint64_t>(max_pixels) : 0);
  worker->Queue();
  return worker->Promise();
}

Napi::Value ReleaseImage(const Napi::CallbackInfo& info) {
  for (size_t i = 0; i < info.Length(); i++) ReleaseStageRef<cv::Mat>(info[i], &kDecodedTag);
  return info.Env().Undefined();
}

}  // namespace craft_napi
