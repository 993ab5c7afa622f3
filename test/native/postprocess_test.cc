// craft::GetDetBoxes parity tests.
//
//   postprocess_test FIXTURES_DIR      (FIXTURES_DIR = ../shared/fixtures/postprocess)
//
// 1. Fixtures: every NAME.json in FIXTURES_DIR holds the exact output of the official CRAFT-pytorch
//    craft_utils.getDetBoxes(..., poly=True) for NAME.region.f32 / NAME.affinity.f32. Same count, same order, every
//    corner within 0.01 px, a polygon exactly where the reference has one, polygon points within 0.01 px.
// 2. A literal full-map C++ port of getDetBoxes_core (full-size segmap per component, dilation of the ROI, every
//    pixel to minAreaRect) against GetDetBoxes, bit for bit, on the fixtures and on random maps: checks that the
//    ROI / row-extent shortcuts change nothing.
// 3. Corner cases: tiny and degenerate maps, link-only components, NaN, invalid arguments.
// Exit status 0 when everything passes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "check.h"
#include "error.h"
#include "postprocess.h"

namespace {

std::vector<float> ReadF32(const std::string& path, size_t count) {
  std::ifstream f(path, std::ios::binary);
  std::vector<float> v(count);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
  if (!f || f.peek() != EOF) {
    std::printf("cannot read %zu floats from %s\n", count, path.c_str());
    std::exit(2);
  }
  return v;
}

// ---- 1. fixtures ------------------------------------------------------------------------------------------------

constexpr double kTol = 0.01;

bool RunFixture(const std::string& dir, const std::string& name) {
  const int before = failures;
  std::ifstream jf(dir + "/" + name + ".json");
  const nlohmann::json ref = nlohmann::json::parse(jf);
  const int w = ref.at("width"), h = ref.at("height");
  const size_t n = static_cast<size_t>(w) * h;
  const std::vector<float> region = ReadF32(dir + "/" + name + ".region.f32", n);
  const std::vector<float> affinity = ReadF32(dir + "/" + name + ".affinity.f32", n);

  craft::PostprocessOptions opts;
  opts.textThreshold = ref.at("textThreshold").get<float>();
  opts.linkThreshold = ref.at("linkThreshold").get<float>();
  opts.lowText = ref.at("lowText").get<float>();
  opts.polygons = true;
  const std::vector<craft::Word> words = craft::GetDetBoxes(region.data(), affinity.data(), w, h, opts);

  const auto& boxes = ref.at("boxes");
  const auto& polys = ref.at("polys");
  CHECK(words.size() == boxes.size(), "%s: %zu words, reference %zu", name.c_str(), words.size(), boxes.size());
  double maxBoxDiff = 0, maxPolyDiff = 0;
  size_t nPolys = 0, nRefPolys = 0;
  for (size_t i = 0; i < std::min(words.size(), boxes.size()); i++) {
    const craft::Word& word = words[i];
    for (int c = 0; c < 4; c++) {
      const double d = std::max(std::fabs(word.box[c].x - boxes[i][c][0].get<double>()),
                                std::fabs(word.box[c].y - boxes[i][c][1].get<double>()));
      maxBoxDiff = std::max(maxBoxDiff, d);
    }
    CHECK(word.score >= opts.textThreshold, "%s word %zu: score %f", name.c_str(), i, word.score);
    const bool refHasPoly = !polys[i].is_null();
    nRefPolys += refHasPoly;
    nPolys += !word.polygon.empty();
    CHECK(refHasPoly == !word.polygon.empty(), "%s word %zu: polygon %s, reference %s", name.c_str(), i,
          word.polygon.empty() ? "none" : "present", refHasPoly ? "present" : "none");
    if (refHasPoly && !word.polygon.empty()) {
      CHECK(word.polygon.size() == polys[i].size(), "%s word %zu: %zu polygon points, reference %zu", name.c_str(), i,
            word.polygon.size(), polys[i].size());
      for (size_t p = 0; p < std::min(word.polygon.size(), polys[i].size()); p++) {
        const double d = std::max(std::fabs(word.polygon[p].x - polys[i][p][0].get<double>()),
                                  std::fabs(word.polygon[p].y - polys[i][p][1].get<double>()));
        maxPolyDiff = std::max(maxPolyDiff, d);
      }
    }
  }
  CHECK(maxBoxDiff <= kTol, "%s: box corner off by %g px", name.c_str(), maxBoxDiff);
  CHECK(maxPolyDiff <= kTol, "%s: polygon point off by %g px", name.c_str(), maxPolyDiff);

  // polygons off: the same boxes and scores, no polygons.
  opts.polygons = false;
  const std::vector<craft::Word> plain = craft::GetDetBoxes(region.data(), affinity.data(), w, h, opts);
  bool same = plain.size() == words.size();
  for (size_t i = 0; same && i < plain.size(); i++) {
    same = plain[i].polygon.empty() && plain[i].score == words[i].score &&
           std::memcmp(plain[i].box.data(), words[i].box.data(), sizeof(plain[i].box)) == 0;
  }
  CHECK(same, "%s: polygons=false changes the boxes or returns polygons", name.c_str());

  const bool ok = failures == before;
  std::printf("%-4s fixture %-11s %4dx%-4d %4zu boxes (ref %4zu)  %3zu polygons (ref %3zu)  max diff box %.2g poly %.2g\n",
              ok ? "ok" : "FAIL", name.c_str(), h, w, words.size(), boxes.size(), nPolys, nRefPolys, maxBoxDiff,
              maxPolyDiff);
  return ok;
}

// ---- 2. literal full-map port of getDetBoxes_core ----------------------------------------------------------------

struct NaiveWord {
  std::array<cv::Point2f, 4> box;
  float score;
};

std::vector<NaiveWord> NaiveDetBoxes(const cv::Mat& textmap, const cv::Mat& linkmap, float textThreshold,
                                     float linkThreshold, float lowText) {
  const int imgH = textmap.rows, imgW = textmap.cols;
  cv::Mat textScore, linkScore;
  cv::threshold(textmap, textScore, lowText, 1, cv::THRESH_BINARY);
  cv::threshold(linkmap, linkScore, linkThreshold, 1, cv::THRESH_BINARY);
  cv::Mat comb = cv::min(textScore + linkScore, 1.0), comb8;
  comb.convertTo(comb8, CV_8U);
  cv::Mat labels, stats, centroids;
  const int nLabels = cv::connectedComponentsWithStats(comb8, labels, stats, centroids, 4, CV_32S);
  const cv::Mat linkOnly = (linkScore == 1) & (textScore == 0);

  std::vector<NaiveWord> det;
  for (int k = 1; k < nLabels; k++) {
    const int size = stats.at<int>(k, cv::CC_STAT_AREA);
    if (size < 10) continue;
    const cv::Mat mask = labels == k;
    double maxv = 0;
    cv::minMaxLoc(textmap, nullptr, &maxv, nullptr, nullptr, mask);
    if (static_cast<float>(maxv) < textThreshold) continue;

    cv::Mat segmap = cv::Mat::zeros(textmap.size(), CV_8U);
    segmap.setTo(255, mask);
    segmap.setTo(0, linkOnly);
    const int x = stats.at<int>(k, cv::CC_STAT_LEFT), y = stats.at<int>(k, cv::CC_STAT_TOP);
    const int w = stats.at<int>(k, cv::CC_STAT_WIDTH), h = stats.at<int>(k, cv::CC_STAT_HEIGHT);
    const int niter = static_cast<int>(std::sqrt(static_cast<double>(size) * std::min(w, h) / (double(w) * h)) * 2);
    int sx = x - niter, ex = x + w + niter + 1, sy = y - niter, ey = y + h + niter + 1;
    sx = std::max(sx, 0);
    sy = std::max(sy, 0);
    ex = std::min(ex, imgW);
    ey = std::min(ey, imgH);
    const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(1 + niter, 1 + niter));
    const cv::Rect roi(sx, sy, ex - sx, ey - sy);
    cv::Mat dilated;
    cv::dilate(segmap(roi).clone(), dilated, kernel);  // clone: isolated like a numpy slice handed to cv2
    dilated.copyTo(segmap(roi));

    std::vector<cv::Point> points;
    cv::findNonZero(segmap, points);  // raster order, like np.where
    std::array<cv::Point2f, 4> box;
    if (points.empty()) {
      box.fill(cv::Point2f(0, 0));  // what cv2.minAreaRect + boxPoints give for no points
    } else {
      cv::minAreaRect(points).points(box.data());
    }
    auto norm = [](cv::Point2f a, cv::Point2f b) {
      const float dx = a.x - b.x, dy = a.y - b.y;
      return std::sqrt(dx * dx + dy * dy);
    };
    const float bw = norm(box[0], box[1]), bh = norm(box[1], box[2]);
    const float ratio = std::max(bw, bh) / (std::min(bw, bh) + 1e-5f);
    if (std::fabs(1.f - ratio) <= 0.1f && !points.empty()) {
      int l = imgW, r = -1, t = imgH, b = -1;
      for (const cv::Point& p : points) {
        l = std::min(l, p.x), r = std::max(r, p.x), t = std::min(t, p.y), b = std::max(b, p.y);
      }
      box = {cv::Point2f(l, t), cv::Point2f(r, t), cv::Point2f(r, b), cv::Point2f(l, b)};
    }
    int start = 0;
    for (int i = 1; i < 4; i++) {
      if (box[i].x + box[i].y < box[start].x + box[start].y) start = i;
    }
    std::rotate(box.begin(), box.begin() + start, box.end());
    det.push_back({box, static_cast<float>(maxv)});
  }
  return det;
}

bool SameAsNaive(const float* region, const float* affinity, int w, int h, const craft::PostprocessOptions& opts,
                 const std::string& what) {
  const cv::Mat textmap(h, w, CV_32F, const_cast<float*>(region));
  const cv::Mat linkmap(h, w, CV_32F, const_cast<float*>(affinity));
  const std::vector<NaiveWord> naive =
      NaiveDetBoxes(textmap, linkmap, opts.textThreshold, opts.linkThreshold, opts.lowText);
  const std::vector<craft::Word> fast = craft::GetDetBoxes(region, affinity, w, h, opts);
  if (naive.size() != fast.size()) {
    std::printf("  FAIL %s: %zu words, full-map port %zu\n", what.c_str(), fast.size(), naive.size());
    failures++;
    return false;
  }
  for (size_t i = 0; i < fast.size(); i++) {
    bool same = fast[i].score == naive[i].score;
    for (int c = 0; c < 4; c++) same = same && fast[i].box[c].x == naive[i].box[c].x && fast[i].box[c].y == naive[i].box[c].y;
    if (!same) {
      std::printf("  FAIL %s word %zu: box (%g,%g) (%g,%g) (%g,%g) (%g,%g) score %g, full-map port (%g,%g) (%g,%g) "
                  "(%g,%g) (%g,%g) score %g\n",
                  what.c_str(), i, fast[i].box[0].x, fast[i].box[0].y, fast[i].box[1].x, fast[i].box[1].y,
                  fast[i].box[2].x, fast[i].box[2].y, fast[i].box[3].x, fast[i].box[3].y, fast[i].score,
                  naive[i].box[0].x, naive[i].box[0].y, naive[i].box[1].x, naive[i].box[1].y, naive[i].box[2].x,
                  naive[i].box[2].y, naive[i].box[3].x, naive[i].box[3].y, naive[i].score);
      failures++;
      return false;
    }
  }
  return true;
}

// Text-like random heatmaps: rows of rotated character blobs joined by affinity blobs, plus noise and speckles.
void RandomMaps(cv::RNG& rng, int w, int h, std::vector<float>& region, std::vector<float>& affinity) {
  cv::Mat reg = cv::Mat::zeros(h, w, CV_32F), aff = cv::Mat::zeros(h, w, CV_32F);
  const int nWords = rng.uniform(0, 1 + w * h / 600);
  for (int i = 0; i < nWords; i++) {
    const double angle = rng.uniform(0, 4) == 0 ? rng.uniform(-90.0, 90.0) : rng.uniform(-10.0, 10.0);
    const double ca = std::cos(angle * CV_PI / 180), sa = std::sin(angle * CV_PI / 180);
    const double charH = rng.uniform(2.0, 14.0), pitch = charH * rng.uniform(0.6, 1.3);
    const double curve = rng.uniform(0, 3) == 0 ? rng.uniform(-0.05, 0.05) : 0.0;
    const int nChars = rng.uniform(1, 14);
    cv::Point2d p(rng.uniform(-10.0, w + 10.0), rng.uniform(-10.0, h + 10.0));
    for (int c = 0; c < nChars; c++) {
      const double bend = curve * c * c * pitch;
      const cv::Point2d q(p.x + c * pitch * ca - bend * sa, p.y + c * pitch * sa + bend * ca);
      const float v = static_cast<float>(rng.uniform(0.3, 1.0));
      cv::ellipse(reg, cv::Point(cvRound(q.x), cvRound(q.y)),
                  cv::Size(std::max(1, cvRound(pitch * 0.4)), std::max(1, cvRound(charH * 0.5))), angle, 0, 360,
                  cv::Scalar(v), -1);
      if (c + 1 < nChars) {
        const cv::Point2d m(q.x + 0.5 * pitch * ca, q.y + 0.5 * pitch * sa);
        cv::ellipse(aff, cv::Point(cvRound(m.x), cvRound(m.y)),
                    cv::Size(std::max(1, cvRound(pitch * 0.3)), std::max(1, cvRound(charH * 0.3))), angle, 0, 360,
                    cv::Scalar(rng.uniform(0.2, 0.9)), -1);
      }
    }
  }
  const double sigma = rng.uniform(0.0, 2.5);
  if (sigma > 0.3) {
    cv::GaussianBlur(reg, reg, cv::Size(0, 0), sigma);
    cv::GaussianBlur(aff, aff, cv::Size(0, 0), sigma);
  }
  cv::Mat noise(h, w, CV_32F);
  rng.fill(noise, cv::RNG::UNIFORM, 0.0, rng.uniform(0.0, 0.5));
  reg += noise;
  rng.fill(noise, cv::RNG::UNIFORM, 0.0, rng.uniform(0.0, 0.5));
  aff += noise;
  region.assign(reg.begin<float>(), reg.end<float>());
  affinity.assign(aff.begin<float>(), aff.end<float>());
}

bool RandomParity(int cases) {
  const int before = failures;
  cv::RNG rng(0xC0FFEE);
  size_t words = 0;
  for (int i = 0; i < cases && failures == before; i++) {
    const int w = rng.uniform(1, 4) == 1 ? rng.uniform(1, 24) : rng.uniform(16, 320);
    const int h = rng.uniform(1, 4) == 1 ? rng.uniform(1, 24) : rng.uniform(16, 320);
    std::vector<float> region, affinity;
    RandomMaps(rng, w, h, region, affinity);
    craft::PostprocessOptions opts;
    if (i % 3) {
      opts.textThreshold = static_cast<float>(rng.uniform(0.1, 0.95));
      opts.linkThreshold = static_cast<float>(rng.uniform(0.1, 0.9));
      opts.lowText = static_cast<float>(rng.uniform(0.1, 0.9));  // sometimes above textThreshold
    }
    SameAsNaive(region.data(), affinity.data(), w, h, opts, "random case " + std::to_string(i));
    words += craft::GetDetBoxes(region.data(), affinity.data(), w, h, opts).size();
    // Polygons on random maps: must not crash (sanitizers) and must be 14 points or none.
    opts.polygons = true;
    for (const craft::Word& word : craft::GetDetBoxes(region.data(), affinity.data(), w, h, opts)) {
      CHECK(word.polygon.empty() || word.polygon.size() == 14, "random case %d: %zu polygon points", i,
            word.polygon.size());
    }
  }
  const bool ok = failures == before;
  std::printf("%-4s %d random maps (%zu words): bit-identical to the full-map port\n", ok ? "ok" : "FAIL", cases, words);
  return ok;
}

// ---- 3. corner cases ---------------------------------------------------------------------------------------------

bool CornerCases() {
  const int before = failures;
  craft::PostprocessOptions opts;

  // 1x1 and empty maps.
  float one = 1.f, zero = 0.f;
  CHECK(craft::GetDetBoxes(&one, &zero, 1, 1, opts).empty(), "1x1");
  std::vector<float> z(64 * 48, 0.f);
  CHECK(craft::GetDetBoxes(z.data(), z.data(), 64, 48, opts).empty(), "zeros");

  // Exactly at the thresholds: cv::threshold is strictly greater; the keep test is max >= textThreshold.
  {
    std::vector<float> reg(20 * 20, 0.f), aff(20 * 20, 0.f);
    for (int y = 5; y < 10; y++) {
      for (int x = 4; x < 15; x++) reg[y * 20 + x] = 0.7f;
    }
    std::vector<craft::Word> words = craft::GetDetBoxes(reg.data(), aff.data(), 20, 20, opts);
    CHECK(words.size() == 1 && words[0].score == 0.7f, "max == textThreshold keeps the word");
    opts.lowText = 0.7f;
    words = craft::GetDetBoxes(reg.data(), aff.data(), 20, 20, opts);
    CHECK(words.empty(), "region == lowText is not text");
    opts = {};
    SameAsNaive(reg.data(), aff.data(), 20, 20, opts, "threshold edge");
  }

  // A 1-pixel-high map: collinear points (minAreaRect's 2-point hull case); a 1-pixel-wide one.
  {
    std::vector<float> reg(40, 0.9f), aff(40, 0.f);
    SameAsNaive(reg.data(), aff.data(), 40, 1, opts, "40x1");
    SameAsNaive(reg.data(), aff.data(), 1, 40, opts, "1x40");
    opts.polygons = true;
    CHECK(craft::GetDetBoxes(reg.data(), aff.data(), 40, 1, opts).size() == 1, "40x1 with polygons");
    opts.polygons = false;
  }

  // textThreshold <= lowText: a link-only component passes the score test with an empty segmap; the reference
  // gives it a box at (0, 0).
  {
    std::vector<float> reg(30 * 30, 0.f), aff(30 * 30, 0.f);
    for (int y = 10; y < 14; y++) {
      for (int x = 10; x < 20; x++) {
        reg[y * 30 + x] = 0.5f;
        aff[y * 30 + x] = 0.9f;
      }
    }
    craft::PostprocessOptions o;
    o.textThreshold = 0.3f;
    o.lowText = 0.6f;
    const std::vector<craft::Word> words = craft::GetDetBoxes(reg.data(), aff.data(), 30, 30, o);
    CHECK(words.size() == 1, "link-only component: %zu words", words.size());
    if (words.size() == 1) {
      for (const craft::Point& p : words[0].box) CHECK(p.x == 0 && p.y == 0, "link-only component box at (0, 0)");
    }
    SameAsNaive(reg.data(), aff.data(), 30, 30, o, "link-only component");
    o.polygons = true;
    CHECK(craft::GetDetBoxes(reg.data(), aff.data(), 30, 30, o).at(0).polygon.empty(), "link-only: no polygon");
  }

  // NaN: below every threshold, but np.max over a component that contains one is NaN, which keeps it.
  {
    std::vector<float> reg(20 * 20, 0.f), aff(20 * 20, 0.f);
    for (int x = 2; x < 18; x++) {
      reg[5 * 20 + x] = 0.5f;
      aff[6 * 20 + x] = 0.9f;
    }
    reg[6 * 20 + 9] = std::numeric_limits<float>::quiet_NaN();
    const std::vector<craft::Word> words = craft::GetDetBoxes(reg.data(), aff.data(), 20, 20, opts);
    CHECK(words.size() == 1 && std::isnan(words[0].score), "NaN component kept with a NaN score");
  }

  // Invalid arguments.
  auto throwsInvalid = [&](const float* r, const float* a, int w, int h) {
    try {
      craft::GetDetBoxes(r, a, w, h, opts);
    } catch (const craft::Error& e) {
      return e.code() == craft::ErrorCode::kInvalidInput;
    }
    return false;
  };
  CHECK(throwsInvalid(&one, &zero, 0, 1), "width 0");
  CHECK(throwsInvalid(&one, &zero, 1, -1), "height -1");
  CHECK(throwsInvalid(nullptr, &zero, 1, 1), "null region");
  CHECK(throwsInvalid(&one, nullptr, 1, 1), "null affinity");
  CHECK(throwsInvalid(&one, &zero, 1 << 16, 1 << 16), "too large");

  const bool ok = failures == before;
  std::printf("%-4s corner cases\n", ok ? "ok" : "FAIL");
  return ok;
}

std::vector<std::string> ListCases(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string f = e->d_name;
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0) names.push_back(f.substr(0, f.size() - 5));
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("usage: %s FIXTURES_DIR [RANDOM_CASES]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int randomCases = argc > 2 ? std::atoi(argv[2]) : 300;
  const std::vector<std::string> names = ListCases(dir);
  if (names.empty()) {
    std::printf("no fixtures (*.json) in %s\n", dir.c_str());
    return 2;
  }
  int fixturesOk = 0;
  for (const std::string& name : names) {
    fixturesOk += RunFixture(dir, name);
    // Also bit-identical to the literal full-map port.
    std::ifstream jf(dir + "/" + name + ".json");
    const nlohmann::json ref = nlohmann::json::parse(jf);
    const int w = ref.at("width"), h = ref.at("height");
    const std::vector<float> region = ReadF32(dir + "/" + name + ".region.f32", static_cast<size_t>(w) * h);
    const std::vector<float> affinity = ReadF32(dir + "/" + name + ".affinity.f32", static_cast<size_t>(w) * h);
    craft::PostprocessOptions opts;
    opts.textThreshold = ref.at("textThreshold").get<float>();
    opts.linkThreshold = ref.at("linkThreshold").get<float>();
    opts.lowText = ref.at("lowText").get<float>();
    SameAsNaive(region.data(), affinity.data(), w, h, opts, "fixture " + name + " vs full-map port");
  }
  std::printf("%-4s %d/%zu fixtures match the reference\n", fixturesOk == static_cast<int>(names.size()) ? "ok" : "FAIL",
              fixturesOk, names.size());
  RandomParity(randomCases);
  CornerCases();
  std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
  return failures ? 1 : 0;
}
