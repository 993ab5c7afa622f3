#!/usr/bin/env node
// Error analysis of a recogniser on the held-out dev words, through the runtime (models/craft-text-recognizer.md#error-
// analysis), and an offline evaluation of a margin retry (a word read below a confidence threshold is read again at
// another crop margin and the more confident reading kept).
//
//   node tools/eval/rec_errors.js --dev <recdev dir> [--recognizer m.onnx] [--margins 0,0.06,0.12,0.18,0.24]
//                                [--ink-crop on|off] [--cache readings.json] [--words errors.tsv] [--threads 1]
//
// <recdev dir> is what `python3 tools/train/recdata.py --write-dev <dir>` writes (ic13-pages, funsd-pages: gt.jsonl
// views whose words the runtime cuts itself; ic15: word crops, read whole). Every page word is read once per margin
// (default options otherwise: the 180° retry, the quarter turn, crops fitted to the ink unless --ink-crop off; at
// margin 0 nothing is fitted), the readings cached in --cache; then
//  - errors at the model's margin are counted by category (a word can fall in several),
//  - margin retry variants are simulated from the cached readings: threshold t, retry margin(s) m'; a word read
//    below t at the model's margin is replaced by its reading at m' when that one is more confident. The runtime's
//    `marginRetryThreshold` re-reads at the rotation of the kept reading; the cache's reading at m' ran its own
//    180° retry, which differs only for words both retries touch, and at margin 0 it is the box: the runtime's retry
//    with inkCrop cuts at the word's ink there (the runtime's own numbers: craft-text eval --margin-retry t).
// Run `npm run build` first.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Recognizer } = require('../../dist');
const { editDistance, loadRecognitionDataset, normalizeText, toRegion } = require('../../dist/eval/recognition');

const { values } = parseArgs({
  options: {
    dev: { type: 'string' },
    recognizer: { type: 'string', default: path.join(__dirname, '../../models/craft-text-recognizer.onnx') },
    margins: { type: 'string', default: '0,0.06,0.12,0.18,0.24' },
    cache: { type: 'string' },
    words: { type: 'string' },
    threads: { type: 'string', default: '1' },
    'ink-crop': { type: 'string', default: 'on' },
  },
});
if (!values.dev) {
  console.error('usage: node tools/eval/rec_errors.js --dev <recdev dir> [--cache f.json] [--words errors.tsv]');
  process.exit(2);
}
const MARGINS = values.margins.split(',').map(Number);
const INK_CROP = values['ink-crop'] !== 'off';
const SETS = [['ic13', 'ic13-pages'], ['funsd', 'funsd-pages'], ['ic15', 'ic15']];

/** Reads every word of every set at every margin (ic15 crops: once, whole). */
async function readAll() {
  const rec = await Recognizer.create({ model: values.recognizer, threads: Number(values.threads) });
  const out = { model: values.recognizer, modelMargin: rec.info.margin, margins: MARGINS, inkCrop: INK_CROP, sets: {} };
  try {
    for (const [name, dir] of SETS) {
      const samples = await loadRecognitionDataset(path.join(values.dev, dir));
      const words = [];
      for (const s of samples) {
        const regions = s.regions?.map(toRegion);
        const per = [];
        for (const m of regions ? MARGINS : [rec.info.margin]) {
          const r = await rec.recognizeDetailed(s.imagePath, regions, { margin: m, inkCrop: INK_CROP });
          per.push(r.words.map((w) => [w.text, Math.round(w.confidence * 1e6) / 1e6, w.rotation]));
        }
        s.texts.forEach((gt, i) => {
          const pts = s.regions?.[i];
          const ys = pts ? pts.map((p) => p[1]) : null;
          const xs = pts ? pts.map((p) => p[0]) : null;
          words.push({
            image: path.basename(s.imagePath), gt,
            // text height in pixels (a crop: unknown here, read from the file's size below)
            h: ys ? Math.max(...ys) - Math.min(...ys) : null, w: xs ? Math.max(...xs) - Math.min(...xs) : null,
            read: regions ? Object.fromEntries(MARGINS.map((m, k) => [m, per[k][i]])) : { whole: per[0][i] },
          });
        });
      }
      out.sets[name] = words;
      process.stderr.write(`${name}: ${words.length} words\n`);
    }
  } finally {
    await rec.dispose();
  }
  return out;
}

const ok = (pred, gt) => normalizeText(pred) === normalizeText(gt);
const pct = (a, n) => `${a} (${(100 * a / Math.max(1, n)).toFixed(1)} %)`;
// Look-alike characters the DTRB metric does not merge (after lower-casing).
const CONFUSE = [['o', '0'], ['l', '1'], ['i', '1'], ['i', 'l'], ['s', '5'], ['b', '8'], ['z', '2'], ['g', '9'], ['g', '6'], ['b', '6'], ['t', '7']];
function confusionOnly(p, g) {
  if (p.length !== g.length || p === g) return false;
  for (let k = 0; k < p.length; k++) {
    if (p[k] === g[k]) continue;
    if (!CONFUSE.some(([a, b]) => (p[k] === a && g[k] === b) || (p[k] === b && g[k] === a))) return false;
  }
  return true;
}

/** Error categories of the readings at margin `m` (`alt`: the other margin, for the crop categories). */
function categorise(words, m, alt) {
  const cats = new Map();
  const add = (k, x) => cats.set(k, (cats.get(k) ?? 0) + (x ? 1 : 0));
  let errors = 0;
  let caseOnly = 0;
  let exactErrors = 0;
  for (const w of words) {
    const [pred] = w.read[m];
    const right = ok(pred, w.gt);
    if (pred !== w.gt) exactErrors++;
    if (right && pred !== w.gt && pred.toLowerCase() === w.gt.toLowerCase()) caseOnly++;
    if (right) continue;
    errors++;
    const g = normalizeText(w.gt);
    const p = normalizeText(pred);
    if (alt !== undefined) add(`right at margin ${alt}`, ok(w.read[alt][0], w.gt));
    add('punctuation-only ground truth (normalised text empty)', g === '');
    add('ground truth outside printable ASCII', /[^\x20-\x7e]/.test(w.gt));
    add('look-alike confusion only (o/0, l/1, i/l, s/5, b/8, z/2, g/9, …)', confusionOnly(p, g));
    add('one character wrong (edit distance 1)', g !== '' && editDistance(p, g) === 1);
    add('ground truth has symbols or punctuation', /[^0-9A-Za-z]/.test(w.gt) && g !== '');
    add('single character', g.length === 1);
    add('long word (≥ 10 characters)', g.length >= 10);
    add('low resolution (box < 10 px high)', w.h !== null && w.h < 10);
    add('empty reading', p === '');
    add('reading turned (180° or 90°)', w.read[m][2] !== 0);
  }
  return { n: words.length, errors, exactErrors, caseOnly, cats };
}

/** Accuracy of: read at `m0`; below `t`, read again at each of `alts` and keep the most confident reading. */
function retry(words, m0, alts, t) {
  let correct = 0;
  let retried = 0;
  for (const w of words) {
    let best = w.read[m0];
    if (best[1] < t) {
      retried++;
      for (const a of alts) if (w.read[a][1] > best[1]) best = w.read[a];
    }
    if (ok(best[0], w.gt)) correct++;
  }
  return { accuracy: correct / words.length, correct, extra: retried * alts.length / words.length };
}

/** Share of words below each threshold, and the accuracy of the words in each confidence band (calibration). */
function calibration(words, m, edges) {
  const rows = [];
  for (let k = 0; k + 1 < edges.length; k++) {
    const inBand = words.filter((w) => w.read[m][1] >= edges[k] && w.read[m][1] < edges[k + 1]);
    rows.push(`[${edges[k]}, ${edges[k + 1]}): ${inBand.length} words, accuracy ${(inBand.filter((w) => ok(w.read[m][0], w.gt)).length / Math.max(1, inBand.length)).toFixed(3)}`);
  }
  return rows;
}

async function main() {
  let data;
  if (values.cache && fs.existsSync(values.cache)) data = JSON.parse(fs.readFileSync(values.cache, 'utf8'));
  else {
    data = await readAll();
    if (values.cache) fs.writeFileSync(values.cache, JSON.stringify(data));
  }
  const m0 = data.modelMargin;
  const margins = data.margins;
  const lines = [];
  const say = (s) => lines.push(s);
  for (const [name] of SETS) {
    const words = data.sets[name];
    const whole = words[0] && words[0].read.whole !== undefined;
    const m = whole ? 'whole' : m0;
    say(`\n## ${name} (${words.length} words${whole ? ', crops read whole' : ''})`);
    if (!whole) {
      say('accuracy per margin: ' + margins.map((x) => `${x}: ${(words.filter((w) => ok(w.read[x][0], w.gt)).length / words.length).toFixed(4)}`).join(', '));
      const oracle = words.filter((w) => margins.some((x) => ok(w.read[x][0], w.gt))).length;
      say(`right at some margin (oracle over ${margins.join('/')}): ${(oracle / words.length).toFixed(4)}`);
    }
    const c = categorise(words, m, whole ? undefined : 0);
    say(`errors at ${whole ? 'the whole crop' : `margin ${m0}`}: ${c.errors} of ${c.n} (accuracy ${(1 - c.errors / c.n).toFixed(4)}); case-only exact errors (right for DTRB): ${c.caseOnly} of ${c.exactErrors} exact errors`);
    for (const [k, v] of c.cats) say(`  ${k}: ${pct(v, c.errors)}`);
    if (!whole) {
      const c0 = categorise(words, 0, m0);
      say(`errors at margin 0: ${c0.errors}; right at margin ${m0}: ${c0.cats.get(`right at margin ${m0}`)}`);
    }
    say('calibration at the model margin: ' + calibration(words, m, [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.01]).join('; '));
    if (whole) continue;
    say('share of words under t: ' + [0.1, 0.2, 0.3, 0.5, 0.7].map((t) => `${t}: ${(words.filter((w) => w.read[m0][1] < t).length / words.length).toFixed(3)}`).join(', '));
    const variants = [[0], [0.06], [0.18], [0.24], [0, 0.24], [0.06, 0.18], ...(margins.length > 4 ? [margins.filter((x) => x !== m0)] : [])];
    for (const alts of variants) {
      if (!alts.every((a) => margins.includes(a))) continue;
      say(`retry at ${alts.join('+')}: ` + [0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.7, 1.01].map((t) => {
        const r = retry(words, m0, alts, t);
        return `t ${t}: ${r.accuracy.toFixed(4)} (+${r.extra.toFixed(3)} reads/word)`;
      }).join(', '));
    }
  }
  console.log(lines.join('\n'));
  if (values.words) {
    const rows = ['set\timage\tgt\th\t' + margins.map((x) => `pred@${x}\tconf@${x}`).join('\t')];
    for (const [name] of SETS) {
      for (const w of data.sets[name]) {
        const ks = w.read.whole ? ['whole'] : margins;
        if (ks.every((k) => ok(w.read[k][0], w.gt))) continue;
        rows.push([name, w.image, w.gt, w.h ?? '', ...ks.flatMap((k) => [w.read[k][0], w.read[k][1]])].join('\t'));
      }
    }
    fs.writeFileSync(values.words, rows.join('\n') + '\n');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
