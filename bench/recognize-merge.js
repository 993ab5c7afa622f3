#!/usr/bin/env node
// Merged recognize() calls, side by side in one run: a server that sends one word crop per call, N calls at once,
// against the same Recognizer model with merging off (`batch: { maxSize: 1 }`, every call its own inference run, as
// before merging existed), and one call holding all N crops (the most merging can give). Per model (default: the
// bundled recogniser in INT8 and FP32), every round runs all three in rotating order, ms per word end to end:
//   burst:  N recognize(crop) calls started together (Promise.all), merged vs not;
//   stream: C clients each sending its next crop as soon as its previous call settles (N calls in all), merged vs not;
//   one call: the N crops stacked on one image, one recognize() with their boxes as regions.
// Also the process's CPU time per word (user + system: what a saturated server pays; less sensitive to other load on
// the machine than wall time), network runs per word (stats().networkRuns) and whether merged calls read exactly what
// unmerged ones read (one call with margin 0: the crops' own pixels, as a whole-image call reads them).
// Crops: the first N ICDAR 2015 word crops (../shared/data/icdar2015_words_train), else the test fixtures repeated;
// --crops <dir>: the first N images of a folder (e.g. bench/recognize-reference.js's <dir>/words, with its models).
//
//   nice node bench/recognize-merge.js [--model a.onnx]... [--words 39] [--crops dir] [--clients 8] [--rounds 15] [--threads 0,1]
//                                      [--concurrency 1] [--rotation-retry t] [--json]   (npm run build first)
// --threads: a list; 0 = the Recognizer's default (ONNX Runtime's: one intra-op thread per core).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { Recognizer } = require('../dist');

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: {
      type: 'string', multiple: true,
      default: [path.join(ROOT, 'models', 'craft-text-recognizer-int8.onnx'), path.join(ROOT, 'models', 'craft-text-recognizer.onnx')],
    },
    words: { type: 'string', default: '39' },
    crops: { type: 'string' },
    'rotation-retry': { type: 'string' },
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '15' },
    threads: { type: 'string', default: '0,1' },
    concurrency: { type: 'string', default: '1' },
    json: { type: 'boolean' },
  },
});
const N = Number(values.words), C = Number(values.clients), rounds = Number(values.rounds);
const threadList = values.threads.split(',').map(Number), concurrency = Number(values.concurrency);
// every call's options (--rotation-retry 0: no retries, as bench/recognize-reference.js reads)
const OPTS = values['rotation-retry'] === undefined ? {} : { rotationRetryThreshold: Number(values['rotation-retry']) };
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function crops() {
  const dir = values.crops ?? path.join(ROOT, '..', 'shared', 'data', 'icdar2015_words_train', 'images');
  let files;
  if (fs.existsSync(dir)) {
    files = fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().slice(0, N).map((f) => path.join(dir, f));
  } else {
    const fx = path.join(ROOT, 'test', 'fixtures', 'recognition');
    const five = fs.readdirSync(fx).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(fx, f));
    files = Array.from({ length: N }, (_, i) => five[i % five.length]);
  }
  const source = values.crops ? `crops of ${values.crops}` : fs.existsSync(dir) ? 'ICDAR 2015 word crops' : 'test fixtures';
  return { files, bytes: files.map((f) => fs.readFileSync(f)), source };
}

/**
 * The crops stacked top to bottom on one image (left-aligned, PIL: bench tooling, as bench/recognize-reference.py's
 * mosaic) and their integer boxes, so one call reads the same pixels; undefined without python3 + PIL.
 */
function mosaicOf(files) {
  const out = path.join(os.tmpdir(), `craft-text-merge-mosaic-${process.pid}.png`);
  const py = [
    'import json, sys', 'from PIL import Image',
    'ims = [Image.open(f).convert("RGB") for f in sys.argv[2:]]',
    'c = Image.new("RGB", (max(i.width for i in ims), sum(i.height for i in ims)), (128, 128, 128))',
    'boxes, y = [], 0',
    'for i in ims:\n  c.paste(i, (0, y)); boxes.append([0, y, i.width, y + i.height]); y += i.height',
    'c.save(sys.argv[1]); print(json.dumps(boxes))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py, out, ...files], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const regions = JSON.parse(r.stdout).map(([x0, y0, x1, y1]) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]);
  const input = fs.readFileSync(out);
  fs.rmSync(out, { force: true });
  return { input, regions };
}

async function burst(rec, bytes) {
  const t0 = performance.now();
  const out = await Promise.all(bytes.map((b) => rec.recognize(b, undefined, OPTS)));
  return { ms: performance.now() - t0, words: out.map((r) => r[0]) };
}

async function stream(rec, bytes) {
  const words = new Array(bytes.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(C, bytes.length) }, async () => {
    while (next < bytes.length) {
      const i = next++;
      [words[i]] = await rec.recognize(bytes[i], undefined, OPTS);
    }
  }));
  return { ms: performance.now() - t0, words };
}

async function main() {
  const { files, bytes, source } = crops();
  const mosaic = mosaicOf(files);
  const report = { words: files.length, clients: C, rounds, concurrency, source, models: [] };
  for (const model of values.model) for (const threads of threadList) {
    const merged = await Recognizer.create({ model, threads, concurrency });
    const single = await Recognizer.create({ model, threads, concurrency, batch: { maxSize: 1 } });
    const cases = {
      'burst merged': () => burst(merged, bytes),
      'burst unmerged': () => burst(single, bytes),
      'stream merged': () => stream(merged, bytes),
      'stream unmerged': () => stream(single, bytes),
    };
    if (mosaic) cases['one call'] = async () => {
      const t0 = performance.now();
      const words = await merged.recognize(mosaic.input, mosaic.regions, { ...OPTS, margin: 0 });
      return { ms: performance.now() - t0, words };
    };
    const names = Object.keys(cases);
    const times = Object.fromEntries(names.map((n) => [n, []]));
    const cpu = Object.fromEntries(names.map((n) => [n, []]));
    const runs = Object.fromEntries(names.map((n) => [n, []]));
    const last = {};
    for (let round = -1; round < rounds; round++) { // round -1 warms up
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + Math.max(0, round)) % names.length];
        const rec = name.includes('unmerged') ? single : merged;
        const before = rec.stats().networkRuns.runs;
        const c0 = process.cpuUsage();
        const r = await cases[name]();
        const c = process.cpuUsage(c0);
        if (round < 0) continue;
        times[name].push(r.ms / files.length);
        cpu[name].push((c.user + c.system) / 1000 / files.length);
        runs[name].push((rec.stats().networkRuns.runs - before) / files.length);
        last[name] = r.words;
      }
    }
    const same = (a, b) => {
      let texts = 0, maxConf = 0;
      a.forEach((w, i) => {
        if (w.text === b[i].text) texts++;
        maxConf = Math.max(maxConf, Math.abs(w.confidence - b[i].confidence));
      });
      return { texts, maxConfidenceDiff: maxConf };
    };
    const row = {
      model: path.basename(model),
      threads,
      msPerWord: Object.fromEntries(names.map((n) => [n, median(times[n])])),
      cpuMsPerWord: Object.fromEntries(names.map((n) => [n, median(cpu[n])])),
      runsPerWord: Object.fromEntries(names.map((n) => [n, median(runs[n])])),
      ratio: {
        burst: median(times['burst unmerged']) / median(times['burst merged']),
        stream: median(times['stream unmerged']) / median(times['stream merged']),
        burstCpu: median(cpu['burst unmerged']) / median(cpu['burst merged']),
        streamCpu: median(cpu['stream unmerged']) / median(cpu['stream merged']),
      },
      sameAsUnmerged: { burst: same(last['burst merged'], last['burst unmerged']), stream: same(last['stream merged'], last['burst unmerged']) },
    };
    if (mosaic) row.sameAsUnmerged['one call'] = same(last['one call'], last['burst unmerged']);
    report.models.push(row);
    await merged.dispose();
    await single.dispose();
  }
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`${report.words} ${source}, ${C} clients for stream, concurrency ${concurrency}, median of ${rounds} rounds, ms per word end to end`);
  for (const m of report.models) {
    console.log(`\n${m.model}, threads ${m.threads}${m.threads === 0 ? ' (the default: ONNX Runtime\'s, one per core)' : ''}`);
    for (const [n, ms] of Object.entries(m.msPerWord)) {
      console.log(`  ${n.padEnd(16)} ${ms.toFixed(2)} ms/word  ${m.cpuMsPerWord[n].toFixed(2)} CPU ms/word  ${m.runsPerWord[n].toFixed(2)} runs/word`);
    }
    console.log(`  unmerged / merged: burst ${m.ratio.burst.toFixed(2)}x (CPU ${m.ratio.burstCpu.toFixed(2)}x), stream ${m.ratio.stream.toFixed(2)}x (CPU ${m.ratio.streamCpu.toFixed(2)}x)`);
    for (const [n, s] of Object.entries(m.sameAsUnmerged)) {
      console.log(`  ${n} reads as unmerged: ${s.texts}/${report.words} strings, confidences within ${s.maxConfidenceDiff.toExponential(2)}`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
