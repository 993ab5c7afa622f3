#!/usr/bin/env node
// The split-word join (docs/recognition.md#split-words), measured offline on annotated pages: the gap between
// consecutive detected words of a line (lib/layout.ts lineGaps, in units of the pair's larger height), labelled by the
// ground truth as a *split* (both detections inside the same ground-truth word: CRAFT cut a word, mostly at punctuation)
// or a *space* (two different ground-truth words), and what reading the pair's union crop once more says about each.
//
//   node tools/eval/join_gaps.js <dataset-dir...> [--max-gap 1] [--recognizer m.onnx] [--threads 1] [--json out.json]
//
// Per dataset: the histogram of gaps for splits and spaces, and for every pair under --max-gap the readings (the two
// words and the union) to compare decision rules: the union's confidence against the product of the parts', and
// whether the union's reading has a space. Run `npm run build` first; detection uses the detector's defaults.
'use strict';
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { Detector, Recognizer, decodeImage } = require('../../dist');
const { joinRuns, lineGaps, readingOrder } = require('../../dist/layout');
const { loadDataset } = require('../../dist/eval/dataset');
const { normalizeText } = require('../../dist/eval/recognition');
const { spaceProbability } = require('../../dist/join');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'max-gap': { type: 'string', default: '1' },
    recognizer: { type: 'string' },
    threads: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
if (positionals.length === 0) {
  console.error('usage: node tools/eval/join_gaps.js <dataset-dir...> [--max-gap 1] [--json out.json]');
  process.exit(2);
}
const MAX_GAP = Number(values['max-gap']);

const bbox = (pts) => {
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
};
/** The ground-truth word holding most of a detection (at least half its area), or -1. */
function owner(det, gts) {
  const [x0, y0, x1, y1] = bbox(det);
  const area = Math.max(1e-6, (x1 - x0) * (y1 - y0));
  let best = -1, bestFrac = 0.5;
  gts.forEach((g, k) => {
    const [a0, b0, a1, b1] = bbox(g.points);
    const inter = Math.max(0, Math.min(x1, a1) - Math.max(x0, a0)) * Math.max(0, Math.min(y1, b1) - Math.max(y0, b0));
    if (inter / area >= bestFrac) { best = k; bestFrac = inter / area; }
  });
  return best;
}

let SPACE = -1, K = 0;

async function main() {
  const threads = Number(values.threads);
  const detector = await Detector.create({ threads });
  const recognizer = await Recognizer.create({ threads, ...(values.recognizer ? { model: values.recognizer } : {}) });
  SPACE = 1 + recognizer.info.charset.indexOf(' ');
  K = recognizer.info.charset.length + 1;
  const report = {};
  try {
    for (const dir of positionals) {
      const samples = await loadDataset(dir);
      const pairs = [];
      for (const s of samples) {
        const image = await decodeImage(s.imagePath);
        try {
          const det = await detector.detect(image);
          const boxes = det.words.map((w) => w.box);
          const lines = readingOrder(boxes).map((l) => l.words);
          const gaps = lineGaps(boxes, lines);
          const gts = s.words.filter((g) => !g.ignore && g.text);
          // The union of every pair under MAX_GAP whose heights overlap as joinRuns() asks (keyed by its left word).
          const runs = joinRuns(boxes, gaps.filter((g) => g.gap < MAX_GAP).map((g) => [g.left, g.right]),
            { maxGap: Infinity, maxWords: 2 });
          const unionOf = new Map(runs.map((r, k) => [r.words[0], k]));
          const read = await recognizer.recognize(image, [...det.words, ...runs.map((r) => r.box)], { logits: true });
          for (const g of gaps) {
            const a = owner(boxes[g.left], gts), b = owner(boxes[g.right], gts);
            const label = a >= 0 && a === b ? 'split' : a >= 0 && b >= 0 ? 'space' : 'other';
            const pair = { gap: g.gap, overlap: g.overlap, label, left: read[g.left].text, right: read[g.right].text,
              cl: read[g.left].confidence, cr: read[g.right].confidence };
            if (g.gap < MAX_GAP && unionOf.has(g.left)) {
              const j = read[det.words.length + unionOf.get(g.left)];
              Object.assign(pair, { joint: j.text, cj: j.confidence, space: spaceProbability(j.logits, K, SPACE) });
              if (label === 'split') pair.gt = normalizeText(gts[a].text);
            }
            pairs.push(pair);
          }
        } finally {
          image.release();
        }
      }
      report[dir] = pairs;
      if (values.json) fs.writeFileSync(values.json, JSON.stringify(report));
      summarise(dir, pairs);
    }
  } finally {
    await Promise.all([detector.dispose(), recognizer.dispose()]);
  }
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(report));
}

function summarise(dir, pairs) {
  console.log(`\n${dir}: ${pairs.length} consecutive pairs on lines`);
  const edges = [-Infinity, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.5, Infinity];
  console.log('gap / height      split  space  other');
  for (let k = 0; k + 1 < edges.length; k++) {
    const inBin = pairs.filter((p) => p.gap >= edges[k] && p.gap < edges[k + 1]);
    const n = (l) => inBin.filter((p) => p.label === l).length;
    console.log(`[${edges[k]}, ${edges[k + 1]})`.padEnd(16), String(n('split')).padStart(6), String(n('space')).padStart(6),
      String(n('other')).padStart(6));
  }
  const read = pairs.filter((p) => p.joint !== undefined);
  const rules = {
    'joint conf > product': (p) => p.cj > p.cl * p.cr,
    'joint conf > min': (p) => p.cj > Math.min(p.cl, p.cr),
    'no space in joint': (p) => !/\s/.test(p.joint),
    'no space and conf > product': (p) => !/\s/.test(p.joint) && p.cj > p.cl * p.cr,
  };
  console.log(`pairs under ${MAX_GAP}: rule -> joined splits (joint = ground truth) / joined spaces`);
  for (const [name, rule] of Object.entries(rules)) {
    for (const maxGap of [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1]) {
      if (maxGap > MAX_GAP) continue;
      const ok = read.filter((p) => p.gap < maxGap && rule(p));
      const splits = ok.filter((p) => p.label === 'split');
      const right = splits.filter((p) => normalizeText(p.joint) === p.gt).length;
      console.log(`  ${name.padEnd(28)} gap < ${maxGap}: ${splits.length} (${right}) / ${ok.filter((p) => p.label === 'space').length}` +
        ` of ${read.filter((p) => p.gap < maxGap && p.label === 'split').length} / ${read.filter((p) => p.gap < maxGap && p.label === 'space').length}`);
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
