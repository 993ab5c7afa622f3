#!/usr/bin/env node
// Memory soak: N detect() calls in one process over a mix of inputs (every fixture format, raw RGB/RGBA/grey
// buffers, tiled pages, heatmaps handed to JS, polygons, inputs that are refused), RSS sampled every 100 ms.
// Reports RSS at the start (after one warm-up call of each kind), the peak, the end, and the drift over the second
// half (which should be ~0: the process settles to a flat RSS when nothing leaks).
//
//   node --expose-gc bench/soak.js [--calls 2000] [--model m.onnx] [--concurrency 2] [--json]
// (run `npm run build` first; --expose-gc lets the script collect garbage every 100 calls, so that what remains is
// what is really held; without it the numbers include garbage V8 has not collected yet)
'use strict';
const fs = require('node:fs');
const { syntheticPage } = require('./synthetic-page');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Detector } = require('../dist');

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' }, model: { type: 'string' }, concurrency: { type: 'string', default: '2' },
    json: { type: 'boolean' },
  },
});
const CALLS = Number(values.calls), CONCURRENCY = Number(values.concurrency);
const defaultModel = path.join(ROOT, 'models', 'craft-text-default.onnx');
const model = values.model ?? (fs.existsSync(defaultModel) ? defaultModel : path.join(ROOT, 'test', 'models', 'craft-tiny.onnx'));
const img = (n) => path.join(ROOT, 'test', 'fixtures', 'images', n);

const rgb = syntheticPage(640, 480, 3, { margin: 10, rightMargin: 30, lineStep: 30, charStep: 14, charWidth: 10 });
const rgba = new Uint8Array(640 * 480 * 4);
for (let i = 0; i < 640 * 480; i++) { rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4); rgba[i * 4 + 3] = 255; }
const grey = new Uint8Array(640 * 480);
for (let i = 0; i < grey.length; i++) grey[i] = rgb[i * 3];
const bytes = Object.fromEntries(['hello.png', 'hello.jpg', 'hello.gif', 'hello.bmp', 'hello.tiff', 'hello.webp'].map((f) => [f, fs.readFileSync(img(f))]));

// One call in the mix: [label, input, options]. Every kind allocates differently (decode, tiles, heatmap buffers).
const KINDS = [
  ['png path', img('hello.png'), undefined],
  ['jpeg bytes', bytes['hello.jpg'], { polygons: true }],
  ['gif bytes', bytes['hello.gif'], undefined],
  ['bmp bytes', bytes['hello.bmp'], undefined],
  ['tiff bytes', bytes['hello.tiff'], undefined],
  ['webp bytes', bytes['hello.webp'], { heatmaps: true }],
  ['raw rgb', { data: rgb, width: 640, height: 480, channels: 3 }, undefined],
  ['raw rgba + heatmaps', { data: rgba, width: 640, height: 480, channels: 4 }, { heatmaps: true }],
  ['raw grey', { data: grey, width: 640, height: 480, channels: 1 }, undefined],
  ['tall.png tiled', img('tall.png'), undefined],
  ['small tiles + heatmaps', bytes['hello.png'], { canvasSize: 256, tiling: { tileSize: 256 }, heatmaps: true }],
  ['truncated png (refused)', bytes['hello.png'].subarray(0, 3000), undefined],
  ['garbage (refused)', Buffer.from('not an image at all'), undefined],
];

async function main() {
  const detector = await Detector.create({ model, threads: 1 });
  const call = (k) => detector.detect(KINDS[k][1], KINDS[k][2]).then(() => 'ok', (e) => e.code || e.name);
  for (let k = 0; k < KINDS.length; k++) await call(k); // warm-up: arenas, caches, lazy init
  if (global.gc) global.gc();
  const start = process.memoryUsage().rss;
  let peak = start;
  const samples = []; // [calls done, rss]
  let done = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
  const outcomes = {};
  const t0 = Date.now();
  let next = 0;
  async function worker() {
    while (next < CALLS) {
      const i = next++;
      const o = await call(i % KINDS.length);
      outcomes[o] = (outcomes[o] || 0) + 1;
      done++;
      if (done % 100 === 0) {
        if (global.gc) global.gc();
        const rss = process.memoryUsage().rss;
        peak = Math.max(peak, rss);
        samples.push([done, rss]);
        if (!values.json) process.stderr.write(`  ${done} calls  RSS ${(rss / 1e6).toFixed(1)} MB\n`);
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  clearInterval(sampler);
  if (global.gc) global.gc();
  await new Promise((r) => setTimeout(r, 200));
  const end = process.memoryUsage().rss;
  await detector.dispose();
  // Drift: least-squares slope of RSS over the second half of the run, in bytes per call.
  const half = samples.filter(([n]) => n > CALLS / 2);
  const mx = half.reduce((s, [n]) => s + n, 0) / half.length, my = half.reduce((s, [, r]) => s + r, 0) / half.length;
  const slope = half.reduce((s, [n, r]) => s + (n - mx) * (r - my), 0) / Math.max(1, half.reduce((s, [n]) => s + (n - mx) ** 2, 0));
  const mb = (v) => Math.round(v / 1e5) / 10;
  const result = {
    model: path.relative(ROOT, model), calls: CALLS, concurrency: CONCURRENCY, gc: Boolean(global.gc),
    seconds: Math.round((Date.now() - t0) / 1000), outcomes,
    rssMB: { start: mb(start), peak: mb(peak), end: mb(end) },
    secondHalfDriftKBPerCall: Math.round(slope / 100) / 10,
    samplesMB: samples.map(([n, r]) => [n, mb(r)]),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`soak: ${CALLS} detect() calls (${result.model}, concurrency ${CONCURRENCY}, gc ${result.gc}) in ${result.seconds} s`);
    console.log(`  outcomes ${JSON.stringify(outcomes)}`);
    console.log(`  RSS start ${result.rssMB.start} MB, peak ${result.rssMB.peak} MB, end ${result.rssMB.end} MB; drift over the second half ${result.secondHalfDriftKBPerCall} KB/call`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
