/*! craft-text | MIT */
import * as os from 'node:os';
import {
  binding, resolveOrtLibrary, type NativeCreateOptions, type NativeDetectOptions, type NativeDetector, type NativeResult,
} from './binding';
import { nativeError } from './errors';
import { resolveModel } from './models';
import {
  batchSizeOption, createOptions, detectOptions, imageInput, modelDefaults, RUN_KEYS, runOptions, schedulerOptions,
  type ModelDefaults,
} from './options';
import { Scheduler, schedulerError } from './scheduler';
import type { DetectorStats, SchedulerConfig } from './stats';
import type {
  CreateOptions, DetectBatchOptions, DetectOptions, DetectorInfo, DetectResult, ExecutionProvider, ImageInput,
} from './types';

/**
 * A CRAFT text detector: one ONNX Runtime session, safe to share between concurrent `detect()` calls.
 *
 * @example
 * const detector = await Detector.create({ model: 'craft.onnx' });
 * const { words } = await detector.detect('page.png');
 * await detector.dispose();
 */
export class Detector {
  readonly #defaults: ModelDefaults;
  readonly #info: DetectorInfo;
  readonly #scheduler: Scheduler<NativeDetectOptions, NativeResult>;
  readonly #maxBatch: number;

  private constructor(native: NativeDetector, scheduling: SchedulerConfig) {
    const info = native.info();
    // A model exported with a fixed batch dimension of 1 can't batch.
    this.#maxBatch = info.fixedBatch > 0 ? info.fixedBatch : Infinity;
    const batch = { ...scheduling.batch, maxSize: Math.min(scheduling.batch.maxSize, this.#maxBatch) };
    this.#scheduler = new Scheduler(native, { ...scheduling, batch });
    this.#defaults = modelDefaults(info.metadata);
    this.#info = Object.freeze({
      executionProvider: info.executionProvider as ExecutionProvider,
      providerAttempts: info.providerAttempts,
      inputName: info.inputName,
      outputNames: info.outputNames,
      refiner: info.refiner,
      metadata: info.metadata,
      defaults: { ...this.#defaults },
      autoScale: Object.freeze({ ...info.autoScale! }),
      onnxruntime: binding().ortInfo()!,
    });
  }

  /**
   * Loads a model (off the JS thread).
   * @param options - see {@link CreateOptions}; `model` defaults to the bundled model.
   * @returns a ready detector.
   * @throws TypeError / RangeError for invalid options; Error with `code` ERR_CRAFT_MODEL_LOAD (missing, corrupt or
   *   non-CRAFT model) or ERR_CRAFT_ORT_LOAD (ONNX Runtime library unusable).
   */
  static async create(options?: CreateOptions): Promise<Detector> {
    const stack = new Error();
    const o = createOptions(options);
    const scheduling = schedulerOptions(options);
    if ((options as CreateOptions | undefined)?.threads === undefined) o.threads = defaultThreads(scheduling.concurrency);
    warnPoolSize(scheduling);
    return loadModel({ ...o, model: resolveModel(o.model) }, scheduling, stack,
      async (native) => new Detector(await binding().createDetector(native), scheduling));
  }

  /** What the detector runs on (provider, model metadata, defaults in effect, ONNX Runtime version). */
  get info(): DetectorInfo {
    return this.#info;
  }

  /**
   * Detects words in an image.
   * @param input - a file path, an encoded image (Buffer/Uint8Array/ArrayBuffer), raw pixels
   *   `{ data, width, height, channels }`, an opencv4nodejs Mat or a DecodedImage. Bytes are copied when the call
   *   starts (a SharedArrayBuffer's are read in place), so the buffer may be reused at once (docs/api.md).
   * @param options - see {@link DetectOptions}; `signal` and `timeoutMs` cancel the call.
   * @returns words in original-image pixels, the working scale and per-stage timings.
   * @throws TypeError / RangeError for invalid arguments; Error with `code` (ERR_CRAFT_DECODE, ERR_CRAFT_IO,
   *   ERR_CRAFT_INPUT_TOO_LARGE, ERR_CRAFT_INFERENCE, ERR_CRAFT_DISPOSED, ERR_CRAFT_QUEUE_FULL, ERR_CRAFT_TIMEOUT, …)
   *   for failures; an AbortError (`code` ABORT_ERR) when `signal` aborts it.
   */
  async detect(input: ImageInput, options?: DetectOptions): Promise<DetectResult> {
    const stack = new Error();
    this.#scheduler.checkLive();
    const nativeInput = imageInput(input);
    const opts = detectOptions(options, this.#defaults, RUN_KEYS);
    const run = runOptions(options);
    if (opts.refine && !this.#info.refiner) {
      throw new TypeError('refine needs a model with a LinkRefiner output (convert it with --refiner); this model has none');
    }
    try {
      return toResult(await this.#scheduler.submit(nativeInput, opts, run));
    } catch (err) {
      throw schedulerError(err, stack);
    }
  }

  /**
   * Detects words in several images with one call: images that share a padded network shape run through the model
   * together (up to `batchSize` per run), the others in their own runs. Worth it on GPUs; on CPU it is about as fast
   * as concurrent `detect()` calls (docs/throughput.md).
   * @param inputs - non-empty array of inputs as for {@link Detector.detect}.
   * @param options - detect() options for every image, plus `batchSize` (default 8); `signal`/`timeoutMs` cancel all.
   * @returns one result per input, in input order. Rejects with the first failure (the others are cancelled).
   */
  async detectBatch(inputs: ImageInput[], options?: DetectBatchOptions): Promise<DetectResult[]> {
    const stack = new Error();
    this.#scheduler.checkLive();
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw new TypeError(`Expected non-empty array of inputs for inputs but received ${Array.isArray(inputs) ? 'an empty array' : typeof inputs}`);
    }
    const nativeInputs = inputs.map((input, i) => imageInput(input, `inputs[${i}]`));
    const opts = detectOptions(options, this.#defaults, [...RUN_KEYS, 'batchSize']);
    const run = runOptions(options);
    const batchSize = Math.min(batchSizeOption(options, 8), this.#maxBatch);
    if (opts.refine && !this.#info.refiner) {
      throw new TypeError('refine needs a model with a LinkRefiner output (convert it with --refiner); this model has none');
    }
    try {
      return (await this.#scheduler.submitBatch(nativeInputs, opts, run, batchSize)).map(toResult);
    } catch (err) {
      throw schedulerError(err, stack);
    }
  }

  /**
   * Scheduler counters and stage-time histograms (queue depth, in flight, completed, rejected, failed, …), for
   * monitoring; see {@link DetectorStats}. Cheap enough to call on every scrape.
   */
  stats(): DetectorStats {
    return this.#scheduler.stats();
  }

  /**
   * Frees the model once every accepted detection has settled (they finish normally); calls made after dispose()
   * reject with ERR_CRAFT_DISPOSED. Resolves when the model is freed.
   */
  dispose(): Promise<void> {
    return this.#scheduler.dispose();
  }
}

/**
 * ONNX Runtime threads when the caller set none: ONNX Runtime's own default (one per physical core) for one inference
 * at a time; with several, the logical cores divided among them, so concurrent runs don't oversubscribe the CPU.
 * @private
 */
export function defaultThreads(concurrency: number): number {
  if (concurrency <= 1) return 0;
  return Math.max(1, Math.floor(os.availableParallelism() / concurrency));
}

/**
 * The end of Detector.create() and Recognizer.create(): the ONNX Runtime library resolved, the model's session loaded
 * off the JS thread by `load` with its run gate holding every network run to `concurrency` (the extra passes of scale
 * 'auto' too); failures get the caller's stack.
 * @private
 */
export async function loadModel<T>(o: Omit<NativeCreateOptions, 'ortLibrary'> & { ortLibrary?: string },
  scheduling: SchedulerConfig, stack: Error, load: (native: NativeCreateOptions) => Promise<T>): Promise<T> {
  const ortLibrary = resolveOrtLibrary(o.ortLibrary);
  try {
    return await load({ ...o, ortLibrary, maxConcurrentRuns: scheduling.concurrency });
  } catch (err) {
    throw nativeError(err, stack);
  }
}

let warnedPool = false;
/** One warning per process when a detector could occupy every libuv pool thread (fs, dns, zlib would then wait). */
function warnPoolSize(s: SchedulerConfig): void {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  if (warnedPool || s.concurrency + s.stageConcurrency < pool) return;
  warnedPool = true;
  process.emitWarning(`concurrency (${s.concurrency}) + stageConcurrency (${s.stageConcurrency}) can occupy all ${pool} ` +
    'libuv pool threads, leaving none for fs/dns/zlib; raise UV_THREADPOOL_SIZE before the pool starts (docs/throughput.md)',
  { code: 'CRAFT_TEXT_UV_POOL' });
}

/** @private */
export function toResult(r: NativeResult): DetectResult {
  return r as unknown as DetectResult;
}
