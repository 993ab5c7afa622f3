/*! craft-text | MIT */

/** Stable error code of quantization failures (a model that can't be quantized, bad calibration data). */
export const QUANTIZE_ERROR_CODE = 'ERR_CRAFT_QUANTIZE' as const;

/** A model or calibration set that can't be quantized; the message says why. */
export class QuantizeError extends Error {
  readonly code = QUANTIZE_ERROR_CODE;

  constructor(message: string) {
    super(message);
    this.name = 'QuantizeError';
  }
}
