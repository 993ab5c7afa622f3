/*! craft-text | MIT */
// Loads the native addon ($CRAFT_TEXT_BINARY, a local build, the prebuild for this runtime). Types the raw exports.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AutoScaleConstants, RecognizerConfig } from './types';

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
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels: number; bgr?: boolean;
      /** Only craft-text holds `data` (a Mat's getData() copy): the addon reads it in place. */
      unshared?: boolean };

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
  /** Detectors only: scale 'auto''s constants in effect (binding/craft/autoscale.h ScaleConstants). */
  autoScale?: AutoScaleConstants;
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

/** prepare() and infer() of one request in one native call: prepare()'s result plus infer()'s output. @private */
export interface NativePreparedOutput extends NativePrepared {
  output: { ref: unknown; ms: number };
}

/** What prepareInferMany() resolves with: the run's output and each request's decode / pre-process ms. @private */
export interface NativeManyOutput {
  output: { ref: unknown; ms: number };
  decode: number[];
  preprocess: number[];
}

/** @private */
export interface NativeDetector {
  detect(input: NativeInput, options: NativeDetectOptions, control?: NativeRunControl): Promise<NativeResult>;
  detectBatch(inputs: NativeInput[], options: NativeDetectOptions, control?: NativeRunControl): Promise<NativeResult[]>;
  // Stages (the scheduler's path): prepare -> infer (a same-padded-shape batch) -> finish (per image).
  prepare(input: NativeInput, options: NativeDetectOptions, control?: NativeRunControl): Promise<NativePrepared>;
  infer(refs: unknown[], control?: NativeRunControl): Promise<{ ref: unknown; ms: number }>;
  /** prepare + infer of one image in one thread-pool job (the scheduler's path for a request it infers right away). */
  prepareInfer(input: NativeInput, options: NativeDetectOptions, control?: NativeRunControl): Promise<NativePreparedOutput>;
  /** `control` cancels the network passes of scale 'auto' that finish runs. */
  finish(prepared: unknown, output: unknown, index: number, options: NativeDetectOptions, control?: NativeRunControl): Promise<NativeResult>;
  /** Frees what the refs hold now (workers still using them keep their own reference). */
  release(...refs: unknown[]): void;
  info(): NativeModelInfo;
  runStats(): NativeRunStats;
  dispose(): void;
}

/** Options of the recogniser's stages; `regions` absent = the whole image is one line. @private */
export interface NativeRecognizeOptions {
  regions?: { coords: Float64Array; counts: Uint32Array };
  decoder: 'greedy' | 'beam';
  beamWidth: number;
  /** loadLanguageModel()'s ref, fused into the beam search when given. */
  languageModel?: unknown;
  lmWeight: number;
  insertionBonus: number;
  characterProbabilities: boolean;
  logits: boolean;
  rotationRetryThreshold: number;
  marginRetryThreshold: number;
  orientationRetryThreshold: number;
  contrastRetryThreshold: number;
  stretchRetryThreshold: number;
  verticalRatio: number;
  /** Read vertical crops both quarter turns and as stacked upright letters (binding/craft/vertical.h). */
  verticalRetry: boolean;
  /** Crop margin, a fraction of the text height (resolved: the option or the model's). */
  margin: number;
  /** Fit each crop to its word's ink (binding/craft/ink_crop.h). */
  inkCrop: boolean;
  maxBatch: number;
  maxPixels: number;
  /** Classes never read (the allowlist / blocklist: CTC class indices, never the blank 0; binding/craft/recognizer.h). */
  ignoredClasses?: Uint32Array;
}

/** @private */
export interface NativeRecognition {
  width: number;
  height: number;
  words: { text: string; confidence: number; characters?: number[]; logits?: Float32Array; rotation: number; skipped?: string }[];
  timings: { decode: number; preprocess: number; inference: number; postprocess: number; queue?: number };
  runs: number;
}

/** @private The native info() reports the recogniser's contract exactly as the public type describes it. */
export type NativeRecognizerConfig = RecognizerConfig;

/** @private */
export interface NativeRecognizer {
  prepare(input: NativeInput, options: NativeRecognizeOptions, control?: NativeRunControl): Promise<NativePrepared>;
  infer(refs: unknown[], control?: NativeRunControl): Promise<{ ref: unknown; ms: number }>;
  prepareInfer(input: NativeInput, options: NativeRecognizeOptions, control?: NativeRunControl): Promise<NativePreparedOutput>;
  /** Several calls prepared and inferred in one job (merged calls); finish(undefined, output.ref, i, options[i]) gives call i's. */
  prepareInferMany(inputs: NativeInput[], options: NativeRecognizeOptions[], control?: NativeRunControl): Promise<NativeManyOutput>;
  /** Settles at once (converting the words to JS is all it does). */
  finish(prepared: unknown, output: unknown, index: number, options: NativeRecognizeOptions, control?: NativeRunControl): Promise<NativeRecognition>;
  release(...refs: unknown[]): void;
  runStats(): NativeRunStats;
  info(): Omit<NativeModelInfo, 'refiner'> & { config: NativeRecognizerConfig };
  dispose(): void;
}

/** A model's network runs (binding/craft/session.h, RunGate): started since creation, running now, the most at once. @private */
export interface NativeRunStats {
  runs: number;
  running: number;
  peak: number;
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
  /** Network runs of the model at once, whoever starts them (the scheduler's `concurrency`); 0 = no limit. */
  maxConcurrentRuns?: number;
  runLanes?: number;
}

/** @private */
export interface Binding {
  createDetector(options: NativeCreateOptions): Promise<NativeDetector>;
  createRecognizer(options: NativeCreateOptions): Promise<NativeRecognizer>;
  /** Parses a character LM (tools/lm/ngram.py's file) off the JS thread. */
  loadLanguageModel(bytes: Uint8Array): Promise<{ order: number; ngrams: number; ref: unknown }>;
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

/** glibc or musl on Linux (detect-libc's order: the ldd script's text, then the process report), '' elsewhere. @private */
export function libcFamily(): 'glibc' | 'musl' | '' {
  if (process.platform !== 'linux') return '';
  try {
    const ldd = fs.readFileSync('/usr/bin/ldd', 'latin1');
    if (ldd.includes('musl')) return 'musl';
    if (ldd.includes('GNU C Library') || ldd.includes('glibc')) return 'glibc';
  } catch { /* no ldd: ask the process report */ }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The runtime a prebuild is made for (sharp's names): linux-x64, linuxmusl-x64, darwin-arm64, win32-x64, ... @private */
export function runtimePlatform(): string {
  return `${process.platform}${libcFamily() === 'musl' ? 'musl' : ''}-${process.arch}`;
}

/** @private */
export interface BindingCandidate { file: string; kind: 'override' | 'build' | 'prebuild' }

/**
 * Where craft.node is looked for, in order: $CRAFT_TEXT_BINARY alone when set; else a local build (build/Release,
 * present only when someone built from source, which must then win) and the prebuild for this runtime.
 * @private
 */
export function bindingCandidates(env: NodeJS.ProcessEnv = process.env): BindingCandidate[] {
  if (env.CRAFT_TEXT_BINARY) return [{ file: path.resolve(env.CRAFT_TEXT_BINARY), kind: 'override' }];
  return [
    { file: path.join(root, 'build', 'Release', 'craft.node'), kind: 'build' },
    { file: path.join(root, 'prebuilds', runtimePlatform(), 'craft.node'), kind: 'prebuild' },
  ];
}

/** True when /proc/cpuinfo shows no SSE4.2 or POPCNT: the prebuilt Linux x64 binary's baseline is x86-64-v2. */
function missingX64V2(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  try {
    const flags = / flags\s*:(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'latin1'))?.[1].split(' ') ?? [];
    return flags.length > 0 && !(flags.includes('sse4_2') && flags.includes('popcnt'));
  } catch { return false; }
}

/** The glibc a prebuild needs, from the craft.json written beside it by tools/prebuild.sh. */
function prebuildGlibc(file: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'craft.json'), 'utf8')) as { glibc?: string }).glibc;
  } catch { return undefined; }
}

/**
 * Loads the first candidate that loads. Failing all, one error (code ERR_CRAFT_BINDING) that lists what was tried
 * and the possible solutions, after sharp's loader. `load` is require (a parameter for the tests).
 * @private
 */
export function loadBinding(candidates: BindingCandidate[], load: (file: string) => unknown = require): Binding {
  const runtime = runtimePlatform();
  const tried: string[] = [];
  const failures: string[] = [];
  for (const { file, kind } of candidates) {
    if (!fs.existsSync(file)) { tried.push(`${file}: not found`); continue; }
    if (kind === 'prebuild' && missingX64V2()) {
      tried.push(`${file}: skipped, this CPU lacks SSE4.2/POPCNT (x86-64-v2), the prebuilt binary's baseline`);
      failures.push('x86-64-v2');
      continue;
    }
    try {
      return load(file) as Binding;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const message = `${e.code ? `${e.code}: ` : ''}${String(e.message).split('\n')[0]}`;
      tried.push(`${file}: ${message}`);
      failures.push(message);
    }
  }
  const solutions: string[] = [];
  const prebuildDir = path.join(root, 'prebuilds');
  const shipped = fs.existsSync(prebuildDir) ? fs.readdirSync(prebuildDir).sort() : [];
  if (candidates.some((c) => c.kind === 'override')) {
    solutions.push('- Check CRAFT_TEXT_BINARY (it points at a craft.node that is missing or does not load), or unset it');
  } else if (!shipped.includes(runtime)) {
    solutions.push(`- There is no prebuilt binary for ${runtime} (this package has: ${shipped.join(', ') || 'none'})`);
  }
  const glibcError = failures.find((f) => /GLIBC_|GLIBCXX_|CXXABI_/.test(f));
  if (glibcError) {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    const needs = prebuildGlibc(candidates[candidates.length - 1].file);
    solutions.push(`- Update your OS: found glibc ${report?.header?.glibcVersionRuntime ?? 'unknown'}` +
      (needs ? `, the prebuilt binary requires glibc >= ${needs}` : '') + ', or build from source (below)');
  }
  if (failures.some((f) => f.startsWith('ERR_DLOPEN_DISABLED'))) {
    solutions.push('- Run Node.js without the --no-addons flag');
  }
  solutions.push(
    '- Build from source: npm rebuild craft-text --build-from-source (needs CMake >= 3.18, a C++17 compiler,',
    '  OpenCV >= 4.2 with core, imgproc and imgcodecs, and giflib; on Debian/Ubuntu as root:',
    '  npm explore craft-text -- npm run setup-system)',
    '- See docs/install.md in the craft-text package',
  );
  const err = new Error([
    `Could not load the craft-text native addon for the ${runtime} runtime. Tried:`,
    ...tried.map((t) => `  - ${t}`),
    'Possible solutions:',
    ...solutions.map((s) => `  ${s}`),
  ].join('\n')) as Error & { code: string };
  err.code = 'ERR_CRAFT_BINDING';
  throw err;
}

let cached: Binding | undefined;

/** @private */
export function binding(): Binding {
  cached ??= loadBinding(bindingCandidates());
  return cached;
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
