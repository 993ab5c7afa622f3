// Recognition stages with known answers (no ONNX Runtime): PIL's BICUBIC resize and L conversion against Pillow's
// own outputs (test/fixtures/recognition/pil_resize.json, tools/str_torch/make_resize_fixtures.py), CTC greedy /
// beam and attention decoding, the character LM and its fusion into the beam search, DTRB and EasyOCR confidences,
// the charset parser, crop planning and crops.
//
//   recognize_test FIXTURES_DIR      (test/fixtures/recognition)
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "char_lm.h"
#include "check.h"
#include "contrast.h"
#include "crop.h"
#include "deskew.h"
#include "ink_crop.h"
#include "label_converter.h"
#include "pil_resize.h"
#include "stretch.h"
#include "vertical.h"

using craft::ConfidenceKind;
using craft::DecoderKind;

namespace {

bool Near(double a, double b, double tol = 1e-9) { return std::fabs(a - b) <= tol; }

// [T, K] probabilities: each frame's argmax class gets `p`, the rest share 1 - p.
std::vector<float> Frames(const std::vector<int>& argmax, const std::vector<float>& p, int K) {
  std::vector<float> probs(argmax.size() * K);
  for (size_t t = 0; t < argmax.size(); t++) {
    for (int k = 0; k < K; k++) probs[t * K + k] = k == argmax[t] ? p[t] : (1 - p[t]) / (K - 1);
  }
  return probs;
}

void TestPil(const std::string& dir) {
  std::ifstream f(dir + "/pil_resize.json");
  CHECK(f.good(), "open pil_resize.json");
  if (!f.good()) return;
  nlohmann::json j;
  f >> j;
  int n = 0;
  for (const auto& c : j["resize"]) {
    const int w = c["width"], h = c["height"], ow = c["outWidth"], oh = c["outHeight"];
    const bool rgb = c["mode"] == "RGB";
    std::vector<uint8_t> src = c["src"].get<std::vector<uint8_t>>();
    std::vector<uint8_t> want = c["out"].get<std::vector<uint8_t>>();
    cv::Mat m(h, w, rgb ? CV_8UC3 : CV_8UC1, src.data());
    cv::Mat out = craft::PilResizeBicubic(m, ow, oh);
    int diff = 0;
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow * (rgb ? 3 : 1); x++) diff += out.ptr<uint8_t>(y)[x] != want[y * ow * (rgb ? 3 : 1) + x];
    }
    CHECK(out.cols == ow && out.rows == oh && diff == 0, "PIL BICUBIC %s %dx%d -> %dx%d: %d bytes differ",
          rgb ? "RGB" : "L", w, h, ow, oh, diff);
    n++;
  }
  CHECK(n >= 20, "resize cases: %d", n);
  const auto& g = j["grey"];
  std::vector<uint8_t> rgb = g["rgb"].get<std::vector<uint8_t>>();
  std::vector<uint8_t> want = g["L"].get<std::vector<uint8_t>>();
  cv::Mat m(g["height"].get<int>(), g["width"].get<int>(), CV_8UC3, rgb.data());
  cv::Mat grey = craft::PilGrey(m);
  int diff = 0;
  for (int y = 0; y < grey.rows; y++) {
    for (int x = 0; x < grey.cols; x++) diff += grey.ptr<uint8_t>(y)[x] != want[y * grey.cols + x];
  }
  CHECK(diff == 0, "PIL convert('L'): %d pixels differ", diff);
}

void TestCtc() {
  const std::vector<std::string> cs{"a", "b", "c"};
  craft::DecodeOptions greedy;
  greedy.characterProbabilities = true;
  // Frames: a a - a b b - - c  ->  "aabc" (repeats merged first, then blanks dropped; "a-a" keeps both).
  const std::vector<int> path{1, 1, 0, 1, 2, 2, 0, 0, 3};
  const std::vector<float> p{.9f, .8f, .7f, .6f, .5f, .95f, .9f, .9f, .85f};
  auto probs = Frames(path, p, 4);
  auto d = craft::Decode(probs, 9, 4, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  CHECK(d.text == "aabc", "CTC greedy text '%s'", d.text.c_str());
  double prod = 1;
  for (float v : p) prod *= v;
  CHECK(Near(d.confidence, prod, 1e-6), "DTRB CTC confidence %g, want %g (product over all frames)", d.confidence, prod);
  CHECK(d.characters.size() == 4 && Near(d.characters[0], .9f, 1e-6) && Near(d.characters[1], .6f, 1e-6) &&
            Near(d.characters[2], .95f, 1e-6) && Near(d.characters[3], .85f, 1e-6),
        "per-character probabilities: run maxima");
  // EasyOCR: prod(p)^(2/sqrt(n)) over the non-blank frames' maxima.
  auto e = craft::Decode(probs, 9, 4, cs, DecoderKind::kCtc, ConfidenceKind::kEasyOcr, greedy);
  const double nb = .9 * .8 * .6 * .5 * .95 * .85;
  CHECK(Near(e.confidence, std::pow(nb, 2.0 / std::sqrt(6.0)), 1e-6), "EasyOCR confidence %g", e.confidence);
  // All blank: empty text; EasyOCR confidence 0 (no non-blank frame); DTRB still the product.
  auto blank = Frames({0, 0}, {.5f, .5f}, 4);
  auto b = craft::Decode(blank, 2, 4, cs, DecoderKind::kCtc, ConfidenceKind::kEasyOcr, greedy);
  CHECK(b.text.empty() && b.confidence == 0, "all-blank EasyOCR");
  auto b2 = craft::Decode(blank, 2, 4, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  CHECK(b2.text.empty() && Near(b2.confidence, .25, 1e-6), "all-blank DTRB %g", b2.confidence);

  // Beam search finds the labelling greedy misses: P("") = .36 < P("a") = .16 + .24 + .24 = .64.
  const std::vector<float> two{.6f, .4f, .6f, .4f};
  const std::vector<std::string> one{"a"};
  craft::DecodeOptions beam;
  beam.search = craft::CtcSearch::kBeam;
  beam.beamWidth = 4;
  beam.characterProbabilities = true;
  auto g = craft::Decode(two, 2, 2, one, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  auto bm = craft::Decode(two, 2, 2, one, DecoderKind::kCtc, ConfidenceKind::kDtrb, beam);
  CHECK(g.text.empty(), "greedy reads '' here");
  CHECK(bm.text == "a", "beam reads 'a', got '%s'", bm.text.c_str());
  CHECK(bm.characters.size() == 1 && Near(bm.characters[0], .4f, 1e-6), "beam character probability");
  CHECK(Near(bm.confidence, g.confidence, 1e-12), "confidence is the decoder-independent per-frame product");
  // Beam width 1 with a clear path equals greedy; repeated labels need a blank ("aa" from a - a).
  auto path2 = Frames({1, 0, 1, 2, 2}, {.9f, .9f, .9f, .9f, .9f}, 4);
  beam.beamWidth = 1;
  auto b1 = craft::Decode(path2, 5, 4, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, beam);
  auto g1 = craft::Decode(path2, 5, 4, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  CHECK(b1.text == "aab" && g1.text == "aab", "beam 1 = greedy = 'aab' (got '%s' / '%s')", b1.text.c_str(),
        g1.text.c_str());
  auto spans = craft::CtcAlign(path2, 5, 4, {1, 1, 2});
  CHECK(spans.size() == 3 && spans[0] == std::make_pair(0, 0) && spans[1] == std::make_pair(2, 2) &&
            spans[2] == std::make_pair(3, 4),
        "Viterbi alignment spans");
}

void TestAttn() {
  const std::vector<std::string> cs{"a", "b", "c"};  // classes: 0 [GO], 1 [s], 2 a, 3 b, 4 c
  craft::DecodeOptions o;
  o.characterProbabilities = true;
  auto d = craft::Decode(Frames({2, 3, 1, 4}, {.9f, .8f, .7f, .6f}, 5), 4, 5, cs, DecoderKind::kAttn,
                         ConfidenceKind::kDtrb, o);
  CHECK(d.text == "ab" && Near(d.confidence, .72, 1e-6), "attn cut at [s]: '%s' %g", d.text.c_str(), d.confidence);
  CHECK(d.characters.size() == 2, "attn characters");
  // No [s]: demo.py's pred[:find('[s]')] = pred[:-1] drops the last character and the last step's probability.
  auto n = craft::Decode(Frames({2, 3, 4}, {.9f, .8f, .7f}, 5), 3, 5, cs, DecoderKind::kAttn, ConfidenceKind::kDtrb, o);
  CHECK(n.text == "ab" && Near(n.confidence, .72, 1e-6), "attn without [s]: '%s' %g", n.text.c_str(), n.confidence);
  // [s] first: empty text, confidence 0 (test.py's empty-prediction case).
  auto e = craft::Decode(Frames({1, 2}, {.9f, .8f}, 5), 2, 5, cs, DecoderKind::kAttn, ConfidenceKind::kDtrb, o);
  CHECK(e.text.empty() && e.confidence == 0, "attn empty");
  // A [GO] token before [s] stays in the text as "[GO]" and the probability slice uses the string index (6 > T).
  auto go = craft::Decode(Frames({2, 0, 3, 1}, {.9f, .8f, .7f, .6f}, 5), 4, 5, cs, DecoderKind::kAttn,
                          ConfidenceKind::kDtrb, o);
  CHECK(go.text == "a[GO]b" && Near(go.confidence, .9 * .8 * .7 * .6, 1e-6), "attn [GO]: '%s' %g", go.text.c_str(),
        go.confidence);
}

// recognize()'s allowlist / blocklist: Softmax with ignored classes against EasyOCR's recognizer_predict (full softmax, the ignored
// classes zeroed, each frame divided by its sum) and the readings it gives.
void TestSoftmaxIgnored() {
  const std::vector<std::string> cs{"0", "O", "1", "l"};  // classes: 0 blank, 1 '0', 2 'O', 3 '1', 4 'l'
  const int T = 4, K = 5;
  // "Ol" unmasked: the letter O just ahead of the digit 0, l just ahead of 1.
  const std::vector<float> logits{0, 2.5f, 3, 0, 0,   // O (0 second)
                                  4, 0, 0, 0, 0,      // blank
                                  0, 0, 0, 2, 2.2f,   // l (1 second)
                                  4, 0, 0, 0, 0};     // blank
  const std::vector<int> letters{2, 4};               // allowlist "01"
  craft::DecodeOptions greedy, beam;
  beam.search = craft::CtcSearch::kBeam;
  const auto full = craft::Softmax(logits.data(), T, K);
  const auto masked = craft::Softmax(logits.data(), T, K, letters);
  // EasyOCR's way, from the full softmax.
  std::vector<double> easy(full.begin(), full.end());
  double maxDiff = 0;
  bool zeroed = true, rowsSumToOne = true;
  for (int t = 0; t < T; t++) {
    double sum = 0;
    for (int k : letters) easy[t * K + k] = 0;
    for (int k = 0; k < K; k++) sum += easy[t * K + k];
    double rowSum = 0;
    for (int k = 0; k < K; k++) {
      maxDiff = std::max(maxDiff, std::fabs(easy[t * K + k] / sum - masked[t * K + k]));
      rowSum += masked[t * K + k];
    }
    for (int k : letters) zeroed = zeroed && masked[t * K + k] == 0.f;
    rowsSumToOne = rowsSumToOne && Near(rowSum, 1, 1e-6);
  }
  CHECK(maxDiff < 1e-6, "masked softmax = EasyOCR's zeroed and renormalised probabilities (max diff %g)", maxDiff);
  CHECK(zeroed && rowsSumToOne, "ignored classes exactly 0, each frame sums to 1");
  auto plain = craft::Decode(full, T, K, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  auto digits = craft::Decode(masked, T, K, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  auto digitsBeam = craft::Decode(masked, T, K, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, beam);
  CHECK(plain.text == "Ol", "unmasked reads 'Ol', got '%s'", plain.text.c_str());
  CHECK(digits.text == "01" && digitsBeam.text == "01", "allowlist '01': greedy '%s', beam '%s'", digits.text.c_str(),
        digitsBeam.text.c_str());
  // The confidence is the masked frames' maxima: frame 0's '0' over blank, '0' and '1' only, e^2.5 / (e^2.5 + 2).
  const double f0 = std::exp(2.5) / (std::exp(2.5) + 2), f1 = std::exp(4.0) / (std::exp(4.0) + 2),
               f2 = std::exp(2.0) / (std::exp(2.0) + 2);
  CHECK(Near(digits.confidence, f0 * f1 * f2 * f1, 1e-6), "masked DTRB confidence %g, want %g", digits.confidence,
        f0 * f1 * f2 * f1);
  auto easyConf = craft::Decode(masked, T, K, cs, DecoderKind::kCtc, ConfidenceKind::kEasyOcr, greedy);
  CHECK(Near(easyConf.confidence, std::pow(f0 * f2, 2 / std::sqrt(2.0)), 1e-6), "masked EasyOCR confidence %g",
        easyConf.confidence);
  // A blocklist of O alone: 0 is read, l stays.
  auto noO = craft::Decode(craft::Softmax(logits.data(), T, K, {2}), T, K, cs, DecoderKind::kCtc,
                           ConfidenceKind::kDtrb, greedy);
  CHECK(noO.text == "0l", "blocklist 'O' reads '0l', got '%s'", noO.text.c_str());
  // No ignored class: the plain softmax (torch.softmax's max-subtracted form, in float), bit for bit.
  std::vector<float> plainSoftmax(logits.size());
  for (int t = 0; t < T; t++) {
    const float* x = logits.data() + t * K;
    float* y = plainSoftmax.data() + t * K;
    float m = x[0], sum = 0;
    for (int k = 1; k < K; k++) m = std::max(m, x[k]);
    for (int k = 0; k < K; k++) sum += (y[k] = std::exp(x[k] - m));
    for (int k = 0; k < K; k++) y[k] /= sum;
  }
  CHECK(full == plainSoftmax, "nothing ignored = the plain softmax");
  // A masked class far ahead: after a full softmax the kept classes underflow to 0 (EasyOCR divides 0 by 0); from the
  // logits they keep their ratios.
  const std::vector<float> far{-50, 0, 200, -50, -50};
  const auto f = craft::Softmax(far.data(), 1, K, letters);
  auto farRead = craft::Decode(f, 1, K, cs, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  CHECK(craft::Softmax(far.data(), 1, K)[1] == 0.f, "the full softmax underflows");
  CHECK(farRead.text == "0" && std::isfinite(farRead.confidence) && Near(farRead.confidence, 1, 1e-6),
        "masked class far ahead: '%s' %g", farRead.text.c_str(), farRead.confidence);
}

void TestCharset() {
  auto v = craft::ParseJsonStringArray(R"( ["a", "\u20ac", "\"", "\\", "\ud83d\ude00", " "] )");
  CHECK(v.size() == 6 && v[1] == "\xE2\x82\xAC" && v[2] == "\"" && v[3] == "\\" && v[4] == "\xF0\x9F\x98\x80" &&
            v[5] == " ",
        "charset parse");
  CHECK(craft::ParseJsonStringArray("[]").empty(), "empty array");
  for (const char* bad : {"", "[", "[\"a\"", "[1]", "[\"a\",]", "{}", "[\"\\ud83d\"]", "[\"a\"] x"}) {
    bool threw = false;
    try {
      craft::ParseJsonStringArray(bad);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    CHECK(threw, "refuses %s", bad);
  }
}

void TestCrop() {
  using craft::Point;
  auto plan = [](std::vector<craft::Point> r) { return craft::PlanCrop(r, 100, 50, 1.5f); };
  CHECK(plan({{10, 10}, {10, 10}, {10, 20}, {10, 20}}).skipReason == "degenerate", "zero width");
  CHECK(plan({{1, 1}, {1.5f, 1}, {1.5f, 1.5f}, {1, 1.5f}}).skipReason == "degenerate", "sub-pixel");
  CHECK(plan({{-30, 5}, {-10, 5}, {-10, 20}, {-30, 20}}).skipReason == "outside", "left of the image");
  CHECK(plan({{200, 5}, {220, 5}, {220, 20}, {200, 20}}).skipReason == "outside", "right of the image");
  CHECK(plan({{-30, 5}, {0.5f, 5}, {0.5f, 20}, {-30, 20}}).skipReason == "degenerate", "a sliver inside");
  auto clipped = plan({{-10, -5}, {40, -5}, {40, 20}, {-10, 20}});
  CHECK(!clipped.skipped && clipped.axisAligned && clipped.width == 40 && clipped.height == 20, "clipped to the image");
  auto vert = plan({{10, 5}, {20, 5}, {20, 45}, {10, 45}});
  CHECK(vert.vertical && vert.width == 10 && vert.height == 40, "vertical");
  auto poly = plan({{0, 0}, {10, 0}, {20, 0}, {20, 10}, {10, 10}, {0, 10}});
  CHECK(!poly.skipped && poly.width == 20 && poly.height == 10 && !poly.axisAligned, "polygon strip size");

  cv::Mat img(50, 100, CV_8UC3);
  cv::randu(img, 0, 255);
  craft::CropPlan p = plan({{12, 7}, {52, 7}, {52, 27}, {12, 27}});
  cv::Mat roi = craft::CropStrip(img, p, 0);
  CHECK(p.axisAligned && roi.cols == 40 && roi.rows == 20 && cv::norm(roi, img(cv::Rect(12, 7, 40, 20)), cv::NORM_INF) == 0,
        "integer box = exact ROI");
  p.axisAligned = false;  // the perspective warp of the same box must land on the same pixels (pixel centres at +0.5)
  cv::Mat warped = craft::CropStrip(img, p, 0);
  CHECK(cv::norm(warped, roi, cv::NORM_INF) == 0, "identity warp is exact (max diff %g)", cv::norm(warped, roi, cv::NORM_INF));
  cv::Mat turned = craft::CropStrip(img, plan({{12, 7}, {52, 7}, {52, 27}, {12, 27}}), 1);
  cv::Mat want;
  cv::rotate(roi, want, cv::ROTATE_90_CLOCKWISE);
  CHECK(turned.cols == 20 && turned.rows == 40 && cv::norm(turned, want, cv::NORM_INF) == 0, "quarter turn");
  // A polygon of two quad strips over an axis-aligned area equals the box crop (each piece an exact warp).
  craft::CropPlan pp = plan({{12, 7}, {32, 7}, {52, 7}, {52, 27}, {32, 27}, {12, 27}});
  cv::Mat pc = craft::CropStrip(img, pp, 0);
  CHECK(pc.cols == 40 && pc.rows == 20 && cv::norm(pc, roi, cv::NORM_INF) == 0, "piecewise polygon warp");
  // Hostile quads: three corners on a line, a bow-tie, huge coordinates: a strip or a skip, never a throw.
  for (const std::vector<craft::Point>& q : std::vector<std::vector<craft::Point>>{
           {{10, 10}, {30, 10}, {50, 10}, {30, 30}},
           {{10, 10}, {50, 30}, {50, 10}, {10, 30}},
           {{-1e9f, -1e9f}, {1e9f, -1e9f}, {1e9f, 1e9f}, {-1e9f, 1e9f}},
           {{0, 0}, {100, 0}, {0, 50}, {100, 50}}}) {
    bool ok = true;
    try {
      craft::CropPlan hp = plan(q);
      if (!hp.skipped) {
        cv::Mat m = craft::CropStrip(img, hp, 0);
        ok = !m.empty() && m.cols == hp.width && m.rows == hp.height;
      }
    } catch (...) {
      ok = false;
    }
    CHECK(ok, "hostile quad (%g,%g) (%g,%g) (%g,%g) (%g,%g)", q[0].x, q[0].y, q[1].x, q[1].y, q[2].x, q[2].y, q[3].x, q[3].y);
  }
  // A box given rotated 180 degrees (its points starting at the bottom-right) reads the strip upside down.
  cv::Mat flipped = craft::CropStrip(img, plan({{52, 27}, {12, 27}, {12, 7}, {52, 7}}), 0);
  cv::Mat want180;
  cv::rotate(roi, want180, cv::ROTATE_180);
  CHECK(cv::norm(flipped, want180, cv::NORM_INF) == 0, "point order sets the reading direction");
}

// Whether two point lists are equal within `tol` pixels per coordinate.
bool SamePoints(const std::vector<craft::Point>& a, const std::vector<craft::Point>& b, float tol) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::fabs(a[i].x - b[i].x) > tol || std::fabs(a[i].y - b[i].y) > tol) return false;
  }
  return true;
}

// The crop margin (EasyOCR's add_margin): a region grown in its own frame by round(margin x text height) pixels a side.
void TestCropMargin() {
  using craft::Point;
  auto same = [](const std::vector<craft::Point>& x, const std::vector<craft::Point>& y) { return SamePoints(x, y, 1e-4f); };
  CHECK(same(craft::ExtendRegion({{10, 10}, {50, 10}, {50, 20}, {10, 20}}, 2), {{8, 8}, {52, 8}, {52, 22}, {8, 22}}),
        "a box grows on every side");
  // rotated 90 degrees (reading downwards): along = +y, across = -x..+x; still every side
  CHECK(same(craft::ExtendRegion({{20, 10}, {20, 50}, {10, 50}, {10, 10}}, 1), {{21, 9}, {21, 51}, {9, 51}, {9, 9}}),
        "a rotated box grows in its own frame");
  // a polygon: top points up, bottom points down, the end pairs outward along their edges
  const std::vector<craft::Point> flat = {{0, 10}, {10, 10}, {20, 10}, {20, 20}, {10, 20}, {0, 20}};
  CHECK(same(craft::ExtendRegion(flat, 1), {{-1, 9}, {10, 9}, {21, 9}, {21, 21}, {10, 21}, {-1, 21}}), "a straight polygon");
  CHECK(same(craft::ExtendRegion(flat, 0), flat) && same(craft::ExtendRegion({{0, 0}, {1, 1}}, 3), {{0, 0}, {1, 1}}),
        "no growth / not a region: unchanged");

  auto plan = [](std::vector<craft::Point> r, float m) { return craft::PlanCrop(r, 100, 50, 1.5f, m); };
  const std::vector<craft::Point> box = {{12, 17}, {52, 17}, {52, 27}, {12, 27}};  // 40 x 10
  craft::CropPlan tight = plan(box, 0), grown = plan(box, 0.2f);          // 0.2 x 10 = 2 px a side
  CHECK(tight.width == 40 && tight.height == 10, "tight plan");
  CHECK(grown.axisAligned && grown.width == 44 && grown.height == 14 && same(grown.points, {{10, 15}, {54, 15}, {54, 29}, {10, 29}}),
        "an integer box stays an exact ROI, 2 px larger a side (%dx%d)", grown.width, grown.height);
  CHECK(same(plan(box, 0.04f).points, box), "under half a pixel: no margin");
  CHECK(plan(box, 0.26f).width == 46, "0.26 x 10 = 2.6 -> 3 px a side");
  auto vert = plan({{10, 5}, {20, 5}, {20, 45}, {10, 45}}, 0.2f);  // vertical: text height = width 10
  CHECK(vert.vertical && vert.width == 14 && vert.height == 44, "vertical text grows by its width (%dx%d)", vert.width,
        vert.height);
  auto corner = plan({{0, 0}, {40, 0}, {40, 10}, {0, 10}}, 0.5f);  // 5 px a side, clipped at the image's corner
  CHECK(corner.width == 45 && corner.height == 15 && same(corner.points, {{0, 0}, {45, 0}, {45, 15}, {0, 15}}),
        "clipped to the image");
  // The whole image as a region: growing then clipping gives the image again.
  CHECK(same(plan({{0, 0}, {100, 0}, {100, 50}, {0, 50}}, 1).points, {{0, 0}, {100, 0}, {100, 50}, {0, 50}}), "whole image");
  CHECK(plan({{-30, 5}, {-10, 5}, {-10, 20}, {-30, 20}}, 1).skipReason == "outside", "outside stays outside");
  CHECK(plan({{10, 10}, {10, 10}, {10, 20}, {10, 20}}, 1).skipReason == "degenerate", "degenerate stays degenerate");

  cv::Mat img(50, 100, CV_8UC3);
  cv::randu(img, 0, 255);
  cv::Mat strip = craft::CropStrip(img, grown, 0);
  CHECK(cv::norm(strip, img(cv::Rect(10, 15, 44, 14)), cv::NORM_INF) == 0, "the grown strip is the grown ROI");
  // hostile regions with a margin: a strip or a skip, never a throw or a non-finite point
  for (const std::vector<craft::Point>& q : std::vector<std::vector<craft::Point>>{
           {{10, 10}, {30, 10}, {50, 10}, {30, 30}},
           {{10, 10}, {50, 30}, {50, 10}, {10, 30}},
           {{-1e9f, -1e9f}, {1e9f, -1e9f}, {1e9f, 1e9f}, {-1e9f, 1e9f}},
           {{10, 10}, {10, 10}, {40, 30}, {40, 30}, {10, 30}, {10, 30}}}) {
    bool ok = true;
    try {
      craft::CropPlan hp = plan(q, 1);
      for (const Point& pt : hp.points) ok = ok && std::isfinite(pt.x) && std::isfinite(pt.y);
      if (!hp.skipped) {
        cv::Mat m = craft::CropStrip(img, hp, 0);
        ok = ok && !m.empty() && m.cols == hp.width && m.rows == hp.height;
      }
    } catch (...) {
      ok = false;
    }
    CHECK(ok, "hostile region with a margin (%zu points)", q.size());
  }
}

// Box-aware crops (ink_crop.h) on hand-made words: ink rectangles ("letters") of known extent on paper, cut through a
// loose box, must come out at the ink plus round(margin x ink height) a side, whatever the box.
void TestInkCrop() {
  using craft::Point;
  auto same = [](const std::vector<craft::Point>& x, const std::vector<craft::Point>& y) { return SamePoints(x, y, 1e-3f); };
  auto rect = [](float x0, float y0, float x1, float y1) { return std::vector<craft::Point>{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; };
  // A word: five letters over x 50-130, y 40-60 (ink height 20), black on white.
  auto word = [](uint8_t paper, uint8_t ink) {
    cv::Mat img(100, 200, CV_8UC3, cv::Scalar::all(paper));
    for (int i = 0; i < 5; i++) cv::rectangle(img, cv::Rect(50 + 17 * i, 40, 12, 20), cv::Scalar::all(ink), cv::FILLED);
    return img;
  };
  const cv::Mat page = word(255, 0);
  const float m = 0.12f;
  // ExtendRegionSides: signed, per side, in the region's frame.
  CHECK(same(craft::ExtendRegionSides(rect(10, 10, 50, 20), 1, -2, 3, -4), rect(7, 9, 46, 18)), "sides of a box");
  CHECK(same(craft::ExtendRegionSides({{20, 10}, {20, 50}, {10, 50}, {10, 10}}, 1, 2, 3, 4), {{21, 7}, {21, 54}, {8, 54}, {8, 7}}),
        "sides of a box reading downwards");

  // The loose box (10 px around the ink): by = round(0.12 x 40) = 5; the ink's margin round(0.12 x 20) = 2.
  craft::InkExtent e = craft::FindInk(craft::CropStrip(page, craft::PlanCrop(rect(40, 30, 140, 70), 200, 100, 1.5f, m), 0), false, 5);
  CHECK(e.found && e.top == 15 && e.bottom == 35 && e.left == 15 && e.right == 95, "ink in the strip: rows %d-%d, columns %d-%d",
        e.top, e.bottom, e.left, e.right);
  craft::CropPlan loose = craft::PlanInkCrop(page, rect(40, 30, 140, 70), 1.5f, m);
  CHECK(!loose.skipped && loose.axisAligned && same(loose.points, rect(48, 38, 132, 62)),
        "a loose box is cut at the ink + 2 px (%g,%g)-(%g,%g)", loose.points[0].x, loose.points[0].y, loose.points[2].x,
        loose.points[2].y);
  // The ink found once at the margin (FitInk: its sides 10 px inside the box, 20 high) and the margin retry's crops
  // fitted to it: at margin 0 the ink itself, at 0.24 the ink + round(0.24 x 20) = 5 px (the box's 10 px out allows it).
  const craft::InkFit fit = craft::FitInk(page, rect(40, 30, 140, 70), 1.5f, m);
  CHECK(fit.found && fit.top == -10 && fit.bottom == -10 && fit.left == -10 && fit.right == -10 && fit.across == 20,
        "FitInk: %g %g %g %g across %g", fit.top, fit.bottom, fit.left, fit.right, fit.across);
  CHECK(same(craft::PlanInkCrop(page, rect(40, 30, 140, 70), 1.5f, m, fit).points, loose.points), "the first read's crop");
  CHECK(same(craft::PlanInkCrop(page, rect(40, 30, 140, 70), 1.5f, 0, fit).points, rect(50, 40, 130, 60)), "margin 0: the ink");
  CHECK(same(craft::PlanInkCrop(page, rect(40, 30, 140, 70), 1.5f, 0.24f, fit).points, rect(45, 35, 135, 65)),
        "twice the margin: the ink + 5 px");
  CHECK(same(craft::PlanInkCrop(page, rect(55, 45, 125, 55), 1.5f, 0, craft::FitInk(page, rect(55, 45, 125, 55), 1.5f, m)).points,
             rect(55, 45, 125, 55)),
        "margin 0 of a box cutting the ink: the box");
  CHECK(!craft::FitInk(page, rect(40, 30, 140, 70), 1.5f, 0).found, "FitInk at margin 0: nothing to fit");
  // Loose at the bottom only (box height 30 -> by 4): the same crop, the margin now a fraction of the ink's height.
  craft::CropPlan oneSide = craft::PlanInkCrop(page, rect(50, 40, 130, 70), 1.5f, m);
  CHECK(same(oneSide.points, rect(48, 38, 132, 62)), "loose at the bottom only (%g,%g)-(%g,%g)", oneSide.points[0].x,
        oneSide.points[0].y, oneSide.points[2].x, oneSide.points[2].y);
  // A tight box: the crop at the margin, unchanged.
  craft::CropPlan tight = craft::PlanInkCrop(page, rect(50, 40, 130, 60), 1.5f, m);
  CHECK(same(tight.points, craft::PlanCrop(rect(50, 40, 130, 60), 200, 100, 1.5f, m).points) && same(tight.points, rect(48, 38, 132, 62)),
        "a tight box keeps the margin");
  // A box cutting the ink (CRAFT's can): never further out than the margin puts it, nor into the ink.
  craft::CropPlan cut = craft::PlanInkCrop(page, rect(55, 45, 125, 55), 1.5f, m);
  CHECK(same(cut.points, craft::PlanCrop(rect(55, 45, 125, 55), 200, 100, 1.5f, m).points), "never grows past the margin");
  // Light on dark: the polarity comes from the strip's border.
  CHECK(same(craft::PlanInkCrop(word(0, 255), rect(40, 30, 140, 70), 1.5f, m).points, rect(48, 38, 132, 62)), "light text on dark");
  // Grey input.
  cv::Mat grey;
  cv::cvtColor(page, grey, cv::COLOR_RGB2GRAY);
  CHECK(same(craft::PlanInkCrop(grey, rect(40, 30, 140, 70), 1.5f, m).points, rect(48, 38, 132, 62)), "grey image");
  // A neighbouring line cut by the strip's top edge in the margin (rows 25-28; the box starts at 30), heavier than
  // the word: dropped. Reaching into the box (rows 25-31), it may be the word's: kept, the top and the ends stay at
  // the margin (ink height 35 -> 4 px below).
  cv::Mat above = page.clone();
  cv::rectangle(above, cv::Rect(30, 20, 140, 9), cv::Scalar::all(0), cv::FILLED);
  CHECK(same(craft::PlanInkCrop(above, rect(40, 30, 140, 70), 1.5f, m).points, rect(48, 38, 132, 62)),
        "a neighbouring line's fragment in the margin is not the word");
  cv::rectangle(above, cv::Rect(30, 20, 140, 12), cv::Scalar::all(0), cv::FILLED);
  CHECK(same(craft::PlanInkCrop(above, rect(40, 30, 140, 70), 1.5f, m).points, rect(35, 25, 145, 64)),
        "a fragment reaching into the box is kept");
  // A dot inside the box above the letters (rows 33-35): the word's, kept (ink height 27 -> 3 px a side).
  cv::Mat dot = page.clone();
  cv::rectangle(dot, cv::Rect(52, 33, 3, 3), cv::Scalar::all(0), cv::FILLED);
  CHECK(same(craft::PlanInkCrop(dot, rect(40, 30, 140, 70), 1.5f, m).points, rect(47, 30, 133, 63)), "a dot above stays");
  // An anti-aliased edge under the letters (row 60 at grey 170, a third of the way from paper 255 to ink 0) is ink, as
  // a glyph's ink box counts it (ink height 21 -> 3 px a side); a faint one (grey 230, a tenth) is paper.
  for (const int level : {170, 230}) {
    cv::Mat edge = page.clone();
    for (int i = 0; i < 5; i++) cv::rectangle(edge, cv::Rect(50 + 17 * i, 60, 12, 1), cv::Scalar::all(level), cv::FILLED);
    const craft::CropPlan p = craft::PlanInkCrop(edge, rect(40, 30, 140, 70), 1.5f, m);
    CHECK(same(p.points, level == 170 ? rect(47, 37, 133, 64) : rect(48, 38, 132, 62)), "an edge row at grey %d: (%g,%g)-(%g,%g)",
          level, p.points[0].x, p.points[0].y, p.points[2].x, p.points[2].y);
  }
  // Vertical text (the transposed word): ink across = columns.
  cv::Mat vpage = page.t();
  craft::CropPlan vert = craft::PlanInkCrop(vpage, rect(30, 40, 70, 140), 1.5f, m);
  CHECK(vert.vertical && same(vert.points, rect(38, 48, 62, 132)), "vertical text (%g,%g)-(%g,%g)", vert.points[0].x,
        vert.points[0].y, vert.points[2].x, vert.points[2].y);
  // A straight CRAFT polygon around the loose box: the same ink extent.
  craft::CropPlan poly = craft::PlanInkCrop(page, {{40, 30}, {90, 30}, {140, 30}, {140, 70}, {90, 70}, {40, 70}}, 1.5f, m);
  CHECK(same(poly.points, {{48, 38}, {90, 38}, {132, 38}, {132, 62}, {90, 62}, {48, 62}}), "a polygon");
  // Nothing to fit: margin 0, no contrast (grey 120 on 130), blank paper, a strip clipped by the image's edge.
  CHECK(same(craft::PlanInkCrop(page, rect(40, 30, 140, 70), 1.5f, 0).points, rect(40, 30, 140, 70)), "margin 0: the box");
  CHECK(same(craft::PlanInkCrop(word(130, 120), rect(40, 30, 140, 70), 1.5f, m).points, rect(35, 25, 145, 75)), "no contrast");
  cv::Mat blank(100, 200, CV_8UC3, cv::Scalar::all(255));
  CHECK(!craft::FindInk(blank, false).found && same(craft::PlanInkCrop(blank, rect(40, 30, 140, 70), 1.5f, m).points, rect(35, 25, 145, 75)),
        "blank paper");
  CHECK(same(craft::PlanInkCrop(page, rect(2, 30, 140, 70), 1.5f, m).points, craft::PlanCrop(rect(2, 30, 140, 70), 200, 100, 1.5f, m).points),
        "clipped: unchanged");
  // A word turned 8 degrees in a loose rotated box: the fitted crop is tighter and keeps all the ink.
  cv::Mat rot;
  const cv::Mat R = cv::getRotationMatrix2D(cv::Point2f(90, 50), 8, 1);
  cv::warpAffine(page, rot, R, page.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(255));
  std::vector<cv::Point2f> corners = {{40, 30}, {140, 30}, {140, 70}, {40, 70}}, turned;
  cv::transform(corners, turned, R);
  craft::Region rq;
  for (const auto& c : turned) rq.push_back({c.x, c.y});
  craft::CropPlan before = craft::PlanCrop(rq, 200, 100, 1.5f, m), after = craft::PlanInkCrop(rot, rq, 1.5f, m);
  auto inkIn = [](const cv::Mat& s) {
    cv::Mat g;
    cv::cvtColor(s, g, cv::COLOR_RGB2GRAY);
    return cv::countNonZero(g < 128);
  };
  const int inkBefore = inkIn(craft::CropStrip(rot, before, 0)), inkAfter = inkIn(craft::CropStrip(rot, after, 0));
  CHECK(after.width < before.width - 10 && after.height < before.height - 10 && inkAfter >= inkBefore * 0.98,
        "a rotated loose box: %dx%d -> %dx%d, ink %d -> %d", before.width, before.height, after.width, after.height,
        inkBefore, inkAfter);
  // Hostile strips: tiny, one channel of noise, 4 channels.
  cv::Mat noise(2, 50, CV_8UC1);
  cv::randu(noise, 0, 256);
  CHECK(!craft::FindInk(noise, false).found && !craft::FindInk(cv::Mat(), true).found &&
            !craft::FindInk(cv::Mat(20, 20, CV_8UC4, cv::Scalar::all(0)), false).found,
        "strips under 3 px, empty or of 4 channels: no ink");
}

// Random images, regions and output matrices through every stage: a strip or a skip, text over the charset,
// confidences in [0, 1], never a crash (run under ASan/UBSan by tools/asan.sh).
void TestRandom() {
  cv::RNG rng(12345);
  int strips = 0;
  for (int it = 0; it < 400; it++) {
    const int w = rng.uniform(1, 120), h = rng.uniform(1, 90);
    cv::Mat img(h, w, rng.uniform(0, 2) ? CV_8UC3 : CV_8UC1);
    cv::randu(img, 0, 256);
    const int n = rng.uniform(0, 2) ? 4 : 2 * rng.uniform(3, 8);
    craft::Region r(n);
    for (auto& p : r) p = {rng.uniform(-40.f, w + 40.f), rng.uniform(-40.f, h + 40.f)};
    bool ok = true;
    try {
      craft::CropPlan plan = it % 2 ? craft::PlanCrop(r, w, h, 1.5f, (it % 4) * 0.25f)
                                    : craft::PlanInkCrop(img, r, 1.5f, (it % 4) * 0.25f);
      if (!plan.skipped) {
        cv::Mat strip = craft::CropStrip(img, plan, rng.uniform(0, 4));
        ok = !strip.empty() && strip.type() == img.type();
        const int ow = rng.uniform(1, 300), oh = rng.uniform(1, 70);
        cv::Mat out = craft::PilResizeBicubic(strip, ow, oh);
        ok = ok && out.cols == ow && out.rows == oh;
        if (img.channels() == 3) ok = ok && craft::PilGrey(strip).channels() == 1;
        strips++;
      }
    } catch (const std::exception& e) {
      ok = false;
    }
    CHECK(ok, "random crop %d (%dx%d, %d points)", it, w, h, n);
  }
  CHECK(strips > 100, "random crops mostly kept (%d)", strips);

  const std::vector<std::string> cs{"a", "b", "â¬", "d"};
  for (int it = 0; it < 300; it++) {
    const bool attn = it % 3 == 0;
    const int K = static_cast<int>(cs.size()) + (attn ? 2 : 1);
    const int T = rng.uniform(0, 40);
    std::vector<float> logits(static_cast<size_t>(T) * K);
    for (float& v : logits) v = rng.uniform(-8.f, 8.f);
    const std::vector<float> probs = craft::Softmax(logits.data(), T, K);
    craft::DecodeOptions o;
    o.search = rng.uniform(0, 2) ? craft::CtcSearch::kBeam : craft::CtcSearch::kGreedy;
    o.beamWidth = rng.uniform(1, 8);
    o.characterProbabilities = true;
    for (auto kind : {ConfidenceKind::kDtrb, ConfidenceKind::kEasyOcr}) {
      auto d = craft::Decode(probs, T, K, cs, attn ? DecoderKind::kAttn : DecoderKind::kCtc, kind, o);
      bool ok = d.confidence >= 0 && d.confidence <= 1 + 1e-9;
      if (!attn) {
        // CTC text is made of charset characters only, one probability each.
        std::string rest = d.text;
        size_t chars = 0;
        while (!rest.empty() && ok) {
          bool matched = false;
          for (const auto& c : cs) {
            if (rest.compare(0, c.size(), c) == 0) { rest.erase(0, c.size()); matched = true; chars++; break; }
          }
          ok = matched;
        }
        ok = ok && chars == d.characters.size();
        if (o.search == craft::CtcSearch::kGreedy) ok = ok && chars <= static_cast<size_t>(T);
      }
      CHECK(ok, "random decode %d (T %d, %s): '%s' %g", it, T, attn ? "attn" : "ctc", d.text.c_str(), d.confidence);
    }
  }
}

}  // namespace

// A word of six 14 x 24 letters (pitch 20 px) drawn along a line at `degrees` (clockwise from x) through the centre
// of a white 300 x 300 page, a second line of small marks 30 px below it (a sign's smaller second line); the word's
// rectangle is 114 x 24 px (about 116 x 26 with the anti-aliased edges, ink from a quarter of the way to black).
cv::Mat RotatedWord(double degrees, std::vector<craft::Point>* corners) {
  cv::Mat img(300, 300, CV_8UC3, cv::Scalar::all(255));
  const double a = degrees * 3.14159265358979323846 / 180;
  const double dx = std::cos(a), dy = std::sin(a), nx = -dy, ny = dx;
  auto at = [&](double u, double v) { return cv::Point2d(150 + u * dx + v * nx, 150 + u * dy + v * ny); };
  auto box = [&](double u0, double v0, double u1, double v1) {
    const cv::Point2d q[4] = {at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)};
    std::vector<cv::Point> pts;
    for (const cv::Point2d& p : q) pts.push_back(cv::Point(static_cast<int>(std::lround(p.x * 16)), static_cast<int>(std::lround(p.y * 16))));
    cv::fillConvexPoly(img, pts, cv::Scalar::all(0), cv::LINE_AA, 4);  // 4 fractional bits: sub-pixel corners
  };
  for (int i = 0; i < 6; i++) box(-57 + 20 * i, -12, -43 + 20 * i, 12);
  for (int i = 0; i < 4; i++) box(-37 + 20 * i, 30, -31 + 20 * i, 36);
  if (corners != nullptr) {
    *corners = {};
    for (const cv::Point2d& p : {at(-57, -12), at(57, -12), at(57, 12), at(-57, 12)}) {
      corners->push_back({static_cast<float>(p.x), static_cast<float>(p.y)});
    }
  }
  return img;
}

void TestInkLine() {
  auto rect = [](float x0, float y0, float x1, float y1) { return std::vector<craft::Point>{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; };
  for (const double degrees : {0.0, -30.0, 45.0, 62.5, 90.0, -80.0}) {
    std::vector<craft::Point> truth;
    const cv::Mat page = RotatedWord(degrees, &truth);
    // The crop: the axis-aligned box of everything drawn, a few pixels loose (as a detector's or ICDAR 2015's box).
    cv::Mat grey, ink;
    cv::cvtColor(page, grey, cv::COLOR_RGB2GRAY);
    cv::Rect bounds = cv::boundingRect(grey < 200);
    bounds = cv::Rect(bounds.x - 3, bounds.y - 3, bounds.width + 6, bounds.height + 6);
    const craft::CropPlan plan = craft::PlanCrop(rect(bounds.x, bounds.y, bounds.x + bounds.width, bounds.y + bounds.height),
                                                 300, 300, 1.5f);
    const craft::InkLine line = craft::FindInkLine(craft::CropStrip(page, plan, 0), 0);
    double want = degrees;
    if (want <= -90) want += 180;
    CHECK(line.found && std::fabs(line.angle - want) <= 1.5, "line at %g degrees found at %g", degrees, line.angle);
    CHECK(std::fabs(line.height - 26) <= 3 && std::fabs(line.width - 116) <= 3,
          "the word's rectangle at %g degrees: %g x %g (the second line left out)", degrees, line.width, line.height);
    craft::InkLine got;
    const craft::CropPlan along = craft::PlanLineCrop(page, plan, 0, &got);
    CHECK(!along.skipped && along.points.size() == 4 && got.angle == line.angle, "a plan along the line at %g degrees", degrees);
    // atan(26 / (2 x 116)): a tilt of 6.4 degrees moves the word's ends by half its height.
    CHECK(std::fabs(line.uncertainty - 6.4) <= 1, "uncertainty %g", line.uncertainty);
    // Mapped back into the page: the word's corners (the drawn rectangle's), in reading order.
    double worst = along.skipped ? INFINITY : 0;
    for (int k = 0; k < 4 && !along.skipped; k++) {
      worst = std::max<double>(worst, std::hypot(along.points[k].x - truth[k].x, along.points[k].y - truth[k].y));
    }
    // 1.5 degrees over half the word (~1.5 px), the anti-aliased edges (~1.5 px), the trimmed spread's bias.
    CHECK(worst <= 4.5, "the plan's corners are the word's at %g degrees: %g px off at worst", degrees, worst);
    // The crop margin, in whole pixels of the word's height: round(0.12 x 24) = 3 a side.
    const craft::InkLine loose = craft::FindInkLine(craft::CropStrip(page, plan, 0), 0.12f);
    CHECK(std::fabs(loose.height - line.height - 6) <= 0.01 && std::fabs(loose.width - line.width - 6) <= 0.01,
          "margin 0.12: %g x %g", loose.width, loose.height);
  }
  // Through a rotated quad (a detector's box at 20 degrees around the word at 30): the strip shows the word at 10
  // degrees, and the line's rectangle maps back onto the word in the page.
  {
    std::vector<craft::Point> truth;
    const cv::Mat page = RotatedWord(30, &truth);
    const double a = 20 * 3.14159265358979323846 / 180;
    const float c = static_cast<float>(std::cos(a)), s = static_cast<float>(std::sin(a));
    auto at = [&](float u, float v) { return craft::Point{150 + u * c - v * s, 150 + u * s + v * c}; };
    const craft::CropPlan quad = craft::PlanCrop({at(-75, -40), at(75, -40), at(75, 40), at(-75, 40)}, 300, 300, 1.5f);
    craft::InkLine got;
    const craft::CropPlan along = craft::PlanLineCrop(page, quad, 0, &got);
    double worst = along.skipped ? INFINITY : 0;
    for (int k = 0; k < 4 && !along.skipped; k++) {
      worst = std::max<double>(worst, std::hypot(along.points[k].x - truth[k].x, along.points[k].y - truth[k].y));
    }
    CHECK(!quad.axisAligned && std::fabs(got.angle - 10) <= 1.5 && worst <= 4.5,
          "through a rotated quad: the line at %g degrees in the strip, the corners %g px off at worst", got.angle, worst);
  }
  // Nothing to find: a blank or low-contrast strip, a polygon plan.
  CHECK(!craft::FindInkLine(cv::Mat(40, 80, CV_8UC3, cv::Scalar::all(200)), 0).found, "a blank strip");
  craft::CropPlan polygon = craft::PlanCrop({{10, 10}, {60, 10}, {110, 10}, {110, 40}, {60, 40}, {10, 40}}, 300, 300, 1.5f);
  CHECK(craft::PlanLineCrop(RotatedWord(30, nullptr), polygon, 0, nullptr).skipped, "a polygon already follows its text");
  // Directions already read: within 7 degrees of the strip's (a vertical strip's: a quarter turn), or within the
  // line's own uncertainty.
  auto at = [](double angle, double uncertainty) {
    craft::InkLine l;
    l.found = true, l.angle = angle, l.uncertainty = uncertainty;
    return l;
  };
  CHECK(!craft::NewOrientation(at(3, 2), false) && !craft::NewOrientation(at(-6.5, 2), false) &&
            craft::NewOrientation(at(10, 2), false) && craft::NewOrientation(at(-45, 2), false) &&
            craft::NewOrientation(at(90, 2), false),
        "horizontal strips");
  CHECK(!craft::NewOrientation(at(90, 2), true) && !craft::NewOrientation(at(-86, 2), true) &&
            craft::NewOrientation(at(80, 2), true) && craft::NewOrientation(at(0, 2), true),
        "vertical strips");
  CHECK(!craft::NewOrientation(at(10, 14), false) && craft::NewOrientation(at(15, 14), false) &&
            !craft::NewOrientation(at(70, 25), true),
        "a short word's direction is open within its uncertainty");
}

// Vertical words (vertical.h) on hand-made strips: glyph slots of known extent, which of them stack, the stack laid
// out as a line, and the per-character confidence.
void TestVertical() {
  // Three 'letters' 20 wide, 16 high, 8 apart, with a dot (an i's) above the first, black on white, 40 x 90.
  cv::Mat strip(90, 40, CV_8UC3, cv::Scalar::all(255));
  for (int k = 0; k < 3; k++) cv::rectangle(strip, cv::Rect(10, 14 + 24 * k, 20, 16), cv::Scalar::all(0), cv::FILLED);
  cv::rectangle(strip, cv::Rect(18, 8, 3, 3), cv::Scalar::all(0), cv::FILLED);
  const cv::Mat ink = craft::InkMask(strip);
  std::vector<cv::Rect> slots = craft::FindGlyphSlots(ink);
  bool at = slots.size() == 3;
  for (size_t k = 0; at && k < 3; k++) at = slots[k] == cv::Rect(10, 14 + 24 * static_cast<int>(k), 20, 16);
  CHECK(at, "three glyph slots, the dot left out (%zu found)", slots.size());
  CHECK(craft::IsGlyphStack(slots, 25) && !craft::IsGlyphStack(slots, 2), "three slots of a width stack (up to maxGlyphs)");
  // Laid out: 20 + 3 (gap round(0.2 x 16)) + 20 + 3 + 20 wide plus 2 x round(0.25 x 16) = 4 a side; 16 + 8 high.
  cv::Mat line = craft::LayOutGlyphs(strip, ink, slots, 0.25);
  CHECK(line.cols == 66 + 8 && line.rows == 24, "laid-out line %dx%d", line.cols, line.rows);
  if (line.cols == 74 && line.rows == 24) {
    cv::Mat grey;
    cv::cvtColor(line, grey, cv::COLOR_RGB2GRAY);
    bool glyphs = true;
    for (int x = 0; x < line.cols; x++) {
      const bool inGlyph = (x >= 4 && x < 24) || (x >= 27 && x < 47) || (x >= 50 && x < 70);
      for (int y = 0; y < line.rows; y++) {
        const bool ink = inGlyph && y >= 4 && y < 20;
        glyphs = glyphs && (grey.at<uint8_t>(y, x) == (ink ? 0 : 255));
      }
    }
    CHECK(glyphs, "the glyphs side by side on the paper's colour");
  }
  // Row overlap merges parts into one slot (a glyph of two parts side by side); two parts stacked are one character.
  cv::Mat colon(60, 30, CV_8UC1, cv::Scalar::all(255));
  cv::rectangle(colon, cv::Rect(10, 10, 10, 10), cv::Scalar::all(0), cv::FILLED);
  cv::rectangle(colon, cv::Rect(10, 40, 10, 10), cv::Scalar::all(0), cv::FILLED);
  slots = craft::FindGlyphSlots(craft::InkMask(colon));
  CHECK(slots.size() == 2 && !craft::IsGlyphStack(slots, 25), "a colon: two slots, no stack (%zu)", slots.size());
  cv::rectangle(colon, cv::Rect(2, 12, 5, 30), cv::Scalar::all(0), cv::FILLED);  // a bar beside both dots
  slots = craft::FindGlyphSlots(craft::InkMask(colon));
  CHECK(slots.size() == 1 && slots[0] == cv::Rect(2, 10, 18, 40), "parts whose rows overlap merge into one slot");
  // Widths: a slot 3x the median is no stack; a thin upright stroke (an I) is.
  auto rects = [](std::initializer_list<std::array<int, 2>> wh) {
    std::vector<cv::Rect> r;
    int y = 0;
    for (auto [w, h] : wh) r.emplace_back(0, y, w, h), y += h + 4;
    return r;
  };
  CHECK(!craft::IsGlyphStack(rects({{10, 12}, {10, 12}, {30, 12}}), 25), "a slot three times as wide: no stack");
  CHECK(craft::IsGlyphStack(rects({{10, 12}, {3, 12}, {10, 12}}), 25), "a thin stroke among letters: a stack");
  CHECK(!craft::IsGlyphStack(rects({{10, 12}, {3, 3}, {10, 12}}), 25), "a speck among letters: no stack");
  CHECK(craft::FindGlyphSlots(craft::InkMask(cv::Mat(40, 10, CV_8UC1, cv::Scalar::all(128)))).empty(),
        "no contrast: no slots");
  CHECK(std::abs(craft::PerCharacterConfidence(0.64, "ab") - 0.8) < 1e-12 &&
            craft::PerCharacterConfidence(0.3, "") == 0.3 && craft::PerCharacterConfidence(0.3, "\xc3\xa9") == 0.3 &&
            std::abs(craft::PerCharacterConfidence(0.125, "x\xc3\xa9z") - 0.5) < 1e-12,
        "per-character confidence: the geometric mean over UTF-8 characters");
}

// EasyOCR's contrast_grey / adjust_contrast_grey on hand-made strips, the answers worked out with numpy (percentiles
// interpolated between ranks, levels truncated to 8 bits).
void TestContrast() {
  cv::Mat ramp(10, 10, CV_8UC1);
  for (int i = 0; i < 100; i++) ramp.at<uint8_t>(i / 10, i % 10) = static_cast<uint8_t>(100 + i);
  const craft::GreyContrast c = craft::ContrastGrey(ramp);
  CHECK(std::fabs(c.high - 189.1) < 1e-9 && std::fabs(c.low - 109.9) < 1e-9, "p90 189.1, p10 109.9");
  CHECK(std::fabs(c.contrast - 79.2 / 299.0) < 1e-12, "contrast (p90 - p10) / (p90 + p10)");
  cv::Mat s = ramp.clone();
  CHECK(craft::AdjustContrastGrey(s, 0.5), "a contrast of 0.26 is stretched");
  // (v - 109.9 + 25) * 200 / 79.2: 100 -> 38.1, 110 -> 63.4, 150 -> 164.4, 170 -> 214.9, 175 -> 227.5, 199 -> 288 (255).
  CHECK(s.at<uint8_t>(0, 0) == 38 && s.at<uint8_t>(1, 0) == 63 && s.at<uint8_t>(5, 0) == 164 &&
            s.at<uint8_t>(7, 0) == 214 && s.at<uint8_t>(7, 5) == 227 && s.at<uint8_t>(9, 9) == 255,
        "stretched levels");
  CHECK(ramp.at<uint8_t>(0, 0) == 100, "the input's pixels are not written (a new buffer)");
  cv::Mat same = ramp.clone();
  CHECK(!craft::AdjustContrastGrey(same, 0.2) && same.at<uint8_t>(0, 0) == 100, "contrast over the target: untouched");
  cv::Mat sharp(4, 10, CV_8UC1, cv::Scalar(0));
  sharp.colRange(5, 10).setTo(255);
  cv::Mat keep = sharp.clone();
  CHECK(!craft::AdjustContrastGrey(keep) && cv::countNonZero(keep != sharp) == 0, "black on white: untouched");
  // RGB: the grey levels (PIL L) decide the map, applied to each channel alike.
  cv::Mat rgb;
  cv::cvtColor(ramp, rgb, cv::COLOR_GRAY2RGB);
  CHECK(craft::AdjustContrastGrey(rgb) && rgb.type() == CV_8UC3, "an RGB strip is stretched");
  const cv::Vec3b px = rgb.at<cv::Vec3b>(5, 0);
  CHECK(px[0] == 164 && px[1] == 164 && px[2] == 164, "each channel as the grey level");
}

// The stretch retry's input widths: DTRB's ceil(imgH * (w / h)) times the stretch, within [1, maxWidth].
void TestStretch() {
  const std::vector<double> factors = craft::StretchRetryFactors();
  CHECK(factors.size() == 2 && factors[0] == 1.5 && factors[1] == 2.0, "read 1.5x and 2x wider");
  CHECK(craft::StretchedWidth(100, 32, 32, 2048) == 100, "a 32-high strip keeps its width");
  CHECK(craft::StretchedWidth(100, 32, 32, 2048, 1.5) == 150 && craft::StretchedWidth(100, 32, 32, 2048, 2) == 200,
        "1.5x, 2x");
  // 49 x 39: 32 * 49 / 39 = 40.2 -> 41; x1.5 60.3 -> 61; x2 80.4 -> 81.
  CHECK(craft::StretchedWidth(49, 39, 32, 2048) == 41 && craft::StretchedWidth(49, 39, 32, 2048, 1.5) == 61 &&
            craft::StretchedWidth(49, 39, 32, 2048, 2) == 81,
        "rounded up");
  // A 64-high strip 3 wide: 1.5 -> 2 columns; a sliver still gets one.
  CHECK(craft::StretchedWidth(3, 64, 32, 2048) == 2 && craft::StretchedWidth(1, 1000, 32, 2048, 2) == 1, "at least 1");
  CHECK(craft::StretchedWidth(1100, 32, 32, 2048, 2) == 2048 && craft::StretchedWidth(1024, 32, 32, 2048, 2) == 2048,
        "at most maxWidth");
  CHECK(craft::StretchedWidth(20, 10, 32, 100, 1) == 64 && craft::StretchedWidth(20, 10, 32, 100, 2) == 100,
        "a fixed-width pad model's imgW caps it");
}

// A hand-made character LM in tools/lm/ngram.py's file format: order 2 over "1acls" (symbols 1-5, end of word 0,
// start 6); every unigram 1/6, bigrams ^c cl la as ss s$ at 0.9, every context's back-off weight 0.1.
std::vector<uint8_t> TinyLm() {
  std::vector<uint8_t> b;
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; i++) b.push_back(static_cast<uint8_t>(v >> (8 * i))); };
  auto u16 = [&](uint16_t v) { b.push_back(static_cast<uint8_t>(v)); b.push_back(static_cast<uint8_t>(v >> 8)); };
  auto q = [](double p) { return static_cast<uint16_t>(std::lround(-std::log10(p) * 2000)); };
  for (char c : std::string("CLM1")) b.push_back(static_cast<uint8_t>(c));
  u32(2); u32(6); u32(1); u32(5);
  for (char c : std::string("1acls")) b.push_back(static_cast<uint8_t>(c));
  u32(6);
  for (uint32_t s = 0; s < 6; s++) u32(s);
  for (int s = 0; s < 6; s++) u16(q(1.0 / 6));
  for (int s = 0; s < 6; s++) u16(q(0.1));
  const std::vector<std::pair<int, int>> bigrams{{2, 5}, {3, 4}, {4, 2}, {5, 0}, {5, 5}, {6, 3}};  // as, cl, la, s$, ss, ^c: sorted keys
  u32(static_cast<uint32_t>(bigrams.size()));
  for (auto [h, c] : bigrams) u32(static_cast<uint32_t>((h << 7) | c));  // k <= 4: u32 keys
  for (size_t i = 0; i < bigrams.size(); i++) u16(q(0.9));
  return b;
}

void TestCharLm() {
  const std::vector<uint8_t> bytes = TinyLm();
  auto lm = craft::CharLm::Parse(bytes.data(), bytes.size());
  CHECK(lm->order() == 2 && lm->symbols() == 6 && lm->ngrams() == 12, "tiny LM parsed (order %d, %zu n-grams)",
        lm->order(), lm->ngrams());
  CHECK(lm->SymbolOf("l") == 4 && lm->SymbolOf("L") == 4 && lm->SymbolOf("x") == -1 && lm->SymbolOf("é") == -1,
        "symbols: folded, none for characters outside the alphabet");
  const uint64_t c = lm->Next(lm->Start(), 3);
  CHECK(Near(lm->LogProb(c, 4), std::log(0.9), 2e-3), "a seen bigram: ln 0.9, got %g", lm->LogProb(c, 4));
  CHECK(Near(lm->LogProb(c, 1), std::log(0.1 / 6), 2e-3), "an unseen one backs off: ln(0.1 / 6), got %g",
        lm->LogProb(c, 1));
  CHECK(Near(lm->LogProb(lm->Start(), 3), std::log(0.9), 2e-3), "the start context");

  // Malformed files are refused, not read past their end.
  auto refused = [](std::vector<uint8_t> b) {
    try {
      craft::CharLm::Parse(b.data(), b.size());
      return false;
    } catch (const std::invalid_argument&) {
      return true;
    }
  };
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  CHECK(refused(bad), "bad magic refused");
  CHECK(refused(std::vector<uint8_t>(bytes.begin(), bytes.end() - 1)), "truncated file refused");
  bad = bytes;
  bad.push_back(0);
  CHECK(refused(bad), "trailing bytes refused");
  bad = bytes;
  std::swap(bad[29], bad[33]);  // the first two unigram keys (0, 1) swapped: unsorted
  CHECK(refused(bad), "unsorted keys refused");
  CHECK(refused({}), "empty file refused");

  // Fusion in the prefix beam search: frames c ? a s - s, K = 6 (blank, 1 a c l s).
  const std::vector<std::string> charset{"1", "a", "c", "l", "s"};
  auto frames = [](float one, float ell) {
    std::vector<float> p(6 * 6, 0.f);
    const int main_class[6] = {3, -1, 2, 5, 0, 5};
    for (int t = 0; t < 6; t++) {
      if (main_class[t] >= 0) {
        p[t * 6 + main_class[t]] = .95f;
        p[t * 6 + (main_class[t] == 0 ? 2 : 0)] = .05f;
      } else {
        p[t * 6 + 1] = one;
        p[t * 6 + 4] = ell;
        p[t * 6 + 0] = 1 - one - ell;
      }
    }
    return p;
  };
  craft::DecodeOptions fused;
  fused.search = craft::CtcSearch::kBeam;
  fused.lm = lm;
  fused.lmWeight = 0.3;
  fused.insertionBonus = 2;
  craft::DecodeOptions greedy;
  const auto tied = frames(.5f, .45f);  // '1' barely ahead of 'l'
  auto g = craft::Decode(tied, 6, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, greedy);
  auto f = craft::Decode(tied, 6, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, fused);
  CHECK(g.text == "c1ass", "greedy reads the nearly tied frame as '1': '%s'", g.text.c_str());
  CHECK(f.text == "class", "the LM flips the near tie to the word: '%s'", f.text.c_str());
  CHECK(Near(f.confidence, g.confidence, 1e-12), "fusion leaves the confidence (per-frame maxima) as it is");
  const auto clear = frames(.98f, .015f);  // clear evidence for '1'
  auto fc = craft::Decode(clear, 6, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, fused);
  CHECK(fc.text == "c1ass", "clear evidence is not overridden: '%s'", fc.text.c_str());
  fused.lmWeight = 0;
  fused.insertionBonus = 0;
  craft::DecodeOptions plain = fused;
  plain.lm = nullptr;
  auto f0 = craft::Decode(tied, 6, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, fused);
  auto b0 = craft::Decode(tied, 6, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, plain);
  CHECK(f0.text == b0.text, "weight 0, bonus 0: the plain prefix beam search ('%s' / '%s')", f0.text.c_str(),
        b0.text.c_str());
  fused.lmWeight = 0.3;
  fused.insertionBonus = 2;
  // Empty readings: all blank frames, and no frames at all.
  auto blank = Frames({0, 0, 0}, {.99f, .99f, .99f}, 6);
  CHECK(craft::Decode(blank, 3, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, fused).text.empty(),
        "all blank frames: nothing read, whatever the bonus");
  CHECK(craft::Decode({}, 0, 6, charset, DecoderKind::kCtc, ConfidenceKind::kDtrb, fused).text.empty(), "no frames");
  // A class without an LM symbol ('x') still decodes (scored 1 / S).
  const std::vector<std::string> with_x{"1", "a", "c", "l", "x"};
  auto fx = craft::Decode(Frames({5, 0, 5}, {.95f, .95f, .95f}, 6), 3, 6, with_x, DecoderKind::kCtc,
                          ConfidenceKind::kDtrb, fused);
  CHECK(fx.text == "xx", "characters outside the LM's alphabet are read: '%s'", fx.text.c_str());
}

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "test/fixtures/recognition";
  TestPil(dir);
  TestCtc();
  TestCharLm();
  TestAttn();
  TestSoftmaxIgnored();
  TestCharset();
  TestCrop();
  TestCropMargin();
  TestInkCrop();
  TestInkLine();
  TestVertical();
  TestContrast();
  TestStretch();
  TestRandom();
  std::printf("%d checks, %d failures\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
