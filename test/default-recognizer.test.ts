// The bundled recogniser (models/craft-text-recognizer.onnx, trained here) and its INT8 version (the default,
// models/craft-text-recognizer.md#which-is-the-default): which name loads which, the contract they ship with, a word read end to end by Ocr.create() with both bundled models, and, with ../shared/data, their accuracy
// on the held-out ICDAR 2013 born-digital words (docs/recognizer-training.md: dev = sha1(image name) % 5 == 0), which
// must not fall below what the model card reports (minus a small margin) and INT8 must stay close to FP32.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ocr, Recognizer } from '../lib';
import { loadDataset, recognitionFromDataset, scoreRecognition } from '../lib/eval';
import { IMAGES, ROOT, SHARED } from './helpers';

const FP32 = path.join(ROOT, 'models', 'craft-text-recognizer.onnx');
const INT8 = path.join(ROOT, 'models', 'craft-text-recognizer-int8.onnx');
const IC13 = path.join(SHARED, 'data', 'icdar2013_born_digital');
// What models/craft-text-recognizer.md reports on the ICDAR 2013 dev words with the runtime's default options (crop
// margin 0.12 from the model's metadata, no margin retry; FP32 0.824 at margin 0).
const CARD_IC13 = { fp32: 0.918, int8: 0.916 };
const TOLERANCE = 0.02;
type Quad = [[number, number], [number, number], [number, number], [number, number]];
const PRINTABLE = [...'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ '];

const D = suite('bundled recogniser');
const have = fs.existsSync(FP32) && fs.existsSync(INT8);

D('names: the default is the INT8 model (as default-int8), default-fp32 the float one', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const quantized: Record<string, boolean> = {};
  for (const name of [undefined, 'default', 'default-int8', 'default-fp32']) {
    const r = await Recognizer.create({ model: name, threads: 1 });
    quantized[String(name)] = r.info.metadata['craft.quantization'] !== undefined;
    await r.dispose();
  }
  assert.equal(quantized, { undefined: true, default: true, 'default-int8': true, 'default-fp32': false });
  const ocr = await Ocr.create({ detector: { threads: 1 }, recognizer: { threads: 1 } });
  assert.ok(ocr.recognizer.info.metadata['craft.quantization'], 'Ocr.create() reads with the INT8 model');
  await ocr.dispose();
});

D('contract: CTC over printable ASCII + space, grey, height 32, any width, pad resize', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  for (const name of ['default', 'default-fp32', 'default-int8']) {
    const r = await Recognizer.create({ model: name, threads: 1 });
    const i = r.info;
    assert.equal(i.charset, PRINTABLE, `${name} charset`);
    assert.is(i.decoder, 'ctc');
    assert.is(i.imgH, 32);
    assert.is(i.channels, 1);
    assert.is(i.dynamicWidth, true);
    assert.is(i.resize, 'pad');
    assert.is(i.metadata['craft.recognizer.name'], 'None-VGG-BiLSTM-CTC');
    await r.dispose();
  }
});

D('Ocr.create() with both bundled models reads a rendered page', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const ocr = await Ocr.create({ detector: { threads: 1 }, recognizer: { threads: 1 } });
  const r = await ocr.read(path.join(IMAGES, 'hello.png'));
  await ocr.dispose();
  assert.is(r.text.toLowerCase().replace(/[^a-z\n ]/g, ''), 'hello craft\ntext detector');
});

D('the bundled recogniser reads with the bundled character LM unless the greedy decoder is asked for', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const rec = await Recognizer.create({ threads: 1 });
  const plain = await Recognizer.create({ threads: 1, languageModel: false });
  try {
    assert.is(rec.info.languageModel!.order, 5);
    assert.is(plain.info.languageModel, null);
    const page = path.join(IMAGES, 'hello.png');
    const [w] = await rec.recognize(page);
    const [g] = await plain.recognize(page);
    assert.is(w.confidence, g.confidence, 'the confidence does not depend on the search');
    const [asGreedy] = await rec.recognize(page, undefined, { decoder: 'greedy' });
    assert.is(asGreedy.text, g.text);
  } finally {
    await rec.dispose();
    await plain.dispose();
  }
});

function devPart(name: string): boolean {
  return parseInt(createHash('sha1').update(name).digest('hex').slice(0, 8), 16) % 5 === 0;
}

D('accuracy on the held-out ICDAR 2013 born-digital words (DTRB protocol): as the model card says', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  if (!fs.existsSync(path.join(IC13, 'gt.jsonl'))) return console.log('  (skipped: ../shared/data not present)');
  const samples = recognitionFromDataset((await loadDataset(IC13)).filter((s) => devPart(path.basename(s.imagePath))));
  assert.is(samples.reduce((a, s) => a + s.texts.length, 0), 842, 'the dev part of docs/recognizer-training.md');
  const acc: Record<string, number> = {};
  for (const [key, model] of [['fp32', FP32], ['int8', INT8]] as const) {
    const rec = await Recognizer.create({ model, threads: 2 });
    const pairs: { pred: string; gt: string }[] = [];
    for (const s of samples) {
      const words = await rec.recognize(s.imagePath, s.regions!.map((q) => q as Quad));
      words.forEach((w, i) => pairs.push({ pred: w.text, gt: s.texts[i] }));
    }
    await rec.dispose();
    acc[key] = scoreRecognition(pairs).accuracy;
  }
  assert.ok(acc.fp32 >= CARD_IC13.fp32 - TOLERANCE, `FP32 accuracy ${acc.fp32} below the card's ${CARD_IC13.fp32}`);
  assert.ok(acc.int8 >= CARD_IC13.int8 - TOLERANCE, `INT8 accuracy ${acc.int8} below the card's ${CARD_IC13.int8}`);
  assert.ok(Math.abs(acc.fp32 - acc.int8) <= 0.02, `INT8 ${acc.int8} vs FP32 ${acc.fp32}`);
});

/** A grey BMP (8 bits, palette = grey levels, bottom-up rows: tools/make_test_images.py's hello.bmp) as raw pixels. */
function readGreyBmp(file: string): { data: Uint8Array; width: number; height: number } {
  const b = fs.readFileSync(file);
  const offset = b.readUInt32LE(10), width = b.readInt32LE(18), height = b.readInt32LE(22);
  assert.is(b.readUInt16LE(28), 8, 'an 8-bit BMP');
  const stride = Math.ceil(width / 4) * 4;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) data.set(b.subarray(offset + (height - 1 - y) * stride, offset + (height - 1 - y) * stride + width), y * width);
  return { data, width, height };
}

/**
 * A region of a grey image turned `degrees` counter-clockwise (bilinear, white outside) and cut as the axis-aligned
 * box of the turned region: what ICDAR 2015's word crops, or another detector's boxes, give for a rotated word. RGB.
 */
function turnedCrop(img: { data: Uint8Array; width: number; height: number }, x0: number, y0: number, w: number, h: number, degrees: number) {
  const a = degrees * Math.PI / 180, c = Math.cos(a), s = Math.sin(a);
  const W = Math.ceil(Math.abs(w * c) + Math.abs(h * s)), H = Math.ceil(Math.abs(w * s) + Math.abs(h * c));
  const at = (x: number, y: number) => x < 0 || y < 0 || x >= img.width || y >= img.height ? 255 : img.data[y * img.width + x];
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Counter-clockwise on screen (y down): the inverse turn maps the output pixel's centre back into the region.
      const dx = x + 0.5 - W / 2, dy = y + 0.5 - H / 2;
      const sx = x0 + w / 2 + c * dx - s * dy - 0.5, sy = y0 + h / 2 + s * dx + c * dy - 0.5;
      const ix = Math.floor(sx), iy = Math.floor(sy), fx = sx - ix, fy = sy - iy;
      const v = (1 - fy) * ((1 - fx) * at(ix, iy) + fx * at(ix + 1, iy)) + fy * ((1 - fx) * at(ix, iy + 1) + fx * at(ix + 1, iy + 1));
      out.fill(Math.round(v), (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return { data: out, width: W, height: H, channels: 3 as const };
}

D('a word turned inside an axis-aligned crop is read along its ink by the orientation retry', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const page = readGreyBmp(path.join(IMAGES, 'hello.bmp'));
  // 'detector' (ink x 105-254, y 103-129) with 6 px of paper around it.
  const word = (degrees: number) => turnedCrop(page, 99, 97, 162, 39, degrees);
  const rec = await Recognizer.create({ threads: 1 });
  try {
    const [upright] = await rec.recognize(word(0));
    assert.is(upright.text, 'detector');
    assert.is(upright.rotation, 0);
    for (const degrees of [25, 40, -35, -60]) {
      const crop = word(degrees);
      const [plain] = await rec.recognize(crop, undefined, { orientationRetryThreshold: 0 });
      const [retried] = await rec.recognize(crop);
      assert.is.not(plain.text, 'detector', `${degrees} degrees: the crop as it is does not read`);
      assert.ok(plain.confidence < 0.2, `${degrees} degrees: read with confidence ${plain.confidence}, under the default 0.2`);
      assert.is(retried.text, 'detector', `${degrees} degrees`);
      assert.ok(retried.confidence > plain.confidence);
      // Turned back: `degrees` clockwise (the crop was turned counter-clockwise), within 2 degrees.
      const back = ((retried.rotation - degrees) % 360 + 540) % 360 - 180;
      assert.ok(Math.abs(back) <= 2, `${degrees} degrees: read turned ${retried.rotation}`);
    }
  } finally {
    await rec.dispose();
  }
});

/** The glyphs of a grey image's region (its columns with ink, cut at the region's rows) stacked one above the other,
 * each centred, `gap` px apart, on white with 6 px around: upright letters on a vertical sign. RGB. */
function stackedGlyphs(img: { data: Uint8Array; width: number; height: number }, x0: number, y0: number, w: number, h: number, gap: number) {
  const runs: [number, number][] = [];
  for (let x = x0, start = -1; x <= x0 + w; x++) {
    let ink = false;
    for (let y = y0; x < x0 + w && y < y0 + h; y++) ink ||= img.data[y * img.width + x] < 128;
    if (ink && start < 0) start = x;
    if (!ink && start >= 0) runs.push([start, x]), start = -1;
  }
  const W = Math.max(...runs.map(([a, b]) => b - a)) + 12, H = runs.length * (h + gap) - gap + 12;
  const out = new Uint8Array(W * H * 3).fill(255);
  runs.forEach(([a, b], k) => {
    const ox = 6 + Math.floor((W - 12 - (b - a)) / 2), oy = 6 + k * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = a; x < b; x++) out.fill(img.data[(y0 + y) * img.width + x], ((oy + y) * W + ox + x - a) * 3, ((oy + y) * W + ox + x - a) * 3 + 3);
    }
  });
  return { image: { data: out, width: W, height: H, channels: 3 as const }, glyphs: runs.length };
}

D('a word turned a quarter either way in a tall crop reads both ways, whatever the first reading\'s confidence', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const page = readGreyBmp(path.join(IMAGES, 'hello.bmp'));
  const rec = await Recognizer.create({ threads: 1 });
  try {
    // 'detector' turned a quarter counter-clockwise (read bottom to top) and clockwise (top to bottom): 39 x 162.
    for (const [degrees, rotation] of [[90, 90], [-90, 270]]) {
      const crop = turnedCrop(page, 99, 97, 162, 39, degrees);
      assert.ok(crop.height > 1.5 * crop.width);
      // rotationRetryThreshold 0: no 180° retry, so only verticalRetry reads the second quarter turn.
      const [w] = await rec.recognize(crop, undefined, { rotationRetryThreshold: 0 });
      assert.is(w.text, 'detector', `turned ${degrees}`);
      assert.is(w.rotation, rotation, `turned ${degrees}`);
      const [old] = await rec.recognize(crop, undefined, { rotationRetryThreshold: 0, verticalRetry: false });
      assert.is(old.rotation, 90, 'without it the strip is turned clockwise only');
      if (rotation === 270) assert.is.not(old.text, 'detector', 'and the top-to-bottom word is read upside down');
    }
  } finally {
    await rec.dispose();
  }
});

D('upright letters stacked one above the other are read as the word laid out side by side', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const page = readGreyBmp(path.join(IMAGES, 'hello.bmp'));
  const rec = await Recognizer.create({ threads: 1 });
  try {
    for (const gap of [0, 8]) {
      // The 8 glyphs of 'detector' (ink x 105-254, rows 103-129), each cut at the line's rows.
      const { image, glyphs } = stackedGlyphs(page, 103, 101, 154, 31, gap);
      assert.is(glyphs, 8);
      const [w] = await rec.recognize(image);
      assert.is(w.text, 'detector', `gap ${gap}`);
      assert.is(w.rotation, 0, 'the letters are upright');
      assert.ok(w.confidence > 0.3, `gap ${gap}: confidence ${w.confidence}`);
      const [off] = await rec.recognize(image, undefined, { verticalRetry: false });
      assert.is.not(off.text, 'detector', `gap ${gap}: neither quarter turn nor the strip as it is reads a stack`);
      // A region around the stack in a larger image reads the same (the crop margin and ink fit on the way).
      const big = { data: new Uint8Array((image.width + 40) * (image.height + 40) * 3).fill(255), width: image.width + 40, height: image.height + 40, channels: 3 as const };
      for (let y = 0; y < image.height; y++) big.data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + 20) * big.width + 20) * 3);
      const box: Quad = [[20, 20], [20 + image.width, 20], [20 + image.width, 20 + image.height], [20, 20 + image.height]];
      const [inPage] = await rec.recognize(big, [box]);
      assert.is(inPage.text, 'detector', `gap ${gap}, as a region`);
    }
  } finally {
    await rec.dispose();
  }
});

/** A grey image's region squeezed to `width` columns (each the area average of the columns it covers), with `pad` px
 * of white around: a condensed upright word, as on a narrow sign. RGB. */
function condensed(img: { data: Uint8Array; width: number; height: number }, x0: number, y0: number, w: number, h: number, width: number, pad: number) {
  const W = width + 2 * pad, H = h + 2 * pad;
  const out = new Uint8Array(W * H * 3).fill(255);
  for (let y = 0; y < h; y++) {
    for (let X = 0; X < width; X++) {
      const a = X * w / width, b = (X + 1) * w / width;
      let sum = 0;
      for (let x = Math.floor(a); x < Math.ceil(b); x++) sum += (Math.min(b, x + 1) - Math.max(a, x)) * img.data[(y0 + y) * img.width + x0 + x];
      out.fill(Math.round(sum / (b - a)), ((y + pad) * W + X + pad) * 3, ((y + pad) * W + X + pad) * 3 + 3);
    }
  }
  return { data: out, width: W, height: H, channels: 3 as const };
}

D('a condensed upright word in a tall crop is read upright and wider', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer*.onnx not built)');
  const page = readGreyBmp(path.join(IMAGES, 'hello.bmp'));
  for (const model of ['default-int8', 'default-fp32']) {
    const rec = await Recognizer.create({ model, threads: 1 });
    try {
      // 'text' (ink x 21-90, rows 103-130) squeezed from 69 to 12 or 13 columns (about a fifth), 6 px of paper around.
      for (const width of [12, 13]) {
        const crop = condensed(page, 21, 103, 69, 27, width, 6);
        assert.ok(crop.height > 1.5 * crop.width, 'vertical-shaped: it is turned a quarter first');
        const [w] = await rec.recognize(crop);
        assert.is(w.text, 'text', `${model}, ${width} columns`);
        assert.is(w.rotation, 0, 'upright');
        const [off] = await rec.recognize(crop, undefined, { verticalRetry: false });
        assert.is.not(off.text, 'text', `${model}, ${width} columns: neither quarter turn nor the strip as wide as it is`);
      }
    } finally {
      await rec.dispose();
    }
  }
});

D.run();
