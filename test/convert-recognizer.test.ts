// The recogniser converter against the PyTorch oracle (fixtures from tools/str_torch/make_fixtures.py): official-layout
// checkpoints (zip and legacy, with and without `module.`) converted in Node, run with onnxruntime-node on the input
// tensors the official pipelines built, compared with the float64 PyTorch logits (max abs diff <= 1e-4); the greedy
// decode of the ONNX logits must give the oracle's strings, and the metadata the model contract (docs/recognition.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { convertWithInfo, readCheckpoint, stateDict, DTRB_CHARS, DTRB_SENSITIVE_CHARS, EASYOCR_EN_G2_CHARS } from '../lib/convert';
import { buildRecognizer, detectArchitecture } from '../lib/convert/recognizer';
import type { Tensor } from '../lib/convert/torch';
import { decode, str } from '../lib/convert/protobuf';
import { runConvert } from '../lib/cli/convert';
import { UsageError } from '../lib/cli/args';
import { rejectsConvert as refuses } from './helpers';
import * as os from 'node:os';

const DIR = path.join(__dirname, 'fixtures', 'str-checkpoints');
const TOL = 1e-4;

interface Case {
  image: string; pad: boolean; input: string; input_shape: number[]; logits: string; logits_shape: number[];
  logits_absmax: number; text: string; confidence: number;
}
interface Ckpt { file: string; format: 'zip' | 'legacy'; module_prefix: boolean }
interface Model {
  name: string; architecture: string; pipeline: 'dtrb' | 'easyocr'; decoder: 'ctc' | 'attn'; charset: string;
  imgH: number; imgW: number; output_channel: number; hidden_size: number; batch_max_length: number;
  checkpoints: Ckpt[]; cases: Case[];
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { models: Model[] };
const file = (f: string) => path.join(DIR, f);
const model = (name: string) => manifest.models.find((m) => m.name === name) as Model;

function readF32(f: string): Float32Array {
  const b = fs.readFileSync(path.join(DIR, 'ref', f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** ONNX metadata_props of a serialized model. */
function metadataOf(onnx: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of decode(onnx)) {
    if (f.no !== 14) continue;
    const kv = decode(f.value as Uint8Array);
    out[str(kv.find((x) => x.no === 1)!)] = str(kv.find((x) => x.no === 2)!);
  }
  return out;
}

/** Greedy decoding as DTRB demo.py does it (CTC: merge repeats, drop blank 0; attn: cut at [s] = 1). */
function greedy(logits: Float32Array, T: number, K: number, charset: string[], decoder: 'ctc' | 'attn'): string {
  let s = '';
  let prev = -1;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[t * K + k] > logits[t * K + best]) best = k;
    if (decoder === 'attn') {
      if (best === 1) break;
      s += best === 0 ? '[GO]' : charset[best - 2];
    } else {
      if (best !== 0 && best !== prev) s += charset[best - 1];
      prev = best;
    }
  }
  return s;
}

const maxDiff = (a: Float32Array, b: Float32Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const sessions = new Map<string, ort.InferenceSession>();
async function session(onnx: Uint8Array, key: string): Promise<ort.InferenceSession> {
  const s = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  sessions.set(key, s);
  return s;
}

const report: string[] = [];

for (const m of manifest.models) {
  for (const ck of m.checkpoints) {
    test(`${m.name}: ${ck.file} (${ck.format}${ck.module_prefix ? ', module.' : ', no prefix'}) vs the ${m.pipeline} pipeline`, async () => {
      const { onnx, info } = await convertWithInfo(file(ck.file));
      assert.is(info.kind, 'recognizer');
      assert.is(info.source, ck.format);
      const r = info.recognizer!;
      assert.is(r.architecture, m.architecture.startsWith('EasyOCR') ? 'None-VGG-BiLSTM-CTC' : m.architecture);
      assert.is(r.outputChannel, m.output_channel);
      assert.is(r.hiddenSize, m.hidden_size);
      assert.is(r.pipeline, m.pipeline);
      const charset = Array.from(m.charset);
      const s = await session(onnx, ck.file);
      assert.equal(s.inputNames, ['image']);
      assert.equal(s.outputNames, ['logits']);
      let worst = 0;
      for (const c of m.cases) {
        const out = await s.run({ image: new ort.Tensor('float32', readF32(c.input), c.input_shape) });
        const got = out.logits;
        assert.equal([...got.dims], c.logits_shape, `${c.image} logits shape`);
        const d = maxDiff(got.data as Float32Array, readF32(c.logits));
        worst = Math.max(worst, d);
        assert.ok(d <= TOL, `${ck.file} ${c.image}: max |logits diff| ${d} > ${TOL} (|logits| <= ${c.logits_absmax.toFixed(1)})`);
        const [, T, K] = c.logits_shape;
        assert.is(greedy(got.data as Float32Array, T, K, charset, m.decoder), c.text, `${ck.file} ${c.image}: decoded text`);
      }
      report.push(`${m.name} ${ck.file}: max |diff| ${worst.toExponential(2)}`);
      await s.release();
    });
  }
}

test('metadata in the model contract', async () => {
  const expect: Record<string, Record<string, string>> = {
    crnn36: { name: 'None-VGG-BiLSTM-CTC', decoder: 'ctc', imgH: '32', imgW: '100', dynamicWidth: 'false', resize: 'squash', confidence: 'dtrb', channels: '1' },
    crnn94: { name: 'None-VGG-BiLSTM-CTC', decoder: 'ctc', imgH: '32', imgW: '100', dynamicWidth: 'false', resize: 'squash', confidence: 'dtrb' },
    trba36: { name: 'TPS-ResNet-BiLSTM-Attn', decoder: 'attn', imgH: '32', imgW: '100', dynamicWidth: 'false', resize: 'squash', batchMaxLength: '25' },
    'trba94-64': { name: 'TPS-ResNet-BiLSTM-Attn', decoder: 'attn', imgH: '32', imgW: '64', dynamicWidth: 'false' },
    'vgg-attn': { name: 'None-VGG-BiLSTM-Attn', decoder: 'attn', imgH: '32', imgW: '100', dynamicWidth: 'false', resize: 'squash' },
    g2: { name: 'EasyOCR english_g2', decoder: 'ctc', imgH: '64', imgW: '2048', dynamicWidth: 'true', resize: 'pad', confidence: 'easyocr' },
  };
  const charsets: Record<string, string> = {
    crnn36: DTRB_CHARS, crnn94: DTRB_SENSITIVE_CHARS, trba36: DTRB_CHARS, 'trba94-64': DTRB_SENSITIVE_CHARS, 'vgg-attn': DTRB_CHARS, g2: EASYOCR_EN_G2_CHARS,
  };
  for (const [name, keys] of Object.entries(expect)) {
    const m = model(name);
    const { onnx } = await convertWithInfo(file(m.checkpoints[0].file));
    const meta = metadataOf(onnx);
    assert.is(meta['craft.task'], 'recognition');
    for (const [k, v] of Object.entries(keys)) assert.is(meta[`craft.recognizer.${k}`], v, `${name}: craft.recognizer.${k}`);
    assert.equal(JSON.parse(meta['craft.recognizer.charset']), Array.from(charsets[name]), `${name}: charset`);
    assert.equal(JSON.parse(meta['craft.recognizer.charset']), Array.from(m.charset), `${name}: charset = the oracle's`);
    assert.is(meta['craft.recognizer.mean'], '0.5');
    assert.is(meta['craft.recognizer.std'], '0.5');
    assert.is(meta['craft.recognizer.interpolation'], 'bicubic');
    // no crop margin: the runtime cuts at the box as DTRB's / EasyOCR's demos do (parity), recognize()'s default 0
    assert.is(meta['craft.recognizer.margin'], undefined, `${name}: no margin`);
  }
});

test('options: --pad, --imgH/--imgW, --character, --easyocr, batchMaxLength', async () => {
  const crnn = file(model('crnn36').checkpoints[0].file);
  let meta = metadataOf((await convertWithInfo(crnn, { pad: true, imgW: 160 })).onnx);
  assert.is(meta['craft.recognizer.resize'], 'pad');
  assert.is(meta['craft.recognizer.imgW'], '160');
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  meta = metadataOf((await convertWithInfo(crnn, { character: chars })).onnx);
  assert.equal(JSON.parse(meta['craft.recognizer.charset']), Array.from(chars));
  const e = await convertWithInfo(crnn, { easyocr: true, character: chars });
  meta = metadataOf(e.onnx);
  assert.is(e.info.recognizer!.name, 'EasyOCR None-VGG-BiLSTM-CTC');
  assert.is(meta['craft.recognizer.imgH'], '64');
  assert.is(meta['craft.recognizer.dynamicWidth'], 'true');
  assert.is(meta['craft.recognizer.confidence'], 'easyocr');
  // english_g2 run the DTRB way
  const g = await convertWithInfo(file(model('g2').checkpoints[0].file), { easyocr: false, imgH: 64 });
  assert.is(g.info.recognizer!.pipeline, 'dtrb');
  assert.is(g.info.recognizer!.resize, 'squash');
  // a shorter attention decoder: 11 steps
  const t = await convertWithInfo(file(model('trba36').checkpoints[0].file), { batchMaxLength: 10 });
  const s = await ort.InferenceSession.create(t.onnx);
  const c = model('trba36').cases[0];
  const out = await s.run({ image: new ort.Tensor('float32', readF32(c.input), c.input_shape) });
  assert.equal([...out.logits.dims], [1, 11, 38]);
  const ref = readF32(c.logits);
  assert.ok(maxDiff(out.logits.data as Float32Array, ref.subarray(0, 11 * 38)) <= TOL, 'the first 11 steps are unchanged');
  await s.release();
});

test('dynamic batch (and width for CTC models): batch of 3 = 3 single runs', async () => {
  for (const name of ['crnn36', 'trba36', 'g2']) {
    const m = model(name);
    const s = await ort.InferenceSession.create((await convertWithInfo(file(m.checkpoints[0].file))).onnx);
    const cases = m.cases.filter((c) => c.input_shape[3] === m.cases[0].input_shape[3]).slice(0, 3);
    const per = cases[0].input_shape.slice(1).reduce((a, b) => a * b, 1);
    const x = new Float32Array(per * cases.length);
    cases.forEach((c, i) => x.set(readF32(c.input), i * per));
    const out = await s.run({ image: new ort.Tensor('float32', x, [cases.length, ...cases[0].input_shape.slice(1)]) });
    const [, T, K] = cases[0].logits_shape;
    cases.forEach((c, i) => {
      const d = maxDiff((out.logits.data as Float32Array).subarray(i * T * K, (i + 1) * T * K), readF32(c.logits));
      assert.ok(d <= TOL, `${name} batch item ${i}: ${d}`);
    });
    if (name === 'g2') {
      // a different width in the same session: T = W / 4 - 1
      const w = 200;
      const o2 = await s.run({ image: new ort.Tensor('float32', new Float32Array(64 * w).fill(0.3), [1, 1, 64, w]) });
      assert.equal([...o2.logits.dims], [1, w / 4 - 1, 97]);
    }
    await s.release();
  }
});

// ---- refusals ------------------------------------------------------------------------------------------------

const sdOf = (f: string) => stateDict(readCheckpoint(fs.readFileSync(file(f))));
const build = (sd: Map<string, Tensor>, opts = {}) => buildRecognizer(sd, { eps: 1e-5, producerVersion: '0', ...opts });

test('detection: the four stages from the keys', () => {
  assert.equal(detectArchitecture(sdOf('crnn36-zip.pth')), { transformation: 'None', feature: 'VGG', sequence: 'BiLSTM', prediction: 'CTC' });
  assert.equal(detectArchitecture(sdOf('trba36-zip.pth')), { transformation: 'TPS', feature: 'ResNet', sequence: 'BiLSTM', prediction: 'Attn' });
  assert.equal(detectArchitecture(sdOf('none-vgg-bilstm-attn-zip.pth')), { transformation: 'None', feature: 'VGG', sequence: 'BiLSTM', prediction: 'Attn' });
});

test('refused: unknown layouts, with a coded error', async () => {
  // RCNN feature extractor (DTRB's GRCL keys)
  const rcnn = sdOf('crnn36-zip.pth');
  rcnn.set('FeatureExtraction.ConvNet.3.GRCL.0.wgf_u.weight', rcnn.get('FeatureExtraction.ConvNet.3.weight')!);
  rcnn.delete('FeatureExtraction.ConvNet.18.weight');
  await refuses(() => build(rcnn), /RCNN/);
  // a key from no stage
  const extra = sdOf('crnn36-zip.pth');
  extra.set('Decoder.weight', extra.get('Prediction.weight')!);
  await refuses(() => build(extra), /unknown key 'Decoder\.weight'/, 'Decoder.weight');
  // an unknown key inside a stage
  const extra2 = sdOf('crnn36-zip.pth');
  extra2.set('SequenceModeling.0.rnn.weight_ih_l1', extra2.get('SequenceModeling.0.rnn.weight_ih_l0')!);
  await refuses(() => build(extra2), /unknown key 'SequenceModeling\.0\.rnn\.weight_ih_l1' \(not part of the official architecture\)/);
  // no prediction layer
  const noPred = sdOf('crnn36-zip.pth');
  noPred.delete('Prediction.weight');
  noPred.delete('Prediction.bias');
  await refuses(() => build(noPred), /unknown Prediction layout/);
  // a missing key and a wrong shape name the key
  const miss = sdOf('crnn36-zip.pth');
  miss.delete('FeatureExtraction.ConvNet.15.running_var');
  await refuses(() => build(miss), /missing key 'FeatureExtraction\.ConvNet\.15\.running_var'/, 'FeatureExtraction.ConvNet.15.running_var');
  const bad = sdOf('crnn36-zip.pth');
  bad.set('SequenceModeling.1.linear.weight', bad.get('Prediction.weight')!);
  await refuses(() => build(bad), /'SequenceModeling\.1\.linear\.weight' has shape \[37, 16\], expected \[\*, 32\]/, 'SequenceModeling.1.linear.weight');
  // unknown class count without --character; wrong --character / --sensitive
  const odd = sdOf('crnn36-zip.pth');
  const p = odd.get('Prediction.weight')!;
  odd.set('Prediction.weight', { ...p, shape: [20, 16], dtype: p.dtype, numel: 320, toFloat32: () => p.toFloat32().subarray(0, 320) } as unknown as Tensor);
  odd.set('Prediction.bias', { ...p, shape: [20], dtype: p.dtype, numel: 20, toFloat32: () => p.toFloat32().subarray(0, 20) } as unknown as Tensor);
  await refuses(() => build(odd), /20 classes \(\[CTCblank\] \+ 19 characters\), which is no known character set .*--character/);
  await refuses(() => build(sdOf('crnn36-zip.pth'), { character: 'abc' }), /--character has 3 characters but the checkpoint has 37 classes/);
  await refuses(() => build(sdOf('crnn36-zip.pth'), { sensitive: true }), /--sensitive means 94 characters/);
  await refuses(() => build(sdOf('crnn36-zip.pth'), { character: 'a'.repeat(36) }), /lists "a" twice/);
  // TPS geometry is fixed by the checkpoint
  await refuses(() => build(sdOf('trba36-zip.pth'), { imgW: 128 }), /built for 32x100/);
  // a CRAFT checkpoint with --recognizer, a recognizer with a refiner
  await refuses(() => convertWithInfo(path.join(__dirname, 'fixtures', 'checkpoints', 'craft-a-zip.pth'), { kind: 'recognizer' }), /not a recognizer state dict/);
  await refuses(() => convertWithInfo(file('crnn36-zip.pth'), { refiner: path.join(__dirname, 'fixtures', 'checkpoints', 'refiner-a-zip-nonbt.pth') }), /text recognizer/);
  await refuses(() => convertWithInfo(path.join(__dirname, 'models', 'crnn-tiny.onnx'), { kind: 'recognizer' }), /already an ONNX model/);
  // and a recognizer forced through the CRAFT path is refused there
  await refuses(() => convertWithInfo(file('crnn36-zip.pth'), { kind: 'craft' }), /not a CRAFT state dict/);
});

test('bad option types', async () => {
  await assert.not.throws(() => build(sdOf('crnn36-zip.pth'), { imgH: 32 }));
  assert.throws(() => build(sdOf('crnn36-zip.pth'), { imgH: 16 }), (e: Error) => e instanceof RangeError && /imgH/.test(e.message));
  assert.throws(() => build(sdOf('crnn36-zip.pth'), { imgW: 10.5 }), (e: Error) => e instanceof TypeError && /imgW/.test(e.message));
  try {
    await convertWithInfo(file('crnn36-zip.pth'), { character: 5 as unknown as string });
    assert.unreachable('expected a TypeError');
  } catch (e) {
    assert.instance(e, TypeError);
  }
});

test('CLI: craft-text convert detects a recogniser and says what it found', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convert-rec-'));
  const out = path.join(dir, 'crnn.onnx');
  const write = process.stdout.write;
  let printed = '';
  process.stdout.write = ((chunk: string) => { printed += chunk; return true; }) as typeof process.stdout.write;
  try {
    assert.is(await runConvert([file('crnn36-legacy.pth'), '-o', out, '--pad', '--imgW', '128']), 0);
    assert.is(await runConvert([file('g2-zip.pth'), '-o', path.join(dir, 'g2.onnx')]), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.match(printed, /text recognizer None-VGG-BiLSTM-CTC \(legacy format\): detected None-VGG-BiLSTM-CTC, grey input, output_channel 32, hidden 16, 37 classes = 36 characters \(dtrb\), CTC; dtrb pipeline: imgH 32, keep ratio, pad to width 128/);
  assert.match(printed, /text recognizer EasyOCR english_g2 \(zip format\): .*97 classes = 96 characters \(easyocr-english_g2\).*easyocr pipeline: imgH 64, keep ratio, pad per crop/);
  const meta = metadataOf(fs.readFileSync(out));
  assert.is(meta['craft.recognizer.resize'], 'pad');
  assert.is(meta['craft.recognizer.imgW'], '128');
  await assert.not.throws(async () => (await ort.InferenceSession.create(out)).release());
  for (const bad of [['--recognizer', '--detector'], ['--easyocr', '--dtrb'], ['--imgH', '8'], ['--batch-max-length', 'x']]) {
    try {
      await runConvert([file('crnn36-zip.pth'), '-o', path.join(dir, 'x.onnx'), ...bad]);
      assert.unreachable(`expected a usage error for ${bad.join(' ')}`);
    } catch (e) {
      assert.ok(e instanceof UsageError || e instanceof RangeError, `${bad.join(' ')}: ${(e as Error).message}`);
    }
  }
  await refuses(() => runConvert([file('crnn36-zip.pth'), '-o', path.join(dir, 'x.onnx'), '--sensitive']), /--sensitive means 94/);
  assert.not.ok(fs.existsSync(path.join(dir, 'x.onnx')), 'no output written on failure');
  fs.rmSync(dir, { recursive: true, force: true });
});

test.after(() => {
  if (process.env.CONVERT_VERBOSE) console.log(`\n  ${report.join('\n  ')}`);
});

test.run();
