// The native picture functions (binding/render.cc -> binding/craft/draw.cc): CRAFT's heatmap picture, outlines
// drawn on a decoded image, captions, encoding and argument errors. BMP output is read back pixel by pixel.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { binding } from '../lib/binding';
import { encodeBmp, rejects } from './helpers';

/** Reads a 24-bit bottom-up BMP (what OpenCV writes for a 3-channel image) into RGB rows. */
function readBmp(buf: Buffer): { width: number; height: number; rgb: (x: number, y: number) => number[] } {
  assert.is(buf.toString('latin1', 0, 2), 'BM');
  const offset = buf.readUInt32LE(10), width = buf.readInt32LE(18), height = buf.readInt32LE(22);
  assert.is(buf.readUInt16LE(28), 24, '24-bit');
  const stride = Math.ceil((width * 3) / 4) * 4;
  return {
    width, height,
    rgb: (x, y) => {
      const o = offset + (height - 1 - y) * stride + x * 3;
      return [buf[o + 2], buf[o + 1], buf[o]];
    },
  };
}

const R = suite('render');

R('renderHeatmaps: region left, affinity right, clip * 255 truncated, JET (as CRAFT cvt2HeatmapImg)', async () => {
  const region = new Float32Array([0, 0.5, 0.502, 1, NaN, -3, 7, 1]);  // 4 x 2
  const affinity = new Float32Array([1, 1, 0, 0, 0, 0, 0, 0.5]);
  const r = await binding().renderHeatmaps(region, affinity, 4, 2, { format: 'bmp' });
  assert.is(r.width, 8);
  assert.is(r.height, 2);
  const img = readBmp(r.data);
  assert.equal([img.width, img.height], [8, 2]);
  // cv2.applyColorMap(uint8 [0, 127, 128, 255], COLORMAP_JET) in RGB:
  const JET: Record<number, number[]> = { 0: [0, 0, 128], 127: [126, 255, 130], 128: [130, 255, 126], 255: [128, 0, 0] };
  assert.equal(img.rgb(0, 0), JET[0]);
  assert.equal(img.rgb(1, 0), JET[127], '0.5 * 255 = 127.5 truncates to 127');
  assert.equal(img.rgb(2, 0), JET[128]);
  assert.equal(img.rgb(3, 0), JET[255]);
  assert.equal(img.rgb(0, 1), JET[0], 'NaN -> 0');
  assert.equal(img.rgb(1, 1), JET[0], 'negative clipped to 0');
  assert.equal(img.rgb(2, 1), JET[255], 'above 1 clipped to 1');
  assert.equal(img.rgb(4, 0), JET[255], 'affinity starts at x = width');
  assert.equal(img.rgb(6, 0), JET[0]);
  assert.equal(img.rgb(7, 1), JET[127]);
});

R('renderOverlay: outlines drawn in their colour, the rest of the image untouched; formats by name', async () => {
  const w = 64, h = 48;
  const white = new Uint8Array(w * h * 3).fill(255);
  const input = encodeBmp(white, w, h);
  const r = await binding().renderOverlay(input, [
    { points: [[10, 10], [40, 10], [40, 30], [10, 30]], color: [255, 0, 0], thickness: 1 },
    { points: [50, 5, 60, 5, 60, 15], color: [0, 0, 255], thickness: 1, closed: false },  // flat form, open
  ], [], { format: 'bmp' });
  assert.equal([r.width, r.height], [w, h]);
  const img = readBmp(r.data);
  const px = img.rgb(25, 10);
  assert.ok(px[0] > 200 && px[1] < 100 && px[2] < 100, `top edge red, got ${px}`);
  assert.equal(img.rgb(25, 20), [255, 255, 255], 'inside untouched');
  assert.equal(img.rgb(2, 45), [255, 255, 255], 'outside untouched');
  const blue = img.rgb(60, 10);
  assert.ok(blue[2] > 200 && blue[0] < 100, `open polyline drawn, got ${blue}`);
  assert.equal(img.rgb(55, 10), [255, 255, 255], 'open polyline not closed');
  for (const format of ['png', 'jpg', 'webp', 'tiff'] as const) {
    const e = await binding().renderOverlay(input, [], [], { format });
    assert.ok(e.data.length > 0, format);
  }
});

R('renderOverlay: a caption band is added above the image; labels drawn inside it', async () => {
  const w = 200, h = 50;
  const input = encodeBmp(new Uint8Array(w * h * 3).fill(255), w, h);
  const r = await binding().renderOverlay(input, [{ points: [[0, 0], [199, 0], [199, 49], [0, 49]], color: [0, 255, 0], thickness: 1 }],
    [{ text: 'hi', x: 100, y: 20 }], { format: 'bmp', caption: [[{ text: 'title', color: [255, 255, 255] }], [{ text: 'a' }, { text: 'b', color: [255, 0, 0] }]] });
  assert.is(r.width, w);
  assert.ok(r.height > h, 'taller than the image');
  const img = readBmp(r.data);
  const band = r.height - h;
  assert.equal(img.rgb(w - 1, 0), [30, 30, 30], 'dark band');
  const corner = img.rgb(0, band);
  assert.ok(corner[1] > 200 && corner[0] < 100, `the outline is shifted down by the band, got ${corner}`);
});

R('failures reject with coded errors; bad arguments throw TypeError', async () => {
  await rejects(() => binding().renderOverlay(new Uint8Array([1, 2, 3, 4]), [], []), { code: 'ERR_CRAFT_DECODE' });
  const input = encodeBmp(new Uint8Array(3 * 4 * 4), 4, 4);
  await rejects(() => binding().renderOverlay(input, [], [], { format: 'gifx' as 'png' }), { code: 'ERR_CRAFT_INVALID_INPUT', message: /unsupported image format/ });
  await rejects(() => binding().renderOverlay(input, [{ points: [['a', 1]], color: [0, 0, 0] }] as never, []), { name: 'TypeError', message: /strokes\[0\]\.points/ });
  await rejects(() => binding().renderOverlay(input, [{ points: [[1, 1]], color: 'red' }] as never, []), { name: 'TypeError', message: /strokes\[0\]\.color/ });
  await rejects(() => binding().renderHeatmaps(new Float32Array(3), new Float32Array(4), 2, 2), { name: 'TypeError', message: /heatmap size/ });
  await rejects(() => binding().renderOverlay(input, [], [], { maxPixels: 4, format: 'png' }), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
  // Coordinates far outside the image or non-finite are clamped, not a crash.
  const r = await binding().renderOverlay(input, [{ points: [[-1e30, 1e30], [NaN, 2], [Infinity, 3]], color: [0, 0, 0] }, { points: [[1, 1]], color: [0, 0, 0] }], []);
  assert.equal([r.width, r.height], [4, 4]);
});

R.run();
