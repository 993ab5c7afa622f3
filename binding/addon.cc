// Module init only: per-environment class constructors (worker_threads safe) and the exported functions.
#include <napi.h>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "detector_wrap.h"
#include "input.h"
#include "recognizer_wrap.h"
#include "render.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // OpenCV logs decoder warnings to stderr; failures reach users as rejected promises instead.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  // Our parallelism is ONNX Runtime's and libuv's; OpenCV's own pool would oversubscribe the cores.
  cv::setNumThreads(0);

  auto* data = new craft_napi::AddonData();
  Napi::Function detector = craft_napi::DetectorWrap::Init(env);
  Napi::Function control = craft_napi::RunControlWrap::Init(env);
  data->detectorConstructor = Napi::Persistent(detector);
  data->recognizerConstructor = Napi::Persistent(craft_napi::RecognizerWrap::Init(env));
  data->runControlConstructor = Napi::Persistent(control);
  env.SetInstanceData(data);

  exports.Set("RunControl", control);
  exports.Set("createDetector", Napi::Function::New(env, craft_napi::CreateDetector, "createDetector"));
  exports.Set("createRecognizer", Napi::Function::New(env, craft_napi::CreateRecognizer, "createRecognizer"));
  exports.Set("loadLanguageModel", Napi::Function::New(env, craft_napi::LoadLanguageModel, "loadLanguageModel"));
  exports.Set("decodeImage", Napi::Function::New(env, craft_napi::DecodeImage, "decodeImage"));
  exports.Set("releaseImage", Napi::Function::New(env, craft_napi::ReleaseImage, "releaseImage"));
  exports.Set("postprocess", Napi::Function::New(env, craft_napi::Postprocess, "postprocess"));
  exports.Set("ortInfo", Napi::Function::New(env, craft_napi::OrtInfo, "ortInfo"));
  exports.Set("setExternalBuffers", Napi::Function::New(env, craft_napi::SetExternalBuffers, "setExternalBuffers"));
  exports.Set("renderOverlay", Napi::Function::New(env, craft_napi::RenderOverlay, "renderOverlay"));
  exports.Set("renderHeatmaps", Napi::Function::New(env, craft_napi::RenderHeatmaps, "renderHeatmaps"));
  exports.Set("opencvVersion", Napi::String::New(env, CV_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(craft, Init)
