#!/usr/bin/env node
// Dev-set evaluation of detector models side by side (issue 17: does the weakly supervised fine-tuning gain on both
// dev sets and not lose on their inverted copies?). For each model: the DEV pages only (bench/devset.js: the training
// tools' sha1 split, never trained on) of ICDAR 2013 born-digital and FUNSD, as they are and photometrically inverted
// (255 - v, in memory, what tools/invert-dataset.py writes), detected with scale 'fixed' (CRAFT's canvasSize 1280 /
// magRatio 1.5) and scale 'auto'; H-mean (ICDAR 2015 IoU protocol, lib/eval's evaluate, the CLI's `craft-text eval`)
// per model, and each candidate's difference from the first model.
//
//   nice -n 10 node bench/finetune.js --candidate path/to/finetuned.onnx [--candidate another.onnx]
//       [--baseline models/craft-text-default.onnx] [--limit N (dev pages per set)] [--modes fixed,auto]
//       [--sets icdar2013_born_digital,funsd_train] [--no-inverted] [--threads 2] [--json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Detector } = require('../dist');
const { evaluate } = require('../dist/eval');
const { invert, loadDevPages, loadPixels } = require('./devset');

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({ options: {
  baseline: { type: 'string', default: path.join(ROOT, 'models', 'craft-text-default.onnx') },
  candidate: { type: 'string', multiple: true, default: [] },
  limit: { type: 'string' },
  modes: { type: 'string', default: 'fixed,auto' },
  sets: { type: 'string', default: 'icdar2013_born_digital,funsd_train' },
  'no-inverted': { type: 'boolean' },
  threads: { type: 'string', default: '2' },
  json: { type: 'boolean' },
} });
const models = [values.baseline, ...values.candidate].map((m) => path.resolve(m));
const limit = values.limit === undefined ? Infinity : Number(values.limit);
const modes = values.modes.split(',');
const variants = values['no-inverted'] ? ['original'] : ['original', 'inverted'];
const log = (s) => { if (!values.json) process.stderr.write(`${s}\n`); };
const label = (m) => path.relative(process.cwd(), m) || m;

if (!(limit > 0)) throw new RangeError(`--limit must be a positive number, got ${values.limit}`);
for (const m of modes) if (m !== 'fixed' && m !== 'auto') throw new RangeError(`--modes: 'fixed' or 'auto', got '${m}'`);
for (const m of models) if (!fs.existsSync(m)) throw new Error(`model not found: ${m}`);

async function loadSets() {
  const sets = [];
  for (const name of values.sets.split(',')) {
    const dir = path.join(ROOT, '..', 'shared', 'data', name);
    if (!fs.existsSync(dir)) { log(`skipped (not found): ${dir}`); continue; }
    const pages = await loadDevPages(dir, limit);
    // Originals are read from their files by the addon, like any user's; inverted copies are raw pixels.
    if (variants.includes('inverted')) for (const p of pages) p.inverted = invert(await loadPixels(p.imagePath));
    sets.push({ name, pages });
    log(`${name}: ${pages.length} dev pages`);
  }
  return sets;
}

async function main() {
  const sets = await loadSets();
  const rows = [];  // one per set x variant x mode, with every model's H-mean
  const key = (s, v, m) => `${s}|${v}|${m}`;
  const byKey = new Map();
  for (const model of models) {
    const detector = await Detector.create({ model, threads: Number(values.threads) });
    for (const set of sets) {
      for (const variant of variants) {
        for (const mode of modes) {
          const runs = [];
          let ms = 0;
          for (const page of set.pages) {
            const input = variant === 'original' ? page.imagePath : page.inverted;
            const t0 = process.hrtime.bigint();
            const r = await detector.detect(input, { scale: mode });
            ms += Number(process.hrtime.bigint() - t0) / 1e6;
            runs.push({ id: page.imagePath, gt: page.words, det: r.words.map((w) => ({ points: w.box })) });
          }
          const e = evaluate(runs);
          const k = key(set.name, variant, mode);
          if (!byKey.has(k)) {
            const row = { set: set.name, variant, mode, pages: set.pages.length, models: [] };
            byKey.set(k, row);
            rows.push(row);
          }
          byKey.get(k).models.push({ model: label(model), hmean: +e.hmean.toFixed(4), precision: +e.precision.toFixed(4),
            recall: +e.recall.toFixed(4), msPerPage: Math.round(ms / Math.max(1, set.pages.length)) });
          log(`  ${label(model)}  ${set.name} ${variant} ${mode}: H ${e.hmean.toFixed(3)} (P ${e.precision.toFixed(3)} R ${e.recall.toFixed(3)})`);
        }
      }
    }
    await detector.dispose();
  }
  if (values.json) {
    console.log(JSON.stringify({ split: 'bench/devset.js (sha1(basename) % 5 == 0)', limit: values.limit ?? null, rows }));
    return;
  }
  console.log(`finetune: dev pages (bench/devset.js)${values.limit ? `, at most ${values.limit} per set` : ''}; H-mean, ICDAR 2015 IoU protocol`);
  models.forEach((m, i) => console.log(`  [${i}] ${label(m)}`));
  const head = ['set', 'variant', 'mode', 'pages', ...models.map((_, i) => `H [${i}]`), ...models.slice(1).map((_, i) => `[${i + 1}]-[0]`)];
  console.log(`  ${head[0].padEnd(24)} ${head[1].padEnd(9)} ${head[2].padEnd(6)} ${head[3].padStart(5)} ${head.slice(4).map((h) => h.padStart(8)).join(' ')}`);
  for (const r of rows) {
    const h = r.models.map((m) => m.hmean.toFixed(3).padStart(8));
    const d = r.models.slice(1).map((m) => {
      const x = m.hmean - r.models[0].hmean;
      return `${x >= 0 ? '+' : ''}${x.toFixed(3)}`.padStart(8);
    });
    console.log(`  ${r.set.padEnd(24)} ${r.variant.padEnd(9)} ${r.mode.padEnd(6)} ${String(r.pages).padStart(5)} ${[...h, ...d].join(' ')}`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
