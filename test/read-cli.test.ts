// `craft-text read` as a user runs it (node dist/cli/main.js) with the tiny test models.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ocr } from '../lib';
import { IMAGES, ROOT, TINY_MODEL } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const REC = path.join(ROOT, 'test', 'models', 'crnn-tiny-pad.onnx');
const HELLO = path.join(IMAGES, 'hello.png');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const models = ['--model', TINY_MODEL, '--recognizer', REC, '--threads', '1'];

const R = suite<{ tmp: string }>('read cli');
R.before((ctx) => { ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-read-')); });
R.after((ctx) => { fs.rmSync(ctx.tmp, { recursive: true, force: true }); });

R('prints the text in reading order; --json has words, lines and text shaped like detect --json', () => {
  const text = cli('read', HELLO, ...models);
  assert.is(text.status, 0, text.stderr);
  const json = cli('read', HELLO, '--json', ...models);
  assert.is(json.status, 0, json.stderr);
  const lines = json.stdout.trim().split('\n');
  assert.is(lines.length, 1);
  const r = JSON.parse(lines[0]);
  assert.is(r.image, HELLO);
  assert.is(r.width, 400);
  assert.is(r.height, 200);
  assert.ok(r.words.length > 0);
  for (const w of r.words) {
    assert.is(w.box.length, 4);
    assert.type(w.score, 'number');
    assert.type(w.text, 'string');
    assert.type(w.confidence, 'number');
  }
  assert.equal(r.lines.flatMap((l: { words: number[] }) => l.words), r.words.map((_: unknown, i: number) => i));
  assert.is(text.stdout, r.text.length ? `${r.text}\n` : '');
  const det = JSON.parse(cli('detect', HELLO, '--json', '--model', TINY_MODEL, '--threads', '1').stdout);
  assert.ok(r.words.length <= det.words.length);
});

R('several images: a header per image; --polygons reads along polygons; --out draws the words', (ctx) => {
  const r = cli('read', HELLO, path.join(IMAGES, 'hello.jpg'), ...models, '--out', ctx.tmp, '--polygons', '--decoder', 'beam');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /==> .*hello\.png <==/);
  assert.match(r.stdout, /==> .*hello\.jpg <==/);
  assert.ok(fs.statSync(path.join(ctx.tmp, 'hello.words.png')).size > 1000);
  const one = path.join(ctx.tmp, 'one.png');
  const j = cli('read', HELLO, ...models, '--json', '--out', one, '--polygons');
  assert.is(j.status, 0, j.stderr);
  const parsed = JSON.parse(j.stdout);
  assert.is(parsed.out, one);
  assert.ok(parsed.words.every((w: { polygon?: unknown }) => Array.isArray(w.polygon)));
  assert.ok(fs.statSync(one).size > 1000);
});

R('usage errors exit 2 naming the flag; a bad image or recogniser exits 1 with the code', (ctx) => {
  let r = cli('read');
  assert.is(r.status, 2);
  assert.match(r.stderr, /at least one image/);
  r = cli('read', HELLO, '--decoder', 'viterbi');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--decoder/);
  r = cli('read', HELLO, '--beam-width', '0');
  assert.is(r.status, 2);
  r = cli('read', HELLO, '--margin', '2');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--margin/);
  r = cli('read', HELLO, '--join-gap', '-1');
  assert.is(r.status, 2);
  assert.match(r.stderr, /--join-gap/);
  r = cli('read', HELLO, ...models, '--join-gap', '0.3', '--json');
  assert.is(r.status, 0, r.stderr);
  r = cli('read', '/nonexistent.png');
  assert.is(r.status, 2);
  r = cli('read', HELLO, '--model', TINY_MODEL, '--recognizer', TINY_MODEL);
  assert.is(r.status, 1);
  assert.match(r.stderr, /ERR_CRAFT_MODEL_LOAD.*not a recogniser/);
  const junk = path.join(ctx.tmp, 'junk.png');
  fs.writeFileSync(junk, 'not an image');
  r = cli('read', junk, HELLO, ...models, '--json');
  assert.is(r.status, 1);
  const [bad, good] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(bad.error.code, 'ERR_CRAFT_DECODE');
  assert.ok(good.words.length > 0);
});

R('--ink-crop on|off is recognize()\'s inkCrop (on by default); another value is a usage error', async () => {
  const texts = (r: { status: number | null; stdout: string; stderr: string }) => {
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).words.map((w: { text: string }) => w.text);
  };
  // A margin to fit: the tiny recogniser's own is 0 (a converted model's), where there is nothing to fit.
  const off = texts(cli('read', HELLO, ...models, '--margin', '0.5', '--ink-crop', 'off', '--json'));
  const on = texts(cli('read', HELLO, ...models, '--margin', '0.5', '--ink-crop', 'on', '--json'));
  const byDefault = texts(cli('read', HELLO, ...models, '--margin', '0.5', '--json'));
  const ocr = await Ocr.create({ detector: { model: TINY_MODEL, threads: 1 }, recognizer: { model: REC, threads: 1 } });
  try {
    const api = await ocr.read(HELLO, { recognize: { margin: 0.5, inkCrop: false } });
    assert.equal(off, api.words.map((w) => w.text));
  } finally {
    await ocr.dispose();
  }
  assert.equal(on, byDefault);
  assert.not.equal(on, off, 'the crops fitted to the ink read differently on this page');
  const bad = cli('read', HELLO, '--ink-crop', 'yes');
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--ink-crop expects on or off, got 'yes'/);
});

R.run();
