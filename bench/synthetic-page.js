// Synthetic text pages for benchmarks: rows of dark "words" (bars with gaps) on white, as raw RGB. Realistic decode
// and post-processing load without external data; deterministic for a given seed and layout.
'use strict';

/** Layout of the overhead/throughput pages. */
const DENSE = { margin: 12, rightMargin: 40, lineStep: 28, charStep: 12, charWidth: 9, noise: false };

/**
 * @param {number} w
 * @param {number} h
 * @param {number} seed - LCG seed of the word lengths (and of the noise)
 * @param {Partial<typeof DENSE>} [layout] - margins, line and character pitch, bar width; `noise` adds ±6 grey levels
 * @returns {Uint8Array} w * h * 3 bytes
 */
function syntheticPage(w, h, seed, layout = {}) {
  const { margin, rightMargin, lineStep, charStep, charWidth, noise } = { ...DENSE, ...layout };
  const rgb = new Uint8Array(w * h * 3).fill(255);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let y = margin; y + 16 < h; y += lineStep) {
    for (let x = margin; x < w - rightMargin;) {
      const len = 3 + Math.floor(rand() * 8);
      for (let c = 0; c < len && x + 12 < w; c++, x += charStep) {
        for (let yy = y; yy < y + 16; yy++) rgb.fill(30, (yy * w + x) * 3, (yy * w + x + charWidth) * 3);
      }
      x += 24;
    }
  }
  if (noise) for (let i = 0; i < rgb.length; i++) rgb[i] = Math.max(0, Math.min(255, rgb[i] + Math.floor(rand() * 12) - 6));
  return rgb;
}

module.exports = { syntheticPage };
