#!/usr/bin/env node
// Where a one-word recognize() call's time goes besides inference (issue 13): per call, end to end, against a bare
// onnxruntime-node run of the same model on an already pre-processed tensor, interleaved in one process. Two
// Recognizers on the same model: the scheduler's default path (a lone request runs prepare + infer in one native
// call, `prepareInfer`) and the three-stage path (prepare -> infer -> finish, forced by hiding prepareInfer). Native
// stage calls are timed as JS sees them (call to settlement) by wrapping the binding's methods: `hops` is what they
// add to the native work they report (thread-pool queueing, hand-over to and from the JS thread), `js` the rest of
// the call (validation, scheduler, promise plumbing).
//
//   nice node bench/recognize-overhead.js [--model m.onnx] [--dir /tmp/str-bench] [--rounds 5] [--threads 1] [--json]
// --dir: the word crops of bench/recognize-reference.js (<dir>/words/*.png). Default model: the bundled INT8 recogniser.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const ort = require('onnxruntime-node');
const { Recognizer } = require('../dist');
const { binding } = require('../dist/binding');

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(__dirname, '..', 'models', 'craft-text-recognizer-int8.onnx') },
    dir: { type: 'string', default: '/tmp/str-bench' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    json: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds), threads = Number(values.threads);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const STAGES = ['prepare', 'infer', 'prepareInfer', 'finish'];

// JS-visible time of each native stage call (call -> promise settled), summed per recognize() call
const seen = Object.fromEntries(STAGES.map((k) => [k, 0]));
function wrapStages(native, fused) {
  for (const k of STAGES) {
    const orig = native[k];
    if (k === 'prepareInfer' && !fused) {
      Object.defineProperty(native, k, { value: undefined });
      continue;
    }
    // N-API methods are read-only on the prototype: shadow them on the instance
    Object.defineProperty(native, k, {
      value: function (...args) {
        const t0 = performance.now();
        const p = orig.apply(this, args);
        const end = () => { seen[k] += performance.now() - t0; };
        p.then(end, end);
        return p;
      },
    });
  }
}

async function recognizer(fused) {
  const b = binding();
  const create = b.createRecognizer;
  b.createRecognizer = async (...a) => { const n = await create.apply(b, a); wrapStages(n, fused); return n; };
  try {
    return await Recognizer.create({ model: values.model, threads });
  } finally {
    b.createRecognizer = create;
  }
}

(async () => {
  const files = fs.readdirSync(path.join(values.dir, 'words')).filter((f) => f.endsWith('.png')).sort()
    .map((f) => path.join(values.dir, 'words', f));
  const recs = { fused: await recognizer(true), stages: await recognizer(false) };
  const session = await ort.InferenceSession.create(values.model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, set_denormal_as_zero: '1' } },
  });
  const { imgH, imgW } = recs.fused.info;
  const x = new ort.Tensor('float32', new Float32Array(imgH * imgW).map((_, i) => ((i * 7919) % 255) / 127.5 - 1), [1, 1, imgH, imgW]);
  const feeds = { [session.inputNames[0]]: x };
  const opts = { rotationRetryThreshold: 0, marginRetryThreshold: 0, stretchRetryThreshold: 0 };

  const sides = ['bare', 'fused', 'stages'];
  const keys = ['total', 'native', 'inference', ...STAGES];
  const t = Object.fromEntries(sides.map((s) => [s, Object.fromEntries(keys.map((k) => [k, []]))]));
  for (let r = -1; r < rounds; r++) { // round -1 warms up
    const acc = Object.fromEntries(sides.map((s) => [s, Object.fromEntries(keys.map((k) => [k, 0]))]));
    for (let i = 0; i < files.length; i++) {
      for (let j = 0; j < sides.length; j++) { // the order rotates per word
        const side = sides[(i + j + Math.max(r, 0)) % sides.length];
        for (const k of STAGES) seen[k] = 0;
        const t0 = performance.now();
        if (side === 'bare') {
          await session.run(feeds);
          acc.bare.total += performance.now() - t0;
          continue;
        }
        const d = await recs[side].recognizeDetailed(files[i], undefined, opts);
        const a = acc[side];
        a.total += performance.now() - t0;
        const tm = d.timings;
        a.native += tm.decode + tm.preprocess + tm.inference + tm.postprocess;
        a.inference += tm.inference;
        for (const k of STAGES) a[k] += seen[k];
      }
    }
    if (r >= 0) for (const s of sides) for (const k of keys) t[s][k].push(acc[s][k] / files.length);
  }
  for (const rec of Object.values(recs)) await rec.dispose();
  const m = Object.fromEntries(sides.map((s) => [s, Object.fromEntries(keys.map((k) => [k, median(t[s][k])]))]));
  const split = (s) => {
    const calls = STAGES.reduce((a, k) => a + m[s][k], 0);
    return { total: m[s].total, inference: m[s].inference, otherNative: m[s].native - m[s].inference,
      hops: calls - m[s].native, js: m[s].total - calls };
  };
  const res = { model: path.basename(values.model), words: files.length, rounds, threads, bareRun: m.bare.total,
    fused: split('fused'), stages: split('stages'), stageCallsMs: { fused: m.fused, stages: m.stages } };
  if (values.json) { console.log(JSON.stringify(res)); return; }
  const f = (v) => v.toFixed(3).padStart(7);
  console.log(`${res.model}, ${files.length} words, ${rounds} rounds (medians), ${threads} thread(s); ms per word, recognize(file)`);
  console.log(`bare onnxruntime-node run (pre-processed tensor): ${f(m.bare.total)}`);
  console.log('path                          total  inference  other native  thread hops     JS');
  for (const s of ['stages', 'fused']) {
    const x = res[s];
    console.log(`${s === 'fused' ? 'prepareInfer -> finish      ' : 'prepare -> infer -> finish  '}${f(x.total)}    ${f(x.inference)}       ${f(x.otherNative)}      ${f(x.hops)} ${f(x.js)}`);
  }
})();
