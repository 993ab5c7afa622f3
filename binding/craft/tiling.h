// Tiled detection for images larger than the canvas: instead of shrinking the page until small text disappears (what
// resize_aspect_ratio does above canvasSize), run the network on overlapping tiles of the image at the working scale,
// stitch the tiles' heatmaps into one map, and post-process that map once.
//
// Merge rule (heatmap level). Adjacent tiles overlap by `overlap` working pixels; the seam between them is the middle
// of the overlap, and each tile contributes only the part of its heatmap between its seams (its "core"). Every
// heatmap pixel therefore comes from the tile that sees it with at least overlap/2 pixels of context on every side
// (or the image border, exactly as an untiled run sees it). GetDetBoxes then runs once on the stitched map, so a word
// that crosses a seam is one connected component: it comes out once and whole, never twice, never halved.
//
// Memory. Only one batch of tiles is ever a network input (tile batches never exceed one canvas-sized input, so the
// network's activations are bounded by the tile size, not the image size). What grows with the image: the resized
// 8-bit working image (3 B per working pixel, exactly the reference's resize, so tiles hold the same pixels as an
// untiled run; the decoded image is freed once it is resized) and the stitched half-resolution maps (8 B per map
// pixel = 2 B per working pixel, twice while post-processing copies them into planes).
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace craft {

enum class TilingMode {
  kOff,   // CRAFT's behaviour: cap the magnified long side at canvasSize (downscale)
  kAuto,  // CRAFT's behaviour while the image's long side fits canvasSize; tile instead of shrinking it below 1x
  kOn,    // tile whenever the magnified image exceeds canvasSize (never cap the magnification)
};

struct TilingOptions {
  TilingMode mode = TilingMode::kAuto;
  int tileSize = 0;  // network input side of a tile, multiple of 32; 0 = canvasSize rounded down to a multiple of 32
  int overlap = -1;  // working pixels shared by adjacent tiles; -1 = min(256, tileSize / 4)
};

// One tile: where its network input starts in the working image, and the part of its heatmap it contributes.
struct Tile {
  int x = 0, y = 0;                          // top-left in working pixels (multiples of 32: the network stride)
  int coreX0 = 0, coreY0 = 0, coreX1 = 0, coreY1 = 0;  // contributed region in stitched-heatmap pixels, [x0, x1)
};

struct TilePlan {
  double ratio = 1.0;                // working scale: working size / original size
  int workWidth = 0, workHeight = 0;  // the resized image (int(w * ratio), as resize_aspect_ratio computes it)
  int tileWidth = 0, tileHeight = 0;  // network input of every tile (multiples of 32; all tiles share it)
  int mapWidth = 0, mapHeight = 0;    // stitched heatmap size (half the covered working area)
  int overlap = 0;
  int batch = 1;                      // tiles per inference (TileBatchSize), unless the model fixes its batch size
  std::vector<Tile> tiles;
};

// Whether detection of a width x height image tiles under these settings (see TilingMode).
bool ShouldTile(int width, int height, int canvasSize, float magRatio, const TilingOptions& tiling);

// Lays out the tiles. The working scale is magRatio, reduced (never below 1x, never below magRatio if that is
// smaller) so the working image stays within maxPixels (0 = no limit). Throws kInputTooLarge if it cannot.
TilePlan PlanTiles(int width, int height, int canvasSize, float magRatio, const TilingOptions& tiling,
                   uint64_t maxPixels);

// Writes one tile's network input: planar CHW floats [3, tileHeight, tileWidth], normalised like PreprocessInto, cut
// from `resized`, the image already resized to the working size (workWidth x workHeight, 8-bit RGB); pixels beyond it
// are padding.
void SampleTile(const cv::Mat& resized, const TilePlan& plan, const Tile& tile, float* out);

// Copies a tile's core from its network output (batch item `index` of scores [n, h, w, 2] in CRAFT layout, and of the
// refined link map [n, h, w] when both `refined` and `dstRefined` are given) into the stitched maps: `dstScores`
// [mapHeight, mapWidth, 2] and `dstRefined` [mapHeight, mapWidth].
void StitchTile(const TilePlan& plan, const Tile& tile, const float* scores, const float* refined, int outWidth,
                int outHeight, int index, float* dstScores, float* dstRefined);

// How many tiles run in one inference: as many as fit in one canvasSize x canvasSize input (at least 1, at most 64).
int TileBatchSize(const TilePlan& plan, int canvasSize);

}  // namespace craft
