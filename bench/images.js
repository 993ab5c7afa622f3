// Image helpers shared by the bench scripts (no image library dependency): a minimal PNG decoder and integer
// rescaling of raw pixels.
'use strict';
const zlib = require('node:zlib');

// ---- A minimal PNG decoder (8-bit grey / grey+alpha / RGB / RGBA / palette, not interlaced): FUNSD is 8-bit grey. -----

function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let p = 8, w = 0, h = 0, depth = 0, type = 0, interlace = 0, palette = null;
  const idat = [];
  while (p < buf.length) {
    const len = buf.readUInt32BE(p), kind = buf.toString('latin1', p + 4, p + 8), data = buf.subarray(p + 8, p + 8 + len);
    if (kind === 'IHDR') { w = data.readUInt32BE(0); h = data.readUInt32BE(4); depth = data[8]; type = data[9]; interlace = data[12]; }
    else if (kind === 'PLTE') palette = data;
    else if (kind === 'IDAT') idat.push(data);
    else if (kind === 'IEND') break;
    p += 12 + len;
  }
  if (depth !== 8 || interlace) throw new Error(`unsupported PNG (depth ${depth}, interlace ${interlace})`);
  const bpp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[type];
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * bpp, out = Buffer.alloc(stride * h);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride), prev = y ? out.subarray((y - 1) * stride, y * stride) : null;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? row[x - bpp] : 0, b = prev ? prev[x] : 0, c = prev && x >= bpp ? prev[x - bpp] : 0;
      let v = src[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      row[x] = v & 255;
    }
  }
  // To grey (1 channel) or RGB (3 channels).
  if (type === 0) return { data: out, width: w, height: h, channels: 1 };
  if (type === 4) { const g = Buffer.alloc(w * h); for (let i = 0; i < w * h; i++) g[i] = out[i * 2]; return { data: g, width: w, height: h, channels: 1 }; }
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    if (type === 3) palette.copy(rgb, i * 3, out[i] * 3, out[i] * 3 + 3);
    else out.copy(rgb, i * 3, i * bpp, i * bpp + 3);
  }
  return { data: rgb, width: w, height: h, channels: 3 };
}

/** Bilinear upscaling by an integer factor (pixel-centre aligned, like cv::resize INTER_LINEAR). */
function upscale(img, k) {
  const { data, width: w, height: h, channels: c } = img;
  const W = w * k, H = h * k, out = Buffer.alloc(W * H * c);
  const xs = new Float64Array(W);
  for (let X = 0; X < W; X++) xs[X] = Math.min(Math.max((X + 0.5) / k - 0.5, 0), w - 1);
  for (let Y = 0; Y < H; Y++) {
    const fy = Math.min(Math.max((Y + 0.5) / k - 0.5, 0), h - 1), y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), b = fy - y0;
    for (let X = 0; X < W; X++) {
      const fx = xs[X], x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), a = fx - x0;
      for (let ch = 0; ch < c; ch++) {
        const p00 = data[(y0 * w + x0) * c + ch], p01 = data[(y0 * w + x1) * c + ch];
        const p10 = data[(y1 * w + x0) * c + ch], p11 = data[(y1 * w + x1) * c + ch];
        out[(Y * W + X) * c + ch] = Math.round((1 - b) * ((1 - a) * p00 + a * p01) + b * ((1 - a) * p10 + a * p11));
      }
    }
  }
  return { data: out, width: W, height: H, channels: c };
}

/** Downscaling by an integer factor: the mean of each k x k block (area averaging, like cv::resize INTER_AREA). */
function downscale(img, k) {
  const { data, width: w, height: h, channels: c } = img;
  const W = Math.floor(w / k), H = Math.floor(h / k), out = Buffer.alloc(W * H * c);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += data[((Y * k + dy) * w + X * k + dx) * c + ch];
        out[(Y * W + X) * c + ch] = Math.round(sum / (k * k));
      }
    }
  }
  return { data: out, width: W, height: H, channels: c };
}

/** The image at `factor` (0.5, 1, 2, 4, ...): integer up- or downscaling. */
function rescale(img, factor) {
  if (factor === 1) return img;
  return factor > 1 ? upscale(img, Math.round(factor)) : downscale(img, Math.round(1 / factor));
}

module.exports = { decodePng, upscale, downscale, rescale };
