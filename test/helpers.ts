// Shared test helpers (not a test file: uvu only runs *.test.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as assert from 'uvu/assert';

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

export function readF32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
