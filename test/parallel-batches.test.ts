/*! craft-text | MIT */
// A call's batches in flight at once (Recognizer.create's `parallelBatches`, binding/craft/recognizer.cc RunMany):
// the same batches and readings whatever the number, runs of one call overlapping, failures and aborts as before.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, Recognizer, type Recognition, type RecognizeOptions, type Region } from '../lib';
import { rejects, ROOT, shared, TINY_MODEL, rectRegion, smoothPage } from './helpers';

const MODELS = path.join(ROOT, 'test', 'models');
const PAD = path.join(MODELS, 'crnn-tiny-pad.onnx');

const page = smoothPage;
const box = rectRegion;

/** 60 boxes of many widths (so many padded-width groups, several batches each), some vertical, one outside. */
function boxes(): Region[] {
  const out: Region[] = [];
  for (let i = 0; i < 58; i++) {
    const h = 16 + (i % 5) * 4, w = 20 + ((i * 37) % 260);
    out.push(box((i * 53) % 300, (i * 29) % 200, w, h));
  }
  out.push(box(20, 20, 18, 90));      // vertical: read turned, and both ways in the retry
  out.push(box(2000, 2000, 40, 20));  // outside: skipped
  return out;
}

/** Exactly the same readings: the same network on the same batches, decoded alone. */
function identical(got: Recognition[], want: Recognition[], what: string) {
  assert.is(got.length, want.length, what);
  got.forEach((g, i) => {
    const w = want[i];
    assert.is(g.text, w.text, `${what}[${i}] text`);
    assert.is(g.confidence, w.confidence, `${what}[${i}] confidence`);
    assert.is(g.rotation, w.rotation, `${what}[${i}] rotation`);
    assert.is(g.skipped, w.skipped, `${what}[${i}] skipped`);
    assert.equal(g.characters, w.characters, `${what}[${i}] characters`);
    assert.equal(g.logits && [...g.logits], w.logits && [...w.logits], `${what}[${i}] logits`);
  });
}

const P = suite('parallelBatches');

P('bad values are a TypeError / RangeError naming parallelBatches; the detector has no such option', async () => {
  await rejects(() => Recognizer.create({ model: PAD, parallelBatches: '2' as unknown as number }),
    { name: 'TypeError', message: /parallelBatches/ });
  for (const v of [0, 65, 1.5, Infinity]) {
    await rejects(() => Recognizer.create({ model: PAD, parallelBatches: v }), { name: 'RangeError', message: /parallelBatches/ });
  }
  await rejects(() => Detector.create({ model: TINY_MODEL, parallelBatches: 2 } as never),
    { name: 'TypeError', message: /parallelBatches/ });
});

P('any number of batches in flight reads exactly what one at a time reads (retries, logits, skips, runs)', async () => {
  const img = page(400, 300, 11);
  const regions = boxes();
  const options: RecognizeOptions = {
    rotationRetryThreshold: 1, marginRetryThreshold: 1, margin: 0.1, logits: true, characterProbabilities: true, batchSize: 4,
  };
  const recs = await Promise.all([1, 2, 3].map((n) => Recognizer.create({ model: PAD, threads: 1, parallelBatches: n })));
  try {
    const [one, ...more] = await Promise.all(recs.map((r) => r.recognizeDetailed(img, regions, options)));
    assert.ok(one.runs > 10, `${one.runs} runs: the call must have many batches`);
    assert.is(one.words[59].skipped, 'outside');
    more.forEach((r, k) => {
      identical(r.words, one.words, `parallelBatches ${k + 2}`);
      assert.is(r.runs, one.runs, 'the same batches');
    });
  } finally {
    await Promise.all(recs.map((r) => r.dispose()));
  }
});

P('the batches of one call overlap, at most parallelBatches at once', async () => {
  const rec = await Recognizer.create({ model: PAD, threads: 1, parallelBatches: 2 });
  try {
    const img = page(400, 300, 12);
    // The lanes start together; on a loaded machine one may still finish before the other starts: a few tries.
    for (let k = 0; k < 10 && rec.stats().networkRuns.peak < 2; k++) await rec.recognize(img, boxes(), { batchSize: 2 });
    assert.is(rec.stats().networkRuns.peak, 2);
    const alone = await Recognizer.create({ model: PAD, threads: 1, parallelBatches: 1 });
    try {
      await alone.recognize(img, boxes(), { batchSize: 2 });
      assert.is(alone.stats().networkRuns.peak, 1, 'one batch at a time');
    } finally {
      await alone.dispose();
    }
  } finally {
    await rec.dispose();
  }
});

P('an aborted call stops its lanes and rejects; the recogniser reads on', async () => {
  const rec = await Recognizer.create({ model: PAD, threads: 1, parallelBatches: 2 });
  try {
    const img = page(400, 300, 13);
    const want = await rec.recognize(img, boxes(), { batchSize: 1 });
    const ac = new AbortController();
    const call = rec.recognize(img, boxes(), { batchSize: 1, signal: ac.signal });
    setTimeout(() => ac.abort(), 1);
    await rejects(() => call, { name: 'AbortError' });
    identical(await rec.recognize(img, boxes(), { batchSize: 1 }), want, 'after the abort');
  } finally {
    await rec.dispose();
  }
});

P('1 or 2 ONNX Runtime threads per run, any libuv thread: the same readings (the recogniser defaults to 1)', async () => {
  // Denormals are flushed on the run's thread as on ONNX Runtime's pool threads (session.cc), whichever runs it.
  const dir = shared('data/funsd_train');
  if (!dir) return;
  const d = fs.readFileSync(path.join(dir, 'gt.jsonl'), 'utf8').split('\n').filter((l) => l.includes('01073843'))
    .map((l) => JSON.parse(l))[0];
  const regions = (d.words as { points: Region; ignore?: boolean }[]).filter((w) => !w.ignore && w.points.length === 4)
    .map((w) => w.points);
  const image = path.join(dir, d.image);
  const model = path.join(ROOT, 'models', 'craft-text-recognizer.onnx');
  const recs = await Promise.all([
    Recognizer.create({ model, threads: 2, parallelBatches: 1 }),
    Recognizer.create({ model, threads: 1, parallelBatches: 2 }),
    Recognizer.create({ model, threads: 1, parallelBatches: 1 }),
  ]);
  try {
    const want = await recs[0].recognize(image, regions);
    // Calls in flight together run on different libuv threads (one merged run, or one each when merging is off).
    for (const rec of recs) {
      const got = await Promise.all([0, 1, 2].map(() => rec.recognize(image, regions, { batchSize: 8 })));
      const alone = await rec.recognize(image, regions);
      got.forEach((g, k) => identical(g, alone, `call ${k}`));
      identical(alone, want, 'against 2 threads');
    }
  } finally {
    await Promise.all(recs.map((r) => r.dispose()));
  }
  // INT8 (BiLSTMs quantized per run over the batch): the same batches, so the same readings too.
  const int8 = path.join(ROOT, 'models', 'craft-text-recognizer-int8.onnx');
  const lanes = await Promise.all([1, 2].map((n) => Recognizer.create({ model: int8, parallelBatches: n })));
  try {
    const [one, two] = await Promise.all(lanes.map((r) => r.recognize(image, regions)));
    identical(two, one, 'INT8, 2 batches at once');
  } finally {
    await Promise.all(lanes.map((r) => r.dispose()));
  }
});

P.run();
