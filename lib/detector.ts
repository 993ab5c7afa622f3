/*! craft-text | MIT */
import { binding, resolveOrtLibrary, type NativeDetector, type NativeResult } from './binding';
import { craftError, nativeError } from './errors';
import { resolveModel } from './models';
import { createOptions, detectOptions, imageInput, modelDefaults, type ModelDefaults } from './options';
import type { CreateOptions, DetectOptions, DetectorInfo, DetectResult, ExecutionProvider, ImageInput } from './types';

/**
 * A CRAFT text detector: one ONNX Runtime session, safe to share between concurrent `detect()` calls.
 *
 * @example
 * const detector = await Detector.create({ model: 'craft.onnx' });
 * const { words } = await detector.detect('page.png');
 * await detector.dispose();
 */
export class Detector {
  #native: NativeDetector | undefined;
  readonly #defaults: ModelDefaults;
  readonly #info: DetectorInfo;

  private constructor(native: NativeDetector) {
    this.#native = native;
    const info = native.info();
    this.#defaults = modelDefaults(info.metadata);
    this.#info = Object.freeze({
      executionProvider: info.executionProvider as ExecutionProvider,
      providerAttempts: info.providerAttempts,
      inputName: info.inputName,
      outputNames: info.outputNames,
      refiner: info.refiner,
      metadata: info.metadata,
      defaults: { ...this.#defaults },
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
    const model = resolveModel(o.model);
    const ortLibrary = resolveOrtLibrary(o.ortLibrary);
    try {
      const native = await binding().createDetector({ ...o, model, ortLibrary });
      return new Detector(native);
    } catch (err) {
      throw nativeError(err, stack);
    }
  }

  /** What the detector runs on (provider, model metadata, defaults in effect, ONNX Runtime version). */
  get info(): DetectorInfo {
    return this.#info;
  }

  /**
   * Detects words in an image.
   * @param input - a file path, an encoded image (Buffer/Uint8Array/ArrayBuffer) or raw pixels
   *   `{ data, width, height, channels }`. Raw pixel memory is read in place: don't modify it until the promise settles.
   * @param options - see {@link DetectOptions}.
   * @returns words in original-image pixels, the working scale and per-stage timings.
   * @throws TypeError / RangeError for invalid arguments; Error with `code` (ERR_CRAFT_DECODE, ERR_CRAFT_IO,
   *   ERR_CRAFT_INPUT_TOO_LARGE, ERR_CRAFT_INFERENCE, ERR_CRAFT_DISPOSED, …) for failures.
   */
  async detect(input: ImageInput, options?: DetectOptions): Promise<DetectResult> {
    const stack = new Error();
    const native = this.#live();
    const nativeInput = imageInput(input);
    const opts = detectOptions(options, this.#defaults);
    if (opts.refine && !this.#info.refiner) {
      throw new TypeError('refine needs a model with a LinkRefiner output (convert it with --refiner); this model has none');
    }
    try {
      return toResult(await native.detect(nativeInput, opts));
    } catch (err) {
      throw nativeError(err, stack);
    }
  }

  /**
   * Frees the model. Detections already running finish normally; later calls reject with ERR_CRAFT_DISPOSED.
   */
  async dispose(): Promise<void> {
    this.#native?.dispose();
    this.#native = undefined;
  }

  #live(): NativeDetector {
    if (!this.#native) throw craftError('ERR_CRAFT_DISPOSED', 'Detector is disposed');
    return this.#native;
  }
}

/** @private */
export function toResult(r: NativeResult): DetectResult {
  return r as unknown as DetectResult;
}
