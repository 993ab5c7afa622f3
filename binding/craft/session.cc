#include "session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

#include "error.h"
#include "file.h"
#include "float_mode.h"
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

std::string ElementTypeName(int type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return "uint16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return "int16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return "string";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return "bool";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    default: return "element type " + std::to_string(type);
  }
}

void CheckFloatOutput(Ort::Session& session, size_t index, size_t rank, const std::string& model,
                      const std::string& role) {
  Ort::AllocatorWithDefaultOptions alloc;
  const std::string name = session.GetOutputNameAllocated(index, alloc).get();
  const std::string which = "output '" + name + "' (#" + std::to_string(index) + ", the " + role + ")";
  auto ti = session.GetOutputTypeInfo(index);
  if (ti.GetONNXType() != ONNX_TYPE_TENSOR) {
    throw Error(ErrorCode::kModelLoad, "Model " + model + ": " + which + " is not a tensor");
  }
  auto tt = ti.GetTensorTypeAndShapeInfo();
  const int type = tt.GetElementType();
  if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    throw Error(ErrorCode::kModelLoad, "Model " + model + ": " + which + " is " + ElementTypeName(type) +
                                           "; craft-text reads float32 outputs (export or convert the model with "
                                           "float32 outputs, or add a Cast to float32)");
  }
  const auto shape = tt.GetShape();
  if (shape.size() != rank) {
    throw Error(ErrorCode::kModelLoad, "Model " + model + ": " + which + " has shape " + ShapeString(shape) +
                                           ", expected rank " + std::to_string(rank));
  }
}

const float* FloatOutputData(const Ort::Value& value, size_t count, const std::string& role) {
  if (!value.IsTensor()) throw Error(ErrorCode::kInference, "The model's " + role + " is not a tensor");
  auto info = value.GetTensorTypeAndShapeInfo();
  if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    throw Error(ErrorCode::kInference, "The model's " + role + " is " + ElementTypeName(info.GetElementType()) +
                                           ", expected float32");
  }
  if (info.GetElementCount() != count) {
    throw Error(ErrorCode::kInference, "The model's " + role + " has shape " + ShapeString(info.GetShape()) + " (" +
                                           std::to_string(info.GetElementCount()) + " values), expected " +
                                           std::to_string(count));
  }
  return value.GetTensorData<float>();
}

RunControl::RunControl() : options_(std::make_unique<Ort::RunOptions>()) {}
RunControl::~RunControl() = default;
void RunControl::Terminate() {
  terminated_.store(true, std::memory_order_release);
  options_->SetTerminate();  // ORT stores the flag atomically; safe while another thread is inside Run()
}
bool RunControl::terminated() const { return terminated_.load(std::memory_order_acquire); }
Ort::RunOptions& RunControl::options() { return *options_; }

void RunGate::Acquire(RunControl* control) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (limit_ > 0 && stats_.running >= limit_) {
    // RunControl::Terminate does not know this gate: look at it a few times a second while waiting.
    if (control != nullptr && control->terminated()) throw Error(ErrorCode::kAborted, "Inference was aborted");
    freed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  if (control != nullptr && control->terminated()) throw Error(ErrorCode::kAborted, "Inference was aborted");
  stats_.runs++;
  stats_.running++;
  stats_.peak = std::max(stats_.peak, stats_.running);
}

void RunGate::Release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.running--;
  }
  freed_.notify_one();
}

RunStats RunGate::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

OrtModel::OrtModel(const SessionOptions& o) : gate_(std::max(0, o.maxConcurrentRuns)) {
  LoadOrtRuntime(o.ortLibrary);
  name_ = ModelName(o);
  const std::string& name = name_;
  // ONNX Runtime opens the path itself: a FIFO would block its open() (and this libuv thread) forever.
  if (o.modelData.empty()) RequireRegularFile(o.modelPath, ErrorCode::kModelLoad, "Model file");
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
  gate_.Acquire(control);
  struct Slot {
    RunGate& gate;
    ~Slot() { gate.Release(); }
  } slot{gate_};
  // ONNX Runtime flushes denormals (session.set_denormal_as_zero, BaseOptions) on its intra-op pool threads and on
  // the thread that creates a session; the thread that calls Run() computes its share of every parallel section (all
  // of it with one thread) in whatever mode that libuv pool thread happens to have. The run's thread gets the pool
  // threads' mode for the run, so the numbers do not depend on which thread ran them (once measured: a 256-wide
  // recogniser read one word of a page differently with 1 and 2 threads).
  ScopedFloatMode daz(FloatMode::Current().DenormalsAsZero());
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
  // Every output the detector reads is read as float32 of the shape checked here.
  CheckFloatOutput(*session_, static_cast<size_t>(info_.scoreOutput), 4, name, "region/affinity score output");
  if (info_.refinedOutput >= 0) {
    CheckFloatOutput(*session_, static_cast<size_t>(info_.refinedOutput), 4, name, "LinkRefiner output");
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
  const float* data = FloatOutputData(outs[0], count, "region/affinity score output");
  result.scores.assign(data, data + count);
  if (outs.size() > 1) {
    const size_t rcount = static_cast<size_t>(n) * result.h * result.w;
    const float* r = FloatOutputData(outs[1], rcount, "LinkRefiner output");
    result.refined.assign(r, r + rcount);
  }
  return result;
}

}  // namespace craft
