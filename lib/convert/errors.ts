/*! craft-text | MIT */

/** Stable error code of every converter failure. */
export const CONVERT_ERROR_CODE = 'ERR_CRAFT_CONVERT' as const;

/**
 * A checkpoint that cannot be converted: not a checkpoint, an unsupported serialization, an unknown or missing key,
 * a wrong shape. `key` names the state-dict key at fault when there is one.
 */
export class ConvertError extends Error {
  readonly code = CONVERT_ERROR_CODE;
  readonly key: string | undefined;

  constructor(message: string, key?: string) {
    super(message);
    this.name = 'ConvertError';
    this.key = key;
  }
}
