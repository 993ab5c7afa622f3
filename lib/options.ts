/*! craft-text | MIT */
// Defaults and validation: every public option is checked here and turned into one flat object for C++.
import { types } from 'node:util';
import type { NativeCreateOptions, NativeDetectOptions, NativeInput, NativeRecognizeOptions } from './binding';
import { decodedRef } from './decoded';
import {
  checkBool, checkKnownKeys, checkNumber, integer, invalidParameterError, plainObject, string,
} from './is';
import type { CreateOptions, DetectOptions, ImageInput, MatLike, PostprocessOptions, HeatmapInput, Region } from './types';

/** CRAFT-pytorch test.py defaults. */
export const CRAFT_DEFAULTS = Object.freeze({
  textThreshold: 0.7,
  linkThreshold: 0.4,
  lowText: 0.4,
  canvasSize: 1280,
  magRatio: 1.5,
});

export type ModelDefaults = { -readonly [K in keyof typeof CRAFT_DEFAULTS]: number };

/** sharp's default pixel limit (0x3FFF * 0x3FFF). */
export const DEFAULT_MAX_PIXELS = 268402689;

const DETECT_KEYS = [
  'textThreshold', 'linkThreshold', 'lowText', 'canvasSize', 'magRatio', 'polygons', 'heatmaps', 'refine', 'maxPixels',
  'tiling', 'scale', 'characters',
] as const;
const CREATE_KEYS = [
  'model', 'threads', 'executionProviders', 'deviceId', 'ortLibrary', 'spinning',
  'concurrency', 'stageConcurrency', 'maxQueue', 'batch',
] as const;
const PROVIDERS = ['cpu', 'cuda', 'tensorrt'];

function checkThresholds(o: Record<string, unknown>, base: { textThreshold: number; linkThreshold: number; lowText: number }) {
  return {
    textThreshold: o.textThreshold === undefined ? base.textThreshold : checkNumber('textThreshold', o.textThreshold, 0, 1),
    linkThreshold: o.linkThreshold === undefined ? base.linkThreshold : checkNumber('linkThreshold', o.linkThreshold, 0, 1),
    lowText: o.lowText === undefined ? base.lowText : checkNumber('lowText', o.lowText, 0, 1),
  };
}

/** Tiling as the native layer takes it: a mode, a tile size (0 = canvasSize) and an overlap (-1 = default). @private */
export interface NativeTilingOptions { tiling: 'auto' | 'off' | 'on'; tileSize: number; tileOverlap: number }

/** Validates the `tiling` option: 'auto' | 'off' | { tileSize?, overlap? } (an object turns tiling on). @private */
export function tilingOptions(v: unknown): NativeTilingOptions {
  if (v === undefined || v === 'auto') return { tiling: 'auto', tileSize: 0, tileOverlap: -1 };
  if (v === 'off') return { tiling: 'off', tileSize: 0, tileOverlap: -1 };
  if (!plainObject(v)) throw invalidParameterError('tiling', "'auto', 'off' or { tileSize, overlap }", v);
  checkKnownKeys('tiling property', v, ['tileSize', 'overlap']);
  const tileSize = v.tileSize === undefined ? 0 : checkNumber('tiling.tileSize', v.tileSize, 64, 32768, true);
  if (tileSize % 32 !== 0) throw invalidParameterError('tiling.tileSize', 'multiple of 32 between 64 and 32768', tileSize, true);
  const maxOverlap = tileSize > 0 ? tileSize / 2 : 16384;
  const tileOverlap = v.overlap === undefined ? -1 : checkNumber('tiling.overlap', v.overlap, 0, maxOverlap, true);
  return { tiling: 'on', tileSize, tileOverlap };
}

/** Validates detect() options against `defaults` (test.py's or the model's). @private */
export function detectOptions(options: unknown, defaults: ModelDefaults, extraKeys: readonly string[] = []): NativeDetectOptions & NativeTilingOptions {
  if (options === undefined) options = {};
  if (!plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  checkKnownKeys('option', options, [...DETECT_KEYS, ...extraKeys]);
  const o = options;
  const maxPixels = o.maxPixels === undefined ? DEFAULT_MAX_PIXELS
    : o.maxPixels === false ? 0 : checkNumber('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER, true);
  return {
    ...checkThresholds(o, defaults),
    canvasSize: o.canvasSize === undefined ? defaults.canvasSize : checkNumber('canvasSize', o.canvasSize, 32, 32768, true),
    magRatio: o.magRatio === undefined ? defaults.magRatio : checkNumber('magRatio', o.magRatio, 0.01, 32),
    polygons: o.polygons === undefined ? false : checkBool('polygons', o.polygons),
    heatmaps: o.heatmaps === undefined ? false : checkBool('heatmaps', o.heatmaps),
    refine: o.refine === undefined ? false : checkBool('refine', o.refine),
    maxPixels,
    ...tilingOptions(o.tiling),
    scale: scaleOption(o),
    characters: o.characters === undefined ? false : checkBool('characters', o.characters),
  };
}

/**
 * `scale`: 'auto' (the default) or 'fixed'; a caller who sets canvasSize or magRatio without saying `scale` means the
 * fixed geometry those describe. @private
 */
export function scaleOption(o: Record<string, unknown>): 'auto' | 'fixed' {
  if (o.scale === undefined) return o.canvasSize === undefined && o.magRatio === undefined ? 'auto' : 'fixed';
  if (o.scale !== 'auto' && o.scale !== 'fixed') throw invalidParameterError('scale', "'auto' or 'fixed'", o.scale);
  return o.scale;
}

/**
 * A path argument: a non-empty string without NUL bytes (node:fs refuses those too: C APIs would open the prefix,
 * 'a.png\0.txt' -> 'a.png'). @private
 */
export function checkPath(name: string, v: string, expected = 'non-empty file path'): string {
  if (v.length === 0) throw invalidParameterError(name, expected, v);
  if (v.includes('\0')) throw new TypeError(`Expected ${expected} without NUL bytes for ${name} but received a string with a NUL byte at index ${v.indexOf('\0')}`);
  return v;
}

/**
 * Validates an image input and turns it into the native descriptor. Typed arrays are recognised by what they are
 * (util.types), not by their prototype chain, so look-alikes (a Proxy of a Uint8Array, an object whose prototype is
 * Uint8Array.prototype) are refused here, before the scheduler takes a slot for them; only own properties of an input
 * object are read (a polluted Object.prototype adds nothing). The binding copies the bytes (binding/input.h).
 * @private
 */
export function imageInput(input: unknown, name = 'input'): NativeInput {
  const decoded = decodedRef(input, name);
  if (decoded !== undefined) return { image: decoded };
  if (typeof input === 'string') return { path: checkPath(name, input) };
  if (types.isArrayBuffer(input)) return { data: new Uint8Array(input) };
  if (types.isUint8Array(input)) return { data: input };
  if (isMatLike(input)) return matInput(input, name);
  if (plainObject(input) && Object.hasOwn(input, 'data')) {
    checkKnownKeys(`${name} property`, input, ['data', 'width', 'height', 'channels', 'channelOrder']);
    const own = (key: string): unknown => (Object.hasOwn(input, key) ? input[key] : undefined);
    const data = own('data'), width = own('width'), height = own('height'), channels = own('channels');
    const channelOrder = own('channelOrder');
    if (!(types.isUint8Array(data) || types.isUint8ClampedArray(data))) {
      throw invalidParameterError(`${name}.data`, 'Uint8Array or Uint8ClampedArray', data);
    }
    const w = checkNumber(`${name}.width`, width, 1, 1 << 30, true);
    const h = checkNumber(`${name}.height`, height, 1, 1 << 30, true);
    if (channels !== 1 && channels !== 3 && channels !== 4) {
      throw invalidParameterError(`${name}.channels`, 'one of 1, 3, 4', channels, typeof channels === 'number');
    }
    const needed = w * h * channels;
    if (data.length < needed) {
      throw new RangeError(`Expected ${name}.data to hold width*height*channels = ${needed} bytes but received ${data.length}`);
    }
    if (channelOrder !== undefined && channelOrder !== 'rgb' && channelOrder !== 'bgr') {
      throw invalidParameterError(`${name}.channelOrder`, "one of 'rgb', 'bgr'", channelOrder);
    }
    return { data: data as Uint8Array, width: w, height: h, channels, ...(channelOrder === 'bgr' ? { bgr: true } : {}) };
  }
  throw invalidParameterError(name, 'file path, Buffer, Uint8Array, ArrayBuffer, { data, width, height, channels }, DecodedImage or an opencv4nodejs Mat', input);
}

/** An opencv4nodejs Mat, by duck typing (no dependency on the package): rows, cols, channels and getData(). */
function isMatLike(v: unknown): v is MatLike {
  const m = v as Partial<MatLike> | null;
  return typeof m === 'object' && m !== null && typeof m.getData === 'function' && typeof m.rows === 'number' &&
    typeof m.cols === 'number' && typeof m.channels === 'number';
}

/** A Mat's pixels as a BGR(A) raw input: getData() is opencv4nodejs's one copy out of the Mat; no other is made. */
function matInput(mat: MatLike, name: string): NativeInput {
  const depth = typeof mat.depth === 'number' ? mat.depth : typeof mat.type === 'number' ? mat.type & 7 : undefined;
  if (depth !== 0) {
    throw invalidParameterError(`${name}.depth`, 'CV_8U (0), an 8-bit Mat: convertTo(cv.CV_8U) first', depth, typeof depth === 'number');
  }
  if (mat.channels !== 1 && mat.channels !== 3 && mat.channels !== 4) {
    throw invalidParameterError(`${name}.channels`, 'one of 1, 3, 4', mat.channels, true);
  }
  const width = checkNumber(`${name}.cols`, mat.cols, 1, 1 << 30, true);
  const height = checkNumber(`${name}.rows`, mat.rows, 1, 1 << 30, true);
  const data = mat.getData();
  if (!(data instanceof Uint8Array)) throw invalidParameterError(`${name}.getData()`, 'Buffer or Uint8Array', data);
  if (data.length !== width * height * mat.channels) {
    throw new RangeError(`Expected ${name}.getData() to return rows*cols*channels = ${width * height * mat.channels} bytes but received ${data.length}`);
  }
  // unshared: nobody else holds this buffer, so the addon reads it in place instead of copying it (issue-12's rule
  // for caller-owned memory).
  return { data, width, height, channels: mat.channels, bgr: mat.channels !== 1, unshared: true };
}

/** Validates Detector.create() / Recognizer.create() options (the model and ortLibrary are resolved by the caller). @private */
export function createOptions(options: unknown, own: readonly string[] = []): Omit<NativeCreateOptions, 'model' | 'ortLibrary'> & Pick<CreateOptions, 'model' | 'ortLibrary'> {
  if (options === undefined) options = {};
  if (!plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  checkKnownKeys('option', options, [...CREATE_KEYS, ...own]);
  const o = options as Record<string, unknown>;
  if (o.model !== undefined && !(string(o.model) && o.model.length > 0) && !types.isUint8Array(o.model)) {
    throw invalidParameterError('model', 'model path or Uint8Array', o.model);
  }
  if (string(o.model)) checkPath('model', o.model, 'model path');
  if (o.ortLibrary !== undefined && !(string(o.ortLibrary) && o.ortLibrary.length > 0)) {
    throw invalidParameterError('ortLibrary', 'path of an ONNX Runtime library', o.ortLibrary);
  }
  if (string(o.ortLibrary)) checkPath('ortLibrary', o.ortLibrary, 'path of an ONNX Runtime library');
  let providers = ['cpu'];
  if (o.executionProviders !== undefined) {
    if (!Array.isArray(o.executionProviders) || o.executionProviders.length === 0) {
      throw invalidParameterError('executionProviders', 'non-empty array of provider names', o.executionProviders);
    }
    providers = o.executionProviders.map((p: unknown, i: number) => {
      if (typeof p !== 'string' || !PROVIDERS.includes(p)) {
        throw invalidParameterError(`executionProviders[${i}]`, `one of ${PROVIDERS.join(', ')}`, p, typeof p === 'string');
      }
      return p;
    });
  }
  return {
    model: o.model as string | Uint8Array | undefined,
    ortLibrary: o.ortLibrary as string | undefined,
    threads: o.threads === undefined ? 0 : checkNumber('threads', o.threads, 0, 1024, true),
    interOpThreads: 1,
    // Off by default: spinning workers burn CPU that decoding/post-processing of other requests needs (docs/throughput.md).
    spinning: o.spinning === undefined ? false : checkBool('spinning', o.spinning),
    executionProviders: providers,
    deviceId: o.deviceId === undefined ? 0 : checkNumber('deviceId', o.deviceId, 0, 1024, true),
  };
}

/**
 * A number in a model's ONNX metadata, read as the addon reads every metadata number (binding/craft/metadata.h
 * ParseMetadataNumber): a plain decimal as craft-text's writers emit it (digits, sign, point, exponent; at most 32
 * characters; finite), else undefined. `Number()` alone would also take hex/binary/octal, surrounding white space and
 * '' (as 0). @private
 */
export function metadataNumber(text: string): number | undefined {
  if (!/^[0-9.eE+-]{1,32}$/.test(text)) return undefined;
  // The characters checked, Number() and strtod take the same strings whole: [sign] digits [. digits] [exponent].
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Model defaults from ONNX metadata (`craft.textThreshold`, …), falling back to test.py's. Like the addon's scale
 * constants (binding/craft/metadata.h), a value that is not a plain decimal in the option's range is ignored: the
 * model still runs with test.py's default. @private
 */
export function modelDefaults(metadata: Record<string, string>): ModelDefaults {
  const d: ModelDefaults = { ...CRAFT_DEFAULTS };
  const ranges: Record<keyof ModelDefaults, [number, number, boolean]> = {
    textThreshold: [0, 1, false], linkThreshold: [0, 1, false], lowText: [0, 1, false],
    canvasSize: [32, 32768, true], magRatio: [0.01, 32, false],
  };
  for (const key of Object.keys(ranges) as (keyof ModelDefaults)[]) {
    const raw = metadata[`craft.${key}`];
    if (raw === undefined) continue;
    const v = metadataNumber(raw);
    const [min, max, int] = ranges[key];
    if (v !== undefined && v >= min && v <= max && (!int || integer(v))) d[key] = v;
  }
  return d;
}

/** Validates postprocess() arguments. @private */
export function postprocessArgs(heatmaps: unknown, options: unknown): { maps: HeatmapInput; opts: Required<PostprocessOptions> } {
  if (!plainObject(heatmaps)) throw invalidParameterError('heatmaps', 'object { region, affinity, width, height }', heatmaps);
  const { region, affinity, width, height } = heatmaps as Record<string, unknown>;
  const w = checkNumber('heatmaps.width', width, 1, 1 << 20, true);
  const h = checkNumber('heatmaps.height', height, 1, 1 << 20, true);
  for (const [name, map] of [['heatmaps.region', region], ['heatmaps.affinity', affinity]] as const) {
    if (!types.isFloat32Array(map)) throw invalidParameterError(name, 'Float32Array', map);
    if (map.length !== w * h) {
      throw new RangeError(`Expected ${name} to hold width*height = ${w * h} values but received ${map.length}`);
    }
    // NaN poisons the reference's max() test (a NaN component is kept with a NaN score): refuse it instead.
    for (let i = 0; i < map.length; i++) {
      if (!Number.isFinite(map[i])) throw new RangeError(`heatmaps.${name.slice(9)} contains a non-finite value at index ${i}`);
    }
  }
  if (options === undefined) options = {};
  if (!plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  checkKnownKeys('option', options, ['textThreshold', 'linkThreshold', 'lowText', 'polygons']);
  const o = options as Record<string, unknown>;
  return {
    maps: { region: region as Float32Array, affinity: affinity as Float32Array, width: w, height: h },
    opts: {
      ...checkThresholds(o, CRAFT_DEFAULTS),
      polygons: o.polygons === undefined ? false : checkBool('polygons', o.polygons),
    },
  };
}

// ---- scheduling (docs/throughput.md) ------------------------------------------------------------------------------

/** Scheduling defaults: measured on a 2-core CPU (bench/throughput.js, docs/throughput.md). */
export const SCHEDULER_DEFAULTS = Object.freeze({
  concurrency: 1,
  stageConcurrency: 1,
  maxQueue: Infinity,
  batch: Object.freeze({ maxSize: 1, maxDelayMs: 2 }),
});

/** The scheduling options, validated (and their defaults). */
type SchedulerSettings = { concurrency: number; stageConcurrency: number; maxQueue: number; batch: { maxSize: number; maxDelayMs: number } };

/**
 * The recogniser's: concurrent calls merged into shared inference runs of up to 32 crops (the default batchSize, so a
 * full merged run is one network run per padded width), never waiting for partners: calls prepared while a run is
 * busy share the next one (docs/recognition.md#merged-calls).
 */
export const RECOGNIZER_SCHEDULER_DEFAULTS = Object.freeze({
  ...SCHEDULER_DEFAULTS,
  batch: Object.freeze({ maxSize: 32, maxDelayMs: 0 }),
});

/** Validates the scheduling part of Detector.create() / Recognizer.create() options. @private */
export function schedulerOptions(options: unknown, d: SchedulerSettings = SCHEDULER_DEFAULTS): SchedulerSettings {
  const o = (plainObject(options) ? options : {}) as Record<string, unknown>;
  let batch: { maxSize: number; maxDelayMs: number } = { ...d.batch };
  if (o.batch !== undefined) {
    if (!plainObject(o.batch)) throw invalidParameterError('batch', 'object { maxSize, maxDelayMs }', o.batch);
    checkKnownKeys('batch property', o.batch, ['maxSize', 'maxDelayMs']);
    const b = o.batch;
    batch = {
      maxSize: b.maxSize === undefined ? d.batch.maxSize : checkNumber('batch.maxSize', b.maxSize, 1, 1024, true),
      maxDelayMs: b.maxDelayMs === undefined ? d.batch.maxDelayMs : checkNumber('batch.maxDelayMs', b.maxDelayMs, 0, 60000),
    };
  }
  return {
    concurrency: o.concurrency === undefined ? d.concurrency : checkNumber('concurrency', o.concurrency, 1, 256, true),
    stageConcurrency: o.stageConcurrency === undefined ? d.stageConcurrency
      : checkNumber('stageConcurrency', o.stageConcurrency, 1, 256, true),
    maxQueue: o.maxQueue === undefined || o.maxQueue === Infinity ? d.maxQueue
      : checkNumber('maxQueue', o.maxQueue, 0, Number.MAX_SAFE_INTEGER, true),
    batch,
  };
}

/** Keys of detect() options handled by the scheduler rather than the native layer. @private */
export const RUN_KEYS = ['signal', 'timeoutMs'] as const;

/** Validates `signal` and `timeoutMs` of detect()/detectBatch(). @private */
export function runOptions(options: unknown): { signal?: AbortSignal; timeoutMs?: number } {
  if (!plainObject(options)) return {};
  const { signal, timeoutMs } = options;
  // Duck-typed so signals from another realm (vm contexts, polyfills) work too.
  const isSignal = (v: unknown) => typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' &&
    typeof (v as AbortSignal).addEventListener === 'function';
  if (signal !== undefined && !isSignal(signal)) throw invalidParameterError('signal', 'AbortSignal', signal);
  return {
    signal: signal as AbortSignal | undefined,
    timeoutMs: timeoutMs === undefined ? undefined : checkNumber('timeoutMs', timeoutMs, 0, 2147483647),
  };
}

/** Validates detectBatch()'s `batchSize`. @private */
export function batchSizeOption(options: unknown, fallback: number): number {
  if (!plainObject(options) || options.batchSize === undefined) return fallback;
  return checkNumber('batchSize', options.batchSize, 1, 1024, true);
}

// ---- recognition (docs/api.md, docs/recognition.md) ---------------------------------------------------------------

/** Most regions one recognize() call takes (a bound on the work and memory of one call). */
export const MAX_REGIONS = 100000;

/** Defaults of recognize(). */
export const RECOGNIZE_DEFAULTS = Object.freeze({
  decoder: 'greedy' as const,
  beamWidth: 5,
  // The recogniser's character LM fused into the beam search (docs/recognition.md#language-model), when it has one;
  // alpha and beta chosen on the LM's tuning words (tools/lm/), not on the dev sets.
  languageModel: true,
  lmWeight: 0.3,
  insertionBonus: 2,
  characterProbabilities: false,
  logits: false,
  rotationRetryThreshold: 0.1,
  marginRetryThreshold: 0,
  orientationRetryThreshold: 0.2,
  contrastRetryThreshold: 0,
  stretchRetryThreshold: 0.2,
  verticalRatio: 1.5,
  verticalRetry: true,
  inkCrop: true,
  batchSize: 32,
});

const RECOGNIZE_KEYS = ['decoder', 'beamWidth', 'languageModel', 'lmWeight', 'insertionBonus', 'characterProbabilities',
  'logits', 'rotationRetryThreshold', 'marginRetryThreshold', 'orientationRetryThreshold', 'contrastRetryThreshold',
  'stretchRetryThreshold', 'verticalRatio', 'verticalRetry', 'margin', 'inkCrop', 'batchSize', 'maxPixels',
  'usePolygons', 'allowlist', 'blocklist'] as const;

/**
 * recognize()'s `allowlist` / `blocklist` as the classes never read (EasyOCR's ignore_idx: the charset's characters
 * outside the allowlist or in the blocklist; CTC class i = charset[i - 1], the blank 0 never), or undefined when none
 * is. Characters are code points, as the charset's entries. @private
 */
export function ignoredClasses(o: Record<string, unknown>, model: { decoder: 'ctc' | 'attn'; charset: readonly string[] }):
  Uint32Array | undefined {
  const { allowlist, blocklist } = o;
  if (allowlist === undefined && blocklist === undefined) return undefined;
  for (const [key, v] of [['allowlist', allowlist], ['blocklist', blocklist]] as const) {
    if (v !== undefined && typeof v !== 'string') throw invalidParameterError(key, 'string of characters', v);
  }
  if (model.decoder !== 'ctc') {
    // The graph feeds each step's own (unmasked) choice to the next: masking its outputs afterwards would read steps
    // conditioned on characters the list forbids.
    throw new TypeError('allowlist and blocklist need a CTC model; this recogniser decodes with attention (its steps ' +
      'are fed their own unmasked choices inside the graph)');
  }
  const charset = new Set(model.charset);
  const characters = (key: string, v: string): Set<string> => {
    const missing = [...new Set([...v].filter((c) => !charset.has(c)))];
    if (missing.length > 0) {
      throw new RangeError(`Expected characters of the model's charset for ${key} but received ${missing.length} not ` +
        `in it: ${JSON.stringify(missing.join(''))}`);
    }
    return new Set(v);
  };
  const allowed = allowlist === undefined ? charset : characters('allowlist', allowlist as string);
  const blocked = blocklist === undefined ? new Set<string>() : characters('blocklist', blocklist as string);
  const ignored: number[] = [];
  model.charset.forEach((c, i) => { if (!allowed.has(c) || blocked.has(c)) ignored.push(i + 1); });
  if (ignored.length === model.charset.length) {
    const what = allowlist === undefined ? 'blocklist' : blocklist === undefined ? 'allowlist' : 'allowlist and blocklist';
    throw new RangeError(`Expected ${what} to leave at least one of the model's characters to read but none is left`);
  }
  return ignored.length > 0 ? Uint32Array.from(ignored) : undefined;
}

/**
 * Validates recognize() options (`signal`/`timeoutMs` are runOptions'); `model` gives the model's decoder, charset,
 * default crop margin and whether the recogniser has a language model (truthy: its `info.languageModel`). The
 * result's `languageModel` says whether to fuse it (the caller passes the model itself to C++). @private
 */
export function recognizeOptions(options: unknown,
  model: { decoder: 'ctc' | 'attn'; margin: number; charset: readonly string[]; languageModel: unknown },
  extraKeys: readonly string[] = RUN_KEYS): Omit<NativeRecognizeOptions, 'regions' | 'languageModel'> & { usePolygons: boolean; languageModel: boolean } {
  if (options === undefined) options = {};
  if (!plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  checkKnownKeys('option', options, [...RECOGNIZE_KEYS, ...extraKeys]);
  const o = options;
  const d = RECOGNIZE_DEFAULTS;
  if (o.decoder !== undefined && o.decoder !== 'greedy' && o.decoder !== 'beam') {
    throw invalidParameterError('decoder', "'greedy' or 'beam'", o.decoder);
  }
  if (o.decoder === 'beam' && model.decoder !== 'ctc') {
    throw new TypeError("decoder 'beam' needs a CTC model; this recogniser decodes with attention (its steps are greedy)");
  }
  const ignored = ignoredClasses(o, model);
  if (o.languageModel !== undefined) checkBool('languageModel', o.languageModel);
  if (o.languageModel === true && !model.languageModel) {
    throw new TypeError('languageModel needs a recogniser with a language model (Recognizer.create({ languageModel }))');
  }
  if (o.languageModel === true && o.decoder === 'greedy') {
    throw new TypeError("languageModel is fused into the beam search: it needs decoder 'beam' (or no decoder)");
  }
  // On by default when the recogniser has one, unless the greedy decoder is asked for.
  const lm = Boolean(model.languageModel) && (o.languageModel as boolean | undefined ?? (o.decoder !== 'greedy' && d.languageModel));
  const vr = o.verticalRatio;
  // A retry's confidence threshold: 0 (off) to 1.
  const threshold = <K extends 'rotationRetryThreshold' | 'marginRetryThreshold' | 'orientationRetryThreshold'
    | 'contrastRetryThreshold' | 'stretchRetryThreshold'>(key: K) => (o[key] === undefined ? d[key] : checkNumber(key, o[key], 0, 1));
  return {
    decoder: lm ? 'beam' : (o.decoder as 'greedy' | 'beam' | undefined) ?? d.decoder,
    beamWidth: o.beamWidth === undefined ? d.beamWidth : checkNumber('beamWidth', o.beamWidth, 1, 100, true),
    languageModel: lm,
    lmWeight: o.lmWeight === undefined ? d.lmWeight : checkNumber('lmWeight', o.lmWeight, 0, 10),
    insertionBonus: o.insertionBonus === undefined ? d.insertionBonus : checkNumber('insertionBonus', o.insertionBonus, -20, 20),
    characterProbabilities: o.characterProbabilities === undefined ? d.characterProbabilities
      : checkBool('characterProbabilities', o.characterProbabilities),
    logits: o.logits === undefined ? d.logits : checkBool('logits', o.logits),
    rotationRetryThreshold: threshold('rotationRetryThreshold'),
    marginRetryThreshold: threshold('marginRetryThreshold'),
    orientationRetryThreshold: threshold('orientationRetryThreshold'),
    contrastRetryThreshold: threshold('contrastRetryThreshold'),
    stretchRetryThreshold: threshold('stretchRetryThreshold'),
    verticalRatio: vr === undefined ? d.verticalRatio : vr === Infinity ? Infinity : checkNumber('verticalRatio', vr, 1, 1e6),
    verticalRetry: o.verticalRetry === undefined ? d.verticalRetry : checkBool('verticalRetry', o.verticalRetry),
    margin: o.margin === undefined ? model.margin : checkNumber('margin', o.margin, 0, 1),
    inkCrop: o.inkCrop === undefined ? d.inkCrop : checkBool('inkCrop', o.inkCrop),
    maxBatch: o.batchSize === undefined ? d.batchSize : checkNumber('batchSize', o.batchSize, 1, 1024, true),
    maxPixels: o.maxPixels === undefined ? DEFAULT_MAX_PIXELS
      : o.maxPixels === false ? 0 : checkNumber('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER, true),
    usePolygons: o.usePolygons === undefined ? true : checkBool('usePolygons', o.usePolygons),
    ...(ignored !== undefined ? { ignoredClasses: ignored } : {}),
  };
}

/**
 * Settings of read()'s `join` (docs/recognition.md#split-words), off by default since the 256-wide recogniser and the
 * crops fitted to the ink (session 11): with them it measured level end to end (ICDAR 2013 -0.35, FUNSD +0.09 spotting
 * points), joined words that were two ('Ask a' -> 'Aska') and cost a fifth more recognition time.
 */
export const JOIN_DEFAULTS = Object.freeze({ maxGap: 0.3, maxConfidence: 0.9, maxWords: 4 });

/** Validates read()'s `join` option: true = JOIN_DEFAULTS, undefined/false = off (undefined), or { maxGap, maxConfidence, maxWords }. @private */
export function readJoinOptions(v: unknown): { maxGap: number; maxConfidence: number; maxWords: number } | undefined {
  if (v === false || v === undefined) return undefined;
  if (v === true) return { ...JOIN_DEFAULTS };
  if (!plainObject(v)) throw invalidParameterError('join', 'boolean or { maxGap, maxConfidence, maxWords }', v);
  checkKnownKeys('join option', v, ['maxGap', 'maxConfidence', 'maxWords']);
  const d = JOIN_DEFAULTS;
  return {
    maxGap: v.maxGap === undefined ? d.maxGap : checkNumber('join.maxGap', v.maxGap, 0, 10),
    maxConfidence: v.maxConfidence === undefined ? d.maxConfidence : checkNumber('join.maxConfidence', v.maxConfidence, 0, 1),
    maxWords: v.maxWords === undefined ? d.maxWords : checkNumber('join.maxWords', v.maxWords, 2, 16, true),
  };
}

function checkPoints(name: string, v: unknown, min: number): number {
  if (!Array.isArray(v)) throw invalidParameterError(name, 'array of [x, y] points', v);
  if (v.length < min) throw invalidParameterError(name, `array of at least ${min} [x, y] points`, v);
  v.forEach((p, j) => {
    if (!Array.isArray(p) || p.length !== 2) throw invalidParameterError(`${name}[${j}]`, '[x, y] point', p);
    for (let k = 0; k < 2; k++) {
      const c = p[k];
      if (typeof c !== 'number' || !Number.isFinite(c)) throw invalidParameterError(`${name}[${j}][${k}]`, 'finite number', c);
    }
  });
  return v.length;
}

/**
 * Validates regions (4-point boxes, or detect()'s words `{ box, polygon? }`) and flattens them for C++. A word's
 * polygon is used when it has 6 or more points (an even count, CRAFT's top/bottom pairs) and `usePolygons` is on.
 * @private
 */
export function regionsInput(regions: unknown, usePolygons: boolean): { coords: Float64Array; counts: Uint32Array } {
  if (!Array.isArray(regions)) throw invalidParameterError('regions', 'array of boxes or words', regions);
  if (regions.length > MAX_REGIONS) {
    throw new RangeError(`Expected at most ${MAX_REGIONS} regions per call but received ${regions.length}`);
  }
  const coords: number[] = [];
  const counts = new Uint32Array(regions.length);
  regions.forEach((r: unknown, i: number) => {
    const name = `regions[${i}]`;
    if (Array.isArray(r)) {
      if (r.length !== 4) throw invalidParameterError(name, 'box of 4 [x, y] points', r);
      counts[i] = checkPoints(name, r, 4);
      for (const p of r as Region) coords.push(p[0], p[1]);
      return;
    }
    // Own properties only: a polluted Object.prototype can't supply a box or a polygon.
    if (!plainObject(r) || !Object.hasOwn(r, 'box')) throw invalidParameterError(name, 'box of 4 points or a word { box, polygon? }', r);
    const box = r.box;
    if (!Array.isArray(box) || box.length !== 4) throw invalidParameterError(`${name}.box`, 'box of 4 [x, y] points', box);
    checkPoints(`${name}.box`, box, 4);
    const poly = Object.hasOwn(r, 'polygon') ? r.polygon : undefined;
    if (poly !== undefined) checkPoints(`${name}.polygon`, poly, 4);
    const usePoly = usePolygons && Array.isArray(poly) && poly.length >= 6 && poly.length % 2 === 0;
    const pts = (usePoly ? poly : box) as Region;
    counts[i] = pts.length;
    for (const p of pts) coords.push(p[0], p[1]);
  });
  return { coords: Float64Array.from(coords), counts };
}
