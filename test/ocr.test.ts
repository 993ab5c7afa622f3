// The OCR pipeline with the tiny test models: detect -> recognise -> reading order, one decode, options, lifecycle.
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, Detector, Ocr, readingOrder, Recognizer } from '../lib';
import { IMAGES, rejects, ROOT, TINY_MODEL } from './helpers';

const RECOGNIZER = path.join(ROOT, 'test', 'models', 'crnn-tiny-pad.onnx');
const IMAGE = path.join(IMAGES, 'hello.png');

const O = suite<{ ocr: Ocr }>('ocr');
O.before(async (ctx) => {
  ctx.ocr = await Ocr.create({ detector: { model: TINY_MODEL, threads: 1 }, recognizer: { model: RECOGNIZER, threads: 1 } });
});
O.after(async (ctx) => {
  await ctx.ocr.dispose();
});

O('read(): every detected word read, in lines in reading order, text one line per line', async ({ ocr }) => {
  const det = await ocr.detector.detect(IMAGE);
  const r = await ocr.read(IMAGE);
  assert.is(r.width, det.width);
  assert.is(r.height, det.height);
  assert.ok(r.words.length > 0);
  // Every detected word but those too small to crop (skipped by the recogniser).
  const texts = await ocr.recognizer.recognize(IMAGE, det.words);
  assert.is(r.words.length, texts.filter((t) => !t.skipped).length);
  for (const w of r.words) {
    assert.is(w.box.length, 4);
    assert.type(w.score, 'number');
    assert.type(w.text, 'string');
    assert.ok(w.confidence >= 0 && w.confidence <= 1);
  }
  // Lines hold each word once, in order; they are what readingOrder() gives for the words' boxes.
  assert.equal(r.lines.flatMap((l) => l.words), r.words.map((_, i) => i));
  assert.equal(r.lines.map((l) => l.words.length), readingOrder(r.words.map((w) => w.box)).map((l) => l.words.length));
  for (const l of r.lines) assert.is(l.text, l.words.map((i) => r.words[i].text).filter(Boolean).join(' '));
  assert.is(r.text, r.lines.map((l) => l.text).join('\n'));
  // The same words (boxes and texts) as detect() + recognize() give.
  const pairs = (ws: { box: unknown; text: string }[]) => ws.map((w) => JSON.stringify([w.box, w.text])).sort();
  const read = det.words.map((w, i) => ({ box: w.box, text: texts[i].text })).filter((_, i) => !texts[i].skipped);
  assert.equal(pairs(r.words), pairs(read));
  const t = r.timings;
  assert.ok(t.decode > 0 && t.detection > 0 && t.recognition > 0 && t.layout >= 0);
  assert.ok(t.total >= t.decode + t.detection + t.recognition - 1e-6);
});

O('the image is decoded once; a DecodedImage input gives the same result and is not released', async ({ ocr }) => {
  const image = await decodeImage(IMAGE);
  const a = await ocr.read(image);
  const b = await ocr.read(IMAGE);
  assert.is(a.timings.decode, 0);
  assert.equal(a.words, b.words);
  assert.is(a.text, b.text);
  assert.not.ok(image.released);
  // Limits still apply to a decoded image, and a coded failure leaves it usable.
  await rejects(() => ocr.detector.detect(image, { maxPixels: 100 }), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
  await rejects(() => ocr.recognizer.recognize(image, undefined, { maxPixels: 100 }), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
  assert.equal((await ocr.read(image)).words, a.words);
  image.release();
  await rejects(() => ocr.read(image), { code: 'ERR_CRAFT_DISPOSED' });
});

O('options: detect/recognize/layout pass through; minConfidence filters; unknown keys are named', async ({ ocr }) => {
  const all = await ocr.read(IMAGE, { recognize: { rotationRetryThreshold: 0 } });
  const conf = all.words.map((w) => w.confidence).sort((x, y) => x - y);
  const mid = conf[Math.floor(conf.length / 2)];
  const some = await ocr.read(IMAGE, { recognize: { rotationRetryThreshold: 0 }, minConfidence: mid });
  assert.is(some.words.length, conf.filter((c) => c >= mid).length);
  const poly = await ocr.read(IMAGE, { detect: { polygons: true } });
  assert.ok(poly.words.every((w) => Array.isArray(w.polygon)));
  const none = await ocr.read(IMAGE, { minConfidence: 1 });
  assert.equal(none.words, []);
  assert.equal(none.lines, []);
  assert.is(none.text, '');
  await rejects(() => ocr.read(IMAGE, { detct: {} } as never), { name: 'TypeError', message: /did you mean 'detect'/ });
  await rejects(() => ocr.read(IMAGE, { detect: { textThreshold: 2 } }), { name: 'RangeError', message: /textThreshold/ });
  await rejects(() => ocr.read(IMAGE, { layout: { columnGap: -1 } }), { name: 'RangeError', message: /columnGap/ });
  await rejects(() => ocr.read(IMAGE, { minConfidence: 'x' } as never), { name: 'TypeError', message: /minConfidence/ });
  // the crop margin reaches recognize(): validated there, and the words read are recognize()'s with that margin
  await rejects(() => ocr.read(IMAGE, { recognize: { margin: 2 } }), { name: 'RangeError', message: /margin/ });
  const grown = await ocr.read(IMAGE, { recognize: { margin: 0.5, rotationRetryThreshold: 0 } });
  const det = await ocr.detector.detect(IMAGE);
  const want = await ocr.recognizer.recognize(IMAGE, det.words, { margin: 0.5, rotationRetryThreshold: 0 });
  assert.equal(grown.words.map((w) => w.text).sort(), want.filter((r) => !r.skipped).map((r) => r.text).sort());
});

O('failures are coded; abort and timeout; the pipeline stays usable', async ({ ocr }) => {
  await rejects(() => ocr.read(new Uint8Array([9, 9, 9])), { code: 'ERR_CRAFT_DECODE' });
  await rejects(() => ocr.read('/nonexistent.png'), { code: 'ERR_CRAFT_IO' });
  const ac = new AbortController();
  ac.abort();
  await rejects(() => ocr.read(IMAGE, { signal: ac.signal }), { name: 'AbortError' });
  await rejects(() => ocr.read(IMAGE, { timeoutMs: 0 }), { code: 'ERR_CRAFT_TIMEOUT' });
  const r = await ocr.read(IMAGE);
  assert.ok(r.words.length > 0);
});

O('given models are not disposed by the Ocr; created ones are', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const recognizer = await Recognizer.create({ model: RECOGNIZER, threads: 1 });
  const ocr = await Ocr.create({ detector, recognizer });
  await ocr.read(IMAGE);
  await ocr.dispose();
  await rejects(() => ocr.read(IMAGE), { code: 'ERR_CRAFT_DISPOSED' });
  assert.ok((await detector.detect(IMAGE)).words.length > 0);
  assert.ok((await recognizer.recognize(IMAGE)).length === 1);
  await detector.dispose();
  await recognizer.dispose();
  await rejects(() => Ocr.create({ recognizer: { model: TINY_MODEL } }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /not a recogniser/ });
  await rejects(() => Ocr.create({ detector: 'x' } as never), { name: 'TypeError', message: /detector/ });
});

O.run();
