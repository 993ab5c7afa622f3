/*! craft-text | MIT */
// Loads the native addon: a prebuild for this platform first, then a local build. Types the raw exports.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** @private */
export interface NativeWord {
  box: [number, number][];
  polygon?: [number, number][];
  score: number;
  rawScore: number;
  characters?: [number, number][][];
}

/** @private */
export interface NativeResult {
  width: number;
  height: number;
  words: NativeWord[];
  scale: number;
  heatmaps?: { width: number; height: number; region: Float32Array; affinity: Float32Array };
  timings: { decode: number; preprocess: number; inference: number; postprocess: number; queue?: number };
}

/** @private */
export type NativeInput =
  | { image: unknown }
  | { path: string }
  | { data: Uint8Array }
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels: number };

/** @private */
export interface NativeDetectOptions {
  textThreshold: number; linkThreshold: number; lowText: number; canvasSize: number; magRatio: number;
  polygons: boolean; heatmaps: boolean; refine: boolean; maxPixels: number;
  scale?: 'auto' | 'fixed'; characters?: boolean;
}

/** @private */
export interface NativeModelInfo {
  inputName: string;
  outputNames: string[];
  refiner: boolean;
  fixedBatch: number;
  executionProvider: string;
  providerAttempts: { name: string; ok: boolean; reason?: string }[];
  metadata: Record<string, string>;
}

/** @private */
export interface NativeRunControl { terminate(): void }

/** A decoded, pre-processed image held in C++ (`ref`), ready for inference. @private */
export interface NativePrepared {
  ref: unknown;
  width: number;
  height: number;
  paddedWidth: number;
  paddedHeight: number;
  decode: number;
  preprocess: number;
}

/** @private */
export interface NativeDetector {
  detect(input: NativeInput, options: NativeDetectOptions, control?: NativeRunControl): Promise<NativeResult>;
  detectBatch(inputs: NativeInput[], options: NativeDetectOptions, control?: NativeRunControl): Promise<NativeResult[]>;
  // Stages (the scheduler's path): prepare -> infer (a same-padded-shape batch) -> finish (per image).
  prepare(input: NativeInput, options: NativeDetectOptions, control?: NativeRunControl): Promise<NativePrepared>;
  infer(refs: unknown[], control?: NativeRunControl): Promise<{ ref: unknown; ms: number }>;
  finish(prepared: unknown, output: unknown, index: number, options: NativeDetectOptions): Promise<NativeResult>;
  /** Frees what the refs hold now (workers still using them keep their own reference). */
  release(...refs: unknown[]): void;
  info(): NativeModelInfo;
  dispose(): void;
}

/** Options of the recogniser's stages; `regions` absent = the whole image is one line. @private */
export interface NativeRecognizeOptions {
  regions?: { coords: Float64Array; counts: Uint32Array };
  decoder: 'greedy' | 'beam';
  beamWidth: number;
  characterProbabilities: boolean;
  rotationRetryThreshold: number;
  verticalRatio: number;
  maxBatch: number;
  maxPixels: number;
}

/** @private */
export interface NativeRecognition {
  width: number;
  height: number;
  words: { text: string; confidence: number; characters?: number[]; rotation: number; skipped?: string }[];
  timings: { decode: number; preprocess: number; inference: number; postprocess: number; queue?: number };
  runs: number;
}

/** @private */
export interface NativeRecognizerConfig {
  name: string;
  charset: string[];
  decoder: 'ctc' | 'attn';
  imgH: number;
  imgW: number;
  dynamicWidth: boolean;
  channels: 1 | 3;
  resize: 'squash' | 'pad';
  mean: number;
  std: number;
  confidence: 'dtrb' | 'easyocr';
  batchMaxLength: number;
}

/** @private */
export interface NativeRecognizer {
  prepare(input: NativeInput, options: NativeRecognizeOptions, control?: NativeRunControl): Promise<NativePrepared>;
  infer(refs: unknown[], control?: NativeRunControl): Promise<{ ref: unknown; ms: number }>;
  finish(prepared: unknown, output: unknown, index: number, options: NativeRecognizeOptions): Promise<NativeRecognition>;
  release(...refs: unknown[]): void;
  info(): Omit<NativeModelInfo, 'refiner'> & { config: NativeRecognizerConfig };
  dispose(): void;
}

/** @private */
export interface NativeCreateOptions {
  model: string | Uint8Array;
  ortLibrary: string;
  threads: number;
  interOpThreads: number;
  spinning: boolean;
  executionProviders: string[];
  deviceId: number;
}

/** @private */
export interface Binding {
  createDetector(options: NativeCreateOptions): Promise<NativeDetector>;
  createRecognizer(options: NativeCreateOptions): Promise<NativeRecognizer>;
  /** Decodes an image once (8-bit RGB held natively); `{ image: ref }` is then an input of detect and recognize. */
  decodeImage(input: NativeInput, options: { maxPixels: number }):
    Promise<{ ref: unknown; width: number; height: number; decode: number; bytes: number }>;
  releaseImage(...refs: unknown[]): void;
  postprocess(region: Float32Array, affinity: Float32Array, width: number, height: number,
    options: { textThreshold: number; linkThreshold: number; lowText: number; polygons: boolean }): Promise<NativeWord[]>;
  ortInfo(): { path: string; version: string; apiVersion: number } | null;
  setExternalBuffers(allowed?: boolean): boolean;
  RunControl: new () => NativeRunControl;
  opencvVersion: string;
  /** Decodes an encoded image, draws outlines and labels, encodes the picture (off the JS thread). */
  renderOverlay(image: Uint8Array, strokes: NativeStroke[], labels: NativeLabel[],
    options?: { format?: ImageFormat; maxPixels?: number; caption?: CaptionPiece[][] }): Promise<RenderedImage>;
  /** CRAFT's side-by-side JET picture of the region (left) and affinity (right) maps. */
  renderHeatmaps(region: Float32Array, affinity: Float32Array, width: number, height: number,
    options?: { format?: ImageFormat }): Promise<RenderedImage>;
}

/** @private */
export type ImageFormat = 'png' | 'jpg' | 'jpeg' | 'webp' | 'bmp' | 'tif' | 'tiff';

/** An outline for renderOverlay: [[x, y], ...] or flat [x0, y0, ...]; colour RGB; thickness 0/absent = automatic. @private */
export interface NativeStroke {
  points: [number, number][] | number[] | Float64Array | Float32Array;
  color: [number, number, number];
  thickness?: number;
  closed?: boolean;
}

/** A text label for renderOverlay, drawn on a filled background; (x, y) is its top-left corner. @private */
export interface NativeLabel {
  text: string;
  x: number;
  y: number;
  color?: [number, number, number];
  background?: [number, number, number];
  /** Text height in pixels (e.g. a word's own); absent = scaled to the image. */
  height?: number;
}

/** A piece of a caption row (rows are drawn in a dark band added above the image). @private */
export interface CaptionPiece {
  text: string;
  color?: [number, number, number];
}

/** @private */
export interface RenderedImage {
  data: Buffer;
  width: number;
  height: number;
}

const root = path.join(__dirname, '..');

/** Candidate locations of craft.node, in the order they are tried. @private */
export function bindingCandidates(): string[] {
  const platform = `${process.platform}-${process.arch}`;
  return [
    path.join(root, 'prebuilds', platform, 'craft.node'),
    path.join(root, 'build', 'Release', 'craft.node'),
  ];
}

let cached: Binding | undefined;

/** @private */
export function binding(): Binding {
  if (cached) return cached;
  const tried: string[] = [];
  for (const file of bindingCandidates()) {
    if (!fs.existsSync(file)) { tried.push(`${file} (missing)`); continue; }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file) as Binding;
      return cached;
    } catch (err) {
      tried.push(`${file} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  const err = new Error([
    'Could not load the craft-text native addon. Tried:',
    ...tried.map((t) => `  - ${t}`),
    'Possible solutions:',
    '  - Build it: npm run build:native (needs cmake, g++ and the packages installed by tools/setup-system.sh)',
    '  - Reinstall: npm ci (the install script builds the addon when no prebuild fits this platform)',
  ].join('\n')) as Error & { code: string };
  err.code = 'ERR_CRAFT_BINDING';
  throw err;
}

/**
 * Path of libonnxruntime.so.1: the `ortLibrary` option, else $CRAFT_TEXT_ORT_LIBRARY, else the CPU library shipped in
 * the onnxruntime-node package.
 * @private
 */
export function resolveOrtLibrary(option?: string): string {
  if (option) return option;
  const env = process.env.CRAFT_TEXT_ORT_LIBRARY;
  if (env) return env;
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    const err = new Error('Could not find the onnxruntime-node package; install it or pass ortLibrary') as Error & { code: string };
    err.code = 'ERR_CRAFT_ORT_LOAD';
    throw err;
  }
  const binDir = path.join(pkgDir, 'bin');
  const libName = process.platform === 'darwin' ? 'libonnxruntime.1.dylib'
    : process.platform === 'win32' ? 'onnxruntime.dll' : 'libonnxruntime.so.1';
  const napiDirs = fs.existsSync(binDir) ? fs.readdirSync(binDir).filter((d) => d.startsWith('napi-v')).sort().reverse() : [];
  for (const d of napiDirs) {
    const file = path.join(binDir, d, process.platform, process.arch, libName);
    if (fs.existsSync(file)) return file;
  }
  const err = new Error(`onnxruntime-node ships no ${libName} for ${process.platform}-${process.arch} under ${binDir}; pass ortLibrary`) as Error & { code: string };
  err.code = 'ERR_CRAFT_ORT_LOAD';
  throw err;
}
