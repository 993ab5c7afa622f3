#!/usr/bin/env node
// Inference time of two CRAFT ONNX models on the same 768x768 input, interleaved in one process (issue 5's speed
// target: the default model against the full-size network). Usage:
//   node bench/model_speed.js <a.onnx> <b.onnx> [--runs 10] [--threads 2] [--size 768]
'use strict';
const { parseArgs } = require('node:util');
const ort = require('onnxruntime-node');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '10' }, threads: { type: 'string', default: '2' }, size: { type: 'string', default: '768' } },
});
const runs = Number(values.runs), size = Number(values.size);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
(async () => {
  const sessions = [];
  for (const p of positionals) {
    sessions.push(await ort.InferenceSession.create(p, { intraOpNumThreads: Number(values.threads), interOpNumThreads: 1 }));
  }
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 2;
  const x = new ort.Tensor('float32', data, [1, 3, size, size]);
  const times = sessions.map(() => []);
  for (let r = -1; r < runs; r++) {
    for (let k = 0; k < sessions.length; k++) {
      const s = sessions[(k + Math.max(r, 0)) % sessions.length];
      const idx = sessions.indexOf(s);
      const t0 = process.hrtime.bigint();
      await s.run({ [s.inputNames[0]]: x }, [s.outputNames[0]]);
      if (r >= 0) times[idx].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  positionals.forEach((p, i) => console.log(`${p}: median ${median(times[i]).toFixed(1)} ms at ${size}x${size}`));
  if (positionals.length === 2) console.log(`ratio ${(median(times[1]) / median(times[0])).toFixed(2)}x (second / first)`);
})();
