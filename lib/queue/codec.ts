/*! craft-text | MIT */
// The job codec: what a job carries through Redis (JSON: the image as base64 or a path/URL the workers read, plus
// the options) and how results and failures come back (typed arrays encoded explicitly, the error code kept).
import * as path from 'node:path';
import { craftError } from '../errors';
import { checkNumber, invalidParameterError, plainObject } from '../is';
import { CRAFT_DEFAULTS, detectOptions, imageInput, runOptions } from '../options';
import type { ImageInput } from '../types';

/** Version of the job payload; a worker refuses (permanently) jobs of a version it doesn't know. */
export const JOB_VERSION = 1;
/** Default limit on image bytes carried in a job (before base64): larger images go by path or URL. */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

export type JobOp = 'detect' | 'read';
export const OPS: readonly JobOp[] = ['detect', 'read'];

/** What a job carries instead of the caller's input. */
export type JobInput =
  | { kind: 'bytes'; data: string }
  | { kind: 'raw'; data: string; width: number; height: number; channels: 1 | 3 | 4 }
  | { kind: 'path'; path: string }
  | { kind: 'url'; url: string };

/** A job's `data` as stored in Redis. */
export interface JobData {
  v: number;
  op: JobOp;
  input: JobInput;
  options: Record<string, unknown>;
}

/**
 * What can be enqueued: an encoded image (Buffer / Uint8Array / ArrayBuffer) or raw pixels, carried in the job; an
 * absolute file path, or an http(s) URL (string or `URL`), that the workers read themselves (shared storage).
 */
export type QueueInput = ImageInput | URL;

const base64 = (u8: Uint8Array) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');

function checkSize(bytes: number, maxBytes: number, name: string): void {
  if (bytes > maxBytes) {
    throw craftError('ERR_CRAFT_INPUT_TOO_LARGE', `${name} is ${bytes} bytes, above the queue's limit of ${maxBytes} ` +
      'bytes (maxBytes): put the image on storage the workers can read and enqueue its path or URL');
  }
}

/** Turns an input into its job form; images above `maxBytes` are refused here, at enqueue. @private */
export function encodeInput(input: unknown, maxBytes: number, name = 'input'): JobInput {
  if (input instanceof URL || (typeof input === 'string' && /^https?:\/\//i.test(input))) {
    const url = input instanceof URL ? input : new URL(input as string);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidParameterError(name, 'http(s) URL', url.href);
    return { kind: 'url', url: url.href };
  }
  if (typeof input === 'string') {
    // A relative path would be resolved against each worker's own working directory: refuse the ambiguity.
    if (input.length > 0 && !path.isAbsolute(input)) {
      throw invalidParameterError(name, 'absolute file path (workers read it on their own file system)', input);
    }
  }
  const native = imageInput(input, name) as { path?: string; data?: Uint8Array; width?: number; height?: number; channels?: number };
  if (native.path !== undefined) return { kind: 'path', path: native.path };
  const data = native.data!;
  if (native.width !== undefined) {
    const bytes = native.width * native.height! * native.channels!;
    checkSize(bytes, maxBytes, name);
    // Only the pixels the descriptor covers travel (a larger backing buffer stays behind).
    return { kind: 'raw', data: base64(data.subarray(0, bytes)), width: native.width, height: native.height!, channels: native.channels as 1 | 3 | 4 };
  }
  checkSize(data.byteLength, maxBytes, name);
  return { kind: 'bytes', data: base64(data) };
}

/** The limit on carried bytes (`maxBytes`). @private */
export function maxBytesOption(v: unknown): number {
  return v === undefined ? DEFAULT_MAX_BYTES : checkNumber('maxBytes', v, 1, 512 * 1024 * 1024, true);
}

/**
 * Checks a job's options at enqueue, so a bad option is a TypeError/RangeError for the producer rather than a failed
 * job: detect() options fully (ranges don't depend on the model), read() options for shape (the worker's Ocr checks
 * the rest). `signal` can't cross a queue; `timeoutMs` can (it is counted from when the worker starts the job).
 * @private
 */
export function encodeOptions(op: JobOp, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (!plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  if (options.signal !== undefined) throw new TypeError("Expected no signal in options: a job can't carry an AbortSignal (use timeoutMs)");
  if (op === 'detect') {
    detectOptions(options, { ...CRAFT_DEFAULTS }, ['timeoutMs']);
    runOptions(options);
  }
  let json: string;
  try {
    json = JSON.stringify(options);
  } catch (err) {
    throw new TypeError(`Expected JSON-serialisable options but ${(err as Error).message}`);
  }
  return JSON.parse(json) as Record<string, unknown>;
}

/** Checks a job's payload on the worker side (a job pushed by other code gets ERR_CRAFT_JOB, permanently). @private */
export function decodeJob(data: unknown): JobData {
  const bad = (why: string) => craftError('ERR_CRAFT_JOB', `not a craft-text job: ${why}`);
  if (!plainObject(data)) throw bad('data is not an object');
  if (data.v !== JOB_VERSION) throw bad(`payload version ${String(data.v)} (this worker reads version ${JOB_VERSION})`);
  if (!OPS.includes(data.op as JobOp)) throw bad(`unknown op ${JSON.stringify(data.op)}`);
  const input = data.input as JobInput | undefined;
  const ok = plainObject(input) && (
    (input.kind === 'bytes' && typeof input.data === 'string') ||
    (input.kind === 'raw' && typeof input.data === 'string') ||
    (input.kind === 'path' && typeof input.path === 'string') ||
    (input.kind === 'url' && typeof input.url === 'string'));
  if (!ok) throw bad('input is not { kind: bytes | raw | path | url, ... }');
  if (data.options !== undefined && !plainObject(data.options)) throw bad('options is not an object');
  return { v: JOB_VERSION, op: data.op as JobOp, input: input!, options: (data.options ?? {}) as Record<string, unknown> };
}

// ---- results ------------------------------------------------------------------------------------------------------

const TYPED = { Float32Array, Float64Array, Int32Array, Uint8Array, Uint16Array, Int16Array, Uint32Array, Int8Array } as const;
type TypedName = keyof typeof TYPED;

/**
 * A result as JSON: a typed array (heatmaps) becomes `{ $typed: 'Float32Array', base64 }` (little-endian bytes), which
 * {@link decodeResult} turns back; JSON.stringify would otherwise write it as an object of numbered keys.
 * @private
 */
export function encodeResult(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (!(name in TYPED)) throw new TypeError(`can't encode a ${name} in a job result`);
    return { $typed: name, base64: base64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map(encodeResult);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeResult(v);
    return out;
  }
  return value;
}

/** Inverse of {@link encodeResult}. @private */
export function decodeResult(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeResult);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$typed === 'string' && typeof o.base64 === 'string' && o.$typed in TYPED) {
      const bytes = Buffer.from(o.base64, 'base64');
      const Ctor = TYPED[o.$typed as TypedName];
      const copy = new Uint8Array(bytes.length); // aligned for the element size
      copy.set(bytes);
      return new Ctor(copy.buffer, 0, bytes.length / Ctor.BYTES_PER_ELEMENT);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeResult(v);
    return out;
  }
  return value;
}

// ---- failures -----------------------------------------------------------------------------------------------------

/** How a failed job's error comes back: BullMQ keeps only a message, so the code travels as its prefix. */
export interface JobError {
  /** `ERR_CRAFT_*` (or Node's `ERR_*`) code when the failure had one. */
  code?: string;
  /** 'TypeError' / 'RangeError' for invalid options, else 'Error'. */
  name: string;
  message: string;
}

/** "ERR_CRAFT_DECODE: could not decode…", "RangeError: Expected number…", "Error: …". @private */
export function failureReason(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const tag = typeof code === 'string' && /^ERR_[A-Z0-9_]+$/.test(code) ? code : e.name === 'TypeError' || e.name === 'RangeError' ? e.name : 'Error';
  return `${tag}: ${e.message}`;
}

/** Inverse of {@link failureReason}; a reason BullMQ wrote itself (a job that stalled too often) has no code. @private */
export function parseFailure(reason: string | undefined): JobError {
  const m = /^(ERR_[A-Z0-9_]+|TypeError|RangeError|Error): ([\s\S]*)$/.exec(reason ?? '');
  if (!m) return { name: 'Error', message: reason ?? 'unknown failure' };
  if (m[1].startsWith('ERR_')) return { code: m[1], name: 'Error', message: m[2] };
  return { name: m[1], message: m[2] };
}

/** Failures that will fail again however often they are retried: the job fails at once, with its code. @private */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'ERR_CRAFT_DECODE', 'ERR_CRAFT_INPUT_TOO_LARGE', 'ERR_CRAFT_INVALID_INPUT', 'ERR_CRAFT_JOB',
]);

/** @private */
export function isPermanent(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true; // bad options or input shape
  const e = err as { code?: unknown; permanent?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.permanent === true || PERMANENT_CODES.has(e.code as string));
}
