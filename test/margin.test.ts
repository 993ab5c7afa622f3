// recognize()'s crop margin (issue 14): the option's validation, its default from the model's
// craft.recognizer.margin metadata (0 for converted models, the training median for the bundled one), and known
// answers: a region read with a margin is read exactly as the region grown by hand by round(margin x text height)
// pixels on every side, which here takes in pixels the tight crop does not; the whole image is never grown. And
// inkCrop (on by default): a loose box and a tight one around the same word are cut alike, at the ink + the margin.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recognizer, type Region } from '../lib';
import { Message } from '../lib/convert/protobuf';
import { rejects, ROOT } from './helpers';

const MODELS = path.join(ROOT, 'test', 'models');
const TINY = path.join(MODELS, 'crnn-tiny-pad.onnx');
// Crops at the box + margin (inkCrop off: the ink-fitted crops have their own tests below).
const EXACT = { rotationRetryThreshold: 0, marginRetryThreshold: 0, verticalRatio: Infinity, logits: true, inkCrop: false } as const;

/** A copy of a model with metadata entries added (ModelProto field 14 appended: protobuf merges repeated fields). */
function withMetadata(file: string, dir: string, name: string, meta: Record<string, string>): string {
  const extra = new Message();
  for (const [k, v] of Object.entries(meta)) extra.message(14, new Message().string(1, k).string(2, v));
  const out = path.join(dir, name);
  fs.writeFileSync(out, Buffer.concat([fs.readFileSync(file), extra.finish()]));
  return out;
}

/** White RGB page with a black bar across rows [y0, y1) (outside the tight box used below). */
function barPage(width: number, height: number, y0: number, y1: number) {
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let y = y0; y < y1; y++) data.fill(0, y * width * 3, (y + 1) * width * 3);
  for (let x = 20; x < 80; x += 7) for (let y = 22; y < 38; y++) data.fill(40, (y * width + x) * 3, (y * width + x + 2) * 3);
  return { data, width, height, channels: 3 as const };
}

const rect = (x0: number, y0: number, x1: number, y1: number): Region => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];

const M = suite<{ dir: string; tiny: Recognizer; m25: Recognizer }>('crop margin');
M.before(async (ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-margin-'));
  ctx.tiny = await Recognizer.create({ model: TINY, threads: 1 });
  ctx.m25 = await Recognizer.create({ model: withMetadata(TINY, ctx.dir, 'm25.onnx', { 'craft.recognizer.margin': '0.25' }), threads: 1 });
});
M.after(async (ctx) => {
  await ctx.tiny.dispose();
  await ctx.m25.dispose();
  fs.rmSync(ctx.dir, { recursive: true, force: true });
});

M('the option is validated: TypeError / RangeError naming margin', async (ctx) => {
  const img = barPage(100, 60, 0, 0);
  await rejects(() => ctx.tiny.recognize(img, [rect(10, 10, 50, 30)], { margin: '0.1' as unknown as number }), { name: 'TypeError', message: /margin/ });
  for (const bad of [-0.01, 1.01, NaN, Infinity]) {
    await rejects(() => ctx.tiny.recognize(img, [rect(10, 10, 50, 30)], { margin: bad }), { name: 'RangeError', message: /margin/ });
  }
  for (const ok of [0, 0.5, 1]) assert.is((await ctx.tiny.recognize(img, [rect(10, 10, 50, 30)], { margin: ok })).length, 1);
});

M('the default comes from craft.recognizer.margin: 0 without it (converted models), the bundled models 0.12', async (ctx) => {
  assert.is(ctx.tiny.info.margin, 0);
  assert.is(ctx.tiny.info.metadata['craft.recognizer.margin'], undefined);
  assert.is(ctx.m25.info.margin, 0.25);
  for (const model of ['default', 'default-fp32', 'default-int8']) {
    const r = await Recognizer.create({ model, threads: 1 });
    try {
      assert.is(r.info.margin, Number(r.info.metadata['craft.recognizer.margin']), model);
      assert.is(r.info.margin, 0.12, model);
    } finally {
      await r.dispose();
    }
  }
  for (const [bad, why] of [['1.5', /margin must be in \[0, 1\]/], ['-0.1', /margin must be in \[0, 1\]/], ['wide', /margin = 'wide' is not a number/],
    // the detector's reading of metadata numbers (binding/craft/metadata.h): hex and white space are not plain decimals
    ['0x1p-3', /is not a number/], [' 0.1', /is not a number/]] as const) {
    const file = withMetadata(TINY, ctx.dir, `bad-${bad}.onnx`, { 'craft.recognizer.margin': bad });
    await rejects(() => Recognizer.create({ model: file, threads: 1 }), { code: 'ERR_CRAFT_MODEL_LOAD', message: why });
  }
});

M('known answer: the margin grows the box by round(margin x height) pixels a side, taking in what the tight crop leaves out', async (ctx) => {
  // tight box rows 20..40 (height 20); the bar (rows 15..18) is outside it and inside the box grown by 5 (0.25 x 20)
  const img = barPage(100, 60, 15, 18);
  const tight = rect(15, 20, 85, 40);
  const [t] = await ctx.m25.recognize(img, [tight], { ...EXACT, margin: 0 });
  const [byHand] = await ctx.m25.recognize(img, [rect(10, 15, 90, 45)], { ...EXACT, margin: 0 });
  const [dflt] = await ctx.m25.recognize(img, [tight], EXACT);
  const [given] = await ctx.tiny.recognize(img, [tight], { ...EXACT, margin: 0.25 });
  assert.equal(dflt.logits, byHand.logits, 'the model default (0.25) = the box grown by 5 px');
  assert.equal(given.logits, byHand.logits, 'the option = the metadata default');
  assert.not.equal(dflt.logits, t.logits, 'the grown crop differs from the tight one');
  // the tight crop sees nothing of the bar: a bar page reads like a bar-less one there, the grown one does not
  const plain = barPage(100, 60, 0, 0);
  assert.equal((await ctx.m25.recognize(plain, [tight], { ...EXACT, margin: 0 }))[0].logits, t.logits);
  assert.not.equal((await ctx.m25.recognize(plain, [tight], EXACT))[0].logits, dflt.logits);
  // under half a pixel rounds to none: the exact tight crop
  const [small] = await ctx.m25.recognize(img, [tight], { ...EXACT, margin: 0.02 });
  assert.equal(small.logits, t.logits);
});

M('vertical text grows by its width; clipped at the image edge; a polygon grows around its points', async (ctx) => {
  const img = barPage(100, 60, 15, 18);
  // 10 wide, 40 tall: read as vertical (turned a quarter); text height 10 -> 0.2 x 10 = 2 px a side. Without
  // verticalRetry's other readings (the random model may keep the strip unturned): the turned crop's logits compared.
  const opts = { rotationRetryThreshold: 0, marginRetryThreshold: 0, logits: true, inkCrop: false, verticalRetry: false };
  const [v] = await ctx.tiny.recognize(img, [rect(40, 12, 50, 52)], { ...opts, margin: 0.2 });
  const [vHand] = await ctx.tiny.recognize(img, [rect(38, 10, 52, 54)], { ...opts, margin: 0 });
  assert.is(v.rotation, 90);
  assert.equal(v.logits, vHand.logits);
  // a box at the corner: grown by 5 and clipped to the image
  const [edge] = await ctx.tiny.recognize(img, [rect(0, 0, 70, 20)], { ...EXACT, margin: 0.25 });
  const [edgeHand] = await ctx.tiny.recognize(img, [rect(0, 0, 75, 25)], { ...EXACT, margin: 0 });
  assert.equal(edge.logits, edgeHand.logits);
  // a CRAFT polygon (3 top points, 3 bottom points) on a straight line = its box, grown the same way
  const poly = { box: rect(15, 20, 85, 40), polygon: [[15, 20], [50, 20], [85, 20], [85, 40], [50, 40], [15, 40]] as [number, number][] };
  const polyHand = { box: rect(10, 15, 90, 45), polygon: [[10, 15], [50, 15], [90, 15], [90, 45], [50, 45], [10, 45]] as [number, number][] };
  const [p] = await ctx.tiny.recognize(img, [poly], { ...EXACT, margin: 0.25 });
  const [pHand] = await ctx.tiny.recognize(img, [polyHand], { ...EXACT, margin: 0 });
  assert.equal(p.logits, pHand.logits);
});

M('the whole image (no regions) is read as before, whatever the margin', async (ctx) => {
  const img = barPage(100, 60, 15, 18);
  const [base] = await ctx.tiny.recognize(img, undefined, { ...EXACT, margin: 0 });
  for (const margin of [0.25, 1]) assert.equal((await ctx.tiny.recognize(img, undefined, { ...EXACT, margin }))[0].logits, base.logits);
  assert.equal((await ctx.m25.recognize(img, undefined, EXACT))[0].logits, base.logits);
});

// marginRetryThreshold: a word still under it is read again at margin 0 and at twice the margin, the most confident
// reading kept (the tiny random model's confidences are all far below 1, so threshold 1 retries every word).
const WORDS = [rect(15, 20, 85, 40), rect(5, 8, 45, 19), rect(50, 42, 95, 58), rect(20, 30, 70, 50)];
const NO_RETRY = EXACT;

M('marginRetryThreshold is validated: TypeError / RangeError naming it; its default is 0 (off)', async (ctx) => {
  const img = barPage(100, 60, 15, 18);
  await rejects(() => ctx.tiny.recognize(img, WORDS, { marginRetryThreshold: '0.2' as unknown as number }), { name: 'TypeError', message: /marginRetryThreshold/ });
  for (const bad of [-0.1, 1.5, NaN]) {
    await rejects(() => ctx.tiny.recognize(img, WORDS, { marginRetryThreshold: bad }), { name: 'RangeError', message: /marginRetryThreshold/ });
  }
  const { marginRetryThreshold: _, ...defaults } = EXACT;
  const dflt = await ctx.m25.recognizeDetailed(img, WORDS, defaults);
  const on = await ctx.m25.recognizeDetailed(img, WORDS, { ...EXACT, marginRetryThreshold: 0.2 });
  const off = await ctx.m25.recognizeDetailed(img, WORDS, EXACT);
  assert.not.equal(on.words, off.words, 'at 0.2 it retries: some word reads better at another margin');
  assert.equal(dflt.words, off.words);
  assert.is(dflt.runs, off.runs);
});

M('known answer: a retried word keeps the most confident of its readings at the margin, at 0 and at twice the margin', async (ctx) => {
  const img = barPage(100, 60, 15, 18);
  const at = async (margin: number) => ctx.tiny.recognizeDetailed(img, WORDS, { ...NO_RETRY, margin });
  const [m, zero, twice] = [await at(0.25), await at(0), await at(0.5)];
  const got = await ctx.tiny.recognizeDetailed(img, WORDS, { ...EXACT, margin: 0.25, marginRetryThreshold: 1 });
  let changed = 0;
  got.words.forEach((w, i) => {
    // ties keep the first reading (the model's margin), then 0, then twice the margin
    let want = m.words[i];
    for (const alt of [zero.words[i], twice.words[i]]) if (alt.confidence > want.confidence) want = alt;
    if (want !== m.words[i]) changed++;
    assert.equal(w.logits, want.logits, `word ${i}: the most confident reading's output`);
    assert.is(w.text, want.text);
    assert.is(w.confidence, want.confidence);
  });
  assert.ok(changed > 0, 'some word reads better at another margin (else this test shows nothing)');
  assert.ok(got.runs > m.runs, `the retries are runs of their own (${got.runs} vs ${m.runs})`);
  // a threshold under every confidence retries nothing
  const low = Math.min(...m.words.map((w) => w.confidence));
  const none = await ctx.tiny.recognizeDetailed(img, WORDS, { ...EXACT, margin: 0.25, marginRetryThreshold: low });
  assert.equal(none.words, m.words);
  assert.is(none.runs, m.runs);
});

M('no margin retry without a margin (converted models) or without regions', async (ctx) => {
  const img = barPage(100, 60, 15, 18);
  const off = await ctx.tiny.recognizeDetailed(img, WORDS, NO_RETRY);
  const on = await ctx.tiny.recognizeDetailed(img, WORDS, { ...EXACT, marginRetryThreshold: 1 });
  assert.is(ctx.tiny.info.margin, 0);
  assert.equal(on.words, off.words);
  assert.is(on.runs, off.runs);
  const whole = await ctx.m25.recognizeDetailed(img, undefined, { ...EXACT, marginRetryThreshold: 1 });
  const wholeOff = await ctx.m25.recognizeDetailed(img, undefined, NO_RETRY);
  assert.equal(whole.words, wholeOff.words);
  assert.is(whole.runs, wholeOff.runs);
});

M('a margin retry of a word turned 180° reads it turned', async (ctx) => {
  // every word retried by both retries: the margin retry reads at the rotation the 180° retry kept
  const img = barPage(100, 60, 15, 18);
  const both = { verticalRatio: Infinity, logits: true, margin: 0.25, rotationRetryThreshold: 1, marginRetryThreshold: 1, inkCrop: false };
  const got = await ctx.tiny.recognize(img, WORDS, both);
  const rot = await ctx.tiny.recognize(img, WORDS, { ...both, marginRetryThreshold: 0 });
  let turned = 0;
  for (let i = 0; i < WORDS.length; i++) {
    const candidates = [rot[i]];
    for (const margin of [0, 0.5]) {
      // the same region read at that margin, turned as the kept reading (a 180° reading = the image turned 180°)
      const [r] = await ctx.tiny.recognize(rot[i].rotation === 180 ? turn180(img) : img,
        [rot[i].rotation === 180 ? turnRegion180(WORDS[i], img.width, img.height) : WORDS[i]], { ...NO_RETRY, margin });
      candidates.push({ ...r, rotation: rot[i].rotation });
    }
    const want = candidates.reduce((a, b) => (b.confidence > a.confidence ? b : a));
    assert.is(got[i].rotation, want.rotation, `word ${i} rotation`);
    assert.equal(got[i].logits, want.logits, `word ${i}`);
    if (want !== candidates[0] && want.rotation === 180) turned++;
  }
  assert.ok(turned > 0, 'some word turned 180° reads better at another margin (else this test shows nothing)');
});

// inkCrop: the letters of barPage (grey 40 on white) fill columns 20..77 and rows 22..37 (16 rows high); with the
// margin 0.25 a crop fitted to them is the ink + round(0.25 x 16) = 4 px a side, (16, 18)-(82, 42), whatever the box.
const INK = rect(16, 18, 82, 42);
const LOOSE = rect(10, 12, 90, 48);  // 36 high: the margin alone puts its sides 9 px further out
const TIGHT = rect(20, 22, 78, 38);  // the ink's box: 16 high, grown by 4 it is INK

M('inkCrop is validated: TypeError naming it; on by default', async (ctx) => {
  const img = barPage(100, 60, 0, 0);
  for (const bad of ['yes', 1, null]) {
    await rejects(() => ctx.m25.recognize(img, [LOOSE], { inkCrop: bad as unknown as boolean }), { name: 'TypeError', message: /inkCrop/ });
  }
  const { inkCrop: _, ...defaults } = EXACT;
  const [dflt] = await ctx.m25.recognize(img, [LOOSE], defaults);
  const [on] = await ctx.m25.recognize(img, [LOOSE], { ...EXACT, inkCrop: true });
  assert.equal(dflt.logits, on.logits);
});

M('known answer: a loose box and a tight one are cut alike, at the ink + the margin', async (ctx) => {
  const img = barPage(100, 60, 0, 0);
  const ink = { ...EXACT, inkCrop: true };
  const [byHand] = await ctx.m25.recognize(img, [INK], { ...EXACT, margin: 0 });
  const [loose] = await ctx.m25.recognize(img, [LOOSE], ink);
  const [tight] = await ctx.m25.recognize(img, [TIGHT], ink);
  const [looseBox] = await ctx.m25.recognize(img, [LOOSE], EXACT);
  const [tightBox] = await ctx.m25.recognize(img, [TIGHT], EXACT);
  assert.equal(loose.logits, byHand.logits, 'the loose box is cut at the ink + 4 px');
  assert.equal(tight.logits, byHand.logits, 'so is the tight one');
  assert.equal(tightBox.logits, byHand.logits, 'which is where the margin alone cuts the tight box');
  assert.not.equal(looseBox.logits, byHand.logits, 'the margin alone cuts the loose box 9 px further out');
  // a neighbouring line the loose box's margin cuts through (rows 3..6, touching the strip's top edge) is not the word
  const [withBar] = await ctx.m25.recognize(barPage(100, 60, 3, 7), [LOOSE], ink);
  assert.equal(withBar.logits, byHand.logits);
});

M('known answer: with inkCrop the margin retry\'s crops are fitted to the ink too (at 0: the ink; at twice the margin: the ink + 8 px)', async (ctx) => {
  const img = barPage(100, 60, 0, 0);
  const retry = { ...EXACT, inkCrop: true, marginRetryThreshold: 1 };  // every word retried
  const read = async (r: Region) => (await ctx.m25.recognize(img, [r], { ...EXACT, margin: 0 }))[0];
  // The first read at the ink + 4 px (INK); retried at the ink itself (TIGHT) and at the ink + round(0.5 x 16) = 8 px.
  const candidates = [await read(INK), await read(TIGHT), await read(rect(12, 14, 86, 46))];
  const best = (c: typeof candidates) => c.reduce((a, b) => (b.confidence > a.confidence ? b : a));
  const want = best(candidates);
  // What the retry read when its crops were cut at the box: the loose box at margin 0 and at 0.5 (18 px out).
  const atBox = best([candidates[0], await read(LOOSE), await read(rect(-8, -6, 108, 66))]);
  assert.not.equal(atBox.logits, want.logits, 'the box crops would keep another reading (else this test shows nothing)');
  const [loose] = await ctx.m25.recognize(img, [LOOSE], retry);
  assert.equal(loose.logits, want.logits, 'the loose box: the most confident of the ink-fitted readings');
  assert.is(loose.confidence, want.confidence);
  const [tight] = await ctx.m25.recognize(img, [TIGHT], retry);
  assert.equal(tight.logits, want.logits, 'the tight box is retried alike');
});

M('inkCrop changes nothing without a margin (converted models) or without regions', async (ctx) => {
  const img = barPage(100, 60, 0, 0);
  assert.equal((await ctx.tiny.recognize(img, [LOOSE], { ...EXACT, inkCrop: true }))[0].logits, (await ctx.tiny.recognize(img, [LOOSE], EXACT))[0].logits);
  assert.equal((await ctx.m25.recognize(img, undefined, { ...EXACT, inkCrop: true }))[0].logits, (await ctx.m25.recognize(img, undefined, EXACT))[0].logits);
});

/** The page turned 180° (RGB). */
function turn180(img: { data: Uint8Array; width: number; height: number; channels: 3 }) {
  const data = new Uint8Array(img.data.length);
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) data.set(img.data.subarray(p * 3, p * 3 + 3), (n - 1 - p) * 3);
  return { ...img, data };
}

/** A box in the page turned 180°, its corners in reading order again (top-left first). */
function turnRegion180(r: Region, width: number, height: number): Region {
  const t = r.map(([x, y]) => [width - x, height - y] as [number, number]);
  return [t[2], t[3], t[0], t[1]];
}

M.run();
