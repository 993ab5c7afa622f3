/*! craft-text | MIT */

export type { DetectorStats, HistogramSnapshot, SchedulerConfig } from './stats';
import type { DecodedImage } from './image';

/** A point `[x, y]` in pixels. */
export type Point = [number, number];

/** One detected word. */
export interface Word {
  /** Four corners, clockwise from the top-left (CRAFT's order), in original-image pixels. */
  box: [Point, Point, Point, Point];
  /** With `polygons: true`: CRAFT's polygon (getPoly_core), or the box where the reference finds none. */
  polygon?: Point[];
  /**
   * Confidence in [0, 1] for any model: the mean, over the word's characters (the region map's peaks along the word),
   * of each peak's region score capped at 1 (the score CRAFT trains a character's centre to). 1 = every character is
   * as certain as the training target; one faint character lowers it. See docs/api.md.
   */
  score: number;
  /** The reference-style score: the highest region score inside the word's component (may exceed 1). */
  rawScore: number;
  /**
   * With `characters: true`: one box per character (four corners, clockwise from the top-left) in original-image
   * pixels, in reading order, from the region map's peaks inside the word.
   */
  characters?: [Point, Point, Point, Point][];
}

/** Raw interleaved 8-bit pixels, as `sharp().raw()` or a canvas `ImageData` gives them (RGB/RGBA order). */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** `'bgr'` for pixels in OpenCV's BGR(A) order (swapped natively while reading); default `'rgb'`. */
  channelOrder?: 'rgb' | 'bgr';
}

/**
 * An opencv4nodejs `Mat` (`@u4/opencv4nodejs` or another fork, recognised by shape, not class): 8-bit (CV_8U),
 * 1, 3 or 4 channels, BGR(A) as OpenCV holds it. Its pixels are read once with `getData()`.
 */
export interface MatLike {
  rows: number;
  cols: number;
  channels: number;
  /** CV_8U = 0; when absent, taken from `type`. */
  depth?: number;
  type?: number;
  getData(): Uint8Array;
}

/**
 * A file path, an encoded image (JPEG, PNG, BMP, TIFF, WebP, GIF), raw pixels, an opencv4nodejs `Mat`, or an image
 * decoded once with `decodeImage()` (read by the detector and the recogniser without decoding it again).
 */
export type ImageInput = string | Uint8Array | ArrayBuffer | RawImage | MatLike | DecodedImage;

/** Options of `detect()`. Defaults are CRAFT-pytorch's `test.py` values unless the model carries its own. */
export interface DetectOptions {
  /**
   * Cancels the call: a queued request is dropped, a running inference is terminated (ONNX Runtime stops after the
   * operator in progress). The promise rejects with an AbortError (`name` 'AbortError', `code` 'ABORT_ERR', the
   * signal's reason as `cause`), like Node's own APIs.
   */
  signal?: AbortSignal;
  /**
   * Deadline in milliseconds, counted from the call (time spent queued included). When it passes, the request is
   * cancelled as by `signal` and the promise rejects with `code` ERR_CRAFT_TIMEOUT. Default: none.
   */
  timeoutMs?: number;
  /** Minimum region score a word must reach somewhere (text_threshold). Default 0.7. */
  textThreshold?: number;
  /** Affinity (link) binarisation threshold (link_threshold). Default 0.4. */
  linkThreshold?: number;
  /** Region binarisation threshold (low_text). Default 0.4. */
  lowText?: number;
  /**
   * How the working scale is chosen. Default 'auto' (unless `canvasSize` or `magRatio` is given: then 'fixed').
   * - 'auto': a cheap probe pass (the same model at 0.4 x the fixed scale) measures the text heights, then the main
   *   pass runs at the scale that puts the page's small text in the model's best range (the fixed scale itself when it
   *   already does), tiled beyond `canvasSize`; text too tall for that scale gets a second pass at a smaller scale and
   *   its words replace the pieces the main pass found (`result.passes` lists what ran).
   * - 'fixed': CRAFT's behaviour exactly: `canvasSize` and `magRatio` (and `tiling`).
   */
  scale?: 'auto' | 'fixed';
  /** Also return each word's character boxes (`word.characters`). Default false. */
  characters?: boolean;
  /** Maximum long side of the network input after magnification (canvas_size). Default 1280. */
  canvasSize?: number;
  /** Magnification of the long side before the canvas cap (mag_ratio). Default 1.5. */
  magRatio?: number;
  /** Also return CRAFT's polygons. Default false. */
  polygons?: boolean;
  /** Also return the region/affinity maps as Float32Arrays. Default false. */
  heatmaps?: boolean;
  /** Use the LinkRefiner's link map (model converted with `--refiner`); implies `polygons`. Default false. */
  refine?: boolean;
  /**
   * Refuse images with more pixels than this before decoding them (from the header), and network inputs larger than
   * this; `false` = no limit. Default 268402689 (sharp's).
   */
  maxPixels?: number | false;
  /**
   * What happens to an image larger than `canvasSize`. Default 'auto'.
   * - 'off': CRAFT's behaviour: the magnified long side is capped at `canvasSize` (large pages are shrunk).
   * - 'auto': CRAFT's behaviour (exactly) while the image's long side fits `canvasSize`; a larger image, which CRAFT
   *   would shrink below its original resolution, is instead cut into overlapping tiles at scale `magRatio` whose
   *   heatmaps are stitched and post-processed once (a word crossing a seam comes out once, whole).
   * - `{ tileSize, overlap }`: tile whenever the magnified image exceeds `canvasSize` (never cap the magnification).
   * Tiles are `tileSize` (default `canvasSize`, a multiple of 32) and share `overlap` pixels of the working image
   * (default min(256, tileSize / 4)). The working image is also kept within `maxPixels` (scale reduced, never below 1).
   */
  tiling?: 'auto' | 'off' | TilingOptions;
}

/** Explicit tiling (see {@link DetectOptions.tiling}). */
export interface TilingOptions {
  /** Network input side of one tile, a multiple of 32 (64…32768). Default `canvasSize` (rounded down to 32). */
  tileSize?: number;
  /** Working-image pixels shared by adjacent tiles (0…tileSize/2). Default min(256, tileSize / 4). */
  overlap?: number;
}

/** Heatmaps at network output resolution (half the padded input; for a tiled image, the stitched maps of the whole). */
export interface Heatmaps {
  width: number;
  height: number;
  /** Region (character) score, row-major height x width. */
  region: Float32Array;
  /** Affinity (link) score, or the refined link map with `refine: true`. */
  affinity: Float32Array;
}

/** Milliseconds per stage. */
export interface Timings {
  decode: number;
  preprocess: number;
  inference: number;
  postprocess: number;
  /** scale 'auto': the passes besides the main pass (probe, large text, another scale), run in the prepare and finish stages; not in `inference`. */
  autoScale?: number;
  /** Time spent waiting for a free slot between stages (queue, inference slot, batch partners, post-processing). */
  queue: number;
}

/** Options of `detectBatch()`: those of `detect()` (applied to every image, `signal`/`timeoutMs` to the whole call) and: */
export interface DetectBatchOptions extends DetectOptions {
  /** Most images per inference run (same-padded-shape images share a run). Default 8; 1 on fixed-batch models. */
  batchSize?: number;
}

export interface DetectResult {
  /** Original image size. */
  width: number;
  height: number;
  words: Word[];
  /** Working scale: network input size / original size (resize_aspect_ratio's ratio). */
  scale: number;
  /** Whether `canvasSize` shrank the image below its original resolution (CRAFT's behaviour; small text may be lost). */
  downscaled: boolean;
  /** How many network inputs (tiles) the image was cut into; 1 when it was not tiled. */
  tiles: number;
  /**
   * The network passes that ran, in order: with `scale: 'auto'` maybe the probe, the main pass (whose `scale`/`tiles`
   * are the result's) and maybe a pass for large text ('large'); when the main pass was run again at another scale, the
   * first one is listed with the words it kept: 'large' (the new scale is larger) or 'small' (it is smaller). With
   * 'fixed' the main pass only. `words` = words each contributed.
   */
  passes: DetectPass[];
  heatmaps?: Heatmaps;
  timings: Timings;
}

/** One network pass over the image (see {@link DetectResult.passes}). */
export interface DetectPass {
  role: 'probe' | 'main' | 'large' | 'small';
  scale: number;
  tiles: number;
  words: number;
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

/** Options of `Detector.create()`. */
export interface CreateOptions {
  /** Path or bytes of a CRAFT ONNX model, or 'default'. Default: the model bundled in `models/`. */
  model?: string | Uint8Array;
  /**
   * ONNX Runtime intra-op threads per inference; 0 = one per physical core (ONNX Runtime's default). Default 0, or
   * with `concurrency` > 1: the cores divided among the concurrent inferences (so they don't oversubscribe the CPU).
   */
  threads?: number;
  /** Execution providers to try in order; the first that loads is used. Default ['cpu']. */
  executionProviders?: ExecutionProvider[];
  /** CUDA/TensorRT device. Default 0. */
  deviceId?: number;
  /** Path of libonnxruntime to use (e.g. a GPU build). Default: $CRAFT_TEXT_ORT_LIBRARY, else onnxruntime-node's. */
  ortLibrary?: string;
  /**
   * Let ONNX Runtime's threads spin between operators instead of sleeping: slightly lower latency of a lone request on
   * an idle machine, but CPU burnt that concurrent requests (and other processes) need. Default false.
   */
  spinning?: boolean;
  /**
   * Inferences that may run at once (the inference pool): every network run of the model counts, the extra passes of
   * `scale: 'auto'` included. Decoding, pre- and post-processing of other requests overlap them (pipelining).
   * Default 1: on CPU one run already uses `threads` cores; see docs/throughput.md.
   */
  concurrency?: number;
  /**
   * Decode/pre-processing and post-processing jobs that may run at once (besides the inferences). Each is one libuv
   * pool thread (UV_THREADPOOL_SIZE, default 4). Default 1.
   */
  stageConcurrency?: number;
  /**
   * Requests that may wait for a slot; beyond it `detect()` rejects at once with `code` ERR_CRAFT_QUEUE_FULL
   * (back-pressure). 0 = refuse whatever cannot start now. Default Infinity.
   */
  maxQueue?: number;
  /**
   * Micro-batching of concurrent `detect()` calls: prepared images of one padded shape share an inference run of up
   * to `maxSize` images; a partial batch waits at most `maxDelayMs` for partners (never when no other request could
   * join). Pays on GPUs; on CPU it does not (docs/throughput.md). Default { maxSize: 1, maxDelayMs: 2 } (off).
   */
  batch?: { maxSize?: number; maxDelayMs?: number };
}

/** What a detector runs on. */
export interface DetectorInfo {
  /** The provider that runs the model, and why each earlier one in the list was not used. */
  executionProvider: ExecutionProvider;
  providerAttempts: { name: string; ok: boolean; reason?: string }[];
  inputName: string;
  outputNames: string[];
  /** Whether the model has a LinkRefiner output (`refine: true` works). */
  refiner: boolean;
  /** ONNX metadata of the model. */
  metadata: Record<string, string>;
  /** Detection defaults in effect (test.py's, overridden by the model's metadata). */
  defaults: Required<Pick<DetectOptions, 'textThreshold' | 'linkThreshold' | 'lowText' | 'canvasSize' | 'magRatio'>>;
  /**
   * The constants `scale: 'auto'` plans with: the model's metadata's (`craft.scaleTargetHeight`, `craft.scaleGoodLow`,
   * `craft.scaleGoodHigh`, `craft.detectedToTruth`, written by `craft-text tune --scale --write`), else autoscale.h's
   * (30, 11, 64, 0.8; the bundled default carries its own: 31.5, 11, 64, 0.821). Unusable metadata values are ignored (docs/robustness.md#per-model-constants).
   */
  autoScale: AutoScaleConstants;
  onnxruntime: { path: string; version: string; apiVersion: number };
}

/** A detector model's text-height range for `scale: 'auto'` (docs/robustness.md#scale-auto-issue-17). */
export interface AutoScaleConstants {
  /** Ground-truth text height (working pixels) the scale aims at: the middle of the model's best bins. */
  targetHeight: number;
  /** The model's good range (recall >= 0.70 per height bin), ground-truth working pixels. */
  goodLow: number;
  goodHigh: number;
  /** Median detected box height / ground-truth box height over matched words (the model's box convention). */
  detectedToTruth: number;
}

/** Input of `postprocess()`: CRAFT's two maps, row-major height x width. */
export interface HeatmapInput {
  region: Float32Array;
  affinity: Float32Array;
  width: number;
  height: number;
}

export interface PostprocessOptions {
  textThreshold?: number;
  linkThreshold?: number;
  lowText?: number;
  polygons?: boolean;
}

// ---- recognition ------------------------------------------------------------------------------------------------

/** A region to read: a box of 4 points (CRAFT's order: top-left, top-right, bottom-right, bottom-left). */
export type Region = [Point, Point, Point, Point];

/** What recognize() takes per region: a box, or one of detect()'s words (its polygon is used when it has one). */
export type RegionInput = Region | Pick<Word, 'box' | 'polygon'>;

/** Options of `Recognizer.create()`: those of `Detector.create()`, with `batch` merging calls. */
export interface RecognizerCreateOptions extends Omit<CreateOptions, 'batch'> {
  /**
   * Merging of concurrent `recognize()` calls (docs/recognition.md#merged-calls): calls queued while the inference
   * slots are busy are loaded and read together in the next free one, their crops batched by padded width; each call
   * gets its own readings with its own options (only calls of the same `batchSize` merge). `maxSize`: most crops per
   * merged run (a call heavier than that runs alone); `maxDelayMs`: how long a call waits for partners when a slot
   * is free (0: never; calls merge only when they would wait anyway). `{ maxSize: 1 }` turns merging off: every call
   * gets its own runs, as before merging existed. With a model whose recurrent layers are dynamically quantized
   * (`craft-text quantize`'s INT8), a word's confidence and rarely its text depend on its batch partners, as they do
   * for the regions of one call. Default { maxSize: 32, maxDelayMs: 0 }.
   */
  batch?: { maxSize?: number; maxDelayMs?: number };
  /**
   * How many of one call's batches (its crops grouped by padded width, `batchSize` per network run) run at once,
   * each on its own thread (docs/recognition.md#pre-processing-and-batching): a batch is cut and pre-processed while
   * another one's network runs, and every core works on a run of its own instead of sharing the small sequential
   * steps of one run's BiLSTMs. The batches and the readings are the same whatever the value. 1…64; default one per
   * core (with `concurrency` > 1: the cores divided among the concurrent inferences). A recogniser's `threads` (ONNX
   * Runtime threads per run) default to 1 for the same reason.
   */
  parallelBatches?: number;
  /**
   * A character n-gram language model for `recognize()`'s `languageModel` (docs/recognition.md#language-model):
   * 'default' = the bundled one (models/craft-text-charlm.bin: English words, the synthetic generator's numbers, dates,
   * amounts and codes, and the train parts' transcriptions; case-folded printable ASCII), a path or the bytes of a file
   * tools/lm/ngram.py writes, or false for none. Default: 'default' with a bundled recogniser (by name or by its path
   * in the package's models/), false with any other model (converted DTRB / EasyOCR models keep reading exactly as their reference pipelines). CTC models only.
   */
  languageModel?: 'default' | string | Uint8Array | false;
}

/** Options of `recognize()`. */
export interface RecognizeOptions {
  /** Cancels the call (as detect()'s `signal`): rejects with an AbortError. */
  signal?: AbortSignal;
  /** Deadline in ms from the call (queueing included): rejects with `code` ERR_CRAFT_TIMEOUT. */
  timeoutMs?: number;
  /**
   * CTC decoding: 'greedy' (DTRB's: argmax, merge repeats, drop blanks) or 'beam' (prefix beam search). Default
   * 'beam' when the language model is used (`languageModel`), else 'greedy'; 'greedy' alone turns the model off.
   */
  decoder?: 'greedy' | 'beam';
  /** Beams kept per frame with `decoder: 'beam'` (1…100). Default 5. */
  beamWidth?: number;
  /**
   * Read only these characters (EasyOCR's `allowlist`), e.g. '0123456789' for amounts and codes: every other class of
   * the model's charset is masked out of each frame's probabilities, which are renormalised over what is left (the
   * CTC blank is never masked) before the greedy or beam search and the confidence, the retries' readings included
   * (docs/recognition.md#allowlist-and-blocklist). Characters are code points, each of the model's charset
   * (`info.charset`; RangeError naming the others). CTC models only (TypeError for an attention model). Default: every
   * character.
   */
  allowlist?: string;
  /**
   * Never read these characters (EasyOCR's `blocklist`): masked out as `allowlist` masks the others. With both, the
   * allowlist's characters minus the blocklist's are read (EasyOCR ignores the blocklist then). A list that leaves no
   * character is a RangeError. Default: none.
   */
  blocklist?: string;
  /**
   * Fuse the recogniser's character language model (Recognizer.create's `languageModel`) into the prefix beam search
   * (shallow fusion): each prefix is scored ln P_ctc + `lmWeight` ln P_lm + `insertionBonus` x its length, the LM's
   * end of word joining at the last frame. The confidence is unchanged (the model's, from its per-frame maxima).
   * Default true when the recogniser has one (unless `decoder: 'greedy'` is asked for); true without one, or with
   * `decoder: 'greedy'`, is a TypeError.
   */
  languageModel?: boolean;
  /** The language model's weight alpha (0…10). Default 0.3. */
  lmWeight?: number;
  /** The per-character insertion bonus beta, in nats (-20…20): it offsets the LM's cost of every character. Default 2. */
  insertionBonus?: number;
  /** Also return each character's probability. Default false. */
  characterProbabilities?: boolean;
  /**
   * Also return each word's raw model output (`logits`: T x K values before softmax, row-major, K = the model's
   * classes; for your own decoding, or how `quantize` calibrates a recogniser); never masked by `allowlist` /
   * `blocklist`. Default false.
   */
  logits?: boolean;
  /**
   * A word read with a confidence below this is read again turned 180° (a vertical one also unturned and turned the
   * other way) and the most confident reading is kept. 0 = never. Default 0.1.
   */
  rotationRetryThreshold?: number;
  /**
   * A word still read with a confidence below this (after the 180° retry) is read again cut at other crop margins,
   * at margin 0 and at twice `margin` (with `inkCrop`, fitted to the word's ink as the first crop: at 0 the ink itself;
   * otherwise at the box as given and the box + twice `margin`), and the most confident reading is kept: a box may already
   * be loose (hand-drawn ground truth) or tighter than the crops the model was trained on. Only with regions and a
   * crop margin > 0 (so not for converted DTRB / EasyOCR models, whose margin is 0). 0 = never. Default 0 (e.g. 0.2).
   */
  marginRetryThreshold?: number;
  /**
   * A word still read with a confidence below this (after the other retries) is read again along its ink's text line:
   * the line's direction is found in the crop's ink (the direction across which the ink is thinnest), the word cut
   * again as a rectangle along it (the crop margin added) and read both ways, and the most confident reading is kept
   * (`rotation` then says how far it was turned, in whole degrees). For a word cut as the axis-aligned box of a
   * rotated, oblique or vertical word (ICDAR 2015's crops, another detector's boxes). Not for a polygon region, nor
   * when the line lies within 7° of the direction the crop was read in. 0 = never. Default 0.2.
   */
  orientationRetryThreshold?: number;
  /**
   * A word still read with a confidence below this (after the other retries) is read again from the same crop with its
   * grey levels stretched, as EasyOCR's `contrast_ths` / `adjust_contrast` (0.5): when the crop's contrast
   * (p90 - p10) / max(10, p90 + p10) of its grey levels is under 0.5, each level v becomes
   * (v - p10 + 25) * 200 / max(10, p90 - p10), clipped to 0…255; the more confident reading is kept. 0 = never.
   * Default 0.
   */
  contrastRetryThreshold?: number;
  /**
   * A word still read with a confidence below this (after the other retries) is read again from the same crop resized
   * 1.5 and 2 times wider than its aspect ratio says, and the most confident reading is kept: a CTC recogniser reads
   * one frame per few pixels of width, and a condensed word (tall narrow letters, a sign's `SUSHI`) can have fewer
   * frames than characters and the blanks between repeated letters, so it reads with letters dropped. Only for models
   * that keep the aspect ratio (`pad`). 0 = never. Default 0.2.
   */
  stretchRetryThreshold?: number;
  /** A region taller than this times its width is read as vertical text (turned a quarter first). Infinity = never. Default 1.5. */
  verticalRatio?: number;
  /**
   * Vertical words (regions taller than `verticalRatio` times their width): each is read turned a quarter both ways
   * whatever the first reading's confidence (the 180° retry then leaves it be), unturned (`rotation` 0: a tall
   * character, or a condensed upright word such as 'Lift' on a narrow sign) as wide as it is and 2 and 3 times wider
   * (CTC models that keep the aspect ratio; more frames per character), and, when its ink is three or more glyphs
   * stacked at a similar width (upright letters on a sign: 'HOTEL'), with the glyphs laid out side by side as a line
   * (`rotation` 0); the reading most confident per character (the geometric mean of its characters' confidences; never
   * an empty reading) is kept. false: turned clockwise, with the 180° retry's other quarter turn and unturned reading below
   * `rotationRetryThreshold` (the behaviour before). Default true.
   */
  verticalRetry?: boolean;
  /**
   * Crop margin: each region is extended on every side (along its reading direction and across it) by this fraction
   * of its text height before it is cut out (clipped to the image), as EasyOCR's `add_margin`: a recogniser trained
   * on loosely cut words misreads words cut at a tight box. 0…1. Default: the model's `margin` (its
   * `craft.recognizer.margin` metadata; 0.12 for the bundled recogniser, 0 for converted DTRB / EasyOCR models).
   * Not applied when no regions are given (the whole image is read).
   */
  margin?: number;
  /**
   * Box-aware crops: each region's crop (at `margin`) is fitted to the word's ink before it is read, cut at the ink's
   * extent plus `margin` times the ink's height, as the bundled recogniser's training crops were; a side is never
   * moved further out than `margin` puts it, nor into the ink. For boxes looser than the text (hand-drawn ground
   * truth, form templates, dilated detector boxes). Only with regions and a crop margin > 0; the margin retry's crops
   * are fitted to the same ink (at margin 0: the ink itself). Default true.
   */
  inkCrop?: boolean;
  /** Crops per inference run (crops of one padded width are batched). Default 32. */
  batchSize?: number;
  /** Refuse images with more pixels than this before decoding them. Default 268402689. */
  maxPixels?: number | false;
  /** Read a word's polygon (when it has 6+ points) rather than its box. Default true. */
  usePolygons?: boolean;
}

/** One region's reading. */
export interface Recognition {
  /** The text read ('' for a skipped region). */
  text: string;
  /** The model's confidence (its metadata says how: DTRB's product of per-step maxima, or EasyOCR's mean); 0 when skipped. */
  confidence: number;
  /** With `characterProbabilities`: one probability per character of `text`. */
  characters?: number[];
  /** With `logits`: the model's output for the reading kept (T frames x K classes, row-major, before softmax). */
  logits?: Float32Array;
  /**
   * Degrees the crop was turned clockwise before it was read: 0, 90, 180, 270, or any whole degree 0…359 for a
   * reading along the ink's text line (`orientationRetryThreshold`).
   */
  rotation: number;
  /** Set when the region was not read: 'degenerate' (under a pixel wide or high) or 'outside' (not in the image). */
  skipped?: 'degenerate' | 'outside';
}

/** Milliseconds per recognition stage. */
export interface RecognizeTimings {
  /** Loading the image (0 with a DecodedImage). */
  decode: number;
  /** Planning, cropping, resizing and normalising the regions. */
  preprocess: number;
  /** Model runs (all batches). */
  inference: number;
  /** Decoding the outputs to text. */
  postprocess: number;
  /** Waiting for a slot (queue, inference slot). */
  queue: number;
}

/** `recognizeDetailed()`'s result. */
export interface RecognizeResult {
  width: number;
  height: number;
  /** One reading per region, in region order. */
  words: Recognition[];
  timings: RecognizeTimings;
  /** Inference runs (batches) it took. */
  runs: number;
}

/** The recogniser's model contract (docs/recognition.md), read from its metadata. */
export interface RecognizerConfig {
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
  /** Default crop margin of recognize() (`craft.recognizer.margin`; 0 when the metadata has none). */
  margin: number;
}

/** What a recogniser runs on. */
export interface RecognizerInfo extends RecognizerConfig {
  /** The character language model loaded (Recognizer.create's `languageModel`): its order and n-gram count; null: none. */
  languageModel: { order: number; ngrams: number } | null;
  executionProvider: ExecutionProvider;
  providerAttempts: { name: string; ok: boolean; reason?: string }[];
  inputName: string;
  outputNames: string[];
  metadata: Record<string, string>;
  onnxruntime: { path: string; version: string; apiVersion: number };
}

// ---- OCR --------------------------------------------------------------------------------------------------------

/** Reading order and line grouping (lib/layout.ts). Distances are in multiples of the median word height. */
export interface LayoutOptions {
  /** Two words are on one line when their centres (after de-skewing) differ by less than this times their mean height. Default 0.5. */
  lineTolerance?: number;
  /** A vertical band of white at least this wide, through a whole block of text, separates two columns. Default 1.5. */
  columnGap?: number;
  /** ... when both sides average at least this many words per line (running text, not table cells). Default 3. */
  minColumnWords?: number;
}

/** Options of `ocr.read()`. */
export interface ReadOptions {
  /** Cancels the call (as detect()'s `signal`): rejects with an AbortError. */
  signal?: AbortSignal;
  /** Deadline in ms from the call (queueing included): rejects with `code` ERR_CRAFT_TIMEOUT. */
  timeoutMs?: number;
  /** Detection options (polygons: true makes the recogniser read curved words along their polygons). */
  detect?: Omit<DetectOptions, 'signal' | 'timeoutMs' | 'heatmaps'>;
  /** Recognition options. */
  recognize?: Omit<RecognizeOptions, 'signal' | 'timeoutMs' | 'logits'>;
  layout?: LayoutOptions;
  /**
   * Split words joined: neighbouring words of a line that CRAFT may have cut from one word (`$41.` `90`) are read
   * again as one crop, and the joint reading replaces them when it is one word read more confidently than the pieces
   * together (docs/recognition.md#split-words). Default: off; `true` turns it on with `JOIN_DEFAULTS`, an object sets
   * it. Off since the 256-wide recogniser (session 11): with it the join measured level end to end, joined words that
   * were two, and its extra reads cost about a fifth more recognition time on a dense form page.
   */
  join?: boolean | JoinOptions;
  /** Drop words read with a lower confidence (from words, lines and text). Default 0 (keep all). */
  minConfidence?: number;
}

/** `read()`'s `join` option. */
export interface JoinOptions {
  /** Largest gap between two pieces along the line, in multiples of the larger one's height (0–10). Default 0.3. */
  maxGap?: number;
  /** A pair is a candidate only when one of its pieces was read with a confidence under this (0–1; 1: every pair). Default 0.9. */
  maxConfidence?: number;
  /** Most pieces read as one word (2–16). Default 4. */
  maxWords?: number;
}

/** A word found and read. */
export interface OcrWord extends Word {
  text: string;
  confidence: number;
  /** Degrees the crop was turned before it was read. */
  rotation: number;
  /** Set when the word is several detected words read as one (`join`): how many; `box` is the box around them. */
  joined?: number;
}

/** A line of words, in reading order. */
export interface OcrLine {
  /** Axis-aligned box around the line's words (4 points, clockwise from the top-left). */
  box: [Point, Point, Point, Point];
  /** The words' texts joined by spaces. */
  text: string;
  /** Indices into `words`, left to right. */
  words: number[];
}

/** `ocr.read()`'s result. */
export interface OcrResult {
  width: number;
  height: number;
  /** Words in reading order (line by line). */
  words: OcrWord[];
  /** Lines in reading order: top to bottom, left to right, a column at a time. */
  lines: OcrLine[];
  /** The page's text: one line per line. */
  text: string;
  /** Milliseconds: decode (once), detection, recognition, layout, total (wall clock of the call). */
  timings: { decode: number; detection: number; recognition: number; layout: number; total: number };
}
