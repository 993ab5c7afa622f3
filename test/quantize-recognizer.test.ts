// INT8 quantization of recognisers (lib/quantize with craft.task = recognition, `craft-text quantize`): the raw
// `logits` recognize() returns (the calibration's channel), calibration through the Recognizer, the static QDQ +
// dynamic LSTM/MatMul model (metadata kept, loads, close to FP32), and on the bundled recogniser, with
// ../shared/data, that INT8 reads the same strings as FP32 for most words of held-out ICDAR 2013 pages.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recognizer } from '../lib';
import { loadDataset, recognitionFromDataset } from '../lib/eval';
import { toRegion } from '../lib/eval/recognition';
import { quantize } from '../lib/quantize';
import { OnnxModel } from '../lib/quantize/graph';
import { calibrationModel } from '../lib/quantize/rewrite';
import { rejects, ROOT, SHARED, TINY_MODEL } from './helpers';

const CRNN = path.join(ROOT, 'test', 'models', 'crnn-tiny.onnx');
const FIX = path.join(ROOT, 'test', 'fixtures', 'recognition');
const ORACLE = JSON.parse(fs.readFileSync(path.join(FIX, 'oracle.json'), 'utf8')) as {
  images: string[]; results: Record<string, { text: string; logits: number[]; T: number; K: number }[]>;
};
const CROPS = ORACLE.images.map((f) => path.join(FIX, f));
const BUNDLED = path.join(ROOT, 'models', 'craft-text-recognizer.onnx');
const IC13 = path.join(SHARED, 'data', 'icdar2013_born_digital');
const READ = { rotationRetryThreshold: 0 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-quantize-rec-'));

const Q = suite('quantize recognisers');

Q('recognize({ logits: true }) returns the model output of the reading kept (the PyTorch oracle\'s logits)', async () => {
  const rec = await Recognizer.create({ model: CRNN, threads: 1 });
  try {
    const [w] = await rec.recognize(CROPS[0], undefined, { ...READ, logits: true });
    const want = ORACLE.results['crnn-tiny.onnx'][0];
    assert.instance(w.logits, Float32Array);
    assert.is(w.logits!.length, want.T * want.K);
    let max = 0;
    for (let i = 0; i < want.logits.length; i++) max = Math.max(max, Math.abs(w.logits![i] - want.logits[i]));
    assert.ok(max < 1e-4, `max |diff| ${max}`);
    const [plain] = await rec.recognize(CROPS[0], undefined, READ);
    assert.is(plain.logits, undefined);
    await rejects(() => rec.recognize(CROPS[0], undefined, { logits: 1 as unknown as boolean }), { name: 'TypeError', message: /logits/ });
  } finally {
    await rec.dispose();
  }
});

Q('calibration statistics ride in a word\'s logits: exact on a constant crop', async () => {
  const bytes = fs.readFileSync(CRNN);
  const input = OnnxModel.parse(bytes).inputs[0].name;
  const rec = await Recognizer.create({ model: calibrationModel(bytes, [input], [1e-3]), threads: 1 });
  try {
    const v = 100;
    const raw = { data: new Uint8Array(40 * 120 * 3).fill(v), width: 120, height: 40, channels: 3 as const };
    const [w] = await rec.recognize(raw, undefined, { ...READ, logits: true, batchSize: 1 });
    const want = (v / 255 - 0.5) / 0.5; // grey of a grey pixel is the pixel; bicubic of a constant is the constant
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(w.logits![j] - want) < 1e-5, `stat ${j}: ${w.logits![j]} vs ${want}`);
  } finally {
    await rec.dispose();
  }
});

Q('static QDQ + dynamic LSTM/MatMul: craft.* metadata kept, loads in the Recognizer, logits close to FP32', async () => {
  const { onnx, report } = await quantize(CRNN, { calibration: CROPS, threads: 1 });
  assert.is(report.task, 'recognition');
  assert.is(report.calibrationCrops, CROPS.length);
  assert.ok(report.rewrite.quantizedConvs >= 1);
  assert.ok(report.recurrent.lstms >= 1, JSON.stringify(report.recurrent));
  const before = OnnxModel.parse(fs.readFileSync(CRNN)).metadata;
  const after = OnnxModel.parse(onnx).metadata;
  for (const [k, v] of before) if (k.startsWith('craft.')) assert.is(after.get(k), v, k);
  assert.match(after.get('craft.quantization') ?? '', /static QDQ.*word crops.*dynamic int8 \d+ LSTM/);
  const ops = OnnxModel.parse(onnx).nodes.map((n) => `${n.domain}:${n.opType}`);
  assert.ok(ops.includes('com.microsoft:DynamicQuantizeLSTM'));
  assert.not.ok(ops.includes(':LSTM'));

  const [a, b] = [await Recognizer.create({ model: CRNN, threads: 1 }), await Recognizer.create({ model: onnx, threads: 1 })];
  try {
    assert.equal(b.info.charset, a.info.charset);
    for (const crop of CROPS) {
      const [x] = await a.recognize(crop, undefined, { ...READ, logits: true });
      const [y] = await b.recognize(crop, undefined, { ...READ, logits: true });
      assert.is(y.logits!.length, x.logits!.length);
      // random weights amplify rounding; bound the mean error relative to the logits' range
      let err = 0, lo = Infinity, hi = -Infinity;
      for (let i = 0; i < x.logits!.length; i++) {
        err += Math.abs(x.logits![i] - y.logits![i]); lo = Math.min(lo, x.logits![i]); hi = Math.max(hi, x.logits![i]);
      }
      assert.ok(err / x.logits!.length < 0.05 * (hi - lo), `${path.basename(crop)}: mean |error| ${err / x.logits!.length} vs range ${hi - lo}`);
    }
  } finally {
    await a.dispose();
    await b.dispose();
  }
  // float recurrent layers on request; dynamic mode also rewrites them
  const f = await quantize(CRNN, { calibration: CROPS, threads: 1, recurrent: 'float' });
  assert.equal(f.report.recurrent, { lstms: 0, matmuls: 0 });
  assert.ok(OnnxModel.parse(f.onnx).nodes.some((n) => n.opType === 'LSTM'));
});

Q('errors: no crops, unusable crops, CRAFT-only options, bad recurrent', async () => {
  await rejects(() => quantize(CRNN, {}), { code: 'ERR_CRAFT_QUANTIZE', message: /needs calibration word crops/ });
  await rejects(() => quantize(CRNN, { calibration: [Buffer.from('not an image')], threads: 1 }),
    { code: 'ERR_CRAFT_QUANTIZE', message: /no usable calibration image .*ERR_CRAFT_DECODE/ });
  await rejects(() => quantize(CRNN, { calibration: [{ image: CROPS[0], regions: [] }], threads: 1 }),
    { code: 'ERR_CRAFT_QUANTIZE', message: /no usable calibration image .*no regions/ });
  await rejects(() => quantize(CRNN, { calibration: CROPS, detectOptions: { canvasSize: 640 } }), { name: 'TypeError', message: /recogniser/ });
  await rejects(() => quantize(CRNN, { calibration: CROPS, recurrent: 'int4' as 'float' }), { name: 'RangeError', message: /recurrent/ });
});

function devPart(name: string): boolean {
  return parseInt(createHash('sha1').update(name).digest('hex').slice(0, 8), 16) % 5 === 0;
}

Q('bundled recogniser: INT8 reads the same string as FP32 for >= 90 % of held-out ICDAR 2013 words', async () => {
  if (!fs.existsSync(BUNDLED)) return console.log('  (skipped: models/craft-text-recognizer.onnx not built)');
  if (!fs.existsSync(path.join(IC13, 'gt.jsonl'))) return console.log('  (skipped: ../shared/data not present)');
  const all = recognitionFromDataset(await loadDataset(IC13));
  // calibrate on training pages' words, read dev pages' words (docs/recognizer-training.md's split)
  const calib = all.filter((s) => !devPart(path.basename(s.imagePath))).slice(0, 12)
    .map((s) => ({ image: s.imagePath, regions: s.regions!.map(toRegion) }));
  const dev = all.filter((s) => devPart(path.basename(s.imagePath))).slice(0, 30);
  const { onnx, report } = await quantize(BUNDLED, { calibration: calib, threads: 1 });
  assert.ok(report.calibrationCrops! >= 50, `${report.calibrationCrops} crops`);
  const [a, b] = [await Recognizer.create({ model: BUNDLED, threads: 1 }), await Recognizer.create({ model: onnx, threads: 1 })];
  let same = 0, n = 0;
  try {
    for (const s of dev) {
      const regions = s.regions!.map(toRegion);
      const [x, y] = [await a.recognize(s.imagePath, regions, READ), await b.recognize(s.imagePath, regions, READ)];
      x.forEach((w, i) => { n++; if (w.text === y[i].text) same++; });
    }
  } finally {
    await a.dispose();
    await b.dispose();
  }
  // measured: 369/386 (95.6 %) here; 94 % on all 842 dev words (docs/serving.md#recognisers)
  assert.ok(n >= 200, `${n} words`);
  assert.ok(same / n >= 0.9, `${same}/${n} identical`);
});

Q.run();

// ---- CLI ------------------------------------------------------------------------------------------------------------

const C = suite('craft-text quantize (recogniser)');
C.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'lib', 'cli', 'main.ts'), 'quantize', ...args],
    { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

C('--calibrate a folder of crops, --eval a labels.tsv set: FP32 vs INT8 accuracy and agreement', () => {
  const ds = path.join(tmp, 'words');
  fs.mkdirSync(ds);
  const texts = ORACLE.results['crnn-tiny.onnx'].map((r) => r.text);
  CROPS.forEach((c) => fs.copyFileSync(c, path.join(ds, path.basename(c))));
  fs.writeFileSync(path.join(ds, 'labels.tsv'), CROPS.map((c, i) => `${path.basename(c)}\t${texts[i]}`).join('\n') + '\n');
  const out = path.join(tmp, 'crnn-int8.onnx');
  const json = path.join(tmp, 'report.json');
  const r = cli([CRNN, out, '--calibrate', ds, '--eval', ds, '--threads', '1', '--json', json]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /static QDQ: \d+ convolutions int8, \d+ activations uint8 \(minmax over 5 word crops in 5 images/);
  assert.match(r.out, /dynamic int8: \d+ LSTM -> DynamicQuantizeLSTM/);
  assert.match(r.out, /INT8 reads the same string as FP32 for \d+\.\d\d % of the words/);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.is(report.report.task, 'recognition');
  const [fp32] = report.comparisons[0].rows;
  assert.is(fp32.accuracy, 1); // the labels are FP32's own (the oracle's) readings
});

C('usage errors: CRAFT-only flags, the wrong accuracy gate', () => {
  let r = cli([CRNN, path.join(tmp, 'x.onnx'), '--calibrate', FIX, '--canvas-size', '640']);
  assert.is(r.code, 2);
  assert.match(r.err, /--canvas-size and --mag-ratio are for CRAFT/);
  r = cli([CRNN, path.join(tmp, 'x.onnx'), '--calibrate', FIX, '--max-hmean-drop', '0.01']);
  assert.is(r.code, 2);
  assert.match(r.err, /use --max-accuracy-drop/);
  r = cli([TINY_MODEL, path.join(tmp, 'x.onnx'), '--calibrate', FIX, '--max-accuracy-drop', '0.01']);
  assert.is(r.code, 2);
  r = cli([CRNN, path.join(tmp, 'x.onnx')]);
  assert.is(r.code, 2);
  assert.match(r.err, /needs --calibrate <word crops/);
});

C.run();
