// Hostile input (issue 6): every bad input is rejected with a clear error (TypeError/RangeError naming the argument,
// or an Error with a stable `code`), nothing crashes, nothing hangs, the process and the detector keep working.
// Basic cases live in detect.test.ts (empty buffer, text bytes, half-truncated PNG/JPEG/GIF, 100000x100000 PNG,
// maxPixels, short raw data, unknown option, missing/non-ONNX/truncated/wrong-rank models, dispose with two in flight);
// this suite covers every image format's header, systematic truncation, random and prefixed garbage, raw-input edge
// sizes, non-finite options, the native binding called directly, and lifecycle races.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, postprocess } from '../lib';
import { binding, resolveOrtLibrary } from '../lib/binding';
import { Scheduler } from '../lib/scheduler';
import { encodeBmp, IMAGES, rejects, ROOT, syntheticPage, TINY_MODEL } from './helpers';

const img = (name: string) => path.join(IMAGES, name);
// Decoder work bombs, as the fuzzer makes them: a progressive JPEG of w x h whose scans carry (almost) no data (each
// still costs the decoder a full pass), an animated GIF of w x h with `frames` 1x1 frames.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { jpegScanBomb, animatedGif } = require('../bench/fuzz.js') as {
  jpegScanBomb(w: number, h: number, scans: number): Buffer;
  animatedGif(w: number, h: number, frames: number): Buffer;
};
const DECODE_CODES = ['ERR_CRAFT_DECODE', 'ERR_CRAFT_INPUT_TOO_LARGE'];

/** A deterministic PRNG (xorshift32). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}
function randomBytes(n: number, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** Runs `fn`, which must reject with a code among `codes`; returns the code. Also fails on a resolve. */
async function rejectsWithCode(fn: () => Promise<unknown>, codes: string[], what: string): Promise<string> {
  try {
    await fn();
  } catch (err) {
    const e = err as Error & { code?: string };
    assert.ok(e instanceof Error, `${what}: rejects with an Error`);
    assert.ok(e.code !== undefined && codes.includes(e.code), `${what}: code ${e.code} (${e.message}) in ${codes}`);
    assert.ok(e.message.length > 10, `${what}: a message`);
    return e.code!;
  }
  return assert.unreachable(`${what}: expected a rejection`) as never;
}

// ---- Crafted headers: valid signatures with absurd sizes, and nothing else ----------------------------------------

function pngHeader(w: number, h: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8); b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16); b.writeUInt32BE(h, 20); b[24] = 8; b[25] = 2;
  return b;
}
/** SOI, APP0, optional garbage, SOFn with the size, a tiny body, EOI (the EOI keeps the truncation check quiet). */
function jpegHeader(w: number, h: number, opts: { sof?: number; garbage?: number } = {}): Buffer {
  const parts = [Buffer.from([0xff, 0xd8]), Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0])];
  if (opts.garbage) parts.push(Buffer.alloc(opts.garbage, 0x42)); // "extraneous bytes before marker": libjpeg skips them
  const sof = Buffer.from([0xff, opts.sof ?? 0xc0, 0x00, 0x11, 8, h >> 8, h & 255, w >> 8, w & 255, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  parts.push(sof, Buffer.alloc(64, 0), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}
function gifHeader(sw: number, sh: number, frame?: { w: number; h: number }): Buffer {
  const b = Buffer.alloc(13 + 6); // header, screen descriptor, 2-colour global table
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(sw, 6); b.writeUInt16LE(sh, 8); b[10] = 0x80; // global colour table, 2 entries
  b.fill(255, 16, 19);
  if (!frame) return Buffer.concat([b, Buffer.from([0x3b])]);
  const desc = Buffer.alloc(10);
  desc[0] = 0x2c; desc.writeUInt16LE(frame.w, 5); desc.writeUInt16LE(frame.h, 7);
  return Buffer.concat([b, desc, Buffer.from([2, 2, 0x4c, 0x01, 0, 0x3b])]);
}
function bmpHeader(w: number, h: number): Buffer {
  const b = Buffer.alloc(54 + 16);
  b.write('BM', 0, 'latin1'); b.writeUInt32LE(b.length, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28);
  return b;
}
/** An OS/2 BMP (BITMAPCOREHEADER: 16-bit sizes) with real 24-bit pixels. */
function os2Bmp(w: number, h: number): Buffer {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(26 + stride * h, 0x80);
  b.write('BM', 0, 'latin1'); b.writeUInt32LE(b.length, 2); b.writeUInt32LE(0, 6); b.writeUInt32LE(26, 10);
  b.writeUInt32LE(12, 14); b.writeUInt16LE(w, 18); b.writeUInt16LE(h, 20); b.writeUInt16LE(1, 22); b.writeUInt16LE(24, 24);
  return b;
}
function webpHeader(kind: 'VP8 ' | 'VP8L' | 'VP8X', w: number, h: number): Buffer {
  const b = Buffer.alloc(64);
  b.write('RIFF', 0, 'latin1'); b.writeUInt32LE(b.length - 8, 4); b.write('WEBP', 8, 'latin1'); b.write(kind, 12, 'latin1');
  b.writeUInt32LE(b.length - 20, 16);
  if (kind === 'VP8 ') {
    b[23] = 0x9d; b[24] = 0x01; b[25] = 0x2a; b.writeUInt16LE(w & 0x3fff, 26); b.writeUInt16LE(h & 0x3fff, 28);
  } else if (kind === 'VP8L') {
    b[20] = 0x2f; b.writeUInt32LE(((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14), 21);
  } else {
    b.writeUIntLE(w - 1, 24, 3); b.writeUIntLE(h - 1, 27, 3);
  }
  return b;
}
/** A little-endian TIFF whose first IFD holds the given (tag, type, value) entries. LONG8 values go after the IFD. */
function tiffHeader(entries: [number, number, number][]): Buffer {
  const ifd = 8, size = ifd + 2 + entries.length * 12 + 4;
  const b = Buffer.alloc(size + entries.length * 8 + 64);
  b.write('II', 0, 'latin1'); b.writeUInt16LE(42, 2); b.writeUInt32LE(ifd, 4); b.writeUInt16LE(entries.length, ifd);
  entries.forEach(([tag, type, value], k) => {
    const e = ifd + 2 + k * 12;
    b.writeUInt16LE(tag, e); b.writeUInt16LE(type, e + 2); b.writeUInt32LE(1, e + 4);
    if (type === 3) b.writeUInt16LE(value, e + 8);
    else if (type === 16) { const off = size + k * 8; b.writeBigUInt64LE(BigInt(value), off); b.writeUInt32LE(off, e + 8); }
    else b.writeUInt32LE(value, e + 8);
  });
  return b;
}

const Hostile = suite<{ detector: Detector }>('hostile input');

Hostile.before(async (ctx) => {
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
});
Hostile.after(async (ctx) => {
  await ctx.detector.dispose();
});

Hostile('absurd sizes in every format\'s header are refused by maxPixels before any pixel is allocated', async ({ detector }) => {
  const bombs: [string, Buffer][] = [
    ['png 100000x100000', pngHeader(100000, 100000)],
    ['png 2^31x2^31', pngHeader(0x7fffffff, 0x7fffffff)],
    ['jpeg baseline 65535x65535', jpegHeader(65535, 65535)],
    ['jpeg progressive 65535x65535', jpegHeader(65535, 65535, { sof: 0xc2 })],
    ['jpeg with garbage before its SOF', jpegHeader(60000, 60000, { garbage: 7 })],
    ['gif screen 65535x65535', gifHeader(65535, 65535)],
    ['gif frame 40000x40000 on a 10x10 screen', gifHeader(10, 10, { w: 40000, h: 40000 })],
    ['bmp 100000x100000', bmpHeader(100000, 100000)],
    ['bmp top-down 100000x-100000', bmpHeader(100000, -100000)],
    ['bmp 2^31-1 x 2', bmpHeader(0x7fffffff, 2)],
    ['webp VP8L 16384x16384', webpHeader('VP8L', 16384, 16384)],
    ['webp VP8X 100000x100000', webpHeader('VP8X', 100000, 100000)],
    ['tiff LONG 100000x100000', tiffHeader([[256, 4, 100000], [257, 4, 100000]])],
    ['tiff SHORT 65535x65535', tiffHeader([[256, 3, 65535], [257, 3, 65535]])],
    ['tiff LONG8 100000x100000', tiffHeader([[256, 16, 100000], [257, 16, 100000]])],
    ['tiff repeated tags, small then huge', tiffHeader([[256, 3, 10], [256, 4, 100000], [257, 3, 10], [257, 4, 100000]])],
  ];
  const rss0 = process.memoryUsage().rss;
  for (const [what, bytes] of bombs) {
    const t0 = Date.now();
    await rejects(() => detector.detect(bytes), { code: 'ERR_CRAFT_INPUT_TOO_LARGE', message: /exceeds pixel limit/ });
    assert.ok(Date.now() - t0 < 1000, `${what}: refused at once`);
  }
  // No bomb got as far as allocating its pixels (the smallest is 268 Mpx = 805 MB of RGB).
  assert.ok(process.memoryUsage().rss - rss0 < 100e6, `RSS grew by ${(process.memoryUsage().rss - rss0) / 1e6} MB`);
  // A lower maxPixels applies to each format the same way.
  const small = [pngHeader(100, 100), jpegHeader(100, 100), gifHeader(100, 100), bmpHeader(100, 100),
    webpHeader('VP8 ', 100, 100), webpHeader('VP8L', 100, 100), webpHeader('VP8X', 100, 100),
    tiffHeader([[256, 4, 100], [257, 4, 100]])];
  for (const bytes of small) {
    await rejects(() => detector.detect(bytes, { maxPixels: 9999 }), { code: 'ERR_CRAFT_INPUT_TOO_LARGE', message: /100x100 > maxPixels 9999/ });
  }
});

Hostile('headers whose size cannot be read are corrupt, not passed to a decoder unchecked', async ({ detector }) => {
  const cases: [string, Buffer][] = [
    ['jpeg without a frame header', Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 1, 0, 0, 0x3f, 0, 0xff, 0xd9])],
    ['jpeg with a zero height (DNL)', jpegHeader(100, 0)],
    ['png 0x0', pngHeader(0, 0)],
    ['gif 0x0', gifHeader(0, 0)],
    ['tiff without sizes', tiffHeader([[259, 3, 1]])],
    ['tiff with a RATIONAL width', tiffHeader([[256, 5, 100], [257, 4, 100]])],
    ['webp of an unknown chunk', Buffer.concat([Buffer.from('RIFF\x20\x00\x00\x00WEBPJUNK', 'latin1'), Buffer.alloc(24)])],
    ['tiff with its IFD beyond the end', (() => { const b = tiffHeader([[256, 4, 10]]); b.writeUInt32LE(1 << 30, 4); return b; })()],
    // (0xFFFFFFFF + 2 wrapped around in the header reader's 32-bit bounds check: a read 4 GB past the buffer, a crash.)
    ['tiff with its IFD at 0xFFFFFFFF', (() => { const b = tiffHeader([[256, 4, 10]]); b.writeUInt32LE(0xffffffff, 4); return b; })()],
    ['big-endian tiff with its IFD at 0xFFFFFFFE', (() => { const b = Buffer.from('MM\x00*\xff\xff\xff\xfe\x00\x00', 'latin1'); return b; })()],
  ];
  for (const [what, bytes] of cases) await rejectsWithCode(() => detector.detect(bytes), ['ERR_CRAFT_DECODE'], what);
  // An OS/2 bitmap's 16-bit header is read as such (a 4x2 image is not "65540 x 1572865").
  const os2 = await detector.detect(os2Bmp(4, 2));
  assert.equal([os2.width, os2.height], [4, 2]);
});

Hostile('random bytes, alone or behind each format\'s signature, are refused with a code', async ({ detector }) => {
  const signatures = [
    Buffer.alloc(0),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from([0xff, 0xd8, 0xff]),
    Buffer.from('GIF89a', 'latin1'),
    Buffer.from('BM', 'latin1'),
    Buffer.from('RIFF\x00\x01\x00\x00WEBPVP8 ', 'latin1'),
    Buffer.from('II*\x00', 'latin1'),
    Buffer.from('MM\x00*', 'latin1'),
  ];
  let n = 0;
  for (const sig of signatures) {
    for (const size of [1, 7, 64, 1000, 20000]) {
      const bytes = Buffer.concat([sig, randomBytes(size, ++n)]);
      await rejectsWithCode(() => detector.detect(bytes), DECODE_CODES, `${sig.toString('latin1', 0, 4)} + ${size} random bytes`);
    }
  }
});

Hostile('every format truncated anywhere is refused (or, where the decoder recovers, decoded), never a crash', async ({ detector }) => {
  const outcomes: Record<string, { ok: number; rejected: number }> = {};
  for (const f of ['hello.png', 'hello.jpg', 'hello.gif', 'hello.bmp', 'hello.tiff', 'hello.webp', 'hello-gray.png']) {
    const bytes = fs.readFileSync(img(f));
    const o = (outcomes[f] = { ok: 0, rejected: 0 });
    // Every cut inside the headers (a GIF cut right after its image descriptor used to crash the process: giflib
    // reports that failure without an error code, and GifErrorString(0) is NULL), then cuts across the whole file.
    const cuts = new Set<number>();
    for (let c = 1; c < Math.min(300, bytes.length); c++) cuts.add(c);
    for (let k = 1; k < 24; k++) cuts.add(Math.floor((bytes.length * k) / 24));
    cuts.add(bytes.length - 2); cuts.add(bytes.length - 1);
    for (const cut of cuts) {
      if (cut >= bytes.length) continue;
      try {
        const r = await detector.detect(bytes.subarray(0, cut));
        assert.equal([r.width, r.height], [400, 200], `${f} cut at ${cut}: a recovered image has its size`);
        o.ok++;
      } catch (err) {
        const e = err as Error & { code?: string };
        assert.ok(DECODE_CODES.includes(e.code!), `${f} cut at ${cut}: ${e.code} ${e.message}`);
        o.rejected++;
      }
    }
  }
  // Formats with an end marker or checksums refuse every truncation; a GIF missing only its trailer byte (all its
  // pixel data present: only the first frame is read) is the one recovery.
  for (const f of ['hello.png', 'hello.jpg', 'hello-gray.png']) assert.is(outcomes[f].ok, 0, `${f}: ${JSON.stringify(outcomes[f])}`);
  assert.ok(outcomes['hello.gif'].ok <= 1, JSON.stringify(outcomes['hello.gif']));
});

Hostile('raw pixels: tiny and extreme sizes work; inconsistent descriptions are refused', async ({ detector }) => {
  for (const channels of [1, 3, 4] as const) {
    const r = await detector.detect({ data: new Uint8Array(channels).fill(7), width: 1, height: 1, channels }, { heatmaps: true });
    assert.equal([r.width, r.height, r.tiles], [1, 1, 1]);
    assert.is(r.heatmaps!.width, 16); // 1 px * 1.5 -> 1 -> padded to 32
  }
  for (const [w, h] of [[1, 1000], [1000, 1], [2, 2], [31, 33], [1, 100000], [100000, 1]]) {
    const r = await detector.detect({ data: new Uint8Array(w * h).fill(128), width: w, height: h, channels: 1 });
    assert.equal([r.width, r.height], [w, h]);
    assert.is(r.downscaled, false);
    for (const word of r.words) for (const [x, y] of word.box) assert.ok(Number.isFinite(x) && Number.isFinite(y));
  }
  // 1x1 and 1x1000 encoded images decode too.
  const one = await detector.detect(encodeBmp(new Uint8Array([0, 0, 0]), 1, 1));
  assert.equal([one.width, one.height], [1, 1]);
  const strip = await detector.detect(encodeBmp(new Uint8Array(3000).fill(90), 1, 1000));
  assert.equal([strip.width, strip.height], [1, 1000]);

  const data = new Uint8Array(300);
  await rejects(() => detector.detect({ data, width: 0, height: 10, channels: 3 }), { name: 'RangeError', message: /input\.width/ });
  await rejects(() => detector.detect({ data, width: 10, height: -1, channels: 3 }), { name: 'RangeError', message: /input\.height/ });
  await rejects(() => detector.detect({ data, width: 10.5, height: 10, channels: 3 }), { name: 'RangeError', message: /input\.width/ });
  await rejects(() => detector.detect({ data, width: NaN, height: 10, channels: 3 }), { name: 'RangeError', message: /input\.width/ });
  await rejects(() => detector.detect({ data, width: '10', height: 10, channels: 3 } as never), { name: 'TypeError', message: /input\.width/ });
  for (const channels of [0, 2, 5, 3.5, -3]) {
    await rejects(() => detector.detect({ data, width: 10, height: 10, channels } as never), { name: 'RangeError', message: /input\.channels/ });
  }
  for (const channels of ['3', null, undefined]) {
    await rejects(() => detector.detect({ data, width: 10, height: 10, channels } as never), { name: 'TypeError', message: /input\.channels/ });
  }
  await rejects(() => detector.detect({ data: new Uint8Array(99), width: 10, height: 10, channels: 1 }), { name: 'RangeError', message: /100 bytes but received 99/ });
  await rejects(() => detector.detect({ data: new Uint8ClampedArray(399), width: 10, height: 10, channels: 4 }), { name: 'RangeError', message: /400 bytes/ });
  await rejects(() => detector.detect({ data: new Uint8Array(3), width: 1 << 30, height: 1 << 30, channels: 3 }), { name: 'RangeError', message: /input\.data/ });
  await rejects(() => detector.detect({ data: new Float32Array(300), width: 10, height: 10, channels: 3 } as never), { name: 'TypeError', message: /input\.data/ });
  await rejects(() => detector.detect({ data, width: 10, height: 10, channels: 3, stride: 30 } as never), { name: 'TypeError', message: /Unknown input property 'stride'/ });
  await rejects(() => detector.detect({ data, width: 10, height: 10, chanels: 3 } as never), { name: 'TypeError', message: /did you mean 'channels'/ });
  // Longer data than needed is fine (only width*height*channels bytes are read).
  const longer = await detector.detect({ data: new Uint8Array(1000), width: 10, height: 10, channels: 3 });
  assert.is(longer.width, 10);
});

Hostile('paths that are not regular image files are refused, never waited on', async ({ detector }) => {
  await rejects(() => detector.detect(IMAGES), { code: 'ERR_CRAFT_IO', message: /not a regular file/ });
  await rejects(() => detector.detect('/dev/zero'), { code: 'ERR_CRAFT_IO', message: /not a regular file/ });
  const fifo = path.join(os.tmpdir(), `craft-fifo-${process.pid}`);
  try {
    require('node:child_process').execFileSync('mkfifo', [fifo]);
  } catch {
    return; // no mkfifo: nothing more to check
  }
  try {
    await rejects(() => detector.detect(fifo), { code: 'ERR_CRAFT_IO', message: /not a regular file/ });
  } finally {
    fs.rmSync(fifo, { force: true });
  }
  const empty = path.join(os.tmpdir(), `craft-empty-${process.pid}.png`);
  fs.writeFileSync(empty, '');
  try {
    await rejects(() => detector.detect(empty), { code: 'ERR_CRAFT_DECODE', message: /empty/ });
  } finally {
    fs.rmSync(empty, { force: true });
  }
});

Hostile('NaN, Infinity, negative and wrongly typed options are refused, naming the option', async ({ detector }) => {
  const file = img('hello.png');
  const numeric: [string, number, number][] = [
    ['textThreshold', 0, 1], ['linkThreshold', 0, 1], ['lowText', 0, 1], ['canvasSize', 32, 32768],
    ['magRatio', 0.01, 32], ['maxPixels', 1, Number.MAX_SAFE_INTEGER],
  ];
  for (const [name, min, max] of numeric) {
    for (const bad of [NaN, Infinity, -Infinity, -1, min - 0.5, max * 2]) {
      if (bad >= min && bad <= max) continue;
      await rejects(() => detector.detect(file, { [name]: bad }), { name: 'RangeError', message: new RegExp(`for ${name} but received`) });
    }
    for (const bad of ['0.5', null, {}, [], true]) {
      if (name === 'maxPixels' && bad === true) continue;
      await rejects(() => detector.detect(file, { [name]: bad } as never), { name: 'TypeError', message: new RegExp(`for ${name} but received`) });
    }
  }
  await rejects(() => detector.detect(file, { canvasSize: 1000.5 }), { name: 'RangeError', message: /integer/ });
  await rejects(() => detector.detect(file, { polygons: 1 } as never), { name: 'TypeError', message: /for polygons/ });
  await rejects(() => detector.detect(file, { heatmaps: 'yes' } as never), { name: 'TypeError', message: /for heatmaps/ });
  await rejects(() => detector.detect(file, { tiling: { overlap: -2 } }), { name: 'RangeError', message: /tiling\.overlap/ });
  await rejects(() => detector.detect(file, { tiling: { tileSize: Infinity } }), { name: 'RangeError', message: /tiling\.tileSize/ });
  await rejects(() => detector.detect(file, null as never), { name: 'TypeError', message: /for options/ });
  await rejects(() => detector.detect(file, [] as never), { name: 'TypeError', message: /for options/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, threads: -1 }), { name: 'RangeError', message: /for threads/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, threads: NaN }), { name: 'RangeError', message: /for threads/ });
  await rejects(() => Detector.create({ model: TINY_MODEL, deviceId: Infinity }), { name: 'RangeError', message: /for deviceId/ });
  const map = new Float32Array(4);
  await rejects(() => postprocess({ region: map, affinity: map, width: 2, height: 2 }, { lowText: NaN }), { name: 'RangeError', message: /for lowText/ });
  await rejects(() => postprocess({ region: map, affinity: map, width: -2, height: -2 }), { name: 'RangeError', message: /heatmaps\.width/ });
});

Hostile('unknown option names are refused with a did-you-mean hint', async ({ detector }) => {
  const file = img('hello.png');
  const typos: [Record<string, unknown>, RegExp][] = [
    [{ textTreshold: 0.5 }, /Unknown option 'textTreshold' \(did you mean 'textThreshold'\?\)/],
    [{ magratio: 2 }, /did you mean 'magRatio'/],
    [{ canvas_size: 640 }, /did you mean 'canvasSize'/],
    [{ max_pixels: 10 }, /did you mean 'maxPixels'/],
    [{ lowtext: 0.3 }, /did you mean 'lowText'/],
    [{ zzzzzzzzzzzz: 1 }, /^Unknown option 'zzzzzzzzzzzz'$/],
  ];
  for (const [opts, message] of typos) await rejects(() => detector.detect(file, opts as never), { name: 'TypeError', message });
  await rejects(() => Detector.create({ model: TINY_MODEL, thread: 1 } as never), { name: 'TypeError', message: /did you mean 'threads'/ });
  await rejects(() => Detector.create({ modle: TINY_MODEL } as never), { name: 'TypeError', message: /did you mean 'model'/ });
  const map = new Float32Array(4);
  await rejects(() => postprocess({ region: map, affinity: map, width: 2, height: 2 }, { polygon: true } as never), { name: 'TypeError', message: /did you mean 'polygons'/ });
});

Hostile('the native binding itself survives garbage from a direct caller', async () => {
  const b = binding();
  const native = await b.createDetector({ model: TINY_MODEL, ortLibrary: resolveOrtLibrary(), threads: 1, interOpThreads: 1, spinning: false, executionProviders: ['cpu'], deviceId: 0 });
  const opts = { textThreshold: 0.7, linkThreshold: 0.4, lowText: 0.4, canvasSize: 1280, magRatio: 1.5, polygons: false, heatmaps: false, refine: false, maxPixels: 268402689 };
  const data = new Uint8Array(300);
  for (const raw of [
    { data, width: 0, height: 10, channels: 3 }, { data, width: -1, height: -1, channels: 1 },
    { data, width: 1e10, height: 1e10, channels: 3 }, { data, width: NaN, height: 10, channels: 3 },
    { data, width: 10, height: 10, channels: 2 }, { data, width: 10, height: 10, channels: -4 },
    { data, width: 100, height: 100, channels: 3 },
  ]) {
    await rejectsWithCode(() => native.detect(raw, opts), ['ERR_CRAFT_INVALID_INPUT', 'ERR_CRAFT_INPUT_TOO_LARGE'], JSON.stringify({ ...raw, data: 300 }));
  }
  // Nonsense numbers in the options fall back to defaults or are clamped; the call completes either way.
  const weird = [{ canvasSize: NaN }, { canvasSize: -5 }, { canvasSize: 1e12 }, { magRatio: -1 }, { magRatio: Infinity },
    { maxPixels: -1 }, { textThreshold: NaN }, { tiling: 'on', tileSize: 1e12, tileOverlap: 1e12 }, { tiling: 'on', tileSize: -64, tileOverlap: -7 }];
  for (const w of weird) {
    const r = await native.detect({ data: new Uint8Array(32 * 32 * 3), width: 32, height: 32, channels: 3 }, { ...opts, ...w } as never)
      .catch((e: Error & { code?: string }) => e);
    assert.ok(!(r instanceof Error) || /^ERR_CRAFT_/.test((r as { code?: string }).code ?? ''), `${JSON.stringify(w)}: ${r}`);
  }
  assert.throws(() => native.detect(42 as never, opts), /invalid input/);
  assert.throws(() => native.detect({ data: [1, 2, 3] } as never, opts), /invalid input\.data/);
  native.dispose();
});

Hostile('language models: empty, random, truncated anywhere, forged counts: ERR_CRAFT_MODEL_LOAD, never a crash', async () => {
  const file = path.join(ROOT, 'models', 'craft-text-charlm.bin');
  if (!fs.existsSync(file)) return console.log('  (skipped: models/craft-text-charlm.bin not present)');
  const good = fs.readFileSync(file);
  const b = binding();
  assert.ok((await b.loadLanguageModel(new Uint8Array(good))).ngrams > 0);
  const forged = Buffer.from(good);
  forged.writeUInt32LE(0xffffffff, 4 + 16 + forged.readUInt32LE(16));  // the unigram count
  const cases = [new Uint8Array(0), crypto.randomBytes(4096), forged, Buffer.concat([good, Buffer.from([0])])];
  for (const cut of [3, 4, 20, 40, 100, 1000, good.length >> 1, good.length - 1]) cases.push(good.subarray(0, cut));
  for (const bytes of cases) {
    await rejects(() => b.loadLanguageModel(new Uint8Array(bytes)), { code: 'ERR_CRAFT_MODEL_LOAD' });
  }
  assert.throws(() => b.loadLanguageModel([1, 2, 3] as never), /bytes/);
});

Hostile('models: empty, random, text, directories, truncated anywhere: ERR_CRAFT_MODEL_LOAD', async () => {
  const bytes = fs.readFileSync(TINY_MODEL);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-models-'));
  try {
    const empty = path.join(tmp, 'empty.onnx');
    fs.writeFileSync(empty, '');
    await rejects(() => Detector.create({ model: empty }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /empty\.onnx/ });
    await rejects(() => Detector.create({ model: tmp }), { code: 'ERR_CRAFT_MODEL_LOAD' });
    await rejects(() => Detector.create({ model: path.join(ROOT, 'package.json') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /package\.json/ });
    for (const seed of [1, 2, 3]) {
      await rejects(() => Detector.create({ model: randomBytes(5000, seed) }), { code: 'ERR_CRAFT_MODEL_LOAD' });
    }
    for (const frac of [0.001, 0.01, 0.1, 0.5, 0.9, 0.999]) {
      await rejects(() => Detector.create({ model: bytes.subarray(0, Math.floor(bytes.length * frac)) }), { code: 'ERR_CRAFT_MODEL_LOAD' });
    }
    // A model with an input of the wrong rank, or without CRAFT's output, is refused at load (test/models, see
    // tools/make_invalid_models.py).
    await rejects(() => Detector.create({ model: path.join(ROOT, 'test/models/wrong-rank.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /not a CRAFT model/ });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  await rejects(() => Detector.create({ model: new Uint8Array(0) }), { code: 'ERR_CRAFT_MODEL_LOAD' });
});

Hostile.run();

const Lifecycle = suite('hostile lifecycle');

Lifecycle('dispose() with many detections in flight (tiled ones too): each finishes or rejects cleanly', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const page = { data: syntheticPage(600, 400), width: 600, height: 400, channels: 3 as const };
  const calls = [
    detector.detect(img('tall.png')), // tiled (auto)
    detector.detect(img('hello.png'), { canvasSize: 256, tiling: { tileSize: 256 } }),
    ...Array.from({ length: 6 }, () => detector.detect(page)),
    detector.detect(Buffer.from('garbage')),
  ];
  await detector.dispose();
  const settled = await Promise.allSettled(calls);
  for (const s of settled) {
    if (s.status === 'fulfilled') assert.ok(s.value.width > 0);
    else assert.ok(/^ERR_CRAFT_(DISPOSED|DECODE|ABORTED)$/.test((s.reason as { code?: string }).code ?? ''), String(s.reason));
  }
  await rejects(() => detector.detect(img('hello.png')), { code: 'ERR_CRAFT_DISPOSED' });
  await rejects(() => detector.detect(img('hello.png'), { tiling: 'off' }), { code: 'ERR_CRAFT_DISPOSED' });
  await detector.dispose();
  await rejects(() => detector.detect(img('hello.png')), { code: 'ERR_CRAFT_DISPOSED' });
});

Lifecycle('dispose() racing create/detect in a loop leaves nothing broken', async () => {
  for (let i = 0; i < 5; i++) {
    const d = await Detector.create({ model: TINY_MODEL, threads: 1 });
    const p = d.detect(img('hello.png'));
    if (i % 2) await new Promise((r) => setImmediate(r));
    await d.dispose();
    await p.then((r) => assert.is(r.width, 400), (e) => assert.is(e.code, 'ERR_CRAFT_DISPOSED'));
  }
});

Lifecycle('after all of the above the process still detects normally', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const r = await detector.detect(img('hello.png'));
  assert.ok(r.words.length > 0);
  await detector.dispose();
});

Lifecycle.run();

// ---- Hostile callers (issue 12) ------------------------------------------------------------------------------------
// Crashes and wedges found by a hostile review. Anything that could crash (a use-after-free segfaults) or wedge the
// process runs in a child process, so a crash fails the test instead of killing the runner.

const DIST = path.join(ROOT, 'dist');

/**
 * Runs `body` (CommonJS, top-level await allowed inside an async function) in a fresh node with --expose-gc, the
 * library from dist/ as `lib`, and one libuv pool thread (so a test can hold native work back behind a blocker).
 * Resolves with how it ended and what it printed.
 */
function child(body: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}) {
  const file = path.join(os.tmpdir(), `craft-hostile-${process.pid}-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, `'use strict';
const lib = require(${JSON.stringify(DIST)});
const TINY_MODEL = ${JSON.stringify(TINY_MODEL)};
const IMAGES = ${JSON.stringify(IMAGES)};
/** Occupies the only libuv pool thread for about ms milliseconds (native work queued meanwhile waits). */
function blockPool(ms) {
  const t0 = Date.now();
  return new Promise((resolve) => require('node:crypto').pbkdf2('x', 'y', Math.max(1, Math.round(ms * 300)), 32, 'sha256', () => resolve(Date.now() - t0)));
}
// A wedged child (a promise that never settles) must not just drain its event loop and exit 0.
setTimeout(() => { console.error('CHILD WEDGED: the script never finished'); process.exit(3); }, ${(opts.timeoutMs ?? 60000) - 5000});
(async () => {
${body}
})().then(() => process.exit(0), (e) => { console.error('CHILD FAILED', e); process.exit(1); });
`);
  try {
    const r = require('node:child_process').spawnSync(process.execPath, ['--expose-gc', '--no-warnings', file], {
      encoding: 'utf8', timeout: opts.timeoutMs ?? 60000,
      env: { ...process.env, UV_THREADPOOL_SIZE: '1', ...opts.env },
    });
    return { status: r.status as number | null, signal: r.signal as string | null, stdout: r.stdout as string, stderr: r.stderr as string };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
function assertClean(r: ReturnType<typeof child>, what: string) {
  assert.ok(r.signal === null && r.status === 0, `${what}: exited with ${r.signal ?? r.status}\n${r.stdout}\n${r.stderr}`);
}

const Callers = suite('hostile callers (issue 12)');

Callers('1. a buffer transferred away or resized to 0 while a call runs is never read: no crash, the call sees the bytes it was given', () => {
  // Each case starts a call while the pool is busy (so the native work has not run yet), then takes the memory away:
  // transfer + collect the new owner (the backing store is freed), or resize() a resizable ArrayBuffer to 0. The
  // inputs are large enough to be separate mappings, so a read after free would fault.
  const r = child(`
  const d = await lib.Detector.create({ model: TINY_MODEL, threads: 1 });
  const W = 2000, H = 2000;
  const out = {};
  const detach = (buf) => { structuredClone(buf, { transfer: [buf] }); };
  // raw pixels, transferred
  {
    const data = new Uint8Array(W * H * 3).fill(200);
    const blocked = blockPool(300);
    const p = d.detect({ data, width: W, height: H, channels: 3 }, { canvasSize: 256, tiling: 'off' });
    detach(data.buffer); global.gc();
    out.rawTransferred = await p.then((r) => [r.width, r.height], (e) => e.code);
    out.rawDetached = data.byteLength;
    await blocked;
  }
  // raw pixels in a resizable ArrayBuffer, resized to 0
  {
    const ab = new ArrayBuffer(W * H * 3, { maxByteLength: W * H * 3 });
    const data = new Uint8Array(ab).fill(100);
    const blocked = blockPool(300);
    const p = d.detect({ data, width: W, height: H, channels: 3 }, { canvasSize: 256, tiling: 'off' });
    ab.resize(0); global.gc();
    out.rawResized = await p.then((r) => [r.width, r.height], (e) => e.code);
    await blocked;
  }
  // encoded bytes (an uncompressed BMP), transferred
  {
    const bmp = new Uint8Array(require('node:fs').readFileSync(${JSON.stringify(path.join(IMAGES, 'tall.png'))}));
    const big = new Uint8Array(54 + W * H * 3); // a W x H 24-bit BMP
    const v = new DataView(big.buffer);
    big[0] = 0x42; big[1] = 0x4d; v.setUint32(2, big.length, true); v.setUint32(10, 54, true); v.setUint32(14, 40, true);
    v.setInt32(18, W, true); v.setInt32(22, H, true); v.setUint16(26, 1, true); v.setUint16(28, 24, true);
    big.fill(255, 54);
    const blocked = blockPool(300);
    const p = d.detect(big, { canvasSize: 256, tiling: 'off' });
    detach(big.buffer); global.gc();
    out.encodedTransferred = await p.then((r) => [r.width, r.height], (e) => e.code);
    // ... and an ArrayBuffer input, resized to 0
    const ab = new ArrayBuffer(bmp.length, { maxByteLength: bmp.length });
    new Uint8Array(ab).set(bmp);
    const blocked2 = blockPool(300);
    const p2 = d.detect(ab);
    ab.resize(0); global.gc();
    out.arrayBufferResized = await p2.then((r) => [r.width, r.height], (e) => e.code);
    await blocked; await blocked2;
  }
  // postprocess() heatmaps, transferred
  {
    const n = W * H;
    const region = new Float32Array(n).fill(0.9), affinity = new Float32Array(n).fill(0.1);
    const blocked = blockPool(300);
    const p = lib.postprocess({ region, affinity, width: W, height: H });
    detach(region.buffer); detach(affinity.buffer); global.gc();
    out.postprocess = await p.then((w) => w.length, (e) => e.code);
    await blocked;
  }
  // A SharedArrayBuffer can be neither detached nor shrunk: read in place (growing it during the call is harmless).
  {
    const sab = new SharedArrayBuffer(W * H * 3, { maxByteLength: W * H * 3 * 2 });
    const data = new Uint8Array(sab).fill(180);
    const blocked = blockPool(300);
    const p = d.detect({ data, width: W, height: H, channels: 3 }, { canvasSize: 256, tiling: 'off' });
    sab.grow(W * H * 3 * 2); global.gc();
    out.shared = await p.then((r) => [r.width, r.height], (e) => e.code);
    await blocked;
  }
  // A buffer detached BEFORE the call is an empty input: a clean error.
  {
    const data = new Uint8Array(300); detach(data.buffer);
    out.detachedBefore = await d.detect(data).then(() => 'ok', (e) => e.code);
  }
  await d.dispose();
  console.log(JSON.stringify(out));
  `);
  assertClean(r, 'detach/resize during a call');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.rawTransferred, [2000, 2000]);
  assert.is(out.rawDetached, 0, 'the transfer really detached the caller\'s buffer');
  assert.equal(out.rawResized, [2000, 2000]);
  assert.equal(out.encodedTransferred, [2000, 2000]);
  assert.equal(out.arrayBufferResized, [333, 1600]);
  assert.is(out.postprocess, 1, 'one all-text component');
  assert.is(out.detachedBefore, 'ERR_CRAFT_DECODE');
  assert.equal(out.shared, [2000, 2000]);
});

Callers('2. typed-array look-alikes are refused before a slot is taken; the detector keeps working and dispose() resolves', () => {
  const r = child(`
  const d = await lib.Detector.create({ model: TINY_MODEL, threads: 1 });
  const hello = IMAGES + '/hello.png';
  const bad = [new Proxy(new Uint8Array(16), {}), Object.setPrototypeOf({}, Uint8Array.prototype),
    Object.setPrototypeOf({}, ArrayBuffer.prototype), { data: new Proxy(new Uint8Array(300), {}), width: 10, height: 10, channels: 3 },
    { data: Object.setPrototypeOf({ length: 300 }, Uint8Array.prototype), width: 10, height: 10, channels: 3 }];
  const names = [];
  let unhandled = 0;
  process.on('unhandledRejection', () => { unhandled++; });
  // Alone, and queued behind a running detection (the throw used to escape inside the scheduler's .then).
  for (const input of bad) {
    names.push(await d.detect(input).then(() => 'ok', (e) => e.name));
    const running = d.detect(hello);
    const queued = d.detect(input).then(() => 'ok', (e) => e.name);
    names.push(await queued);
    await running;
    names.push(await d.detectBatch([hello, input]).then(() => 'ok', (e) => e.name));
  }
  const t0 = Date.now();
  const ok = await Promise.race([d.detect(hello).then((r) => r.width), new Promise((r) => setTimeout(() => r('HANG'), 10000))]);
  const disposed = await Promise.race([d.dispose().then(() => 'disposed'), new Promise((r) => setTimeout(() => r('HANG'), 10000))]);
  console.log(JSON.stringify({ names, ok, disposed, unhandled, stats: d.stats().inFlight }));
  `);
  assertClean(r, 'look-alikes');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(out.names.every((n: string) => n === 'TypeError'), JSON.stringify(out.names));
  assert.is(out.ok, 400);
  assert.is(out.disposed, 'disposed');
  assert.is(out.unhandled, 0);
});

Callers('2. the scheduler gives every slot back, whatever the binding does (sync throw, rejection), and never lets a throw escape', async () => {
  // The mechanism, tested alone: a binding whose prepare() throws synchronously or rejects, for a request that starts
  // at once and for one started later from inside the scheduler's completion callbacks.
  let gate: (() => void) | undefined;
  const mode = { prepare: 'ok' as 'ok' | 'throw' | 'reject' | 'slow' };
  const prepared = { ref: {}, width: 10, height: 10, paddedWidth: 32, paddedHeight: 32, decode: 1, preprocess: 1 };
  const fake = {
    prepare: () => {
      const m = mode.prepare;
      if (m === 'throw') throw new TypeError('craft binding: invalid input.data');
      if (m === 'reject') return Promise.reject(Object.assign(new Error('bad'), { code: 'ERR_CRAFT_DECODE' }));
      if (m === 'slow') return new Promise((resolve) => { gate = () => resolve(prepared); });
      return Promise.resolve(prepared);
    },
    infer: () => Promise.resolve({ ref: {}, ms: 1 }),
    finish: () => Promise.resolve({ width: 10, height: 10, words: [], scale: 1, timings: { decode: 1, preprocess: 1, inference: 0, postprocess: 1 } }),
    release: () => {},
    runStats: () => ({ runs: 0, running: 0, peak: 0 }),
  };
  const s = new Scheduler(fake as never, { concurrency: 1, stageConcurrency: 1, maxQueue: Infinity, batch: { maxSize: 1, maxDelayMs: 0 } });
  const opts = {} as never;
  let unhandled = 0;
  const onUnhandled = () => { unhandled++; };
  process.on('unhandledRejection', onUnhandled);
  try {
    // (Every wait is raced against a timer: a wedged scheduler must fail the test, not let the event loop drain.)
    const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<string>((res) => setTimeout(() => res('HANG'), 2000))]);
    const outcome = (p: Promise<unknown>) => within(p.then(() => 'ok', (e: Error & { code?: string }) => e.code ?? e.name));
    mode.prepare = 'throw';
    assert.is(await outcome(s.submit({ path: 'x' }, opts, {})), 'TypeError');
    mode.prepare = 'reject';
    assert.is(await outcome(s.submit({ path: 'x' }, opts, {})), 'ERR_CRAFT_DECODE');
    // Queued behind a slow one: its prepare() is called from the first one's completion.
    mode.prepare = 'slow';
    const first = outcome(s.submit({ path: 'x' }, opts, {}));
    const second = outcome(s.submit({ path: 'x' }, opts, {}));
    mode.prepare = 'throw';
    await new Promise((res) => setImmediate(res));
    gate?.();
    assert.is(await first, 'ok');
    assert.is(await second, 'TypeError');
    mode.prepare = 'ok';
    assert.is(await outcome(s.submit({ path: 'x' }, opts, {})), 'ok', 'a later request still gets a slot');
    assert.is(await within(s.drain().then(() => 'drained')), 'drained');
    await new Promise((res) => setImmediate(res));
    assert.is(unhandled, 0, 'no unhandled rejection');
    assert.is(s.stats().inFlight, 0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

Callers('3. a signal whose addEventListener throws rejects the call and leaves nothing queued: dispose() resolves', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const signal = { aborted: false, addEventListener() { throw new Error('hostile signal'); }, removeEventListener() { throw new Error('hostile too'); } };
  await rejects(() => detector.detect(img('hello.png'), { signal: signal as never }), { message: /hostile signal/ });
  await rejects(() => detector.detectBatch([img('hello.png'), img('hello.png')], { signal: signal as never }), { message: /hostile signal/ });
  // A signal whose removeEventListener throws: the call still settles.
  const signal2 = { aborted: false, addEventListener() {}, removeEventListener() { throw new Error('hostile'); } };
  const r = await detector.detect(img('hello.png'), { signal: signal2 as never });
  assert.is(r.width, 400);
  assert.is(detector.stats().queued + detector.stats().inFlight, 0);
  const disposed = await Promise.race([detector.dispose().then(() => 'disposed'), new Promise((res) => setTimeout(() => res('HANG'), 10000))]);
  assert.is(disposed, 'disposed');
});

Callers('4. models whose outputs are not float32 are refused at load, naming the output and its type', async () => {
  const m = (name: string) => path.join(ROOT, 'test', 'models', name);
  await rejects(() => Detector.create({ model: m('float16-scores.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /output 'y' .*is float16; craft-text reads float32/ });
  await rejects(() => Detector.create({ model: m('uint8-scores.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /output 'y' .*is uint8/ });
  await rejects(() => Detector.create({ model: m('float16-refiner.onnx') }), { code: 'ERR_CRAFT_MODEL_LOAD', message: /output 'y_refiner' .*LinkRefiner output.*is float16/ });
  // The same graph with float32 outputs loads, and its maps are what it computes (finite, in [0, 1]).
  const d = await Detector.create({ model: m('float32-outputs.onnx') });
  assert.is(d.info.refiner, true);
  const r = await d.detect(img('hello.png'), { heatmaps: true, refine: true });
  for (const v of r.heatmaps!.region) assert.ok(Number.isFinite(v) && v >= -3 && v <= 3);
  await d.dispose();
});

Callers('5. model, ortLibrary and --model naming a FIFO are refused at once; nothing waits for a writer', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-fifo-'));
  const fifo = path.join(tmp, 'model.onnx');
  try {
    require('node:child_process').execFileSync('mkfifo', [fifo]);
  } catch {
    console.log('  (skipped: no mkfifo)');
    return;
  }
  try {
    // A fresh process each: ONNX Runtime is loaded once per process (the ortLibrary check runs before that).
    for (const option of ['model', 'ortLibrary']) {
      const r = child(`
      const t0 = Date.now();
      const code = await lib.Detector.create({ model: TINY_MODEL, ${option}: ${JSON.stringify(fifo)} }).then(() => 'ok', (e) => e.code + ' ' + e.message);
      console.log(JSON.stringify({ code, ms: Date.now() - t0 }));
      `, { timeoutMs: 20000 });
      assertClean(r, option);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.match(out.code, option === 'model' ? /^ERR_CRAFT_MODEL_LOAD .*not a regular file/ : /^ERR_CRAFT_ORT_LOAD .*not a regular file/);
      assert.ok(out.ms < 5000, `${option}: refused in ${out.ms} ms`);
    }
    const cli = require('node:child_process').spawnSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), 'detect', img('hello.png'), '--model', fifo],
      { encoding: 'utf8', timeout: 20000 });
    assert.is(cli.status, 1, `${cli.signal} ${cli.stderr}`);
    assert.match(cli.stderr, /ERR_CRAFT_MODEL_LOAD: .*not a regular file/);
    // Files the JS side reads (checkpoints for convert(), models for quantize/tune, CLI pictures) follow the same rule.
    const r = child(`
      const t0 = Date.now();
      const code = await lib.convert(${JSON.stringify(fifo)}).then(() => 'ok', (e) => e.message);
      console.log(JSON.stringify({ code, ms: Date.now() - t0 }));
    `, { timeoutMs: 20000 });
    assertClean(r, 'convert');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.match(out.code, /not a regular file|ERR_NOT_REGULAR_FILE/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

Callers('6. decoder work bombs: a JPEG with thousands of scans is refused from its markers; only the first GIF frame / TIFF page is decoded', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  try {
    for (const scans of [101, 2000, 20000]) {
      const bomb = jpegScanBomb(6000, 6000, scans);
      const t0 = Date.now();
      await rejects(() => detector.detect(bomb), { code: 'ERR_CRAFT_DECODE', message: /more than 100 scans/ });
      assert.ok(Date.now() - t0 < 1000, `${scans} scans (${bomb.length} bytes): refused in ${Date.now() - t0} ms`);
    }
    // Under the limit it decodes (the standard progressive script has 10 scans).
    const ok = await detector.detect(jpegScanBomb(64, 64, 99));
    assert.is(ok.width, 64);
    const progressive = await detector.detect(img('hello-progressive.jpg'));
    assert.equal([progressive.width, progressive.height], [400, 200]);
    assert.ok(progressive.words.length > 0);
    // 20000 frames after the first: only the first is read.
    const gif = animatedGif(64, 64, 1 + 20000);
    const t0 = Date.now();
    const g = await detector.detect(gif);
    assert.equal([g.width, g.height], [64, 64]);
    assert.ok(Date.now() - t0 < 1000, `animated GIF in ${Date.now() - t0} ms`);
    // A second TIFF page of 3000x3000 is never decoded: a limit the first page meets is enough.
    const tiff = await detector.detect(img('hello-2pages.tiff'), { maxPixels: 200000 });
    assert.equal([tiff.width, tiff.height], [400, 200]);
  } finally {
    await detector.dispose();
  }
});

Callers('8. maxPixels bounds the network input: tiling off + a big magRatio and canvasSize is refused, not a 12.9 GB tensor', () => {
  const r = child(`
  const d = await lib.Detector.create({ model: TINY_MODEL, threads: 1 });
  const data = new Uint8Array(1000 * 1000).fill(255);
  const input = { data, width: 1000, height: 1000, channels: 1 };
  const rss0 = process.memoryUsage().rss, t0 = Date.now();
  const out = {};
  for (const tiling of ['off', 'auto']) {
    out[tiling] = await d.detect(input, { tiling, magRatio: 32, canvasSize: 32768 }).then(() => 'ok', (e) => e.code + ' ' + e.message);
  }
  out.ms = Date.now() - t0;
  out.rssMB = (process.memoryUsage().rss - rss0) / 1e6;
  // With tiling 'on' the same magnification is tiled within maxPixels (reduced to fit), never one huge tensor.
  out.small = await d.detect(input, { tiling: 'off', magRatio: 2, canvasSize: 2048 }).then((r) => r.width, (e) => e.code);
  await d.dispose();
  console.log(JSON.stringify(out));
  `, { timeoutMs: 120000 });
  assertClean(r, 'network input bound');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  for (const tiling of ['off', 'auto']) {
    assert.match(out[tiling], /^ERR_CRAFT_INPUT_TOO_LARGE Network input 32000x32000 .*exceeds pixel limit/, tiling);
  }
  assert.ok(out.ms < 2000, `refused in ${out.ms} ms`);
  assert.ok(out.rssMB < 200, `RSS grew ${out.rssMB} MB`);
  assert.is(out.small, 1000);
});

Callers('9. a file is refused by its header before it is read whole', async ({}) => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'craft-sparse-'));
  try {
    const sparse = path.join(tmp, 'zeros.png');
    fs.closeSync(fs.openSync(sparse, 'w'));
    fs.truncateSync(sparse, 1024 * 1024 * 1024); // 1 GB of zeros (sparse: nothing on disk)
    const rss0 = process.memoryUsage().rss, t0 = Date.now();
    await rejects(() => detector.detect(sparse), { code: 'ERR_CRAFT_DECODE', message: /not in a supported image format/ });
    assert.ok(Date.now() - t0 < 1000, `refused in ${Date.now() - t0} ms`);
    assert.ok(process.memoryUsage().rss - rss0 < 100e6, `RSS grew ${(process.memoryUsage().rss - rss0) / 1e6} MB`);
    // A real header claiming too many pixels is refused from the header too.
    const bomb = path.join(tmp, 'bomb.png');
    fs.writeFileSync(bomb, pngHeader(100000, 100000));
    fs.truncateSync(bomb, 1024 * 1024 * 1024);
    const t1 = Date.now();
    await rejects(() => detector.detect(bomb), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
    assert.ok(Date.now() - t1 < 1000, `refused in ${Date.now() - t1} ms`);
    // Files keep working (header first, then the rest).
    assert.is((await detector.detect(img('tall.png'))).height, 1600);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await detector.dispose();
  }
});

Callers('10. a NUL byte in a path is a TypeError, as in node:fs (it used to open the prefix)', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  try {
    await rejects(() => detector.detect(`${img('hello.png')}\0.txt`), { name: 'TypeError', message: /NUL/ });
    await rejects(() => detector.detectBatch([img('hello.png'), `${img('hello.png')}\0`]), { name: 'TypeError', message: /inputs\[1\].*NUL|NUL.*inputs\[1\]/ });
    await rejects(() => Detector.create({ model: `${TINY_MODEL}\0.bak` }), { name: 'TypeError', message: /model/ });
    await rejects(() => Detector.create({ model: TINY_MODEL, ortLibrary: `${resolveOrtLibrary()}\0x` }), { name: 'TypeError', message: /ortLibrary/ });
    // The binding refuses them too (a direct caller).
    const b = binding();
    const native = await b.createDetector({ model: TINY_MODEL, ortLibrary: resolveOrtLibrary(), threads: 1, interOpThreads: 1, spinning: false, executionProviders: ['cpu'], deviceId: 0 });
    const opts = { textThreshold: 0.7, linkThreshold: 0.4, lowText: 0.4, canvasSize: 1280, magRatio: 1.5, polygons: false, heatmaps: false, refine: false, maxPixels: 268402689 };
    assert.throws(() => native.detect({ path: `${img('hello.png')}\0.txt` }, opts), (e: Error) => e instanceof TypeError && /NUL/.test(e.message));
    assert.throws(() => b.createDetector({ model: `${TINY_MODEL}\0`, ortLibrary: resolveOrtLibrary() } as never), (e: Error) => e instanceof TypeError);
    native.dispose();
  } finally {
    await detector.dispose();
  }
});

Callers('11. only own properties are read: a polluted Object.prototype can\'t redirect a Buffer input to a file', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  const proto = Object.prototype as Record<string, unknown>;
  const bmp = encodeBmp(new Uint8Array(32 * 24 * 3).fill(255), 32, 24);
  try {
    proto.path = img('hello.png');
    const r = await detector.detect(bmp);
    assert.equal([r.width, r.height], [32, 24], 'the Buffer is read, not Object.prototype.path');
    delete proto.path;
    proto.width = 400; proto.height = 200; proto.channels = 3;
    const r2 = await detector.detect(bmp);
    assert.equal([r2.width, r2.height], [32, 24], 'an encoded input is not turned into raw pixels');
    delete proto.width; delete proto.height; delete proto.channels;
    proto.data = new Uint8Array(30);
    await rejects(() => detector.detect({} as never), { name: 'TypeError', message: /for input/ });
  } finally {
    for (const k of ['path', 'width', 'height', 'channels', 'data']) delete proto[k];
    await detector.dispose();
  }
});

Callers('12. detectBatch is admitted as a unit: a batch larger than maxQueue runs on an idle detector; a full queue refuses truthfully', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1, maxQueue: 2 });
  try {
    const inputs = Array.from({ length: 7 }, () => img('hello.png'));
    const results = await detector.detectBatch(inputs);
    assert.is(results.length, 7);
    for (const r of results) assert.is(r.width, 400);
    // Busy: a running batch and a full queue; the refusal says how many wait.
    const page = { data: syntheticPage(640, 640), width: 640, height: 640, channels: 3 as const };
    const busy = [detector.detect(page), detector.detect(page), detector.detect(page), detector.detect(page)];
    const err = await rejects(() => detector.detectBatch([img('hello.png'), img('hello.png')]), { code: 'ERR_CRAFT_QUEUE_FULL' });
    const waiting = Number(/\((\d+) waiting, maxQueue 2\)/.exec(err.message)?.[1]);
    assert.ok(waiting >= 2, err.message);
    await Promise.allSettled(busy);
  } finally {
    await detector.dispose();
  }
});

Callers.run();
