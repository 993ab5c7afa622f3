// scale 'auto''s constants per model (issue 17): read from the model's metadata (binding/craft/autoscale.h
// ScaleConstantsFromMetadata), unusable values ignored, and measured by `craft-text tune --scale` (lib/cli/tune-scale.ts).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { deriveScaleConstants, MIN_BIN_WORDS, SCALE_BINS, type HeightBin } from '../lib/cli/tune-scale';
import { OnnxModel } from '../lib/quantize/graph';
import type { DetectResult } from '../lib/types';
import { ROOT, TINY_MODEL } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { decodePng, rescale } = require('../bench/images');
const BUNDLED = path.join(ROOT, 'models', 'craft-text-default.onnx');
const IMAGE = decodePng(fs.readFileSync(path.join(ROOT, 'examples', 'images', 'hello.png')));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const DEFAULTS = { targetHeight: 30, goodLow: 11, goodHigh: 64, detectedToTruth: 0.8 };
const SCALE_KEYS = ['craft.scaleTargetHeight', 'craft.scaleGoodLow', 'craft.scaleGoodHigh', 'craft.detectedToTruth', 'craft.scaleCalibrated'];

// The bundled model carries its own scale constants (the WiSE-FT default, models/README.md); the tests of the
// no-metadata path and of added metadata start from its weights with those keys removed.
const BARE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-scale-bare-'));
const BARE = path.join(BARE_DIR, 'bare.onnx');
{
  const m = OnnxModel.parse(fs.readFileSync(BUNDLED));
  for (const k of SCALE_KEYS) m.metadata.delete(k);
  fs.writeFileSync(BARE, m.serialize());
}
process.on('exit', () => fs.rmSync(BARE_DIR, { recursive: true, force: true }));

/** A copy of the bundled weights (no scale metadata) with `meta` added to its metadata. */
function withMetadata(dir: string, name: string, meta: Record<string, string>): string {
  const m = OnnxModel.parse(fs.readFileSync(BARE));
  for (const [k, v] of Object.entries(meta)) m.metadata.set(k, v);
  const file = path.join(dir, name);
  fs.writeFileSync(file, m.serialize());
  return file;
}

const plan = (r: DetectResult) => ({ scale: r.scale, passes: r.passes.map((p) => `${p.role}@${p.scale.toFixed(3)}`).join(',') });

const M = suite<{ dir: string; bundled: Detector }>('scale constants per model', {
  dir: '', bundled: undefined as unknown as Detector,
});
M.before(async (ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-scale-model-'));
  ctx.bundled = await Detector.create({ model: BARE, threads: 1 });
});
M.after(async (ctx) => {
  await ctx.bundled.dispose();
  fs.rmSync(ctx.dir, { recursive: true, force: true });
});

M('a model without scale metadata plans with autoscale.h\'s constants', ({ bundled }) => {
  assert.equal({ ...bundled.info.autoScale }, DEFAULTS);
  assert.is(bundled.info.metadata['craft.scaleGoodLow'], undefined);
});

M('the bundled model plans with the constants its metadata carries (tools/train/accept_det.sh\'s tune --scale)', async () => {
  const d = await Detector.create({ model: BUNDLED, threads: 1 });
  try {
    const md = d.info.metadata;
    assert.ok(md['craft.scaleCalibrated'], 'calibrated');
    assert.equal({ ...d.info.autoScale }, {
      targetHeight: Number(md['craft.scaleTargetHeight']), goodLow: Number(md['craft.scaleGoodLow']),
      goodHigh: Number(md['craft.scaleGoodHigh']), detectedToTruth: Number(md['craft.detectedToTruth']),
    });
    assert.not.equal({ ...d.info.autoScale }, DEFAULTS);
  } finally {
    await d.dispose();
  }
});

M('a model\'s good range gives an ordinary page an upscaled pass the bundled model\'s does not', async (ctx) => {
  const model = withMetadata(ctx.dir, 'range.onnx', { 'craft.scaleTargetHeight': '100', 'craft.scaleGoodLow': '60', 'craft.scaleGoodHigh': '400' });
  const d = await Detector.create({ model, threads: 1 });
  try {
    assert.equal({ ...d.info.autoScale }, { targetHeight: 100, goodLow: 60, goodHigh: 400, detectedToTruth: 0.8 });
    const fixed = await ctx.bundled.detect(IMAGE, { scale: 'fixed' });
    const base = await ctx.bundled.detect(IMAGE);
    assert.is(base.scale, fixed.scale);  // the bundled model: the fixed pass alone
    const r = await d.detect(IMAGE);
    assert.ok(r.scale > 1.25 * fixed.scale, `scale ${r.scale} vs fixed ${fixed.scale}`);
    assert.ok(r.passes.some((p) => p.role === 'main' && p.scale === r.scale), JSON.stringify(r.passes));
  } finally {
    await d.dispose();
  }
});

M('a model\'s detected/truth ratio decides whether small text gets the upscaled pass', async (ctx) => {
  const small = rescale(IMAGE, 0.2);
  const base = await ctx.bundled.detect(small);
  const fixed = await ctx.bundled.detect(small, { scale: 'fixed' });
  assert.ok(base.scale > 2 * fixed.scale, `bundled: ${JSON.stringify(plan(base))}`);
  // A model whose boxes are tight (detected / truth 0.25 instead of 0.8) reads the same boxes as 3.2x taller text,
  // which needs no upscaling.
  const model = withMetadata(ctx.dir, 'tight.onnx', { 'craft.detectedToTruth': '0.25' });
  const d = await Detector.create({ model, threads: 1 });
  try {
    assert.is(d.info.autoScale.detectedToTruth, 0.25);
    const r = await d.detect(small);
    assert.is(r.scale, fixed.scale, `tight boxes: ${JSON.stringify(plan(r))}`);
    assert.is(r.passes.map((p) => p.role).join(','), 'main');
  } finally {
    await d.dispose();
  }
});

M('unusable metadata is ignored: the bundled model\'s plans exactly', async (ctx) => {
  const model = withMetadata(ctx.dir, 'bad.onnx', {
    'craft.scaleTargetHeight': '30px', 'craft.scaleGoodLow': '70', 'craft.scaleGoodHigh': 'NaN', 'craft.detectedToTruth': '0',
  });
  const unordered = withMetadata(ctx.dir, 'unordered.onnx', { 'craft.scaleGoodLow': '40', 'craft.detectedToTruth': '1e9' });
  for (const file of [model, unordered]) {
    const d = await Detector.create({ model: file, threads: 1 });
    try {
      assert.equal({ ...d.info.autoScale }, DEFAULTS);
      for (const f of [0.2, 1, 3]) {
        const img = rescale(IMAGE, f);
        assert.equal(plan(await d.detect(img)), plan(await ctx.bundled.detect(img)), `x${f}`);
      }
    } finally {
      await d.dispose();
    }
  }
});

// One reading of metadata numbers (binding/craft/metadata.h): the thresholds, read in JS (lib/options.ts
// metadataNumber), and the scale constants, read by the addon, take and ignore the same strings.
M('the thresholds (JS) and the scale constants (addon) read metadata numbers alike', async (ctx) => {
  const tiny = OnnxModel.parse(fs.readFileSync(TINY_MODEL));
  const cases: [string, boolean][] = [['0.5', true], ['+0.5', true], ['.5', true], ['5e-1', true], ['0.50', true],
    ['0x1', false], [' 0.5', false], ['0.5 ', false], ['0.5\n', false], ['1e400', false], ['abc', false], ['', false],
    ['0b1', false], ['Infinity', false]];
  assert.is(tiny.metadata.get('craft.lowText'), undefined);
  for (const [i, [text, plain]] of cases.entries()) {
    for (const k of ['craft.lowText', 'craft.linkThreshold', 'craft.detectedToTruth']) tiny.metadata.set(k, text);
    const file = path.join(ctx.dir, `number-${i}.onnx`);
    fs.writeFileSync(file, tiny.serialize());
    const d = await Detector.create({ model: file, threads: 1 });
    try {
      const read = [d.info.defaults.lowText, d.info.defaults.linkThreshold, d.info.autoScale.detectedToTruth];
      assert.equal(read, plain ? [0.5, 0.5, 0.5] : [0.4, 0.4, DEFAULTS.detectedToTruth], JSON.stringify(text));
    } finally {
      await d.dispose();
    }
    for (const k of ['craft.lowText', 'craft.linkThreshold', 'craft.detectedToTruth']) tiny.metadata.delete(k);
  }
});

M.run();

// ---- the calibration ----------------------------------------------------------------------------------------------

/** Bins from [recall, words] pairs, bench/scale-range.js's bins from the first. */
function bins(values: [number, number][]): HeightBin[] {
  return SCALE_BINS.map((from, i) => {
    const [recall, words] = values[i] ?? [0, 0];
    return { from, to: SCALE_BINS[i + 1] ?? Infinity, words, found: Math.round(recall * words), recall: words ? recall : null };
  });
}

const C = suite('tune --scale: the rule');

C('the bundled model\'s measured table (docs/robustness.md) gives its constants back', () => {
  // 4-6 ... 180+ px: recall and words as measured (the 256 and 362 bins empty).
  const table = bins([[0, 398], [0.05, 291], [0.35, 395], [0.70, 429], [0.72, 393], [0.79, 463], [0.82, 552], [0.75, 448],
    [0.695, 436], [0.59, 303], [0.08, 12], [0, 5]]);
  const c = deriveScaleConstants(table, [0.7, 0.78, 0.8, 0.81, 0.9])!;
  assert.is(c.goodLow, 11);
  assert.is(c.goodHigh, 64);
  assert.ok(c.targetHeight >= 22 && c.targetHeight <= 45, String(c.targetHeight));  // the best bins, 22-45
  assert.is(c.targetHeight, 31.5);  // their geometric middle (the bundled model's 30 was picked by eye)
  assert.is(c.detectedToTruth, 0.8);
});

C('sparse bins end the range; no bin reaching 0.70 gives nothing', () => {
  const few = MIN_BIN_WORDS - 1;
  const c = deriveScaleConstants(bins([[0, 50], [0.75, few], [0.8, 50], [0.9, 50], [0.8, 50], [0.8, few], [0.9, 50]]), [1])!;
  assert.equal({ lo: c.goodLow, hi: c.goodHigh }, { lo: 8, hi: 22 });
  assert.is(c.targetHeight, Number(Math.sqrt(11 * 16).toFixed(1)));  // the best bin alone (0.9, neighbours 0.8)
  assert.is(deriveScaleConstants(bins([[0.5, 100], [0.69, 100]]), [1]), null);
  assert.is(deriveScaleConstants(bins([[0.9, 100]]), []), null);
});

C.run();

const T = suite<{ dir: string }>('tune --scale cli', { dir: '' });
T.before((ctx) => {
  // The synthetic character fixtures (4 pages, 278 words): word boxes = the bounds of their characters.
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-tune-scale-'));
  const src = path.join(ROOT, 'test', 'fixtures', 'characters');
  const fixture = JSON.parse(fs.readFileSync(path.join(src, 'characters.json'), 'utf8'));
  const lines = fixture.pages.map((p: { image: string; words: { chars: [number, number][][] }[] }) => {
    const words = p.words.map((w) => {
      const pts = w.chars.flat();
      const xs = pts.map((q) => q[0]), ys = pts.map((q) => q[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      return { points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]] };
    });
    return JSON.stringify({ image: path.join(src, p.image), words });
  });
  fs.writeFileSync(path.join(ctx.dir, 'gt.jsonl'), lines.join('\n') + '\n');
});
T.after((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }); });

T('measures sane constants on a few pages and writes them where the detector reads them', async (ctx) => {
  const json = path.join(ctx.dir, 'scale.json'), out = path.join(ctx.dir, 'calibrated.onnx');
  const r = cli('tune', ctx.dir, '--scale', '--model', BARE, '--mags', '0.5,1,2', '--limit', '4', '--threads', '1', '--json', json, '--write', out, '--quiet');
  assert.is(r.status, 0, r.stderr + r.stdout);
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.is(rep.pages, 4);
  assert.equal(rep.mags, [0.5, 1, 2]);
  assert.equal(rep.before, DEFAULTS);
  const c = rep.constants;
  assert.ok(c.goodLow < c.targetHeight && c.targetHeight < c.goodHigh, JSON.stringify(c));
  assert.ok(c.goodLow >= 4 && c.goodLow <= 22 && c.goodHigh >= 32 && c.goodHigh <= 256, JSON.stringify(c));
  assert.ok(c.detectedToTruth > 0.5 && c.detectedToTruth < 1.5, JSON.stringify(c));
  const d = await Detector.create({ model: out, threads: 1 });
  try {
    assert.equal({ ...d.info.autoScale }, c);
    assert.match(d.info.metadata['craft.scaleCalibrated'], /4 pages x scales 0\.5, 1, 2/);
    assert.is(d.info.metadata['craft.textThreshold'], OnnxModel.parse(fs.readFileSync(BARE)).metadata.get('craft.textThreshold'));  // the rest of the metadata kept
  } finally {
    await d.dispose();
  }
});

T('the box ratio is read at the character level, whatever lowText groups the words at', (ctx) => {
  // The same weights with lowText 0.25 (looser boxes): the ratio is read from boxes at 0.35, where scale 'auto' reads
  // heights, so it stays the bundled model's; read from its own boxes it would be larger.
  const loose = withMetadata(ctx.dir, 'low.onnx', { 'craft.lowText': '0.25' });
  const ratio = (model: string, name: string) => {
    const json = path.join(ctx.dir, name);
    const r = cli('tune', ctx.dir, '--scale', '--model', model, '--mags', '0.5,1,2', '--threads', '1', '--json', json, '--quiet');
    assert.is(r.status, 0, r.stderr + r.stdout);
    return JSON.parse(fs.readFileSync(json, 'utf8')).constants.detectedToTruth as number;
  };
  const [a, b] = [ratio(BARE, 'a.json'), ratio(loose, 'b.json')];
  assert.ok(Math.abs(a - b) <= 0.02 * a, `bundled ${a}, lowText 0.25 ${b}`);
});

T('flags: --mags needs --scale, the threshold search\'s flags do not apply, bad scales are usage errors', (ctx) => {
  for (const args of [['--mags', '1'], ['--scale', '--search', 'grid'], ['--scale', '--mags', '0,1'], ['--scale', '--mags', 'a']]) {
    const r = cli('tune', ctx.dir, '--model', BUNDLED, ...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--(mags|search)/);
  }
});

T.run();
