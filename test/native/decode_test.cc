// Decode, pre-processing, tiling and post-processing on hostile inputs, meant to run under AddressSanitizer and
// UBSan (tools/asan.sh builds it with -fsanitize=address,undefined).
//
//   decode_test IMAGES_DIR [CORPUS_DIR...]
//
// IMAGES_DIR: the fixture images (test/fixtures/images). CORPUS_DIR: files to decode, e.g. the mutated inputs of
// `node bench/fuzz.js --dump DIR`. For every input: DecodeImage must return an 8-bit RGB image or throw craft::Error
// (nothing else), and a decoded image goes through resize + normalisation, a tile plan with sampled tiles, and
// GetDetBoxes on maps made from its pixels. Plus: crafted headers, raw buffers of every small size, the tiling
// geometry's invariants over thousands of random settings, and GetDetBoxes on every map size up to 9x9.
// Exit status 0 when everything passes.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "check.h"
#include "error.h"
#include "file.h"
#include "postprocess.h"
#include "preprocess.h"
#include "tiling.h"

namespace {

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string p = dir + "/" + e->d_name;
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(p);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// The rest of the pipeline on a decoded image: everything that reads its pixels or derives sizes from it.
void Downstream(const cv::Mat& rgb, const std::string& what) {
  // Untiled pre-processing at a few canvas sizes.
  for (int canvas : {32, 256, 1280}) {
    const craft::ResizeInfo info = craft::ComputeResize(rgb.cols, rgb.rows, canvas, 1.5f);
    CHECK(info.paddedWidth % 32 == 0 && info.paddedHeight % 32 == 0 && info.resizedWidth >= 1, "%s", what.c_str());
    std::vector<float> tensor(static_cast<size_t>(3) * info.paddedWidth * info.paddedHeight);
    craft::PreprocessInto(rgb, info, tensor.data());
  }
  // A tile plan with small tiles; sample every tile, stitch fake outputs, post-process the stitched map.
  craft::TilingOptions tiling;
  tiling.mode = craft::TilingMode::kOn;
  tiling.tileSize = 64;
  tiling.overlap = 16;
  const craft::TilePlan plan = craft::PlanTiles(rgb.cols, rgb.rows, 64, 1.0f, tiling, 4000000);
  std::vector<float> input(static_cast<size_t>(3) * plan.tileWidth * plan.tileHeight);
  const int ow = plan.tileWidth / 2, oh = plan.tileHeight / 2;
  std::vector<float> out(static_cast<size_t>(ow) * oh * 2);
  std::vector<float> stitched(static_cast<size_t>(plan.mapWidth) * plan.mapHeight * 2, -1.f);
  for (const craft::Tile& t : plan.tiles) {
    craft::SampleTile(rgb, plan, t, input.data());
    // Fake network output: the tile's first channel at half resolution, squashed to [0, 1].
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        const float v = input[static_cast<size_t>(2 * y) * plan.tileWidth + 2 * x];
        out[(static_cast<size_t>(y) * ow + x) * 2] = 1.f / (1.f + std::exp(v));
        out[(static_cast<size_t>(y) * ow + x) * 2 + 1] = 0.5f;
      }
    }
    craft::StitchTile(plan, t, out.data(), nullptr, ow, oh, 0, stitched.data(), nullptr);
  }
  bool covered = true;
  for (size_t i = 0; i < stitched.size(); i += 2) covered = covered && stitched[i] >= 0.f;
  CHECK(covered, "%s: the tiles' cores cover the stitched map", what.c_str());
  std::vector<float> region(stitched.size() / 2), affinity(stitched.size() / 2);
  for (size_t i = 0; i < region.size(); i++) {
    region[i] = stitched[2 * i];
    affinity[i] = stitched[2 * i + 1];
  }
  craft::PostprocessOptions post;
  post.polygons = true;
  const std::vector<craft::Word> words = craft::GetDetBoxes(region.data(), affinity.data(), plan.mapWidth,
                                                            plan.mapHeight, post);
  for (const craft::Word& w : words) {
    for (const craft::Point& p : w.box) CHECK(std::isfinite(p.x) && std::isfinite(p.y), "%s: finite box", what.c_str());
  }
}

// Decodes one input; returns 1 if it decoded.
int DecodeOne(const uint8_t* data, size_t size, const std::string& what, uint64_t maxPixels = 4000000) {
  try {
    cv::Mat rgb = craft::DecodeImage(data, size, maxPixels);
    CHECK(rgb.type() == CV_8UC3 && rgb.cols > 0 && rgb.rows > 0, "%s: 8-bit RGB", what.c_str());
    CHECK(static_cast<uint64_t>(rgb.cols) * rgb.rows <= maxPixels, "%s: within maxPixels", what.c_str());
    Downstream(rgb, what);
    return 1;
  } catch (const craft::Error&) {
    return 0;  // refused with a code: fine
  } catch (const std::exception& e) {
    CHECK(false, "%s: threw something other than craft::Error: %s", what.c_str(), e.what());
    return 0;
  }
}

std::vector<uint8_t> Png(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {w, h}) for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  b.insert(b.end(), {8, 2, 0, 0, 0, 0, 0, 0, 0});
  return b;
}

void CraftedHeaders() {
  std::printf("crafted headers\n");
  auto too_large = [](const std::vector<uint8_t>& b, const char* what) {
    try {
      craft::DecodeImage(b.data(), b.size(), 268402689ull);
      CHECK(false, "%s: decoded", what);
    } catch (const craft::Error& e) {
      CHECK(e.code() == craft::ErrorCode::kInputTooLarge, "%s: %s", what, e.what());
    }
  };
  too_large(Png(100000, 100000), "png 100000x100000");
  too_large(Png(0xFFFFFFFFu, 0xFFFFFFFFu), "png 2^32-1 square");
  std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x3B};
  too_large(gif, "gif 65535x65535");
  // GIF: 10x10 screen, a 40000x40000 frame.
  std::vector<uint8_t> frame = {'G', 'I', 'F', '8', '9', 'a', 10, 0, 10, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
                                0x2C, 0, 0, 0, 0, 0x40, 0x9C, 0x40, 0x9C, 0, 2, 2, 0x4C, 0x01, 0, 0x3B};
  too_large(frame, "gif frame 40000x40000");
  // TIFF whose first IFD offset is 0xFFFFFFFF (a 32-bit bounds check once wrapped around here).
  for (uint8_t last : {0xFF, 0xFE, 0xFD}) {
    std::vector<uint8_t> tiff = {'I', 'I', 42, 0, last, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
    DecodeOne(tiff.data(), tiff.size(), "tiff IFD at 0xFFFFFFFx");
  }
  // Empty and 1-byte inputs, every signature alone.
  for (const std::vector<uint8_t>& b : std::vector<std::vector<uint8_t>>{
           {}, {0}, {0xFF, 0xD8, 0xFF}, {'B', 'M'}, {'G', 'I', 'F', '8', '9', 'a'}, {'I', 'I', 42, 0}, {'M', 'M', 0, 42},
           {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'}}) {
    DecodeOne(b.empty() ? nullptr : b.data(), b.size(), "signature only");
  }
}

void RawBuffers() {
  std::printf("raw buffers\n");
  std::mt19937 gen(7);
  for (int c : {1, 3, 4}) {
    for (int w = 1; w <= 40; w += 3) {
      for (int h = 1; h <= 40; h += 7) {
        std::vector<uint8_t> data(static_cast<size_t>(w) * h * c);
        for (auto& v : data) v = static_cast<uint8_t>(gen());
        cv::Mat rgb = craft::RawToRgb(data.data(), w, h, c);
        CHECK(rgb.cols == w && rgb.rows == h && rgb.type() == CV_8UC3, "raw %dx%dx%d", w, h, c);
        Downstream(rgb, "raw " + std::to_string(w) + "x" + std::to_string(h));
      }
    }
  }
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {1, 3000}, {3000, 1}, {2, 2}}) {
    std::vector<uint8_t> data(static_cast<size_t>(w) * h * 3, 200);
    Downstream(craft::RawToRgb(data.data(), w, h, 3), "raw strip");
  }
  try {
    uint8_t px[3] = {0, 0, 0};
    craft::RawToRgb(px, 1, 1, 2);
    CHECK(false, "2 channels accepted");
  } catch (const craft::Error&) {
  }
}

void TilingInvariants() {
  std::printf("tiling invariants\n");
  std::mt19937 gen(11);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  for (int k = 0; k < 5000; k++) {
    const int w = k % 3 == 0 ? uni(1, 40) : uni(1, 6000), h = k % 5 == 0 ? uni(1, 40) : uni(1, 6000);
    const int canvas = uni(32, 2048);
    const float mag = std::uniform_real_distribution<float>(0.1f, 3.f)(gen);
    craft::TilingOptions t;
    t.mode = k % 2 ? craft::TilingMode::kOn : craft::TilingMode::kAuto;
    t.tileSize = k % 4 == 0 ? 0 : 32 * uni(2, 40);
    t.overlap = k % 3 == 0 ? -1 : uni(0, 1000);
    const uint64_t max_pixels = k % 7 == 0 ? 0 : 268402689ull;
    craft::TilePlan p;
    try {
      p = craft::PlanTiles(w, h, canvas, mag, t, max_pixels);
    } catch (const craft::Error& e) {
      CHECK(e.code() == craft::ErrorCode::kInputTooLarge, "%s", e.what());
      continue;
    }
    CHECK(p.tileWidth % 32 == 0 && p.tileHeight % 32 == 0 && p.tileWidth > 0, "tile %dx%d", p.tileWidth, p.tileHeight);
    CHECK(p.mapWidth * 2 >= p.workWidth && p.mapHeight * 2 >= p.workHeight, "map covers the working image");
    CHECK(p.batch >= 1 && !p.tiles.empty(), "batch %d", p.batch);
    // Cores partition the map: count every pixel's owners along each axis (the layout is a grid).
    std::vector<int> ownX(p.mapWidth, 0), ownY(p.mapHeight, 0);
    for (const craft::Tile& tile : p.tiles) {
      CHECK(tile.x % 32 == 0 && tile.y % 32 == 0, "start %d,%d", tile.x, tile.y);
      CHECK(tile.x >= 0 && tile.x / 2 + p.tileWidth / 2 <= p.mapWidth, "tile inside the map (x %d)", tile.x);
      CHECK(tile.y >= 0 && tile.y / 2 + p.tileHeight / 2 <= p.mapHeight, "tile inside the map (y %d)", tile.y);
      CHECK(tile.coreX0 >= tile.x / 2 && tile.coreX1 <= tile.x / 2 + p.tileWidth / 2, "core inside its tile (x)");
      CHECK(tile.coreY0 >= tile.y / 2 && tile.coreY1 <= tile.y / 2 + p.tileHeight / 2, "core inside its tile (y)");
      if (tile.y == p.tiles[0].y) for (int x = tile.coreX0; x < tile.coreX1; x++) ownX[x]++;
      if (tile.x == p.tiles[0].x) for (int y = tile.coreY0; y < tile.coreY1; y++) ownY[y]++;
      // Context: away from the map border, a core pixel is >= overlap/2 - 16 working px from its tile's edge
      // (starts are rounded to the network stride).
      if (tile.coreX0 > 0) CHECK(2 * (tile.coreX0 - tile.x / 2) >= p.overlap / 2 - 16, "margin x");
      if (tile.coreX1 < p.mapWidth) CHECK(2 * (tile.x / 2 + p.tileWidth / 2 - tile.coreX1) >= p.overlap / 2 - 16, "margin x");
    }
    CHECK(std::all_of(ownX.begin(), ownX.end(), [](int n) { return n == 1; }), "x cores partition the map");
    CHECK(std::all_of(ownY.begin(), ownY.end(), [](int n) { return n == 1; }), "y cores partition the map");
  }
}

void TinyMaps() {
  std::printf("post-processing on tiny maps\n");
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int w = 1; w <= 9; w++) {
    for (int h = 1; h <= 9; h++) {
      for (int fill = 0; fill < 4; fill++) {
        std::vector<float> region(static_cast<size_t>(w) * h), affinity(region.size());
        for (size_t i = 0; i < region.size(); i++) {
          region[i] = fill == 0 ? 0.f : fill == 1 ? 1.f : fill == 2 ? u(gen) : (i % 2 ? NAN : 0.9f);
          affinity[i] = fill == 2 ? u(gen) : 0.5f;
        }
        for (bool polygons : {false, true}) {
          craft::PostprocessOptions o;
          o.polygons = polygons;
          o.textThreshold = fill == 2 ? 0.5f : 0.7f;
          try {
            craft::GetDetBoxes(region.data(), affinity.data(), w, h, o);
          } catch (const craft::Error& e) {
            CHECK(false, "%dx%d fill %d: %s", w, h, fill, e.what());
          }
        }
      }
    }
  }
}

}  // namespace

namespace {

// A progressive grey JPEG of w x h with `scans` empty refinement scans after the first (a scan bomb).
std::vector<uint8_t> JpegScanBomb(int w, int h, int scans) {
  std::vector<uint8_t> b = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
  b.insert(b.end(), 64, 1);
  const uint8_t sof[] = {0xFF, 0xC2, 0x00, 0x0B, 8, uint8_t(h >> 8), uint8_t(h), uint8_t(w >> 8), uint8_t(w), 1, 1, 0x11, 0};
  b.insert(b.end(), sof, sof + sizeof sof);
  const uint8_t dht[] = {0xFF, 0xC4, 0x00, 20, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  b.insert(b.end(), dht, dht + sizeof dht);
  for (int k = 0; k <= scans; k++) {
    const int ah = k == 0 ? 0 : 13 - std::min(k - 1, 12), al = k == 0 ? 13 : 12 - std::min(k - 1, 12);
    const uint8_t sos[] = {0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 0, uint8_t((ah << 4) | al), 0x00};
    b.insert(b.end(), sos, sos + sizeof sos);
  }
  b.push_back(0xFF);
  b.push_back(0xD9);
  return b;
}

// Issue 12: decode work limits and the file-opening rules.
void HostileCallers(const std::string& images) {
  std::printf("hostile callers\n");
  for (int scans : {0, 9, 99, 100, 101, 1000}) {
    const std::vector<uint8_t> b = JpegScanBomb(64, 64, scans);
    CHECK(craft::CountJpegScans(b.data(), b.size(), 100000) == size_t(scans + 1), "%d scans counted", scans + 1);
    bool refused = false;
    try {
      craft::DecodeImage(b.data(), b.size(), 0);
    } catch (const craft::Error& e) {
      refused = std::strstr(e.what(), "scans") != nullptr;
    }
    CHECK(refused == (scans + 1 > int(craft::kMaxJpegScans)), "%d scans: refused %d", scans + 1, refused);
  }
  // Counting stops early; fill bytes, stuffed zeros and restart markers in entropy data are not scans.
  std::vector<uint8_t> b = JpegScanBomb(64, 64, 5000);
  CHECK(craft::CountJpegScans(b.data(), b.size(), 10) == 11, "stops after the limit");
  b = JpegScanBomb(8, 8, 0);
  const uint8_t noise[] = {0xFF, 0x00, 0xFF, 0xFF, 0xD3, 0x12, 0xFF, 0x00};
  b.insert(b.end() - 2, noise, noise + sizeof noise);
  CHECK(craft::CountJpegScans(b.data(), b.size(), 100) == 1, "entropy-coded data holds no scans");
  const std::vector<uint8_t> baseline = ReadAll(images + "/hello.jpg");
  CHECK(craft::CountJpegScans(baseline.data(), baseline.size(), 100) == 1, "baseline JPEG: 1 scan");
  const std::vector<uint8_t> progressive = ReadAll(images + "/hello-progressive.jpg");
  if (!progressive.empty()) {
    const size_t n = craft::CountJpegScans(progressive.data(), progressive.size(), 100);
    CHECK(n >= 6 && n <= 12, "progressive JPEG: libjpeg's script (%zu scans)", n);
  }
  // Files: NUL bytes, non-regular files.
  auto refuses = [](const std::string& path, const char* why) {
    try {
      craft::RegularFile f(path, craft::ErrorCode::kIo, "Input file");
    } catch (const craft::Error& e) {
      return std::strstr(e.what(), why) != nullptr;
    }
    return false;
  };
  CHECK(refuses(images + "/hello.png" + std::string(1, '\0') + ".txt", "NUL"), "NUL in a path");
  CHECK(refuses("/dev/zero", "not a regular file"), "a device");
  CHECK(refuses(images, "not a regular file"), "a directory");
  const std::string fifo = "/tmp/craft-decode-test-fifo-" + std::to_string(::getpid());
  if (::mkfifo(fifo.c_str(), 0600) == 0) {
    CHECK(refuses(fifo, "not a regular file"), "a FIFO, without waiting for a writer");
    ::unlink(fifo.c_str());
  }
  craft::RegularFile png(images + "/hello.png", craft::ErrorCode::kIo, "Input file");
  CHECK(png.ReadPrefix(8).size() == 8 && png.ReadAll().size() == png.size(), "prefix, then the whole file");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("usage: decode_test IMAGES_DIR [CORPUS_DIR...]\n");
    return 2;
  }
  std::printf("fixtures (%s)\n", argv[1]);
  int decoded = 0, total = 0;
  for (const std::string& f : ListFiles(argv[1])) {
    const std::vector<uint8_t> b = ReadAll(f);
    const int ok = DecodeOne(b.data(), b.size(), f);
    CHECK(ok == 1, "fixture %s decodes", f.c_str());
    // Every truncation of the fixture (first 512 bytes byte by byte, then in steps).
    for (size_t cut = 0; cut < b.size(); cut += cut < 512 ? 1 : 97) DecodeOne(b.data(), cut, f + " truncated");
  }
  CraftedHeaders();
  RawBuffers();
  TilingInvariants();
  TinyMaps();
  HostileCallers(argv[1]);
  for (int a = 2; a < argc; a++) {
    std::printf("corpus %s\n", argv[a]);
    for (const std::string& f : ListFiles(argv[a])) {
      const std::vector<uint8_t> b = ReadAll(f);
      decoded += DecodeOne(b.data(), b.size(), f);
      total++;
    }
  }
  std::printf("%d corpus inputs (%d decoded, %d refused), %d checks, %d failures\n", total, decoded, total - decoded,
              checks, failures);
  return failures == 0 ? 0 : 1;
}
