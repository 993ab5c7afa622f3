#!/usr/bin/env node
// Fuzzes the decode and raw-input paths through the public API: the fixture images mutated (bit flips, byte sets,
// truncation, splices within and across formats, format-aware header field edits: PNG IHDR and chunk lengths, JPEG
// segment fields, GIF screen/frame descriptors, BMP header, TIFF IFD entries, WebP chunks) and raw pixel buffers of
// random sizes, with random detect() options now and then (tiling, canvas, magnification, heatmaps, polygons).
// Hostile-caller classes (issue 12) too: inputs whose memory is detached (transferred away) or resized to 0 right after
// the call, typed-array look-alikes (Proxies, objects with a typed array's prototype, throwing getters), decoder work
// bombs (progressive JPEGs with many scans, animated GIFs with many frames, multi-page TIFFs), and models whose outputs
// are not float32 (or not models at all), loaded with Detector.create.
// Every input is generated from (seed, index), so any finding can be regenerated from its index alone.
//
// Pass: no crash, no hang; every call resolves or rejects with a coded Error (ERR_CRAFT_*) or a TypeError/RangeError.
// The detector runs in a child process; the parent restarts it after a crash or a hang (no reply within --timeout)
// and saves the input that caused it to --out.
//
//   node bench/fuzz.js [--count 10000] [--seed 1] [--timeout 20000] [--model m.onnx] [--out dir] [--json]
//   node bench/fuzz.js --dump DIR --count 2000      writes the encoded inputs (for tools/asan.sh), runs nothing
// (run `npm run build` first)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const FIXTURES = ['hello.png', 'hello.jpg', 'hello.gif', 'hello.bmp', 'hello.tiff', 'hello.webp', 'hello-gray.png',
  'hello-rgba.png', 'inverted.png', 'hello-progressive.jpg', 'hello-2pages.tiff'];
const MODELS = path.join(ROOT, 'test', 'models');

/** mulberry32: a small deterministic PRNG. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n); // [0, n)
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  return next;
}

const INTERESTING = [0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096,
  16383, 16384, 32767, 32768, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff];
const interesting = (r, max = 0xffffffff) => (r() < 0.7 ? r.pick(INTERESTING) : r.int(0x100000000)) % (max + 1);

function write(buf, offset, bytes, value, le) {
  if (offset < 0 || offset + bytes > buf.length) return;
  if (bytes === 1) buf[offset] = value & 0xff;
  else if (bytes === 2) (le ? buf.writeUInt16LE(value & 0xffff, offset) : buf.writeUInt16BE(value & 0xffff, offset));
  else (le ? buf.writeUInt32LE(value >>> 0, offset) : buf.writeUInt32BE(value >>> 0, offset));
}

// ---- Format-aware header edits --------------------------------------------------------------------------------------

function formatOf(b) {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (b.length >= 6 && b.toString('latin1', 0, 3) === 'GIF') return 'gif';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 12 && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 4 && (b.toString('latin1', 0, 2) === 'II' || b.toString('latin1', 0, 2) === 'MM')) return 'tiff';
  return '';
}

function pngChunks(b) {
  const out = [];
  for (let p = 8; p + 8 <= b.length && out.length < 64;) {
    const len = b.readUInt32BE(p);
    out.push({ p, len, type: b.toString('latin1', p + 4, p + 8) });
    if (len > b.length) break;
    p += 12 + len;
  }
  return out;
}
function jpegSegments(b) {
  const out = [];
  for (let p = 2; p + 4 <= b.length && out.length < 64;) {
    if (b[p] !== 0xff) break;
    const m = b[p + 1];
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7)) { p += 2; continue; }
    const len = b.readUInt16BE(p + 2);
    out.push({ p, m, len });
    if (m === 0xda) break;
    p += 2 + len;
  }
  return out;
}

function editHeader(src, r) {
  const b = Buffer.from(src);
  const f = formatOf(b);
  const v = interesting(r);
  switch (f) {
    case 'png': {
      const chunks = pngChunks(b);
      const k = r.int(4);
      if (k === 0) write(b, 16 + 4 * r.int(2), 4, v, false); // IHDR width / height
      else if (k === 1) write(b, 24 + r.int(5), 1, v, false); // bit depth, colour type, compression, filter, interlace
      else if (chunks.length) {
        const c = r.pick(chunks);
        if (k === 2) write(b, c.p, 4, v, false); // a chunk length
        else write(b, c.p + 8 + r.int(Math.max(1, c.len)), 1, v, false); // a byte inside a chunk (CRC now wrong)
      }
      return b;
    }
    case 'jpeg': {
      const segs = jpegSegments(b);
      if (!segs.length) return b;
      const s = r.pick(segs);
      const k = r.int(3);
      if (k === 0) write(b, s.p + 2, 2, v, false); // segment length
      else if (k === 1 && s.m >= 0xc0 && s.m <= 0xcf && s.m !== 0xc4) write(b, s.p + 5 + 2 * r.int(2), 2, v, false); // SOF height/width
      else write(b, s.p + 4 + r.int(Math.max(1, s.len - 2)), 1, v, false); // a field inside the segment
      return b;
    }
    case 'gif': {
      const k = r.int(4);
      if (k === 0) write(b, 6 + 2 * r.int(2), 2, v, true); // logical screen size
      else if (k === 1) write(b, 10 + r.int(3), 1, v, true); // flags, background, aspect
      else {
        const d = b.indexOf(0x2c, 13); // first image descriptor (approximately)
        if (d > 0) {
          if (k === 2) write(b, d + 1 + 2 * r.int(4), 2, v, true); // left, top, width, height
          else write(b, d + 9 + r.int(2), 1, v, true); // flags, or (no local table) the LZW minimum code size
        }
      }
      return b;
    }
    case 'bmp': {
      const fields = [[2, 4], [10, 4], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2], [30, 4], [34, 4], [46, 4]];
      const [o, n] = r.pick(fields);
      write(b, o, n, v, true);
      return b;
    }
    case 'tiff': {
      if (b.length < 8) return b; // no IFD offset to edit (a truncation came first)
      const le = b[0] === 0x49;
      const ifd = le ? b.readUInt32LE(4) : b.readUInt32BE(4);
      if (r() < 0.15 || ifd + 2 > b.length) { write(b, 4, 4, v, le); return b; }
      const count = le ? b.readUInt16LE(ifd) : b.readUInt16BE(ifd);
      if (r() < 0.1) { write(b, ifd, 2, v, le); return b; }
      const e = ifd + 2 + 12 * r.int(Math.max(1, count));
      const k = r.int(4);
      if (k === 0) write(b, e, 2, r.pick([256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325, 338]), le);
      else if (k === 1) write(b, e + 2, 2, r.int(20), le); // type
      else if (k === 2) write(b, e + 4, 4, v, le); // count
      else write(b, e + 8, r() < 0.5 ? 2 : 4, v, le); // value / offset
      return b;
    }
    case 'webp': {
      const k = r.int(3);
      if (k === 0) write(b, 4, 4, v, true); // RIFF size
      else if (k === 1) write(b, 16, 4, v, true); // first chunk size
      else write(b, 20 + r.int(10), 1, v, true); // VP8/VP8L/VP8X header bytes (sizes, flags)
      return b;
    }
    default:
      return b;
  }
}

// ---- Generic mutators -----------------------------------------------------------------------------------------------

const MUTATORS = {
  bitflip(b, r) {
    const out = Buffer.from(b);
    for (let n = 1 + r.int(8); n > 0 && out.length; n--) out[r.int(out.length)] ^= 1 << r.int(8);
    return out;
  },
  byteset(b, r) {
    const out = Buffer.from(b);
    for (let n = 1 + r.int(8); n > 0 && out.length; n--) out[r.int(out.length)] = r.pick([0, 1, 0x7f, 0x80, 0xff, r.int(256)]);
    return out;
  },
  truncate(b, r) {
    // Short prefixes (headers) as often as long ones.
    const cut = r() < 0.5 ? r.int(Math.min(b.length, 128)) : r.int(b.length);
    return b.subarray(0, cut);
  },
  delete(b, r) {
    if (b.length < 2) return b;
    const at = r.int(b.length), len = 1 + r.int(Math.min(256, b.length - at));
    return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
  },
  duplicate(b, r) {
    if (!b.length) return b;
    const at = r.int(b.length), len = 1 + r.int(Math.min(512, b.length - at)), to = r.int(b.length);
    return Buffer.concat([b.subarray(0, to), b.subarray(at, at + len), b.subarray(to)]);
  },
  insert(b, r) {
    const at = r.int(b.length + 1), junk = Buffer.alloc(1 + r.int(64));
    for (let i = 0; i < junk.length; i++) junk[i] = r.int(256);
    return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
  },
  cross(b, r, fixtures) {
    // Head of this input, tail of another fixture (same format or not).
    const other = r.pick(fixtures).bytes;
    return Buffer.concat([b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length))]);
  },
  header: editHeader,
};
const WEIGHTS = [['header', 5], ['bitflip', 3], ['byteset', 2], ['truncate', 2], ['delete', 1], ['duplicate', 1],
  ['insert', 1], ['cross', 1]];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [, w]) => s + w, 0);
function pickMutator(r) {
  let x = r() * TOTAL_WEIGHT;
  for (const [name, w] of WEIGHTS) if ((x -= w) < 0) return name;
  return 'bitflip';
}

let fixtureCache;
function loadFixtures() {
  if (!fixtureCache) fixtureCache = FIXTURES.map((name) => ({ name, bytes: fs.readFileSync(path.join(IMAGES, name)) }));
  return fixtureCache;
}

// maxPixels bounds the work one valid input can ask for (a mutated header easily claims a legitimately huge image,
// which is correctly decoded and tiled, only slowly): with it, a call that takes long is a bug, not a big page.
const MAX_PIXELS = 4000000;

function randomOptions(r) {
  const o = { maxPixels: MAX_PIXELS };
  if (r() < 0.8) return o;
  if (r() < 0.5) o.tiling = r.pick(['auto', 'off', { tileSize: 64 + 32 * r.int(8), overlap: 2 * r.int(16) }]);
  if (r() < 0.4) o.canvasSize = 32 + r.int(1000);
  if (r() < 0.3) o.magRatio = 0.05 + r() * 2.5;
  if (r() < 0.2) o.heatmaps = true;
  if (r() < 0.3) o.polygons = true;
  return o;
}

// ---- Hostile-caller classes (issue 12) --------------------------------------------------------------------------

/** A progressive grey JPEG whose scans carry no data: each still costs the decoder one pass over the image. */
function jpegScanBomb(w, h, scans) {
  const parts = [Buffer.from([0xff, 0xd8])];
  const dqt = Buffer.alloc(69, 1);
  dqt[0] = 0xff; dqt[1] = 0xdb; dqt.writeUInt16BE(67, 2); dqt[4] = 0;
  parts.push(dqt, Buffer.from([0xff, 0xc2, 0x00, 0x0b, 8, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0]));
  const counts = Buffer.alloc(16); counts[0] = 1;
  parts.push(Buffer.concat([Buffer.from([0xff, 0xc4, 0x00, 20, 0x00]), counts, Buffer.from([0])]));
  const sos = (ah, al) => Buffer.from([0xff, 0xda, 0x00, 0x08, 1, 1, 0x00, 0, 0, (ah << 4) | al]);
  parts.push(sos(0, 13), Buffer.from([0x00]));
  for (let k = 0; k < scans; k++) parts.push(sos(13 - Math.min(k, 12), 12 - Math.min(k, 12)), Buffer.from([0x00]));
  parts.push(Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}
/** An animated GIF: a w x h screen and `frames` frames of fw x fh (LZW data for one pixel each: truncated frames). */
function animatedGif(w, h, frames, fw = 1, fh = 1) {
  const head = Buffer.alloc(19);
  head.write('GIF89a', 0, 'latin1'); head.writeUInt16LE(w, 6); head.writeUInt16LE(h, 8); head[10] = 0x80; head.fill(255, 16, 19);
  const frame = () => {
    const d = Buffer.alloc(10); d[0] = 0x2c; d.writeUInt16LE(fw, 5); d.writeUInt16LE(fh, 7);
    return Buffer.concat([d, Buffer.from([2, 2, 0x4c, 0x01, 0])]);
  };
  return Buffer.concat([head, ...Array.from({ length: frames }, frame), Buffer.from([0x3b])]);
}

/** Decoder work bombs: every one must settle quickly (refused from its markers, or only its first image decoded). */
function workBomb(r) {
  const k = r.int(4);
  if (k === 0) {
    // Over the limit at any size (refused from the markers); under it only small (a 36 Mpx image is legitimately slow).
    const scans = r.pick([50, 99, 100, 101, 150, 1000, 5000]);
    const side = scans <= 100 ? r.pick([64, 256, 512]) : r.pick([64, 512, 2000, 6000]);
    return { kind: `bomb:jpeg-scans:${side}:${scans}`, input: jpegScanBomb(side, side, scans) };
  }
  if (k === 1) {
    const frames = r.pick([2, 100, 5000, 30000]);
    return { kind: `bomb:gif-frames:${frames}`, input: animatedGif(1 + r.int(300), 1 + r.int(300), frames) };
  }
  if (k === 2) {
    // A bomb with its bytes mutated: the scan counter must not be fooled into a full decode of thousands of scans.
    const bytes = MUTATORS.bitflip(jpegScanBomb(r.pick([512, 2000]), 512, 300 + r.int(3000)), r);
    return { kind: 'bomb:jpeg-scans-mutated', input: bytes };
  }
  const fixture = r.pick(loadFixtures().filter((f) => /progressive|2pages/.test(f.name)));
  return { kind: `bomb:${fixture.name}`, input: fixture.bytes };
}

/**
 * Look-alikes and hostile objects, described as plain data (materialised by `materialize` when the case runs, so the
 * generator stays comparable): each must be refused with a TypeError/RangeError, never reach a scheduler slot.
 */
const LOOK_ALIKES = ['proxy-u8', 'proto-u8', 'proto-ab', 'proxy-raw-data', 'proto-raw-data', 'throwing-getter',
  'throwing-proxy', 'float32', 'dataview', 'array', 'null-proto-raw', 'raw-data-proxy-length', 'string-nul'];

/** Memory taken away while the call runs: the native layer must have copied it at the call. */
const DETACH = ['transfer-after', 'resize-after', 'transfer-before', 'resize-before'];

/** Models: non-float32 outputs, non-models, truncated models; Detector.create must refuse them with a code. */
const MODEL_CASES = ['float16-scores.onnx', 'uint8-scores.onnx', 'float16-refiner.onnx', 'float32-outputs.onnx',
  'wrong-rank.onnx', 'wrong-output.onnx', 'truncated', 'random', 'empty'];

/**
 * The i-th fuzz case of a seed: { id, kind, input, options } (+ `hostile`, `after`, `model` for the issue-12 classes).
 * 58 % mutated fixture images, 22 % raw pixel buffers, 8 % decoder work bombs, 6 % look-alikes, 4 % detached or
 * resized buffers, 2 % models.
 */
function generate(seed, i) {
  const r = rng((seed * 0x9e3779b1) ^ (i * 0x85ebca6b) ^ 0x1234567);
  const fixtures = loadFixtures();
  const options = randomOptions(r);
  const dice = r();
  if (dice < 0.58) {
    const base = r.pick(fixtures);
    let bytes = base.bytes;
    const ops = [];
    for (let n = 1 + (r() < 0.3 ? r.int(4) : 0); n > 0; n--) {
      const m = pickMutator(r);
      bytes = MUTATORS[m](bytes, r, fixtures);
      ops.push(m);
    }
    return { id: i, kind: `${base.name}:${ops.join('+')}`, input: bytes, options };
  }
  if (dice < 0.80) return { id: i, ...rawCase(r), options };
  // Bombs are judged by their decode time: a small canvas keeps the detection after a (legitimate) decode short.
  if (dice < 0.88) return { id: i, ...workBomb(r), options: { maxPixels: 40000000, canvasSize: 256, tiling: 'off' } };
  if (dice < 0.94) {
    const hostile = r.pick(LOOK_ALIKES);
    return { id: i, kind: `lookalike:${hostile}`, input: null, hostile, options };
  }
  if (dice < 0.98) {
    const after = r.pick(DETACH);
    const asEncoded = r() < 0.5;
    const c = asEncoded ? { kind: 'encoded', input: r.pick(fixtures).bytes } : rawCase(r);
    return { id: i, kind: `detach:${after}:${c.kind}`, input: c.input, after, options };
  }
  const model = r.pick(MODEL_CASES);
  return { id: i, kind: `model:${model}`, input: null, model, modelSeed: r.int(1 << 30), options };
}

/** Raw pixels: mostly small, some medium, some extreme strips; now and then an inconsistent description. */
function rawCase(r) {
  const shape = r();
  let w, h;
  if (shape < 0.6) { w = 1 + r.int(64); h = 1 + r.int(64); }
  else if (shape < 0.9) { w = 1 + r.int(700); h = 1 + r.int(700); }
  else if (r() < 0.5) { w = 1 + r.int(3); h = 1 + r.int(6000); }
  else { w = 1 + r.int(6000); h = 1 + r.int(3); }
  const channels = r.pick([1, 3, 4]);
  let size = w * h * channels;
  const bad = r() < 0.1;
  if (bad) size = r.int(size); // too short: must be refused
  const data = r() < 0.3 ? new Uint8ClampedArray(size) : new Uint8Array(size);
  const pattern = r.int(3);
  for (let k = 0; k < size; k++) data[k] = pattern === 0 ? r.int(256) : pattern === 1 ? ((k >> 4) & 1) * 255 : 255;
  const input = { data, width: w, height: h, channels };
  if (bad && r() < 0.3) input.channels = r.pick([0, 2, 5, 3.5, -1, NaN]);
  return { kind: `raw:${w}x${h}x${channels}${bad ? ':bad' : ''}`, input };
}

/** The object a look-alike case passes to detect(). */
function lookAlike(name) {
  const u8 = new Uint8Array(300).fill(7);
  switch (name) {
    case 'proxy-u8': return new Proxy(u8, {});
    case 'proto-u8': return Object.setPrototypeOf({ length: 300, byteLength: 300 }, Uint8Array.prototype);
    case 'proto-ab': return Object.setPrototypeOf({ byteLength: 300 }, ArrayBuffer.prototype);
    case 'proxy-raw-data': return { data: new Proxy(u8, {}), width: 10, height: 10, channels: 3 };
    case 'proto-raw-data': return { data: Object.setPrototypeOf({ length: 300 }, Uint8Array.prototype), width: 10, height: 10, channels: 3 };
    case 'throwing-getter': return Object.defineProperty({ width: 10, height: 10, channels: 3 }, 'data', { enumerable: true, get() { throw new TypeError('hostile getter'); } });
    case 'throwing-proxy': return new Proxy({}, { get() { throw new TypeError('hostile proxy'); }, getPrototypeOf() { throw new TypeError('hostile proxy'); } });
    case 'float32': return new Float32Array(300);
    case 'dataview': return new DataView(u8.buffer);
    case 'array': return Array.from(u8);
    case 'null-proto-raw': return Object.assign(Object.create(null), { data: new Proxy(u8, {}), width: 10, height: 10, channels: 3 });
    case 'raw-data-proxy-length': return { data: new Proxy(u8, { get: (t, k) => (k === 'length' ? 1e9 : Reflect.get(t, k)) }), width: 10, height: 10, channels: 3 };
    case 'string-nul': return path.join(IMAGES, 'hello.png') + '\0.txt';
    default: throw new Error(`unknown look-alike ${name}`);
  }
}

/** Model bytes or path for a model case. */
function modelOf(c) {
  if (c.model.endsWith('.onnx')) return path.join(MODELS, c.model);
  if (c.model === 'empty') return new Uint8Array(0);
  const r = rng(c.modelSeed);
  if (c.model === 'random') { const b = new Uint8Array(64 + r.int(5000)); for (let k = 0; k < b.length; k++) b[k] = r.int(256); return b; }
  const tiny = fs.readFileSync(path.join(MODELS, 'craft-tiny.onnx'));
  return tiny.subarray(0, r.int(tiny.length));
}

/** A copy of `input` whose memory can be detached (transferred) or resized, for the detach cases. */
function detachable(input, resizable) {
  const src = input.data ?? input;
  const ab = resizable ? new ArrayBuffer(src.byteLength, { maxByteLength: Math.max(1, src.byteLength) }) : new ArrayBuffer(src.byteLength);
  const data = new Uint8Array(ab);
  data.set(src);
  return { buffer: ab, value: input.data ? { ...input, data } : data };
}

/** Runs one case's call: detect(), or Detector.create() for a model case. Resolves to an outcome. */
async function runCase(detector, c) {
  if (c.model) {
    const Detector = detector.constructor;
    let d;
    try {
      d = await Detector.create({ model: modelOf(c), threads: 1 });
    } catch (e) {
      return classify(e);
    }
    try {
      // A model that loads must give finite maps.
      const r = await d.detect(path.join(IMAGES, 'hello.png'), { heatmaps: true });
      for (const v of r.heatmaps.region) if (!Number.isFinite(v)) return 'UNEXPECTED:non-finite heatmap';
      return 'ok';
    } catch (e) {
      return classify(e);
    } finally {
      await d.dispose();
    }
  }
  if (c.hostile) {
    try {
      return await detector.detect(lookAlike(c.hostile), c.options).then(() => 'UNEXPECTED:look-alike accepted', classify);
    } catch (e) {
      return classify(e);
    }
  }
  if (c.after) {
    const { buffer, value } = detachable(c.input, c.after.startsWith('resize'));
    const takeAway = () => (c.after.startsWith('resize') ? buffer.resize(0) : structuredClone(buffer, { transfer: [buffer] }));
    if (c.after.endsWith('before')) takeAway();
    const call = detector.detect(value, c.options).then(() => 'ok', classify);
    if (c.after.endsWith('after')) { takeAway(); if (global.gc) global.gc(); }
    return call;
  }
  return detector.detect(c.input, c.options).then(() => 'ok', classify);
}

/** Classifies how a call ended: 'ok', 'code:ERR_…', 'arg:TypeError' / 'arg:RangeError', or 'UNEXPECTED:…'. */
function classify(err) {
  if (err === undefined) return 'ok';
  if (err && typeof err.code === 'string' && /^ERR_CRAFT_/.test(err.code) && err.code !== 'ERR_CRAFT_INTERNAL') return `code:${err.code}`;
  if (err instanceof TypeError || err instanceof RangeError) return `arg:${err.name}`;
  return `UNEXPECTED:${err && err.code ? err.code : ''}:${String(err && err.message).slice(0, 120)}`;
}

/**
 * Runs cases [from, to) through `detector` one at a time. Resolves with { counts, unexpected, slowest, hangs }.
 * A call that does not settle within timeoutMs is a hang (it is reported, and the run stops: the native call is
 * still running and would skew whatever follows).
 */
async function run({ detector, seed = 1, from = 0, to = 100, timeoutMs = 20000, onCase, onResult }) {
  const counts = {};
  const unexpected = [];
  let slowest = { ms: 0 };
  for (let i = from; i < to; i++) {
    const c = generate(seed, i);
    if (onCase) onCase(c);
    const t0 = performance.now();
    let timer;
    const outcome = await Promise.race([
      runCase(detector, c),
      new Promise((resolve) => { timer = setTimeout(() => resolve('HANG'), timeoutMs); }),
    ]);
    clearTimeout(timer);
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, id: i, kind: c.kind };
    const key = outcome.startsWith('UNEXPECTED') ? 'UNEXPECTED' : outcome;
    counts[key] = (counts[key] || 0) + 1;
    if (outcome.startsWith('UNEXPECTED') || outcome === 'HANG') unexpected.push({ id: i, kind: c.kind, outcome });
    if (onResult) onResult(c, outcome, ms);
    if (outcome === 'HANG') return { counts, unexpected, slowest, hang: i };
  }
  return { counts, unexpected, slowest };
}

module.exports = { generate, run, classify, rng, MUTATORS, FIXTURES, jpegScanBomb, animatedGif };

// ---- CLI: parent (supervisor) and child (runner) ----------------------------------------------------------------------

function describeInput(c) {
  if (Buffer.isBuffer(c.input) && !c.after) return c.input;
  if (c.input === null) return Buffer.from(JSON.stringify({ kind: c.kind, options: c.options }));
  const { data, ...rest } = Buffer.isBuffer(c.input) ? { data: c.input } : c.input;
  return Buffer.from(JSON.stringify({ ...rest, kind: c.kind, bytes: data.length, options: c.options }));
}

async function child(opts) {
  const { Detector } = require('../dist');
  const detector = await Detector.create({ model: opts.model, threads: 1 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const result = await run({
    detector, seed: opts.seed, from: opts.from, to: opts.to, timeoutMs: opts.timeout,
    onCase: (c) => process.send({ type: 'case', id: c.id }),
    onResult: (c, outcome, ms) => process.send({ type: 'result', id: c.id, kind: c.kind, outcome, ms }),
  });
  clearInterval(sampler);
  process.send({ type: 'done', rss: process.memoryUsage().rss, peak, hang: result.hang });
  if (result.hang !== undefined) process.exit(3); // the hung native call can't be stopped: leave
  await detector.dispose();
  process.exit(0);
}

async function parent(opts) {
  const { fork } = require('node:child_process');
  const counts = {};
  const findings = [];
  let slowest = { ms: 0 };
  let next = opts.from, peakRss = 0, restarts = 0;
  const t0 = Date.now();
  if (opts.out) fs.mkdirSync(opts.out, { recursive: true });
  const save = (id, what, detail) => {
    const c = generate(opts.seed, id);
    findings.push({ id, kind: c.kind, what, detail });
    if (opts.out) fs.writeFileSync(path.join(opts.out, `${what}-seed${opts.seed}-${id}.bin`), describeInput(c));
  };
  while (next < opts.to) {
    const from = next;
    const proc = fork(__filename, ['--child', JSON.stringify({ ...opts, from })], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--expose-gc'] });
    let current = from, watchdog, lastReport = Date.now();
    proc.stderr.on('data', () => {}); // libjpeg/libtiff warnings
    const arm = () => { clearTimeout(watchdog); watchdog = setTimeout(() => proc.kill('SIGKILL'), opts.timeout + 5000); };
    arm();
    const exit = await new Promise((resolve) => {
      proc.on('message', (m) => {
        arm();
        if (m.type === 'case') current = m.id;
        else if (m.type === 'result') {
          const key = m.outcome.startsWith('UNEXPECTED') ? 'UNEXPECTED' : m.outcome;
          counts[key] = (counts[key] || 0) + 1;
          if (m.ms > slowest.ms) slowest = { ms: m.ms, id: m.id, kind: m.kind };
          if (key === 'UNEXPECTED') save(m.id, 'unexpected', m.outcome);
          next = m.id + 1;
          if (!opts.json && Date.now() - lastReport > 10000) {
            lastReport = Date.now();
            process.stderr.write(`  ${next - opts.from}/${opts.to - opts.from} inputs, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
          }
        } else if (m.type === 'done') {
          peakRss = Math.max(peakRss, m.peak);
          if (m.hang !== undefined) { save(m.hang, 'hang'); next = m.hang + 1; } // counted with its result
        }
      });
      proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    clearTimeout(watchdog);
    if (exit.code !== 0 && exit.code !== 3) {
      // Crashed (signal / abort) or killed by the watchdog: the case in flight is the culprit.
      const what = exit.signal === 'SIGKILL' ? 'hang' : 'crash';
      counts[what.toUpperCase()] = (counts[what.toUpperCase()] || 0) + 1;
      save(current, `${what}-${exit.signal || exit.code}`);
      next = current + 1;
    }
    if (next < opts.to) restarts++;
  }
  const total = Object.values(counts).reduce((s, n) => s + n, 0);
  const summary = {
    seed: opts.seed, inputs: total, seconds: Math.round((Date.now() - t0) / 1000), outcomes: counts,
    crashes: counts.CRASH || 0, hangs: counts.HANG || 0, unexpected: counts.UNEXPECTED || 0,
    slowestMs: Math.round(slowest.ms), slowest, childPeakRssMB: Math.round(peakRss / 1e6), restarts, findings,
  };
  if (opts.json) console.log(JSON.stringify(summary));
  else {
    console.log(`fuzz: ${total} inputs (seed ${opts.seed}) in ${summary.seconds} s: ${summary.crashes} crashes, ${summary.hangs} hangs, ${summary.unexpected} unexpected errors`);
    for (const [k, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  ${k}`);
    console.log(`  slowest call ${summary.slowestMs} ms (#${slowest.id} ${slowest.kind}); child peak RSS ${summary.childPeakRssMB} MB`);
    for (const f of findings) console.log(`  finding #${f.id} ${f.kind}: ${f.what}${f.detail ? ` ${f.detail}` : ''}`);
  }
  process.exit(summary.crashes + summary.hangs + summary.unexpected > 0 ? 1 : 0);
}

function dump(opts) {
  fs.mkdirSync(opts.dump, { recursive: true });
  let n = 0;
  for (let i = opts.from; i < opts.to; i++) {
    const c = generate(opts.seed, i);
    if (!Buffer.isBuffer(c.input) || c.after) continue;
    fs.writeFileSync(path.join(opts.dump, `${String(i).padStart(6, '0')}.bin`), c.input);
    n++;
  }
  console.log(`wrote ${n} encoded inputs to ${opts.dump}`);
}

if (require.main === module) {
  if (process.argv[2] === '--child') {
    child(JSON.parse(process.argv[3])).catch((e) => { console.error(e); process.exit(2); });
  } else {
    const { parseArgs } = require('node:util');
    const { values } = parseArgs({
      options: {
        count: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' },
        from: { type: 'string', default: '0' }, timeout: { type: 'string', default: '20000' },
        model: { type: 'string' }, out: { type: 'string' }, dump: { type: 'string' }, json: { type: 'boolean' },
      },
    });
    const from = Number(values.from);
    const opts = {
      seed: Number(values.seed), from, to: from + Number(values.count), timeout: Number(values.timeout),
      model: values.model ?? path.join(ROOT, 'test', 'models', 'craft-tiny.onnx'), out: values.out, json: values.json,
      dump: values.dump,
    };
    if (opts.dump) dump(opts);
    else parent(opts);
  }
}
