#!/usr/bin/env node
// Character boxes (issue 17) against the synthetic generator's exact character boxes (test/fixtures/characters, made
// by tools/train/make_char_fixtures.py): character-level precision and recall at IoU > 0.5, one-to-one (greedy by
// IoU). Every detected character of every detected word counts for precision, every ground-truth character of the
// fixture's words for recall; so missed words lower recall too (the word-level part is reported beside it).
//
//   nice -n 10 node bench/characters.js [--model m.onnx] [--scale fixed|auto] [--json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { iou } = require('../dist/eval');

const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'characters');

/** Greedy one-to-one matching at IoU > 0.5: { matched, det, gt }. */
function match(det, gt, threshold = 0.5) {
  const pairs = [];
  for (let i = 0; i < det.length; i++) {
    for (let j = 0; j < gt.length; j++) {
      const v = iou(det[i], gt[j]);
      if (v > threshold) pairs.push([v, i, j]);
    }
  }
  pairs.sort((a, b) => b[0] - a[0]);
  const usedD = new Set(), usedG = new Set();
  let matched = 0;
  for (const [, i, j] of pairs) {
    if (usedD.has(i) || usedG.has(j)) continue;
    usedD.add(i); usedG.add(j); matched++;
  }
  return { matched, det: det.length, gt: gt.length };
}

/** Character-level and word-level P/R of `detector` on the fixtures. */
async function characterPR(detector, options = {}) {
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'characters.json'), 'utf8'));
  const c = { matched: 0, det: 0, gt: 0 }, w = { matched: 0, det: 0, gt: 0 };
  const pages = [];
  for (const page of meta.pages) {
    const r = await detector.detect(path.join(FIXTURES, page.image), { scale: 'fixed', ...options, characters: true });
    const gtChars = page.words.flatMap((x) => x.chars);
    const detChars = r.words.flatMap((x) => x.characters);
    const m = match(detChars, gtChars);
    // Word boxes of the ground truth: the characters' bounding quads' hull is approximated by their extreme corners
    // (words are straight lines of characters).
    const gtWords = page.words.map((x) => { const q = x.chars; return [q[0][0], q[q.length - 1][1], q[q.length - 1][2], q[0][3]]; });
    const mw = match(r.words.map((x) => x.box), gtWords);
    for (const k of ['matched', 'det', 'gt']) { c[k] += m[k]; w[k] += mw[k]; }
    pages.push({ image: page.image, ...m });
  }
  const pr = (x) => ({ precision: x.det ? x.matched / x.det : 0, recall: x.gt ? x.matched / x.gt : 0 });
  return { characters: { ...c, ...pr(c) }, words: { ...w, ...pr(w) }, pages };
}

module.exports = { characterPR, match };

if (require.main === module) {
  const { parseArgs } = require('node:util');
  const { Detector } = require('../dist');
  const { values } = parseArgs({ options: { model: { type: 'string' }, scale: { type: 'string', default: 'fixed' }, json: { type: 'boolean' } } });
  (async () => {
    const model = values.model ?? path.join(ROOT, 'models', 'craft-text-default.onnx');
    const detector = await Detector.create({ model, threads: 2 });
    const r = await characterPR(detector, { scale: values.scale });
    await detector.dispose();
    if (values.json) { console.log(JSON.stringify(r)); return; }
    const f = (x) => x.toFixed(3);
    console.log(`characters vs the generator's boxes (IoU > 0.5), scale ${values.scale}, model ${path.relative(ROOT, model)}`);
    console.log(`  characters: P ${f(r.characters.precision)}  R ${f(r.characters.recall)}  (${r.characters.matched} matched of ${r.characters.det} detected / ${r.characters.gt} true)`);
    console.log(`  words:      P ${f(r.words.precision)}  R ${f(r.words.recall)}  (${r.words.matched} matched of ${r.words.det} detected / ${r.words.gt} true)`);
    for (const p of r.pages) console.log(`    ${p.image.padEnd(16)} ${p.matched}/${p.det} detected, ${p.matched}/${p.gt} true`);
  })().catch((e) => { console.error(e); process.exit(1); });
}
