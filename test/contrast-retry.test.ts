// The contrast retry (contrastRetryThreshold; EasyOCR's contrast_ths / adjust_contrast_grey): a word still under the
// threshold is read again with its grey levels stretched and the more confident reading is kept. Checked with the
// tiny random recogniser against the same crop stretched here by EasyOCR's formula (numpy's percentiles), and the
// option's validation.
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recognizer } from '../lib';
import { rejects, ROOT, sideBySide } from './helpers';

const EXACT = { rotationRetryThreshold: 0, orientationRetryThreshold: 0, verticalRatio: Infinity } as const;
type Raw = { data: Uint8Array; width: number; height: number; channels: 3 };

/** A grey (R = G = B) crop of smooth random levels in [lo, hi], deterministic. */
function greyCrop(width: number, height: number, lo: number, hi: number, seed = 5): Raw {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const cell = 4, gw = Math.ceil(width / cell) + 1;
  const grid = Array.from({ length: gw * (Math.ceil(height / cell) + 1) }, () => lo + rand() * (hi - lo));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.fill(Math.round(grid[Math.floor(y / cell) * gw + Math.floor(x / cell)]), (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return { data, width, height, channels: 3 };
}

/** numpy.percentile (linear) of sorted values. */
function percentile(sorted: number[], q: number): number {
  const rank = q / 100 * (sorted.length - 1), lo = Math.floor(rank), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** EasyOCR's utils.adjust_contrast_grey(img, target) of a grey crop, written out independently of the C++ port. */
function adjustContrastGrey(img: Raw, target = 0.5): { img: Raw; stretched: boolean } {
  const levels: number[] = [];
  for (let i = 0; i < img.data.length; i += 3) levels.push(img.data[i]);
  levels.sort((a, b) => a - b);
  const high = percentile(levels, 90), low = percentile(levels, 10);
  if ((high - low) / Math.max(10, high + low) >= target) return { img, stretched: false };
  const ratio = 200 / Math.max(10, high - low);
  const data = img.data.map((v) => Math.trunc(Math.min(255, Math.max(0, (v - low + 25) * ratio))));
  return { img: { ...img, data }, stretched: true };
}

const C = suite<{ crnn: Recognizer }>('contrast retry');
C.before(async (ctx) => {
  ctx.crnn = await Recognizer.create({ model: path.join(ROOT, 'test', 'models', 'crnn-tiny.onnx'), threads: 1 });
});
C.after(async (ctx) => ctx.crnn.dispose());

C('a low-contrast crop: the more confident of its reading and its stretched reading is kept', async ({ crnn }) => {
  for (const [lo, hi, seed] of [[100, 160, 5], [150, 190, 9], [60, 120, 3]]) {
    const crop = greyCrop(120, 32, lo, hi, seed);
    const { img: stretched, stretched: did } = adjustContrastGrey(crop);
    assert.ok(did, `levels ${lo}-${hi} are under the target contrast`);
    const off = await crnn.recognizeDetailed(crop, undefined, { ...EXACT, contrastRetryThreshold: 0 });
    const alone = await crnn.recognizeDetailed(stretched, undefined, { ...EXACT, contrastRetryThreshold: 0 });
    const on = await crnn.recognizeDetailed(crop, undefined, { ...EXACT, contrastRetryThreshold: 1 });
    const want = alone.words[0].confidence > off.words[0].confidence ? alone.words[0] : off.words[0];
    assert.is.not(alone.words[0].confidence, off.words[0].confidence, 'the stretch changes what the model sees');
    assert.is(on.words[0].text, want.text);
    assert.ok(Math.abs(on.words[0].confidence - want.confidence) < 1e-6, `${on.words[0].confidence} vs ${want.confidence}`);
    assert.is(on.runs, off.runs + 1, 'one more run: the stretched crop');
    // Over the threshold: not read again.
    const above = await crnn.recognizeDetailed(crop, undefined, { ...EXACT, contrastRetryThreshold: off.words[0].confidence * 0.999 });
    assert.equal(above.words, off.words);
    assert.is(above.runs, off.runs);
  }
});

C('a crop with contrast enough is not read again', async ({ crnn }) => {
  const crop = greyCrop(120, 32, 0, 255, 4);
  assert.not.ok(adjustContrastGrey(crop).stretched);
  const off = await crnn.recognizeDetailed(crop, undefined, { ...EXACT, contrastRetryThreshold: 0 });
  const on = await crnn.recognizeDetailed(crop, undefined, { ...EXACT, contrastRetryThreshold: 1 });
  assert.equal(on.words, off.words);
  assert.is(on.runs, off.runs);
});

C('regions: each low-confidence word is retried from its own crop', async ({ crnn }) => {
  // Two words side by side, the left one low-contrast: the retry reads it as its crop alone stretched.
  const a = greyCrop(100, 32, 120, 170, 11), b = greyCrop(100, 32, 0, 255, 12);
  const { page, regions } = sideBySide([a, b]);
  const opts = { ...EXACT, margin: 0, inkCrop: false };
  const off = await crnn.recognize(page, regions, { ...opts, contrastRetryThreshold: 0 });
  const on = await crnn.recognize(page, regions, { ...opts, contrastRetryThreshold: 1 });
  const [alone] = await crnn.recognize(adjustContrastGrey(a).img, undefined, { ...EXACT, contrastRetryThreshold: 0 });
  const want = alone.confidence > off[0].confidence ? alone : off[0];
  assert.is(on[0].text, want.text);
  assert.ok(Math.abs(on[0].confidence - want.confidence) < 1e-6);
  assert.equal(on[1], off[1], 'the crop with contrast enough is read once');
});

C('bad contrastRetryThreshold values: TypeError / RangeError naming it', async ({ crnn }) => {
  const crop = greyCrop(60, 32, 0, 255);
  await rejects(() => crnn.recognize(crop, undefined, { contrastRetryThreshold: 1.5 }), { name: 'RangeError', message: /contrastRetryThreshold/ });
  await rejects(() => crnn.recognize(crop, undefined, { contrastRetryThreshold: -0.1 }), { name: 'RangeError', message: /contrastRetryThreshold/ });
  await rejects(() => crnn.recognize(crop, undefined, { contrastRetryThreshold: NaN }), { name: 'RangeError', message: /contrastRetryThreshold/ });
  await rejects(() => crnn.recognize(crop, undefined, { contrastRetryThreshold: '0.1' as never }), { name: 'TypeError', message: /contrastRetryThreshold/ });
});

C.run();
