#include "tiling.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>

#include "error.h"
#include "preprocess.h"

namespace craft {

namespace {

int RoundUp32(int v) { return (v + 31) / 32 * 32; }

// Tiles along one axis of `size` working pixels. Returns the tile starts, sets the tile extent and the covered extent
// (what the stitched map spans, in working pixels). Starts are multiples of 32, the network's total stride: every
// tile then sees the image on the same pooling grid as an untiled run, so away from its borders a tile's heatmap is
// the untiled heatmap (CNNs are not invariant to shifts that are not multiples of their stride).
std::vector<int> AxisStarts(int size, int tile, int overlap, int* extent, int* covered) {
  const int cov = RoundUp32(size);  // the untiled padded size
  *covered = cov;
  if (cov <= tile) {
    *extent = cov;  // one tile across: exactly the untiled geometry
    return {0};
  }
  *extent = tile;
  const int stride = std::max(32, (tile - overlap) / 32 * 32);  // largest multiple of 32 keeping the overlap
  const int n = (cov - tile + stride - 1) / stride + 1;
  std::vector<int> starts(n);
  const double step = static_cast<double>(cov - tile) / (n - 1);  // <= stride: spreading keeps the overlap
  for (int i = 0; i < n; i++) starts[i] = static_cast<int>(std::lround(step * i / 32.0)) * 32;
  starts[n - 1] = cov - tile;
  return starts;
}

// Seams between consecutive tiles, in heatmap pixels: the middle of each overlap; cuts[0] = 0, cuts[n] = covered / 2.
std::vector<int> AxisCuts(const std::vector<int>& starts, int tile, int covered) {
  std::vector<int> cuts(starts.size() + 1);
  cuts[0] = 0;
  for (size_t i = 0; i + 1 < starts.size(); i++) cuts[i + 1] = (starts[i + 1] + starts[i] + tile) / 4;
  cuts[starts.size()] = covered / 2;
  return cuts;
}

}  // namespace

bool ShouldTile(int width, int height, int canvasSize, float magRatio, const TilingOptions& tiling) {
  const double long_side = std::max(width, height);
  switch (tiling.mode) {
    case TilingMode::kOff: return false;
    // The reference would shrink the image below its original resolution exactly when its long side exceeds the
    // canvas; below that, 'auto' is the reference (including the cap of the magnification at the canvas).
    case TilingMode::kAuto: return long_side > canvasSize;
    case TilingMode::kOn: return static_cast<double>(magRatio) * long_side > canvasSize;
  }
  return false;
}

TilePlan PlanTiles(int width, int height, int canvasSize, float magRatio, const TilingOptions& tiling,
                   uint64_t maxPixels) {
  if (width <= 0 || height <= 0) throw Error(ErrorCode::kInvalidInput, "Image has zero width or height");
  TilePlan plan;
  int tile = tiling.tileSize > 0 ? tiling.tileSize : canvasSize / 32 * 32;
  tile = std::max(32, tile / 32 * 32);
  int overlap = tiling.overlap >= 0 ? tiling.overlap : std::min(256, tile / 4);
  overlap = std::min(overlap, tile / 2);
  overlap += overlap & 1;  // even, and at most half a tile (tile is a multiple of 32)
  plan.overlap = overlap;

  // Working scale: the requested magnification, limited so the working image stays within maxPixels (it holds the
  // stitched maps) but never reduced below the original resolution by that limit.
  const double long_side = std::max(width, height);
  double ratio = static_cast<double>(magRatio) * long_side / long_side;  // resize_aspect_ratio's target / long side
  const double pixels = static_cast<double>(width) * height;
  const double limit = maxPixels > 0 ? static_cast<double>(maxPixels) : static_cast<double>(1ull << 31);
  if (ratio * ratio * pixels > limit) ratio = std::max(std::min(ratio, 1.0), std::sqrt(limit / pixels));
  const double ww = std::floor(width * ratio), wh = std::floor(height * ratio);
  if (ww * wh > limit * 1.0001 + 1 || ww > INT_MAX / 4 || wh > INT_MAX / 4) {
    throw Error(ErrorCode::kInputTooLarge, "Tiled working image " + std::to_string(static_cast<int64_t>(ww)) + "x" +
                                               std::to_string(static_cast<int64_t>(wh)) +
                                               " exceeds the pixel limit; lower magRatio or raise maxPixels");
  }
  plan.ratio = ratio;
  plan.workWidth = std::max(1, static_cast<int>(ww));
  plan.workHeight = std::max(1, static_cast<int>(wh));

  int coveredW = 0, coveredH = 0;
  const std::vector<int> xs = AxisStarts(plan.workWidth, tile, overlap, &plan.tileWidth, &coveredW);
  const std::vector<int> ys = AxisStarts(plan.workHeight, tile, overlap, &plan.tileHeight, &coveredH);
  plan.mapWidth = coveredW / 2;
  plan.mapHeight = coveredH / 2;
  const std::vector<int> cx = AxisCuts(xs, plan.tileWidth, coveredW);
  const std::vector<int> cy = AxisCuts(ys, plan.tileHeight, coveredH);
  plan.tiles.reserve(xs.size() * ys.size());
  for (size_t j = 0; j < ys.size(); j++) {
    for (size_t i = 0; i < xs.size(); i++) {
      Tile t;
      t.x = xs[i];
      t.y = ys[j];
      t.coreX0 = cx[i];
      t.coreX1 = cx[i + 1];
      t.coreY0 = cy[j];
      t.coreY1 = cy[j + 1];
      plan.tiles.push_back(t);
    }
  }
  plan.batch = TileBatchSize(plan, canvasSize);
  return plan;
}

void SampleTile(const cv::Mat& resized, const TilePlan& plan, const Tile& tile, float* out) {
  if (resized.cols != plan.workWidth || resized.rows != plan.workHeight || resized.type() != CV_8UC3) {
    throw Error(ErrorCode::kInternal, "Tiles are cut from the resized working image");
  }
  NormalizeInto(resized, tile.x, tile.y, plan.tileWidth, plan.tileHeight, out);
}

void StitchTile(const TilePlan& plan, const Tile& tile, const float* scores, const float* refined, int outWidth,
                int outHeight, int index, float* dstScores, float* dstRefined) {
  const size_t plane = static_cast<size_t>(outWidth) * outHeight;
  const float* src = scores + plane * 2 * static_cast<size_t>(index);
  const float* ref = refined != nullptr && dstRefined != nullptr ? refined + plane * static_cast<size_t>(index)
                                                                 : nullptr;
  const int ox = tile.x / 2, oy = tile.y / 2;  // tile origin in stitched-heatmap pixels
  // The core lies inside the tile for every plan PlanTiles makes; clamp anyway so a bad plan can never write or read
  // out of bounds.
  const int x0 = std::max({tile.coreX0, ox, 0}), x1 = std::min({tile.coreX1, ox + outWidth, plan.mapWidth});
  const int y0 = std::max({tile.coreY0, oy, 0}), y1 = std::min({tile.coreY1, oy + outHeight, plan.mapHeight});
  if (x1 <= x0) return;
  for (int Y = y0; Y < y1; Y++) {
    const size_t s = static_cast<size_t>(Y - oy) * outWidth + (x0 - ox);
    const size_t d = static_cast<size_t>(Y) * plan.mapWidth + x0;
    std::memcpy(dstScores + 2 * d, src + 2 * s, sizeof(float) * 2 * (x1 - x0));
    if (ref != nullptr) std::memcpy(dstRefined + d, ref + s, sizeof(float) * (x1 - x0));
  }
}

int TileBatchSize(const TilePlan& plan, int canvasSize) {
  const double canvas = static_cast<double>(canvasSize) * canvasSize;
  const double tile = static_cast<double>(plan.tileWidth) * plan.tileHeight;
  const int n = static_cast<int>(std::min(64.0, std::max(1.0, std::floor(canvas / tile))));
  return std::max(1, std::min<int>(n, static_cast<int>(plan.tiles.size())));
}

}  // namespace craft
