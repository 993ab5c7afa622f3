// The stretch retry (stretchRetryThreshold): a word still under the threshold is read again from its crop resized 1.5
// and 2 times wider, and the most confident reading is kept. Checked with the tiny random recognisers against crops
// built here already as wide (crops whose rows are each one grey level: resizing one along its rows changes no pixel,
// so a crop of 1.5 or 2 times the width is exactly what the retry reads), with the bundled recogniser on a squeezed
// word that it reads with letters dropped, and the option's validation.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recognizer } from '../lib';
import { IMAGES, rejects, ROOT, sideBySide } from './helpers';

const EXACT = { rotationRetryThreshold: 0, orientationRetryThreshold: 0, verticalRatio: Infinity } as const;
type Raw = { data: Uint8Array; width: number; height: number; channels: 3 };

/** A crop 32 high (the models' imgH: no vertical resize) whose every row is one random grey level, deterministic. */
function rowsCrop(width: number, seed: number): Raw {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const levels = Array.from({ length: 32 }, () => Math.round(rand() * 255));
  const data = new Uint8Array(width * 32 * 3);
  for (let y = 0; y < 32; y++) data.fill(levels[y], y * width * 3, (y + 1) * width * 3);
  return { data, width, height: 32, channels: 3 };
}

const T = suite<{ pad: Recognizer; g2: Recognizer; squash: Recognizer }>('stretch retry');
T.before(async (ctx) => {
  const model = (f: string) => path.join(ROOT, 'test', 'models', f);
  ctx.pad = await Recognizer.create({ model: model('crnn-tiny-pad.onnx'), threads: 1 });
  ctx.g2 = await Recognizer.create({ model: model('g2-tiny.onnx'), threads: 1 });
  ctx.squash = await Recognizer.create({ model: model('crnn-tiny.onnx'), threads: 1 });
});
T.after(async (ctx) => {
  await Promise.all([ctx.pad.dispose(), ctx.g2.dispose(), ctx.squash.dispose()]);
});

T('under the threshold: the most confident of the readings at 1x, 1.5x and 2x the width is kept', async ({ pad, g2 }) => {
  let stretchedKept = 0;
  for (const rec of [pad, g2]) {
    for (const seed of [1, 3, 6]) {
      for (const width of [24, 40, 70]) {
        const read = async (w: number, t: number) => rec.recognizeDetailed(rowsCrop(w, seed), undefined, { ...EXACT, stretchRetryThreshold: t });
        const off = await read(width, 0);
        // What the retry reads: the same rows at ceil(32 * (w / 32) * s) columns.
        const wider = [await read(Math.ceil(width * 1.5), 0), await read(width * 2, 0)];
        const on = await read(width, 1);
        const best = [off, ...wider].reduce((a, b) => (b.words[0].confidence > a.words[0].confidence ? b : a));
        assert.is(on.words[0].text, best.words[0].text, `seed ${seed}, width ${width}`);
        assert.is(on.words[0].confidence, best.words[0].confidence, `seed ${seed}, width ${width}`);
        if (best !== off) stretchedKept++;
        // One more run per padded width the wider crops fall in (multiples of 32).
        const padded = new Set([Math.ceil(width * 1.5), width * 2].map((w) => Math.ceil(w / 32) * 32));
        assert.is(on.runs, off.runs + padded.size, `seed ${seed}, width ${width}: runs`);
        // Over the threshold: not read again.
        const above = await read(width, off.words[0].confidence * 0.999);
        assert.equal(above.words, off.words);
        assert.is(above.runs, off.runs);
      }
    }
  }
  assert.ok(stretchedKept > 0, 'some wider reading is the more confident one');
});

T('a model that squashes every crop to its width is not read again', async ({ squash }) => {
  const crop = rowsCrop(60, 2);
  const off = await squash.recognizeDetailed(crop, undefined, { ...EXACT, stretchRetryThreshold: 0 });
  const on = await squash.recognizeDetailed(crop, undefined, { ...EXACT, stretchRetryThreshold: 1 });
  assert.equal(on.words, off.words);
  assert.is(on.runs, off.runs);
});

T('regions: each low-confidence word is read wider from its own crop', async ({ g2 }) => {
  const a = rowsCrop(70, 1), b = rowsCrop(40, 4);
  const { page, regions } = sideBySide([a, b]);
  const opts = { ...EXACT, margin: 0, inkCrop: false };
  const on = await g2.recognize(page, regions, { ...opts, stretchRetryThreshold: 1 });
  for (const [k, [crop, width, seed]] of ([[a, 70, 1], [b, 40, 4]] as const).entries()) {
    const alone = [crop, rowsCrop(Math.ceil(width * 1.5), seed), rowsCrop(width * 2, seed)];
    const readings = await Promise.all(alone.map(async (c) => (await g2.recognize(c, undefined, { ...EXACT, stretchRetryThreshold: 0 }))[0]));
    const best = readings.reduce((x, y) => (y.confidence > x.confidence ? y : x));
    assert.is(on[k].text, best.text, `region ${k}`);
    assert.is(on[k].confidence, best.confidence, `region ${k}`);
  }
});

/** A grey BMP (8 bits, palette = grey levels, bottom-up rows: tools/make_test_images.py's hello.bmp) as raw pixels. */
function readGreyBmp(file: string): { data: Uint8Array; width: number; height: number } {
  const b = fs.readFileSync(file);
  const offset = b.readUInt32LE(10), width = b.readInt32LE(18), height = b.readInt32LE(22);
  const stride = Math.ceil(width / 4) * 4;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) data.set(b.subarray(offset + (height - 1 - y) * stride, offset + (height - 1 - y) * stride + width), y * width);
  return { data, width, height };
}

/** A region of a grey image squeezed along its rows to `k` of its width (area average): a condensed word. RGB. */
function squeezed(img: { data: Uint8Array; width: number }, x0: number, y0: number, w: number, h: number, k: number): Raw {
  const W = Math.max(1, Math.round(w * k));
  const out = new Uint8Array(W * h * 3);
  for (let y = 0; y < h; y++) {
    for (let X = 0; X < W; X++) {
      const a = X / k, b = (X + 1) / k;
      let sum = 0, n = 0;
      for (let x = Math.floor(a); x < Math.ceil(b); x++) {
        const wt = Math.min(b, x + 1) - Math.max(a, x);
        sum += wt * img.data[(y0 + y) * img.width + x0 + x];
        n += wt;
      }
      out.fill(Math.round(sum / n), (y * W + X) * 3, (y * W + X) * 3 + 3);
    }
  }
  return { data: out, width: W, height: h, channels: 3 };
}

T('the bundled recogniser: a condensed word read with letters dropped reads whole wider', async () => {
  const have = ['craft-text-recognizer.onnx', 'craft-text-recognizer-int8.onnx'].every((f) => fs.existsSync(path.join(ROOT, 'models', f)));
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const page = readGreyBmp(path.join(IMAGES, 'hello.bmp'));
  // 'detector' (ink x 105-254, y 103-129) with 6 px of paper around it, squeezed to 0.3 of its width: 49 x 39, about
  // 5 px per letter at height 32, so 15 CTC frames for 8 letters and a blank between them.
  const crop = squeezed(page, 99, 97, 162, 39, 0.3);
  for (const model of ['default', 'default-fp32']) {
    const rec = await Recognizer.create({ model, threads: 1 });
    try {
      const off = await rec.recognizeDetailed(crop, undefined, { stretchRetryThreshold: 0, logits: true });
      const on = await rec.recognizeDetailed(crop, undefined, { logits: true });
      assert.ok(off.words[0].text.length < 'detector'.length, `${model}: read short unstretched ('${off.words[0].text}')`);
      assert.ok(off.words[0].confidence < 0.2, `${model}: at ${off.words[0].confidence}, under the default 0.2`);
      assert.is(on.words[0].text, 'detector', model);
      assert.ok(on.words[0].confidence > 0.5, `${model}: ${on.words[0].confidence}`);
      // Read from more frames: T x K logits, K = 96 classes (blank + 95 characters).
      assert.ok(on.words[0].logits!.length > off.words[0].logits!.length, `${model}: more frames`);
      assert.ok(on.runs > off.runs);
    } finally {
      await rec.dispose();
    }
  }
});

T('bad stretchRetryThreshold values: TypeError / RangeError naming it', async ({ pad }) => {
  const crop = rowsCrop(60, 1);
  await rejects(() => pad.recognize(crop, undefined, { stretchRetryThreshold: 1.5 }), { name: 'RangeError', message: /stretchRetryThreshold/ });
  await rejects(() => pad.recognize(crop, undefined, { stretchRetryThreshold: -0.1 }), { name: 'RangeError', message: /stretchRetryThreshold/ });
  await rejects(() => pad.recognize(crop, undefined, { stretchRetryThreshold: NaN }), { name: 'RangeError', message: /stretchRetryThreshold/ });
  await rejects(() => pad.recognize(crop, undefined, { stretchRetryThreshold: '0.2' as never }), { name: 'TypeError', message: /stretchRetryThreshold/ });
});

T.run();
