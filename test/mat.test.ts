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
interface CvMat { rows: number; cols: number; channels: number; type: number; cvtColor(code: number): CvMat; getData(): Buffer }
interface Cv {
  Mat: new (data: Buffer, rows: number, cols: number, type: number) => CvMat;
  CV_8UC3: number; COLOR_RGB2BGR: number; COLOR_BGR2BGRA: number; COLOR_RGB2GRAY: number;
  imread?: (file: string) => CvMat; // only when OpenCV's highgui and videoio were found at its build
}
function opencv4nodejs(): Cv | undefined {
  // Its loader otherwise looks for an OpenCV it built itself (it was built against the system's, autobuild off).
  process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD ??= '1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@u4/opencv4nodejs') as Cv;
  } catch (err) {
    console.log(`  (skipped: @u4/opencv4nodejs not available: ${(err as Error).message.split('\n')[0]};` +
      ' bash tools/opencv4nodejs.sh builds it against the system OpenCV)');
    return undefined;
  }
}

Mat('real @u4/opencv4nodejs Mats (BGR, BGRA, grey) give the maps of the same RGB pixels', async ({ detector }) => {
  const cv = opencv4nodejs();
  if (!cv) return;
  const rgb = colourPage();
  const want = maps(await detector.detect({ data: rgb, width: W, height: H, channels: 3 }, { heatmaps: true }));
  const bgr = new cv.Mat(Buffer.from(rgb), H, W, cv.CV_8UC3).cvtColor(cv.COLOR_RGB2BGR);
  assert.is(bgr.channels, 3);
  const got = await detector.detect(bgr as never, { heatmaps: true });
  assert.is(got.width, W);
  assert.equal(maps(got).region, want.region);
  assert.equal(maps(got).affinity, want.affinity);
  assert.equal(maps(await detector.detect(bgr.cvtColor(cv.COLOR_BGR2BGRA) as never, { heatmaps: true })).region, want.region);
  const grey = new cv.Mat(Buffer.from(rgb), H, W, cv.CV_8UC3).cvtColor(cv.COLOR_RGB2GRAY);
  const greyWant = await detector.detect({ data: grey.getData(), width: W, height: H, channels: 1 }, { heatmaps: true });
  assert.equal(maps(await detector.detect(grey as never, { heatmaps: true })).region, maps(greyWant).region);
  if (cv.imread) {
    const file = path.join(ROOT, 'examples', 'images', 'hello.png');
    const fromMat = await detector.detect(cv.imread(file) as never, { heatmaps: true });
    assert.equal(maps(fromMat).region, maps(await detector.detect(file, { heatmaps: true })).region);
  } else {
    console.log('  (imread case skipped: this opencv4nodejs build has no io module: OpenCV highgui/videoio absent)');
  }
});

Mat.run();
