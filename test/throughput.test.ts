// The scheduler: detectBatch(), micro-batching, the inference pool, back-pressure, cancellation, stats().
// Behaviour only; the one timing assertion (an aborted inference stops) is relative to a full run measured here.
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, type DetectResult, type DetectorStats } from '../lib';
import { Scheduler } from '../lib/scheduler';
import { encodeBmp, IMAGES, rejects, syntheticPage, TINY_MODEL } from './helpers';

const img = (name: string) => path.join(IMAGES, name);
const strip = (r: DetectResult) => ({ width: r.width, height: r.height, scale: r.scale, words: r.words });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Raw pages of a few sizes: same-size pages share a padded shape, the others don't. */
function page(w: number, h: number, seed: number) {
  return { data: syntheticPage(w, h, seed), width: w, height: h, channels: 3 as const };
}
/** A big blank raw image whose single inference takes long enough to abort in the middle (no tiling, no resize). */
const BIG = 1536;
const big = { data: new Uint8Array(BIG * BIG * 3).fill(200), width: BIG, height: BIG, channels: 3 as const };
const bigOpts = { canvasSize: BIG, magRatio: 1, tiling: 'off' as const };

async function until(cond: () => boolean, timeoutMs = 20000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached');
    await sleep(1);
  }
}

function consistent(s: DetectorStats) {
  assert.is(s.submitted, s.completed + s.failed + s.aborted + s.timedOut + s.inFlight + s.queued, JSON.stringify(s));
}

// ---- detectBatch ------------------------------------------------------------------------------------------------

const Batch = suite<{ detector: Detector }>('detectBatch');
Batch.before(async (ctx) => {
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
});
Batch.after(async (ctx) => ctx.detector.dispose());

Batch('results equal detect() per image, in input order; same-shape images share runs', async ({ detector }) => {
  const inputs = [page(300, 200, 1), page(300, 200, 2), img('hello.png'), page(300, 200, 3), page(500, 120, 4), img('hello.png')];
  const single = [];
  for (const input of inputs) single.push(strip(await detector.detect(input)));
  const before = detector.stats().batches;
  const batched = await detector.detectBatch(inputs);
  assert.equal(batched.map(strip), single);
  const after = detector.stats().batches;
  assert.is(after.images - before.images, 6);
  // 300x200 (x1.5 -> 450x300 -> 480x320) three times, hello.png twice, 500x120 once: 3 runs.
  assert.is(after.runs - before.runs, 3);
  for (const r of batched) assert.ok(r.timings.inference > 0 && r.timings.queue >= 0);
});

Batch('batchSize caps images per run', async ({ detector }) => {
  const inputs = Array.from({ length: 5 }, (_, i) => page(256, 128, i + 1));
  const before = detector.stats().batches;
  const r = await detector.detectBatch(inputs, { batchSize: 2 });
  assert.is(r.length, 5);
  const after = detector.stats().batches;
  assert.is(after.runs - before.runs, 3);
});

Batch('heatmaps of a batched image equal those of a single run', async ({ detector }) => {
  const a = await detector.detect(img('hello.png'), { heatmaps: true });
  const [b, c] = await detector.detectBatch([img('hello.png'), img('hello.png')], { heatmaps: true });
  for (const r of [b, c]) {
    assert.is(r.heatmaps!.region.length, a.heatmaps!.region.length);
    let maxDiff = 0;
    for (let i = 0; i < a.heatmaps!.region.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a.heatmaps!.region[i] - r.heatmaps!.region[i]));
    }
    assert.ok(maxDiff < 1e-4, `max diff ${maxDiff}`);
  }
});

Batch('a bad image rejects the call with its code; the detector lives on', async ({ detector }) => {
  await rejects(() => detector.detectBatch([img('hello.png'), Buffer.from('not an image'), img('hello.png')]),
    { code: 'ERR_CRAFT_DECODE' });
  await until(() => detector.stats().inFlight === 0);
  assert.ok((await detector.detectBatch([img('hello.png')]))[0].words.length > 0);
  consistent(detector.stats());
});

Batch('invalid arguments', async ({ detector }) => {
  await rejects(() => detector.detectBatch([]), { name: 'TypeError', message: /non-empty array/ });
  await rejects(() => detector.detectBatch('x' as never), { name: 'TypeError' });
  await rejects(() => detector.detectBatch([img('hello.png'), 42 as never]), { name: 'TypeError', message: /inputs\[1\]/ });
  await rejects(() => detector.detectBatch([img('hello.png')], { batchSize: 0 }), { name: 'RangeError', message: /batchSize/ });
});

Batch.run();

// ---- micro-batching of concurrent detect() calls ------------------------------------------------------------------

const Micro = suite('micro-batching');

Micro('concurrent same-shape calls share one run; results equal unbatched ones', async () => {
  const plain = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const batched = await Detector.create({ model: TINY_MODEL, threads: 1, batch: { maxSize: 4, maxDelayMs: 1000 }, stageConcurrency: 2 });
  assert.equal(batched.stats().config.batch, { maxSize: 4, maxDelayMs: 1000 });
  const inputs = [1, 2, 3, 4].map((s) => page(320, 240, s));
  const expected = [];
  for (const i of inputs) expected.push(strip(await plain.detect(i)));
  const got = await Promise.all(inputs.map((i) => batched.detect(i)));
  assert.equal(got.map(strip), expected);
  assert.equal(batched.stats().batches, { runs: 1, images: 4 });
  await plain.dispose();
  await batched.dispose();
});

Micro('a lone request does not wait for partners that cannot come', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1, batch: { maxSize: 8, maxDelayMs: 60000 } });
  const r = await d.detect(img('hello.png')); // would hang for a minute if it waited for maxDelayMs
  assert.ok(r.words.length > 0);
  // Different shapes never share a run.
  await Promise.all([d.detect(page(320, 240, 1)), d.detect(page(640, 200, 2)), d.detect(page(320, 240, 3))]);
  const s = d.stats();
  assert.is(s.batches.images, 4);
  assert.ok(s.batches.runs >= 3, `runs ${s.batches.runs}`);
  await d.dispose();
});

Micro('aborting one member of a batch leaves the others intact', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1, batch: { maxSize: 3, maxDelayMs: 1000 }, stageConcurrency: 2 });
  const inputs = [1, 2, 3].map((s) => page(320, 240, s));
  const ref = strip(await d.detect(inputs[0]));
  const ac = new AbortController();
  const ps = inputs.map((input, i) => d.detect(input, i === 1 ? { signal: ac.signal } : {}));
  await until(() => d.stats().stages.inferring === 3);
  ac.abort();
  const [a, b, c] = await Promise.allSettled(ps);
  assert.is(b.status, 'rejected');
  assert.is((b as PromiseRejectedResult).reason.name, 'AbortError');
  assert.is(a.status, 'fulfilled');
  assert.is(c.status, 'fulfilled');
  assert.equal(strip((a as PromiseFulfilledResult<DetectResult>).value), ref);
  await d.dispose();
});

Micro.run();

// ---- pool, queue, back-pressure --------------------------------------------------------------------------------

const Pool = suite('pool and queue');

Pool('concurrency bounds the inferences running at once; results equal sequential ones', async () => {
  for (const concurrency of [1, 2]) {
    const d = await Detector.create({ model: TINY_MODEL, threads: 1, concurrency, stageConcurrency: 1 });
    const inputs = [1, 2, 3, 4, 5, 6].map((s) => page(256 + 32 * s, 200, s));
    const expected = [];
    for (const i of inputs) expected.push(strip(await d.detect(i)));
    let maxRunning = 0;
    let maxStages = 0;
    const timer = setInterval(() => {
      const s = d.stats();
      maxRunning = Math.max(maxRunning, s.runningInferences);
      maxStages = Math.max(maxStages, s.stages.inferring);
    }, 1);
    const got = await Promise.all(inputs.map((i) => d.detect(i)));
    clearInterval(timer);
    assert.equal(got.map(strip), expected);
    assert.ok(maxRunning <= concurrency, `max running ${maxRunning} > ${concurrency}`);
    assert.ok(maxStages <= concurrency);
    const s = d.stats();
    assert.is(s.completed, 12);
    assert.is(s.inFlight, 0);
    assert.is(s.queued, 0);
    consistent(s);
    await d.dispose();
  }
});

Pool('beyond maxQueue calls reject at once with ERR_CRAFT_QUEUE_FULL', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1, maxQueue: 2 });
  // Two calls start at once (the first decodes and infers in one native call on the free inference slot, the second
  // decodes on the free stage slot), two wait, the other six are refused.
  const ps = Array.from({ length: 10 }, () => d.detect(img('hello.png')));
  const settled = await Promise.allSettled(ps);
  const refused = settled.filter((s) => s.status === 'rejected');
  assert.is(refused.length, 6);
  for (const r of refused) {
    assert.is((r as PromiseRejectedResult).reason.code, 'ERR_CRAFT_QUEUE_FULL');
    assert.match((r as PromiseRejectedResult).reason.message, /maxQueue 2/);
  }
  assert.ok(settled.slice(0, 4).every((s) => s.status === 'fulfilled'));
  const s = d.stats();
  assert.is(s.rejected, 6);
  assert.is(s.completed, 4);
  consistent(s);
  // Once the queue drains, calls are accepted again.
  assert.ok((await d.detect(img('hello.png'))).words.length > 0);
  await d.dispose();
});

Pool('maxQueue 0 admits only what can start now; a detectBatch is admitted as a unit (issue 12)', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1, maxQueue: 0 });
  // Both slots free: one call takes the inference slot (decode + inference in one native call), the next the stage slot.
  const first = Promise.all([d.detect(img('hello.png')), d.detect(img('hello.png'))]);
  await rejects(() => d.detect(img('hello.png')), { code: 'ERR_CRAFT_QUEUE_FULL' });
  // Busy: the batch would have to wait, and nothing may wait.
  await rejects(() => d.detectBatch([img('hello.png'), img('hello.png'), img('hello.png')]), { code: 'ERR_CRAFT_QUEUE_FULL' });
  await first;
  // Idle: admitted whole, however many images it has (it used to be refused for its size, "0 waiting").
  const results = await d.detectBatch([img('hello.png'), img('hello.png'), img('hello.png')]);
  assert.is(results.length, 3);
  await d.dispose();
});

Pool('dispose waits for accepted calls, then refuses new ones', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const ps = [d.detect(img('hello.png')), d.detect(img('tall.png')), d.detect(img('hello.png'))];
  const disposed = d.dispose();
  await rejects(() => d.detect(img('hello.png')), { code: 'ERR_CRAFT_DISPOSED' });
  await rejects(() => d.detectBatch([img('hello.png')]), { code: 'ERR_CRAFT_DISPOSED' });
  const results = await Promise.all(ps);
  assert.ok(results.every((r) => r.width > 0));
  await disposed;
  await d.dispose();
});

Pool('invalid scheduling options', async () => {
  await rejects(() => Detector.create({ model: TINY_MODEL, concurrency: 0 }), { name: 'RangeError', message: /concurrency/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, maxQueue: -1 }), { name: 'RangeError', message: /maxQueue/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, batch: { maxsize: 2 } as never }), { name: 'TypeError', message: /did you mean 'maxSize'/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, batch: 4 as never }), { name: 'TypeError', message: /batch/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, stageConcurrency: 1.5 }), { name: 'RangeError' });
  await rejects(() => Detector.create({ model: TINY_MODEL, concurency: 2 } as never), { name: 'TypeError', message: /did you mean 'concurrency'/ });
});

Pool.run();

// ---- cancellation ---------------------------------------------------------------------------------------------

const Cancel = suite<{ detector: Detector; fullMs: number }>('cancellation');
Cancel.before(async (ctx) => {
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  // How long one uninterrupted inference of the big input takes on this machine right now.
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push((await ctx.detector.detect(big, bigOpts)).timings.inference);
  ctx.fullMs = Math.min(...runs);
});
Cancel.after(async (ctx) => ctx.detector.dispose());

Cancel('an already-aborted signal rejects at once with an AbortError, no work done', async ({ detector }) => {
  const before = detector.stats();
  const err = await rejects(() => detector.detect(img('hello.png'), { signal: AbortSignal.abort('nope') }),
    { name: 'AbortError', code: 'ABORT_ERR' });
  assert.is(err.cause, 'nope');
  const after = detector.stats();
  assert.is(after.aborted - before.aborted, 1);
  assert.is(after.batches.runs, before.batches.runs);
});

Cancel('aborting a running inference terminates it: the slot frees long before a full run would end', async (ctx) => {
  const { detector, fullMs } = ctx;
  const ac = new AbortController();
  const reason = new Error('client went away');
  const p = detector.detect(big, { ...bigOpts, signal: ac.signal });
  await until(() => detector.stats().runningInferences === 1);
  await sleep(Math.min(50, fullMs / 10));
  const t0 = performance.now();
  ac.abort(reason);
  const err = await rejects(() => p, { name: 'AbortError', code: 'ABORT_ERR' });
  assert.is(err.cause, reason);
  assert.ok(performance.now() - t0 < 50, 'the promise rejects at once');
  await until(() => detector.stats().runningInferences === 0);
  const stopMs = performance.now() - t0;
  if (process.env.CRAFT_TEST_VERBOSE) console.log(`  abort: stopped after ${stopMs.toFixed(1)} ms (full run ${fullMs.toFixed(0)} ms)`);
  assert.ok(stopMs < fullMs / 2, `inference stopped ${stopMs.toFixed(0)} ms after the abort; a full run takes ${fullMs.toFixed(0)} ms`);
  // The detector is fine afterwards.
  assert.ok((await detector.detect(img('hello.png'))).words.length > 0);
  consistent(detector.stats());
});

Cancel('aborting a queued request removes it; the others complete', async ({ detector }) => {
  const ac = new AbortController();
  const first = detector.detect(big, bigOpts);
  const queued = detector.detect(img('hello.png'), { signal: ac.signal });
  const last = detector.detect(img('hello.png'));
  assert.ok(detector.stats().queued >= 1);
  ac.abort();
  await rejects(() => queued, { name: 'AbortError' });
  const [a, b] = await Promise.all([first, last]);
  assert.ok(a.width === BIG && b.words.length > 0);
});

Cancel('timeoutMs rejects with ERR_CRAFT_TIMEOUT and terminates the inference', async ({ detector, fullMs }) => {
  const before = detector.stats().timedOut;
  const t0 = performance.now();
  await rejects(() => detector.detect(big, { ...bigOpts, timeoutMs: Math.max(20, fullMs / 10) }),
    { code: 'ERR_CRAFT_TIMEOUT', message: /timed out after/ });
  await until(() => detector.stats().runningInferences === 0);
  assert.ok(performance.now() - t0 < fullMs * 0.75, 'stopped well before a full run');
  assert.is(detector.stats().timedOut - before, 1);
  // A generous deadline does not fire.
  assert.ok((await detector.detect(img('hello.png'), { timeoutMs: 60000 })).words.length > 0);
});

Cancel('detectBatch: one signal cancels every image', async ({ detector }) => {
  const ac = new AbortController();
  const p = detector.detectBatch([big, big, img('hello.png')], { ...bigOpts, signal: ac.signal });
  await until(() => detector.stats().runningInferences > 0);
  ac.abort();
  await rejects(() => p, { name: 'AbortError' });
  await until(() => detector.stats().inFlight === 0 && detector.stats().runningInferences === 0);
  consistent(detector.stats());
});

Cancel('invalid signal / timeoutMs', async ({ detector }) => {
  await rejects(() => detector.detect(img('hello.png'), { signal: {} as never }), { name: 'TypeError', message: /signal/ });
  await rejects(() => detector.detect(img('hello.png'), { timeoutMs: -1 }), { name: 'RangeError', message: /timeoutMs/ });
});

Cancel.run();

// ---- stats ------------------------------------------------------------------------------------------------------

const Stats = suite('stats');

Stats('counters and stage histograms after a mixed workload', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const s0 = d.stats();
  assert.equal(s0.config, { concurrency: 1, stageConcurrency: 1, maxQueue: Infinity, batch: { maxSize: 1, maxDelayMs: 2 } });
  assert.is(s0.timings.total.count, 0);
  const bmp = encodeBmp(syntheticPage(200, 100), 200, 100);
  await Promise.allSettled([
    d.detect(img('hello.png')), d.detect(bmp), d.detect(Buffer.from('garbage')), d.detect(img('hello.png'), { signal: AbortSignal.abort() }),
  ]);
  const s = d.stats();
  assert.is(s.submitted, 4);
  assert.is(s.completed, 2);
  assert.is(s.failed, 1);
  assert.is(s.aborted, 1);
  assert.is(s.queued, 0);
  assert.is(s.inFlight, 0);
  consistent(s);
  assert.is(s.timings.total.count, 2);
  assert.is(s.timings.inference.count, 2);
  assert.is(s.timings.decode.count, 2);
  for (const h of Object.values(s.timings)) {
    assert.is(h.buckets[h.buckets.length - 1].le, Infinity);
    assert.is(h.buckets[h.buckets.length - 1].count, h.count);
    for (let i = 1; i < h.buckets.length; i++) assert.ok(h.buckets[i].count >= h.buckets[i - 1].count);
    assert.ok(h.p50 <= h.p95 && h.p95 <= h.p99 && h.p99 <= h.max);
    assert.ok(h.sum >= 0);
  }
  assert.ok(s.timings.inference.sum > 0);
  await d.dispose();
});

Stats.run();

// A lone request runs prepare + infer in one native call (prepareInfer); requests behind it take the staged path, so
// their decoding still overlaps its inference. Tested on a scripted binding: which calls, in which order, what is freed.
const Fused = suite('prepareInfer');

function scriptedNative() {
  const calls: string[] = [];
  const released: unknown[] = [];
  const gates: (() => void)[] = [];
  const later = <T>(v: T, name: string) => new Promise<T>((resolve) => { gates.push(() => { calls.push(`${name} done`); resolve(v); }); });
  const prepared = (id: string) => ({ ref: `prep-${id}`, width: 10, height: 10, paddedWidth: 32, paddedHeight: 32, decode: 1, preprocess: 2 });
  let fail = false;
  let slowFinish = false;
  const native = {
    prepare: (input: { path: string }) => { calls.push(`prepare ${input.path}`); return later(prepared(input.path), `prepare ${input.path}`); },
    infer: (refs: string[]) => { calls.push(`infer ${refs.join(',')}`); return later({ ref: `out-${refs.join(',')}`, ms: 3 }, `infer ${refs.join(',')}`); },
    prepareInfer: (input: { path: string }, _o: unknown, control: { terminate(): void }) => {
      calls.push(`prepareInfer ${input.path}`);
      const terminate = control.terminate.bind(control);
      Object.defineProperty(control, 'terminate', { value: () => { calls.push(`terminate ${input.path}`); terminate(); } });
      if (fail) return Promise.reject(Object.assign(new Error('bad image'), { code: 'ERR_CRAFT_DECODE' }));
      return later({ ...prepared(input.path), output: { ref: `out-${input.path}`, ms: 3 } }, `prepareInfer ${input.path}`);
    },
    finish: (p: string, o: string) => {
      const r = { p, o, timings: { decode: 1, preprocess: 2, inference: 0, postprocess: 1 } };
      if (!slowFinish) return Promise.resolve(r);
      calls.push(`finish ${p}`);
      return later(r, `finish ${p}`);
    },
    release: (...refs: unknown[]) => { released.push(...refs); },
    runStats: () => ({ runs: 0, running: 0, peak: 0 }),
  };
  const step = async () => { await new Promise((r) => setImmediate(r)); gates.shift()!(); await new Promise((r) => setImmediate(r)); };
  return { native, calls, released, step, setFail: (v: boolean) => { fail = v; }, setSlowFinish: (v: boolean) => { slowFinish = v; } };
}
const config = { concurrency: 1, stageConcurrency: 1, maxQueue: Infinity, batch: { maxSize: 1, maxDelayMs: 0 } };

Fused('a lone request uses prepareInfer; one arriving meanwhile is decoded during its inference, then inferred after it', async () => {
  const f = scriptedNative();
  const s = new Scheduler(f.native as never, config);
  const a = s.submit({ path: 'a' }, {} as never, {});
  const b = s.submit({ path: 'b' }, {} as never, {});
  await new Promise((r) => setImmediate(r));
  assert.equal(f.calls, ['prepareInfer a', 'prepare b'], 'b decodes while a runs');
  await f.step(); // a's prepare + infer done, b prepared is not yet (first gate is a's)
  await f.step(); // b prepared: inferred through the staged path
  assert.equal(f.calls, ['prepareInfer a', 'prepare b', 'prepareInfer a done', 'prepare b done', 'infer prep-b']);
  await f.step();
  const [ra, rb] = await Promise.all([a, b]) as unknown as { p: string; o: string; timings: { inference: number; queue: number } }[];
  assert.equal([ra.p, ra.o, rb.p, rb.o], ['prep-a', 'out-a', 'prep-b', 'out-prep-b']);
  assert.is(ra.timings.inference, 3, "the run's time is the request's inference time");
  const st = s.stats();
  assert.is(st.batches.runs, 2);
  assert.is(st.completed, 2);
  assert.is(st.timings.decode.count, 2);
  assert.is(st.timings.inference.count, 2);
  assert.is(st.inFlight, 0);
  assert.ok(f.released.includes('prep-a') && f.released.includes('out-a'), 'refs freed when the request settles');
});

Fused('inference does not run ahead of post-processing: a request arriving during a slow finish waits for it', async () => {
  const f = scriptedNative();
  f.setSlowFinish(true);
  const s = new Scheduler(f.native as never, config);
  const a = s.submit({ path: 'a' }, {} as never, {});
  await f.step(); // a inferred: its finish holds the stage slot
  const b = s.submit({ path: 'b' }, {} as never, {});
  await new Promise((r) => setImmediate(r));
  assert.equal(f.calls, ['prepareInfer a', 'prepareInfer a done', 'finish prep-a'], 'b not started while a post-processes');
  await f.step();
  await a;
  assert.equal(f.calls.slice(3), ['finish prep-a done', 'prepareInfer b']);
  await f.step();
  await f.step();
  await b;
});

Fused('not with batching: a request that may share a run is prepared alone first', async () => {
  const f = scriptedNative();
  const s = new Scheduler(f.native as never, { ...config, batch: { maxSize: 2, maxDelayMs: 0 } });
  const a = s.submit({ path: 'a' }, {} as never, {});
  await new Promise((r) => setImmediate(r));
  assert.equal(f.calls, ['prepare a']);
  await f.step();
  await f.step();
  await a;
});

Fused('aborting during prepareInfer terminates the run and frees what it returns; a failure frees the slot', async () => {
  const f = scriptedNative();
  const s = new Scheduler(f.native as never, config);
  const ac = new AbortController();
  const a = s.submit({ path: 'a' }, {} as never, { signal: ac.signal });
  await new Promise((r) => setImmediate(r));
  assert.is(s.stats().stages.inferring, 1);
  ac.abort();
  await rejects(() => a, { name: 'AbortError' });
  assert.ok(f.calls.includes('terminate a'), 'the run is stopped');
  await f.step(); // the native call completes after the abort: its refs are released, nothing is finished
  assert.ok(f.released.includes('prep-a') && f.released.includes('out-a'));
  assert.is(s.stats().runningInferences, 0);
  f.setFail(true);
  await rejects(() => s.submit({ path: 'b' }, {} as never, {}), { code: 'ERR_CRAFT_DECODE' });
  f.setFail(false);
  const c = s.submit({ path: 'c' }, {} as never, {});
  await f.step();
  assert.is(((await c) as unknown as { o: string }).o, 'out-c', 'the slot was given back');
  assert.is(s.stats().aborted, 1);
  assert.is(s.stats().failed, 1);
  await s.drain();
});

Fused.run();
