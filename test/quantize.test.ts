// INT8 quantization (lib/quantize, `craft-text quantize`): calibration statistics, the QDQ and dynamic rewrites,
// the resulting models in the detector, the CLI (usage errors, --eval comparison).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { quantize, QuantizeError } from '../lib/quantize';
import { OnnxModel, DT } from '../lib/quantize/graph';
import { activationParams, calibrationModel, planQuantization, quantizeWeights } from '../lib/quantize/rewrite';
import { IMAGES, rejects, ROOT, TINY_MODEL, TINY_REFINER_MODEL } from './helpers';

const img = (name: string) => path.join(IMAGES, name);
const CALIB = ['hello.png', 'inverted.png', 'tall.png', 'hello.jpg'].map(img);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-quantize-'));

const Q = suite('quantize');
Q.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

Q('weights: int8 symmetric per channel, error within half a step', () => {
  const w = Float32Array.from([0.5, -1, 0.25, 0.1, 0, 0.002, -0.004, 0.001]);
  const { q, scales } = quantizeWeights(w, 2);
  assert.equal(Array.from(q.slice(0, 4)), [64, -127, 32, 13]);
  assert.ok(Math.abs(scales[0] - 1 / 127) < 1e-9);
  assert.ok(Math.abs(scales[1] - 0.004 / 127) < 1e-9);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(q[i] * scales[i >> 2] - w[i]) <= scales[i >> 2] / 2 + 1e-9);
  assert.equal(Array.from(quantizeWeights(Float32Array.from([1, -1]), 1, { reduceRange: true }).q), [63, -63]);
  assert.equal(Array.from(quantizeWeights(new Float32Array(4), 2).scales), [1, 1]); // all-zero channel
});

Q('activations: uint8 asymmetric, the range always holds 0', () => {
  assert.equal(activationParams({ lo: 0, hi: 2.55 }), { scale: Math.fround(0.01), zeroPoint: 0 });
  assert.ok([127, 128].includes(activationParams({ lo: -1, hi: 1 }).zeroPoint)); // 127.5 after float32 rounding
  assert.is(activationParams({ lo: 1, hi: 2 }).zeroPoint, 0); // widened to [0, 2]
  assert.equal(activationParams({ lo: 0, hi: 0 }), { scale: 1, zeroPoint: 0 });
});

Q('plan: convs quantized except narrow and head ones, ReLUs folded, MaxPool/Resize share scales', () => {
  const m = OnnxModel.parse(fs.readFileSync(TINY_MODEL));
  const all = planQuantization(m, { minChannels: 0 });
  // 27 convs in the tiny model, the last (1x1 -> 2 score maps) feeds y: kept in float
  assert.is(all.convs.length, 26);
  assert.equal(all.skipped.map((s) => s.why), ['head (feeds a model output)']);
  assert.ok(all.foldedRelus.size >= 20);
  assert.ok(all.calibrated.includes('input'));
  assert.ok(all.shared.size >= 5 + 3); // 5 MaxPool + 3 Resize outputs
  const narrow = planQuantization(m); // default minChannels 16: the tiny model (width 0.1) is mostly narrower
  assert.ok(narrow.convs.length < all.convs.length);
  assert.ok(narrow.skipped.some((s) => /narrow/.test(s.why)));
  const ex = planQuantization(m, { minChannels: 0, exclude: [all.convs[3].name] });
  assert.is(ex.convs.length, 25);
});

Q('calibration statistics are exact on a constant image (min, max and percentiles of the input tensor)', async () => {
  const bytes = fs.readFileSync(TINY_MODEL);
  const calib = calibrationModel(bytes, ['input'], [1e-3]);
  const d = await Detector.create({ model: calib, threads: 1 });
  try {
    const v = 100; // 64x64 at magRatio 1: no resize, no padding; every pixel of channel c is (v/255 - mean_c) / std_c
    const raw = { data: new Uint8Array(64 * 64 * 3).fill(v), width: 64, height: 64, channels: 3 as const };
    const r = await d.detect(raw, { heatmaps: true, magRatio: 1, canvasSize: 64, tiling: 'off' });
    const s = [0, 1, 2, 3].map((j) => (j % 2 === 0 ? r.heatmaps!.region[j >> 1] : r.heatmaps!.affinity[j >> 1]));
    const norm = [0.485, 0.456, 0.406].map((m, c) => (v / 255 - m) / [0.229, 0.224, 0.225][c]);
    const lo = Math.min(...norm), hi = Math.max(...norm);
    for (const [got, want] of [[s[0], lo], [s[1], hi], [s[2], lo], [s[3], hi]]) assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
  } finally {
    await d.dispose();
  }
});

Q('static QDQ: a smaller model that the detector runs, close to FP32 where the model is well conditioned', async () => {
  const { onnx, report } = await quantize(TINY_MODEL, { calibration: CALIB, minChannels: 0, threads: 1 });
  assert.is(report.mode, 'static');
  assert.is(report.calibrationImages, 4);
  assert.is(report.rewrite.quantizedConvs, 26);
  assert.ok(report.bytesOut < report.bytesIn / 2, `${report.bytesOut} vs ${report.bytesIn}`);
  const m = OnnxModel.parse(onnx);
  const ops = m.nodes.map((n) => n.opType);
  assert.ok(ops.filter((o) => o === 'QuantizeLinear').length >= 20);
  assert.ok(ops.filter((o) => o === 'DequantizeLinear').length >= 2 * 26);
  assert.is(ops.filter((o) => o === 'Relu').length, 23 - report.rewrite.foldedRelus);
  const convW = m.nodes.filter((n) => n.opType === 'Conv').map((n) => n.inputs[1]);
  const int8Weights = [...m.initializers.values()].filter((t) => t.dataType === DT.INT8 && t.dims.length === 4);
  assert.is(int8Weights.length, 26);
  assert.is(convW.length, 27);
  assert.match(m.metadata.get('craft.quantization') ?? '', /static QDQ/);

  const file = path.join(tmp, 'tiny-int8.onnx');
  fs.writeFileSync(file, onnx);
  const [a, b] = [await Detector.create({ model: TINY_MODEL, threads: 1 }), await Detector.create({ model: file, threads: 1 })];
  try {
    assert.equal(b.info.outputNames, a.info.outputNames);
    const ra = await a.detect(img('hello.png'), { heatmaps: true });
    const rb = await b.detect(img('hello.png'), { heatmaps: true });
    assert.is(rb.heatmaps!.width, ra.heatmaps!.width);
    // the random-weight tiny model amplifies rounding (ONNX Runtime's own quantizer does the same, see
    // docs/serving.md); bound the mean error relative to the map's range
    let err = 0, lo = Infinity, hi = -Infinity;
    const x = ra.heatmaps!.region, y = rb.heatmaps!.region;
    for (let i = 0; i < x.length; i++) { err += Math.abs(x[i] - y[i]); lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
    assert.ok(err / x.length < 0.15 * (hi - lo), `mean |error| ${err / x.length} vs range ${hi - lo}`);
  } finally {
    await a.dispose();
    await b.dispose();
  }
});

Q('refiner model: the score head and the ASPP heads stay float, y reads the float head, the detector refines', async () => {
  const plan = planQuantization(OnnxModel.parse(fs.readFileSync(TINY_REFINER_MODEL)), { minChannels: 0 });
  assert.equal(plan.skipped.map((x) => x.name), ['/craft/conv_cls/conv_cls.8/Conv', '/refiner/aspp1/aspp1.6/Conv',
    '/refiner/aspp2/aspp2.6/Conv', '/refiner/aspp3/aspp3.6/Conv', '/refiner/aspp4/aspp4.6/Conv']);
  const { onnx } = await quantize(TINY_REFINER_MODEL, { calibration: CALIB.slice(0, 2), minChannels: 0, threads: 1 });
  // the score head's output is quantized for the refiner's Concat, but the y output (its Transpose) reads it float
  const m = OnnxModel.parse(onnx);
  const yNode = m.producers().get('y')!;
  assert.is(yNode.opType, 'Transpose');
  assert.is(m.producers().get(yNode.inputs[0])!.opType, 'Conv');
  const d = await Detector.create({ model: onnx, threads: 1 });
  try {
    assert.ok(d.info.refiner);
    const r = await d.detect(img('hello.png'), { refine: true });
    assert.ok(Array.isArray(r.words));
  } finally {
    await d.dispose();
  }
});

Q('dynamic: ConvInteger model runs', async () => {
  const { onnx, report } = await quantize(TINY_MODEL, { mode: 'dynamic', minChannels: 0 });
  assert.is(report.mode, 'dynamic');
  const m = OnnxModel.parse(onnx);
  assert.is(m.nodes.filter((n) => n.opType === 'ConvInteger').length, 26);
  const d = await Detector.create({ model: onnx, threads: 1 });
  try {
    const r = await d.detect(img('hello.png'));
    assert.ok(Array.isArray(r.words));
  } finally {
    await d.dispose();
  }
});

Q('errors: no calibration images, unusable images, not a model, bad options', async () => {
  await rejects(() => quantize(TINY_MODEL, {}), { name: 'QuantizeError', code: 'ERR_CRAFT_QUANTIZE', message: /needs calibration images/ });
  await rejects(() => quantize(TINY_MODEL, { calibration: [Buffer.from('not an image')], threads: 1 }),
    { code: 'ERR_CRAFT_QUANTIZE', message: /no usable calibration image .*ERR_CRAFT_DECODE/ });
  await rejects(() => quantize(Buffer.from('hello world, not onnx'), { mode: 'dynamic' }), { code: 'ERR_CRAFT_QUANTIZE' });
  await rejects(() => quantize(path.join(tmp, 'missing.onnx'), { mode: 'dynamic' }), { code: 'ERR_CRAFT_QUANTIZE', message: /ENOENT/ });
  await rejects(() => quantize(TINY_MODEL, { mode: 'fast' as 'static' }), { name: 'RangeError' });
  await rejects(() => quantize(TINY_MODEL, { percentile: 50, calibration: CALIB }), { name: 'RangeError' });
  assert.instance(new QuantizeError('x'), Error);
});

Q.run();

// ---- CLI ------------------------------------------------------------------------------------------------------------

const C = suite('craft-text quantize');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'lib', 'cli', 'main.ts'), 'quantize', ...args],
    { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

C('usage errors exit 2 with a message', () => {
  let r = cli([TINY_MODEL, path.join(tmp, 'x.onnx')]);
  assert.is(r.code, 2);
  assert.match(r.err, /static quantization needs --calibrate/);
  r = cli([TINY_MODEL]);
  assert.is(r.code, 2);
  r = cli([TINY_MODEL, path.join(tmp, 'x.onnx'), '--mode', 'fast']);
  assert.is(r.code, 2);
  assert.match(r.err, /--mode expects static or dynamic/);
  r = cli([TINY_MODEL, path.join(tmp, 'x.onnx'), '--calibrate', path.join(tmp, 'nope')]);
  assert.is(r.code, 2);
  assert.match(r.err, /no such folder/);
});

C('static with --calibrate and --eval: writes the model, prints FP32 vs INT8 accuracy and speed', () => {
  // a two-image dataset in the gt.jsonl format (boxes roughly where the fixture's words are)
  const ds = path.join(tmp, 'ds');
  fs.mkdirSync(path.join(ds, 'images'), { recursive: true });
  const cal = path.join(tmp, 'cal');
  fs.mkdirSync(cal);
  for (const f of ['hello.png', 'inverted.png']) {
    fs.copyFileSync(img(f), path.join(ds, 'images', f));
    fs.copyFileSync(img(f), path.join(cal, f));
  }
  const gt = (f: string) => JSON.stringify({ image: `images/${f}`, words: [{ points: [[20, 60], [180, 60], [180, 140], [20, 140]], text: 'Hello', ignore: false }] });
  fs.writeFileSync(path.join(ds, 'gt.jsonl'), `${gt('hello.png')}\n${gt('inverted.png')}\n`);
  const out = path.join(tmp, 'cli-int8.onnx');
  const json = path.join(tmp, 'report.json');
  const r = cli([TINY_MODEL, out, '--calibrate', cal, '--eval', ds, '--min-channels', '0', '--threads', '1', '--json', json]);
  assert.is(r.code, 0, r.err);
  assert.ok(fs.existsSync(out));
  assert.match(r.out, /static QDQ: 26 convolutions int8/);
  assert.match(r.out, /fp32 .*\n\s+int8 /);
  assert.match(r.out, /H-mean delta [+-]\d\.\d{4}; inference speed-up \d+\.\d\dx/);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.is(report.comparisons[0].images, 2);
  assert.is(report.comparisons[0].rows.length, 2);
});

C('dynamic mode needs no calibration', () => {
  const out = path.join(tmp, 'cli-dyn.onnx');
  const r = cli([TINY_MODEL, out, '--mode', 'dynamic']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /dynamic: \d+ convolutions -> ConvInteger/);
});

C.run();
