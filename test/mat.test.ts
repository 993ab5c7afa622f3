// opencv4nodejs Mat input (duck-typed, BGR(A) as OpenCV holds it) and raw input with channelOrder: 'bgr'.
// A Mat-shaped fake always runs; the real @u4/opencv4nodejs runs when installed (tools/opencv4nodejs.sh).
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../lib';
import { ROOT, syntheticPage, TINY_MODEL } from './helpers';

const Mat = suite<{ detector: Detector }>('mat');

Mat.before(async (ctx) => {
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
});
Mat.after(async (ctx) => {
  await ctx.detector.dispose();
});

const W = 160, H = 96;

/** A coloured page (the channel order matters): orange background, blue "words". */
function colourPage(): Uint8Array {
  const grey = syntheticPage(W, H, 3);
  const rgb = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i += 3) {
    const ink = grey[i] < 128;
    rgb[i] = ink ? 30 : 250; rgb[i + 1] = ink ? 70 : 170; rgb[i + 2] = ink ? 210 : 60;
  }
  return rgb;
}

/** Interleaved pixels with the first and third channel swapped (RGB <-> BGR), alpha (if any) kept. */
function swapRB(px: Uint8Array, channels: number): Uint8Array {
  const out = Uint8Array.from(px);
  for (let i = 0; i < px.length; i += channels) { out[i] = px[i + 2]; out[i + 2] = px[i]; }
  return out;
}

function addAlpha(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) { out.set(rgb.subarray(i, i + 3), j); out[j + 3] = 255; }
  return out;
}

/** What opencv4nodejs's Mat exposes that craft-text reads (rows, cols, channels, depth, type, getData()). */
function fakeMat(data: Uint8Array, channels: number, extra: Record<string, unknown> = {}) {
  let reads = 0;
  return {
    rows: H, cols: W, channels, depth: 0, type: (channels - 1) * 8,
    getData: () => { reads++; return Buffer.from(data); },
    get reads() { return reads; },
    ...extra,
  };
}

const maps = (r: { heatmaps?: { region: Float32Array; affinity: Float32Array } }) => r.heatmaps!;

Mat('a BGR Mat gives exactly the heatmaps of the same picture as RGB pixels', async ({ detector }) => {
  const rgb = colourPage();
  const want = maps(await detector.detect({ data: rgb, width: W, height: H, channels: 3 }, { heatmaps: true }));
  const mat = fakeMat(swapRB(rgb, 3), 3);
  const got = await detector.detect(mat, { heatmaps: true });
  assert.equal(maps(got).region, want.region);
  assert.equal(maps(got).affinity, want.affinity);
  assert.is(mat.reads, 1, 'getData() is called once');
  // The order matters for this picture: RGB bytes read as BGR give other maps.
  const wrong = maps(await detector.detect(fakeMat(rgb, 3), { heatmaps: true }));
  assert.not.equal(wrong.region, want.region);
});

Mat('BGRA and grey Mats, and raw input with channelOrder: bgr', async ({ detector }) => {
  const rgb = colourPage();
  const want = maps(await detector.detect({ data: rgb, width: W, height: H, channels: 3 }, { heatmaps: true }));
  const bgra = swapRB(addAlpha(rgb), 4);
  assert.equal(maps(await detector.detect(fakeMat(bgra, 4), { heatmaps: true })).region, want.region);
  const raw = { data: swapRB(rgb, 3), width: W, height: H, channels: 3 as const, channelOrder: 'bgr' as const };
  assert.equal(maps(await detector.detect(raw, { heatmaps: true })).region, want.region);
  const rawBgra = { data: bgra, width: W, height: H, channels: 4 as const, channelOrder: 'bgr' as const };
  assert.equal(maps(await detector.detect(rawBgra, { heatmaps: true })).region, want.region);
  // Grey has no order: a 1-channel Mat equals the same bytes as raw grey.
  const grey = new Uint8Array(W * H).map((_, i) => rgb[i * 3 + 1]);
  const greyWant = maps(await detector.detect({ data: grey, width: W, height: H, channels: 1 }, { heatmaps: true }));
  assert.equal(maps(await detector.detect(fakeMat(grey, 1), { heatmaps: true })).region, greyWant.region);
});

Mat('the caller\'s BGR buffer is not modified', async ({ detector }) => {
  const bgr = swapRB(colourPage(), 3);
  const before = Uint8Array.from(bgr);
  await detector.detect({ data: bgr, width: W, height: H, channels: 3, channelOrder: 'bgr' });
  assert.equal(bgr, before);
});

Mat('bad Mats and channel orders are refused naming the argument', async ({ detector }) => {
  const px = new Uint8Array(W * H * 3);
  const cases: [unknown, string, RegExp][] = [
    [fakeMat(px, 3, { depth: 5, type: 21 }), 'RangeError', /input\.depth/], // CV_32F
    [fakeMat(px, 3, { depth: undefined, type: 21 }), 'RangeError', /input\.depth/],
    [fakeMat(px, 3, { depth: undefined, type: undefined }), 'TypeError', /input\.depth/],
    [fakeMat(new Uint8Array(W * H * 2), 2), 'RangeError', /input\.channels/],
    [fakeMat(px, 3, { rows: 0 }), 'RangeError', /input\.rows/],
    [fakeMat(px.subarray(1), 3), 'RangeError', /input\.getData\(\)/],
    [fakeMat(px, 3, { getData: () => [1, 2, 3] }), 'TypeError', /input\.getData\(\)/],
    [{ data: px, width: W, height: H, channels: 3, channelOrder: 'BGR' }, 'TypeError', /input\.channelOrder/],
  ];
  for (const [input, name, message] of cases) {
    let caught: Error | undefined;
    try { await detector.detect(input as never); } catch (err) { caught = err as Error; }
    assert.ok(caught, `rejects ${message}`);
    assert.is(caught!.name, name, caught!.message);
    assert.match(caught!.message, message);
  }
});

// The real thing: @u4/opencv4nodejs built against the system OpenCV (not a dependency; tools/opencv4nodejs.sh).
function opencv4nodejs(): { imread(file: string): unknown; imreadAsync?: unknown; cvtColor?: unknown } | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@u4/opencv4nodejs');
  } catch (err) {
    console.log(`  (skipped: @u4/opencv4nodejs not available: ${(err as Error).message.split('\n')[0]};` +
      ' bash tools/opencv4nodejs.sh builds it against the system OpenCV)');
    return undefined;
  }
}

Mat('an @u4/opencv4nodejs Mat from imread gives the maps of the file itself', async ({ detector }) => {
  const cv = opencv4nodejs();
  if (!cv) return;
  const file = path.join(ROOT, 'examples', 'images', 'hello.png');
  const mat = cv.imread(file) as { channels: number; rows: number; cols: number };
  assert.is(mat.channels, 3);
  const fromMat = await detector.detect(mat as never, { heatmaps: true });
  const fromFile = await detector.detect(file, { heatmaps: true });
  assert.is(fromMat.width, mat.cols);
  assert.equal(maps(fromMat).region, maps(fromFile).region);
  assert.equal(fromMat.words, fromFile.words);
});

Mat.run();
