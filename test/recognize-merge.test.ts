/*! craft-text | MIT */
// Merged recognize() calls (docs/recognition.md#merged-calls): calls queued while the inference slot is busy share
// the next run; each gets exactly what it gets alone, with its own options; cancellation, bad input and dispose()
// touch only the calls they concern.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recognizer, type Recognition, type RecognizeOptions, type Region } from '../lib';
import { rejects, ROOT, rectRegion, smoothPage } from './helpers';

const MODELS = path.join(ROOT, 'test', 'models');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'recognition');
const CROPS = [0, 1, 2, 3, 4].map((i) => path.join(FIXTURES, `crop-${i}.png`));

const page = smoothPage;
const box = rectRegion;

/** Confidences are products of per-frame maxima: compared relative (a merged run is the same network on the same pixels). */
function same(got: Recognition[], want: Recognition[], what: string) {
  assert.is(got.length, want.length, what);
  got.forEach((g, i) => {
    const w = want[i];
    assert.is(g.text, w.text, `${what}[${i}] text`);
    assert.is(g.rotation, w.rotation, `${what}[${i}] rotation`);
    assert.is(g.skipped, w.skipped, `${what}[${i}] skipped`);
    assert.ok(Math.abs(g.confidence - w.confidence) <= 1e-5 * Math.max(1e-30, w.confidence), `${what}[${i}] confidence ${g.confidence} vs ${w.confidence}`);
    assert.is(g.characters?.length, w.characters?.length, `${what}[${i}] characters`);
    g.characters?.forEach((p, k) => assert.ok(Math.abs(p - w.characters![k]) <= 1e-5, `${what}[${i}] character ${k}`));
    assert.is(g.logits?.length, w.logits?.length, `${what}[${i}] logits`);
    g.logits?.forEach((v, k) => assert.ok(Math.abs(v - w.logits![k]) <= 1e-4, `${what}[${i}] logit ${k}`));
  });
}

type Call = { input: Parameters<Recognizer['recognize']>[0]; regions?: Region[]; options?: RecognizeOptions };

/** Calls of different images, regions and options (all merge: same batchSize). */
function calls(): Call[] {
  const a = page(320, 96, 3), b = page(200, 64, 5);
  return [
    { input: CROPS[0] },
    { input: a, regions: [box(0, 0, 100, 32), box(110, 5, 57, 21), box(10, 40, 250, 40), box(300, 0, 15, 90)] },
    { input: CROPS[1], options: { rotationRetryThreshold: 1 } },
    { input: b, regions: [box(5, 5, 120, 30), box(150, 2, 40, 60)], options: { margin: 0.3, verticalRatio: Infinity } },
    { input: CROPS[2], options: { decoder: 'beam', beamWidth: 3, characterProbabilities: true } },
    { input: a, regions: [box(40, 10, 200, 50), box(-20, -5, 60, 40), box(400, 400, 10, 10)], options: { logits: true, margin: 0 } },
    { input: fs.readFileSync(CROPS[3]), options: { rotationRetryThreshold: 0 } },
    { input: CROPS[4], regions: [box(0, 0, 60, 40), box(50, 0, 80, 40)] },
    // margin retries: every word (threshold 1), with and without the 180° retry first; none (threshold 0)
    { input: a, regions: [box(20, 20, 120, 30), box(150, 30, 90, 28)], options: { margin: 0.2, marginRetryThreshold: 1, logits: true } },
    { input: b, regions: [box(10, 10, 100, 24)], options: { margin: 0.25, marginRetryThreshold: 1, rotationRetryThreshold: 0 } },
    { input: b, regions: [box(10, 10, 100, 24)], options: { margin: 0.25, marginRetryThreshold: 0 } },
  ];
}

/** Starts `first` (it takes the free inference slot at once), then `rest` while it runs: they queue and merge. */
async function behind<T>(rec: Recognizer, rest: () => Promise<T>[]): Promise<{ results: PromiseSettledResult<T>[]; runs: number; calls: number }> {
  const s0 = rec.stats();
  const first = rec.recognize(page(400, 100, 9), Array.from({ length: 40 }, (_, i) => box((i * 9) % 300, 10, 60, 30)));
  const results = await Promise.allSettled(rest());
  await first;
  const s1 = rec.stats();
  return { results, runs: s1.batches.runs - s0.batches.runs - 1, calls: s1.batches.images - s0.batches.images - 1 };
}

const M = suite<{ pad: Recognizer; crnn: Recognizer }>('merged recognize() calls');

M.before(async (ctx) => {
  ctx.pad = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny-pad.onnx'), threads: 1 });
  ctx.crnn = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny.onnx'), threads: 1 });
});
M.after(async (ctx) => {
  await ctx.pad.dispose();
  await ctx.crnn.dispose();
});

M('merged calls read exactly what each reads alone, each with its own options and regions, in its own order', async (ctx) => {
  for (const rec of [ctx.pad, ctx.crnn]) {
    const list = calls();
    const alone: Recognition[][] = [];
    for (const c of list) alone.push(await rec.recognize(c.input, c.regions, c.options));
    const net0 = rec.stats().networkRuns.runs;
    const { results, runs, calls: merged } = await behind(rec, () => list.map((c) => rec.recognize(c.input, c.regions, c.options)));
    results.forEach((r, i) => {
      assert.is(r.status, 'fulfilled', `call ${i}`);
      same((r as PromiseFulfilledResult<Recognition[]>).value, alone[i], `call ${i}`);
    });
    // The queued calls shared runs: fewer merged runs than calls.
    assert.is(merged, list.length);
    assert.ok(runs >= 1 && runs < list.length, `${runs} runs for ${list.length} calls`);
    assert.ok(rec.stats().networkRuns.runs > net0);
    // The skipped regions stay in place.
    const five = (results[5] as PromiseFulfilledResult<Recognition[]>).value;
    assert.is(five[2].skipped, 'outside');
    assert.ok(five[0].logits instanceof Float32Array && five[2].logits === undefined);
    assert.is((results[0] as PromiseFulfilledResult<Recognition[]>).value[0].logits, undefined); // logits: that call's only
    assert.is((results[4] as PromiseFulfilledResult<Recognition[]>).value[0].characters?.length,
      (results[4] as PromiseFulfilledResult<Recognition[]>).value[0].text.length);
  }
});

M('single-word calls in flight take fewer network runs merged than with batch { maxSize: 1 }', async (ctx) => {
  const one = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny.onnx'), threads: 1, batch: { maxSize: 1 } });
  try {
    const words = Array.from({ length: 24 }, (_, i) => CROPS[i % CROPS.length]);
    const opts = { rotationRetryThreshold: 0, orientationRetryThreshold: 0 };
    const runs = async (rec: Recognizer) => {
      const before = rec.stats().networkRuns.runs;
      const out = await Promise.all(words.map((w) => rec.recognize(w, undefined, opts)));
      return { out, net: rec.stats().networkRuns.runs - before };
    };
    const merged = await runs(ctx.crnn);
    const unmerged = await runs(one);
    // squash model: every crop has one padded width, so a merged run is one network run
    assert.is(unmerged.net, words.length);
    assert.ok(merged.net <= 3, `${merged.net} network runs for ${words.length} calls`);
    merged.out.forEach((r, i) => same(r, unmerged.out[i], `word ${i}`));
    assert.equal(one.stats().config.batch, { maxSize: 1, maxDelayMs: 0 });
    assert.equal(ctx.crnn.stats().config.batch, { maxSize: 32, maxDelayMs: 0 });
    const s = ctx.crnn.stats();
    assert.ok(s.batches.runs < s.batches.images);
  } finally {
    await one.dispose();
  }
});

M('clients that send their next call as soon as one settles share the next run', async ({ crnn }) => {
  const alone = [];
  for (const f of CROPS) alone.push(await crnn.recognize(f));
  const s0 = crnn.stats().batches;
  const got: Recognition[][][] = [[], [], [], []];
  await Promise.all(got.map(async (mine, c) => {
    for (let k = 0; k < 3; k++) mine.push(await crnn.recognize(CROPS[(c + k) % CROPS.length]));
  }));
  const s1 = crnn.stats().batches;
  got.forEach((mine, c) => mine.forEach((r, k) => same(r, alone[(c + k) % CROPS.length], `client ${c} call ${k}`)));
  assert.is(s1.images - s0.images, 12);
  // the first call runs alone, then each delivery's follow-up calls run together: at most 4 runs (6 when the first
  // follow-up call took the free slot alone; 12 unmerged)
  assert.ok(s1.runs - s0.runs <= 4, `${s1.runs - s0.runs} runs for 12 calls of 4 clients`);
});

M('with concurrency 2, merged calls are shared out over both inference slots and read as alone', async () => {
  const rec = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny-pad.onnx'), threads: 1, concurrency: 2 });
  try {
    const list = calls();
    const alone: Recognition[][] = [];
    for (const c of list) alone.push(await rec.recognize(c.input, c.regions, c.options));
    // Two runs overlap in time only when the OS gives both slots a core at once: on a loaded machine one burst may
    // run them one after the other, so up to 5 bursts, each read as alone and merged (peak counts since creation).
    for (let burst = 0; burst < 5 && rec.stats().networkRuns.peak < 2; burst++) {
      const s0 = rec.stats();
      const got = await Promise.all([...list, ...list].map((c) => rec.recognize(c.input, c.regions, c.options)));
      got.forEach((r, i) => same(r, alone[i % list.length], `burst ${burst} call ${i}`));
      const s1 = rec.stats();
      assert.ok(s1.batches.runs - s0.batches.runs < 2 * list.length);
    }
    assert.is(rec.stats().networkRuns.peak, 2);
  } finally {
    await rec.dispose();
  }
});

M('calls merge only with calls of the same batchSize; a merged run holds at most batch.maxSize crops', async () => {
  const rec = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny.onnx'), threads: 1, batch: { maxSize: 5 } });
  try {
    const img = page(300, 60, 4);
    const three = [box(0, 0, 90, 30), box(100, 0, 90, 30), box(200, 10, 90, 40)];
    const alone = await rec.recognize(img, three);
    // 3 + 3 crops do not fit in 5: four calls of three crops run in four runs, as four calls of batchSize 2 and 3.
    let r = await behind(rec, () => [1, 2, 3, 4].map(() => rec.recognize(img, three)));
    assert.is(r.runs, 4);
    r = await behind(rec, () => [2, 3, 2, 3].map((b) => rec.recognize(img, three.slice(0, 1), { batchSize: b })));
    assert.is(r.runs, 2); // batchSize 2 with 2, batchSize 3 with 3
    r.results.forEach((x) => same((x as PromiseFulfilledResult<Recognition[]>).value, alone.slice(0, 1), 'one region'));
    // one region each: five calls fill a run
    r = await behind(rec, () => Array.from({ length: 10 }, () => rec.recognize(img, three.slice(0, 1))));
    assert.is(r.runs, 2);
    // a call heavier than maxSize runs alone, whole
    const big = Array.from({ length: 8 }, (_, i) => box(i * 30, 0, 30, 30));
    const [heavy] = await Promise.all([rec.recognizeDetailed(img, big), rec.recognize(img, three)]);
    assert.is(heavy.words.length, 8);
  } finally {
    await rec.dispose();
  }
});

M('batch.maxDelayMs: a call waits that long for partners, then runs with them', async () => {
  const rec = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny.onnx'), threads: 1, batch: { maxSize: 32, maxDelayMs: 150 } });
  try {
    const s0 = rec.stats().batches;
    const t0 = Date.now();
    const a = rec.recognize(CROPS[0]);
    await new Promise((r) => setTimeout(r, 20));
    const b = rec.recognize(CROPS[1]);
    const [ra, rb] = await Promise.all([a, b]);
    const waited = Date.now() - t0;
    const s1 = rec.stats().batches;
    assert.is(s1.images - s0.images, 2);
    assert.is(s1.runs - s0.runs, 1);
    assert.ok(waited >= 140, `waited ${waited} ms`);
    same(ra, await rec.recognize(CROPS[0]), 'a');
    same(rb, await rec.recognize(CROPS[1]), 'b');
  } finally {
    await rec.dispose();
  }
});

M('aborting or timing out one merged call rejects it alone; the run goes on for the others', async ({ pad }) => {
  const list = calls();
  const alone: Recognition[][] = [];
  for (const c of list) alone.push(await pad.recognize(c.input, c.regions, c.options));
  const ac = new AbortController();
  const { results } = await behind(pad, () => {
    const p = list.map((c, i) => pad.recognize(c.input, c.regions, {
      ...c.options, ...(i === 2 ? { signal: ac.signal } : {}), ...(i === 5 ? { timeoutMs: 1 } : {}),
    }));
    ac.abort(new Error('client went away'));
    return p;
  });
  results.forEach((r, i) => {
    if (i === 2) {
      assert.is(r.status, 'rejected');
      assert.is((r as PromiseRejectedResult).reason.name, 'AbortError');
    } else if (i === 5) {
      assert.is(r.status, 'rejected');
      assert.is((r as PromiseRejectedResult).reason.code, 'ERR_CRAFT_TIMEOUT');
    } else {
      assert.is(r.status, 'fulfilled', `call ${i}`);
      same((r as PromiseFulfilledResult<Recognition[]>).value, alone[i], `call ${i}`);
    }
  });
  const s = pad.stats();
  assert.is(s.inFlight, 0);
  assert.ok(s.aborted >= 1 && s.timedOut >= 1);
});

M('bad input in one merged call fails that call alone, with its code', async ({ pad }) => {
  const list = calls();
  const alone: Recognition[][] = [];
  for (const c of list) alone.push(await pad.recognize(c.input, c.regions, c.options));
  const bad = [new Uint8Array([1, 2, 3, 4]), path.join(FIXTURES, 'missing.png'), fs.readFileSync(CROPS[0]).subarray(0, 60)];
  const { results, runs } = await behind(pad, () => [
    ...list.map((c) => pad.recognize(c.input, c.regions, c.options)),
    ...bad.map((b) => pad.recognize(b)),
  ]);
  assert.ok(runs < list.length + bad.length, 'the bad calls were merged with the good ones');
  list.forEach((_, i) => {
    assert.is(results[i].status, 'fulfilled', `call ${i}`);
    same((results[i] as PromiseFulfilledResult<Recognition[]>).value, alone[i], `call ${i}`);
  });
  const codes = results.slice(list.length).map((r) => (r as PromiseRejectedResult).reason?.code);
  assert.equal(codes, ['ERR_CRAFT_DECODE', 'ERR_CRAFT_IO', 'ERR_CRAFT_DECODE']);
  // and the recogniser reads on
  same(await pad.recognize(CROPS[0]), alone[0], 'after');
});

M('dispose() with merged calls queued: they all settle normally, then the model is freed', async () => {
  const rec = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny-pad.onnx'), threads: 1 });
  const want = [];
  for (const f of CROPS) want.push(await rec.recognize(f));
  const pending = [...CROPS, ...CROPS].map((f) => rec.recognize(f));
  assert.ok(rec.stats().queued > 0, 'calls are queued');
  const disposed = rec.dispose();
  await rejects(() => rec.recognize(CROPS[0]), { code: 'ERR_CRAFT_DISPOSED' });
  const got = await Promise.all(pending);
  got.forEach((r, i) => same(r, want[i % CROPS.length], `call ${i}`));
  await disposed;
  assert.is(rec.stats().completed, 15);
});

M('batch options are validated, naming the argument', async () => {
  const model = path.join(MODELS, 'crnn-tiny.onnx');
  await rejects(() => Recognizer.create({ model, batch: { maxSize: 0 } }), { name: 'RangeError', message: /batch\.maxSize/ });
  await rejects(() => Recognizer.create({ model, batch: { maxSize: 1.5 } }), { name: 'RangeError', message: /batch\.maxSize/ });
  await rejects(() => Recognizer.create({ model, batch: { maxDelayMs: -1 } }), { name: 'RangeError', message: /batch\.maxDelayMs/ });
  await rejects(() => Recognizer.create({ model, batch: { maxSise: 4 } } as never), { name: 'TypeError', message: /maxSize/ });
  await rejects(() => Recognizer.create({ model, batch: 'on' } as never), { name: 'TypeError', message: /batch/ });
});

M.run();
