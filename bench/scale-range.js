#!/usr/bin/env node
// The detector's best text-height range (issue 17): pages of the dev sets detected at several working scales
// (scale: 'fixed', tiling on, so the scale is exactly magRatio), and for every ground-truth word its height in
// working pixels (the shorter side of its box) and whether a detection matches it (IoU > 0.5). Recall per height
// bin says which heights the model finds; `scale: 'auto'` aims the main pass at the middle of that range
// (binding/craft/autoscale.h, kTargetHeight). Precision is not binned: a false detection has no ground-truth height.
// `craft-text tune --scale` (lib/cli/tune-scale.ts) measures the same on any pages and turns it into a model's
// constants (metadata).
//
//   nice -n 10 node bench/scale-range.js [--model m.onnx] [--limit 4] [--mags 0.35,0.6,1,1.6,2.6] [--json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Detector } = require('../dist');
const { loadDataset, iou } = require('../dist/eval');
const { decodePng } = require('./images');
const { SCALE_BINS: BINS, boxHeight: wordHeight, binOf } = require('../dist/cli/tune-scale');  // tune --scale's bins

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({ options: {
  model: { type: 'string' }, limit: { type: 'string', default: '4' }, mags: { type: 'string', default: '0.35,0.6,1,1.6,2.6' },
  threads: { type: 'string', default: '2' }, json: { type: 'boolean' },
} });
const model = values.model ?? path.join(ROOT, 'models', 'craft-text-default.onnx');
const sets = ['funsd_train', 'icdar2013_born_digital'].map((d) => path.join(ROOT, '..', 'shared', 'data', d));
const mags = values.mags.split(',').map(Number);

async function main() {
  const detector = await Detector.create({ model, threads: Number(values.threads) });
  const found = new Array(BINS.length).fill(0), total = new Array(BINS.length).fill(0);
  const ratios = [];  // detected box height / ground-truth box height, over matches
  let pages = 0;
  for (const dir of sets) {
    if (!fs.existsSync(dir)) { process.stderr.write(`skipped (not found): ${dir}\n`); continue; }
    const samples = (await loadDataset(dir)).filter((s) => s.imagePath.endsWith('.png')).slice(0, Number(values.limit));
    for (const s of samples) {
      let img;
      try { img = decodePng(fs.readFileSync(s.imagePath)); } catch { continue; }
      pages++;
      for (const m of mags) {
        const r = await detector.detect(img, { scale: 'fixed', magRatio: m, tiling: {} });
        const det = r.words.map((w) => w.box);
        for (const g of s.words) {
          if (g.ignore) continue;
          const h = wordHeight(g.points) * r.scale;
          const bin = binOf(h);
          if (bin < 0) continue;
          total[bin]++;
          const match = det.find((d) => iou(d, g.points) > 0.5);
          if (match) { found[bin]++; ratios.push(wordHeight(match) / (h / r.scale)); }
        }
      }
      process.stderr.write(`  ${pages} ${path.basename(s.imagePath)}\n`);
    }
  }
  await detector.dispose();
  ratios.sort((a, b) => a - b);
  const boxRatio = ratios.length ? +ratios[ratios.length >> 1].toFixed(3) : null;
  const rows = BINS.map((b, i) => ({ from: b, to: BINS[i + 1] ?? Infinity, words: total[i], recall: total[i] ? +(found[i] / total[i]).toFixed(3) : null }));
  if (values.json) console.log(JSON.stringify({ model: path.relative(ROOT, model), pages, mags, boxRatio, rows }));
  else {
    console.log(`recall by word height at the working scale: ${pages} pages x scales ${mags.join(', ')}, model ${path.relative(ROOT, model)}`);
    console.log(`  median detected / ground-truth box height over matches: ${boxRatio}`);
    for (const r of rows) if (r.words) console.log(`  ${String(r.from).padStart(4)}-${String(r.to).padEnd(4)} px  ${String(r.words).padStart(5)} words  recall ${r.recall.toFixed(3)}`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
