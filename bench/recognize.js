#!/usr/bin/env node
// Recognition speed, side by side in one process (issue 13):
//  A. per-word time of a CRNN-sized recogniser on the ~180 word boxes of a dense form page: one recognize() call for
//     all words (crops batched by padded width) against one call per word, and against one call with batchSize 1
//     (the same native path, one crop per run); the crop stage per word with crops fitted to the ink and at the box;
//  B. ocr.read() of the page with the default detector and each recogniser (one detector shared; recognisers and
//     settings interleaved per round): detection ms against recognition ms, with the defaults (the 180° retry, the
//     split-word join, ink-fitted crops), without the join (join: false), with the margin retry too, with crops at the
//     box (inkCrop: false), with an allowlist or a blocklist, and with no retries and no join.
//     The recognition stage split (crops, runs, decoding) is of the words without the join's reads.
//
//   node bench/recognize.js [--model crnn.onnx]... [--ocr-recognizer rec.onnx]... [--stand-in crnn-pad.onnx]
//                           [--page page.png] [--rounds 3] [--read-only] [--modes defaults,off]
//                           [--create '{"threads":2,"parallelBatches":1}']... [--json]
//
// --model (repeatable) defaults to a full-size random DTRB CRNN (make it with
//   python3 tools/str_torch/export.py --kind crnn -o /tmp/crnn-full.onnx);
// --ocr-recognizer (repeatable) defaults to the bundled recognisers (models/craft-text-recognizer.onnx and its -int8)
//   when installed, else
//   --stand-in: a same-size random CRNN in its contract (default /tmp/crnn-full-pad.onnx, made with
//   python3 tools/str_torch/export.py --kind crnn --printable --pad -o /tmp/crnn-full-pad.onnx).
// --read-only skips A; --modes picks B's settings (default: all four, by the names printed); --create (repeatable)
// reads with each recogniser created with each of these Recognizer.create() options too (default: only '{}', the
// defaults), interleaved like the rest: before/after runtime settings in one run.
// The page is the densest FUNSD training page near 180 words (../shared/data/funsd_train) with its ground-truth word
// boxes; without the data, a synthetic page whose boxes come from the detector. Run `npm run build` first.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { Detector, Ocr, Recognizer, decodeImage } = require('../dist');
const { syntheticPage } = require('./synthetic-page');

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: ['/tmp/crnn-full.onnx'] },
    'ocr-recognizer': { type: 'string', multiple: true },
    'stand-in': { type: 'string', default: '/tmp/crnn-full-pad.onnx' },
    page: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'read-only': { type: 'boolean' },
    modes: { type: 'string' },
    create: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ROOT = path.join(__dirname, '..');
const FUNSD = path.join(ROOT, '..', 'shared', 'data', 'funsd_train');

function funsdPage() {
  if (values.page || !fs.existsSync(path.join(FUNSD, 'gt.jsonl'))) return undefined;
  let best;
  for (const line of fs.readFileSync(path.join(FUNSD, 'gt.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const d = JSON.parse(line);
    const words = d.words.filter((w) => !w.ignore && w.points.length === 4);
    if (!best || Math.abs(words.length - 180) < Math.abs(best.words.length - 180)) best = { image: path.join(FUNSD, d.image), words };
  }
  return { image: best.image, regions: best.words.map((w) => w.points), source: `FUNSD ${path.basename(best.image)}` };
}

async function page() {
  const f = funsdPage();
  if (f) return f;
  const image = values.page ?? { data: syntheticPage(1000, 1300, 7), width: 1000, height: 1300, channels: 3 };
  const detector = await Detector.create();
  const { words } = await detector.detect(image);
  await detector.dispose();
  return { image, regions: words.map((w) => w.box), source: values.page ?? 'synthetic 1000x1300 page' };
}

(async () => {
  const p = await page();
  const image = await decodeImage(p.image);
  const out = { page: p.source, words: p.regions.length, width: image.width, height: image.height };

  // ---- A: batched vs one at a time -------------------------------------------------------------------------------
  out.perWord = [];
  for (const modelPath of values['read-only'] ? [] : values.model) {
    const rec = await Recognizer.create({ model: modelPath });
    // the same crops and runs in every mode
    const exact = { rotationRetryThreshold: 0, marginRetryThreshold: 0, orientationRetryThreshold: 0, stretchRetryThreshold: 0 };
    const modes = {
      batched: async () => rec.recognize(image, p.regions, exact),
      nativeBatch1: async () => rec.recognize(image, p.regions, { ...exact, batchSize: 1 }),
      perCall: async () => { for (const r of p.regions) await rec.recognize(image, [r], exact); },
    };
    const times = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
    await modes.batched(); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const [k, fn] of Object.entries(modes)) {
        const t0 = performance.now();
        await fn();
        times[k].push(performance.now() - t0);
      }
    }
    const detail = await rec.recognizeDetailed(image, p.regions, exact);
    // The crop stage (planning, the ink fit, crops, PIL resize) with crops fitted to the ink and at the box.
    const crops = { ink: [], box: [] };
    for (let r = 0; r < Math.max(rounds, 5); r++) {
      for (const k of r % 2 ? ['box', 'ink'] : ['ink', 'box']) {
        crops[k].push((await rec.recognizeDetailed(image, p.regions, { ...exact, inkCrop: k === 'ink' })).timings.preprocess);
      }
    }
    const w = {
      model: `${rec.info.name} (${path.basename(modelPath)}, ${rec.info.resize}, imgH ${rec.info.imgH})`,
      batchedMs: median(times.batched) / p.regions.length,
      oneAtATimeMs: median(times.perCall) / p.regions.length,
      batchSize1Ms: median(times.nativeBatch1) / p.regions.length,
      runsBatched: detail.runs,
      stagesBatchedMs: detail.timings,
      cropStageMs: { inkCrop: median(crops.ink) / p.regions.length, boxCrop: median(crops.box) / p.regions.length },
    };
    w.speedup = w.oneAtATimeMs / w.batchedMs;
    out.perWord.push(w);
    await rec.dispose();
  }

  // ---- B: ocr.read() of the page ---------------------------------------------------------------------------------
  const bundled = ['craft-text-recognizer.onnx', 'craft-text-recognizer-int8.onnx'].map((f) => path.join(ROOT, 'models', f))
    .filter((f) => fs.existsSync(f));
  const recModels = values['ocr-recognizer'] ?? (bundled.length ? bundled : [values['stand-in']]);
  const detector = await Detector.create();
  const ocrs = [], labels = [];
  const creates = values.create ?? ['{}'];
  for (const m of recModels) {
    for (const c of creates) {
      ocrs.push(await Ocr.create({ detector, recognizer: { ...JSON.parse(c), model: m } }));
      labels.push(path.basename(m) + (c === '{}' ? '' : ` ${c}`));
    }
  }
  out.read = [];
  // The read() settings compared, interleaved per round (the machine is noisy: compare within a round):
  // 'defaults' = the 180° retry, the split-word join and crops fitted to the ink; 'no join' = the defaults with join:
  // false (the 180° retry only); 'margin retry too' = the defaults + marginRetryThreshold 0.2; 'box crop' = the
  // defaults with inkCrop: false (crops at the box + margin); 'no orientation retry' = the defaults with
  // orientationRetryThreshold 0; 'no vertical retry' = the defaults with verticalRetry: false; 'contrast retry' = the
  // defaults + contrastRetryThreshold 0.1 (EasyOCR's contrast_ths); 'no stretch retry' = the defaults with
  // stretchRetryThreshold 0; 'blocklist' = the defaults with one character blocked ('~': the mask's own cost, nearly
  // the same readings); 'digits' = the defaults with allowlist '0123456789' (what an amounts-only reading costs,
  // retries included: most words then read doubtfully); 'greedy' / 'beam' = the defaults decoded greedily / by the
  // prefix beam search without the language model (the bundled recognisers' default: beam + the character LM);
  // 'off' = no retries, no join.
  const MODES = {
    defaults: {}, 'no join': { join: false }, 'margin retry too': { recognize: { marginRetryThreshold: 0.2 } },
    'box crop': { recognize: { inkCrop: false } },
    'no orientation retry': { recognize: { orientationRetryThreshold: 0 } },
    'no vertical retry': { recognize: { verticalRetry: false } },
    'contrast retry': { recognize: { contrastRetryThreshold: 0.1 } },
    'no stretch retry': { recognize: { stretchRetryThreshold: 0 } },
    blocklist: { recognize: { blocklist: '~' } }, digits: { recognize: { allowlist: '0123456789' } },
    greedy: { recognize: { decoder: 'greedy' } }, beam: { recognize: { decoder: 'beam', languageModel: false } },
    off: { join: false, recognize: { rotationRetryThreshold: 0, marginRetryThreshold: 0, orientationRetryThreshold: 0, contrastRetryThreshold: 0, stretchRetryThreshold: 0, verticalRetry: false } },
  };
  const picked = values.modes?.split(',');
  for (const m of picked ?? []) if (!(m in MODES)) throw new RangeError(`--modes: unknown mode '${m}' (${Object.keys(MODES).join(', ')})`);
  const modes = Object.entries(MODES).filter(([k]) => !picked || picked.includes(k));
  for (const [, options] of modes) for (const ocr of ocrs) await ocr.read(p.image, options); // warm-up
  const reads = modes.map(() => ocrs.map(() => []));
  // The process's CPU time: a detection alone each round, and each read(): read() - detection = recognition (+ the
  // decode and layout, a few ms), a ratio the other processes on a shared machine move far less than wall times.
  const detCpu = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    await detector.detect(p.image);
    const c = process.cpuUsage(c0);
    detCpu.push((c.user + c.system) / 1000);
    for (let q = 0; q < modes.length; q++) {
      const i = (q + r) % modes.length;
      for (let k = 0; k < ocrs.length; k++) {
        const j = (k + r) % ocrs.length;
        const c0 = process.cpuUsage();
        const res = await ocrs[j].read(p.image, modes[i][1]);
        const c = process.cpuUsage(c0);
        reads[i][j].push({ ...res, cpuMs: (c.user + c.system) / 1000 });
      }
    }
  }
  for (let i = 0; i < modes.length; i++) {
    const [mode, options] = modes[i];
    for (let j = 0; j < ocrs.length; j++) {
      const m = (k) => median(reads[i][j].map((x) => x.timings[k]));
      const first = reads[i][j][0];
      const detail = await ocrs[j].recognizer.recognizeDetailed(p.image, first.words.filter((w) => !w.joined), options.recognize);
      const res = {
        detector: 'default', recognizer: labels[j], mode, words: first.words.length,
        joined: first.words.filter((w) => w.joined).length,
        lines: first.lines.length,
        // What was read (texts, confidences to 6 digits, rotations): the same hash = the same reading of the page.
        readHash: crypto.createHash('sha1').update(JSON.stringify(first.words.map((w) => [w.text, w.confidence.toPrecision(6), w.rotation])))
          .digest('hex').slice(0, 10), decodeMs: m('decode'), detectionMs: m('detection'), recognitionMs: m('recognition'),
        layoutMs: m('layout'), totalMs: m('total'), recognitionStagesMs: detail.timings, recognitionRuns: detail.runs,
      };
      res.recognitionOverDetection = res.recognitionMs / res.detectionMs;
      res.detectionCpuMs = median(detCpu);
      res.readCpuMs = median(reads[i][j].map((x) => x.cpuMs));
      res.recognitionCpuOverDetectionCpu = (res.readCpuMs - res.detectionCpuMs) / res.detectionCpuMs;
      out.read.push(res);
    }
  }
  for (const ocr of ocrs) await ocr.dispose();
  await detector.dispose();
  image.release();

  if (values.json) {
    console.log(JSON.stringify(out));
    return;
  }
  const f = (x) => x.toFixed(2);
  console.log(`page: ${out.page}, ${out.width}x${out.height}, ${out.words} word boxes, median of ${rounds} rounds`);
  for (const w of out.perWord) {
    console.log(`A. ${w.model}`);
    console.log(`   batched (one call, ${w.runsBatched} runs): ${f(w.batchedMs)} ms/word`);
    console.log(`   one call per word:              ${f(w.oneAtATimeMs)} ms/word  (${f(w.speedup)}x the batched time)`);
    console.log(`   one call, batchSize 1:          ${f(w.batchSize1Ms)} ms/word`);
    console.log(`   crop stage: ${f(w.cropStageMs.inkCrop * 1000)} µs/word fitted to the ink, ${f(w.cropStageMs.boxCrop * 1000)} µs/word at the box`);
  }
  for (const r of out.read) {
    const t = r.recognitionStagesMs;
    console.log(`B. read(), ${r.mode}: ${r.words} words (${r.joined} joined), ${r.lines} lines, recogniser ${r.recognizer}, read ${r.readHash}`);
    console.log(`   decode ${f(r.decodeMs)} ms, detection ${f(r.detectionMs)} ms, recognition ${f(r.recognitionMs)} ms ` +
      `(${f(r.recognitionOverDetection)}x detection; crops ${f(t.preprocess)}, ${r.recognitionRuns} runs ${f(t.inference)}, ` +
      `decoding ${f(t.postprocess)}), layout ${f(r.layoutMs)} ms, total ${f(r.totalMs)} ms; CPU: read() ${f(r.readCpuMs)} ms, ` +
      `a detection ${f(r.detectionCpuMs)} ms, the rest ${f(r.recognitionCpuOverDetectionCpu)}x of it`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
