#!/usr/bin/env node
// recognize()'s allowlist on the words it is for: the numeric words (dates, amounts, codes: digits and the
// punctuation around them) of annotated datasets read at their ground-truth boxes, without and with an allowlist of
// those characters, side by side in one process (modes interleaved per round): exact accuracy (case-sensitive, full
// text), the words fixed and broken, and the time per word (medians over rounds).
//
//   node bench/allowlist.js <dataset-dir>... [--recognizer rec.onnx] [--rounds 3] [--allowlist chars] [--json]
//
// A dataset is anything `craft-text eval --task recognition` reads (gt.jsonl with texts, ICDAR, FUNSD; word-crop
// folders with labels.tsv are read whole). Run `npm run build` first.
'use strict';
const path = require('node:path');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { Recognizer } = require('../dist');
const { loadRecognitionDataset, toRegion } = require('../dist/eval/recognition');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    recognizer: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    allowlist: { type: 'string', default: '0123456789.,:/-$%#()' },
    json: { type: 'boolean' },
  },
});
if (positionals.length === 0) throw new Error('usage: node bench/allowlist.js <dataset-dir>... [--recognizer r.onnx]');
const rounds = Number(values.rounds);
const allow = values.allowlist;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
// A numeric word: only the allowlist's characters, at least one digit.
const numeric = (t) => /\d/.test(t) && [...t].every((c) => allow.includes(c));

(async () => {
  const rec = await Recognizer.create({ model: values.recognizer, threads: 1 });
  const out = { recognizer: values.recognizer ?? 'default', allowlist: allow, rounds, sets: [] };
  for (const dir of positionals) {
    // Each image's numeric words (crops: the crop itself).
    const jobs = [];
    for (const s of await loadRecognitionDataset(dir)) {
      const keep = s.texts.map((t, i) => i).filter((i) => numeric(s.texts[i]));
      if (keep.length === 0) continue;
      jobs.push({ image: s.imagePath, regions: s.regions ? keep.map((i) => toRegion(s.regions[i])) : undefined, texts: keep.map((i) => s.texts[i]) });
    }
    const modes = { without: {}, allowlist: { allowlist: allow } };
    const times = { without: [], allowlist: [] };
    const preds = {};
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['without', 'allowlist'] : ['allowlist', 'without'];
      for (const m of order) {
        const t0 = performance.now();
        const read = [];
        for (const j of jobs) read.push(...(await rec.recognize(j.image, j.regions, modes[m])).map((w) => w.text));
        times[m].push(performance.now() - t0);
        preds[m] ??= read;
      }
    }
    const gt = jobs.flatMap((j) => j.texts);
    const right = (m) => preds[m].map((p, i) => p === gt[i]);
    const a = right('without'), b = right('allowlist');
    const set = {
      dataset: path.basename(path.resolve(dir)), words: gt.length,
      exactWithout: a.filter(Boolean).length / gt.length, exactAllowlist: b.filter(Boolean).length / gt.length,
      fixed: b.filter((v, i) => v && !a[i]).length, broken: a.filter((v, i) => v && !b[i]).length,
      msPerWordWithout: median(times.without) / gt.length, msPerWordAllowlist: median(times.allowlist) / gt.length,
      examples: gt.map((g, i) => ({ gt: g, without: preds.without[i], allowlist: preds.allowlist[i] }))
        .filter((e) => e.without !== e.allowlist).slice(0, 8),
    };
    set.timeRatio = set.msPerWordAllowlist / set.msPerWordWithout;
    out.sets.push(set);
  }
  await rec.dispose();
  if (values.json) return console.log(JSON.stringify(out));
  console.log(`recogniser ${out.recognizer}, allowlist ${JSON.stringify(allow)}, medians of ${rounds} rounds, 1 thread`);
  for (const s of out.sets) {
    console.log(`${s.dataset}: ${s.words} numeric words; exact ${(100 * s.exactWithout).toFixed(2)} % -> ` +
      `${(100 * s.exactAllowlist).toFixed(2)} % (+${s.fixed} / -${s.broken}); ${s.msPerWordWithout.toFixed(2)} -> ` +
      `${s.msPerWordAllowlist.toFixed(2)} ms/word (${s.timeRatio.toFixed(3)}x)`);
    for (const e of s.examples) console.log(`   ${JSON.stringify(e.gt)}: ${JSON.stringify(e.without)} -> ${JSON.stringify(e.allowlist)}`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
