import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createProgress, evaluate, loadDataset, parseFunsd, parseIcdarGt, type DatasetSample } from '../lib/eval';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-eval-'));
let n = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(tmp, `set${n++}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
const selfEval = (samples: DatasetSample[], protocol: 'iou' | 'deteval' = 'iou') =>
  evaluate(samples.map((s) => ({ gt: s.words, det: s.words.filter((w) => !w.ignore).map((w) => ({ points: w.points })) })), { protocol });

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// --- gt.jsonl ------------------------------------------------------------------------------------------------
test('gt.jsonl: records, absolute image paths, ignore flag and "###", blank lines', async () => {
  const dir = folder({
    'images/a.png': '', 'images/b.jpg': '',
    'gt.jsonl': [
      JSON.stringify({ image: 'images/a.png', words: [{ points: [[0, 0], [10, 0], [10, 5], [0, 5]], text: 'hi', ignore: false },
        { points: [[20, 0], [30, 0], [30, 5], [20, 5]], text: '###' }] }),
      '',
      JSON.stringify({ image: 'images/b.jpg', words: [{ points: [[1, 1], [2, 1], [2, 2]], text: 'x', ignore: true }] }),
      JSON.stringify({ image: 'images/c.png', words: [] }),
    ].join('\n') + '\n',
  });
  const s = await loadDataset(dir);
  assert.is(s.length, 3);
  assert.is(s[0].imagePath, path.join(dir, 'images/a.png'));
  assert.ok(path.isAbsolute(s[1].imagePath));
  assert.equal(s[0].words[0], { points: [[0, 0], [10, 0], [10, 5], [0, 5]], text: 'hi', ignore: false });
  assert.is(s[0].words[1].ignore, true);
  assert.is(s[1].words[0].ignore, true);
  assert.equal(s[2].words, []);
  // a .jsonl path works too
  assert.is((await loadDataset(path.join(dir, 'gt.jsonl'))).length, 3);
});

test('gt.jsonl: a bad line is reported with its line number', async () => {
  const dir = folder({ 'gt.jsonl': '{"image": "images/a.png", "words": []}\n{"image": \n' });
  try {
    await loadDataset(dir);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /gt\.jsonl:2: invalid JSON/);
  }
  const dir2 = folder({ 'gt.jsonl': '{"image": "images/a.png", "words": [{"points": [[0, "a"]]}]}\n' });
  try {
    await loadDataset(dir2);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /gt\.jsonl:1 words\[0\]: "points"/);
  }
});

// --- ICDAR txt ---------------------------------------------------------------------------------------------------
test('ICDAR 2013: CRLF, quoted text with \\", inclusive boxes, zero-area boxes become 1 px wide', () => {
  const w = parseIcdarGt('178, 11, 209, 25, "flying"\r\n0, 1, 177, 32, "\\"HIGHER"\r\n313, 127, 316, 127, "-"\r\n\r\n');
  assert.is(w.length, 3);
  assert.equal(w[0], { points: [[178, 11], [210, 11], [210, 26], [178, 26]], text: 'flying', ignore: false });
  assert.is(w[1].text, '"HIGHER');
  assert.equal(w[2].points, [[313, 127], [317, 127], [317, 128], [313, 128]]);
  // as written
  const x = parseIcdarGt('313, 127, 316, 127, "-"\n', { inclusiveBoxes: false });
  assert.equal(x[0].points, [[313, 127], [316, 127], [316, 127], [313, 127]]);
  // Challenge 2 style (spaces)
  assert.equal(parseIcdarGt('38 43 920 215 "Tiredness"\n', { inclusiveBoxes: false })[0],
    { points: [[38, 43], [920, 43], [920, 215], [38, 215]], text: 'Tiredness', ignore: false });
});

test('ICDAR 2015: BOM, text with commas, "###" = don\'t care', () => {
  const w = parseIcdarGt('\uFEFF377,117,463,117,465,130,378,130,Genaxis Theatre\r\n374,155,409,155,409,170,374,170,###\r\n1,2,3,4,5,6,7,8,a,b,c\n');
  assert.is(w.length, 3);
  assert.equal(w[0], { points: [[377, 117], [463, 117], [465, 130], [378, 130]], text: 'Genaxis Theatre', ignore: false });
  assert.is(w[1].ignore, true);
  assert.is(w[2].text, 'a,b,c');
  assert.throws(() => parseIcdarGt('hello world\n', {}, 'gt_img_9.txt'), /gt_img_9\.txt:1/);
});

test('ICDAR folder: gt/gt_img_N.txt -> images/img_N.*, natural order', async () => {
  const dir = folder({
    'gt/gt_img_10.txt': '1, 1, 5, 5, "ten"\r\n',
    'gt/gt_img_2.txt': '1,1,5,1,5,5,1,5,two\n',
    'gt/gt_img_1.txt': '',
    'images/img_1.png': '', 'images/img_2.jpg': '', 'images/img_10.gif': '',
  });
  const s = await loadDataset(dir);
  assert.equal(s.map((x) => path.basename(x.imagePath)), ['img_1.png', 'img_2.jpg', 'img_10.gif']);
  assert.equal(s[0].words, []);
  assert.equal(s[2].words[0].points, [[1, 1], [6, 1], [6, 6], [1, 6]]);
  assert.equal(s[1].words[0].points, [[1, 1], [5, 1], [5, 5], [1, 5]]); // 2015 quads are never widened
});

test('ICDAR folder: a GT file without its image is an error naming both', async () => {
  const dir = folder({ 'gt/gt_img_3.txt': '1, 1, 5, 5, "x"\n', 'images/img_4.png': '' });
  try {
    await loadDataset(dir);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /gt_img_3\.txt: no image named img_3/);
  }
});

test('gt.jsonl next to ICDAR 2013 originals: inclusive boxes by default, overridable', async () => {
  const files = {
    'gt/gt_img_1.txt': '313, 127, 316, 127, "-"\r\n',
    'images/img_1.png': '',
    'gt.jsonl': JSON.stringify({ image: 'images/img_1.png', words: [
      { points: [[313, 127], [316, 127], [316, 127], [313, 127]], text: '-', ignore: false },
      { points: [[0, 0], [4, 1], [3, 5], [-1, 4]], text: 'rotated', ignore: false }] }) + '\n',
  };
  const dir = folder(files);
  const s = await loadDataset(dir);
  assert.equal(s[0].words[0].points, [[313, 127], [317, 127], [317, 128], [313, 128]]);
  assert.equal(s[0].words[1].points, [[0, 0], [4, 1], [3, 5], [-1, 4]]); // not an axis-aligned box: unchanged
  assert.equal((await loadDataset(dir, { inclusiveBoxes: false }))[0].words[0].points, [[313, 127], [316, 127], [316, 127], [313, 127]]);
  // without 2013 originals, coordinates are taken as written unless asked
  const { ['gt/gt_img_1.txt']: _drop, ...rest } = files;
  const dir2 = folder(rest);
  assert.equal((await loadDataset(dir2))[0].words[0].points, [[313, 127], [316, 127], [316, 127], [313, 127]]);
  assert.equal((await loadDataset(dir2, { inclusiveBoxes: true }))[0].words[0].points, [[313, 127], [317, 127], [317, 128], [313, 128]]);
});

// --- FUNSD ---------------------------------------------------------------------------------------------------
test('FUNSD: form[].words[].box (inclusive pixel ranges), gt/*.json or annotations/*.json', async () => {
  const ann = { form: [{ box: [0, 0, 50, 10], text: 'R&D x', words: [{ box: [0, 0, 20, 10], text: 'R&D' }, { box: [25, 0, 50, 10], text: '' }] },
    { box: [5, 20, 9, 30], words: [{ box: [5, 20, 9, 30], text: ':' }] }] };
  // x1 / y1 are the last covered pixel: the continuous box reaches x1 + 1, y1 + 1
  assert.equal(parseFunsd(ann).map((w) => w.points), [[[0, 0], [21, 0], [21, 11], [0, 11]], [[25, 0], [51, 0], [51, 11], [25, 11]],
    [[5, 20], [10, 20], [10, 31], [5, 31]]]);
  assert.equal(parseFunsd(ann, { inclusiveBoxes: false })[2].points, [[5, 20], [9, 20], [9, 30], [5, 30]]);
  for (const sub of ['gt', 'annotations']) {
    const dir = folder({ [`${sub}/0001.json`]: JSON.stringify(ann), 'images/0001.png': '' });
    const s = await loadDataset(dir);
    assert.is(s.length, 1);
    assert.is(s[0].words.length, 3);
    assert.is(s[0].words[1].text, '');
    assert.equal(s[0].words[2].points, [[5, 20], [10, 20], [10, 31], [5, 31]]);
    assert.equal((await loadDataset(dir, { inclusiveBoxes: false }))[0].words[2].points, [[5, 20], [9, 20], [9, 30], [5, 30]]);
    assert.is(path.basename(s[0].imagePath), '0001.png');
  }
  assert.throws(() => parseFunsd({ forms: [] }, {}, 'x.json'), /x\.json: expected an object with a "form" array/);
});

test('gt.jsonl next to FUNSD originals: inclusive boxes by default, overridable; other JSON in gt/ is not FUNSD', async () => {
  const jsonl = JSON.stringify({ image: 'images/0001.png', words: [{ points: [[5, 20], [9, 20], [9, 30], [5, 30]], text: ':', ignore: false }] }) + '\n';
  const dir = folder({ 'gt/0001.json': JSON.stringify({ form: [] }), 'images/0001.png': '', 'gt.jsonl': jsonl });
  assert.equal((await loadDataset(dir))[0].words[0].points, [[5, 20], [10, 20], [10, 31], [5, 31]]);
  assert.equal((await loadDataset(dir, { inclusiveBoxes: false }))[0].words[0].points, [[5, 20], [9, 20], [9, 30], [5, 30]]);
  for (const other of [JSON.stringify({ annotations: [] }), '{not json']) {
    const dir2 = folder({ 'gt/0001.json': other, 'images/0001.png': '', 'gt.jsonl': jsonl });
    assert.equal((await loadDataset(dir2))[0].words[0].points, [[5, 20], [9, 20], [9, 30], [5, 30]]);
  }
});

test('loadDataset: missing or empty folders', async () => {
  for (const [dir, re] of [[path.join(tmp, 'nope'), /Dataset not found/], [folder({ 'readme.md': '' }), /No ground truth/]] as const) {
    try {
      await loadDataset(dir);
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
});

// --- real development sets (read-only, from ../shared/data) --------------------------------------------------
const DATA = path.resolve(__dirname, '../../shared/data');
const IC13 = path.join(DATA, 'icdar2013_born_digital');
const FUNSD = path.join(DATA, 'funsd_train');

if (fs.existsSync(path.join(IC13, 'gt.jsonl'))) {
  test('smoke: ICDAR 2013 born-digital gt.jsonl evaluated against itself -> H-mean 1 (IoU protocol)', async () => {
    const s = await loadDataset(IC13);
    assert.is(s.length, 410);
    assert.is(s.reduce((a, x) => a + x.words.length, 0), 4227);
    assert.ok(fs.existsSync(s[0].imagePath), s[0].imagePath);
    const r = selfEval(s, 'iou');
    assert.is(r.hmean, 1, JSON.stringify({ p: r.precision, r: r.recall }));
    assert.is(r.gtCount, 4227);
    assert.is(r.detCount, 4227);
    assert.is(r.matched, 4227);
  });

  test('smoke: ICDAR 2013 against itself under DetEval: nested GT boxes make one-to-many matches', async () => {
    // 9 images have small words annotated inside a larger word's box (img_15: "Disney" and "PIXAR" inside
    // "UP"). DetEval (any implementation of the RRC rules) then takes the big box's self-detection plus the
    // small ones as a split of the big word, so even the GT does not score 1 against itself.
    const r = selfEval(await loadDataset(IC13), 'deteval');
    assert.is(r.matched, 4217);
    assert.ok(Math.abs(r.recallScore - 4215.2) < 1e-9 && Math.abs(r.precisionScore - 4223.2) < 1e-9);
    assert.is(r.perImage.filter((i) => i.hmean !== 1).length, 9);
    assert.ok(r.hmean > 0.998 && r.hmean < 1);
  });

  test('smoke: ICDAR 2013 coordinates as written: the 23 zero-area boxes cannot match', async () => {
    const s = await loadDataset(IC13, { inclusiveBoxes: false });
    const r = selfEval(s);
    assert.is(r.matched, 4227 - 23);
    assert.is(r.recall, (4227 - 23) / 4227);
  });

  test('smoke: the raw ICDAR 2013 gt/ files (read through a gt/ + images/ view) give the same boxes as gt.jsonl', async () => {
    const fromJsonl = await loadDataset(IC13);
    const view = folder({});
    fs.symlinkSync(path.join(IC13, 'gt'), path.join(view, 'gt'));
    fs.symlinkSync(path.join(IC13, 'images'), path.join(view, 'images'));
    const fromTxt = await loadDataset(view);
    const key = (x: DatasetSample) => path.basename(x.imagePath);
    const byName = new Map(fromTxt.map((x) => [key(x), x.words]));
    assert.is(fromTxt.length, fromJsonl.length);
    for (const x of fromJsonl) assert.equal(byName.get(key(x)), x.words, key(x));
  });
} else {
  test.skip('smoke: ICDAR 2013 born-digital (../shared/data/icdar2013_born_digital/gt.jsonl not present)', () => {});
  console.log(`[skip] ${IC13}/gt.jsonl not found: ICDAR 2013 smoke tests skipped`);
}

if (fs.existsSync(path.join(FUNSD, 'gt.jsonl'))) {
  test('smoke: FUNSD train gt.jsonl (inclusive boxes) against itself -> H-mean 1; raw JSON gives the same boxes', async () => {
    const s = await loadDataset(FUNSD);
    assert.is(s.length, 149);
    // 00040534.png's first word "COMPOUND" is written [84, 109, 136, 119]: widened to the continuous box
    const w0 = s.find((x) => path.basename(x.imagePath) === '00040534.png')!.words[0];
    assert.equal([w0.text, w0.points], ['COMPOUND', [[84, 109], [137, 109], [137, 120], [84, 120]]]);
    assert.is(s.reduce((a, x) => a + x.words.length, 0), 22512);
    assert.is(selfEval(s).hmean, 1);
    const view = folder({});
    fs.symlinkSync(path.join(FUNSD, 'gt'), path.join(view, 'gt'));
    fs.symlinkSync(path.join(FUNSD, 'images'), path.join(view, 'images'));
    const raw = new Map((await loadDataset(view)).map((x) => [path.basename(x.imagePath), x.words.map((w) => w.points)]));
    for (const x of s) assert.equal(raw.get(path.basename(x.imagePath)), x.words.map((w) => w.points));
  });
} else {
  test.skip('smoke: FUNSD (../shared/data/funsd_train/gt.jsonl not present)', () => {});
  console.log(`[skip] ${FUNSD}/gt.jsonl not found: FUNSD smoke test skipped`);
}

// --- progress bar --------------------------------------------------------------------------------------------
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 70, write: (s: string) => { writes.push(s); return true; } } as never };
}

test('progress: draws on a TTY, throttled, final state and newline on stop', () => {
  let t = 0;
  const { writes, stream } = fakeStream(true);
  const p = createProgress(4, { label: 'eval', stream, now: () => t, intervalMs: 100 });
  assert.ok(p.enabled);
  t = 1000; p.tick(1, 'img_1.png');
  t = 1010; p.tick(); // throttled
  t = 1500; p.tick();
  t = 2000; p.tick(); // the last step is always drawn
  p.stop();
  p.stop(); // idempotent
  assert.is(writes.length, 4);
  assert.match(writes[0], /^\reval \[#+-+\] 1\/4 25% 1\.0\/s ETA 3s img_1\.png\x1b\[K$/);
  assert.match(writes[2], /4\/4 100% 2\.0\/s 2s/);
  assert.is(writes[3], '\n');
  for (const w of writes.slice(0, 3)) assert.ok(w.length - 4 <= 69, `too wide: ${w.length}`);
});

test('progress: no output at all when the stream is not a TTY', () => {
  const { writes, stream } = fakeStream(false);
  const p = createProgress(3, { stream });
  assert.is(p.enabled, false);
  p.tick(); p.update(3); p.stop();
  assert.is(writes.length, 0);
});

test.run();
