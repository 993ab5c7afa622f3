// `craft-text tune`: the search itself (coordinate ascent, grids), and end to end on a one-image dataset whose ground
// truth is what the test model detects at non-default thresholds, so the right answer is known.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { coordinateSearch, parseGrid, type Thresholds } from '../lib/cli/tune';
import { UsageError } from '../lib/cli/args';
import { IMAGES, ROOT, TINY_MODEL } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const TARGET = { textThreshold: 0.5, linkThreshold: 0.3, lowText: 0.3 };

const S = suite('tune search');

S('coordinate ascent finds the optimum of a separable objective', async () => {
  const grids = { textThreshold: [0.4, 0.5, 0.6, 0.7], linkThreshold: [0.2, 0.3, 0.4], lowText: [0.2, 0.3, 0.4] };
  const score = async (t: Thresholds) =>
    -((t.textThreshold - 0.6) ** 2) - (t.linkThreshold - 0.2) ** 2 - (t.lowText - 0.3) ** 2;
  const best = await coordinateSearch({ textThreshold: 0.7, linkThreshold: 0.4, lowText: 0.4 }, grids, score);
  assert.equal(best, { textThreshold: 0.6, linkThreshold: 0.2, lowText: 0.3 });
});

S('coordinate ascent stays at the start on a flat objective and never proposes lowText above textThreshold', async () => {
  const proposed: Thresholds[] = [];
  const best = await coordinateSearch({ textThreshold: 0.5, linkThreshold: 0.4, lowText: 0.4 },
    { textThreshold: [0.3, 0.5], linkThreshold: [0.4], lowText: [0.2, 0.4, 0.6] },
    async (t) => { proposed.push(t); return 1; });
  assert.equal(best, { textThreshold: 0.5, linkThreshold: 0.4, lowText: 0.4 });
  assert.ok(proposed.length >= 2);
  for (const t of proposed) assert.ok(t.lowText <= t.textThreshold, JSON.stringify(t));
});

S('grids are parsed, deduplicated and sorted; bad values are usage errors naming the flag', () => {
  assert.equal(parseGrid('low-text-grid', '0.4, 0.3,0.4', [1]), [0.3, 0.4]);
  assert.equal(parseGrid('low-text-grid', undefined, [0.1]), [0.1]);
  for (const bad of ['0.3,,0.4', 'abc', '1.5', '-0.1', '', '0x0', '0b1', '0.3,Infinity']) { // decimal notation only (issue 12)
    assert.throws(() => parseGrid('low-text-grid', bad, []), (e: Error) => e instanceof UsageError && /--low-text-grid/.test(e.message));
  }
});

S.run();

const E = suite<{ dir: string }>('tune cli');

E.before(async (ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-tune-'));
  fs.mkdirSync(path.join(ctx.dir, 'images'));
  fs.copyFileSync(path.join(IMAGES, 'hello.png'), path.join(ctx.dir, 'images', 'hello.png'));
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  // tune works at the fixed scale (one pass's maps per image): the ground truth is made there too.
  const atTarget = await detector.detect(path.join(IMAGES, 'hello.png'), { ...TARGET, scale: 'fixed' });
  const atDefaults = await detector.detect(path.join(IMAGES, 'hello.png'), { scale: 'fixed' });
  await detector.dispose();
  // The test only means something if the two threshold sets give different words.
  assert.is.not(atTarget.words.length, atDefaults.words.length);
  const line = { image: 'images/hello.png', words: atTarget.words.map((w, i) => ({ points: w.box, text: `w${i}` })) };
  fs.writeFileSync(path.join(ctx.dir, 'gt.jsonl'), JSON.stringify(line) + '\n');
});
E.after((ctx) => {
  fs.rmSync(ctx.dir, { recursive: true, force: true });
});

E('a grid search finds the thresholds the ground truth was made with; its score at the defaults is eval\'s', (ctx) => {
  const json = path.join(ctx.dir, 'tune.json');
  const r = cli('tune', ctx.dir, '--model', TINY_MODEL, '--threads', '1', '--search', 'grid', '--json', json,
    '--text-threshold-grid', '0.5,0.7', '--link-threshold-grid', '0.3,0.4', '--low-text-grid', '0.3,0.4');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /best\s+0\.5\/0\.3\/0\.3\s/);
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.equal({ t: rep.best.textThreshold, l: rep.best.linkThreshold, lo: rep.best.lowText }, { t: 0.5, l: 0.3, lo: 0.3 });
  assert.is(rep.best.hmean, 1);
  assert.ok(rep.baseline.hmean < 1);
  assert.is(rep.candidates.length, 8); // 2 x 2 x 2, the defaults among them

  // The heatmap path (detect once, post-process per candidate) scores the defaults exactly as `eval` does.
  const evalJson = path.join(ctx.dir, 'eval.json');
  const e = cli('eval', ctx.dir, '--model', TINY_MODEL, '--threads', '1', '--json', evalJson, '--scale', 'fixed');  // tune's scale
  assert.is(e.status, 0, e.stderr);
  const ev = JSON.parse(fs.readFileSync(evalJson, 'utf8'));
  assert.ok(Math.abs(ev.hmean - rep.baseline.hmean) < 1e-9, `eval ${ev.hmean} vs tune ${rep.baseline.hmean}`);
  assert.ok(Math.abs(ev.precision - rep.baseline.sets[0].precision) < 1e-9);
  assert.ok(Math.abs(ev.recall - rep.baseline.sets[0].recall) < 1e-9);
});

E('--write stores the winner as the model\'s defaults; the copy detects exactly as the original with those thresholds', async (ctx) => {
  const out = path.join(ctx.dir, 'tuned.onnx');
  const r = cli('tune', ctx.dir, '--model', TINY_MODEL, '--threads', '1', '--search', 'grid', '--write', out, '--quiet',
    '--text-threshold-grid', '0.5,0.7', '--link-threshold-grid', '0.3,0.4', '--low-text-grid', '0.3,0.4', '--mag-ratio', '1.5');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '');
  const tuned = await Detector.create({ model: out, threads: 1 });
  const orig = await Detector.create({ model: TINY_MODEL, threads: 1 });
  try {
    assert.equal(tuned.info.defaults, { ...TARGET, canvasSize: 1280, magRatio: 1.5 });
    assert.match(tuned.info.metadata['craft.tuned'], /mean H-mean .* -> 100\.00 %/);
    const a = await tuned.detect(path.join(IMAGES, 'hello.png'));
    const b = await orig.detect(path.join(IMAGES, 'hello.png'), TARGET);
    assert.equal(a.words, b.words);
  } finally {
    await tuned.dispose();
    await orig.dispose();
  }
});

E('usage errors exit with 2 before any model is loaded', (ctx) => {
  const cases: [string[], RegExp][] = [
    [[], /at least one dataset/],
    [[path.join(ctx.dir, 'nope')], /no such dataset/],
    [[ctx.dir, '--search', 'random'], /--search expects coordinate or grid/],
    [[ctx.dir, '--text-threshold-grid', '0.5,2'], /--text-threshold-grid expects/],
    [[ctx.dir, '--write', path.join(ctx.dir, 'no', 'dir', 'x.onnx')], /--write: no such folder/],
    [[ctx.dir, '--protocol', 'f1'], /--protocol expects/],
  ];
  for (const [args, msg] of cases) {
    const r = cli('tune', ...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.is(r.stdout, '');
  }
});

E.run();
