// Recognition and end-to-end OCR metrics (lib/eval/recognition.ts) on hand-made cases with known answers, the
// recognition dataset readers, and `craft-text eval --task recognition|ocr` on a tiny temporary set.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { Recognizer } from '../lib';
import {
  bagOfWords, editDistance, loadRecognitionDataset, normalizeText, oneMinusNed, parseLabelsTsv, recognitionFromDataset,
  scoreOcr, scoreOcrImage, scoreRecognition, type GtWord, type Point,
} from '../lib/eval';
import { IMAGES, ROOT, TINY_MODEL } from './helpers';

const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-12, msg ?? `${a} != ${b}`);
const box = (x0: number, y0: number, x1: number, y1: number): Point[] => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];

test('normalizeText: DTRB lower case, [0-9a-z] only', () => {
  assert.is(normalizeText('Hello, World!'), 'helloworld');
  assert.is(normalizeText('É30€'), '30');
  assert.is(normalizeText('$5.00'), '500');
  assert.is(normalizeText('-'), '');
});

test('editDistance and 1 - NED', () => {
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('abc', ''), 3);
  assert.is(editDistance('é', 'e'), 1);
  assert.is(editDistance('😀a', 'a'), 1, 'code points, not UTF-16 units');
  close(oneMinusNed('abc', 'abd'), 2 / 3);
  close(oneMinusNed('', ''), 1);
  close(oneMinusNed('', 'ab'), 0);
  close(oneMinusNed('Hello', 'hello'), 0.8);
});

test('scoreRecognition: DTRB accuracy counts every sample, also empty normalised texts', () => {
  const r = scoreRecognition([
    { pred: 'Hello', gt: 'hello' }, // DTRB yes, exact no, 1-NED 0.8
    { pred: 'W0rld', gt: 'World' }, // no, no, 0.8
    { pred: '', gt: '-' }, // both normalise to '' -> DTRB yes; exact no; 1-NED 0
    { pred: 'ab.', gt: 'ab.' }, // yes, yes, 1
  ]);
  assert.is(r.count, 4);
  assert.is(r.correct, 3);
  assert.is(r.exactCorrect, 1);
  close(r.accuracy, 0.75);
  close(r.exactAccuracy, 0.25);
  close(r.oneMinusNed, (0.8 + 0.8 + 0 + 1) / 4);
  const empty = scoreRecognition([]);
  assert.is(empty.count, 0);
  assert.is(empty.accuracy, 0);
});

const PAGE: GtWord[] = [
  { points: box(0, 0, 10, 10), text: 'Total:' },
  { points: box(20, 0, 30, 10), text: '$5.00' },
  { points: box(40, 0, 50, 10), text: '###', ignore: true },
  { points: box(60, 0, 70, 10), text: '-' }, // no alphanumeric text: don't care for spotting
];

test('scoreOcrImage: word spotting needs IoU > 0.5 and equal normalised text', () => {
  const s = scoreOcrImage(PAGE, [
    { points: box(0, 0, 10, 10), text: 'TOTAL' }, // matched and spotted
    { points: box(20, 0, 30, 10), text: '$5.0' }, // matched, wrong text
    { points: box(40, 0, 50, 10), text: 'x' }, // inside a don't-care region: discarded
    { points: box(100, 0, 110, 10), text: '500' }, // no box to match
  ]);
  assert.is(s.gtCount, 2);
  assert.is(s.detCount, 3);
  assert.is(s.matched, 2);
  assert.is(s.spotted, 1);
  // bag of words: GT {total, 500} ('-' and the don't-care drop out); prediction {total, 50, x, 500}
  assert.is(s.bagGt, 2);
  assert.is(s.bagPred, 4);
  assert.is(s.bagCommon, 2);
});

test('scoreOcr: a tool that returns one line box gets no spotting credit but a full bag-of-words score', () => {
  const line = scoreOcr([{ gt: PAGE, det: [{ points: box(0, 0, 70, 10), text: 'Total: $5.00 -' }] }]);
  assert.is(line.spotted, 0);
  close(line.spotting.hmean, 0);
  close(line.bagOfWords.precision, 1);
  close(line.bagOfWords.recall, 1);
  close(line.bagOfWords.f1, 1);
  const words = scoreOcr([
    { gt: PAGE, det: [{ points: box(0, 0, 10, 10), text: 'TOTAL' }, { points: box(20, 0, 30, 10), text: '$5.0' }] },
    { gt: [{ points: box(0, 0, 10, 10), text: 'a' }], det: [] },
  ]);
  assert.is(words.images, 2);
  assert.is(words.gtCount, 3);
  assert.is(words.spotted, 1);
  close(words.spotting.precision, 1 / 2);
  close(words.spotting.recall, 1 / 3);
  close(words.spotting.hmean, 2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3));
  // bag: GT {total, 500} + {a} = 3; prediction {total, 50} = 2; common 1
  close(words.bagOfWords.precision, 1 / 2);
  close(words.bagOfWords.recall, 1 / 3);
});

test('bagOfWords: multiset of normalised whitespace tokens', () => {
  assert.equal([...bagOfWords(['a A', 'b-', ' - ', 'a'])], [['a', 3], ['b', 1]]);
});

test('parseLabelsTsv: file<TAB>text, the text kept as written; BOM, CRLF and blank lines accepted', () => {
  const s = parseLabelsTsv('\uFEFFa.png\tHello World\r\nsub/b.png\t\t x\n\n', '/data');
  assert.equal(s.map((x) => [x.imagePath, x.texts, x.regions]), [
    [path.resolve('/data', 'a.png'), ['Hello World'], undefined],
    [path.resolve('/data', 'sub/b.png'), ['\t x'], undefined],
  ]);
  assert.throws(() => parseLabelsTsv('a.png\n', '/d', 'x.tsv'), /x\.tsv:1: expected "file<TAB>text"/);
});

test('recognitionFromDataset: every word with a text, don\'t-care and empty texts left out', () => {
  const s = recognitionFromDataset([
    { imagePath: '/i/1.png', words: [{ points: box(0, 0, 1, 1), text: 'a' }, { points: box(0, 0, 2, 2), text: '' }, { points: box(0, 0, 3, 3), text: '###', ignore: true }] },
    { imagePath: '/i/2.png', words: [{ points: box(0, 0, 1, 1), text: '' }] },
  ]);
  assert.equal(s, [{ imagePath: '/i/1.png', regions: [box(0, 0, 1, 1)], texts: ['a'] }]);
});

// --- the CLI --------------------------------------------------------------------------------------------------
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const REC = path.join(ROOT, 'test', 'models', 'crnn-tiny-pad.onnx');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

const C = suite<{ dir: string; pages: string; read: string[] }>('eval cli: recognition and ocr');

C.before(async (ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-eval-rec-'));
  for (const f of ['hello.png', 'tall.png']) fs.copyFileSync(path.join(IMAGES, f), path.join(ctx.dir, f));
  // Labels: what the (random-weight) test recogniser reads in hello.png, and something else for tall.png, so the
  // CLI's accuracy is known: exactly one of two words.
  const rec = await Recognizer.create({ model: REC, threads: 1 });
  ctx.read = [(await rec.recognize(path.join(IMAGES, 'hello.png')))[0].text, (await rec.recognize(path.join(IMAGES, 'tall.png')))[0].text];
  await rec.dispose();
  const other = normalizeText(ctx.read[1]) === 'zz9' ? 'zz8' : 'zz9';
  fs.writeFileSync(path.join(ctx.dir, 'labels.tsv'), `hello.png\t${ctx.read[0]}\ntall.png\t${other}\n`);
  ctx.pages = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-eval-ocr-'));
  fs.mkdirSync(path.join(ctx.pages, 'images'));
  fs.copyFileSync(path.join(IMAGES, 'hello.png'), path.join(ctx.pages, 'images', 'hello.png'));
  fs.writeFileSync(path.join(ctx.pages, 'gt.jsonl'), JSON.stringify({ image: 'images/hello.png', words: [{ points: box(2, 2, 40, 20), text: 'hello' }] }) + '\n');
});

C.after((ctx) => {
  fs.rmSync(ctx.dir, { recursive: true, force: true });
  fs.rmSync(ctx.pages, { recursive: true, force: true });
});

C('--task recognition on word crops: accuracy of a known half', (ctx) => {
  const out = path.join(ctx.dir, 'r.json');
  const r = cli('eval', ctx.dir, '--task', 'recognition', '--recognizer', REC, '--threads', '1', '--json', out);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /accuracy\s+50\.00 %/);
  const rep = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.is(rep.task, 'recognition');
  assert.is(rep.count, 2);
  assert.is(rep.correct, 1);
  assert.is(rep.exactCorrect, 1);
  assert.equal(rep.words.map((w: { pred: string }) => w.pred), ctx.read);
});

C('--task recognition reads the ground-truth boxes of a gt.jsonl dataset', async (ctx) => {
  const r = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--threads', '1', '--json', '-');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.is(rep.count, 1);
  const rec = await Recognizer.create({ model: REC, threads: 1 });
  const want = (await rec.recognize(path.join(IMAGES, 'hello.png'), [box(2, 2, 40, 20) as [Point, Point, Point, Point]]))[0].text;
  await rec.dispose();
  assert.is(rep.words[0].pred, want);
  assert.is(rep.accuracy, normalizeText(want) === 'hello' ? 1 : 0);
  assert.is(rep.margin, 0, 'a converted model reads at the box');
});

C('--margin n: the boxes are read with that crop margin (reported in the summary and the JSON)', async (ctx) => {
  const r = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--threads', '1', '--margin', '0.5', '--json', '-');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.is(rep.margin, 0.5);
  assert.match(r.stderr, /crop margin 0\.5/);
  const rec = await Recognizer.create({ model: REC, threads: 1 });
  const b = box(2, 2, 40, 20) as [Point, Point, Point, Point];
  const [grown] = await rec.recognize(path.join(IMAGES, 'hello.png'), [b], { margin: 0.5 });
  await rec.dispose();
  assert.is(rep.words[0].pred, grown.text);
  assert.is(rep.inkCrop, true, 'crops fitted to the ink by default');
  assert.match(r.stderr, /crop margin 0\.5 fitted to the ink/);
  const off = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--threads', '1', '--margin', '0.5', '--ink-crop', 'off', '--json', '-');
  assert.is(off.status, 0, off.stderr);
  assert.is(JSON.parse(off.stdout).inkCrop, false);
  assert.not.match(off.stderr, /fitted to the ink/);
  const o = cli('eval', ctx.pages, '--task', 'ocr', '--model', TINY_MODEL, '--recognizer', REC, '--threads', '1', '--margin', '1', '--json', '-');
  assert.is(o.status, 0, o.stderr);
  assert.is(JSON.parse(o.stdout).margin, 1);
});

C('--decoder / --language-model / --lm-weight / --insertion-bonus: the decoding is reported; bad values are usage errors', (ctx) => {
  const plain = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--threads', '1', '--json', '-');
  assert.is(plain.status, 0, plain.stderr);
  const p = JSON.parse(plain.stdout);
  assert.is(p.languageModel, false, 'a recogniser given by path has no LM unless asked');
  assert.is(p.decoder, 'greedy');
  const on = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--threads', '1', '--language-model', 'on',
    '--lm-weight', '0.7', '--insertion-bonus', '1', '--json', '-');
  assert.is(on.status, 0, on.stderr);
  const o = JSON.parse(on.stdout);
  assert.equal(o.languageModel, { weight: 0.7, insertionBonus: 1 });
  assert.is(o.decoder, 'beam');
  assert.match(on.stderr, /beam decoding with the language model \(weight 0\.7, insertion bonus 1\)/);
  let r = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--language-model', 'on', '--decoder', 'greedy');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--language-model on needs --decoder beam/);
  r = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--lm-weight', '11');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--lm-weight expects a number between 0 and 10/);
  r = cli('eval', ctx.pages, '--task', 'recognition', '--recognizer', REC, '--decoder', 'viterbi');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--decoder expects greedy or beam/);
  r = cli('eval', ctx.pages, '--language-model', 'off');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--language-model is for --task recognition or ocr/);
});

C('--task ocr: spotting and bag-of-words reported; detector and recogniser both named', (ctx) => {
  const r = cli('eval', ctx.pages, '--task', 'ocr', '--model', TINY_MODEL, '--recognizer', REC, '--threads', '1', '--json', '-');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.is(rep.task, 'ocr');
  assert.is(rep.images, 1);
  assert.is(rep.gtCount, 1);
  assert.is(rep.perImage[0].words.length, rep.detCount);
  // the scores follow from the words the pipeline returned, recomputed here
  const again = scoreOcr([{ gt: [{ points: box(2, 2, 40, 20), text: 'hello' }], det: rep.perImage[0].words }]);
  assert.equal(rep.spotting, again.spotting);
  assert.equal(rep.bagOfWords, again.bagOfWords);
  assert.match(r.stderr, /bag-of-words P/);
});

C('usage errors: unknown task, --model with recognition, detection-only flags', (ctx) => {
  let r = cli('eval', ctx.dir, '--task', 'words');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--task expects detection, recognition or ocr/);
  r = cli('eval', ctx.dir, '--task', 'recognition', '--model', REC);
  assert.is(r.status, 2);
  assert.match(r.stderr, /--recognizer/);
  r = cli('eval', ctx.pages, '--task', 'ocr', '--protocol', 'deteval');
  assert.is(r.status, 2);
  r = cli('eval', ctx.pages, '--recognizer', REC);
  assert.is(r.status, 2);
  assert.match(r.stderr, /--recognizer is for --task recognition or ocr/);
  r = cli('eval', ctx.pages, '--margin', '0.1');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--margin is for --task recognition or ocr/);
  r = cli('eval', ctx.pages, '--task', 'recognition', '--margin', '1.5');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--margin expects a number between 0 and 1/);
  r = cli('eval', ctx.pages, '--ink-crop', 'on');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--ink-crop is for --task recognition or ocr/);
  r = cli('eval', ctx.pages, '--task', 'ocr', '--ink-crop', 'yes');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--ink-crop expects on or off, got 'yes'/);
  for (const task of ['detection', 'recognition']) {
    r = cli('eval', ctx.pages, '--task', task, '--join-gap', '0.3');
    assert.is(r.status, 2);
    assert.match(r.stderr, /--join-gap is for --task ocr/);
  }
  r = cli('eval', ctx.pages, '--task', 'ocr', '--join-gap', '11');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--join-gap/);
});

C('--task ocr --join-gap n: read() joins split words with that gap, 0 turns it off; the report says so (off by default, as read())', (ctx) => {
  const dflt = cli('eval', ctx.pages, '--task', 'ocr', '--model', TINY_MODEL, '--recognizer', REC, '--threads', '1', '--json', '-');
  assert.is(dflt.status, 0, dflt.stderr);
  assert.is(JSON.parse(dflt.stdout).join, false);
  assert.match(dflt.stderr, /join off/);
  const conf = cli('eval', ctx.pages, '--task', 'ocr', '--model', TINY_MODEL, '--recognizer', REC, '--threads', '1', '--join-confidence', '0.8', '--json', '-');
  assert.is(conf.status, 0, conf.stderr);
  assert.equal(JSON.parse(conf.stdout).join, { maxGap: 0.3, maxConfidence: 0.8 });
  assert.match(conf.stderr, /join gap < 0.3, a piece under 0.8/);
  const off = cli('eval', ctx.pages, '--task', 'ocr', '--model', TINY_MODEL, '--recognizer', REC, '--threads', '1', '--join-gap', '0', '--json', '-');
  assert.is(off.status, 0, off.stderr);
  assert.is(JSON.parse(off.stdout).join, false);
  assert.match(off.stderr, /join off/);
  const on = cli('eval', ctx.pages, '--task', 'ocr', '--model', TINY_MODEL, '--recognizer', REC, '--threads', '1', '--join-gap', '0.5', '--json', '-');
  assert.is(on.status, 0, on.stderr);
  assert.equal(JSON.parse(on.stdout).join, { maxGap: 0.5, maxConfidence: 0.9 });
  assert.match(on.stderr, /join gap < 0.5/);
});

C('loadRecognitionDataset prefers labels.tsv', async (ctx) => {
  const s = await loadRecognitionDataset(ctx.dir);
  assert.is(s.length, 2);
  assert.is(s[0].regions, undefined);
});

test.run();
C.run();
