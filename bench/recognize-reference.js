#!/usr/bin/env node
// craft-text's Recognizer against DTRB's own demo.py pipeline (PyTorch, CPU), side by side in one run (issue 13):
// the same full-size None-VGG-BiLSTM-CTC weights (random, saved as released by bench/recognize-reference.py, converted
// here by `convert`), the same word crops (PNG files), per-word time end to end:
//   DTRB: PIL open + convert('L'), AlignCollate (BICUBIC squash 100x32, normalise), model, greedy decode, confidence;
//   craft-text: recognize(file) = decode the file, crop (the whole image), L + BICUBIC, infer, decode, confidence.
// One at a time: one word per call / per forward. Batched: DTRB one forward for all crops (as demo.py's DataLoader
// does with batch_size 192); craft-text ONE recognize() call on a mosaic of the same crops with their integer boxes
// as regions (copied exactly, so the network sees the same pixels; the strings are checked against the one-at-a-time
// run), batchSize = all crops; also all per-file recognize() calls in flight at once (separate calls are not batched
// together). craft-text in FP32 and in INT8 (the same model through `craft-text quantize`: static QDQ convolutions
// calibrated on other crops, dynamic int8 BiLSTMs and linear layers). Threads per side: --threads (default 1; e.g.
// 1,2). Rounds interleave everything so machine noise hits all alike. Also demo.py's loading as shipped (torch
// DataLoader, batch_size 192, --workers 4): worker start-up per pass.
//
//   nice node bench/recognize-reference.js [--rounds 5] [--threads 1,2] [--dir /tmp/str-bench] [--json]  (npm run build first)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { Recognizer, convert } = require('../dist');
const { quantize } = require('../dist/quantize');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    dir: { type: 'string', default: '/tmp/str-bench' },
    json: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function reference(dir) {
  const py = spawn('python3', [path.join(__dirname, 'recognize-reference.py'), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: py.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  return {
    ready: next(),
    async run(batch, workers) {
      const p = next();
      py.stdin.write(workers === undefined ? `run ${batch}\n` : `loader ${batch} ${workers}\n`);
      const [, ms, text, conf] = (await p).split(' ');
      return { ms: Number(ms), text: text === '-' ? '' : text, confidence: Number(conf) };
    },
    async threads(n) {
      const p = next();
      py.stdin.write(`threads ${n}\n`);
      await p;
    },
    async texts() {
      const p = next();
      py.stdin.write('texts\n');
      return JSON.parse(await p);
    },
    quit() { py.stdin.write('quit\n'); },
  };
}

const WARM = 1;

async function main() {
  fs.mkdirSync(values.dir, { recursive: true });
  const ref = reference(values.dir);
  const n = Number((await ref.ready).split(' ')[1]);
  const list = (d) => fs.readdirSync(path.join(values.dir, d)).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(values.dir, d, f));
  const files = list('words');
  if (files.length !== n) throw new Error(`expected ${n} crops, found ${files.length}`);
  const mosaic = path.join(values.dir, 'mosaic.png');
  const regions = JSON.parse(fs.readFileSync(path.join(values.dir, 'mosaic.json'), 'utf8'))
    .map(([x0, y0, x1, y1]) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]);
  const fp32 = await convert(path.join(values.dir, 'None-VGG-BiLSTM-CTC.pth'));
  const q = await quantize(fp32, { calibration: list('calib'), threads: 1 });
  // the same with the BiLSTMs and linear layers left float (--float-recurrent): dynamic quantization measures its
  // activation ranges over the whole batch, so a word's INT8 reading can depend on the crops batched with it; static
  // QDQ convolutions do not
  const qs = await quantize(fp32, { calibration: list('calib'), threads: 1, recurrent: 'float' });
  const models = { fp32, int8: q.onnx, int8s: qs.onnx };
  const threadCounts = values.threads.split(',').map(Number);
  const opts = { rotationRetryThreshold: 0, marginRetryThreshold: 0, stretchRetryThreshold: 0 };
  const batchOpts = { ...opts, batchSize: files.length };

  const side = (rec) => ({
    async one() {
      const t0 = performance.now();
      const texts = [];
      const st = { decode: 0, preprocess: 0, inference: 0, postprocess: 0 };
      for (const f of files) {
        const d = await rec.recognizeDetailed(f, undefined, opts);
        texts.push(d.words[0].text);
        for (const k of Object.keys(st)) st[k] += d.timings[k];
      }
      return { ms: performance.now() - t0, texts, stages: st };
    },
    async mosaic() {
      const t0 = performance.now();
      const d = await rec.recognizeDetailed(mosaic, regions, batchOpts);
      return { ms: performance.now() - t0, texts: d.words.map((w) => w.text), runs: d.runs };
    },
    async inFlight() {
      const t0 = performance.now();
      const all = await Promise.all(files.map((f) => rec.recognize(f, undefined, opts)));
      return { ms: performance.now() - t0, texts: all.map((w) => w[0].text) };
    },
  });

  const results = [];
  for (const threads of threadCounts) {
    await ref.threads(threads);
    const recs = {};
    for (const [k, m] of Object.entries(models)) recs[k] = await Recognizer.create({ model: m, threads });
    const ours = Object.fromEntries(Object.entries(recs).map(([k, r]) => [k, side(r)]));
    // warm-up (model load, first-run allocations) on every side
    for (let w = 0; w < WARM; w++) {
      await ref.run(1); await ref.run(files.length);
      for (const o of Object.values(ours)) { await o.one(); await o.mosaic(); }
    }
    const t = { dtrbOne: [], dtrbBatch: [], dtrbLoader: [] };
    for (const k of Object.keys(ours)) Object.assign(t, { [`${k}One`]: [], [`${k}Mosaic`]: [], [`${k}InFlight`]: [] });
    const stages = { decode: [], preprocess: [], inference: [], postprocess: [] };
    const texts = {};
    let runs = 0;
    for (let r = 0; r < rounds; r++) {
      // the order rotates per round: no side always runs right after another
      const steps = [
        async () => { t.dtrbOne.push((await ref.run(1)).ms); },
        async () => { t.dtrbBatch.push((await ref.run(files.length)).ms); },
        ...Object.entries(ours).flatMap(([k, o]) => [
          async () => { const b = await o.one(); t[`${k}One`].push(b.ms); texts[`${k}One`] = b.texts; if (k === 'fp32') for (const s of Object.keys(stages)) stages[s].push(b.stages[s]); },
          async () => { const b = await o.mosaic(); t[`${k}Mosaic`].push(b.ms); texts[`${k}Mosaic`] = b.texts; runs = b.runs; },
          async () => { const b = await o.inFlight(); t[`${k}InFlight`].push(b.ms); },
        ]),
      ];
      for (let i = 0; i < steps.length; i++) await steps[(i + r) % steps.length]();
      if (threads === threadCounts[0] && r === 0) t.dtrbLoader.push((await ref.run(192, 4)).ms);
    }
    for (const k of Object.values(recs)) await k.dispose();
    const per = (a) => median(a) / files.length;
    const ms = Object.fromEntries(Object.entries(t).filter(([, v]) => v.length).map(([k, v]) => [k, per(v)]));
    results.push({
      threads, msPerWord: ms,
      speedup: {
        fp32One: ms.dtrbOne / ms.fp32One, fp32Batched: ms.dtrbBatch / ms.fp32Mosaic,
        int8One: ms.dtrbOne / ms.int8One, int8Batched: ms.dtrbBatch / ms.int8Mosaic,
        int8sOne: ms.dtrbOne / ms.int8sOne, int8sBatched: ms.dtrbBatch / ms.int8sMosaic,
      },
      craftTextFp32StagesMsPerWord: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, per(v)])),
      mosaicRuns: runs,
      sameStrings: {
        fp32MosaicVsOne: texts.fp32Mosaic.filter((x, i) => x === texts.fp32One[i]).length,
        int8MosaicVsOne: texts.int8Mosaic.filter((x, i) => x === texts.int8One[i]).length,
        int8sMosaicVsOne: texts.int8sMosaic.filter((x, i) => x === texts.int8sOne[i]).length,
      },
      texts,
    });
  }
  // parity at full size on every crop (FP32 vs DTRB: the same strings, confidences within 1e-4), and INT8's agreement
  const theirs = await ref.texts();
  ref.quit();
  const check = async (model) => {
    const rec = await Recognizer.create({ model, threads: 1 });
    const out = [];
    for (const f of files) out.push((await rec.recognize(f, undefined, opts))[0]);
    await rec.dispose();
    return out;
  };
  const a = await check(fp32), b = await check(q.onnx), c = await check(qs.onnx);
  const parity = {
    of: files.length,
    fp32VsDtrb: a.filter((r, i) => r.text === theirs[i][0]).length,
    maxConfidenceDiff: Math.max(...a.map((r, i) => Math.abs(r.confidence - theirs[i][1]))),
    int8VsDtrb: b.filter((r, i) => r.text === theirs[i][0]).length,
    int8MeanCharAgreement: b.reduce((s, r, i) => s + charAgreement(r.text, theirs[i][0]), 0) / files.length,
    int8sVsDtrb: c.filter((r, i) => r.text === theirs[i][0]).length,
    int8sMeanCharAgreement: c.reduce((s, r, i) => s + charAgreement(r.text, theirs[i][0]), 0) / files.length,
  };
  const res = { words: files.length, rounds, quantization: q.report.rewrite, recurrent: q.report.recurrent, parity, results };
  for (const r of results) delete r.texts;
  if (values.json) { console.log(JSON.stringify(res)); return; }
  console.log(`${files.length} word crops, ${rounds} interleaved rounds, medians, same weights; ms per word, end to end`);
  for (const r of results) {
    const m = r.msPerWord, s = r.speedup;
    const f = (v) => v.toFixed(2).padStart(7);
    console.log(`\n${r.threads} thread(s) per side          one at a time   batched (one call / forward)   ${''}39 calls in flight`);
    console.log(`DTRB demo.py (torch)            ${f(m.dtrbOne)}         ${f(m.dtrbBatch)}`);
    console.log(`craft-text FP32                 ${f(m.fp32One)} (${s.fp32One.toFixed(1)}x)  ${f(m.fp32Mosaic)} (${s.fp32Batched.toFixed(1)}x)             ${f(m.fp32InFlight)}`);
    console.log(`craft-text INT8                 ${f(m.int8One)} (${s.int8One.toFixed(1)}x)  ${f(m.int8Mosaic)} (${s.int8Batched.toFixed(1)}x)             ${f(m.int8InFlight)}`);
    console.log(`craft-text INT8, float BiLSTM   ${f(m.int8sOne)} (${s.int8sOne.toFixed(1)}x)  ${f(m.int8sMosaic)} (${s.int8sBatched.toFixed(1)}x)             ${f(m.int8sInFlight)}`);
    if (m.dtrbLoader) console.log(`DTRB demo.py as shipped (DataLoader, batch 192, --workers 4): ${m.dtrbLoader.toFixed(2)} ms per word (one pass)`);
    console.log(`craft-text FP32 one at a time, per word: ${Object.entries(r.craftTextFp32StagesMsPerWord).map(([k, v]) => `${k} ${v.toFixed(2)} ms`).join(', ')}`);
    console.log(`mosaic call: ${r.mosaicRuns} inference run(s); strings equal to one at a time: FP32 ${r.sameStrings.fp32MosaicVsOne}/${files.length}, ` +
      `INT8 ${r.sameStrings.int8MosaicVsOne}/${files.length}, INT8 float BiLSTM ${r.sameStrings.int8sMosaicVsOne}/${files.length}`);
  }
  console.log(`\nparity: FP32 ${parity.fp32VsDtrb}/${files.length} strings identical to DTRB, max |confidence diff| ${parity.maxConfidenceDiff.toExponential(2)}; ` +
    `INT8 ${parity.int8VsDtrb}/${files.length} identical (mean character agreement ${(parity.int8MeanCharAgreement * 100).toFixed(1)} %), ` +
    `INT8 float BiLSTM ${parity.int8sVsDtrb}/${files.length} (${(parity.int8sMeanCharAgreement * 100).toFixed(1)} %)`);
}

/** 1 - edit distance / max length. */
function charAgreement(a, b) {
  const x = [...a], y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1)));
    prev = cur;
  }
  const m = Math.max(x.length, y.length);
  return m === 0 ? 1 : 1 - prev[y.length] / m;
}

main().catch((e) => { console.error(e); process.exit(1); });
