// Shared test helpers (not a test file: uvu only runs *.test.ts).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { ConvertError } from '../lib/convert/errors';
import type { Region } from '../lib/types';

export const ROOT = path.join(__dirname, '..');
export const SHARED = path.join(ROOT, '..', 'shared');
export const TINY_MODEL = path.join(ROOT, 'test', 'models', 'craft-tiny.onnx');
export const TINY_REFINER_MODEL = path.join(ROOT, 'test', 'models', 'craft-tiny-refiner.onnx');
export const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');

/** Whether ../shared (development data, fixtures) is present; tests that need it skip with a message if not. */
export function shared(sub: string): string | undefined {
  const p = path.join(SHARED, sub);
  if (fs.existsSync(p)) return p;
  console.log(`  (skipped: ${p} not present)`);
  return undefined;
}

/**
 * Builds one target of test/native (cmake, the target alone) and runs it with `args`: it must exit 0 and report at
 * least `minChecks` checks with 0 failures. Skips with a message without cmake or nlohmann-json (test/native's
 * CMakeLists.txt needs it for its other targets; tools/setup-system.sh installs both).
 */
export function runNativeTest(target: string, args: string[], minChecks: number): void {
  const build = path.join(ROOT, 'build', 'native');
  const json = ['/usr/include/nlohmann/json.hpp', '/usr/local/include/nlohmann/json.hpp'].some((f) => fs.existsSync(f));
  if (spawnSync('cmake', ['--version']).status !== 0 || !json) {
    console.log('  (skipped: cmake or nlohmann-json3-dev not installed; see tools/setup-system.sh)');
    return;
  }
  const configure = spawnSync('cmake', ['-S', path.join(ROOT, 'test', 'native'), '-B', build, '-DCMAKE_BUILD_TYPE=Release'],
    { encoding: 'utf8' });
  assert.is(configure.status, 0, configure.stderr);
  const compile = spawnSync('cmake', ['--build', build, '--target', target, '-j2'], { encoding: 'utf8' });
  assert.is(compile.status, 0, compile.stdout + compile.stderr);
  const run = spawnSync(path.join(build, target), args, { encoding: 'utf8' });
  assert.is(run.status, 0, run.stdout + run.stderr);
  const m = /(\d+) checks, 0 failures/.exec(run.stdout);
  assert.ok(m && Number(m[1]) >= minChecks, run.stdout);
}

/** Awaits `fn()` and checks it rejects (or throws) with the expected error class, message and code. */
export async function rejects(
  fn: () => unknown,
  expected: { name?: string; message?: RegExp; code?: string },
): Promise<Error & { code?: string }> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  if (caught === undefined) assert.unreachable('expected a rejection');
  const err = caught as Error & { code?: string };
  if (expected.name) assert.is(err.name, expected.name, `error name (${err.message})`);
  if (expected.message) assert.match(err.message, expected.message);
  if (expected.code) assert.is(err.code, expected.code, `error code (${err.message})`);
  return err;
}

/** A converter refusal: `fn` throws (or rejects with) a ConvertError matching `message`, naming `key` if given. */
export async function rejectsConvert(fn: () => unknown, message: RegExp, key?: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, ConvertError, (err as Error).message);
    const e = err as ConvertError;
    assert.is(e.code, 'ERR_CRAFT_CONVERT');
    assert.match(e.message, message);
    if (key !== undefined) assert.is(e.key, key);
    return;
  }
  assert.unreachable(`expected a ConvertError matching ${message}`);
}

export function readF32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** Encodes raw RGB pixels as a 24-bit BMP (bottom-up, BGR, rows padded to 4 bytes): an encoder-free test input. */
export function encodeBmp(rgb: Uint8Array, width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + stride * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      buf[row + x * 3] = rgb[s + 2];
      buf[row + x * 3 + 1] = rgb[s + 1];
      buf[row + x * 3 + 2] = rgb[s];
    }
  }
  return buf;
}

/** A synthetic page of dark "words" (bars with gaps) on white, as raw RGB. */
export function syntheticPage(width: number, height: number, seed = 1): Uint8Array {
  const rgb = new Uint8Array(width * height * 3).fill(255);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let y = 10; y + 14 < height; y += 30) {
    for (let x = 10; x < width - 20;) {
      const len = 6 + Math.floor(rand() * 10);
      for (let c = 0; c < len && x + 8 < width; c++, x += 10) {
        for (let yy = y; yy < y + 14; yy++) for (let xx = x; xx < x + 7; xx++) rgb.fill(20, (yy * width + xx) * 3, (yy * width + xx) * 3 + 3);
      }
      x += 20;
    }
  }
  return rgb;
}

/** Smooth random RGB pixels (6 px cells), deterministic: recogniser input whose readings are stable to compare. */
export function smoothPage(width: number, height: number, seed: number) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const cell = 6;
  const gw = Math.ceil(width / cell) + 1;
  const grid = Array.from({ length: gw * (Math.ceil(height / cell) + 1) * 3 }, () => rand() * 255);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = (Math.floor(y / cell) * gw + Math.floor(x / cell)) * 3;
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = grid[g + c];
    }
  }
  return { data, width, height, channels: 3 as const };
}

/** An axis-aligned region [x, y, w, h] as 4 corners, clockwise from top-left. */
export const rectRegion = (x: number, y: number, w: number, h: number): Region =>
  [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];

/**
 * RGB crops of one height placed side by side as one page, with each crop's box as a region (left to right): a page
 * of words whose crops a retry must read one by one.
 */
export function sideBySide(crops: { data: Uint8Array; width: number; height: number }[]) {
  const height = crops[0].height;
  const width = crops.reduce((w, c) => w + c.width, 0);
  const data = new Uint8Array(width * height * 3);
  const regions: [number, number][][] = [];
  let x0 = 0;
  for (const c of crops) {
    for (let y = 0; y < height; y++) data.set(c.data.subarray(y * c.width * 3, (y + 1) * c.width * 3), (y * width + x0) * 3);
    regions.push([[x0, 0], [x0 + c.width, 0], [x0 + c.width, height], [x0, height]]);
    x0 += c.width;
  }
  return { page: { data, width, height, channels: 3 as const }, regions: regions as never };
}
