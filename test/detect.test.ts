// End-to-end detection with the tiny CRAFT-topology test model: inputs, outputs, concurrency, errors, lifecycle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, postprocess, type DetectResult } from '../lib';
import { encodeBmp, IMAGES, rejects, syntheticPage, TINY_MODEL, TINY_REFINER_MODEL, ROOT } from './helpers';

const Detect = suite<{ detector: Detector }>('detect');

Detect.before(async (ctx) => {
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
});
Detect.after(async (ctx) => {
  await ctx.detector.dispose();
});

const img = (name: string) => path.join(IMAGES, name);
const strip = (r: DetectResult) => ({ width: r.width, height: r.height, scale: r.scale, words: r.words });

Detect('info reports the provider, model interface, defaults and ONNX Runtime', ({ detector }) => {
  const info = detector.info;
  assert.is(info.executionProvider, 'cpu');
  assert.is(info.inputName, 'input');
  assert.ok(info.outputNames.includes('y'));
  assert.is(info.refiner, false);
  assert.equal(info.defaults, { textThreshold: 0.7, linkThreshold: 0.4, lowText: 0.4, canvasSize: 1280, magRatio: 1.5 });
  assert.match(info.onnxruntime.version, /^1\.\d+/);
  assert.ok(fs.existsSync(info.onnxruntime.path));
});

Detect('a PNG gives words in original-image coordinates, with scores and timings', async ({ detector }) => {
  const r = await detector.detect(img('hello.png'), { scale: 'fixed' });
  assert.is(r.width, 400);
  assert.is(r.height, 200);
  assert.is(r.scale, 1.5); // 400 * 1.5 = 600 < 1280
  assert.ok(r.words.length > 0, 'the test model finds components on text');
  for (const w of r.words) {
    assert.is(w.box.length, 4);
    assert.type(w.score, 'number');
    assert.ok(w.rawScore >= 0.7, 'a kept word reaches textThreshold (its highest region score)');
    assert.ok(w.score >= 0 && w.score <= 1, `score ${w.score} in [0, 1]`);
    // The reference doesn't clip: dilated or rotated boxes may pass the border by a few heatmap pixels (x 2/scale).
    // Random test-model weights may also fire in the zero padding (up to 32 network px = 32 / scale image px).
    const pad = 32 / r.scale + 8;
    for (const [x, y] of w.box) assert.ok(x > -8 && x < 400 + pad && y > -8 && y < 200 + pad, `corner ${x},${y} near the image`);
    // clockwise from the top-left: the first corner has the smallest x+y
    const sums = w.box.map(([x, y]) => x + y);
    assert.is(sums.indexOf(Math.min(...sums)), 0);
  }
  for (const k of ['decode', 'preprocess', 'inference', 'postprocess'] as const) assert.ok(r.timings[k] >= 0);
  assert.is(r.heatmaps, undefined);
});

Detect('every lossless format decodes to the same pixels and the same words', async ({ detector }) => {
  const ref = strip(await detector.detect(img('hello.png')));
  for (const f of ['hello.tiff', 'hello.webp']) {
    assert.equal(strip(await detector.detect(img(f))), ref, f);
  }
  // GIF (16-colour palette), JPEG (lossy), greyscale BMP, RGBA: same size, some words.
  for (const f of ['hello.gif', 'hello.jpg', 'hello.bmp', 'hello-gray.png', 'hello-rgba.png']) {
    const r = await detector.detect(img(f));
    assert.is(r.width, 400, f);
    assert.is(r.height, 200, f);
    assert.ok(r.words.length > 0, f);
  }
});

Detect('path, Buffer, Uint8Array and ArrayBuffer inputs agree', async ({ detector }) => {
  const file = img('hello.png');
  const bytes = fs.readFileSync(file);
  const ref = strip(await detector.detect(file));
  assert.equal(strip(await detector.detect(bytes)), ref);
  assert.equal(strip(await detector.detect(new Uint8Array(bytes))), ref);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  assert.equal(strip(await detector.detect(ab)), ref);
});

Detect('raw RGB, RGBA and grey pixels match the same image encoded as BMP', async ({ detector }) => {
  const w = 257, h = 131; // odd sizes exercise padding to 32
  const rgb = syntheticPage(w, h);
  const fromBmp = strip(await detector.detect(encodeBmp(rgb, w, h)));
  assert.ok(fromBmp.words.length > 0);
  assert.equal(strip(await detector.detect({ data: rgb, width: w, height: h, channels: 3 })), fromBmp);
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba[i * 4] = rgb[i * 3]; rgba[i * 4 + 1] = rgb[i * 3 + 1]; rgba[i * 4 + 2] = rgb[i * 3 + 2]; rgba[i * 4 + 3] = 255;
  }
  assert.equal(strip(await detector.detect({ data: rgba, width: w, height: h, channels: 4 })), fromBmp);
  const gray = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) gray[i] = rgb[i * 3]; // the page is grey already (r == g == b)
  assert.equal(strip(await detector.detect({ data: gray, width: w, height: h, channels: 1 })), fromBmp);
});

Detect('canvasSize caps the long side; magRatio scales it; boxes scale back', async ({ detector }) => {
  // tiling: 'off' is CRAFT's resize_aspect_ratio (the default 'auto' tiles this image instead: test/tiling.test.ts).
  const tall = await detector.detect(img('tall.png'), { scale: 'fixed', tiling: 'off' });
  assert.is(tall.height, 1600);
  assert.ok(Math.abs(tall.scale - 1280 / 1600) < 1e-6, `scale ${tall.scale}`);
  assert.is(tall.downscaled, true);
  assert.is(tall.tiles, 1);
  const small = await detector.detect(img('hello.png'), { magRatio: 1, canvasSize: 256, tiling: 'off' });
  assert.ok(Math.abs(small.scale - 256 / 400) < 1e-6);
  const unit = await detector.detect(img('hello.png'), { magRatio: 1 });
  assert.is(unit.scale, 1);
});

Detect('heatmaps come back as Float32Arrays and postprocess() reproduces the words from them', async ({ detector }) => {
  const r = await detector.detect(img('hello.png'), { scale: 'fixed', heatmaps: true, polygons: true });
  const hm = r.heatmaps!;
  assert.instance(hm.region, Float32Array);
  assert.is(hm.width, 608 / 2); // 600 padded to 608
  assert.is(hm.height, 320 / 2); // 300 padded to 320
  assert.is(hm.region.length, hm.width * hm.height);
  assert.is(hm.affinity.length, hm.width * hm.height);
  const words = await postprocess(hm, { polygons: true });
  assert.is(words.length, r.words.length);
  const k = 2 / r.scale;
  words.forEach((w, i) => {
    w.box.forEach(([x, y], j) => {
      assert.ok(Math.abs(x * k - r.words[i].box[j][0]) < 1e-3);
      assert.ok(Math.abs(y * k - r.words[i].box[j][1]) < 1e-3);
    });
    assert.ok(Array.isArray(r.words[i].polygon) && r.words[i].polygon!.length >= 4, 'polygon or box fallback');
    assert.is(w.score, r.words[i].score);
  });
});

Detect('threshold options change the result in the expected direction', async ({ detector }) => {
  const base = await detector.detect(img('hello.png'));
  const strict = await detector.detect(img('hello.png'), { textThreshold: 0.99, lowText: 0.95, linkThreshold: 0.95 });
  assert.ok(strict.words.length <= base.words.length);
  const none = await detector.detect(img('hello.png'), { textThreshold: 1, lowText: 1, linkThreshold: 1 });
  assert.ok(none.words.every((w) => w.score >= 1));
});

Detect('concurrent detect() calls give the same results as sequential ones', async ({ detector }) => {
  const files = ['hello.png', 'tall.png', 'inverted.png', 'hello.jpg', 'hello.png', 'tall.png'].map(img);
  const sequential = [];
  for (const f of files) sequential.push(strip(await detector.detect(f)));
  const concurrent = await Promise.all(files.map((f) => detector.detect(f)));
  assert.equal(concurrent.map(strip), sequential);
});

Detect('the event loop keeps ticking during detection', async ({ detector }) => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = Date.now();
  await detector.detect(img('tall.png'));
  const elapsed = Date.now() - t0;
  clearInterval(timer);
  assert.ok(ticks >= Math.min(3, elapsed / 10), `${ticks} ticks in ${elapsed} ms`);
});

Detect('bad images reject with ERR_CRAFT_DECODE and the process lives on', async ({ detector }) => {
  const png = fs.readFileSync(img('hello.png'));
  const jpg = fs.readFileSync(img('hello.jpg'));
  await rejects(() => detector.detect(Buffer.alloc(0)), { code: 'ERR_CRAFT_DECODE', message: /empty/ });
  await rejects(() => detector.detect(Buffer.from('definitely not an image')), { code: 'ERR_CRAFT_DECODE' });
  await rejects(() => detector.detect(png.subarray(0, png.length / 2)), { code: 'ERR_CRAFT_DECODE', message: /png/ });
  await rejects(() => detector.detect(jpg.subarray(0, jpg.length / 2)), { code: 'ERR_CRAFT_DECODE', message: /truncated/ });
  const gif = fs.readFileSync(img('hello.gif'));
  await rejects(() => detector.detect(gif.subarray(0, gif.length / 2)), { code: 'ERR_CRAFT_DECODE', message: /GIF/ });
  await rejects(() => detector.detect(path.join(ROOT, 'no-such-file.png')), { code: 'ERR_CRAFT_IO', message: /no-such-file/ });
  assert.ok((await detector.detect(img('hello.png'))).words.length > 0, 'still works afterwards');
});

Detect('maxPixels refuses a decompression bomb before decoding', async ({ detector }) => {
  // A valid PNG signature and IHDR claiming 100000 x 100000 pixels, and nothing else.
  const png = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png, 0);
  png.writeUInt32BE(13, 8);
  png.write('IHDR', 12, 'latin1');
  png.writeUInt32BE(100000, 16);
  png.writeUInt32BE(100000, 20);
  png[24] = 8; png[25] = 2;
  await rejects(() => detector.detect(png), { code: 'ERR_CRAFT_INPUT_TOO_LARGE', message: /100000x100000/ });
  await rejects(() => detector.detect(img('hello.png'), { maxPixels: 1000 }), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
  await rejects(() => detector.detect({ data: new Uint8Array(300), width: 10, height: 10, channels: 3 }, { maxPixels: 99 }),
    { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
  assert.ok((await detector.detect(img('hello.png'), { maxPixels: false })).width === 400);
});

Detect('invalid arguments reject with TypeError / RangeError before any work', async ({ detector }) => {
  await rejects(() => detector.detect(img('hello.png'), { textThreshold: 1.5 }),
    { name: 'RangeError', message: /^Expected number between 0 and 1 for textThreshold but received 1\.5 of type number$/ });
  await rejects(() => detector.detect(42 as never), { name: 'TypeError', message: /for input/ });
  await rejects(() => detector.detect({ data: new Uint8Array(2), width: 1, height: 1, channels: 3 }), { name: 'RangeError', message: /input\.data/ });
  await rejects(() => detector.detect(img('hello.png'), { refine: true }), { name: 'TypeError', message: /LinkRefiner/ });
  await rejects(() => detector.detect(img('hello.png'), { polygon: true } as never), { name: 'TypeError', message: /did you mean 'polygons'/ });
});

Detect.run();

const Lifecycle = suite('lifecycle');

Lifecycle('dispose: in-flight detections finish, later calls reject with ERR_CRAFT_DISPOSED', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const inflight = [detector.detect(img('tall.png')), detector.detect(img('hello.png'))];
  await detector.dispose();
  const results = await Promise.all(inflight);
  assert.ok(results.every((r) => r.width > 0));
  await rejects(() => detector.detect(img('hello.png')), { code: 'ERR_CRAFT_DISPOSED', message: /disposed/ });
  await detector.dispose(); // idempotent
});

Lifecycle('model bytes work like a path', async () => {
  const detector = await Detector.create({ model: fs.readFileSync(TINY_MODEL) });
  const a = await detector.detect(img('hello.png'));
  await detector.dispose();
  const b = await Detector.create({ model: TINY_MODEL });
  assert.equal((await b.detect(img('hello.png'))).words, a.words);
  await b.dispose();
});

Lifecycle('bad models reject with ERR_CRAFT_MODEL_LOAD', async () => {
  await rejects(() => Detector.create({ model: path.join(ROOT, 'missing.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /missing\.onnx/ });
  await rejects(() => Detector.create({ model: img('hello.png') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /hello\.png/ });
  const bytes = fs.readFileSync(TINY_MODEL);
  await rejects(() => Detector.create({ model: bytes.subarray(0, bytes.length / 3) }), { code: 'ERR_CRAFT_MODEL_LOAD' });
  await rejects(() => Detector.create({ model: path.join(ROOT, 'test/models/wrong-rank.onnx') }),
    { code: 'ERR_CRAFT_MODEL_LOAD', message: /not a CRAFT model: expected a float32 input \[N,3,H,W\], found \[1,3,\?\]/ });
  await rejects(() => Detector.create({ model: path.join(ROOT, 'test/models/wrong-output.onnx') }),
    { code: 'ERR_CRAFT_MODEL_LOAD', message: /region\/affinity output/ });
});

Lifecycle('unavailable execution providers fall back with a reason, or fail clearly', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, executionProviders: ['tensorrt', 'cuda', 'cpu'] });
  const info = detector.info;
  assert.is(info.executionProvider, 'cpu');
  assert.equal(info.providerAttempts.map((a) => [a.name, a.ok]), [['tensorrt', false], ['cuda', false], ['cpu', true]]);
  assert.ok(info.providerAttempts[1].reason!.length > 0);
  assert.ok((await detector.detect(img('hello.png'))).words.length > 0);
  await detector.dispose();
  await rejects(() => Detector.create({ model: TINY_MODEL, executionProviders: ['cuda'] }),
    { code: 'ERR_CRAFT_MODEL_LOAD', message: /No requested execution provider.*cuda/ });
});

Lifecycle('a model with a LinkRefiner output: refine uses it and returns polygons', async () => {
  const detector = await Detector.create({ model: TINY_REFINER_MODEL });
  assert.is(detector.info.refiner, true);
  const plain = await detector.detect(img('hello.png'), { heatmaps: true });
  const refined = await detector.detect(img('hello.png'), { refine: true, heatmaps: true });
  assert.ok(refined.words.every((w) => Array.isArray(w.polygon)));
  let differs = false;
  for (let i = 0; i < plain.heatmaps!.affinity.length && !differs; i++) {
    differs = plain.heatmaps!.affinity[i] !== refined.heatmaps!.affinity[i];
  }
  assert.ok(differs, 'the refined link map replaces the affinity map');
  assert.equal(refined.heatmaps!.region, plain.heatmaps!.region);
  await detector.dispose();
});

Lifecycle.run();
