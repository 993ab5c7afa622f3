// End to end against the official pipeline (tools/make_e2e_golden.py ran CRAFT-pytorch's loadImage,
// resize_aspect_ratio, normalizeMeanVariance, getDetBoxes and adjustResultCoordinates on the same ONNX model with
// onnxruntime for Python): same scale, same heatmaps (within float noise of two ORT builds' thread schedules), same
// boxes and polygons within 0.01 px of original-image coordinates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { IMAGES, readF32, ROOT, TINY_MODEL } from './helpers';

const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'golden');
type Case = {
  image: string; options: Record<string, number | boolean>; width: number; height: number; scale: number;
  heatmap: { width: number; height: number; regionSum: number; affinitySum: number };
  boxes: number[][][]; polys: number[][][] | null;
};
const { cases } = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'e2e.json'), 'utf8')) as { cases: Case[] };

const Golden = suite<{ detector: Detector }>('golden');
Golden.before(async (ctx) => { ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 }); });
Golden.after(async (ctx) => { await ctx.detector.dispose(); });

function close(actual: number[][], expected: number[][], tol: number, what: string) {
  assert.is(actual.length, expected.length, `${what}: point count`);
  actual.forEach(([x, y], i) => {
    const [ex, ey] = expected[i];
    assert.ok(Math.abs(x - ex) <= tol && Math.abs(y - ey) <= tol, `${what} point ${i}: (${x}, ${y}) vs (${ex}, ${ey})`);
  });
}

cases.forEach((c, n) => {
  Golden(`${c.image} ${JSON.stringify(c.options)}`, async ({ detector }) => {
    const r = await detector.detect(path.join(IMAGES, c.image), { ...c.options, scale: 'fixed', heatmaps: true, tiling: 'off' } as never);
    assert.is(r.width, c.width);
    assert.is(r.height, c.height);
    assert.ok(Math.abs(r.scale - c.scale) < 1e-6, `scale ${r.scale} vs ${c.scale}`);
    const hm = r.heatmaps!;
    assert.is(hm.width, c.heatmap.width);
    assert.is(hm.height, c.heatmap.height);
    let regionSum = 0, affinitySum = 0;
    for (let i = 0; i < hm.region.length; i++) { regionSum += hm.region[i]; affinitySum += hm.affinity[i]; }
    assert.ok(Math.abs(regionSum - c.heatmap.regionSum) <= 1e-4 * hm.region.length, `region sum ${regionSum} vs ${c.heatmap.regionSum}`);
    assert.ok(Math.abs(affinitySum - c.heatmap.affinitySum) <= 1e-4 * hm.region.length, `affinity sum`);
    if (n === 0) {
      const ref = readF32(path.join(GOLDEN, 'hello.region.f32'));
      let maxDiff = 0;
      for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - hm.region[i]));
      assert.ok(maxDiff < 1e-5, `region map max abs diff ${maxDiff}`); // the input tensor is bit-exact
    }
    assert.is(r.words.length, c.boxes.length, 'same number of words');
    r.words.forEach((w, i) => {
      close(w.box, c.boxes[i], 0.01, `box ${i}`);
      if (c.polys) close(w.polygon!, c.polys[i], 0.01, `polygon ${i}`);
    });
  });
});

Golden.run();
