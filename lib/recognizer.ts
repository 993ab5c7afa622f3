/*! craft-text | MIT */
import * as os from 'node:os';
import { binding, type NativeRecognition, type NativeRecognizeOptions, type NativeRecognizer } from './binding';
import { defaultThreads, loadModel } from './detector';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { types } from 'node:util';
import { craftError, nativeError } from './errors';
import { BUNDLED_LANGUAGE_MODEL, BUNDLED_RECOGNIZERS, MODELS_DIR, resolveModel } from './models';
import {
  createOptions, imageInput, RECOGNIZER_SCHEDULER_DEFAULTS, recognizeOptions, regionsInput, runOptions,
  schedulerOptions,
} from './options';
import { checkNumber, invalidParameterError } from './is';
import { type BatchPolicy, Scheduler, schedulerError } from './scheduler';
import type { DetectorStats } from './stats';
import type {
  ExecutionProvider, ImageInput, Recognition, RecognizeOptions, RecognizeResult, RecognizerConfig,
  RecognizerCreateOptions, RecognizerInfo, RegionInput,
} from './types';

/**
 * Concurrent calls are merged (docs/recognition.md#merged-calls): calls queued while the inference slots are busy are
 * loaded and read together in the next free one (native prepareInferMany), their crops batched by padded width
 * (binding/craft/recognizer.h, RunMany), each call keeping its own options. Only calls with the same `batchSize`
 * (crops per network run) merge; a call weighs its crops (`batch.maxSize` counts crops).
 */
const MERGE_POLICY: BatchPolicy<NativeRecognizeOptions> = {
  key: (_prepared, o) => String(o.maxBatch),
  queueKey: (o) => String(o.maxBatch),
  weight: (o) => Math.max(1, o.regions ? o.regions.counts.length : 1),
};

/** The most batches of one call in flight at once (`parallelBatches`). */
const MAX_LANES = 64;

/**
 * A text recogniser (CRNN / DTRB / EasyOCR-style model in craft-text's contract, docs/recognition.md): one ONNX
 * Runtime session, safe to share between concurrent calls.
 *
 * @example
 * const recognizer = await Recognizer.create();
 * const { words } = await detector.detect('page.png');
 * const texts = await recognizer.recognize('page.png', words); // [{ text, confidence, rotation }, ...]
 */
export class Recognizer {
  readonly #info: RecognizerInfo;
  readonly #scheduler: Scheduler<NativeRecognizeOptions, NativeRecognition>;
  readonly #lm: unknown;

  private constructor(native: NativeRecognizer, scheduling: ReturnType<typeof schedulerOptions>,
    lm: { order: number; ngrams: number; ref: unknown } | undefined) {
    const info = native.info();
    this.#scheduler = new Scheduler(native, scheduling, 'Recognizer', MERGE_POLICY);
    this.#lm = lm?.ref;
    const config: RecognizerConfig = { ...info.config, charset: [...info.config.charset] };
    this.#info = Object.freeze({
      ...config,
      languageModel: lm ? Object.freeze({ order: lm.order, ngrams: lm.ngrams }) : null,
      executionProvider: info.executionProvider as ExecutionProvider,
      providerAttempts: info.providerAttempts,
      inputName: info.inputName,
      outputNames: info.outputNames,
      metadata: info.metadata,
      onnxruntime: binding().ortInfo()!,
    });
  }

  /**
   * Loads a recogniser (off the JS thread).
   * @param options - as Detector.create() (model, threads, executionProviders, ortLibrary, concurrency, …); `batch`
   *   merges concurrent calls (in crops; default { maxSize: 32, maxDelayMs: 0 }, { maxSize: 1 } = never);
   *   `model` defaults to the bundled recogniser ('default': its INT8 version, also 'default-int8'; 'default-fp32'
   *   for the float model).
   * @throws TypeError / RangeError for invalid options; Error with `code` ERR_CRAFT_MODEL_LOAD (missing or corrupt
   *   model, not a recogniser, no charset, metadata that does not match the graph) or ERR_CRAFT_ORT_LOAD.
   */
  static async create(options?: RecognizerCreateOptions): Promise<Recognizer> {
    const stack = new Error();
    // The keys of Detector.create() (`batch` merges calls) and parallelBatches.
    const o = createOptions(options, ['parallelBatches', 'languageModel']);
    const lmBytes = languageModelBytes((options as RecognizerCreateOptions | undefined)?.languageModel, o.model);
    lmBytes?.catch(() => undefined);  // awaited after the model loads; a failed load must not leave it unhandled
    const scheduling = schedulerOptions(options, RECOGNIZER_SCHEDULER_DEFAULTS);
    // A recogniser's cores go to batches, not to the operators of one run: one intra-op thread per run and one batch
    // in flight per core of the inference slot (docs/recognition.md#pre-processing-and-batching: 2 threads on one run
    // cost 10-16 % more CPU on the BiLSTMs' small steps).
    if ((options as RecognizerCreateOptions | undefined)?.threads === undefined) o.threads = 1;
    const given = (options as RecognizerCreateOptions | undefined)?.parallelBatches;
    const runLanes = given === undefined ? Math.min(MAX_LANES, defaultThreads(scheduling.concurrency) || os.availableParallelism())
      : checkNumber('parallelBatches', given, 1, MAX_LANES, true);
    const native = await loadModel({ ...o, runLanes, model: resolveModel(o.model, BUNDLED_RECOGNIZERS, 'recogniser') },
      scheduling, stack, (n) => binding().createRecognizer(n));
    let lm: { order: number; ngrams: number; ref: unknown } | undefined;
    try {
      const bytes = await lmBytes;
      if (bytes !== undefined) {
        if (native.info().config.decoder !== 'ctc') {
          throw new TypeError('languageModel needs a CTC recogniser; this one decodes with attention');
        }
        lm = await binding().loadLanguageModel(bytes).catch((err: unknown) => { throw nativeError(err, stack); });
      }
    } catch (err) {
      native.dispose();
      throw err;
    }
    return new Recognizer(native, scheduling, lm);
  }

  /** The model's contract (charset, input geometry, decoder, confidence kind), provider and metadata. */
  get info(): RecognizerInfo {
    return this.#info;
  }

  /**
   * Reads the text in regions of an image.
   * @param input - a file path, encoded image, raw pixels or DecodedImage (as `detect()`'s).
   * @param regions - 4-point boxes or `detect()`'s words, in image pixels; omitted = the whole image is one line.
   *   Boxes reaching outside the image are clipped; degenerate ones are skipped and reported (`skipped`), so the
   *   result stays aligned with `regions`. An empty list gives [].
   * @param options - see {@link RecognizeOptions}.
   * @returns one reading per region, in order.
   * @throws TypeError naming the argument (e.g. `regions[3].box[2][0]`) / RangeError for invalid arguments; Error
   *   with `code` (ERR_CRAFT_DECODE, ERR_CRAFT_IO, ERR_CRAFT_INFERENCE, ERR_CRAFT_DISPOSED, ERR_CRAFT_QUEUE_FULL,
   *   ERR_CRAFT_TIMEOUT, …); an AbortError when `signal` aborts it.
   */
  async recognize(input: ImageInput, regions?: readonly RegionInput[], options?: RecognizeOptions): Promise<Recognition[]> {
    return (await this.#run(input, regions, options, new Error())).words;
  }

  /** recognize() with the image size, per-stage timings and the number of inference runs. */
  async recognizeDetailed(input: ImageInput, regions?: readonly RegionInput[], options?: RecognizeOptions): Promise<RecognizeResult> {
    return this.#run(input, regions, options, new Error());
  }

  async #run(input: ImageInput, regions: readonly RegionInput[] | undefined, options: RecognizeOptions | undefined,
    stack: Error): Promise<RecognizeResult> {
    this.#scheduler.checkLive();
    const nativeInput = imageInput(input);
    const { usePolygons, languageModel, ...rest } = recognizeOptions(options, this.#info);  // info.languageModel: non-null iff #lm
    const opts: NativeRecognizeOptions = languageModel ? { ...rest, languageModel: this.#lm } : rest;
    const run = runOptions(options);
    const native: NativeRecognizeOptions = regions === undefined ? opts : { ...opts, regions: regionsInput(regions, usePolygons) };
    if (native.regions && native.regions.counts.length === 0) {
      return { width: 0, height: 0, words: [], runs: 0, timings: { decode: 0, preprocess: 0, inference: 0, postprocess: 0, queue: 0 } };
    }
    try {
      const r = await this.#scheduler.submit(nativeInput, native, run);
      return r as RecognizeResult;
    } catch (err) {
      throw schedulerError(err, stack);
    }
  }

  /** Scheduler counters and stage-time histograms, as `detector.stats()`. */
  stats(): DetectorStats {
    return this.#scheduler.stats();
  }

  /** Frees the model once every accepted call has settled; later calls reject with ERR_CRAFT_DISPOSED. */
  dispose(): Promise<void> {
    return this.#scheduler.dispose();
  }
}

/**
 * The bytes of create()'s `languageModel` (read asynchronously), or undefined for none: 'default' = the bundled file;
 * absent = the bundled file with a bundled recogniser (by name, or by its path in models/), none with any other model.
 * @private
 */
function languageModelBytes(v: unknown, model: unknown): Promise<Uint8Array> | undefined {
  const bundledModel = model === undefined || (typeof model === 'string' && (Object.hasOwn(BUNDLED_RECOGNIZERS, model)
    || Object.values(BUNDLED_RECOGNIZERS).some((f) => path.resolve(model) === path.join(MODELS_DIR, f))));
  if (v === false || (v === undefined && !bundledModel)) return undefined;
  if (types.isUint8Array(v)) return Promise.resolve(v);
  if (v !== undefined && !(typeof v === 'string' && v.length > 0)) {
    throw invalidParameterError('languageModel', "'default', a path, a Uint8Array or false", v);
  }
  const file = v === undefined || v === 'default' ? BUNDLED_LANGUAGE_MODEL : v as string;
  return fsp.readFile(file).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength), (err: NodeJS.ErrnoException) => {
    throw craftError('ERR_CRAFT_MODEL_LOAD', `Cannot read the language model ${file}: ${err.message}`);
  });
}
