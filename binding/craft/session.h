// ONNX Runtime sessions: OrtModel opens a model on the first execution provider that loads it (shared by the
// detector and the recogniser); Session adds CRAFT's interface checks and Run() on a NCHW batch.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace Ort {
struct Session;
struct Value;
struct Env;
struct RunOptions;
}  // namespace Ort

namespace craft {

struct SessionOptions {
  std::string modelPath;              // either a path ...
  std::vector<uint8_t> modelData;     // ... or the model bytes
  std::string ortLibrary;             // libonnxruntime.so path (resolved by the caller)
  int intraOpThreads = 0;             // 0 = ONNX Runtime's default (one per physical core)
  int interOpThreads = 1;
  bool intraOpSpinning = true;        // ORT's spin-wait between ops; off saves CPU when many sessions share cores
  std::vector<std::string> executionProviders{"cpu"};  // tried in order: "tensorrt", "cuda", "cpu"
  int deviceId = 0;
  int maxConcurrentRuns = 0;          // network runs of this model at once (RunGate); 0 = no limit
  // The recogniser's batches of one call run on up to this many threads at once (Recognizer::RunMany), each run
  // counting as one of maxConcurrentRuns' times this many. The detector ignores it.
  int runLanes = 1;
};

struct ProviderAttempt {
  std::string name;
  bool ok = false;
  std::string reason;  // why it was not used
};

struct ModelInfo {
  std::string inputName;
  std::vector<std::string> outputNames;
  int scoreOutput = 0;                 // index of the [N,H/2,W/2,2] region/affinity output
  int refinedOutput = -1;              // index of the LinkRefiner's [N,H/2,W/2,1] output, -1 if absent
  int64_t fixedBatch = -1;             // -1 when the batch dimension is dynamic
  std::string executionProvider;       // the provider the session runs on
  std::vector<ProviderAttempt> providerAttempts;
  std::map<std::string, std::string> metadata;  // ONNX custom metadata (model defaults live here)
};

// Cancels a running inference from another thread (ONNX Runtime's run-options terminate flag). Terminate() may be
// called from any thread, before or during Run(); ONNX Runtime checks the flag between operators, so a run stops
// after the operator in progress. One-shot: a terminated control stays terminated.
class RunControl {
 public:
  RunControl();
  ~RunControl();
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;
  void Terminate();
  bool terminated() const;
  Ort::RunOptions& options();

 private:
  std::unique_ptr<Ort::RunOptions> options_;
  std::atomic<bool> terminated_{false};
};

// Heatmaps of a batch, CRAFT layout: scores [n, h, w, 2] (region, affinity); refined [n, h, w] or empty.
struct ModelOutput {
  int n = 0, h = 0, w = 0;
  std::vector<float> scores;
  std::vector<float> refined;
};

// Output checks shared by every model the addon runs (the detector's, a recognizer's): the addon reads outputs as
// float32, so an output of another element type (float16, uint8, ...) or rank must be refused when the model loads,
// or its bytes would be read as floats past the end of the tensor.
//
// Throws kModelLoad, naming the model, the output and what is wrong, unless output `index` is a float32 tensor of
// rank `rank`. `role` says what the output is for ("region/affinity score output").
void CheckFloatOutput(Ort::Session& session, size_t index, size_t rank, const std::string& model,
                      const std::string& role);
// Run-time counterpart (the declared type and shape may be dynamic): the data of a float32 tensor holding exactly
// `count` elements; throws kInference otherwise.
const float* FloatOutputData(const Ort::Value& value, size_t count, const std::string& role);
// "float32", "float16", "uint8", ...: ONNX element type names for messages.
std::string ElementTypeName(int onnxElementType);

// Network runs of one model: counted, and at most `limit` at once (0 = no limit), whoever runs them. The facade's
// scheduler starts at most `concurrency` inference stages, but the extra passes of scale 'auto' (the probe, the
// large-text and upscaled passes) run inside its prepare and finish stages, which it does not count as inferences;
// without this gate they ran beside the pool's inferences and oversubscribed the cores the pool was sized for
// (each run has `threads` intra-op threads). A run over the limit waits for a slot; a terminated control ends the
// wait (kAborted), so a cancelled request never starts another run.
struct RunStats {
  uint64_t runs = 0;  // started since creation
  int running = 0;    // now
  int peak = 0;       // the most at once
};

class RunGate {
 public:
  explicit RunGate(int limit) : limit_(limit) {}
  void Acquire(RunControl* control);
  void Release();
  RunStats stats() const;

 private:
  const int limit_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  RunStats stats_;
};

// An ONNX model opened on the first requested execution provider that loads it: input/output names, the batch
// dimension and the custom metadata are read; interface checks are the subclasses' (CRAFT, recogniser).
class OrtModel {
 public:
  explicit OrtModel(const SessionOptions& options);
  virtual ~OrtModel();
  OrtModel(const OrtModel&) = delete;
  OrtModel& operator=(const OrtModel&) = delete;

  const ModelInfo& info() const { return info_; }
  RunStats runStats() const { return gate_.stats(); }

 protected:
  // Runs the single input [shape] (borrowed) and returns the requested outputs; ORT failures become kInference, a
  // terminated control kAborted. Thread-safe (ORT sessions allow concurrent Run).
  std::vector<Ort::Value> RunRaw(const float* input, const int64_t* shape, size_t rank,
                                 const std::vector<const char*>& outputs, RunControl* control) const;

  std::unique_ptr<Ort::Session> session_;
  ModelInfo info_;
  std::string name_;  // for messages: the path in quotes, or <N bytes>
  mutable RunGate gate_;  // every RunRaw goes through it
};

// "[1,?,32,100]" for messages.
std::string ShapeString(const std::vector<int64_t>& shape);

class Session : public OrtModel {
 public:
  explicit Session(const SessionOptions& options);

  // input: [n, 3, h, w] float32, h and w multiples of 32. Thread-safe (ORT sessions allow concurrent Run).
  ModelOutput Run(const float* input, int n, int h, int w, RunControl* control = nullptr) const;
};

}  // namespace craft
