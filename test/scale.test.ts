// scale 'auto', character boxes and calibrated scores (issue 17), with the bundled model on the README's example image
// (examples/images/hello.png, ground truth from the fonts' ink boxes) at known sizes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, postprocess } from '../lib';
import { evaluate, iou, type GtWord } from '../lib/eval';
import { ROOT, rejects } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { decodePng, rescale } = require('../bench/images');
const IMAGE = decodePng(fs.readFileSync(path.join(ROOT, 'examples', 'images', 'hello.png')));
const GT: GtWord[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'images', 'hello.gt.jsonl'), 'utf8')).words;

const S = suite<{ detector: Detector }>('scale auto, characters, scores', { detector: undefined as unknown as Detector });
S.before(async (ctx) => { ctx.detector = await Detector.create({ threads: 1 }); });
S.after(async (ctx) => { await ctx.detector.dispose(); });

S('huge text: auto works at a smaller scale than the fixed defaults, after a probe', async ({ detector }) => {
  const big = rescale(IMAGE, 3);
  const auto = await detector.detect(big);
  const fixed = await detector.detect(big, { scale: 'fixed' });
  assert.is(fixed.passes.length, 1);
  assert.is(fixed.passes[0].role, 'main');
  assert.is(auto.passes[0].role, 'probe');
  assert.is(auto.passes[1].role, 'main');
  assert.is(auto.passes[1].scale, auto.scale);
  assert.ok(auto.scale < fixed.scale / 2, `auto scale ${auto.scale} vs fixed ${fixed.scale}`);
  assert.ok(auto.words.length >= GT.length * 0.8, `${auto.words.length} words`);
});

S('small text: auto upscales (judged on the main pass\'s words) and finds what the fixed scale misses', async ({ detector }) => {
  const small = rescale(IMAGE, 0.2);  // 128 x 84: letters 3-7 px tall
  const k = small.width / IMAGE.width;
  const hmean = (r: { words: { box: [number, number][] }[] }) => evaluate([{ id: 'hello', gt: GT,
    det: r.words.map((w) => ({ points: w.box.map(([x, y]) => [x / k, y / k] as [number, number]) })) }]).hmean;
  const auto = await detector.detect(small);
  const fixed = await detector.detect(small, { scale: 'fixed' });
  assert.ok(auto.scale > 2 * fixed.scale, `auto scale ${auto.scale} vs fixed ${fixed.scale}`);
  assert.is(auto.passes.map((p) => p.role).join(','), 'large,main');  // no probe: the fixed pass fits one canvas
  assert.ok(hmean(auto) >= hmean(fixed) + 0.2, `H-mean auto ${hmean(auto).toFixed(3)} vs fixed ${hmean(fixed).toFixed(3)}`);
  // tiling 'off' is honoured: the canvas caps the upscaled pass too.
  const capped = await detector.detect(small, { scale: 'auto', tiling: 'off', canvasSize: 256 });
  assert.ok(capped.scale * small.width <= 256 + 1e-6 && capped.tiles === 1);
});

S('ordinary page: the main pass is exactly the fixed pass', async ({ detector }) => {
  const auto = await detector.detect(IMAGE, { characters: false });
  const fixed = await detector.detect(IMAGE, { scale: 'fixed' });
  assert.is(auto.scale, fixed.scale);
  const main = auto.passes.find((p) => p.role === 'main')!;
  assert.is(main.words, fixed.words.length);
  // Giving canvasSize or magRatio without `scale` means the fixed geometry they describe.
  assert.is((await detector.detect(IMAGE, { magRatio: 1.5 })).passes.length, 1);
});

S('merged passes never return two words for one place', async ({ detector }) => {
  for (const f of [1, 3]) {
    const r = await detector.detect(rescale(IMAGE, f));
    for (let i = 0; i < r.words.length; i++) {
      for (let j = i + 1; j < r.words.length; j++) {
        assert.ok(iou(r.words[i].box, r.words[j].box) < 0.5, `x${f}: words ${i} and ${j} overlap`);
      }
    }
  }
});

S('scores are in [0, 1]; rawScore keeps the highest region score', async ({ detector }) => {
  const r = await detector.detect(IMAGE, { heatmaps: true });
  assert.ok(r.words.length > 0);
  assert.ok(r.words.some((w) => w.rawScore > 1), 'the bundled model overshoots 1 somewhere (what the score fixes)');
  for (const w of r.words) {
    assert.ok(w.score >= 0 && w.score <= 1, `score ${w.score}`);
    assert.ok(w.score <= Math.min(1, w.rawScore) + 1e-6, 'a mean of capped peaks is at most the capped maximum');
  }
  const h = r.heatmaps!;
  const words = await postprocess(h, { textThreshold: 0.7, linkThreshold: 0.4, lowText: 0.4 });
  for (const w of words) assert.ok(w.score >= 0 && w.score <= 1);
});

S('characters: boxes in reading order inside their word, about one per letter', async ({ detector }) => {
  const r = await detector.detect(IMAGE, { characters: true, scale: 'fixed' });
  const plain = await detector.detect(IMAGE, { scale: 'fixed' });
  assert.is(plain.words[0].characters, undefined);
  let close = 0, matched = 0;
  for (const gt of GT) {
    const w = r.words.find((d) => iou(d.box, gt.points) > 0.5);
    if (!w || !gt.text) continue;
    matched++;
    const chars = w.characters!;
    assert.ok(chars.length >= 1);
    const cx = chars.map((c) => (c[0][0] + c[1][0] + c[2][0] + c[3][0]) / 4);
    for (let i = 1; i < cx.length; i++) assert.ok(cx[i] > cx[i - 1], 'left to right');
    const xs = w.box.map((p) => p[0]);
    for (const x of cx) assert.ok(x >= Math.min(...xs) - 1 && x <= Math.max(...xs) + 1, 'inside the word');
    if (Math.abs(chars.length - gt.text.length) <= Math.max(1, gt.text.length * 0.25)) close++;
  }
  assert.ok(matched >= GT.length * 0.7, `${matched} words matched`);
  assert.ok(close >= matched * 0.6, `${close}/${matched} words with about one box per letter`);
});

S('characters vs the synthetic generator\'s exact boxes: precision and recall at IoU > 0.5', async ({ detector }) => {
  // test/fixtures/characters (tools/train/make_char_fixtures.py); the bundled WiSE-FT default measured 0.703 / 0.634
  // (docs/robustness.md#character-boxes). The floors were 0.7 / 0.65 for the synthetic model before it (0.748 / 0.700;
  // cut at the watershed slices and the word's margins: 0.621 / 0.581); the mix's character loss is the trade its
  // shipping accepted (docs/training.md), so the recall floor is 0.6 now, still above the old cut (0.581).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { characterPR } = require('../bench/characters');
  const r = await characterPR(detector);
  assert.ok(r.characters.precision >= 0.68, `precision ${r.characters.precision.toFixed(3)}`);
  assert.ok(r.characters.recall >= 0.6, `recall ${r.characters.recall.toFixed(3)}`);
});

S('a lowered lowText groups words differently, but characters and auto\'s text size stay at the model\'s level', async ({ detector }) => {
  // Characters and word heights are read at max(lowText, 0.35) (binding/craft/characters.h kCharacterLevel). At
  // lowText 0.2 the words' boxes reach further; read there, the characters measured 0.361 / 0.335 and small text was
  // judged too tall to upscale (scale 1.5, as fixed). Measured now: 0.726 / 0.665 with the synthetic model, 0.677 /
  // 0.596 with the bundled WiSE-FT default (its shipped character loss: floors 0.65 / 0.6 -> 0.65 / 0.57; the read
  // at 0.35 is what this tests, and 0.2 read as the level measured 0.361 / 0.335), and the upscaled pass.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { characterPR } = require('../bench/characters');
  const r = await characterPR(detector, { lowText: 0.2 });
  assert.ok(r.characters.precision >= 0.65, `precision ${r.characters.precision.toFixed(3)}`);
  assert.ok(r.characters.recall >= 0.57, `recall ${r.characters.recall.toFixed(3)}`);
  const small = rescale(IMAGE, 0.2);
  const fixed = await detector.detect(small, { scale: 'fixed', lowText: 0.2 });
  for (const lowText of [0.35, 0.2]) {
    const auto = await detector.detect(small, { lowText });
    assert.ok(auto.scale > 2 * fixed.scale, `lowText ${lowText}: auto scale ${auto.scale} vs fixed ${fixed.scale}`);
  }
});

S('options: scale and characters are validated', async ({ detector }) => {
  await rejects(() => detector.detect(IMAGE, { scale: 'big' as never }), { name: 'TypeError', message: /scale/ });
  await rejects(() => detector.detect(IMAGE, { characters: 1 as never }), { name: 'TypeError', message: /characters/ });
});

S.run();

// The extra passes of scale 'auto' run inside the scheduler's prepare and finish stages, not its inference stage: the
// session's run gate (binding/craft/session.h, RunGate) holds them to `concurrency` too, and the stage's RunControl
// cancels them. The setting: the README image at 0.2x (128 x 84, letters 3-7 px) with canvasSize 160 fits one canvas
// at the fixed scale, and its words then ask for an upscaled pass in finish that the canvas cuts into about 24 tiles.
const POOL = suite('scale auto: the extra passes keep to the inference pool and its cancellation');
const TINY = rescale(IMAGE, 0.2);
const UPSCALED = { scale: 'auto' as const, canvasSize: 160 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

POOL('network runs never exceed concurrency, the passes run in finish included', async () => {
  const detector = await Detector.create({ threads: 1, concurrency: 1, stageConcurrency: 2 });
  try {
    const results = await Promise.all(Array.from({ length: 4 }, () => detector.detect(TINY, UPSCALED)));
    for (const r of results) assert.ok(r.passes.some((p) => p.role === 'main' && p.tiles > 4), JSON.stringify(r.passes));
    const { networkRuns, batches } = detector.stats();
    assert.is(batches.runs, 4, 'the infer stage ran one inference per image');
    assert.ok(networkRuns.runs > 4 * 4, `${networkRuns.runs} network runs (the finish passes' tiles counted)`);
    assert.is(networkRuns.running, 0);
    assert.is(networkRuns.peak, 1, 'at most concurrency (1) network runs at once');
    await detector.dispose();
    assert.equal(detector.stats().networkRuns, networkRuns, 'stats() after dispose keeps the counts');
  } finally {
    await detector.dispose();
  }
});

POOL('an abort stops the passes that finish runs', async () => {
  const detector = await Detector.create({ threads: 1, concurrency: 1, stageConcurrency: 1 });
  const runs = () => detector.stats().networkRuns.runs;
  try {
    let r0 = runs();
    await detector.detect(TINY, UPSCALED);
    const full = runs() - r0;
    assert.ok(full >= 10, `${full} runs for the whole detection`);
    // Abort once finish is into its upscaled pass (the main inference and two of its tiles have run).
    const ac = new AbortController();
    r0 = runs();
    const pending = detector.detect(TINY, { ...UPSCALED, signal: ac.signal });
    const t0 = Date.now();
    while (runs() - r0 < 3 && Date.now() - t0 < 20_000) await sleep(1);
    ac.abort();
    await rejects(() => pending, { name: 'AbortError' });
    // The aborted finish holds the only stage slot until its native call returns: a detection submitted now starts
    // after it, so the runs counted when this one is done are all the aborted request ever ran (plus this one's).
    await detector.detect(TINY, { scale: 'fixed' });
    const aborted = runs() - r0 - 1;
    assert.ok(aborted < full / 2, `the aborted detection ran ${aborted} of ${full} network runs`);
  } finally {
    await detector.dispose();
  }
});

POOL.run();
