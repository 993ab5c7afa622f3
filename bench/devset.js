// The dev pages of the real sets, shared by the benches that judge training (bench/finetune.js, bench/scale.js --dev).
//
// The split is the training tools' own (tools/train/recdata.py is_dev, used by weak.py and the recogniser's data):
// a page is a dev page when int(sha1(basename of its image file, UTF-8).hexdigest()[:8], 16) % 5 == 0, i.e. about
// one page in five, fixed by the file name alone (no seed, no listing order). Training never sees these pages, so
// numbers on them are held-out numbers.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { loadDataset } = require('../dist/eval');
const { decodePng } = require('./images');

/** Whether the page whose image is at `imagePath` is a dev page (recdata.py is_dev on its basename). */
function isDev(imagePath) {
  const hex = crypto.createHash('sha1').update(path.basename(imagePath), 'utf8').digest('hex');
  return parseInt(hex.slice(0, 8), 16) % 5 === 0;
}

/** The dev pages of the dataset folder `dir` (lib/eval loadDataset, its order), at most `limit` of them. */
async function loadDevPages(dir, limit = Infinity) {
  return (await loadDataset(dir)).filter((s) => isDev(s.imagePath)).slice(0, limit);
}

/**
 * Raw pixels ({ data, width, height, channels }) of any image the addon decodes: PNGs in JS (bench/images.js), other
 * formats (JPEG, GIF) decoded natively and handed over as a PNG (renderOverlay with nothing to draw).
 */
async function loadPixels(imagePath) {
  const bytes = fs.readFileSync(imagePath);
  try {
    return decodePng(bytes);
  } catch {
    const { binding } = require('../dist/binding');
    const png = await binding().renderOverlay(bytes, [], [], { format: 'png' });
    return decodePng(png.data);
  }
}

/** The photometric inverse (255 - v per channel), as tools/invert-dataset.py writes it, in memory. */
function invert(img) {
  const data = Buffer.alloc(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 255 - img.data[i];
  return { ...img, data };
}

module.exports = { isDev, loadDevPages, loadPixels, invert };
