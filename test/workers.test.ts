// worker_threads (the addon is context-aware: per-environment instance data) and the copying path for heatmaps
// that Electron needs when external ArrayBuffers are refused.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lib from '../lib';
import { Detector, type DetectResult } from '../lib';
import { binding } from '../lib/binding';
import { IMAGES, syntheticPage, TINY_MODEL, ROOT } from './helpers';

const img = (name: string) => path.join(IMAGES, name);

/** Runs `body` (CommonJS, with `lib`, `parentPort`, `workerData` in scope) in a worker that loads the TS sources. */
function spawn(body: string, workerData: unknown = {}): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const lib = require(${JSON.stringify(path.join(ROOT, 'lib'))});
    (async () => { ${body} })().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));`;
  return new Worker(code, { eval: true, workerData, execArgv: ['-r', 'tsx/cjs'] });
}

function messages(worker: Worker): { next(): Promise<any>; exit: Promise<number> } {
  const queue: any[] = [];
  let waiting: ((m: any) => void) | undefined;
  worker.on('message', (m) => {
    if (m && m.error) m = `worker failed: ${m.error}`;
    if (waiting) { const w = waiting; waiting = undefined; w(m); } else queue.push(m);
  });
  const exit = new Promise<number>((resolve, reject) => {
    worker.on('exit', resolve);
    worker.on('error', reject);
  });
  return {
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => { waiting = r; })),
    exit,
  };
}

// Plain JS source, shared with the workers (a TS function's toString() may carry compiler helpers).
const SUMMARY = `(r) => ({
  width: r.width, height: r.height, words: r.words,
  region: Array.from(r.heatmaps.region.subarray(0, 2000)), regionLength: r.heatmaps.region.length,
})`;
const summary: (r: DetectResult) => unknown = eval(SUMMARY);

const W = 320, H = 200;
const raw = () => ({ data: syntheticPage(W, H, 5), width: W, height: H, channels: 3 as const });

const Workers = suite('worker_threads');

Workers('several detectors in several workers give the main thread\'s results', async () => {
  const main = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const expected = [summary(await main.detect(img('hello.png'), { heatmaps: true })), summary(await main.detect(raw(), { heatmaps: true }))];
  await main.dispose();

  const body = `
    const { syntheticPage } = require(${JSON.stringify(path.join(ROOT, 'test', 'helpers'))});
    const summary = ${SUMMARY};
    // Two detectors per worker, used concurrently.
    const [a, b] = await Promise.all([1, 2].map(() => lib.Detector.create({ model: workerData.model, threads: 1 })));
    const raw = { data: syntheticPage(${W}, ${H}, 5), width: ${W}, height: ${H}, channels: 3 };
    const [r1, r2] = await Promise.all([a.detect(workerData.image, { heatmaps: true }), b.detect(raw, { heatmaps: true })]);
    parentPort.postMessage([summary(r1), summary(r2)]);
    await Promise.all([a.dispose(), b.dispose()]);`;
  const workers = [0, 1, 2].map(() => messages(spawn(body, { model: TINY_MODEL, image: img('hello.png') })));
  const results = await Promise.all(workers.map((w) => w.next()));
  for (const r of results) assert.equal(r, expected);
  assert.equal(await Promise.all(workers.map((w) => w.exit)), [0, 0, 0]);
});

Workers('terminating workers mid-creation, mid-decode and mid-inference does not crash the process', async () => {
  const body = `
    const BIG = 1536;
    const big = { data: new Uint8Array(BIG * BIG * 3).fill(200), width: BIG, height: BIG, channels: 3 };
    parentPort.postMessage('creating');
    const d = await lib.Detector.create({ model: workerData.model, threads: 1 });
    const ps = [d.detect(big, { canvasSize: BIG, magRatio: 1, tiling: 'off' }), d.detect(workerData.image), d.detect(workerData.image)];
    ps.forEach((p) => p.catch(() => {}));
    parentPort.postMessage('detecting');
    const poll = setInterval(() => { if (d.stats().runningInferences > 0) { clearInterval(poll); parentPort.postMessage('inferring'); } }, 1);
    await Promise.all(ps);
    parentPort.postMessage('done');`;
  for (const stage of ['creating', 'detecting', 'inferring']) {
    const w = spawn(body, { model: TINY_MODEL, image: img('hello.png') });
    const m = messages(w);
    let msg;
    do msg = await m.next(); while (msg !== stage && msg !== 'done');
    assert.is(msg, stage, `reached ${stage} before the work finished`);
    await w.terminate();
    assert.is(await m.exit, 1);
  }
  // The main thread's addon instance is unaffected.
  const d = await Detector.create({ model: TINY_MODEL, threads: 1 });
  assert.ok((await d.detect(img('hello.png'))).words.length > 0);
  await d.dispose();
});

Workers('a worker exiting on its own with detections in flight exits cleanly', async () => {
  const w = spawn(`
    const d = await lib.Detector.create({ model: workerData.model, threads: 1 });
    for (let i = 0; i < 4; i++) d.detect(workerData.image).catch(() => {});
    process.exit(0);`, { model: TINY_MODEL, image: img('hello.png') });
  assert.is(await messages(w).exit, 0);
});

Workers('OCR (detector + recogniser) in workers and on the main thread gives the same text', async () => {
  const recognizer = path.join(ROOT, 'test', 'models', 'crnn-tiny-pad.onnx');
  const main = await lib.Ocr.create({ detector: { model: TINY_MODEL, threads: 1 }, recognizer: { model: recognizer, threads: 1 } });
  const expected = (await main.read(img('hello.png'))).text;
  await main.dispose();
  const body = `
    const ocr = await lib.Ocr.create({ detector: { model: workerData.model, threads: 1 }, recognizer: { model: workerData.recognizer, threads: 1 } });
    const image = await lib.decodeImage(workerData.image);
    const [a, b] = await Promise.all([ocr.read(image), ocr.read(workerData.image)]);
    image.release();
    await ocr.dispose();
    parentPort.postMessage([a.text, b.text]);`;
  // Listeners go on at spawn: a worker that finishes before we look at it must not lose its message.
  const channels = [1, 2].map(() => messages(spawn(body, { model: TINY_MODEL, recognizer, image: img('hello.png') })));
  for (const m of channels) {
    // A worker that dies without a message fails the test instead of leaving it waiting.
    const got = await Promise.race([m.next(), m.exit.then((code) => `worker exited (${code}) without a result`,
      (err) => `worker error: ${err && err.stack || err}`)]);
    assert.equal(got, [expected, expected]);
    assert.is(await m.exit, 0);
  }
});

Workers.run();

const Copy = suite('external buffers refused');

Copy('heatmaps come back right through the copying path (Electron), and the setting is per environment', async () => {
  const d = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const b = binding();
  assert.is(b.setExternalBuffers(), true);
  const external = await d.detect(img('hello.png'), { heatmaps: true });
  const batchedExternal = await d.detectBatch([raw(), raw()], { heatmaps: true });
  b.setExternalBuffers(false);
  try {
    assert.is(b.setExternalBuffers(), false);
    const copied = await d.detect(img('hello.png'), { heatmaps: true });
    assert.equal(copied.words, external.words);
    assert.equal(copied.heatmaps!.region, external.heatmaps!.region);
    assert.equal(copied.heatmaps!.affinity, external.heatmaps!.affinity);
    assert.is(copied.heatmaps!.region.byteOffset, 0);
    assert.is(copied.heatmaps!.region.buffer.byteLength, copied.heatmaps!.region.byteLength);
    const batchedCopy = await d.detectBatch([raw(), raw()], { heatmaps: true });
    for (let i = 0; i < 2; i++) assert.equal(batchedCopy[i].heatmaps!.region, batchedExternal[i].heatmaps!.region);
    // Copies are independent of each other: writing one does not change another.
    copied.heatmaps!.region[0] = 42;
    assert.is.not(external.heatmaps!.region[0], 42);

    // Worker environments have their own setting (per-environment instance data).
    const w = spawn(`
      const b = require(${JSON.stringify(path.join(ROOT, 'lib', 'binding'))}).binding();
      const d = await lib.Detector.create({ model: workerData.model, threads: 1 });
      const r = await d.detect(workerData.image, { heatmaps: true });
      parentPort.postMessage({ externalBuffers: b.setExternalBuffers(), sum: r.heatmaps.region.reduce((s, v) => s + v, 0) });
      await d.dispose();`, { model: TINY_MODEL, image: img('hello.png') });
    const msg = await messages(w).next();
    assert.is(msg.externalBuffers, true);
    const sum = external.heatmaps!.region.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(msg.sum - sum) < 1e-3);
  } finally {
    b.setExternalBuffers(true);
  }
  await d.dispose();
});

Copy.run();
