/*! craft-text | MIT */

/** Stable codes carried by native failures (`err.code`). */
export type CraftErrorCode =
  | 'ERR_CRAFT_DECODE' | 'ERR_CRAFT_INPUT_TOO_LARGE' | 'ERR_CRAFT_INVALID_INPUT' | 'ERR_CRAFT_IO'
  | 'ERR_CRAFT_MODEL_LOAD' | 'ERR_CRAFT_ORT_LOAD' | 'ERR_CRAFT_INFERENCE' | 'ERR_CRAFT_ABORTED'
  | 'ERR_CRAFT_DISPOSED' | 'ERR_CRAFT_OUT_OF_MEMORY' | 'ERR_CRAFT_BINDING' | 'ERR_CRAFT_INTERNAL'
  | 'ERR_CRAFT_QUEUE_FULL' | 'ERR_CRAFT_TIMEOUT' | 'ERR_CRAFT_CONVERT'
  // craft-text/queue: a job that is not one enqueue() made (or asks for what the worker can't run), and an optional
  // peer dependency (bullmq, ioredis, prom-client) that is not installed.
  | 'ERR_CRAFT_JOB' | 'ERR_CRAFT_DEPENDENCY';

/** An Error with a stable `code`. */
export interface CraftError extends Error {
  code: CraftErrorCode;
}

/** @private */
export function craftError(code: CraftErrorCode, message: string): CraftError {
  const err = new Error(message) as CraftError;
  err.code = code;
  return err;
}

/**
 * Re-throws a native error with the caller's stack (captured before the work was queued), keeping message and code.
 * @private
 */
export function nativeError(err: unknown, stack: Error): Error {
  if (err instanceof Error) {
    const code = (err as Partial<CraftError>).code;
    const out = new Error(err.message) as CraftError;
    if (code) out.code = code;
    out.stack = `Error: ${err.message}\n${(stack.stack ?? '').split('\n').slice(1).join('\n')}`;
    return out;
  }
  return new Error(String(err));
}
