// N-API functions for pictures: detections drawn on an image, colour-mapped heatmaps (craft/draw.h does the work).
#pragma once

#include <napi.h>

namespace craft_napi {

// [async] renderOverlay(image: Uint8Array (encoded), strokes: [{ points: [[x, y], ...], color: [r, g, b],
//   thickness?: number, closed?: boolean }], labels: [{ text, x, y, color?, background?, height? }],
//   options: { format: 'png' | 'jpg' | 'webp' | 'bmp' | 'tiff', maxPixels?: number,
//   caption?: [[{ text, color? }, ...], ...] (rows of coloured pieces, drawn in a band above the image) })
//   -> Promise<{ data: Buffer, width, height }>: decode, draw and encode off the JS thread.
Napi::Value RenderOverlay(const Napi::CallbackInfo& info);

// [async] renderHeatmaps(region: Float32Array, affinity: Float32Array, width, height, options: { format })
//   -> Promise<{ data: Buffer, width: 2 * width, height }>: CRAFT's side-by-side JET picture of the two maps.
Napi::Value RenderHeatmaps(const Napi::CallbackInfo& info);

}  // namespace craft_napi
