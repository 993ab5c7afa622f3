// Recognition with tiny random models in the contract (tools/str_torch/make_test_models.py): parity with the
// PyTorch + PIL oracle, batching, rotations, regions, bad input, lifecycle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, Detector, Recognizer, type Recognition } from '../lib';
import { rejects, ROOT, TINY_MODEL } from './helpers';

const MODELS = path.join(ROOT, 'test', 'models');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'recognition');
const model = (name: string) => path.join(MODELS, name);
const EXACT = { rotationRetryThreshold: 0, orientationRetryThreshold: 0, stretchRetryThreshold: 0, verticalRatio: Infinity } as const;

/** Smooth random RGB pixels (so resizing and cropping matter), deterministic. */
function page(width: number, height: number, seed = 7): Uint8Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const cell = 6;
  const gw = Math.ceil(width / cell) + 1, gh = Math.ceil(height / cell) + 1;
  const grid = Array.from({ length: gw * gh * 3 }, () => rand() * 255);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / cell), gy = Math.floor(y / cell);
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = grid[(gy * gw + gx) * 3 + c];
    }
  }
  return out;
}

function cut(rgb: Uint8Array, width: number, x0: number, y0: number, w: number, h: number) {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(rgb.subarray(((y0 + y) * width + x0) * 3, ((y0 + y) * width + x0 + w) * 3), y * w * 3);
  return { data: out, width: w, height: h, channels: 3 as const };
}

/** Raw image turned 90° counter-clockwise (text written bottom to top) or 180°. */
function turn(img: { data: Uint8Array; width: number; height: number }, quarter: 1 | 2) {
  const { width: w, height: h } = img;
  const ow = quarter === 1 ? h : w, oh = quarter === 1 ? w : h;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [nx, ny] = quarter === 1 ? [y, w - 1 - x] : [w - 1 - x, h - 1 - y];
      out.set(img.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), (ny * ow + nx) * 3);
    }
  }
  return { data: out, width: ow, height: oh, channels: 3 as const };
}

const Rec = suite<{ crnn: Recognizer; pad: Recognizer }>('recognize');

Rec.before(async (ctx) => {
  ctx.crnn = await Recognizer.create({ model: model('crnn-tiny.onnx'), threads: 1 });
  ctx.pad = await Recognizer.create({ model: model('crnn-tiny-pad.onnx'), threads: 1 });
});
Rec.after(async (ctx) => {
  await ctx.crnn.dispose();
  await ctx.pad.dispose();
});

Rec('info reports the model contract from the metadata', ({ crnn, pad }) => {
  const i = crnn.info;
  assert.is(i.decoder, 'ctc');
  assert.is(i.charset.length, 36);
  assert.is(i.charset.join(''), '0123456789abcdefghijklmnopqrstuvwxyz');
  assert.is(i.imgH, 32);
  assert.is(i.imgW, 100);
  assert.is(i.resize, 'squash');
  assert.is(i.channels, 1);
  assert.is(i.confidence, 'dtrb');
  assert.is(i.executionProvider, 'cpu');
  assert.is(i.metadata['craft.task'], 'recognition');
  assert.is(pad.info.resize, 'pad');
  assert.is(pad.info.imgW, 2048);
});

Rec('matches the PyTorch + PIL oracle: text identical, confidence within 1e-4 relative', async (ctx) => {
  const oracle = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'oracle.json'), 'utf8'));
  const rgb = await Recognizer.create({ model: model('crnn-tiny-rgb.onnx'), threads: 1 });
  assert.is(rgb.info.channels, 3);
  for (const [name, rec] of [['crnn-tiny.onnx', ctx.crnn], ['crnn-tiny-pad.onnx', ctx.pad], ['crnn-tiny-rgb.onnx', rgb]] as const) {
    const texts = new Set<string>();
    for (let i = 0; i < oracle.images.length; i++) {
      const want = oracle.results[name][i];
      const [got] = await rec.recognize(path.join(FIXTURES, oracle.images[i]), undefined, EXACT);
      assert.is(got.text, want.text, `${name} ${oracle.images[i]}`);
      texts.add(got.text);
      // float32 torch underflows products below ~1e-38 to 0; compare where it can represent them.
      if (want.confidence > 1e-30) {
        assert.ok(Math.abs(got.confidence - want.confidence) <= 1e-4 * want.confidence,
          `${name} ${oracle.images[i]}: confidence ${got.confidence} vs ${want.confidence}`);
      } else {
        assert.ok(got.confidence < 1e-30);
      }
    }
    assert.ok(texts.size >= 3, 'the fixtures read differently (they test the pre-processing)');
  }
  await rgb.dispose();
});

Rec('regions: batched by width = one crop at a time; batchSize does not change results', async ({ crnn, pad }) => {
  const W = 640, H = 160;
  const rgb = page(W, H);
  const boxes: [number, number, number, number][] = [
    [0, 0, 100, 32], [110, 5, 57, 21], [200, 10, 240, 40], [450, 0, 33, 47], [10, 60, 512, 30], [20, 100, 90, 30],
    [300, 100, 31, 30], [400, 110, 200, 40],
  ];
  const regions = boxes.map(([x, y, w, h]) => [[x, y], [x + w, y], [x + w, y + h], [x, y + h]] as [number, number][]);
  const input = { data: rgb, width: W, height: H, channels: 3 as const };
  for (const rec of [crnn, pad]) {
    const all = await rec.recognizeDetailed(input, regions as never, EXACT);
    const one = await rec.recognize(input, regions as never, { ...EXACT, batchSize: 1 });
    assert.equal(one, all.words);
    for (let i = 0; i < boxes.length; i++) {
      const [x, y, w, h] = boxes[i];
      const [alone] = await rec.recognize(cut(rgb, W, x, y, w, h), undefined, EXACT);
      assert.is(all.words[i].text, alone.text, `region ${i}`);
      assert.is(all.words[i].confidence, alone.confidence, `region ${i}`);
    }
    if (rec === pad) {
      // Padded widths are multiples of 32: one run per distinct width, never everything padded to the widest.
      const widths = new Set(boxes.map(([, , w, h]) => Math.ceil(Math.ceil(32 * w / h) / 32) * 32));
      assert.is(all.runs, widths.size);
    } else {
      assert.is(all.runs, 1); // squash: every crop is 32 x 100
    }
    assert.is(all.width, W);
    assert.ok(all.timings.inference > 0 && all.timings.preprocess >= 0 && all.timings.postprocess >= 0);
  }
});

Rec('a word upside down reads as the upright word once retried; a vertical one is turned first', async ({ pad }) => {
  const img = cut(page(300, 60, 11), 300, 10, 10, 240, 40);
  const always = { rotationRetryThreshold: 1, verticalRatio: Infinity };
  const [up] = await pad.recognize(img, undefined, always);
  const [down] = await pad.recognize(turn(img, 2), undefined, always);
  // Both calls read the same two strips (upright and upside down) and keep the more confident.
  assert.is(down.text, up.text);
  assert.is(down.confidence, up.confidence);
  assert.is((down.rotation - up.rotation + 360) % 360, 180);
  // Written bottom to top (the page turned a quarter counter-clockwise): read after a clockwise quarter turn (without
  // verticalRetry's other readings, which this random-weight model may read more confidently: the strip unturned).
  const [upright] = await pad.recognize(img, undefined, EXACT);
  const [vertical] = await pad.recognize(turn(img, 1), undefined, { rotationRetryThreshold: 0, verticalRetry: false });
  assert.is(vertical.rotation, 90);
  assert.is(vertical.text, upright.text);
  assert.is(vertical.confidence, upright.confidence);
});

Rec('boxes outside the image are clipped, degenerate ones skipped in place, [] gives []', async ({ pad }) => {
  const W = 200, H = 80;
  const input = { data: page(W, H, 3), width: W, height: H, channels: 3 as const };
  const r = await pad.recognize(input, [
    [[-20, -10], [120, -10], [120, 50], [-20, 50]],      // clipped to 0,0 - 120,50
    [[10, 10], [10, 10], [10, 40], [10, 40]],            // zero width
    [[300, 10], [350, 10], [350, 40], [300, 40]],        // right of the image
    [[0, 0], [120, 0], [120, 50], [0, 50]],
  ], EXACT);
  assert.is(r.length, 4);
  assert.is(r[1].skipped, 'degenerate');
  assert.is(r[1].text, '');
  assert.is(r[1].confidence, 0);
  assert.is(r[2].skipped, 'outside');
  assert.is(r[0].skipped, undefined);
  assert.equal(r[0], r[3]);
  assert.equal(await pad.recognize(input, []), []);
});

Rec('detect() words are regions; polygons are read piecewise', async ({ pad }) => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  try {
    const image = path.join(ROOT, 'test', 'fixtures', 'images', 'hello.png');
    const { words } = await detector.detect(image, { polygons: true });
    assert.ok(words.length > 0);
    const r = await pad.recognize(image, words);
    assert.is(r.length, words.length);
    for (const w of r) {
      assert.type(w.text, 'string');
      assert.ok(w.confidence >= 0 && w.confidence <= 1);
    }
    // Boxes only (usePolygons false) equal the words' boxes given as quads.
    const byBox = await pad.recognize(image, words, { usePolygons: false });
    assert.equal(byBox, await pad.recognize(image, words.map((w) => w.box)));
  } finally {
    await detector.dispose();
  }
});

Rec('characterProbabilities and beam search', async ({ pad }) => {
  const img = cut(page(400, 60, 5), 400, 0, 0, 300, 40);
  const [g] = await pad.recognize(img, undefined, { ...EXACT, characterProbabilities: true });
  assert.is(g.characters!.length, [...g.text].length);
  for (const p of g.characters!) assert.ok(p > 0 && p <= 1);
  const [b] = await pad.recognize(img, undefined, { ...EXACT, decoder: 'beam', beamWidth: 10, characterProbabilities: true });
  assert.is(b.characters!.length, [...b.text].length);
  assert.is(b.confidence, g.confidence); // confidence is the per-frame product, as DTRB/EasyOCR compute it
  const [b1] = await pad.recognize(img, undefined, { ...EXACT, decoder: 'beam', beamWidth: 1 });
  assert.type(b1.text, 'string');
  const [plain] = await pad.recognize(img, undefined, EXACT);
  assert.is(plain.characters, undefined);
});

Rec('a DecodedImage reads like the file; a released one is refused', async ({ crnn }) => {
  const file = path.join(FIXTURES, 'crop-2.png');
  const image = await decodeImage(file);
  assert.is(image.width, 240);
  assert.is(image.height, 40);
  assert.equal(await crnn.recognize(image), await crnn.recognize(file));
  image.release();
  assert.ok(image.released);
  await rejects(() => crnn.recognize(image), { code: 'ERR_CRAFT_DISPOSED', message: /released DecodedImage/ });
});

Rec('a DecodedImage released while calls wait: those calls fail with a code, nothing crashes', async ({ crnn }) => {
  const file = path.join(FIXTURES, 'crop-2.png');
  const image = await decodeImage(file);
  const settled = Promise.allSettled([1, 2, 3, 4].map(() => crnn.recognize(image)));
  // The call that started has its pixels already (it runs on the free inference slot); the queued ones, waiting to
  // share the next run, find the image gone.
  image.release();
  const [first, ...rest] = await settled;
  assert.is(first.status, 'fulfilled');
  for (const r of rest) {
    assert.is(r.status, 'rejected');
    assert.is((r as PromiseRejectedResult).reason.code, 'ERR_CRAFT_INVALID_INPUT');
  }
  assert.equal(await crnn.recognize(file), (first as PromiseFulfilledResult<Recognition[]>).value);
});

Rec('invalid regions and options: TypeError / RangeError naming the argument', async ({ crnn }) => {
  const file = path.join(FIXTURES, 'crop-0.png');
  await rejects(() => crnn.recognize(file, [{ box: [[0, 0], [1, 0], [1, 1], [0, 1]] }, { box: [[0, 0], [1, 0], [1, NaN], [0, 1]] }] as never),
    { name: 'TypeError', message: /regions\[1\]\.box\[2\]\[1\]/ });
  await rejects(() => crnn.recognize(file, [[[0, 0], [1, 0], [1, 1]]] as never), { name: 'TypeError', message: /regions\[0\]/ });
  await rejects(() => crnn.recognize(file, 'x' as never), { name: 'TypeError', message: /regions/ });
  await rejects(() => crnn.recognize(file, [[[0, 0], [1, 0], [1, 1], [0, '1']]] as never), { name: 'TypeError', message: /regions\[0\]\[3\]\[1\]/ });
  await rejects(() => crnn.recognize(file, undefined, { decoder: 'viterbi' } as never), { name: 'TypeError', message: /decoder/ });
  await rejects(() => crnn.recognize(file, undefined, { beamWidth: 0 }), { name: 'RangeError', message: /beamWidth/ });
  await rejects(() => crnn.recognize(file, undefined, { rotationRetryThreshold: 2 }), { name: 'RangeError' });
  await rejects(() => crnn.recognize(file, undefined, { orientationRetryThreshold: 1.5 }), { name: 'RangeError', message: /orientationRetryThreshold/ });
  await rejects(() => crnn.recognize(file, undefined, { orientationRetryThreshold: -0.1 }), { name: 'RangeError', message: /orientationRetryThreshold/ });
  await rejects(() => crnn.recognize(file, undefined, { orientationRetryThreshold: '0.2' as never }), { name: 'TypeError', message: /orientationRetryThreshold/ });
  await rejects(() => crnn.recognize(file, undefined, { orientationRetryThreshold: NaN }), { name: 'RangeError', message: /orientationRetryThreshold/ });
  for (const bad of ['yes', 1, null]) {
    await rejects(() => crnn.recognize(file, undefined, { verticalRetry: bad as never }), { name: 'TypeError', message: /verticalRetry/ });
  }
  await rejects(() => crnn.recognize(file, undefined, { decodr: 'beam' } as never), { name: 'TypeError', message: /did you mean 'decoder'/ });
  const many = Array.from({ length: 100001 }, () => [[0, 0], [1, 0], [1, 1], [0, 1]]);
  await rejects(() => crnn.recognize(file, many as never), { name: 'RangeError', message: /at most 100000/ });
});

Rec('failures are coded and the recogniser stays usable', async ({ crnn }) => {
  const file = path.join(FIXTURES, 'crop-0.png');
  const before = await crnn.recognize(file);
  await rejects(() => crnn.recognize(new Uint8Array([1, 2, 3, 4])), { code: 'ERR_CRAFT_DECODE' });
  await rejects(() => crnn.recognize('/nonexistent/x.png'), { code: 'ERR_CRAFT_IO' });
  const ac = new AbortController();
  ac.abort();
  await rejects(() => crnn.recognize(file, undefined, { signal: ac.signal }), { name: 'AbortError' });
  assert.equal(await crnn.recognize(file), before);
  const s = crnn.stats();
  assert.ok(s.completed >= 2 && s.failed >= 2 && s.aborted >= 1);
});

Rec('a long call is cancelled between batches by abort or timeout; the recogniser stays usable', async ({ pad }) => {
  const W = 400, H = 100;
  const input = { data: page(W, H, 2), width: W, height: H, channels: 3 as const };
  const many = Array.from({ length: 4000 }, (_, i) => {
    const x = (i * 7) % 300, w = 20 + (i % 80);
    return [[x, 10], [x + w, 10], [x + w, 40], [x, 40]] as [number, number][];
  });
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 50);
  await rejects(() => pad.recognize(input, many as never, { signal: ac.signal }), { name: 'AbortError' });
  await rejects(() => pad.recognize(input, many as never, { timeoutMs: 50 }), { code: 'ERR_CRAFT_TIMEOUT' });
  assert.ok(Date.now() - t0 < 4000, `cancelled promptly (${Date.now() - t0} ms)`);
  const [r] = await pad.recognize(input, [many[0]] as never);
  assert.type(r.text, 'string');
});

Rec('concurrent calls on one recogniser (concurrency 2) equal sequential ones; stats count them', async () => {
  const rec = await Recognizer.create({ model: model('crnn-tiny-pad.onnx'), threads: 1, concurrency: 2, stageConcurrency: 2 });
  try {
    const files = ['crop-0.png', 'crop-1.png', 'crop-2.png', 'crop-3.png', 'crop-4.png'].map((f) => path.join(FIXTURES, f));
    const sequential: Recognition[][] = [];
    for (const f of files) sequential.push(await rec.recognize(f, undefined, EXACT));
    const parallel = await Promise.all([...files, ...files].map((f) => rec.recognize(f, undefined, EXACT)));
    assert.equal(parallel, [...sequential, ...sequential]);
    const s = rec.stats();
    assert.is(s.completed, 15);
    assert.is(s.config.concurrency, 2);
    await rejects(() => Recognizer.create({ model: model('crnn-tiny.onnx'), maxQueue: -1 }), { name: 'RangeError', message: /maxQueue/ });
  } finally {
    await rec.dispose();
  }
});

Rec('the character language model: loaded at create, fused on request, validated', async ({ crnn, pad }) => {
  const file = path.join(FIXTURES, 'crop-2.png');
  // A model given by path has none unless asked for; the bundled file is a 5-gram.
  assert.is(crnn.info.languageModel, null);
  await rejects(() => crnn.recognize(file, undefined, { languageModel: true }), { name: 'TypeError', message: /languageModel/ });
  const lm = await Recognizer.create({ model: model('crnn-tiny-pad.onnx'), threads: 1, languageModel: 'default' });
  try {
    assert.is(lm.info.languageModel!.order, 5);
    assert.ok(lm.info.languageModel!.ngrams > 1000);
    const img = cut(page(400, 60, 5), 400, 0, 0, 300, 40);
    const [greedy] = await pad.recognize(img, undefined, EXACT);
    const [beam] = await pad.recognize(img, undefined, { ...EXACT, decoder: 'beam' });
    const [fused] = await lm.recognize(img, undefined, EXACT);  // on by default once loaded
    const [zero] = await lm.recognize(img, undefined, { ...EXACT, lmWeight: 0, insertionBonus: 0 });
    const [off] = await lm.recognize(img, undefined, { ...EXACT, languageModel: false });
    const [asGreedy] = await lm.recognize(img, undefined, { ...EXACT, decoder: 'greedy' });
    assert.is(zero.text, beam.text, 'weight 0 and bonus 0: the plain prefix beam search');
    assert.is(off.text, greedy.text, 'languageModel: false: the default greedy decoder');
    assert.is(asGreedy.text, greedy.text, "decoder 'greedy' alone turns it off");
    for (const w of [beam, fused, zero, off]) assert.is(w.confidence, greedy.confidence, 'the confidence is the per-frame one');
    assert.type(fused.text, 'string');
    await rejects(() => lm.recognize(img, undefined, { decoder: 'greedy', languageModel: true }), { name: 'TypeError', message: /languageModel.*beam/ });
    await rejects(() => lm.recognize(img, undefined, { languageModel: 1 } as never), { name: 'TypeError', message: /languageModel/ });
    await rejects(() => lm.recognize(img, undefined, { lmWeight: -0.1 }), { name: 'RangeError', message: /lmWeight/ });
    await rejects(() => lm.recognize(img, undefined, { lmWeight: 11 }), { name: 'RangeError', message: /lmWeight/ });
    await rejects(() => lm.recognize(img, undefined, { insertionBonus: '2' } as never), { name: 'TypeError', message: /insertionBonus/ });
    await rejects(() => lm.recognize(img, undefined, { insertionBonus: 21 }), { name: 'RangeError', message: /insertionBonus/ });
  } finally {
    await lm.dispose();
  }
  await rejects(() => Recognizer.create({ model: model('crnn-tiny.onnx'), languageModel: 3 } as never), { name: 'TypeError', message: /languageModel/ });
  await rejects(() => Recognizer.create({ model: model('crnn-tiny.onnx'), languageModel: new Uint8Array(16) }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /language model/ });
  await rejects(() => Recognizer.create({ model: model('crnn-tiny.onnx'), languageModel: '/nonexistent.bin' }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /nonexistent/ });
  await rejects(() => Recognizer.create({ model: model('attn-tiny.onnx'), languageModel: 'default' }), { name: 'TypeError', message: /CTC/ });
});

Rec('attention and EasyOCR-style models run; beam needs CTC', async () => {
  const attn = await Recognizer.create({ model: model('attn-tiny.onnx'), threads: 1 });
  const g2 = await Recognizer.create({ model: model('g2-tiny.onnx'), threads: 1 });
  try {
    assert.is(attn.info.decoder, 'attn');
    assert.is(attn.info.dynamicWidth, false);
    const file = path.join(FIXTURES, 'crop-2.png');
    const [a] = await attn.recognize(file, undefined, { characterProbabilities: true });
    assert.ok(a.confidence >= 0 && a.confidence <= 1);
    assert.ok(!a.text.includes('[s]'));
    await rejects(() => attn.recognize(file, undefined, { decoder: 'beam' }), { name: 'TypeError', message: /CTC/ });
    assert.is(g2.info.confidence, 'easyocr');
    assert.is(g2.info.imgH, 64);
    assert.is(g2.info.charset.length, 96);
    const [e] = await g2.recognize(file);
    assert.ok(e.confidence >= 0 && e.confidence <= 1);
    for (const ch of e.text) assert.ok(g2.info.charset.includes(ch));
  } finally {
    await attn.dispose();
    await g2.dispose();
  }
});

Rec('models that are not recognisers are refused at load with what is wrong', async () => {
  await rejects(() => Recognizer.create({ model: TINY_MODEL }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /not a recogniser.*craft\.task/ });
  await rejects(() => Recognizer.create({ model: model('bad-no-charset.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /charset.*missing/ });
  await rejects(() => Recognizer.create({ model: model('bad-classes.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /\[N,T,11\].*\[\?,\?,37\]/ });
  await rejects(() => Recognizer.create({ model: '/nonexistent.onnx' }), { code: 'ERR_CRAFT_MODEL_LOAD' });
  await rejects(() => Recognizer.create({ batch: { maxSize: 0 } }), { name: 'RangeError', message: /batch\.maxSize/ });
  await rejects(() => Recognizer.create({ batch: 2 } as never), { name: 'TypeError', message: /batch/ });
  // Bytes work as a path does.
  const r = await Recognizer.create({ model: fs.readFileSync(model('crnn-tiny.onnx')), threads: 1 });
  assert.is(r.info.decoder, 'ctc');
  await r.dispose();
  await rejects(() => r.recognize(path.join(FIXTURES, 'crop-0.png')), { code: 'ERR_CRAFT_DISPOSED' });
});

Rec('the bundled recogniser: the default resolves to models/craft-text-recognizer-int8.onnx', async () => {
  const file = path.join(ROOT, 'models', 'craft-text-recognizer-int8.onnx');
  if (fs.existsSync(file)) {
    const r = await Recognizer.create({ threads: 1 });
    assert.is(r.info.metadata['craft.task'], 'recognition');
    assert.ok(r.info.metadata['craft.quantization'], 'the INT8 model (craft-text quantize writes craft.quantization)');
    await r.dispose();
  } else {
    await rejects(() => Recognizer.create(), { code: 'ERR_CRAFT_MODEL_LOAD', message: /craft-text-recognizer-int8\.onnx.*not installed/ });
  }
});

Rec.run();
