// The checkpoint converter against the PyTorch oracle (fixtures from tools/craft_torch/make_fixtures.py):
// convert in Node, run with onnxruntime-node, compare with the float64 PyTorch forward (max abs diff <= 1e-4).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { convert, convertStateDict, convertWithInfo, ConvertError, readCheckpoint, stateDict } from '../lib/convert';
import { GraphBuilder, FLOAT } from '../lib/convert/onnx';
import { rejectsConvert as rejects } from './helpers';

const DIR = path.join(__dirname, 'fixtures', 'checkpoints');
const TOL = 1e-4;

interface Out { file: string; shape: number[]; absmax: number }
interface Case { shape: number[]; input_sum: number; outputs: Record<string, Out> }
interface Ckpt { file: string; format: string; module_prefix: boolean; num_batches_tracked: boolean }
interface Model {
  name: string; width: number; feature_channels: number; checkpoints: Ckpt[]; refiners: Ckpt[];
  cases: Case[]; refiner_cases: Case[];
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  models: Model[]; other_export: { file: string; input: string; outputs: string[] };
};
const model = (name: string) => manifest.models.find((m) => m.name === name) as Model;
const file = (f: string) => path.join(DIR, f);

/** Same values as make_fixtures.py test_input(). */
function testInput(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = (i * 2654435761 + 12345) % 4294967296;
    out[i] = ((k % 4001) - 2000) / 1000;
  }
  return out;
}

function readF32(f: string): Float32Array {
  const b = fs.readFileSync(file(f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function run(onnx: Uint8Array, x: Float32Array, shape: number[]): Promise<ort.InferenceSession.OnnxValueMapType> {
  const s = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    return await s.run({ input: new ort.Tensor('float32', x, shape) });
  } finally {
    await s.release();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function check(onnx: Uint8Array, cases: Case[], label: string) {
  const report: string[] = [];
  for (const c of cases) {
    const x = testInput(c.shape);
    const sum = x.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - c.input_sum) < 1e-6 * x.length, `${label}: generated input differs from the fixture's`);
    const out = await run(onnx, x, c.shape);
    assert.equal(Object.keys(out).sort(), Object.keys(c.outputs).sort(), `${label}: output names`);
    for (const [name, ref] of Object.entries(c.outputs)) {
      const got = out[name];
      assert.equal([...got.dims], ref.shape, `${label} ${name} shape`);
      const d = maxDiff(got.data as Float32Array, readF32(ref.file));
      report.push(`${name}@${c.shape.join('x')} ${d.toExponential(1)}`);
      assert.ok(d <= TOL, `${label} ${name} ${c.shape.join('x')}: max abs diff ${d} > ${TOL} (|ref| <= ${ref.absmax})`);
    }
  }
  if (process.env.CONVERT_VERBOSE) console.log(`  ${label}: ${report.join(', ')}`);
}

for (const m of manifest.models) {
  for (const ck of m.checkpoints) {
    test(`model ${m.name}: ${ck.file} (${ck.format}${ck.module_prefix ? ', module.' : ''}${ck.num_batches_tracked ? '' : ', no num_batches_tracked'})`, async () => {
      const { onnx, info } = await convertWithInfo(file(ck.file));
      assert.is(info.source, ck.format);
      assert.is(info.featureChannels, m.feature_channels);
      await check(onnx, m.cases, ck.file);
    });
    for (const r of m.refiners) {
      test(`model ${m.name}: ${ck.file} + refiner ${r.file}`, async () => {
        const { onnx, info } = await convertWithInfo(fs.readFileSync(file(ck.file)), { refiner: file(r.file) });
        assert.is(info.refinerSource, r.format);
        await check(onnx, m.refiner_cases, `${ck.file}+${r.file}`);
      });
    }
  }
}

test('width detection and metadata', async () => {
  const a = await convertWithInfo(file(model('A').checkpoints[0].file));
  assert.is(a.info.width, 4 / 64);
  const b = await convertWithInfo(file(model('B').checkpoints[0].file));
  assert.is(b.info.width, 3 / 64); // width 0.05 -> round(3.2) = 3 first-conv channels
  const r = await convertWithInfo(file(model('A').checkpoints[0].file), { refiner: file(model('A').refiners[0].file) });
  assert.is(r.info.refinerWidth, 4 / 64);
});

test('graph I/O: names, dynamic dims', async () => {
  const onnx = await convert(file(model('A').checkpoints[0].file), { refiner: file(model('A').refiners[0].file) });
  const s = await ort.InferenceSession.create(onnx);
  assert.equal(s.inputNames, ['input']);
  assert.equal(s.outputNames, ['y', 'feature', 'refined_link']);
  await s.release();
});

test('reader: state dict keys, module. prefix stripped, num_batches_tracked kept', () => {
  const sd = stateDict(readCheckpoint(fs.readFileSync(file('craft-a-legacy-module.pth'))));
  assert.ok(sd.has('basenet.slice1.0.weight'));
  assert.ok(sd.has('basenet.slice1.1.num_batches_tracked'));
  assert.ok(![...sd.keys()].some((k) => k.startsWith('module.')));
  assert.equal(sd.get('upconv1.conv.0.weight')?.shape, [32, 96, 1, 1]);
  const nb = stateDict(readCheckpoint(fs.readFileSync(file('craft-b-zip-nonbt-strided.pth'))));
  assert.ok(![...nb.keys()].some((k) => k.endsWith('num_batches_tracked')));
});

// ---- errors --------------------------------------------------------------------------------------------------

const craftA = () => stateDict(readCheckpoint(fs.readFileSync(file('craft-a-zip.pth'))));
const refinerA = () => stateDict(readCheckpoint(fs.readFileSync(file('refiner-a-zip-nonbt.pth'))));

test('error: not a checkpoint', async () => {
  await rejects(() => convert(new TextEncoder().encode('hello, this is not a checkpoint at all')), /not a torch checkpoint/);
  await rejects(() => convert(new Uint8Array(3)), /not a torch checkpoint/);
  await rejects(() => convert(zipSync({ 'x/readme.txt': new Uint8Array(4) })), /no data\.pkl/);
  await rejects(() => convert(path.join(DIR, 'does-not-exist.pth')), /cannot read checkpoint .*ENOENT/);
});

test('error: truncated files', async () => {
  const legacy = fs.readFileSync(file('craft-a-legacy-module.pth'));
  await rejects(() => convert(legacy.subarray(0, legacy.length - 1000)), /runs past the end|truncated/);
  await rejects(() => convert(legacy.subarray(0, 200)), /truncated|corrupt/);
  const zip = fs.readFileSync(file('craft-a-zip.pth'));
  await rejects(() => convert(zip.subarray(0, zip.length - 2000)), /zip|truncated/);
});

test('error: a pickled module instead of a state dict', async () => {
  // protocol 2: GLOBAL 'craft CRAFT', EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, BUILD, STOP
  const pkl = Uint8Array.from([0x80, 2, 0x63, ...new TextEncoder().encode('craft\nCRAFT\n'), 0x29, 0x81, 0x7d, 0x62, 0x2e]);
  await rejects(() => convert(zipSync({ 'archive/data.pkl': pkl })), /pickled craft\.CRAFT object, not a state dict/);
  await rejects(() => convert(zipSync({ 'archive/data.pkl': Uint8Array.from([0x80, 2, 0xff]) })), /unsupported pickle opcode 0xff/);
});

test('error: missing key', () => {
  const sd = craftA();
  sd.delete('upconv2.conv.4.running_var');
  assert.throws(() => convertStateDict(sd), (e: ConvertError) =>
    e instanceof ConvertError && e.key === 'upconv2.conv.4.running_var' && /missing key 'upconv2\.conv\.4\.running_var'/.test(e.message));
});

test('error: unknown key', () => {
  const sd = craftA();
  sd.set('upconv5.conv.0.weight', sd.get('upconv4.conv.0.weight')!);
  assert.throws(() => convertStateDict(sd), (e: ConvertError) => e.key === 'upconv5.conv.0.weight' && /unknown key/.test(e.message));
  const r = refinerA();
  r.set('aspp5.0.weight', r.get('aspp4.0.weight')!);
  assert.throws(() => convertStateDict(craftA(), r), (e: ConvertError) => /refiner checkpoint: unknown key 'aspp5\.0\.weight'/.test(e.message));
});

test('error: wrong shapes', () => {
  const sd = craftA();
  sd.set('upconv1.conv.0.weight', sd.get('upconv2.conv.0.weight')!); // [16, 48, 1, 1] where [32, 96, 1, 1] belongs
  assert.throws(() => convertStateDict(sd), (e: ConvertError) =>
    e.key === 'upconv1.conv.0.weight' && /has shape \[16, 48, 1, 1\], expected \[\*, 96, 1, 1\] \(fc7 64 \+ conv5_3 32 channels\)/.test(e.message));
  const sd2 = craftA();
  sd2.set('basenet.slice1.1.running_mean', sd2.get('basenet.slice1.8.running_mean')!);
  assert.throws(() => convertStateDict(sd2), (e: ConvertError) => e.key === 'basenet.slice1.1.running_mean' && /expected \[4\]/.test(e.message));
  const sd3 = craftA();
  sd3.set('conv_cls.8.weight', sd3.get('conv_cls.6.weight')!);
  assert.throws(() => convertStateDict(sd3), (e: ConvertError) => e.key === 'conv_cls.8.weight' && /expected \[2, 1, 1, 1\]/.test(e.message));
  // a refiner whose input does not match the CRAFT feature width
  const r = refinerA();
  r.set('last_conv.0.weight', craftA().get('basenet.slice2.14.weight')!); // [16, 8, 3, 3]
  assert.throws(() => convertStateDict(craftA(), r), (e: ConvertError) =>
    e.key === 'last_conv.0.weight' && /refiner checkpoint: .*expected \[\*, 4, 3, 3\] \(2 score maps \+ 2 feature channels/.test(e.message));
});

test('error: checkpoints swapped', async () => {
  await rejects(() => convert(file('refiner-a-zip-nonbt.pth')), /is a LinkRefiner/);
  await rejects(() => convert(file('craft-a-zip.pth'), { refiner: file('craft-a-zip.pth') }), /refiner checkpoint is a CRAFT checkpoint/);
});

// ---- already-exported ONNX -----------------------------------------------------------------------------------

test('ONNX input: names mapped by shape, outputs unchanged', async () => {
  const other = fs.readFileSync(file(manifest.other_export.file));
  const { onnx, info } = await convertWithInfo(other);
  assert.is(info.source, 'onnx');
  assert.equal(info.mapping, { input: 'image', y: 'score', feature: 'feat', refined_link: 'link' });
  const shape = [1, 3, 64, 96];
  const x = testInput(shape);
  const a = await ort.InferenceSession.create(other);
  const ref = await a.run({ image: new ort.Tensor('float32', x, shape) });
  await a.release();
  const got = await run(onnx, x, shape);
  assert.equal(Object.keys(got).sort(), ['feature', 'refined_link', 'y']);
  for (const [ours, theirs] of [['y', 'score'], ['feature', 'feat'], ['refined_link', 'link']]) {
    assert.is(maxDiff(got[ours].data as Float32Array, ref[theirs].data as Float32Array), 0);
  }
  // explicit names
  const m2 = await convertWithInfo(other, { onnxNames: { input: 'image', y: 'score' } });
  assert.is(m2.info.mapping?.y, 'score');
  await rejects(() => convert(other, { onnxNames: { y: 'nope' } }), /no output named 'nope'/);
  await rejects(() => convert(other, { refiner: file('refiner-a-zip-nonbt.pth') }), /already-exported ONNX/);
});

test('ONNX input: an unrecognised graph', async () => {
  const g = new GraphBuilder();
  g.input('x', FLOAT, ['N', 3, 'H', 'W']);
  g.node('Identity', ['x'], ['z']);
  g.output('z', FLOAT, ['N', 3, 'H', 'W']);
  const onnx = g.finish({ graphName: 'id', producerVersion: '0' });
  await rejects(() => convert(onnx), /unrecognised ONNX graph: no candidate for y .*inputs x\[N,3,H,W\]; outputs z\[N,3,H,W\]/);
});

test.run();
