#!/usr/bin/env node
// Throughput of the scheduler under concurrent load, per thread setting; event-loop delay under saturation; time from
// abort to CPU stop; where batching pays. Prints markdown tables (the numbers in docs/throughput.md come from here).
//
//   node bench/throughput.js [--model m.onnx] [--rounds 3] [--requests 16] [--width 1024 --height 768]
//                            [--sections load,batch,abort] [--json out.json]       (run `npm run build` first)
//
// The machine may be shared: every table cell is the median over --rounds rounds, and within a round the contenders
// (settings x loads) run interleaved, so background load hits all of them alike.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseArgs } = require('node:util');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const { syntheticPage } = require('./synthetic-page');
const { Detector } = require('../dist');
const { binding, resolveOrtLibrary } = require('../dist/binding');

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, rounds: { type: 'string', default: '3' }, requests: { type: 'string', default: '16' },
    width: { type: 'string', default: '1024' }, height: { type: 'string', default: '768' },
    sections: { type: 'string', default: 'load,batch,abort' }, json: { type: 'string' },
    canvas: { type: 'string' }, settings: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds), REQUESTS = Number(values.requests);
const W = Number(values.width), H = Number(values.height);
const SECTIONS = new Set(values.sections.split(','));
// The network input: the page's long side by default (no resize); smaller = decode-heavy (big uploads, small canvas).
const CANVAS = values.canvas ? Number(values.canvas) : Math.max(W, H);
const defaultModel = path.join(__dirname, '..', 'models', 'craft-text-default.onnx');
const MODEL = values.model ?? (fs.existsSync(defaultModel) ? defaultModel : path.join(__dirname, '..', 'test', 'models', 'craft-tiny.onnx'));

// ---- inputs: PNG-encoded synthetic text pages (decode and post-processing cost something, as with real uploads) ----

const page = (w, h, seed) => syntheticPage(w, h, seed, { noise: true }); // scan noise
function crc32(buf) {
  let crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    let c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(rgb, w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) Buffer.from(rgb.buffer, rgb.byteOffset + y * w * 3, w * 3).copy(raw, y * (w * 3 + 1) + 1);
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');

// ---- load: N clients each sending back-to-back requests --------------------------------------------------------

const SETTINGS = [
  { name: 'defaults (threads 0 = ORT\'s choice, concurrency 1, no spinning)', create: {} },
  { name: 'threads 2, concurrency 1, spinning', create: { threads: 2, spinning: true } },
  { name: 'threads 2, concurrency 1', create: { threads: 2 } },
  { name: 'threads 2, concurrency 1, stageConcurrency 2', create: { threads: 2, stageConcurrency: 2 } },
  { name: 'threads 2, concurrency 2', create: { threads: 2, concurrency: 2 } },
  { name: 'threads 1, concurrency 2 (default threads for concurrency 2)', create: { concurrency: 2 } },
  { name: 'threads 1, concurrency 1', create: { threads: 1 } },
  { name: 'threads 2, batch maxSize 4 / 5 ms', create: { threads: 2, batch: { maxSize: 4, maxDelayMs: 5 } } },
];
const LOADS = [1, 2, 4, 8];
if (values.settings) {
  const keep = new Set(values.settings.split(',').map(Number));
  for (let i = SETTINGS.length - 1; i >= 0; i--) if (!keep.has(i)) SETTINGS.splice(i, 1);
}

async function runLoad(detect, clients, total, images) {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let next = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  eld.enable();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) {
      const i = next++;
      await detect(images[i % images.length]);
    }
  }));
  eld.disable();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return {
    ips: total / (ms / 1000), eldP99: eld.percentile(99) / 1e6, eldMax: eld.max / 1e6,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / total,
  };
}

async function loadSection(report) {
  const images = [1, 2, 3, 4].map((s) => png(page(W, H, s), W, H));
  // One network input per image (tiling off: a page larger than the canvas is downscaled, as CRAFT does).
  const opts = { canvasSize: CANVAS, magRatio: 1, tiling: 'off' };
  const detectors = [];
  for (const s of SETTINGS) detectors.push(await Detector.create({ model: MODEL, ...s.create }));
  // The pre-scheduler path: the native one-worker detect(), back-to-back (what the scheduler must not be slower than).
  const native = await binding().createDetector({
    model: MODEL, ortLibrary: resolveOrtLibrary(), threads: 2, interOpThreads: 1, spinning: true, executionProviders: ['cpu'], deviceId: 0,
  });
  const nativeOpts = { textThreshold: 0.7, linkThreshold: 0.4, lowText: 0.4, canvasSize: opts.canvasSize, magRatio: 1,
    polygons: false, heatmaps: false, refine: false, maxPixels: 0, tiling: 'off', tileSize: 0, tileOverlap: -1 };
  const stageSamples = { decode: [], preprocess: [], inference: [], postprocess: [] };
  for (const d of detectors) for (let i = 0; i < 2; i++) await d.detect(images[0], opts); // warm-up
  const cells = {}; // `${setting}|${load}` -> [{ips, eldP99}]
  const nativeRuns = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no contender always runs first or last. A setting's loads run back to back, so
    // its sequential and loaded cells see the same background load (their ratio is paired within a round).
    const order = SETTINGS.map((_, i) => (i + round) % SETTINGS.length);
    for (const si of order) {
      const d = detectors[si];
      for (const load of LOADS) {
        const r = await runLoad((img) => d.detect(img, opts).then((res) => {
          if (si === 0) for (const k of Object.keys(stageSamples)) stageSamples[k].push(res.timings[k]);
        }), load, REQUESTS, images);
        (cells[`${si}|${load}`] ??= []).push(r);
      }
      process.stderr.write('.');
    }
    nativeRuns.push(await runLoad((img) => native.detect({ data: img }, nativeOpts), 1, REQUESTS, images));
  }
  process.stderr.write('\n');
  for (const d of detectors) await d.dispose();
  native.dispose();

  const med = (si, load, k) => median(cells[`${si}|${load}`].map((r) => r[k]));
  // Throughput under load relative to the same setting's sequential run in the same round (paired), median over rounds.
  const paired = (si, load) => median(cells[`${si}|${load}`].map((r, i) => r.ips / cells[`${si}|1`][i].ips));
  const nativeIps = median(nativeRuns.map((r) => r.ips));
  const bestSeqIndex = SETTINGS.reduce((best, _, si) => (med(si, 1, 'ips') > med(best, 1, 'ips') ? si : best), 0);
  const bestSeq = med(bestSeqIndex, 1, 'ips');
  const lines = [];
  lines.push(`Images/s, median of ${ROUNDS} rounds x ${REQUESTS} requests per cell. In brackets: paired ratio to the same ` +
    `setting's sequential run in the same round (median over rounds). Best sequential: ${f2(bestSeq)} img/s ` +
    `(${SETTINGS[bestSeqIndex].name}). Bare native detect() back-to-back (threads 2, no scheduler): ${f2(nativeIps)} img/s.`);
  lines.push('');
  lines.push(`| setting | sequential (1 in flight) | 2 in flight | 4 in flight | 8 in flight | 8 in flight / best sequential |`);
  lines.push(`|---|---|---|---|---|---|`);
  SETTINGS.forEach((s, si) => {
    lines.push(`| ${s.name} | ${f2(med(si, 1, 'ips'))} | ${[2, 4, 8].map((l) => `${f2(med(si, l, 'ips'))} (${f2(paired(si, l))})`).join(' | ')} | ` +
      `${f2(med(si, 8, 'ips') / bestSeq)} |`);
  });
  lines.push('');
  lines.push('CPU time of this process per image (ms; less sensitive to other load on the machine than images/s), and ' +
    'event-loop delay p99 / max (ms) while saturated (8 in flight); medians over rounds:');
  lines.push('');
  lines.push(`| setting | CPU ms/img, sequential | CPU ms/img, 8 in flight | event-loop p99 | event-loop max |`);
  lines.push(`|---|---|---|---|---|`);
  SETTINGS.forEach((s, si) => lines.push(`| ${s.name} | ${f1(med(si, 1, 'cpuMsPerImage'))} | ${f1(med(si, 8, 'cpuMsPerImage'))} | ` +
    `${f1(med(si, 8, 'eldP99'))} | ${f1(med(si, 8, 'eldMax'))} |`));
  lines.push('');
  lines.push(`Stage medians (ms, defaults, all loads): ${Object.entries(stageSamples).map(([k, v]) => `${k} ${f1(median(v))}`).join(', ')}`);
  report.load = { cells, nativeIps, bestSeq, stageMedians: Object.fromEntries(Object.entries(stageSamples).map(([k, v]) => [k, median(v)])) };
  return lines.join('\n');
}

// ---- batching: images/s for n same-shape images in one run vs one run each ---------------------------------------

async function batchSection(report) {
  const sizes = [[256, 256], [512, 512], [W, H]];
  const ns = [1, 2, 4, 8];
  const d = await Detector.create({ model: MODEL, threads: 2 });
  const rows = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [w, h] of sizes) {
      const raw = { data: page(w, h, 9), width: w, height: h, channels: 3 };
      const opts = { canvasSize: Math.max(w, h), magRatio: 1 };
      await d.detect(raw, opts);
      for (const n of ns) {
        const inputs = Array.from({ length: n }, () => raw);
        const t0 = performance.now();
        await d.detectBatch(inputs, { ...opts, batchSize: n });
        const batched = n / ((performance.now() - t0) / 1000);
        const t1 = performance.now();
        for (const input of inputs) await d.detect(input, opts);
        const single = n / ((performance.now() - t1) / 1000);
        (rows[`${w}x${h}|${n}`] ??= []).push({ batched, single });
      }
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
  await d.dispose();
  const lines = [];
  lines.push(`detectBatch() of n identical-shape images (one run) vs n sequential detect() calls, threads 2; images/s, ` +
    `median of ${ROUNDS} interleaved rounds (ratio batched / sequential).`);
  lines.push('');
  lines.push(`| input | ${ns.map((n) => `n=${n}`).join(' | ')} |`);
  lines.push(`|---|${ns.map(() => '---').join('|')}|`);
  for (const [w, h] of sizes) {
    lines.push(`| ${w}x${h} | ${ns.map((n) => {
      const r = rows[`${w}x${h}|${n}`];
      const b = median(r.map((x) => x.batched)), s = median(r.map((x) => x.single));
      return `${f2(b)} vs ${f2(s)} (${f2(b / s)})`;
    }).join(' | ')} |`);
  }
  report.batch = rows;
  return lines.join('\n');
}

// ---- abort: how long after abort() does the process stop burning CPU? ------------------------------------------

async function cpuStopAfterAbort(d, input, opts) {
  const ac = new AbortController();
  const p = d.detect(input, { ...opts, signal: ac.signal }).catch((e) => e);
  while (d.stats().runningInferences === 0) await sleep(1);
  await sleep(100);
  const samples = []; // [t, cpuMicros]
  const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
  const tAbort = performance.now();
  samples.push([tAbort, cpu()]);
  ac.abort();
  const err = await p;
  const rejectMs = performance.now() - tAbort;
  // Sample CPU time for 400 ms: a 1 ms timer, so the sampling itself costs next to nothing.
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const t = performance.now();
      samples.push([t, cpu()]);
      if (t - tAbort > 400) { clearInterval(timer); resolve(); }
    }, 1);
  });
  // Stopped = from here on, every 10 ms window uses under 0.15 of a core.
  let stopMs = 0;
  for (let i = 0; i < samples.length; i++) {
    let j = i;
    while (j < samples.length && samples[j][0] - samples[i][0] < 10) j++;
    if (j >= samples.length) break;
    const rate = (samples[j][1] - samples[i][1]) / 1000 / (samples[j][0] - samples[i][0]);
    if (rate >= 0.15) stopMs = samples[j][0] - tAbort;
  }
  if (err?.name !== 'AbortError') throw new Error(`expected an AbortError, got ${err}`);
  return { stopMs, rejectMs };
}

async function abortSection(report) {
  const configs = [
    { name: 'threads 2, spinning', create: { threads: 2, spinning: true } },
    { name: 'threads 2 (no spinning, the default)', create: { threads: 2 } },
    { name: 'threads 1', create: { threads: 1 } },
  ];
  const sizes = [[W, H], [1536, 1536]];
  const lines = [];
  lines.push(`An input aborted 100 ms into its inference (one inference, no tiling, no resize); time from abort() until ` +
    `the process uses < 0.15 core in every later 10 ms window (process.cpuUsage sampled every ms), ${ROUNDS * 3} aborts each.`);
  lines.push('');
  lines.push('| input | setting | full inference (ms) | promise rejects after (ms, median) | CPU stops after (ms, median) | worst (ms) |');
  lines.push('|---|---|---|---|---|---|');
  report.abort = {};
  for (const [w, h] of sizes) {
    const input = { data: page(w, h, 5), width: w, height: h, channels: 3 };
    const opts = { canvasSize: Math.max(w, h), magRatio: 1, tiling: 'off' };
    for (const c of configs) {
      const d = await Detector.create({ model: MODEL, ...c.create });
      const full = [];
      for (let i = 0; i < 2; i++) full.push((await d.detect(input, opts)).timings.inference);
      const runs = [];
      for (let i = 0; i < ROUNDS * 3; i++) runs.push(await cpuStopAfterAbort(d, input, opts));
      await d.dispose();
      const stops = runs.map((r) => r.stopMs);
      lines.push(`| ${w}x${h} | ${c.name} | ${f1(median(full))} | ${f2(median(runs.map((r) => r.rejectMs)))} | ` +
        `${f1(median(stops))} | ${f1(Math.max(...stops))} |`);
      report.abort[`${w}x${h} ${c.name}`] = { full, runs };
      process.stderr.write('.');
    }
  }
  process.stderr.write('\n');
  return lines.join('\n');
}

(async () => {
  const report = {
    model: path.relative(process.cwd(), MODEL), machine: `${os.cpus()[0].model} x${os.cpus().length}`, node: process.version,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)', loadavg: os.loadavg(),
  };
  console.log(`model ${report.model}; ${report.machine}; Node ${report.node}; UV_THREADPOOL_SIZE ${report.uvThreadpoolSize}; ` +
    `load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; input ${W}x${H} PNG pages, canvasSize ${CANVAS}\n`);
  if (SECTIONS.has('load')) console.log(await loadSection(report), '\n');
  if (SECTIONS.has('batch')) console.log(await batchSection(report), '\n');
  if (SECTIONS.has('abort')) console.log(await abortSection(report), '\n');
  console.log(`load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(report, null, 1));
})().catch((err) => { console.error(err); process.exit(1); });
