#!/usr/bin/env node
// detect() end to end against a bare onnxruntime-node run of the same model on the same 768x768 input, interleaved
// in one process so machine noise hits both alike. Usage: node bench/overhead.js [--model m.onnx] [--runs 30]
//   [--threads 2] [--size 768] [--image file]   (run `npm run build` first)
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const ort = require('onnxruntime-node');
const { Detector } = require('../dist');
const { syntheticPage } = require('./synthetic-page');

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, runs: { type: 'string', default: '30' }, threads: { type: 'string', default: '2' },
    size: { type: 'string', default: '768' }, json: { type: 'boolean' },
    // Both sides get the same ONNX Runtime thread settings; spinning is onnxruntime-node's default, off is ours.
    spinning: { type: 'string', default: 'off' },
  },
});
const runs = Number(values.runs), threads = Number(values.threads), size = Number(values.size);
const modelPath = values.model ?? (fs.existsSync(path.join(__dirname, '..', 'models', 'craft-text-default.onnx'))
  ? path.join(__dirname, '..', 'models', 'craft-text-default.onnx') : path.join(__dirname, '..', 'test', 'models', 'craft-tiny.onnx'));

function normalize(rgb, w, h) {
  const mean = [0.485 * 255, 0.456 * 255, 0.406 * 255], std = [0.229 * 255, 0.224 * 255, 0.225 * 255];
  const out = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) out[c * w * h + i] = (rgb[i * 3 + c] - mean[c]) / std[c];
  return out;
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

(async () => {
  const rgb = syntheticPage(size, size, 7);
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: values.spinning === 'on' ? '1' : '0' } } },
  });
  const tensor = new ort.Tensor('float32', normalize(rgb, size, size), [1, 3, size, size]);
  const detector = await Detector.create({ model: modelPath, threads, spinning: values.spinning === 'on' });
  const input = { data: rgb, width: size, height: size, channels: 3 };
  const opts = { canvasSize: size, magRatio: 1 }; // no resize: the network sees exactly size x size

  const outName = session.outputNames[0];
  const bare = [], full = [], stages = { decode: [], preprocess: [], inference: [], postprocess: [] };
  let words = 0;
  for (let i = 0; i < 3; i++) { await session.run({ [session.inputNames[0]]: tensor }, [outName]); await detector.detect(input, opts); }
  for (let i = 0; i < runs; i++) {
    // Alternate the order each round so neither side always runs on a warmer cache.
    const order = i % 2 === 0 ? ['bare', 'full'] : ['full', 'bare'];
    for (const which of order) {
      const t0 = process.hrtime.bigint();
      if (which === 'bare') {
        await session.run({ [session.inputNames[0]]: tensor }, [outName]);
        bare.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } else {
        const r = await detector.detect(input, opts);
        full.push(Number(process.hrtime.bigint() - t0) / 1e6);
        for (const k of Object.keys(stages)) stages[k].push(r.timings[k]);
        words = r.words.length;
      }
    }
  }
  const result = {
    model: path.relative(process.cwd(), modelPath), size, runs, threads, spinning: values.spinning, words,
    machine: `${os.cpus()[0].model} x${os.cpus().length}`, node: process.version,
    onnxruntime: detector.info.onnxruntime.version,
    bareMedianMs: median(bare), detectMedianMs: median(full),
    bareP95Ms: pct(bare, 0.95), detectP95Ms: pct(full, 0.95),
    overheadPct: (median(full) / median(bare) - 1) * 100,
    stageMedianMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)])),
  };
  await detector.dispose();
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`model ${result.model}, ${size}x${size}, ${threads} threads, spinning ${values.spinning}, ${runs} interleaved runs, ${words} words`);
    console.log(`bare onnxruntime-node run: median ${result.bareMedianMs.toFixed(2)} ms (p95 ${result.bareP95Ms.toFixed(2)})`);
    console.log(`craft-text detect():       median ${result.detectMedianMs.toFixed(2)} ms (p95 ${result.detectP95Ms.toFixed(2)})`);
    console.log(`overhead: ${result.overheadPct.toFixed(1)} %   stages (median ms): ${JSON.stringify(result.stageMedianMs)}`);
  }
})();
