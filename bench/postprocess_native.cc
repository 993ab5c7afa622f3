// Native post-processing bench: median time of craft::GetDetBoxes on one fixture case, polygons off and on.
//
//   postprocess_bench FIXTURES_DIR [CASE=doc_dense] [RUNS=300]
//
// Prints `native <case> poly=<0|1> median_ms=<ms> ...` lines (bench/postprocess.sh puts them next to the Python
// reference's), plus, for context, the time of the reference's labeling step alone (threshold both maps +
// cv::connectedComponentsWithStats), which GetDetBoxes replaces with its own run-based labeling.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "postprocess.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> ReadF32(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<float> v(static_cast<size_t>(f.tellg()) / sizeof(float));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

// Tiny extraction of a numeric field from the fixture JSON (the bench avoids a JSON dependency).
double JsonNumber(const std::string& json, const std::string& key) {
  const size_t k = json.find("\"" + key + "\"");
  if (k == std::string::npos) {
    std::fprintf(stderr, "no %s in fixture json\n", key.c_str());
    std::exit(2);
  }
  return std::strtod(json.c_str() + json.find(':', k) + 1, nullptr);
}

template <typename F>
std::vector<double> TimeRuns(int runs, F&& fn) {
  std::vector<double> ms;
  ms.reserve(runs);
  for (int i = 0; i < runs; i++) {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

double Pct(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * (sorted.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FIXTURES_DIR [CASE] [RUNS]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::string name = argc > 2 ? argv[2] : "doc_dense";
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 300;

  std::ifstream jf(dir + "/" + name + ".json");
  std::stringstream ss;
  ss << jf.rdbuf();
  const std::string json = ss.str();
  const int w = static_cast<int>(JsonNumber(json, "width")), h = static_cast<int>(JsonNumber(json, "height"));
  craft::PostprocessOptions opts;
  opts.textThreshold = static_cast<float>(JsonNumber(json, "textThreshold"));
  opts.linkThreshold = static_cast<float>(JsonNumber(json, "linkThreshold"));
  opts.lowText = static_cast<float>(JsonNumber(json, "lowText"));
  const std::vector<float> region = ReadF32(dir + "/" + name + ".region.f32");
  const std::vector<float> affinity = ReadF32(dir + "/" + name + ".affinity.f32");
  if (region.size() != static_cast<size_t>(w) * h || affinity.size() != region.size()) {
    std::fprintf(stderr, "map size mismatch for %s\n", name.c_str());
    return 2;
  }

  std::printf("native opencv %s, cv::getNumThreads() = %d, %s %dx%d\n", cv::getVersionString().c_str(),
              cv::getNumThreads(), name.c_str(), h, w);
  for (int poly = 0; poly <= 1; poly++) {
    opts.polygons = poly != 0;
    size_t words = 0, polys = 0;
    for (int i = 0; i < 10; i++) {  // warm-up
      const std::vector<craft::Word> out = craft::GetDetBoxes(region.data(), affinity.data(), w, h, opts);
      words = out.size();
      polys = std::count_if(out.begin(), out.end(), [](const craft::Word& x) { return !x.polygon.empty(); });
    }
    const std::vector<double> ms =
        TimeRuns(runs, [&] { craft::GetDetBoxes(region.data(), affinity.data(), w, h, opts); });
    std::printf("native %s poly=%d median_ms=%.3f min_ms=%.3f p90_ms=%.3f runs=%d words=%zu polygons=%zu\n",
                name.c_str(), poly, Pct(ms, 0.5), ms.front(), Pct(ms, 0.9), runs, words, polys);
  }

  // Context: the reference's labeling step alone (threshold both maps + connectedComponentsWithStats).
  cv::Mat comb(h, w, CV_8U), labels, stats, centroids;
  const std::vector<double> ms = TimeRuns(runs, [&] {
    uint8_t* c = comb.ptr<uint8_t>();
    for (size_t i = 0; i < region.size(); i++) {
      c[i] = static_cast<uint8_t>((region[i] > opts.lowText) | (affinity[i] > opts.linkThreshold));
    }
    cv::connectedComponentsWithStats(comb, labels, stats, centroids, 4, CV_32S);
  });
  std::printf("native %s reference-labeling-only median_ms=%.3f runs=%d\n", name.c_str(), Pct(ms, 0.5), runs);
  return 0;
}
