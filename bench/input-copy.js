#!/usr/bin/env node
// What the ownership rule costs (binding/input.h): the binding copies an input's bytes on the JS thread when a call
// starts, so a buffer detached or resized during the call is never read. Measures, per input size, the synchronous
// part of detect() (validation + scheduling + the copy: what blocks the event loop) and the whole call, for raw RGB
// pixels (in an ArrayBuffer: copied; in a SharedArrayBuffer: read in place) and an uncompressed BMP of the same image
// (the largest encoded form), next to a plain memcpy of the same bytes into memory already touched. With --compare DIST (a build of the code before the copy, e.g. from `git archive 845f15b`), the same cases
// run against it in a second child process, interleaved round by round, so the ratio is measured on the same machine
// state.
//
//   node bench/input-copy.js [--runs 15] [--compare /path/to/old/dist] [--json]
'use strict';
const path = require('node:path');
const { fork } = require('node:child_process');
const { parseArgs } = require('node:util');

const ROOT = path.join(__dirname, '..');
const SIZES = [[640, 480], [1920, 1080], [4000, 3000], [8000, 6000]];

function bmp(w, h) {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(54 + stride * h);
  b.fill(255, 54);
  b.write('BM', 0, 'latin1'); b.writeUInt32LE(b.length, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28);
  return b;
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

/** Child: one library build, one round of every case; reports the samples. */
async function child(dist, runs) {
  const { Detector } = require(dist);
  const detector = await Detector.create({ model: path.join(ROOT, 'test', 'models', 'craft-tiny.onnx'), threads: 1 });
  // A short detection (small canvas, no tiling) so the numbers are about the input, not the network.
  const opts = { canvasSize: 256, tiling: 'off', maxPixels: 100e6 };
  const results = {};
  for (const [w, h] of SIZES) {
    const raw = new Uint8Array(w * h * 3).fill(255);
    const shared = new Uint8Array(new SharedArrayBuffer(w * h * 3)).fill(255);
    const enc = bmp(w, h);
    for (const [kind, input, bytes] of [['raw', { data: raw, width: w, height: h, channels: 3 }, raw.length],
      ['raw (SharedArrayBuffer)', { data: shared, width: w, height: h, channels: 3 }, shared.length], ['bmp', enc, enc.length]]) {
      const sync = [], total = [], memcpy = [];
      const target = new Uint8Array(bytes); // memcpy into memory already touched: the copy alone, no page faults
      await detector.detect(input, opts); // warm-up
      for (let i = 0; i < runs; i++) {
        let t0 = performance.now();
        target.set(kind === 'bmp' ? enc : raw);
        memcpy.push(performance.now() - t0);
        t0 = performance.now();
        const p = detector.detect(input, opts);
        sync.push(performance.now() - t0);
        await p;
        total.push(performance.now() - t0);
      }
      results[`${kind} ${w}x${h}`] = { bytes, syncMs: median(sync), totalMs: median(total), memcpyMs: median(memcpy) };
    }
  }
  await detector.dispose();
  process.send(results);
}

function runChild(dist, runs) {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, ['--child', dist, String(runs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    p.on('message', resolve);
    p.on('exit', (code) => { if (code !== 0) reject(new Error(`child exited ${code}`)); });
  });
}

async function main() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, compare: { type: 'string' }, json: { type: 'boolean' } } });
  const runs = Number(values.runs);
  const builds = [['copy (this build)', path.join(ROOT, 'dist')]];
  if (values.compare) builds.push(['borrow (--compare)', path.resolve(values.compare)]);
  // Three rounds, builds alternating, each a fresh process; the median of the rounds' medians is reported.
  const rounds = {};
  for (let round = 0; round < 3; round++) {
    for (const [name, dist] of builds) {
      const r = await runChild(dist, runs);
      for (const [k, v] of Object.entries(r)) ((rounds[name] ??= {})[k] ??= []).push(v);
    }
  }
  const table = {};
  for (const [name, cases] of Object.entries(rounds)) {
    table[name] = {};
    for (const [k, vs] of Object.entries(cases)) {
      table[name][k] = { bytes: vs[0].bytes, syncMs: median(vs.map((v) => v.syncMs)), totalMs: median(vs.map((v) => v.totalMs)), memcpyMs: median(vs.map((v) => v.memcpyMs)) };
    }
  }
  if (values.json) { console.log(JSON.stringify(table)); return; }
  const [a, b] = Object.keys(table);
  console.log(`| input | MB | memcpy ms | detect() sync part ms: ${a}${b ? ` / ${b}` : ''} | whole call ms: ${a}${b ? ` / ${b}` : ''} |`);
  console.log('|---|---|---|---|---|');
  for (const k of Object.keys(table[a])) {
    const x = table[a][k], y = b ? table[b][k] : undefined;
    const f = (v) => v.toFixed(2);
    console.log(`| ${k} | ${(x.bytes / 1e6).toFixed(1)} | ${f(x.memcpyMs)} | ${f(x.syncMs)}${y ? ` / ${f(y.syncMs)}` : ''} | ${f(x.totalMs)}${y ? ` / ${f(y.totalMs)}` : ''} |`);
  }
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4])).catch((e) => { console.error(e); process.exit(1); });
else main().catch((e) => { console.error(e); process.exit(1); });
