#!/usr/bin/env node
// The bundled recogniser's logits for every word of a recognition dataset (labels.tsv crops or gt.jsonl pages), read
// by the runtime with its defaults (crops, retries: the logits of the reading kept), for tools/lm/ (the decoders are
// simulated offline on them: fusion changes neither the crops nor the retries, which go by the greedy confidence).
//   node tools/lm/dump_logits.js <dataset-dir> <out-prefix> [--recognizer r.onnx] [--threads 1]
// Writes <out-prefix>.f32 (every word's T x K float32 logits, one after the other) and <out-prefix>.jsonl (one line
// per word: { gt, pred, confidence, T, K, offset } with offset in floats).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Recognizer } = require('../../dist');
const { loadRecognitionDataset, toRegion } = require('../../dist/eval/recognition');

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, d) => { const i = args.indexOf(name); if (i < 0) return d; const v = args[i + 1]; args.splice(i, 2); return v; };
  const model = opt('--recognizer', undefined);
  const threads = Number(opt('--threads', '1'));
  const [dir, out] = args;
  if (!dir || !out) throw new Error('usage: dump_logits.js <dataset-dir> <out-prefix> [--recognizer r.onnx] [--threads 1]');
  const samples = await loadRecognitionDataset(dir);
  const rec = await Recognizer.create({ ...(model ? { model } : {}), threads, parallelBatches: 1 });
  const f32 = fs.openSync(out + '.f32', 'w');
  const lines = [];
  let offset = 0;
  try {
    for (const [n, x] of samples.entries()) {
      const words = await rec.recognize(x.imagePath, x.regions?.map(toRegion), { logits: true });
      words.forEach((w, i) => {
        const K = rec.info.charset.length + 1;
        const l = w.logits ?? new Float32Array(0);
        const T = l.length / K;
        fs.writeSync(f32, Buffer.from(l.buffer, l.byteOffset, l.byteLength));
        lines.push(JSON.stringify({ gt: x.texts[i], pred: w.text, confidence: w.confidence, T, K, offset }));
        offset += l.length;
      });
      if (n % 500 === 0) process.stderr.write(`${n}/${samples.length}\r`);
    }
  } finally {
    fs.closeSync(f32);
    await rec.dispose();
  }
  fs.writeFileSync(out + '.jsonl', lines.join('\n') + '\n');
  process.stderr.write(`${lines.length} words -> ${out}.{f32,jsonl}\n`);
}
main().catch((e) => { console.error(e); process.exit(1); });
