// Tiling (issue 6): images larger than the canvas are cut into overlapping tiles, their heatmaps stitched (each tile
// contributes the centre of its overlaps) and post-processed once. These tests use magRatio 1 so tiled and untiled
// runs see exactly the same pixels; the tiny test model has random weights and a VGG-sized receptive field, so it is
// a harsh judge of seams (a trained model depends far less on context 100+ px away).
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, type DetectResult, type Word } from '../lib';
import { IMAGES, rejects, syntheticPage, TINY_MODEL, TINY_REFINER_MODEL } from './helpers';

const Tiling = suite<{ detector: Detector }>('tiling');

Tiling.before(async (ctx) => {
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
});
Tiling.after(async (ctx) => {
  await ctx.detector.dispose();
});

const img = (name: string) => path.join(IMAGES, name);
type Raw = { data: Uint8Array; width: number; height: number; channels: 3 };

/** One line of dark "characters" (10x16, 14 px pitch) from x0 to x1 at height y, on white. */
function textLine(width: number, height: number, x0: number, x1: number, y: number): Raw {
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let x = x0; x + 10 <= x1; x += 14) {
    for (let yy = y; yy < y + 16; yy++) data.fill(20, (yy * width + x) * 3, (yy * width + x + 10) * 3);
  }
  return { data, width, height, channels: 3 };
}

function bounds(w: Word) {
  const xs = w.box.map((p) => p[0]), ys = w.box.map((p) => p[1]);
  return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
}
function iou(a: Word, b: Word): number {
  const p = bounds(a), q = bounds(b);
  const iw = Math.max(0, Math.min(p.x1, q.x1) - Math.max(p.x0, q.x0));
  const ih = Math.max(0, Math.min(p.y1, q.y1) - Math.max(p.y0, q.y0));
  const inter = iw * ih;
  return inter / ((p.x1 - p.x0) * (p.y1 - p.y0) + (q.x1 - q.x0) * (q.y1 - q.y0) - inter);
}
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
const boxes = (r: DetectResult) => r.words.map((w) => w.box);

Tiling('auto keeps CRAFT exactly while the image fits the canvas (downscaled: false, tiles: 1)', async ({ detector }) => {
  // 400x200: magnified to 600, no cap.
  const small = await detector.detect(img('hello.png'), { scale: 'fixed' });
  assert.equal([small.scale, small.downscaled, small.tiles], [1.5, false, 1]);
  assert.equal(small.words, (await detector.detect(img('hello.png'), { scale: 'fixed', tiling: 'off' })).words);
  // 1000 px long side: magnified 1500 is capped at 1280 like the reference (scale 1.28, still above 1x: not tiled).
  const page = { data: syntheticPage(1000, 300), width: 1000, height: 300, channels: 3 as const };
  const capped = await detector.detect(page, { scale: 'fixed' });
  assert.ok(Math.abs(capped.scale - 1.28) < 1e-6, `scale ${capped.scale}`);
  assert.equal([capped.downscaled, capped.tiles], [false, 1]);
  assert.equal(capped.words, (await detector.detect(page, { scale: 'fixed', tiling: 'off' })).words);
});

Tiling('auto tiles an image the reference would shrink below 1x; off shrinks it and says so', async ({ detector }) => {
  const tiled = await detector.detect(img('tall.png'), { scale: 'fixed', heatmaps: true }); // 333x1600 > canvas 1280
  assert.is(tiled.scale, 1.5);
  assert.is(tiled.downscaled, false);
  assert.is(tiled.tiles, 3); // 1600 * 1.5 = 2400 -> 2400 padded, tiles of 1280 overlapping >= 256
  assert.is(tiled.heatmaps!.width, 512 / 2); // 333 * 1.5 = 499 -> padded 512, one tile across
  assert.is(tiled.heatmaps!.height, 2400 / 2);
  for (const w of tiled.words) for (const [x, y] of w.box) assert.ok(x > -10 && x < 345 && y > -10 && y < 1610);
  const shrunk = await detector.detect(img('tall.png'), { scale: 'fixed', tiling: 'off' });
  assert.equal([shrunk.downscaled, shrunk.tiles], [true, 1]);
  assert.ok(Math.abs(shrunk.scale - 0.8) < 1e-6);
});

Tiling('{ tileSize, overlap } tiles whenever the magnified image exceeds the canvas', async ({ detector }) => {
  const r = await detector.detect(img('hello.png'), { scale: 'fixed', canvasSize: 256, tiling: { tileSize: 256, overlap: 64 } });
  assert.is(r.scale, 1.5); // never capped
  assert.is(r.downscaled, false);
  // 600x300 working -> padded 608x320; starts on multiples of 32, <= 192 apart: x 0, 160, 352 (3); y 0, 64 (2).
  assert.is(r.tiles, 6);
  // An image that fits the canvas is not tiled even with explicit settings.
  const fits = await detector.detect(img('hello.png'), { scale: 'fixed', tiling: { tileSize: 256 } });
  assert.equal([fits.tiles, fits.scale], [1, 1.5]);
});

Tiling('with enough overlap, tiling is exact: stitched heatmaps equal the untiled run', async ({ detector }) => {
  const page = { data: syntheticPage(1000, 700, 3), width: 1000, height: 700, channels: 3 as const };
  const ref = await detector.detect(page, { scale: 'fixed', magRatio: 1, canvasSize: 2048, tiling: 'off', heatmaps: true });
  const tiled = await detector.detect(page, { scale: 'fixed', magRatio: 1, canvasSize: 768, tiling: { tileSize: 768, overlap: 256 }, heatmaps: true });
  assert.is(tiled.tiles, 2);
  assert.equal([tiled.heatmaps!.width, tiled.heatmaps!.height], [ref.heatmaps!.width, ref.heatmaps!.height]);
  assert.ok(maxAbsDiff(tiled.heatmaps!.region, ref.heatmaps!.region) < 1e-4);
  assert.ok(maxAbsDiff(tiled.heatmaps!.affinity, ref.heatmaps!.affinity) < 1e-4);
  assert.equal(boxes(tiled), boxes(ref));
});

Tiling('each tile contributes the centre of its overlaps: the stitched map is the tile run there', async ({ detector }) => {
  // 1024x512 at scale 1, tiles 512 with overlap 256: tiles start at x = 0, 256, 512; seams in the middle of each
  // overlap (x = 384, 640 working = 192, 320 heatmap). The middle tile's own run is the crop x in [256, 768).
  const W = 1024, H = 512;
  const page = syntheticPage(W, H, 5);
  const tiled = await detector.detect({ data: page, width: W, height: H, channels: 3 }, { scale: 'fixed', magRatio: 1, canvasSize: 512, tiling: { tileSize: 512, overlap: 256 }, heatmaps: true });
  assert.is(tiled.tiles, 3);
  const crop = new Uint8Array(512 * H * 3);
  for (let y = 0; y < H; y++) crop.set(page.subarray((y * W + 256) * 3, (y * W + 768) * 3), y * 512 * 3);
  const tile = await detector.detect({ data: crop, width: 512, height: H, channels: 3 }, { scale: 'fixed', magRatio: 1, canvasSize: 512, tiling: 'off', heatmaps: true });
  const hm = tiled.heatmaps!, th = tile.heatmaps!;
  for (let y = 0; y < 256; y++) {
    for (let x = 192; x < 320; x++) {
      if (hm.region[y * hm.width + x] !== th.region[y * th.width + x - 128] ||
          hm.affinity[y * hm.width + x] !== th.affinity[y * th.width + x - 128]) {
        assert.unreachable(`stitched map differs from the middle tile's own map at heatmap (${x}, ${y})`);
      }
    }
  }
  // ... and just outside its core, the neighbours' maps are used (they differ from the middle tile's near its edge).
  let differs = false;
  for (let y = 0; y < 256 && !differs; y++) differs = hm.region[y * hm.width + 130] !== th.region[y * th.width + 2];
  assert.ok(differs, 'the tile edge (2 px from its border) is not used');
});

Tiling('a word crossing tile seams comes out once and whole', async ({ detector }) => {
  // One line of characters from x = 100 to 1100: tiles of 512 start at x = 0, 224, 480, 704 (overlap >= 256), so the
  // line crosses three seams. The untiled run finds it as one long word; so must the tiled one, with the same box.
  const line = textLine(1200, 200, 100, 1100, 90);
  const ref = await detector.detect(line, { scale: 'fixed', magRatio: 1, canvasSize: 2048, tiling: 'off' });
  const tiled = await detector.detect(line, { scale: 'fixed', magRatio: 1, canvasSize: 512, tiling: { tileSize: 512, overlap: 256 } });
  assert.is(tiled.tiles, 4);
  // (The random test model also "sees" words in the zero padding below the image: only look at the line.)
  const long = (r: DetectResult) => r.words.filter((w) => bounds(w).x1 - bounds(w).x0 > 600 && bounds(w).y1 < 150);
  assert.is(long(ref).length, 1, 'the reference run finds the line as one word');
  assert.is(long(tiled).length, 1, 'once, not in pieces');
  assert.ok(iou(long(tiled)[0], long(ref)[0]) > 0.95, 'whole: the same box as the untiled run');
  // No duplicates anywhere: every word matches exactly one untiled word.
  assert.is(tiled.words.length, ref.words.length);
  for (const w of tiled.words) assert.is(ref.words.filter((r) => iou(r, w) > 0.5).length, 1);
  for (let i = 0; i < tiled.words.length; i++) {
    for (let j = i + 1; j < tiled.words.length; j++) assert.ok(iou(tiled.words[i], tiled.words[j]) < 0.5, 'duplicate');
  }
});

Tiling('tiles of one shape run batched; the result does not depend on the batch size', async ({ detector }) => {
  const page = { data: syntheticPage(1400, 300, 9), width: 1400, height: 300, channels: 3 as const };
  const tiling = { tileSize: 256, overlap: 64 };
  // canvasSize 1280 allows 25 tiles of 256 per run; canvasSize 256 one.
  const batched = await detector.detect(page, { scale: 'fixed', magRatio: 1, canvasSize: 1280, tiling, heatmaps: true });
  const single = await detector.detect(page, { scale: 'fixed', magRatio: 1, canvasSize: 256, tiling, heatmaps: true });
  assert.is(batched.tiles, 14);
  assert.is(single.tiles, 14);
  assert.ok(maxAbsDiff(batched.heatmaps!.region, single.heatmaps!.region) < 1e-4);
  assert.equal(boxes(batched).length, boxes(single).length);
});

Tiling('tiling works on every input kind, with polygons, and keeps boxes in original pixels', async ({ detector }) => {
  const opts = { canvasSize: 256, tiling: { tileSize: 256, overlap: 64 }, polygons: true } as const;
  const fromPath = await detector.detect(img('hello.png'), opts);
  const rgba = await detector.detect(img('hello-rgba.png'), opts);
  assert.equal(rgba.words, fromPath.words);
  assert.ok(fromPath.words.every((w) => Array.isArray(w.polygon)));
  // Inside the padded working image (608x320 at scale 1.5), like untiled boxes: the reference keeps padding words.
  for (const w of fromPath.words) for (const [x, y] of w.box) assert.ok(x > -10 && x < 410 && y > -10 && y < 216);
});

Tiling('a LinkRefiner model: the refined link map is stitched too', async () => {
  const detector = await Detector.create({ model: TINY_REFINER_MODEL, threads: 1 });
  const opts = { canvasSize: 256, tiling: { tileSize: 256, overlap: 64 }, heatmaps: true } as const;
  const plain = await detector.detect(img('hello.png'), opts);
  const refined = await detector.detect(img('hello.png'), { scale: 'fixed', ...opts, refine: true });
  assert.is(refined.tiles, 6);
  assert.equal(refined.heatmaps!.region, plain.heatmaps!.region);
  assert.ok(maxAbsDiff(refined.heatmaps!.affinity, plain.heatmaps!.affinity) > 0, 'affinity replaced by the refined map');
  assert.ok(refined.words.every((w) => Array.isArray(w.polygon)));
  await detector.dispose();
});

Tiling('the working image is kept within maxPixels: the scale is reduced, never below 1x', async ({ detector }) => {
  const page = { data: syntheticPage(1600, 400), width: 1600, height: 400, channels: 3 as const };
  // 1.5x would be 2400x600 = 1.44 Mpx; a limit of 1 Mpx gives scale sqrt(1e6 / 640000) = 1.25.
  const r = await detector.detect(page, { scale: 'fixed', maxPixels: 1_000_000 });
  assert.ok(Math.abs(r.scale - 1.25) < 1e-3, `scale ${r.scale}`);
  assert.equal([r.downscaled, r.tiles > 1], [false, true]);
  // At exactly the limit: 1x.
  const at = await detector.detect(page, { scale: 'fixed', maxPixels: 640_000 });
  assert.ok(Math.abs(at.scale - 1) < 1e-6, `scale ${at.scale}`);
});

Tiling('extreme shapes tile along one axis only', async ({ detector }) => {
  const wide = { data: new Uint8Array(5000 * 3 * 3).fill(200), width: 5000, height: 3, channels: 3 as const };
  const r = await detector.detect(wide, { scale: 'fixed' });
  assert.is(r.scale, 1.5);
  assert.ok(r.tiles >= 7, `${r.tiles} tiles`);
  const tall = { data: new Uint8Array(1 * 3000).fill(0), width: 1, height: 3000, channels: 1 as const };
  const t = await detector.detect(tall, { scale: 'fixed', heatmaps: true });
  assert.is(t.heatmaps!.width, 16); // one 32-px column of tiles
  assert.ok(t.tiles >= 4);
});

Tiling('invalid tiling options are refused with the argument named', async ({ detector }) => {
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tiling: 'on' as never }), { name: 'TypeError', message: /tiling/ });
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tiling: { tileSize: 100 } }), { name: 'RangeError', message: /tiling\.tileSize/ });
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tiling: { tileSize: 32 } }), { name: 'RangeError', message: /tiling\.tileSize/ });
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tiling: { tileSize: 256, overlap: 200 } }), { name: 'RangeError', message: /tiling\.overlap/ });
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tiling: { tileSize: 256, overlap: NaN } }), { name: 'RangeError', message: /tiling\.overlap/ });
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tiling: { tilesize: 256 } as never }), { name: 'TypeError', message: /did you mean 'tileSize'/ });
  await rejects(() => detector.detect(img('hello.png'), { scale: 'fixed', tilling: 'off' } as never), { name: 'TypeError', message: /did you mean 'tiling'/ });
});

Tiling.run();
