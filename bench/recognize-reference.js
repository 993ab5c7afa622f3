#!/usr/bin/env node
// craft-text's Recognizer against DTRB's own demo.py pipeline (PyTorch, CPU), side by side in one run (issue 13):
// the same full-size None-VGG-BiLSTM-CTC weights (random, saved as released by bench/recognize-reference.py, converted
// here by `convert`), the same word crops (PNG files), per-word time end to end:
//   DTRB: PIL open + convert('L'), AlignCollate (BICUBIC squash 100x32, normalise), model, greedy decode, confidence;
//   craft-text: recognize(file) = decode the file, crop (the whole image), L + BICUBIC, infer, decode, confidence.
// Both single-threaded (torch.set_num_threads(1), Recognizer threads 1), both one word at a time and batched (DTRB:
// one forward for all crops, as demo.py's DataLoader does with batch_size 192; craft-text: all recognize() calls
// in flight at once, the scheduler batches them). Rounds interleave the two so machine noise hits both alike.
// Also demo.py's loading as shipped (torch DataLoader, batch_size 192, --workers 4): worker start-up per pass.
//
//   nice node bench/recognize-reference.js [--rounds 5] [--dir /tmp/str-bench] [--json]      (npm run build first)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { Recognizer, convert } = require('../dist');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
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
    async texts() {
      const p = next();
      py.stdin.write('texts\n');
      return JSON.parse(await p);
    },
    quit() { py.stdin.write('quit\n'); },
  };
}

async function main() {
  fs.mkdirSync(values.dir, { recursive: true });
  const ref = reference(values.dir);
  const n = Number((await ref.ready).split(' ')[1]);
  const files = fs.readdirSync(path.join(values.dir, 'words')).filter((f) => f.endsWith('.png')).sort()
    .map((f) => path.join(values.dir, 'words', f));
  if (files.length !== n) throw new Error(`expected ${n} crops, found ${files.length}`);
  const onnx = await convert(path.join(values.dir, 'None-VGG-BiLSTM-CTC.pth'));
  const rec = await Recognizer.create({ model: onnx, threads: 1 });
  const opts = { rotationRetryThreshold: 0 };
  const ours = {
    async one() {
      const t0 = performance.now();
      let first;
      const st = { decode: 0, preprocess: 0, inference: 0, postprocess: 0 };
      for (const f of files) {
        const d = await rec.recognizeDetailed(f, undefined, opts);
        first ??= d.words[0];
        for (const k of Object.keys(st)) st[k] += d.timings[k];
      }
      return { ms: performance.now() - t0, first, stages: st };
    },
    async batched() {
      const t0 = performance.now();
      const all = await Promise.all(files.map((f) => rec.recognize(f, undefined, opts)));
      return { ms: performance.now() - t0, first: all[0][0] };
    },
  };
  // warm-up (model load, first-run allocations) on both sides
  await ref.run(1); await ours.one();
  const t = { dtrbOne: [], dtrbBatch: [], dtrbLoader: [], oursOne: [], oursBatch: [] };
  const stages = { decode: [], preprocess: [], inference: [], postprocess: [] };
  let check;
  for (let r = 0; r < rounds; r++) {
    const a = await ref.run(1); t.dtrbOne.push(a.ms);
    const b = await ours.one(); t.oursOne.push(b.ms);
    for (const k of Object.keys(stages)) stages[k].push(b.stages[k]);
    const c = await ref.run(files.length); t.dtrbBatch.push(c.ms);
    const d = await ours.batched(); t.oursBatch.push(d.ms);
    const e = await ref.run(192, 4); t.dtrbLoader.push(e.ms);
    check = { dtrb: a, ours: b.first };
  }
  // parity at full size on every crop: the same strings, confidences within 1e-4
  const theirs = await ref.texts();
  let same = 0;
  let maxConf = 0;
  for (let i = 0; i < files.length; i++) {
    const [r] = await rec.recognize(files[i], undefined, opts);
    if (r.text === theirs[i][0]) same++;
    maxConf = Math.max(maxConf, Math.abs(r.confidence - theirs[i][1]));
  }
  ref.quit();
  await rec.dispose();
  const per = (a) => median(a) / files.length;
  const res = {
    words: files.length, rounds,
    msPerWord: {
      dtrbOneAtATime: per(t.dtrbOne), craftTextOneAtATime: per(t.oursOne), dtrbBatched: per(t.dtrbBatch),
      craftTextBatched: per(t.oursBatch), dtrbDemoLoader: per(t.dtrbLoader),
    },
    speedup: { oneAtATime: per(t.dtrbOne) / per(t.oursOne), batched: per(t.dtrbBatch) / per(t.oursBatch), bestVsBest: Math.min(per(t.dtrbOne), per(t.dtrbBatch)) / Math.min(per(t.oursOne), per(t.oursBatch)) },
    craftTextStagesMsPerWord: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, per(v)])),
    parity: { identicalStrings: same, of: files.length, maxConfidenceDiff: maxConf },
    firstWord: { dtrb: [check.dtrb.text, check.dtrb.confidence], craftText: [check.ours.text, check.ours.confidence] },
  };
  if (values.json) { console.log(JSON.stringify(res)); return; }
  console.log(`${files.length} word crops, ${rounds} interleaved rounds, medians, single-threaded, same weights`);
  console.log(`                      one at a time   batched`);
  console.log(`DTRB demo.py (torch)  ${res.msPerWord.dtrbOneAtATime.toFixed(2).padStart(8)} ms     ${res.msPerWord.dtrbBatched.toFixed(2).padStart(6)} ms   per word`);
  console.log(`craft-text Recognizer ${res.msPerWord.craftTextOneAtATime.toFixed(2).padStart(8)} ms     ${res.msPerWord.craftTextBatched.toFixed(2).padStart(6)} ms   per word`);
  console.log(`speed-up              ${res.speedup.oneAtATime.toFixed(1).padStart(8)}x       ${res.speedup.batched.toFixed(1).padStart(6)}x    (best vs best ${res.speedup.bestVsBest.toFixed(1)}x)`);
  console.log(`DTRB demo.py as shipped (DataLoader, batch 192, --workers 4): ${res.msPerWord.dtrbDemoLoader.toFixed(2)} ms per word ` +
    `(${(res.msPerWord.dtrbDemoLoader / res.msPerWord.craftTextBatched).toFixed(1)}x craft-text batched)`);
  console.log(`craft-text one at a time, per word: ${Object.entries(res.craftTextStagesMsPerWord).map(([k, v]) => `${k} ${v.toFixed(2)} ms`).join(', ')}`);
  console.log(`parity on all crops: ${same}/${files.length} strings identical, max |confidence diff| ${maxConf.toExponential(2)}`);
  console.log(`first word: DTRB ${JSON.stringify(res.firstWord.dtrb)}, craft-text ${JSON.stringify(res.firstWord.craftText)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
