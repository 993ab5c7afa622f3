// The bundled models themselves: the default model finds the words of the README's example (ground truth from the
// fonts' ink boxes, tools/make_example_image.py), carries its tuned thresholds as metadata defaults, and the INT8
// variant agrees with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { evaluate, type GtWord } from '../lib/eval';
import { ROOT } from './helpers';

const IMAGE = path.join(ROOT, 'examples', 'images', 'hello.png');
const GT: GtWord[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'images', 'hello.gt.jsonl'), 'utf8')).words;
const INT8 = path.join(ROOT, 'models', 'craft-text-default-int8.onnx');

const score = (words: { box: [number, number][] }[], gt: GtWord[] = GT) =>
  evaluate([{ id: 'hello', gt, det: words.map((w) => ({ points: w.box })) }]);

const D = suite('bundled default model');

D('finds the words of the example image (ICDAR 2015 protocol, IoU > 0.5)', async () => {
  const detector = await Detector.create({ threads: 1 });
  try {
    const r = await detector.detect(IMAGE);
    const e = score(r.words);
    assert.ok(e.hmean >= 0.7, `H-mean ${e.hmean.toFixed(3)} (P ${e.precision.toFixed(3)}, R ${e.recall.toFixed(3)})`);
    // Light on dark ("White on blue works too") is found like the dark-on-light lines.
    const inverted = GT.filter((w) => w.points[0][1] > 210 && w.points[0][1] < 290);
    assert.is(inverted.length, 5);
    assert.ok(score(r.words, inverted).recall >= 0.8, 'white-on-blue words found');
  } finally {
    await detector.dispose();
  }
});

D('carries tuned thresholds as its defaults (ONNX metadata), which detect() uses', async () => {
  const detector = await Detector.create({ threads: 1 });
  try {
    const md = detector.info.metadata;
    for (const k of ['textThreshold', 'linkThreshold', 'lowText']) {
      assert.ok(md[`craft.${k}`] !== undefined, `craft.${k} in the metadata`);
      assert.is(detector.info.defaults[k as 'lowText'], Number(md[`craft.${k}`]));
    }
    const { textThreshold, linkThreshold, lowText } = detector.info.defaults;
    const a = await detector.detect(IMAGE);
    const b = await detector.detect(IMAGE, { textThreshold, linkThreshold, lowText });
    assert.equal(a.words, b.words);
  } finally {
    await detector.dispose();
  }
});

D('the INT8 variant, where shipped, detects what FP32 detects (FP32 as ground truth, H-mean >= 0.9)', async () => {
  if (!fs.existsSync(INT8)) {
    console.log('  (skipped: no INT8 model shipped)');
    return;
  }
  const fp32 = await Detector.create({ threads: 1 });
  const int8 = await Detector.create({ model: 'default-int8', threads: 1 });
  try {
    assert.equal(int8.info.defaults, fp32.info.defaults);
    const a = await fp32.detect(IMAGE);
    const b = await int8.detect(IMAGE);
    const asGt = a.words.map((w, i) => ({ points: w.box, text: String(i), ignore: false }));
    const e = score(b.words, asGt);
    assert.ok(e.hmean >= 0.9, `agreement H-mean ${e.hmean.toFixed(3)}`);
  } finally {
    await fp32.dispose();
    await int8.dispose();
  }
});

D.run();
