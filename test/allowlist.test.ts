// recognize()'s allowlist / blocklist (docs/recognition.md#allowlist-and-blocklist): validation with the tiny test
// models, and through the bundled recogniser on the README's example page (examples/images/hello.png, its
// ground-truth boxes in hello.gt.jsonl): only the allowed characters are read, the masked confidence is the
// renormalised one recomputed here from the raw logits, the retries decide on it, merged calls keep their own lists,
// read() and the CLI pass them on. The masking itself with hand-made logits: test/native/recognize_test.cc.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ocr, Recognizer, type Recognition } from '../lib';
import { rejects, ROOT, TINY_MODEL } from './helpers';

const MODELS = path.join(ROOT, 'test', 'models');
const HELLO = path.join(ROOT, 'examples', 'images', 'hello.png');
const GT: { points: [number, number][]; text: string }[] =
  JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'images', 'hello.gt.jsonl'), 'utf8').split('\n')[0]).words;
const BOXES = GT.map((w) => w.points);
const have = fs.existsSync(path.join(ROOT, 'models', 'craft-text-recognizer-int8.onnx'));
// One reading per crop, no retries, greedy: the same batches with and without a list, each reading the masked argmax
// of its logits (the language model's beam search is checked with the blocklist below and in recognize.test.ts).
const PLAIN = {
  decoder: 'greedy', rotationRetryThreshold: 0, orientationRetryThreshold: 0, stretchRetryThreshold: 0, verticalRatio: Infinity,
} as const;
const DIGITS = '0123456789';
const CODES = '0123456789-.$#A';  // the page's date, amount and item code: 2026-11-22, $41.90, #A-1043
const only = (text: string, chars: string) => [...text].every((c) => chars.includes(c));

const V = suite('allowlist / blocklist: validation');

V('wrong types are TypeErrors naming the option; characters outside the charset and empty lists RangeErrors', async () => {
  const rec = await Recognizer.create({ model: path.join(MODELS, 'crnn-tiny.onnx'), threads: 1 });  // charset 0-9a-z
  const file = path.join(ROOT, 'test', 'fixtures', 'recognition', 'crop-0.png');
  try {
    await rejects(() => rec.recognize(file, undefined, { allowlist: 5 as never }), { name: 'TypeError', message: /for allowlist/ });
    await rejects(() => rec.recognize(file, undefined, { blocklist: ['a'] as never }), { name: 'TypeError', message: /for blocklist/ });
    await rejects(() => rec.recognize(file, undefined, { allowlist: null as never }), { name: 'TypeError', message: /for allowlist/ });
    // The offending characters, each once.
    await rejects(() => rec.recognize(file, undefined, { allowlist: '0AB1A€' }),
      { name: 'RangeError', message: /charset for allowlist but received 3 not in it: "AB€"/ });
    await rejects(() => rec.recognize(file, undefined, { blocklist: 'a-' }), { name: 'RangeError', message: /for blocklist.*"-"/ });
    await rejects(() => rec.recognize(file, undefined, { allowlist: '' }), { name: 'RangeError', message: /allowlist to leave at least one/ });
    await rejects(() => rec.recognize(file, undefined, { blocklist: rec.info.charset.join('') }),
      { name: 'RangeError', message: /blocklist to leave at least one/ });
    await rejects(() => rec.recognize(file, undefined, { allowlist: 'ab', blocklist: 'ba' }),
      { name: 'RangeError', message: /allowlist and blocklist to leave/ });
    // Valid lists read only their characters (this random model reads something at every frame).
    const [all] = await rec.recognize(file, undefined, PLAIN);
    const [ab] = await rec.recognize(file, undefined, { ...PLAIN, allowlist: 'ab' });
    assert.ok(only(ab.text, 'ab'), ab.text);
    const [none] = await rec.recognize(file, undefined, { ...PLAIN, allowlist: rec.info.charset.join('') });
    assert.equal(none, all, 'an allowlist of the whole charset masks nothing');
  } finally {
    await rec.dispose();
  }
});

V('attention models refuse the lists (their steps are fed back inside the graph)', async () => {
  const attn = await Recognizer.create({ model: path.join(MODELS, 'attn-tiny.onnx'), threads: 1 });
  try {
    const file = path.join(ROOT, 'test', 'fixtures', 'recognition', 'crop-0.png');
    await rejects(() => attn.recognize(file, undefined, { allowlist: attn.info.charset[0] }), { name: 'TypeError', message: /CTC/ });
    await rejects(() => attn.recognize(file, undefined, { blocklist: attn.info.charset[0] }), { name: 'TypeError', message: /CTC/ });
  } finally {
    await attn.dispose();
  }
});

V('read() checks the lists before detecting, against its recogniser', async () => {
  const ocr = await Ocr.create({ detector: { model: TINY_MODEL, threads: 1 }, recognizer: { model: path.join(MODELS, 'crnn-tiny.onnx'), threads: 1 } });
  try {
    // A blank image: no word is found, and the bad list is still refused.
    const blank = { data: new Uint8Array(64 * 64 * 3).fill(255), width: 64, height: 64, channels: 3 as const };
    await rejects(() => ocr.read(blank, { recognize: { allowlist: 'Z' } }), { name: 'RangeError', message: /allowlist.*"Z"/ });
    await rejects(() => ocr.read(blank, { recognize: { blocklist: 1 as never } }), { name: 'TypeError', message: /blocklist/ });
    // (This random detector finds words anywhere: they are read with the list.)
    for (const w of (await ocr.read(blank, { recognize: { allowlist: '01' } })).words) assert.ok(only(w.text, '01'), w.text);
  } finally {
    await ocr.dispose();
  }
});

const B = suite<{ rec: Recognizer }>('allowlist / blocklist: the bundled recogniser');
B.before(async (ctx) => {
  if (have) ctx.rec = await Recognizer.create({ threads: 1 });
});
B.after(async (ctx) => {
  if (have) await ctx.rec.dispose();
});

B('allowlist: only its characters are read; words already within it read the same, at least as confidently', async ({ rec }) => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  const plain = await rec.recognize(HELLO, BOXES, PLAIN);
  const codes = await rec.recognize(HELLO, BOXES, { ...PLAIN, allowlist: CODES });
  const digits = await rec.recognize(HELLO, BOXES, { ...PLAIN, allowlist: DIGITS });
  let within = 0, changed = 0;
  GT.forEach((w, i) => {
    assert.ok(only(codes[i].text, CODES), `${w.text}: '${codes[i].text}'`);
    assert.ok(only(digits[i].text, DIGITS), `${w.text}: '${digits[i].text}'`);
    if (only(plain[i].text, CODES)) {
      // No frame's best class was masked: the same path, each frame's maximum renormalised upwards.
      within++;
      assert.is(codes[i].text, plain[i].text);
      assert.ok(codes[i].confidence >= plain[i].confidence - 1e-12, `${w.text}: ${codes[i].confidence} < ${plain[i].confidence}`);
    } else {
      changed += codes[i].text !== plain[i].text ? 1 : 0;
    }
  });
  for (const code of ['2026-11-22', '$41.90', '#A-1043']) {
    assert.is(codes[GT.findIndex((w) => w.text === code)].text, code, 'the codes read right with their characters allowed');
  }
  assert.ok(within >= 4, `words within the list: ${within}`);
  assert.ok(changed >= 10, `words read differently: ${changed}`);
  // Digits only: the date loses its dashes, the item code its '#A-'.
  assert.is(digits[GT.findIndex((w) => w.text === '2026-11-22')].text, '20261122');
  assert.is(digits[GT.findIndex((w) => w.text === '#A-1043')].text, '1043');
});

/** Greedy CTC over one word's logits with the classes outside `keep` masked as EasyOCR does (full softmax, zeroed,
 * renormalised per frame): the text and the confidence of `kind`. */
function maskedGreedy(logits: Float32Array, charset: string[], keep: (c: string) => boolean, kind: 'dtrb' | 'easyocr') {
  const K = charset.length + 1, T = logits.length / K;
  let text = '', prev = 0, prod = 1, nonBlank = 1, n = 0;
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray(t * K, (t + 1) * K));
    const m = Math.max(...row);
    const p = row.map((x) => Math.exp(x - m));
    const s = p.reduce((a, b) => a + b, 0);
    const q = p.map((v, k) => (k === 0 || keep(charset[k - 1]) ? v / s : 0));
    const z = q.reduce((a, b) => a + b, 0);
    let best = 0;
    for (let k = 1; k < K; k++) if (q[k] > q[best]) best = k;
    const pmax = q[best] / z;
    prod *= pmax;
    if (best !== 0) { nonBlank *= pmax; n++; }
    if (best !== 0 && best !== prev) text += charset[best - 1];
    prev = best;
  }
  return { text, confidence: kind === 'dtrb' ? prod : n === 0 ? 0 : Math.pow(nonBlank, 2 / Math.sqrt(n)) };
}

B('the masked reading and confidence are the renormalised probabilities of the raw logits (EasyOCR parity)', async ({ rec }) => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  const { charset, confidence } = rec.info;
  for (const [options, keep] of [
    [{ allowlist: DIGITS }, (c: string) => DIGITS.includes(c)],
    [{ blocklist: 'aeiouAEIOU' }, (c: string) => !'aeiouAEIOU'.includes(c)],
    [{ allowlist: CODES + 'abc', blocklist: 'c' }, (c: string) => (CODES + 'ab').includes(c)],
  ] as const) {
    const words = await rec.recognize(HELLO, BOXES, { ...PLAIN, ...options, logits: true });
    words.forEach((w, i) => {
      assert.ok(w.logits instanceof Float32Array);
      const want = maskedGreedy(w.logits!, charset, keep, confidence);
      assert.is(w.text, want.text, `${JSON.stringify(options)} ${GT[i].text}`);
      assert.ok(Math.abs(w.confidence - want.confidence) <= 1e-5 * Math.max(1e-3, want.confidence),
        `${GT[i].text}: ${w.confidence} vs ${want.confidence}`);
    });
  }
});

B('blocklist: its characters are never read, beam search included', async ({ rec }) => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  const blocked = 'eoEO0';
  for (const decoder of ['greedy', 'beam'] as const) {
    const plain = await rec.recognize(HELLO, BOXES, { ...PLAIN, decoder });
    const words = await rec.recognize(HELLO, BOXES, { ...PLAIN, decoder, blocklist: blocked, characterProbabilities: true });
    assert.ok(plain.some((w) => !only(w.text, DIGITS + 'abcdfghijklmnpqrstuvwxyz') && /[eoEO]/.test(w.text)), 'the page has them');
    words.forEach((w, i) => {
      assert.not.match(w.text, /[eoEO0]/, `${decoder} ${GT[i].text}: '${w.text}'`);
      assert.is(w.characters!.length, [...w.text].length);
      if (!/[eoEO0]/.test(plain[i].text) && decoder === 'greedy') assert.is(w.text, plain[i].text);
    });
  }
});

B('the retries decide on the masked confidence', async ({ rec }) => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  // A word read confidently as itself and doubtfully as digits: between the two, the 180-degree retry runs only
  // with the allowlist.
  const plain = await rec.recognize(HELLO, BOXES, PLAIN);
  const digits = await rec.recognize(HELLO, BOXES, { ...PLAIN, allowlist: DIGITS });
  const i = plain.findIndex((w, k) => w.confidence > 0.9 && digits[k].confidence < 0.5);
  assert.ok(i >= 0, 'a word with a confident reading and a doubtful digits reading');
  const threshold = (plain[i].confidence + digits[i].confidence) / 2;
  const retry = { ...PLAIN, rotationRetryThreshold: threshold };
  const a = await rec.recognizeDetailed(HELLO, [BOXES[i]], retry);
  const b = await rec.recognizeDetailed(HELLO, [BOXES[i]], { ...retry, allowlist: DIGITS });
  assert.is(a.runs, 1, 'no retry without the list');
  assert.is(b.runs, 2, 'read again turned 180 degrees with it');
  assert.ok(only(b.words[0].text, DIGITS));
  assert.ok(b.words[0].confidence >= digits[i].confidence, 'the more confident masked reading is kept');
});

B('merged calls each keep their own list', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  // FP32: its readings do not depend on the batch partners (the INT8 BiLSTMs' ranges do); batch.maxSize: room for
  // all four calls' crops in one merged run.
  const rec = await Recognizer.create({ model: 'default-fp32', threads: 1, parallelBatches: 1, batch: { maxSize: 128 } });
  try {
    const lists = [{}, { allowlist: DIGITS }, { blocklist: 'aeiou' }, { allowlist: CODES }];
    const alone: Recognition[][] = [];
    for (const o of lists) alone.push(await rec.recognize(HELLO, BOXES, { ...PLAIN, ...o }));
    const s0 = rec.stats().batches;
    // The first call takes the free inference slot, the others queue behind it and merge.
    const together = await Promise.all(lists.map((o) => rec.recognize(HELLO, BOXES, { ...PLAIN, ...o })));
    const s1 = rec.stats().batches;
    assert.ok(s1.images - s0.images > s1.runs - s0.runs, 'some calls were merged');
    together.forEach((words, k) => words.forEach((w, i) => {
      assert.is(w.text, alone[k][i].text, `${JSON.stringify(lists[k])} ${GT[i].text}`);
      assert.ok(Math.abs(w.confidence - alone[k][i].confidence) <= 1e-5 * alone[k][i].confidence);
    }));
  } finally {
    await rec.dispose();
  }
});

B('read() and craft-text read pass the lists to the recogniser', async () => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  const ocr = await Ocr.create({ detector: { threads: 1 }, recognizer: { threads: 1 } });
  try {
    const r = await ocr.read(HELLO, { recognize: { allowlist: CODES } });
    assert.ok(r.words.length > 10);
    for (const w of r.words) assert.ok(only(w.text, CODES), w.text);
    assert.match(r.text, /2026/);
  } finally {
    await ocr.dispose();
  }
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), ...args],
    { encoding: 'utf8', cwd: ROOT });
  const run = cli('read', HELLO, '--threads', '1', '--allowlist', DIGITS, '--json');
  assert.is(run.status, 0, run.stderr);
  const words = JSON.parse(run.stdout).words as { text: string }[];
  for (const w of words) assert.ok(only(w.text, DIGITS), w.text);
  assert.ok(words.some((w) => w.text === '1043'));
  const bad = cli('read', HELLO, '--threads', '1', '--allowlist', '0€');
  assert.is(bad.status, 2, 'a usage error');
  assert.match(bad.stderr, /allowlist.*"€"/);
  const det = cli('eval', path.join(ROOT, 'examples', 'images'), '--allowlist', DIGITS);
  assert.is(det.status, 2);
  assert.match(det.stderr, /--allowlist is for --task recognition or ocr/);
});

B('craft-text eval --task recognition|ocr --allowlist / --blocklist: read with them, named in the summary and report', async ({ rec }) => {
  if (!have) return console.log('  (skipped: models/craft-text-recognizer-int8.onnx not built)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-allowlist-'));
  try {
    const codes = GT.filter((w) => ['2026-11-22', '$41.90', '#A-1043', 'Invoice'].includes(w.text));
    fs.copyFileSync(HELLO, path.join(dir, 'hello.png'));
    fs.writeFileSync(path.join(dir, 'gt.jsonl'), JSON.stringify({ image: 'hello.png', words: codes }) + '\n');
    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), ...args],
      { encoding: 'utf8', cwd: ROOT });
    const r = cli('eval', dir, '--task', 'recognition', '--threads', '1', '--allowlist', CODES, '--json', '-');
    assert.is(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.is(rep.allowlist, CODES);
    assert.not.ok('blocklist' in rep);
    assert.match(r.stderr, /allowlist "0123456789-\.\$#A"/);
    const want = await rec.recognize(HELLO, codes.map((w) => w.points), { allowlist: CODES });
    assert.equal(rep.words.map((w: { pred: string }) => w.pred), want.map((w) => w.text));
    assert.is(rep.exactCorrect, 3, 'the three codes; Invoice cannot be read with the list');
    const plain = JSON.parse(cli('eval', dir, '--task', 'recognition', '--threads', '1', '--json', '-').stdout);
    assert.not.ok('allowlist' in plain, 'no key when not given');
    const o = cli('eval', dir, '--task', 'ocr', '--model', TINY_MODEL, '--threads', '1', '--blocklist', 'aeiou', '--json', '-');
    assert.is(o.status, 0, o.stderr);
    assert.is(JSON.parse(o.stdout).blocklist, 'aeiou');
    const bad = cli('eval', dir, '--task', 'recognition', '--threads', '1', '--allowlist', '€');
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /allowlist.*"€"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

V.run();
B.run();
