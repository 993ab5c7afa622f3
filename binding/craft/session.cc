#include "session.h"

#include <cstring>
#include <mutex>

#include "error.h"
#include "ort.h"
#include "ort_api.h"

namespace craft {

namespace {

// One Ort::Env per process, created after the runtime is loaded; sessions from any thread or detector share it.
Ort::Env& SharedEnv() {
  static std::once_flag once;
  static std::unique_ptr<Ort::Env> env;
  std::call_once(once, [] { env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "craft-text"); });
  return *env;
}

// Appends a GPU provider; the provider functions exist in every ORT build and fail with a status in CPU-only ones.
void AppendProvider(Ort::SessionOptions& so, const std::string& name, int device_id) {
  const OrtApi& api = Ort::GetApi();
  if (name == "cuda") {
    OrtCUDAProviderOptionsV2* cuda = nullptr;
    Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
    std::unique_ptr<OrtCUDAProviderOptionsV2, decltype(api.ReleaseCUDAProviderOptions)> guard(
        cuda, api.ReleaseCUDAProviderOptions);
    std::string dev = std::to_string(device_id);
    const char* keys[] = {"device_id"};
    const char* values[] = {dev.c_str()};
    Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 1));
    Ort::ThrowOnError(api.SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda));
  } else if (name == "tensorrt") {
    OrtTensorRTProviderOptionsV2* trt = nullptr;
    Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&trt));
    std::unique_ptr<OrtTensorRTProviderOptionsV2, decltype(api.ReleaseTensorRTProviderOptions)> guard(
        trt, api.ReleaseTensorRTProviderOptions);
    std::string dev = std::to_string(device_id);
    const char* keys[] = {"device_id"};
    const char* values[] = {dev.c_str()};
    Ort::ThrowOnError(api.UpdateTensorRTProviderOptions(trt, keys, values, 1));
    Ort::ThrowOnError(api.SessionOptionsAppendExecutionProvider_TensorRT_V2(so, trt));
  }
}

Ort::SessionOptions BaseOptions(const SessionOptions& o) {
  Ort::SessionOptions so;
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  if (o.intraOpThreads > 0) so.SetIntraOpNumThreads(o.intraOpThreads);
  so.SetInterOpNumThreads(o.interOpThreads > 0 ? o.interOpThreads : 1);
  // Denormals in deep conv stacks make some CPUs many times slower; flushing them does not change CRAFT's maps.
  so.AddConfigEntry("session.set_denormal_as_zero", "1");
  if (!o.intraOpSpinning) so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  return so;
}

std::unique_ptr<Ort::Session> MakeSession(const SessionOptions& o, Ort::SessionOptions& so) {
  if (!o.modelData.empty()) {
    return std::make_unique<Ort::Session>(SharedEnv(), o.modelData.data(), o.modelData.size(), so);
  }
  return std::make_unique<Ort::Session>(SharedEnv(), o.modelPath.c_str(), so);
}

std::string ModelName(const SessionOptions& o) {
  return o.modelData.empty() ? "'" + o.modelPath + "'" : "<" + std::to_string(o.modelData.size()) + " bytes>";
}

}  // namespace

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) {
    if (i) s += ",";
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

RunControl::RunControl() : options_(std::make_unique<Ort::RunOptions>()) {}
RunControl::~RunControl() = default;
void RunControl::Terminate() {
  terminated_.store(true, std::memory_order_release);
  options_->SetTerminate();  // ORT stores the flag atomically; safe while another thread is inside Run()
}
bool RunControl::terminated() const { return terminated_.load(std::memory_order_acquire); }
Ort::RunOptions& RunControl::options() { return *options_; }

OrtModel::OrtModel(const SessionOptions& o) {
  LoadOrtRuntime(o.ortLibrary);
  name_ = ModelName(o);
  const std::string& name = name_;
  if (o.executionProviders.empty()) throw Error(ErrorCode::kModelLoad, "No execution provider requested");

  // Try each provider in order; a provider that can't be appended or can't create the session falls through.
  for (size_t i = 0; i < o.executionProviders.size() && !session_; i++) {
    const std::string& ep = o.executionProviders[i];
    ProviderAttempt attempt{ep, false, ""};
    try {
      Ort::SessionOptions so = BaseOptions(o);
      if (ep != "cpu") AppendProvider(so, ep, o.deviceId);
      session_ = MakeSession(o, so);
      attempt.ok = true;
      info_.executionProvider = ep;
    } catch (const Ort::Exception& e) {
      attempt.reason = e.what();
      // A model that fails on CPU fails everywhere: report it as a model error right away.
      if (ep == "cpu") {
        info_.providerAttempts.push_back(attempt);
        throw Error(ErrorCode::kModelLoad, "Failed to load model " + name + ": " + e.what());
      }
    }
    info_.providerAttempts.push_back(attempt);
  }
  if (!session_) {
    std::string why;
    for (const auto& a : info_.providerAttempts) why += (why.empty() ? "" : "; ") + a.name + ": " + a.reason;
    throw Error(ErrorCode::kModelLoad, "No requested execution provider could run model " + name + " (" + why + ")");
  }

  Ort::AllocatorWithDefaultOptions alloc;
  const size_t outputs = session_->GetOutputCount();
  for (size_t i = 0; i < outputs; i++) {
    info_.outputNames.emplace_back(session_->GetOutputNameAllocated(i, alloc).get());
  }
  if (session_->GetInputCount() > 0) info_.inputName = session_->GetInputNameAllocated(0, alloc).get();
  Ort::ModelMetadata meta = session_->GetModelMetadata();
  for (auto& key : meta.GetCustomMetadataMapKeysAllocated(alloc)) {
    auto value = meta.LookupCustomMetadataMapAllocated(key.get(), alloc);
    if (value) info_.metadata[key.get()] = value.get();
  }
}

OrtModel::~OrtModel() = default;

std::vector<Ort::Value> OrtModel::RunRaw(const float* input, const int64_t* shape, size_t rank,
                                         const std::vector<const char*>& outputs, RunControl* control) const {
  size_t count = 1;
  for (size_t i = 0; i < rank; i++) count *= static_cast<size_t>(shape[i]);
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  // The tensor borrows the caller's buffer: no copy of the (possibly large) input.
  Ort::Value tensor = Ort::Value::CreateTensor<float>(mem, const_cast<float*>(input), count, shape, rank);
  const char* in_names[] = {info_.inputName.c_str()};
  try {
    Ort::RunOptions default_options{nullptr};
    Ort::RunOptions& ro = control != nullptr ? control->options() : default_options;
    return session_->Run(ro, in_names, &tensor, 1, outputs.data(), outputs.size());
  } catch (const Ort::Exception& e) {
    if (control != nullptr && control->terminated()) throw Error(ErrorCode::kAborted, "Inference was aborted");
    throw Error(ErrorCode::kInference, std::string("Inference failed: ") + e.what());
  }
}

Session::Session(const SessionOptions& o) : OrtModel(o) {
  const std::string& name = name_;
  // Check the model has CRAFT's interface: one image input [N,3,H,W], a [N,H/2,W/2,2] score output.
  if (session_->GetInputCount() != 1) {
    throw Error(ErrorCode::kModelLoad, "Model " + name + " is not a CRAFT model: expected 1 input, found " +
                                           std::to_string(session_->GetInputCount()));
  }
  {
    auto ti = session_->GetInputTypeInfo(0);
    if (ti.GetONNXType() != ONNX_TYPE_TENSOR) {
      throw Error(ErrorCode::kModelLoad, "Model " + name + " is not a CRAFT model: its input is not a tensor");
    }
    auto tt = ti.GetTensorTypeAndShapeInfo();
    auto shape = tt.GetShape();
    if (tt.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || shape.size() != 4 ||
        (shape[1] != 3 && shape[1] >= 0)) {
      throw Error(ErrorCode::kModelLoad, "Model " + name +
                                             " is not a CRAFT model: expected a float32 input [N,3,H,W], found " +
                                             ShapeString(shape));
    }
    info_.fixedBatch = shape[0];
  }
  const size_t outputs = session_->GetOutputCount();
  bool found_scores = false;
  for (size_t i = 0; i < outputs; i++) {
    auto ti = session_->GetOutputTypeInfo(i);
    if (ti.GetONNXType() != ONNX_TYPE_TENSOR) continue;
    auto shape = ti.GetTensorTypeAndShapeInfo().GetShape();
    if (shape.size() != 4) continue;
    const int64_t last = shape[3];
    // A fully dynamic first output is accepted and checked on the first run; a fixed channel dim of 3 is not CRAFT.
    if (!found_scores && (last == 2 || (last < 0 && shape[1] < 0 && shape[2] < 0 && i == 0))) {
      info_.scoreOutput = static_cast<int>(i);
      found_scores = true;
    } else if (last == 1 && info_.refinedOutput < 0) {
      info_.refinedOutput = static_cast<int>(i);
    }
  }
  if (!found_scores) {
    throw Error(ErrorCode::kModelLoad, "Model " + name +
                                           " is not a CRAFT model: no [N,H/2,W/2,2] region/affinity output");
  }
}

ModelOutput Session::Run(const float* input, int n, int h, int w, RunControl* control) const {
  if (info_.fixedBatch > 0 && n != info_.fixedBatch) {
    throw Error(ErrorCode::kInference, "Model has a fixed batch size of " + std::to_string(info_.fixedBatch) +
                                           ", got " + std::to_string(n));
  }
  const std::array<int64_t, 4> shape{n, 3, h, w};
  std::vector<const char*> out_names{info_.outputNames[info_.scoreOutput].c_str()};
  if (info_.refinedOutput >= 0) out_names.push_back(info_.outputNames[info_.refinedOutput].c_str());
  std::vector<Ort::Value> outs = RunRaw(input, shape.data(), 4, out_names, control);

  ModelOutput result;
  auto shape_out = outs[0].GetTensorTypeAndShapeInfo().GetShape();
  if (shape_out.size() != 4 || shape_out[0] != n || shape_out[3] != 2) {
    throw Error(ErrorCode::kInference, "Model output has shape " + ShapeString(shape_out) + ", expected [" +
                                           std::to_string(n) + ",H/2,W/2,2]");
  }
  result.n = n;
  result.h = static_cast<int>(shape_out[1]);
  result.w = static_cast<int>(shape_out[2]);
  const size_t count = static_cast<size_t>(n) * result.h * result.w * 2;
  const float* data = outs[0].GetTensorData<float>();
  result.scores.assign(data, data + count);
  if (outs.size() > 1) {
    auto rshape = outs[1].GetTensorTypeAndShapeInfo().GetShape();
    const size_t rcount = static_cast<size_t>(n) * result.h * result.w;
    if (outs[1].GetTensorTypeAndShapeInfo().GetElementCount() != rcount) {
      throw Error(ErrorCode::kInference, "Refiner output has shape " + ShapeString(rshape));
    }
    const float* r = outs[1].GetTensorData<float>();
    result.refined.assign(r, r + rcount);
  }
  return result;
}

}  // namespace craft
