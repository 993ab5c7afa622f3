// Parity with the official CRAFT-pytorch getDetBoxes (+ getPoly) through the public postprocess(): every fixture case
// in ../shared/fixtures/postprocess must give the same boxes, in the same order, within 0.01 px, and polygons exactly
// where the reference has one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postprocess } from '../lib';
import { readF32, rejects, shared } from './helpers';

const dir = shared('fixtures/postprocess');
const cases = dir ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];

type Fixture = {
  width: number; height: number; textThreshold: number; linkThreshold: number; lowText: number;
  boxes: number[][][]; polys: (number[][] | null)[];
};

function close(actual: number[][], expected: number[][], what: string) {
  assert.is(actual.length, expected.length, `${what}: point count`);
  actual.forEach(([x, y], i) => {
    const [ex, ey] = expected[i];
    assert.ok(Math.abs(x - ex) <= 0.01 && Math.abs(y - ey) <= 0.01, `${what} point ${i}: (${x}, ${y}) vs (${ex}, ${ey})`);
  });
}

for (const name of cases) {
  test(`parity: ${name}`, async () => {
    const fx = JSON.parse(fs.readFileSync(path.join(dir!, `${name}.json`), 'utf8')) as Fixture;
    const region = readF32(path.join(dir!, `${name}.region.f32`));
    const affinity = readF32(path.join(dir!, `${name}.affinity.f32`));
    const opts = { textThreshold: fx.textThreshold, linkThreshold: fx.linkThreshold, lowText: fx.lowText };
    const maps = { region, affinity, width: fx.width, height: fx.height };
    const words = await postprocess(maps, { ...opts, polygons: true });
    assert.is(words.length, fx.boxes.length, 'same number of boxes');
    words.forEach((w, i) => {
      close(w.box, fx.boxes[i], `${name} box ${i}`);
      const ref = fx.polys[i];
      // test.py falls back to the box where getPoly_core returns None: then our polygon is the box.
      if (ref === null) close(w.polygon!, fx.boxes[i], `${name} fallback polygon ${i}`);
      else close(w.polygon!, ref, `${name} polygon ${i}`);
      assert.ok(w.rawScore >= fx.textThreshold, 'rawScore is the component max, at least textThreshold');
      assert.ok(w.score >= 0 && w.score <= Math.min(1, w.rawScore) + 1e-6, 'score in [0, min(1, rawScore)]');
    });
    // Without polygons: the same boxes, no polygon field.
    const plain = await postprocess(maps, opts);
    assert.is(plain.length, words.length);
    plain.forEach((w, i) => { assert.equal(w.box, words[i].box); assert.is(w.polygon, undefined); });
  });
}

test('rawScore is the maximum region score of each word; score the mean of its capped character peaks', async () => {
  const w = 40, h = 20;
  const region = new Float32Array(w * h), affinity = new Float32Array(w * h);
  for (let y = 5; y < 12; y++) for (let x = 5; x < 15; x++) region[y * w + x] = 0.8;
  region[8 * w + 9] = 0.93;
  for (let y = 5; y < 12; y++) for (let x = 25; x < 35; x++) region[y * w + x] = 0.5; // below textThreshold
  const words = await postprocess({ region, affinity, width: w, height: h });
  assert.is(words.length, 1);
  assert.ok(Math.abs(words[0].rawScore - 0.93) < 1e-6);
  // One peak (the 0.93 pixel, smoothed along the word) on a 0.8 plateau: one character, score between the two.
  assert.ok(words[0].score >= 0.8 && words[0].score <= 0.93 + 1e-6, `score ${words[0].score}`);
  // A model overshooting 1 (the bundled one peaks at 1.06-1.11): the score stays <= 1, rawScore keeps the value.
  const over = await postprocess({ region: region.map((v) => v * 1.2), affinity, width: w, height: h });
  assert.ok(over[0].rawScore > 1 && over[0].score <= 1);
});

test('non-finite heatmap values are refused', async () => {
  const region = new Float32Array(4).fill(0.5);
  region[2] = NaN;
  await rejects(() => postprocess({ region, affinity: new Float32Array(4), width: 2, height: 2 }),
    { name: 'RangeError', message: /heatmaps\.region contains a non-finite value at index 2/ });
});

test.run();
