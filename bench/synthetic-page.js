// Synthetic text pages for benchmarks: rows of dark words on white, as raw RGB. Realistic decode, detection and
// post-processing load without external data; deterministic for a given seed and layout.
// The words are capitals and digits drawn from a 5 x 7 pixel font stretched to the character cell, so the detectors
// find them (205 words on a 768 x 768 page with the bundled detector). `bars: true` draws each character as a solid
// bar instead, the same page as before 2026-11-30 (docs/distributed.md's numbers): there no trained detector finds a
// word (a row of equal bars has no character shapes for the region score to peak on), so post-processing was light.
'use strict';

/** Layout of the overhead/throughput pages. */
const DENSE = { margin: 12, rightMargin: 40, lineStep: 28, charStep: 12, charWidth: 9, noise: false, bars: false };

// A-Z, 0-9: 7 rows of 5 pixels each, top row first ('1' = ink).
const FONT = [
  '01110100011000111111100011000110001', '11110100011000111110100011000111110', '01110100011000010000100001000101110',
  '11100100101000110001100011001011100', '11111100001000011110100001000011111', '11111100001000011110100001000010000',
  '01110100011000010111100011000101111', '10001100011000111111100011000110001', '01110001000010000100001000010001110',
  '00111000100001000010000101001001100', '10001100101010011000101001001010001', '10000100001000010000100001000011111',
  '10001110111010110101100011000110001', '10001100011100110101100111000110001', '01110100011000110001100011000101110',
  '11110100011000111110100001000010000', '01110100011000110001101011001001101', '11110100011000111110101001001010001',
  '01111100001000001110000010000111110', '11111001000010000100001000010000100', '10001100011000110001100011000101110',
  '10001100011000110001100010101000100', '10001100011000110101101011010101010', '10001100010101000100010101000110001',
  '10001100011000101010001000010000100', '11111000010001000100010001000011111', '01110100011001110101110011000101110',
  '00100011000010000100001000010001110', '01110100010000100010001000100011111', '11111000100010000010000011000101110',
  '00010001100101010010111110001000010', '11111100001111000001000011000101110', '00110010001000011110100011000101110',
  '11111000010001000100010000100001000', '01110100011000101110100011000101110', '01110100011000101111000010001001100',
];

/**
 * @param {number} w
 * @param {number} h
 * @param {number} seed - LCG seed of the word lengths and characters (and of the noise)
 * @param {Partial<typeof DENSE>} [layout] - margins, line and character pitch, character width; `noise` adds ±6 grey
 *   levels; `bars` draws bars instead of characters
 * @returns {Uint8Array} w * h * 3 bytes
 */
function syntheticPage(w, h, seed, layout = {}) {
  const { margin, rightMargin, lineStep, charStep, charWidth, noise, bars } = { ...DENSE, ...layout };
  const rgb = new Uint8Array(w * h * 3).fill(255);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let y = margin; y + 16 < h; y += lineStep) {
    for (let x = margin; x < w - rightMargin;) {
      const len = 3 + Math.floor(rand() * 8);
      for (let c = 0; c < len && x + 12 < w; c++, x += charStep) {
        const glyph = bars ? '' : FONT[Math.floor(rand() * FONT.length)];  // bars: the former pages' random stream
        for (let yy = 0; yy < 16; yy++) {
          const row = (y + yy) * w;
          for (let xx = 0; xx < charWidth; xx++) {
            if (bars || glyph[Math.floor(yy * 7 / 16) * 5 + Math.floor(xx * 5 / charWidth)] === '1') {
              rgb.fill(30, (row + x + xx) * 3, (row + x + xx + 1) * 3);
            }
          }
        }
      }
      x += 24;
    }
  }
  if (noise) for (let i = 0; i < rgb.length; i++) rgb[i] = Math.max(0, Math.min(255, rgb[i] + Math.floor(rand() * 12) - 6));
  return rgb;
}

module.exports = { syntheticPage };
