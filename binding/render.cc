#include "render.h"

#include <algorithm>
#include <cmath>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "input.h"
#include "native_error.h"
#include "craft/draw.h"
#include "craft/error.h"
#include "craft/preprocess.h"

namespace craft_napi {

namespace {

cv::Scalar ColorOf(const Napi::Env& env, const Napi::Value& v, const cv::Scalar& fallback, const std::string& what) {
  if (v.IsUndefined() || v.IsNull()) return fallback;
  Require(v.IsArray(), env, what + " (expected [r, g, b])");
  Napi::Array a = v.As<Napi::Array>();
  Require(a.Length() >= 3, env, what + " (expected [r, g, b])");
  double c[3];
  for (uint32_t i = 0; i < 3; i++) {
    Napi::Value x = a.Get(i);
    Require(x.IsNumber(), env, what);
    c[i] = x.As<Napi::Number>().DoubleValue();
  }
  return cv::Scalar(c[0], c[1], c[2]);
}

// Points as [[x, y], ...] (what detect() returns) or a flat numeric array / typed array [x0, y0, x1, y1, ...].
std::vector<cv::Point2f> PointsOf(const Napi::Env& env, const Napi::Value& v, const std::string& what) {
  std::vector<cv::Point2f> pts;
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    Require(t.TypedArrayType() == napi_float64_array || t.TypedArrayType() == napi_float32_array, env, what);
    const size_t n = t.ElementLength() / 2;
    pts.reserve(n);
    if (t.TypedArrayType() == napi_float64_array) {
      const double* d = v.As<Napi::Float64Array>().Data();
      for (size_t i = 0; i < n; i++) pts.emplace_back(static_cast<float>(d[2 * i]), static_cast<float>(d[2 * i + 1]));
    } else {
      const float* d = v.As<Napi::Float32Array>().Data();
      for (size_t i = 0; i < n; i++) pts.emplace_back(d[2 * i], d[2 * i + 1]);
    }
    return pts;
  }
  Require(v.IsArray(), env, what + " (expected an array of points)");
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  if (n > 0 && a.Get(0u).IsNumber()) {
    for (uint32_t i = 0; i + 1 < n; i += 2) {
      Napi::Value x = a.Get(i), y = a.Get(i + 1);
      Require(x.IsNumber() && y.IsNumber(), env, what);
      pts.emplace_back(x.As<Napi::Number>().FloatValue(), y.As<Napi::Number>().FloatValue());
    }
    return pts;
  }
  pts.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value p = a.Get(i);
    Require(p.IsArray(), env, what + " (expected [x, y] points)");
    Napi::Array xy = p.As<Napi::Array>();
    Napi::Value x = xy.Get(0u), y = xy.Get(1u);
    Require(x.IsNumber() && y.IsNumber(), env, what + " (expected [x, y] points)");
    pts.emplace_back(x.As<Napi::Number>().FloatValue(), y.As<Napi::Number>().FloatValue());
  }
  return pts;
}

std::string FormatOf(const Napi::Env& env, const Napi::Value& options) {
  if (!options.IsObject()) return "png";
  Napi::Value f = Own(options.As<Napi::Object>(), "format");
  if (f.IsUndefined()) return "png";
  Require(f.IsString(), env, "options.format");
  return f.As<Napi::String>().Utf8Value();
}

class RenderWorker : public Napi::AsyncWorker {
 public:
  RenderWorker(Napi::Env env, const char* name, std::string format)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), format_(std::move(format)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual cv::Mat Render() = 0;

  void Execute() override {
    if (!Guard(failure_, [&] {
          cv::Mat bgr = Render();
          width_ = bgr.cols;
          height_ = bgr.rows;
          encoded_ = craft::EncodeImage(bgr, format_);
        })) {
      SetError(failure_.message);
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      Napi::Object o = Napi::Object::New(env);
      // A copy, not an external buffer: works where external ArrayBuffers are refused (Electron).
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, encoded_.data(), encoded_.size()));
      o.Set("width", Napi::Number::New(env, width_));
      o.Set("height", Napi::Number::New(env, height_));
      deferred_.Resolve(o);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(MakeError(Env(), failure_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string format_;
  NativeFailure failure_;
  std::vector<uint8_t> encoded_;
  int width_ = 0, height_ = 0;
};

class OverlayWorker : public RenderWorker {
 public:
  // The image bytes are taken under input.h's rule: the caller's array may be detached or resized while this runs.
  OverlayWorker(Napi::Env env, Bytes image, std::vector<craft::Stroke> strokes,
                std::vector<craft::Label> labels, std::vector<craft::CaptionRow> caption, std::string format,
                uint64_t maxPixels)
      : RenderWorker(env, "craft.renderOverlay", std::move(format)),
        image_(std::move(image)),
        strokes_(std::move(strokes)),
        labels_(std::move(labels)),
        caption_(std::move(caption)),
        maxPixels_(maxPixels) {}

 protected:
  cv::Mat Render() override {
    cv::Mat rgb = craft::DecodeImage(image_.data(), image_.size(), maxPixels_);
    return craft::DrawOverlay(rgb, strokes_, labels_, caption_);
  }

 private:
  Bytes image_;
  std::vector<craft::Stroke> strokes_;
  std::vector<craft::Label> labels_;
  std::vector<craft::CaptionRow> caption_;
  uint64_t maxPixels_;
};

class HeatmapWorker : public RenderWorker {
 public:
  HeatmapWorker(Napi::Env env, std::vector<float> region, std::vector<float> affinity, int width, int height,
                std::string format)
      : RenderWorker(env, "craft.renderHeatmaps", std::move(format)),
        region_(std::move(region)),
        affinity_(std::move(affinity)),
        width_(width),
        height_(height) {}

 protected:
  cv::Mat Render() override { return craft::HeatmapImage(region_.data(), affinity_.data(), width_, height_); }

 private:
  std::vector<float> region_, affinity_;
  int width_, height_;
};

}  // namespace

Napi::Value RenderOverlay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(info.Length() >= 3 && info[0].IsTypedArray() && info[1].IsArray() && info[2].IsArray(), env,
          "renderOverlay arguments (image, strokes, labels, options)");
  Napi::TypedArray t = info[0].As<Napi::TypedArray>();
  Require(t.TypedArrayType() == napi_uint8_array, env, "image (Uint8Array expected)");
  Require(t.ByteLength() > 0, env, "image (empty)");

  std::vector<craft::Stroke> strokes;
  Napi::Array sa = info[1].As<Napi::Array>();
  strokes.reserve(sa.Length());
  for (uint32_t i = 0; i < sa.Length(); i++) {
    const std::string what = "strokes[" + std::to_string(i) + "]";
    Napi::Value sv = sa.Get(i);
    Require(sv.IsObject(), env, what);
    Napi::Object so = sv.As<Napi::Object>();
    craft::Stroke s;
    s.points = PointsOf(env, Own(so, "points"), what + ".points");
    s.rgb = ColorOf(env, Own(so, "color"), s.rgb, what + ".color");
    Napi::Value th = Own(so, "thickness");
    if (th.IsNumber()) s.thickness = std::max(0, std::min(64, th.As<Napi::Number>().Int32Value()));
    Napi::Value closed = Own(so, "closed");
    if (closed.IsBoolean()) s.closed = closed.As<Napi::Boolean>().Value();
    strokes.push_back(std::move(s));
  }

  std::vector<craft::Label> labels;
  Napi::Array la = info[2].As<Napi::Array>();
  for (uint32_t i = 0; i < la.Length(); i++) {
    const std::string what = "labels[" + std::to_string(i) + "]";
    Napi::Value lv = la.Get(i);
    Require(lv.IsObject(), env, what);
    Napi::Object lo = lv.As<Napi::Object>();
    Napi::Value text = Own(lo, "text"), x = Own(lo, "x"), y = Own(lo, "y");
    Require(text.IsString() && x.IsNumber() && y.IsNumber(), env, what + " (expected { text, x, y })");
    craft::Label l;
    l.text = text.As<Napi::String>().Utf8Value();
    l.at = cv::Point2f(x.As<Napi::Number>().FloatValue(), y.As<Napi::Number>().FloatValue());
    l.rgb = ColorOf(env, Own(lo, "color"), l.rgb, what + ".color");
    l.backgroundRgb = ColorOf(env, Own(lo, "background"), l.backgroundRgb, what + ".background");
    Napi::Value height = Own(lo, "height");
    if (height.IsNumber()) {
      const float h = height.As<Napi::Number>().FloatValue();
      l.height = std::isfinite(h) && h > 0 ? std::min(h, 4096.f) : 0.f;
    }
    labels.push_back(std::move(l));
  }

  uint64_t maxPixels = 268402689;
  std::vector<craft::CaptionRow> caption;
  if (info.Length() >= 4 && info[3].IsObject()) {
    Napi::Object o = info[3].As<Napi::Object>();
    Napi::Value mp = Own(o, "maxPixels");
    if (mp.IsNumber() && mp.As<Napi::Number>().DoubleValue() >= 0) {
      maxPixels = static_cast<uint64_t>(mp.As<Napi::Number>().DoubleValue());
    }
    Napi::Value cv = Own(o, "caption");
    if (!cv.IsUndefined()) {
      Require(cv.IsArray(), env, "options.caption (expected rows of [{ text, color }])");
      Napi::Array rows = cv.As<Napi::Array>();
      for (uint32_t r = 0; r < rows.Length(); r++) {
        const std::string what = "options.caption[" + std::to_string(r) + "]";
        Napi::Value rv = rows.Get(r);
        Require(rv.IsArray(), env, what);
        Napi::Array pieces = rv.As<Napi::Array>();
        craft::CaptionRow row;
        for (uint32_t k = 0; k < pieces.Length(); k++) {
          Napi::Value pv = pieces.Get(k);
          Require(pv.IsObject() && Own(pv.As<Napi::Object>(), "text").IsString(), env, what + " (expected { text, color })");
          craft::Label l;
          l.text = Own(pv.As<Napi::Object>(), "text").As<Napi::String>().Utf8Value();
          l.rgb = ColorOf(env, Own(pv.As<Napi::Object>(), "color"), l.rgb, what + ".color");
          row.push_back(std::move(l));
        }
        caption.push_back(std::move(row));
      }
    }
  }
  const std::string format = FormatOf(env, info.Length() >= 4 ? info[3] : env.Undefined());
  Bytes image = TakeBytes(env, info[0], "image");
  auto* worker = new OverlayWorker(env, std::move(image), std::move(strokes), std::move(labels), std::move(caption), format,
                                   maxPixels);
  worker->Queue();
  return worker->Promise();
}

Napi::Value RenderHeatmaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(info.Length() >= 4 && info[0].IsTypedArray() && info[1].IsTypedArray() && info[2].IsNumber() &&
              info[3].IsNumber(),
          env, "renderHeatmaps arguments (region, affinity, width, height, options)");
  Napi::TypedArray r = info[0].As<Napi::TypedArray>(), a = info[1].As<Napi::TypedArray>();
  Require(r.TypedArrayType() == napi_float32_array && a.TypedArrayType() == napi_float32_array, env,
          "heatmaps (Float32Array expected)");
  const int width = info[2].As<Napi::Number>().Int32Value();
  const int height = info[3].As<Napi::Number>().Int32Value();
  Require(width > 0 && height > 0 && r.ElementLength() >= static_cast<size_t>(width) * height &&
              a.ElementLength() >= static_cast<size_t>(width) * height,
          env, "heatmap size");
  const std::string format = FormatOf(env, info.Length() >= 5 ? info[4] : env.Undefined());
  const size_t count = static_cast<size_t>(width) * height;
  auto* worker = new HeatmapWorker(env, CopyFloats(env, r, count, "heatmaps (region)"),
                                   CopyFloats(env, a, count, "heatmaps (affinity)"), width, height, format);
  worker->Queue();
  return worker->Promise();
}

}  // namespace craft_napi
