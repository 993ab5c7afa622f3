/*! craft-text | MIT */
// decodeImage(): an image decoded once, natively, then read by detect() and recognize() without decoding it again
// (Ocr.read() uses it).
import { binding } from './binding';
import { decodedImages } from './decoded';
import { nativeError } from './errors';
import { checkKnownKeys, checkNumber, invalidParameterError, plainObject } from './is';
import { DEFAULT_MAX_PIXELS, imageInput } from './options';
import type { ImageInput } from './types';

/**
 * An image decoded to 8-bit RGB and held in native memory. Pass it to `detector.detect()` and
 * `recognizer.recognize()` as their input: neither decodes it again. `release()` frees the pixels now (calls already
 * given the image keep their own reference); otherwise they are freed when the object is garbage-collected.
 */
export class DecodedImage {
  /** Image size in pixels. */
  readonly width: number;
  readonly height: number;

  /** @private */
  constructor(ref: unknown, width: number, height: number) {
    this.width = width;
    this.height = height;
    decodedImages.set(this, { ref });
  }

  /** Whether release() was called. */
  get released(): boolean {
    return decodedImages.get(this)?.ref === undefined;
  }

  /** Frees the pixels; later calls given this image reject with ERR_CRAFT_DISPOSED. Idempotent. */
  release(): void {
    const entry = decodedImages.get(this);
    if (!entry || entry.ref === undefined) return;
    binding().releaseImage(entry.ref);
    entry.ref = undefined;
  }
}

/**
 * Decodes an image once (off the JS thread), for several models to read.
 * @param input - a file path, encoded bytes or raw pixels, as for `detect()`.
 * @param options - `maxPixels` (default 268402689; false = no limit), checked from the header before decoding.
 * @throws TypeError / RangeError for invalid arguments; Error with `code` ERR_CRAFT_DECODE, ERR_CRAFT_IO,
 *   ERR_CRAFT_INPUT_TOO_LARGE.
 */
export async function decodeImage(input: ImageInput, options?: { maxPixels?: number | false }): Promise<DecodedImage> {
  const stack = new Error();
  if (input instanceof DecodedImage) return input;
  const native = imageInput(input);
  if (options !== undefined && !plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  const o = (options ?? {}) as Record<string, unknown>;
  checkKnownKeys('option', o, ['maxPixels']);
  const maxPixels = o.maxPixels === undefined ? DEFAULT_MAX_PIXELS
    : o.maxPixels === false ? 0 : checkNumber('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER, true);
  try {
    const r = await binding().decodeImage(native, { maxPixels });
    return new DecodedImage(r.ref, r.width, r.height);
  } catch (err) {
    throw nativeError(err, stack);
  }
}
