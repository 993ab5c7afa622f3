// `craft-text eval` end to end on a tiny temporary dataset (two bundled images, hand-written gt.jsonl), spawning the
// compiled CLI (dist/cli/main.js, built by `npm test`).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { IMAGES, ROOT, TINY_MODEL } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

/** PNG width/height from the IHDR chunk (after checking the signature). */
function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  assert.equal([...b.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

const E = suite<{ dir: string; words: [number, number][][] }>('eval cli');

E.before(async (ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-eval-'));
  fs.mkdirSync(path.join(ctx.dir, 'images'));
  fs.copyFileSync(path.join(IMAGES, 'hello.png'), path.join(ctx.dir, 'images', 'hello.png'));
  fs.copyFileSync(path.join(IMAGES, 'tall.png'), path.join(ctx.dir, 'images', 'tall.png'));
  // Ground truth for hello.png = what the (random-weight) test model detects there, so its scores are known
  // (every detection is a GT word: precision = recall = 1); tall.png gets two words the model will not hit
  // exactly, plus a don't-care region.
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const r = await detector.detect(path.join(IMAGES, 'hello.png'), { scale: 'fixed' });
  await detector.dispose();
  ctx.words = r.words.map((w) => w.box);
  const lines = [
    { image: 'images/hello.png', words: ctx.words.map((points, i) => ({ points, text: `w${i}` })) },
    {
      image: 'images/tall.png', words: [
        { points: [[10, 10], [60, 10], [60, 30], [10, 30]], text: 'a' },
        { points: [[100, 100], [200, 100], [200, 140], [100, 140]], text: 'b' },
        { points: [[0, 1500], [333, 1500], [333, 1600], [0, 1600]], text: '###', ignore: true },
      ],
    },
  ];
  fs.writeFileSync(path.join(ctx.dir, 'gt.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
});
E.after((ctx) => {
  fs.rmSync(ctx.dir, { recursive: true, force: true });
});

E('prints the totals and writes a JSON report with per-image results and the environment', (ctx) => {
  const json = path.join(ctx.dir, 'report.json');
  const r = cli('eval', ctx.dir, '--model', TINY_MODEL, '--json', json, '--threads', '1', '--scale', 'fixed');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /precision\s+[\d.]+ %/);
  assert.match(r.stdout, /recall\s+[\d.]+ %/);
  assert.match(r.stdout, /H-mean\s+[\d.]+ %/);
  assert.match(r.stdout, /throughput\s+[\d.]+ images\/s \(2 images/);
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
  for (const k of ['dataset', 'model', 'protocol', 'evalOptions', 'detectOptions', 'precision', 'recall', 'hmean',
    'gtCount', 'detCount', 'matched', 'gtIgnored', 'detIgnored', 'images', 'errors', 'throughput', 'environment', 'perImage']) {
    assert.ok(k in rep, `report has ${k}`);
  }
  assert.is(rep.protocol, 'iou');
  assert.is(rep.images, 2);
  assert.is(rep.errors, 0);
  assert.is(rep.gtIgnored, 1);
  assert.is(rep.gtCount, ctx.words.length + 2);
  assert.ok(rep.throughput.imagesPerSecond > 0);
  assert.is(rep.throughput.concurrency, 2);
  assert.ok(rep.environment.machine.cpu && rep.environment.node && rep.environment.onnxruntime.version);
  assert.is(rep.perImage.length, 2);
  const [hello, tall] = rep.perImage;
  assert.is(hello.image, path.join('images', 'hello.png'));
  assert.is(hello.width, 400);
  assert.is(hello.height, 200);
  // The GT of hello.png is exactly the detections: all matched.
  assert.is(hello.detections.length, ctx.words.length);
  assert.is(hello.matched, ctx.words.length);
  assert.is(hello.precision, 1);
  assert.is(hello.recall, 1);
  for (const k of ['ms', 'timings', 'hmean', 'matches', 'unmatchedGt', 'unmatchedDet', 'ignoredGt', 'ignoredDet']) {
    assert.ok(k in hello, `perImage has ${k}`);
  }
  assert.is(tall.image, path.join('images', 'tall.png'));
  assert.equal(tall.ignoredGt, [2]);
  // Totals are the sums over the images.
  assert.is(rep.matched, hello.matched + tall.matched);
  assert.is(rep.detCount, hello.detCount + tall.detCount);
});

E('--protocol deteval, --limit, --json - (report on stdout, summary on stderr)', (ctx) => {
  const r = cli('eval', ctx.dir, '--model', TINY_MODEL, '--protocol', 'deteval', '--limit', '1', '--json', '-', '--concurrency', '1', '--scale', 'fixed');
  assert.is(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.is(rep.protocol, 'deteval');
  assert.is(rep.images, 1);
  assert.is(rep.perImage.length, 1);
  assert.is(rep.recall, 1);
  assert.match(r.stderr, /DetEval/);
});

E('--out-dir writes captioned pictures of the worst images, worst first', (ctx) => {
  const out = path.join(ctx.dir, 'worst');
  const r = cli('eval', ctx.dir, '--model', TINY_MODEL, '--out-dir', out, '--worst', '1', '--scale', 'fixed');
  assert.is(r.status, 0, r.stderr);
  const files = fs.readdirSync(out);
  assert.equal(files, ['001_tall.png']);  // hello.png scores 1, tall.png less
  const size = pngSize(path.join(out, files[0]));
  assert.is(size.width, 333);
  assert.ok(size.height > 1600, 'a caption band is added above the image');
});

E('usage errors exit with 2 and a message', (ctx) => {
  const cases: [string[], RegExp][] = [
    [['eval'], /needs a dataset folder/],
    [['eval', path.join(ctx.dir, 'nope')], /no such dataset/],
    [['eval', ctx.dir, '--protocol', 'map'], /--protocol expects iou or deteval/],
    [['eval', ctx.dir, '--limit', '0'], /--limit expects an integer/],
    [['eval', ctx.dir, '--concurrency', 'two'], /--concurrency expects an integer/],
    [['eval', ctx.dir, '--text-threshold', '2'], /--text-threshold expects a number between 0 and 1/],
    [['eval', ctx.dir, '--frobnicate'], /Unknown option '--frobnicate'/],
    [['eval', ctx.dir, '--json', path.join(ctx.dir, 'no', 'such', 'r.json')], /--json: no such folder/],
    [['eval', IMAGES], /cannot read the dataset|no images/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Usage: craft-text eval/);
  }
});

E.run();
