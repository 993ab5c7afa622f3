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

D.run();
