// Hostile input (issue 6): every bad input is rejected with a clear error (TypeError/RangeError naming the argument,
// or an Error with a stable `code`), nothing crashes, nothing hangs, the process and the detector keep working.
// Basic cases live in detect.test.ts (empty buffer, text bytes, half-truncated PNG/JPEG/GIF, 100000x100000 PNG,
// maxPixels, short raw data, unknown option, missing/non-ONNX/truncated/wrong-rank models, dispose with two in flight);
// this suite covers every image format's header, systematic truncation, random and prefixed garbage, raw-input edge
// sizes, non-finite options, the native binding called directly, and lifecycle races.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, postprocess } from '../lib';
import { binding, resolveOrtLibrary } from '../lib/binding';
import { encodeBmp, IMAGES, rejects, ROOT, syntheticPage, TINY_MODEL } from './helpers';

const img = (name: string) => path.join(IMAGES, name);
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
