#!/usr/bin/env node
// End to end, Python reference vs craft-text, on the same images, model, thresholds and ONNX Runtime thread settings.
// The Python side is bench/reference_pipeline.py (CRAFT-pytorch's test.py pipeline on onnxruntime); the craft-text
// side is detect() on the file path, one call at a time, in this process. Rounds alternate which side runs first so
// machine noise hits both alike; each round runs every image --runs times per side (after a warm-up run).
//
//   node bench/e2e.js [--model m.onnx] [--runs 5] [--rounds 3] [--threads 0] [--python python3] [--poly]
//                     [--dataset dir --limit n]... [--json] [image...]
//
// Default images: examples/images/*.png. --dataset/--limit add the first n images of a dataset folder (repeatable,
// paired in order). Prints per-image medians, the stage medians of both sides, the end-to-end ratio
// (Python / craft-text) and a parity check of the boxes (count and largest corner difference in pixels).
// Run `npm run build` first.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Detector } = require('../dist');
const { loadDataset } = require('../dist/eval');

const ROOT = path.join(__dirname, '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string' }, runs: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '0' }, python: { type: 'string', default: 'python3' }, poly: { type: 'boolean' },
    dataset: { type: 'string', multiple: true }, limit: { type: 'string', multiple: true }, json: { type: 'boolean' },
  },
});
const runs = Number(values.runs), rounds = Number(values.rounds), threads = Number(values.threads);
const defaultModel = path.join(ROOT, 'models', 'craft-text-default.onnx');
const model = path.resolve(values.model ?? (fs.existsSync(defaultModel) ? defaultModel : path.join(ROOT, 'test', 'models', 'craft-tiny.onnx')));
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const STAGES = ['decode', 'preprocess', 'inference', 'postprocess'];

function runPython(images) {
  const args = [path.join(__dirname, 'reference_pipeline.py'), '--model', model, '--runs', String(runs), '--warmup', '1',
    '--threads', String(threads), '--json', ...(values.poly ? ['--poly'] : []), ...images];
  return new Promise((resolve, reject) => {
    const child = spawn(values.python, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${values.python} exited with ${code}`))));
  });
}

(async () => {
  let images = positionals.map((p) => path.resolve(p));
  const datasets = values.dataset ?? [];
  for (let i = 0; i < datasets.length; i++) {
    const n = Number((values.limit ?? [])[i] ?? 5);
    images.push(...(await loadDataset(datasets[i])).slice(0, n).map((s) => s.imagePath));
  }
  if (images.length === 0) {
    const dir = path.join(ROOT, 'examples', 'images');
    images = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).map((f) => path.join(dir, f));
  }
  const detector = await Detector.create({ model, threads });
  const options = values.poly ? { polygons: true } : {};
  const py = images.map(() => ({ total: [], decode: [], preprocess: [], inference: [], postprocess: [] }));
  const js = images.map(() => ({ total: [], decode: [], preprocess: [], inference: [], postprocess: [] }));
  let pyEnv, pyLast, jsLast = [];

  const runNode = async () => {
    for (let i = 0; i < images.length; i++) {
      await detector.detect(images[i], options); // warm-up, as the Python side
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        const res = await detector.detect(images[i], options);
        js[i].total.push(performance.now() - t0);
        for (const k of STAGES) js[i][k].push(res.timings[k]);
        jsLast[i] = res;
      }
    }
  };
  const runPy = async () => {
    const out = await runPython(images);
    pyEnv = out.environment;
    pyLast = out.images;
    out.images.forEach((im, i) => { for (const k of ['total', ...STAGES]) py[i][k].push(...im.runs[k]); });
  };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? [runPy, runNode] : [runNode, runPy]) await side();
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
  const info = detector.info;
  await detector.dispose();

  const rows = images.map((file, i) => {
    // Parity: same count, then the largest corner difference of box k vs box k (both keep component order).
    const a = pyLast[i].boxes, b = jsLast[i].words.map((w) => w.box);
    let maxDiff = 0;
    if (a.length === b.length) {
      for (let k = 0; k < a.length; k++) for (let c = 0; c < 4; c++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[k][c][0] - b[k][c][0]), Math.abs(a[k][c][1] - b[k][c][1]));
      }
    }
    const pyMed = median(py[i].total), jsMed = median(js[i].total);
    return {
      image: path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file),
      size: `${pyLast[i].width}x${pyLast[i].height}`, network: `${pyLast[i].networkWidth}x${pyLast[i].networkHeight}`,
      pythonMs: pyMed, craftTextMs: jsMed, ratio: pyMed / jsMed,
      pythonStages: Object.fromEntries(STAGES.map((k) => [k, median(py[i][k])])),
      craftTextStages: Object.fromEntries(STAGES.map((k) => [k, median(js[i][k])])),
      words: { python: a.length, craftText: b.length }, maxCornerDiffPx: a.length === b.length ? maxDiff : null,
    };
  });
  const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
  const stageSum = (side) => Object.fromEntries(STAGES.map((k) => [k, rows.reduce((s, r) => s + r[side][k], 0)]));
  const report = {
    model: path.relative(process.cwd(), model), runs, rounds, samplesPerImage: runs * rounds, threads,
    machine: { cpu: os.cpus()[0].model, logicalCpus: os.cpus().length, loadAverage: os.loadavg() },
    node: process.version, onnxruntimeNode: info.onnxruntime.version, python: pyEnv,
    images: rows,
    totals: {
      pythonMs: sum('pythonMs'), craftTextMs: sum('craftTextMs'), ratio: sum('pythonMs') / sum('craftTextMs'),
      pythonStagesMs: stageSum('pythonStages'), craftTextStagesMs: stageSum('craftTextStages'),
      geometricMeanRatio: Math.exp(rows.reduce((s, r) => s + Math.log(r.ratio), 0) / rows.length),
    },
  };
  if (values.json) { console.log(JSON.stringify(report, null, 1)); return; }
  const f = (v) => v.toFixed(1);
  console.log(`model ${report.model}, ${images.length} images, ${runs * rounds} timed runs per image and side, threads ${threads || 'default'}`);
  console.log(`machine ${report.machine.cpu} x${report.machine.logicalCpus}, load ${report.machine.loadAverage.map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`python ${pyEnv.python}, numpy ${pyEnv.numpy}, opencv-python ${pyEnv.opencv}, onnxruntime ${pyEnv.onnxruntime} | node ${process.version}, onnxruntime ${info.onnxruntime.version}`);
  console.log('image | size -> network | python ms | craft-text ms | ratio | words py/ct | max corner diff px');
  for (const r of rows) {
    console.log(`${r.image} | ${r.size} -> ${r.network} | ${f(r.pythonMs)} | ${f(r.craftTextMs)} | ${r.ratio.toFixed(2)} | ${r.words.python}/${r.words.craftText} | ${r.maxCornerDiffPx === null ? 'count differs' : r.maxCornerDiffPx.toFixed(3)}`);
  }
  const t = report.totals;
  console.log(`sum of medians: python ${f(t.pythonMs)} ms, craft-text ${f(t.craftTextMs)} ms, ratio ${t.ratio.toFixed(2)} (geometric mean of per-image ratios ${t.geometricMeanRatio.toFixed(2)})`);
  console.log(`stages, sum of medians (ms): python ${STAGES.map((k) => `${k} ${f(t.pythonStagesMs[k])}`).join(', ')}`);
  console.log(`                             craft-text ${STAGES.map((k) => `${k} ${f(t.craftTextStagesMs[k])}`).join(', ')}`);
})().catch((err) => { console.error(err); process.exit(1); });
