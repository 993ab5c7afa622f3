#include "recognizer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "contrast.h"
#include "deskew.h"
#include "error.h"
#include "float_mode.h"
#include "ink_crop.h"
#include "metadata.h"
#include "ort.h"
#include "pil_resize.h"
#include "stretch.h"
#include "vertical.h"

namespace craft {

namespace {

bool SameCrop(const CropPlan& a, const CropPlan& b) {
  if (a.points.size() != b.points.size() || a.width != b.width || a.height != b.height) return false;
  for (size_t k = 0; k < a.points.size(); k++) {
    if (a.points[k].x != b.points[k].x || a.points[k].y != b.points[k].y) return false;
  }
  return true;
}

}  // namespace

RecognizerConfig ParseRecognizerConfig(const std::map<std::string, std::string>& meta, const std::string& model) {
  const std::string prefix = "Model " + model + " is not a recogniser in craft-text's contract (docs/recognition.md): ";
  auto get = [&](const std::string& key) -> const std::string* {
    auto it = meta.find(key);
    return it == meta.end() ? nullptr : &it->second;
  };
  auto bad = [&](const std::string& why) { throw Error(ErrorCode::kModelLoad, prefix + why); };
  auto integer = [&](const std::string& key, int lo, int hi, int fallback, bool required) {
    const std::string* v = get(key);
    if (v == nullptr) {
      if (required) bad("metadata " + key + " is missing");
      return fallback;
    }
    char* end = nullptr;
    const long n = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < lo || n > hi) {
      bad("metadata " + key + " = '" + *v + "' is not an integer in [" + std::to_string(lo) + ", " +
          std::to_string(hi) + "]");
    }
    return static_cast<int>(n);
  };
  auto number = [&](const std::string& key, double fallback) {  // a bad value throws: metadata.h
    const std::string* v = get(key);
    if (v == nullptr) return fallback;
    double d = 0;
    if (!ParseMetadataNumber(*v, d)) bad("metadata " + key + " = '" + *v + "' is not a number");
    return d;
  };
  auto choice = [&](const std::string& key, std::initializer_list<const char*> allowed, const char* fallback) {
    const std::string* v = get(key);
    if (v == nullptr) {
      if (fallback == nullptr) bad("metadata " + key + " is missing");
      return std::string(fallback);
    }
    std::string list;
    for (const char* a : allowed) {
      if (*v == a) return *v;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    bad("metadata " + key + " = '" + *v + "' is not one of " + list);
    return std::string();
  };

  const std::string* task = get("craft.task");
  if (task == nullptr || *task != "recognition") {
    const bool detector = task == nullptr && (get("craft.textThreshold") != nullptr || get("craft.architecture"));
    bad(task == nullptr ? std::string("no craft.task = 'recognition' metadata") +
                              (detector ? " (this looks like a CRAFT detector)" : "")
                        : "craft.task is '" + *task + "', not 'recognition'");
  }
  RecognizerConfig c;
  const std::string* name = get("craft.recognizer.name");
  if (name != nullptr) c.name = *name;
  const std::string* charset = get("craft.recognizer.charset");
  if (charset == nullptr) bad("metadata craft.recognizer.charset (the characters, a JSON array) is missing");
  try {
    c.charset = ParseJsonStringArray(*charset);
  } catch (const std::invalid_argument& e) {
    bad(std::string("metadata craft.recognizer.charset is not a JSON array of strings (") + e.what() + ")");
  }
  if (c.charset.empty()) bad("metadata craft.recognizer.charset is empty");
  for (size_t i = 0; i < c.charset.size(); i++) {
    if (c.charset[i].empty()) bad("metadata craft.recognizer.charset[" + std::to_string(i) + "] is an empty string");
  }
  c.decoder = choice("craft.recognizer.decoder", {"ctc", "attn"}, nullptr) == "ctc" ? DecoderKind::kCtc
                                                                                      : DecoderKind::kAttn;
  c.imgH = integer("craft.recognizer.imgH", 1, 4096, 32, true);
  c.imgW = integer("craft.recognizer.imgW", 1, 65536, 100, true);
  const std::string dyn = choice("craft.recognizer.dynamicWidth", {"true", "false"}, "false");
  c.dynamicWidth = dyn == "true";
  c.channels = integer("craft.recognizer.channels", 1, 3, 1, true);
  if (c.channels != 1 && c.channels != 3) bad("metadata craft.recognizer.channels must be 1 or 3");
  c.resize = choice("craft.recognizer.resize", {"squash", "pad"}, "squash") == "pad" ? ResizeKind::kPad
                                                                                     : ResizeKind::kSquash;
  choice("craft.recognizer.interpolation", {"bicubic"}, "bicubic");
  c.mean = static_cast<float>(number("craft.recognizer.mean", 0.5));
  c.std = static_cast<float>(number("craft.recognizer.std", 0.5));
  if (!(c.std > 0)) bad("metadata craft.recognizer.std must be positive");
  c.confidence = choice("craft.recognizer.confidence", {"dtrb", "easyocr"}, "dtrb") == "easyocr"
                     ? ConfidenceKind::kEasyOcr
                     : ConfidenceKind::kDtrb;
  c.batchMaxLength = integer("craft.recognizer.batchMaxLength", 1, 100000, 25, false);
  c.margin = number("craft.recognizer.margin", 0);
  if (!(c.margin >= 0 && c.margin <= 1)) bad("metadata craft.recognizer.margin must be in [0, 1]");
  return c;
}

RecognizerSession::RecognizerSession(const SessionOptions& o) : OrtModel(o) {
  config_ = ParseRecognizerConfig(info_.metadata, name_);
  const std::string prefix = "Model " + name_ + " does not match its recogniser metadata: ";
  if (session_->GetInputCount() != 1) {
    throw Error(ErrorCode::kModelLoad, prefix + "expected 1 input, found " + std::to_string(session_->GetInputCount()));
  }
  auto ti = session_->GetInputTypeInfo(0);
  if (ti.GetONNXType() != ONNX_TYPE_TENSOR) throw Error(ErrorCode::kModelLoad, prefix + "its input is not a tensor");
  auto tt = ti.GetTensorTypeAndShapeInfo();
  auto in = tt.GetShape();
  const RecognizerConfig& c = config_;
  if (tt.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || in.size() != 4 ||
      (in[1] >= 0 && in[1] != c.channels) || (in[2] >= 0 && in[2] != c.imgH)) {
    throw Error(ErrorCode::kModelLoad, prefix + "expected a float32 input [N," + std::to_string(c.channels) + "," +
                                           std::to_string(c.imgH) + ",W], found " + ShapeString(in));
  }
  if (c.dynamicWidth && in[3] >= 0) {
    throw Error(ErrorCode::kModelLoad, prefix + "dynamicWidth is true but the input width is fixed (" +
                                           ShapeString(in) + ")");
  }
  if (!c.dynamicWidth && in[3] >= 0 && in[3] != c.imgW) {
    throw Error(ErrorCode::kModelLoad, prefix + "imgW is " + std::to_string(c.imgW) + " but the input is " +
                                           ShapeString(in));
  }
  info_.fixedBatch = in[0];
  if (session_->GetOutputCount() < 1) throw Error(ErrorCode::kModelLoad, prefix + "it has no output");
  auto to = session_->GetOutputTypeInfo(0);
  if (to.GetONNXType() != ONNX_TYPE_TENSOR) throw Error(ErrorCode::kModelLoad, prefix + "its output is not a tensor");
  auto ot = to.GetTensorTypeAndShapeInfo();
  auto out = ot.GetShape();
  if (ot.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || out.size() != 3 ||
      (out[2] >= 0 && out[2] != c.numClasses())) {
    throw Error(ErrorCode::kModelLoad,
                prefix + "expected a float32 output [N,T," + std::to_string(c.numClasses()) + "] (" +
                    (c.decoder == DecoderKind::kCtc ? "blank + " : "[GO] + [s] + ") + std::to_string(c.charset.size()) +
                    " characters), found " + ShapeString(out));
  }
}

int RecognizerSession::Run(const float* input, int n, int w, std::vector<float>& out, RunControl* control) const {
  const std::array<int64_t, 4> shape{n, config_.channels, config_.imgH, w};
  std::vector<const char*> names{info_.outputNames[0].c_str()};
  std::vector<Ort::Value> outs = RunRaw(input, shape.data(), 4, names, control);
  auto s = outs[0].GetTensorTypeAndShapeInfo().GetShape();
  if (s.size() != 3 || s[0] != n || s[2] != config_.numClasses() || s[1] <= 0) {
    throw Error(ErrorCode::kInference, "Recogniser output has shape " + ShapeString(s) + ", expected [" +
                                           std::to_string(n) + ",T," + std::to_string(config_.numClasses()) + "]");
  }
  const size_t count = static_cast<size_t>(n) * s[1] * s[2];
  const float* data = FloatOutputData(outs[0], count, "recogniser output");  // type and size, not only the shape
  out.assign(data, data + count);
  return static_cast<int>(s[1]);
}

namespace {

// Each of a call's parallel batches is a network run the gate counts: room for runLanes of them per inference slot.
SessionOptions WithLanes(SessionOptions o) {
  o.runLanes = std::max(1, o.runLanes);
  if (o.maxConcurrentRuns > 0) o.maxConcurrentRuns *= o.runLanes;
  return o;
}

}  // namespace

Recognizer::Recognizer(const SessionOptions& options)
    : session_(WithLanes(options)), lanes_(std::max(1, options.runLanes)) {}

void Recognizer::StripWidths(int stripWidth, int stripHeight, int* resized, int* padded, double stretch) const {
  const RecognizerConfig& c = config();
  if (c.resize == ResizeKind::kSquash) {
    *resized = *padded = c.imgW;
    return;
  }
  // DTRB AlignCollate(keep_ratio_with_pad): resized_w = min(ceil(imgH * w / h), imgW) (times `stretch`).
  *resized = StretchedWidth(stripWidth, stripHeight, c.imgH, c.imgW, stretch);
  // A dynamic-width model gets the next multiple of imgH (EasyOCR's per-box ceil(ratio) * imgH), a fixed one imgW.
  *padded = c.dynamicWidth ? std::min(c.imgW, ((*resized + c.imgH - 1) / c.imgH) * c.imgH) : c.imgW;
  *padded = std::max(*padded, *resized);
}

void Recognizer::Preprocess(const cv::Mat& strip, int resized, int padded, float* out) const {
  const RecognizerConfig& c = config();
  cv::Mat src = c.channels == 1 ? PilGrey(strip) : strip;
  cv::Mat img = PilResizeBicubic(src, resized, c.imgH);
  const size_t plane = static_cast<size_t>(c.imgH) * padded;
  const float mean = c.mean, std = c.std;
  for (int y = 0; y < c.imgH; y++) {
    const uint8_t* row = img.ptr<uint8_t>(y);
    for (int ch = 0; ch < c.channels; ch++) {
      float* dst = out + ch * plane + static_cast<size_t>(y) * padded;
      for (int x = 0; x < resized; x++) {
        dst[x] = (static_cast<float>(row[x * c.channels + ch]) / 255.f - mean) / std;  // ToTensor, sub_, div_
      }
      for (int x = resized; x < padded; x++) dst[x] = dst[resized - 1];  // NormalizePAD: repeat the last column
    }
  }
}

std::vector<double> MarginRetryMargins(double margin) {
  if (!(margin > 0)) return {};
  std::vector<double> out{0.0};
  if (margin < 1) out.push_back(std::min(1.0, 2 * margin));
  return out;
}

PreparedRegions Recognizer::Prepare(const ImageInput& input, const std::vector<Region>& regions, bool wholeImage,
                                    const RecognizeOptions& options) const {
  PreparedRegions p;
  auto t0 = Clock::now();
  p.image = LoadImage(input, options.maxPixels);
  // Raw pixels are borrowed from JS: the runs happen later, so own a copy (a decoded image is already owned).
  if (input.pixels != nullptr && p.image.data == input.pixels) p.image = p.image.clone();
  p.timings.decode = MsSince(t0);
  auto t1 = Clock::now();
  const float W = static_cast<float>(p.image.cols), H = static_cast<float>(p.image.rows);
  p.margin = options.margin >= 0 && options.margin <= 1 ? options.margin : config().margin;
  if (wholeImage) {  // the image is the crop: no margin
    p.plans.push_back(PlanCrop({{0, 0}, {W, 0}, {W, H}, {0, H}}, p.image.cols, p.image.rows, options.verticalRatio));
  } else {
    const double m = p.margin;
    // With inkCrop each region's ink is found once, in its crop at m, and every crop of it is fitted to that ink:
    // the first read's and the margin retry's alike.
    std::vector<InkFit> ink(options.inkCrop ? regions.size() : 0);
    for (size_t i = 0; i < ink.size(); i++) {
      ink[i] = FitInk(p.image, regions[i], options.verticalRatio, static_cast<float>(m));
    }
    auto planAt = [&](double margin) {
      std::vector<CropPlan> plans;
      plans.reserve(regions.size());
      const float mf = static_cast<float>(margin);
      for (size_t i = 0; i < regions.size(); i++) {
        plans.push_back(options.inkCrop ? PlanInkCrop(p.image, regions[i], options.verticalRatio, mf, ink[i])
                                        : PlanCrop(regions[i], p.image.cols, p.image.rows, options.verticalRatio, mf));
      }
      return plans;
    };
    p.plans = planAt(m);
    // Geometry only (the ink is already found): cheap enough to plan every region although only low-confidence ones
    // are re-read.
    if (options.marginRetryThreshold > 0) {
      for (double alt : MarginRetryMargins(m)) p.retryPlans.push_back(planAt(alt));
    }
  }
  p.timings.preprocess = MsSince(t1);
  return p;
}

RecognizeResult Recognizer::Run(const PreparedRegions& prepared, const RecognizeOptions& options,
                                RunControl* control) const {
  std::vector<JobResult> out = RunMany({{&prepared, &options}}, control);
  if (out[0].error) std::rethrow_exception(out[0].error);
  return std::move(out[0].result);
}

std::vector<JobResult> Recognizer::RunMany(const std::vector<RecognizeJob>& jobs, RunControl* control) const {
  const RecognizerConfig& c = config();
  std::vector<JobResult> out(jobs.size());
  int maxBatch = std::numeric_limits<int>::max();
  for (size_t j = 0; j < jobs.size(); j++) {
    const PreparedRegions& p = *jobs[j].prepared;
    RecognizeResult& r = out[j].result;
    r.width = p.image.cols;
    r.height = p.image.rows;
    r.timings = p.timings;
    r.words.resize(p.plans.size());
    for (size_t i = 0; i < p.plans.size(); i++) {
      if (p.plans[i].skipped) r.words[i].skipped = p.plans[i].skipReason;
    }
    maxBatch = std::min(maxBatch, std::max(1, jobs[j].options->maxBatch));
  }
  const int64_t fixed = info().fixedBatch;
  if (fixed > 0) maxBatch = static_cast<int>(fixed);

  struct Item {
    size_t job, region;
    int turns;
    int plan = 0;  // 0: the region's plan; k > 0: its plan at retry margin k - 1 (PreparedRegions::retryPlans)
    const CropPlan* line = nullptr;  // or its crop along the ink's text line (the orientation retry)
    int rotation = -1;               // the reading's rotation when not turns x 90 (a line crop's)
    bool contrast = false;           // its grey levels stretched first (the contrast retry: AdjustContrastGrey)
    double stretch = 1;              // resized this much wider than its aspect ratio (the stretch retry)
    int resized = 0, padded = 0;
    const cv::Mat* strip = nullptr;  // or a strip made for it (upright letters laid out as a line: the vertical pass)
    bool perCharacter = false;       // compared with the kept reading per character (PerCharacterConfidence)
  };
  auto planOf = [&](const Item& it) -> const CropPlan& {
    if (it.line != nullptr) return *it.line;
    const PreparedRegions& p = *jobs[it.job].prepared;
    return it.plan == 0 ? p.plans[it.region] : p.retryPlans[it.plan - 1][it.region];
  };
  // An item's input geometry (Item::resized, padded): its strip's, turned, stretched.
  auto widths = [&](Item& it) {
    if (it.strip != nullptr) {
      StripWidths(it.strip->cols, it.strip->rows, &it.resized, &it.padded, it.stretch);
      return;
    }
    const CropPlan& plan = planOf(it);
    const bool swap = it.turns % 2 == 1;
    StripWidths(swap ? plan.height : plan.width, swap ? plan.width : plan.height, &it.resized, &it.padded, it.stretch);
  };
  std::vector<std::vector<Item>> kept(jobs.size());  // the item each word's kept reading came from
  for (size_t j = 0; j < jobs.size(); j++) kept[j].resize(jobs[j].prepared->plans.size());
  std::vector<int> seen(jobs.size(), -1);  // the last batch each job took part in (its `runs`)
  int batchNo = 0;

  // One pass: items grouped by padded width (never padded to the widest crop: EasyOCR #358) and cut into batches of
  // up to maxBatch in that order, the batches run on up to lanes_ threads at once (each thread cuts and pre-processes
  // its next batch while another one's network runs), then the readings applied in batch order, each replacing its
  // region's when it is more confident (or the first): the same batches and the same outcome as one batch at a time.
  // A crop that fails fails its job: the job's later crops are left out of their batches.
  struct Reading {
    bool read = false;
    Decoded decoded;
    std::vector<float> logits;
    double preprocess = 0, inference = 0, postprocess = 0;
  };
  struct Batch {
    int padded;
    std::vector<const Item*> items;
  };
  std::unique_ptr<std::atomic<bool>[]> failed(new std::atomic<bool>[jobs.size()]);
  for (size_t j = 0; j < jobs.size(); j++) failed[j] = false;
  std::mutex errorMutex;

  auto pass = [&](std::vector<Item>& items, bool first) {
    std::map<int, std::vector<const Item*>> groups;
    for (Item& it : items) {
      widths(it);
      groups[it.padded].push_back(&it);
    }
    std::vector<Batch> batches;
    for (auto& [padded, members] : groups) {
      for (size_t at = 0; at < members.size(); at += static_cast<size_t>(maxBatch)) {
        const size_t end = std::min(members.size(), at + static_cast<size_t>(maxBatch));
        batches.push_back({padded, std::vector<const Item*>(members.begin() + at, members.begin() + end)});
      }
    }
    std::vector<std::vector<Reading>> readings(batches.size());
    const int K = c.numClasses();

    // Cuts, runs and decodes batch b into readings[b]; a run failure throws.
    auto runBatch = [&](size_t b, std::vector<float>& input, std::vector<float>& logits) {
      const Batch& batch = batches[b];
      std::vector<Reading>& read = readings[b];
      read.resize(batch.items.size());
      const size_t per = static_cast<size_t>(c.channels) * c.imgH * batch.padded;
      input.resize(per * (fixed > 0 ? static_cast<size_t>(fixed) : batch.items.size()));
      std::vector<size_t> rowOf;  // the batch's items that were cut, in row order
      for (size_t k = 0; k < batch.items.size(); k++) {
        const Item& it = *batch.items[k];
        if (failed[it.job]) continue;
        auto t0 = Clock::now();
        try {
          cv::Mat strip = it.strip != nullptr ? *it.strip : CropStrip(jobs[it.job].prepared->image, planOf(it), it.turns);
          if (c.channels == 1 && it.contrast) strip = PilGrey(strip);
          // A strip with contrast enough already would read the same pixels again: not run.
          if (!it.contrast || AdjustContrastGrey(strip)) {
            Preprocess(strip, it.resized, batch.padded, input.data() + rowOf.size() * per);
            rowOf.push_back(k);
          }
        } catch (...) {
          std::lock_guard<std::mutex> lock(errorMutex);
          if (!out[it.job].error) out[it.job].error = std::current_exception();
          failed[it.job] = true;
        }
        read[k].preprocess = MsSince(t0);
      }
      if (rowOf.empty()) return;
      const size_t count = rowOf.size();
      const size_t rows = fixed > 0 ? static_cast<size_t>(fixed) : count;
      for (size_t k = count; k < rows; k++) {  // a fixed-batch model gets full batches (extra outputs ignored)
        std::memcpy(input.data() + k * per, input.data() + (count - 1) * per, per * sizeof(float));
      }
      auto t1 = Clock::now();
      const int T = session_.Run(input.data(), static_cast<int>(rows), batch.padded, logits, control);
      const double ms = MsSince(t1);
      for (size_t row = 0; row < count; row++) {
        Reading& r = read[rowOf[row]];
        const Item& it = *batch.items[rowOf[row]];
        auto t2 = Clock::now();
        const RecognizeOptions& options = *jobs[it.job].options;
        const float* l = logits.data() + row * static_cast<size_t>(T) * K;
        const std::vector<float> probs = Softmax(l, T, K, options.ignoredClasses);
        r.decoded = Decode(probs, T, K, c.charset, c.decoder, c.confidence, options.decode);
        if (options.logits) r.logits.assign(l, l + static_cast<size_t>(T) * K);
        r.read = true;
        r.inference = ms / static_cast<double>(count);  // the run's time shared per crop
        r.postprocess = MsSince(t2);
      }
    };

    // The widest, fullest batches first, so that the lanes finish together (the readings are applied in batch order
    // below whatever order they ran in).
    std::vector<size_t> order(batches.size());
    for (size_t b = 0; b < order.size(); b++) order[b] = b;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return static_cast<size_t>(batches[a].padded) * batches[a].items.size() >
             static_cast<size_t>(batches[b].padded) * batches[b].items.size();
    });
    const size_t lanes = std::min(batches.size(), static_cast<size_t>(lanes_));
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr runError;
    auto lane = [&] {
      std::vector<float> input, logits;
      try {
        for (size_t b; !stop && (b = next++) < order.size();) {
          if (control != nullptr && control->terminated()) throw Error(ErrorCode::kAborted, "Recognition was aborted");
          runBatch(order[b], input, logits);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!runError) runError = std::current_exception();
        stop = true;
      }
    };
    std::vector<std::thread> helpers;
    const FloatMode mode = FloatMode::Current();  // the helpers compute in the calling thread's mode
    for (size_t k = 1; k < lanes; k++) {
      helpers.emplace_back([&lane, mode] {
        ScopedFloatMode same(mode);
        lane();
      });
    }
    lane();
    for (std::thread& t : helpers) t.join();
    if (runError) std::rethrow_exception(runError);

    for (size_t b = 0; b < batches.size(); b++) {
      batchNo++;
      for (size_t k = 0; k < batches[b].items.size(); k++) {
        const Item& it = *batches[b].items[k];
        Reading& r = readings[b][k];
        JobResult& job = out[it.job];
        job.result.timings.preprocess += r.preprocess;
        if (!r.read) continue;
        if (seen[it.job] != batchNo) {
          seen[it.job] = batchNo;
          job.result.runs++;
        }
        job.result.timings.inference += r.inference;
        job.result.timings.postprocess += r.postprocess;
        WordText& w = job.result.words[it.region];
        // Per character, an empty reading has no characters to be sure of: it never replaces one (an upright
        // reading of a tall '0' on a form reads nothing at 0.83).
        const bool better = it.perCharacter ? !r.decoded.text.empty() &&
                                                  PerCharacterConfidence(r.decoded.confidence, r.decoded.text) >
                                                      PerCharacterConfidence(w.confidence, w.text)
                                            : r.decoded.confidence > w.confidence;
        if (first || better) {
          w.text = std::move(r.decoded.text);
          w.confidence = r.decoded.confidence;
          w.characters = std::move(r.decoded.characters);
          w.rotation = it.rotation >= 0 ? it.rotation : it.turns * 90;
          kept[it.job][it.region] = it;
          if (jobs[it.job].options->logits) w.logits = std::move(r.logits);
        }
      }
    }
  };

  std::vector<Item> primary;
  for (size_t j = 0; j < jobs.size(); j++) {
    const std::vector<CropPlan>& plans = jobs[j].prepared->plans;
    for (size_t i = 0; i < plans.size(); i++) {
      // A vertical strip is turned clockwise first: that uprights text written bottom to top (the usual direction
      // of rotated labels); text written top to bottom comes out upside down and is caught by the retry.
      if (!plans[i].skipped) primary.push_back({j, i, plans[i].vertical ? 1 : 0});
    }
  }
  pass(primary, true);
  // Vertical crops (verticalRetry): read turned the other way too and unturned (upright: a tall single character, a
  // condensed word) at UprightStretches() times its width, whatever the first reading's confidence; and, when their
  // glyphs stack, laid out side by side as a line (upright letters one above the other: vertical.h).
  std::vector<std::unique_ptr<cv::Mat>> stacks;
  std::vector<std::vector<char>> multiGlyph(jobs.size());  // a vertical strip whose ink is several glyphs long
  std::vector<Item> vertical;
  // Read wider than its aspect only by a CTC model that keeps it (`pad`): the stretch retry's frames per character.
  const bool stretchable = c.decoder == DecoderKind::kCtc && c.resize == ResizeKind::kPad;
  for (size_t j = 0; j < jobs.size(); j++) {
    const RecognizeOptions& o = *jobs[j].options;
    const PreparedRegions& p = *jobs[j].prepared;
    if (!o.verticalRetry || out[j].error) continue;
    multiGlyph[j].assign(p.plans.size(), 0);
    auto t0 = Clock::now();  // finding the glyphs is crop work: the call's preprocess time
    for (size_t i = 0; i < p.plans.size(); i++) {
      if (p.plans[i].skipped || !p.plans[i].vertical) continue;
      Item other{j, i, 3};
      other.perCharacter = true;
      vertical.push_back(other);
      const cv::Mat strip = CropStrip(p.image, p.plans[i], 0);
      const cv::Mat ink = InkMask(strip);  // once: the glyph slots and a stack's paper colour
      const std::vector<cv::Rect> slots = FindGlyphSlots(ink);
      multiGlyph[j][i] = slots.size() > kMaxCharacterParts;
      int last = -1;  // the width of the last upright reading: a stretch capped at imgW would read the same pixels
      for (double s : UprightStretches()) {
        Item upright{j, i, 0};
        upright.stretch = s;
        upright.perCharacter = true;
        widths(upright);
        if (upright.resized == last || (s != 1 && !stretchable)) continue;
        last = upright.resized;
        vertical.push_back(upright);
      }
      if (IsGlyphStack(slots, c.batchMaxLength)) {
        auto line = std::make_unique<cv::Mat>(LayOutGlyphs(strip, ink, slots, p.margin));
        if (line->empty()) continue;
        Item stacked{j, i, 0};
        stacked.rotation = 0;  // the letters are upright
        stacked.strip = line.get();
        stacked.perCharacter = true;
        vertical.push_back(stacked);
        stacks.push_back(std::move(line));
      }
    }
    out[j].result.timings.preprocess += MsSince(t0);
  }
  if (!vertical.empty()) pass(vertical, false);
  // The retries' common selection: fn(j, i) for every word not skipped, its job not failed, read with a confidence
  // under its job's `threshold` option (0 = that retry off).
  auto below = [&](float RecognizeOptions::*threshold, auto&& fn) {
    for (size_t j = 0; j < jobs.size(); j++) {
      const float t = jobs[j].options->*threshold;
      if (t <= 0 || out[j].error) continue;
      const std::vector<CropPlan>& plans = jobs[j].prepared->plans;
      for (size_t i = 0; i < plans.size(); i++)
        if (!plans[i].skipped && out[j].result.words[i].confidence < t) fn(j, i);
    }
  };
  std::vector<Item> retry;
  below(&RecognizeOptions::rotationRetryThreshold, [&](size_t j, size_t i) {
    const CropPlan& plan = jobs[j].prepared->plans[i];
    if (plan.vertical && jobs[j].options->verticalRetry) return;  // read every way already
    if (plan.vertical) {
      retry.push_back({j, i, 3});
      retry.push_back({j, i, 0});
    } else {
      retry.push_back({j, i, 2});
    }
  });
  if (!retry.empty()) pass(retry, false);
  // Then the words still under marginRetryThreshold, cut at the other margins, turned as their kept reading.
  std::vector<Item> again;
  below(&RecognizeOptions::marginRetryThreshold, [&](size_t j, size_t i) {
    const PreparedRegions& p = *jobs[j].prepared;
    const WordText& w = out[j].result.words[i];
    for (size_t k = 0; k < p.retryPlans.size(); k++) {
      const CropPlan& alt = p.retryPlans[k][i];
      // A margin that rounds to the same pixels (small text, or clipped at the image's edge) would read the same.
      if (alt.skipped || SameCrop(alt, p.plans[i])) continue;
      // A stack's reading (a strip made for it) or a several-glyph strip unturned is not read at other margins.
      if (!multiGlyph[j].empty() && multiGlyph[j][i] && w.rotation == 0) continue;
      again.push_back({j, i, w.rotation / 90, static_cast<int>(k) + 1});
    }
  });
  if (!again.empty()) pass(again, false);
  // Last, the words still under orientationRetryThreshold, cut again along their ink's text line (a crop cut as the
  // axis-aligned box of a rotated, oblique or vertical word) and read both ways along it.
  std::vector<std::unique_ptr<CropPlan>> lines;
  std::vector<Item> along;
  below(&RecognizeOptions::orientationRetryThreshold, [&](size_t j, size_t i) {
    const PreparedRegions& p = *jobs[j].prepared;
    auto t0 = Clock::now();  // finding the line is crop work: the call's preprocess time
    InkLine ink;
    auto line = std::make_unique<CropPlan>(PlanLineCrop(p.image, p.plans[i], static_cast<float>(p.margin), &ink));
    out[j].result.timings.preprocess += MsSince(t0);
    if (line->skipped || !NewOrientation(ink, p.plans[i].vertical)) return;
    // Degrees the strip is turned clockwise to bring the line level: -angle, and the other way round.
    const int level = static_cast<int>(std::lround(-ink.angle));
    along.push_back({j, i, 0, 0, line.get(), ((level % 360) + 360) % 360});
    along.push_back({j, i, 2, 0, line.get(), ((level + 180) % 360 + 360) % 360});
    lines.push_back(std::move(line));
  });
  if (!along.empty()) pass(along, false);
  // Then the words still under contrastRetryThreshold, their kept reading's crop read again with its grey levels
  // stretched (EasyOCR's contrast_ths / adjust_contrast; only crops under kAdjustContrastTarget are run).
  std::vector<Item> stretched;
  below(&RecognizeOptions::contrastRetryThreshold, [&](size_t j, size_t i) {
    Item it = kept[j][i];
    it.contrast = true;
    stretched.push_back(it);
  });
  if (!stretched.empty()) pass(stretched, false);
  // Last, the words still under stretchRetryThreshold, their kept reading's crop read wider (StretchRetryFactors: more
  // CTC frames per character, for the characters a condensed word loses), compared by the raw confidence (the product
  // over more frames: a wider reading must be surer per frame to win).
  std::vector<Item> wider;
  if (stretchable) {
    below(&RecognizeOptions::stretchRetryThreshold, [&](size_t j, size_t i) {
      const Item& k = kept[j][i];
      for (double s : StretchRetryFactors()) {
        Item it = k;
        it.stretch = k.stretch * s;
        it.perCharacter = false;
        widths(it);
        // A stretch capped at imgW to the kept reading's width would read the same pixels.
        if (it.resized != k.resized) wider.push_back(it);
      }
    });
  }
  if (!wider.empty()) pass(wider, false);
  return out;
}

}  // namespace craft
