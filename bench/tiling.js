#!/usr/bin/env node
// Tiling check (issue 6): FUNSD forms at their original size, and upscaled 4x (about 3000x4000) detected with
// tiling (the default 'auto') and without (tiling: 'off', CRAFT's behaviour: shrunk to the 1280 canvas, flagged
// `downscaled`). Scores all three against the ground truth (ICDAR 2015 IoU protocol, lib/eval) and samples RSS
// every 20 ms during each phase, so the peak RSS of tiled detection can be compared with the bound in
// docs/robustness.md. Optionally (--full) one image is also run untiled at the full working resolution, the memory
// tiling avoids.
//
// --consistency: a check that needs no trained model: the original forms detected untiled at scale magRatio (canvas
// large enough) and tiled at the same scale with small tiles (512, 768); the untiled words serve as ground truth, so
// the H-mean measures only what the seams change.
//
// --memory: the first form upscaled 4x, detected once per child process (so peaks don't mix) untiled at canvas
// 1280 / 2560 / 3840 / the full working size, and tiled: peak RSS of each.
//
//   node bench/tiling.js [--model m.onnx] [--dataset ../shared/data/funsd_train] [--limit 20] [--factor 4]
//                        [--threads 2] [--magRatio 1.5] [--full] [--consistency] [--memory] [--json]
// (run `npm run build` first; the model defaults to models/craft-text-default.onnx, else the tiny test model, whose
// random weights make the H-mean numbers meaningless: only the tiling mechanics and memory are then measured)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Detector } = require('../dist');
const { evaluate, loadDataset } = require('../dist/eval');

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' }, dataset: { type: 'string' }, limit: { type: 'string', default: '20' },
    factor: { type: 'string', default: '4' }, threads: { type: 'string', default: '2' },
    magRatio: { type: 'string' }, full: { type: 'boolean' }, consistency: { type: 'boolean' }, json: { type: 'boolean' },
    memory: { type: 'boolean' }, 'memory-child': { type: 'string' },
  },
});
const defaultModel = path.join(ROOT, 'models', 'craft-text-default.onnx');
const model = values.model ?? (fs.existsSync(defaultModel) ? defaultModel : path.join(ROOT, 'test', 'models', 'craft-tiny.onnx'));
const dataset = values.dataset ?? path.join(ROOT, '..', 'shared', 'data', 'funsd_train');
const FACTOR = Number(values.factor), LIMIT = Number(values.limit);
const log = (s) => { if (!values.json) process.stderr.write(`${s}\n`); };

const { decodePng, upscale } = require('./images');

/** Peak RSS while `fn` runs (sampled every 20 ms, plus at the end). */
async function withPeak(fn) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peak };
  } finally {
    clearInterval(timer);
  }
}

const toDet = (words, k) => words.map((w) => ({ points: w.box.map(([x, y]) => [x / k, y / k]), score: w.score }));

async function consistency() {
  const samples = (await loadDataset(dataset)).slice(0, LIMIT);
  const detector = await Detector.create({ model, threads: Number(values.threads) });
  const mag = Number(values.magRatio) || 1.5;
  const sizes = [512, 768, 1280];
  const runs = Object.fromEntries(sizes.map((t) => [t, []]));
  const tiles = Object.fromEntries(sizes.map((t) => [t, 0]));
  for (const [i, s] of samples.entries()) {
    const img = decodePng(fs.readFileSync(s.imagePath));
    const long = Math.max(img.width, img.height) * mag;
    const ref = await detector.detect(img, { magRatio: mag, tiling: 'off', canvasSize: Math.ceil(long / 32) * 32 + 32 });
    const gt = ref.words.map((w) => ({ points: w.box }));
    for (const t of sizes) {
      const r = await detector.detect(img, { magRatio: mag, canvasSize: t, tiling: { tileSize: t } });
      if (r.scale !== ref.scale) throw new Error(`scale ${r.scale} != ${ref.scale}`);
      runs[t].push({ gt, det: r.words.map((w) => ({ points: w.box })) });
      tiles[t] += r.tiles;
    }
    log(`  ${i + 1}/${samples.length} ${path.basename(s.imagePath)}: ${ref.words.length} words untiled`);
  }
  await detector.dispose();
  const result = {
    model: path.relative(ROOT, model), images: samples.length, magRatio: mag,
    agreement: Object.fromEntries(sizes.map((t) => {
      const e = evaluate(runs[t]);
      return [t, { tilesPerImage: Math.round(tiles[t] / samples.length * 10) / 10, precision: +e.precision.toFixed(4), recall: +e.recall.toFixed(4), hmean: +e.hmean.toFixed(4) }];
    })),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`tiling consistency: ${result.images} original forms at scale ${mag}, tiled vs untiled (untiled words as ground truth), model ${result.model}`);
    for (const t of sizes) {
      const a = result.agreement[t];
      console.log(`  tileSize ${String(t).padEnd(5)} ${String(a.tilesPerImage).padStart(5)} tiles/image  P ${a.precision.toFixed(3)}  R ${a.recall.toFixed(3)}  H ${a.hmean.toFixed(3)}`);
    }
  }
}

async function memoryChild(cfg) {
  const [first] = await loadDataset(dataset);
  const img = upscale(decodePng(fs.readFileSync(first.imagePath)), FACTOR);
  const detector = await Detector.create({ model, threads: Number(values.threads) });
  if (global.gc) global.gc();
  const base = process.memoryUsage().rss;
  const mag = Number(values.magRatio) || 1.5;
  const canvasSize = cfg.canvas === 'full' ? Math.ceil((Math.max(img.width, img.height) * mag) / 32) * 32 : cfg.canvas;
  const r = await withPeak(() => detector.detect(img, { magRatio: mag, canvasSize, tiling: cfg.tiling }));
  const v = r.value;
  console.log(JSON.stringify({ ...cfg, image: `${img.width}x${img.height}`, scale: +v.scale.toFixed(4), tiles: v.tiles, downscaled: v.downscaled,
    baseMB: Math.round(base / 1e6), peakMB: Math.round(r.peak / 1e6), inferenceMs: Math.round(v.timings.inference), words: v.words.length }));
  await detector.dispose();
}

async function memory() {
  const { execFileSync } = require('node:child_process');
  const configs = [{ tiling: 'off', canvas: 1280 }, { tiling: 'auto', canvas: 1280 }, { tiling: 'off', canvas: 2560 },
    { tiling: 'off', canvas: 3840 }, { tiling: 'off', canvas: 'full' }];
  const rows = [];
  for (const cfg of configs) {
    const args = [...process.execArgv, '--expose-gc', __filename, '--memory-child', JSON.stringify(cfg), '--dataset', dataset,
      '--factor', String(FACTOR), '--threads', values.threads, '--model', model, ...(values.magRatio ? ['--magRatio', values.magRatio] : [])];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    rows.push(JSON.parse(out.trim().split('\n').pop()));
    log(`  ${JSON.stringify(rows[rows.length - 1])}`);
  }
  if (values.json) console.log(JSON.stringify({ model: path.relative(ROOT, model), rows }));
  else {
    console.log(`tiling memory: first form x${FACTOR} (${rows[0].image}), one detection per process, model ${path.relative(ROOT, model)}`);
    for (const r of rows) {
      console.log(`  ${`${r.tiling} canvas ${r.canvas}`.padEnd(20)} scale ${String(r.scale).padEnd(6)} ${String(r.tiles).padStart(3)} tiles  peak RSS ${String(r.peakMB).padStart(5)} MB  (inference ${r.inferenceMs} ms)`);
    }
  }
}

async function main() {
  if (!fs.existsSync(dataset)) throw new Error(`dataset not found: ${dataset}`);
  if (values['memory-child']) return memoryChild(JSON.parse(values['memory-child']));
  if (values.memory) return memory();
  if (values.consistency) return consistency();
  const samples = (await loadDataset(dataset)).slice(0, LIMIT);
  const detector = await Detector.create({ model, threads: Number(values.threads) });
  const extra = values.magRatio ? { magRatio: Number(values.magRatio) } : {};
  log(`tiling check: ${samples.length} images of ${path.relative(ROOT, dataset)}, x${FACTOR}, model ${path.relative(ROOT, model)}`);
  const runs = { original: [], tiled: [], downscaled: [] };
  const meta = { tiles: [], scaleTiled: [], scaleDown: [], flagged: 0, ms: { original: 0, tiled: 0, downscaled: 0 } };
  const peaks = { original: 0, tiled: 0, downscaled: 0 };
  const base = process.memoryUsage().rss;
  for (const [i, s] of samples.entries()) {
    const img = decodePng(fs.readFileSync(s.imagePath));
    const big = upscale(img, FACTOR);
    let t0 = Date.now();
    const o = await withPeak(() => detector.detect(img, extra));
    meta.ms.original += Date.now() - t0;
    t0 = Date.now();
    const t = await withPeak(() => detector.detect(big, { ...extra, tiling: 'auto' }));
    meta.ms.tiled += Date.now() - t0;
    t0 = Date.now();
    const d = await withPeak(() => detector.detect(big, { ...extra, tiling: 'off' }));
    meta.ms.downscaled += Date.now() - t0;
    peaks.original = Math.max(peaks.original, o.peak);
    peaks.tiled = Math.max(peaks.tiled, t.peak);
    peaks.downscaled = Math.max(peaks.downscaled, d.peak);
    runs.original.push({ id: s.imagePath, gt: s.words, det: toDet(o.value.words, 1) });
    runs.tiled.push({ id: s.imagePath, gt: s.words, det: toDet(t.value.words, FACTOR) });
    runs.downscaled.push({ id: s.imagePath, gt: s.words, det: toDet(d.value.words, FACTOR) });
    meta.tiles.push(t.value.tiles);
    meta.scaleTiled.push(t.value.scale);
    meta.scaleDown.push(d.value.scale);
    if (d.value.downscaled && !t.value.downscaled && !o.value.downscaled) meta.flagged++;
    log(`  ${i + 1}/${samples.length} ${path.basename(s.imagePath)} ${img.width}x${img.height} -> ${big.width}x${big.height}: ` +
      `${o.value.words.length} / ${t.value.words.length} (${t.value.tiles} tiles) / ${d.value.words.length} words, ` +
      `peak RSS ${(t.peak / 1e6).toFixed(0)} MB tiled`);
  }
  let full;
  if (values.full) {
    const img = upscale(decodePng(fs.readFileSync(samples[0].imagePath)), FACTOR);
    const long = Math.max(img.width, img.height) * (Number(values.magRatio) || 1.5);
    const f = await withPeak(() => detector.detect(img, { ...extra, tiling: 'off', canvasSize: Math.ceil(long / 32) * 32 }));
    full = { peakRssMB: Math.round(f.peak / 1e6), scale: f.value.scale, inferenceMs: Math.round(f.value.timings.inference) };
  }
  await detector.dispose();
  const score = (r) => { const e = evaluate(r); return { precision: +e.precision.toFixed(4), recall: +e.recall.toFixed(4), hmean: +e.hmean.toFixed(4) }; };
  const result = {
    model: path.relative(ROOT, model), dataset: path.relative(ROOT, dataset), images: samples.length, factor: FACTOR,
    original: score(runs.original), tiled: score(runs.tiled), downscaled: score(runs.downscaled),
    tilesPerImage: Math.round(meta.tiles.reduce((a, b) => a + b, 0) / samples.length * 10) / 10,
    scaleTiled: meta.scaleTiled[0], scaleDownscaled: Math.round(meta.scaleDown[0] * 1e4) / 1e4,
    downscaledFlagged: `${meta.flagged}/${samples.length}`,
    secondsPerImage: Object.fromEntries(Object.entries(meta.ms).map(([k, v]) => [k, Math.round(v / samples.length / 100) / 10])),
    rssMB: { beforeRuns: Math.round(base / 1e6), peakOriginal: Math.round(peaks.original / 1e6), peakTiled: Math.round(peaks.tiled / 1e6), peakDownscaled: Math.round(peaks.downscaled / 1e6) },
    full,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`tiling: ${result.images} images of ${result.dataset}, model ${result.model}`);
    for (const k of ['original', 'tiled', 'downscaled']) {
      console.log(`  ${k.padEnd(11)} P ${result[k].precision.toFixed(3)}  R ${result[k].recall.toFixed(3)}  H ${result[k].hmean.toFixed(3)}  (${result.secondsPerImage[k]} s/image)`);
    }
    console.log(`  x${FACTOR} tiled: ${result.tilesPerImage} tiles/image at scale ${result.scaleTiled}; untiled: scale ${result.scaleDownscaled}, downscaled flagged ${result.downscaledFlagged}`);
    console.log(`  RSS: ${result.rssMB.beforeRuns} MB before, peak ${result.rssMB.peakOriginal} (original) / ${result.rssMB.peakTiled} (tiled) / ${result.rssMB.peakDownscaled} (downscaled) MB`);
    if (full) console.log(`  untiled at full working resolution (scale ${full.scale}): peak RSS ${full.peakRssMB} MB, inference ${full.inferenceMs} ms`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
