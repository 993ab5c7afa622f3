#!/usr/bin/env node
// Scale robustness (issue 17): FUNSD forms and ICDAR 2013 born-digital pages at 0.5x, 1x, 2x and 4x their size,
// detected with scale 'auto' and with the fixed defaults (scale 'fixed': canvasSize 1280, magRatio 1.5, tiling
// 'auto'); H-mean of each against the ground truth scaled back (ICDAR 2015 IoU protocol, lib/eval) and the mean time
// per image, auto / fixed side by side in one run (the machine is shared: ratios, not absolute times).
// Images: the first --limit PNGs of each set (bench/images.js decodes PNG only; ICDAR 2013 has 307 PNGs of 410
// images), or with --dev the first --limit dev pages of each set in any format (bench/devset.js: the training tools'
// sha1 split, pages no training run has seen).
//
//   nice -n 10 node bench/scale.js [--dev] [--limit 5] [--factors 0.5,1,2,4] [--model m.onnx] [--threads 2] [--json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Detector } = require('../dist');
const { evaluate, loadDataset } = require('../dist/eval');
const { decodePng, rescale } = require('./images');
const { loadDevPages, loadPixels } = require('./devset');

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({ options: {
  model: { type: 'string' }, limit: { type: 'string', default: '5' }, factors: { type: 'string', default: '0.5,1,2,4' },
  threads: { type: 'string', default: '2' }, json: { type: 'boolean' }, dev: { type: 'boolean' }, sets: { type: 'string', default: 'funsd_train,icdar2013_born_digital' },
} });
const model = values.model ?? path.join(ROOT, 'models', 'craft-text-default.onnx');
const factors = values.factors.split(',').map(Number);
const log = (s) => { if (!values.json) process.stderr.write(`${s}\n`); };

async function main() {
  const detector = await Detector.create({ model, threads: Number(values.threads) });
  const out = [];
  for (const name of values.sets.split(',')) {
    const dir = path.join(ROOT, '..', 'shared', 'data', name);
    if (!fs.existsSync(dir)) { log(`skipped (not found): ${dir}`); continue; }
    const samples = [];
    if (values.dev) {
      for (const s of await loadDevPages(dir, Number(values.limit))) samples.push({ ...s, img: await loadPixels(s.imagePath) });
    }
    for (const s of values.dev ? [] : await loadDataset(dir)) {
      if (samples.length >= Number(values.limit)) break;
      if (!s.imagePath.endsWith('.png')) continue;
      try { samples.push({ ...s, img: decodePng(fs.readFileSync(s.imagePath)) }); } catch { /* unsupported PNG */ }
    }
    for (const f of factors) {
      const runs = { auto: [], fixed: [] }, ms = { auto: 0, fixed: 0 }, passes = [];
      for (const s of samples) {
        const img = rescale(s.img, f);
        const k = img.width / s.img.width;  // the exact factor after integer rounding
        for (const mode of ['fixed', 'auto']) {
          const t0 = process.hrtime.bigint();
          const r = await detector.detect(img, { scale: mode });
          ms[mode] += Number(process.hrtime.bigint() - t0) / 1e6;
          runs[mode].push({ id: s.imagePath, gt: s.words, det: r.words.map((w) => ({ points: w.box.map(([x, y]) => [x / k, y / k]) })) });
          if (mode === 'auto') passes.push(r.passes.map((p) => `${p.role[0]}${p.scale.toFixed(2)}${p.tiles > 1 ? `x${p.tiles}` : ''}`).join('+'));
        }
      }
      const h = (r) => +evaluate(r).hmean.toFixed(4);
      const row = { set: name, factor: f, images: samples.length, hmeanFixed: h(runs.fixed), hmeanAuto: h(runs.auto),
        msFixed: Math.round(ms.fixed / samples.length), msAuto: Math.round(ms.auto / samples.length),
        timeRatio: +(ms.auto / ms.fixed).toFixed(2), autoPasses: passes };
      out.push(row);
      log(`  ${name} x${f}: H fixed ${row.hmeanFixed.toFixed(3)} auto ${row.hmeanAuto.toFixed(3)}  ms/image fixed ${row.msFixed} auto ${row.msAuto} (x${row.timeRatio})  ${passes.join(' ')}`);
    }
  }
  await detector.dispose();
  const pages = values.dev ? `the first ${values.limit} dev pages (bench/devset.js)` : `the first ${values.limit} PNG images`;
  if (values.json) console.log(JSON.stringify({ model: path.relative(ROOT, model), pages, rows: out }));
  else {
    console.log(`scale: model ${path.relative(ROOT, model)}, ${pages} of each set`);
    console.log('  set                     factor  H fixed  H auto  ms fixed  ms auto  auto/fixed');
    for (const r of out) {
      console.log(`  ${r.set.padEnd(24)} ${String(r.factor).padStart(5)}  ${r.hmeanFixed.toFixed(3).padStart(7)}  ${r.hmeanAuto.toFixed(3).padStart(6)}  ${String(r.msFixed).padStart(8)}  ${String(r.msAuto).padStart(7)}  ${r.timeRatio.toFixed(2).padStart(10)}`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
