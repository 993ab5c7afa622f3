/*! craft-text | MIT */
// Worker side of a job's input: base64 bytes back to a Buffer, a path passed through (the native reader opens it),
// a URL downloaded with a size cap and a deadline. Download failures say whether a retry can help.
import { craftError, type CraftError } from '../errors';
import type { ImageInput } from '../types';
import type { JobInput } from './codec';

export interface InputLimits {
  /** Largest download accepted (bytes). */
  maxBytes: number;
  /** Deadline of one download (ms). */
  fetchTimeoutMs: number;
}

function ioError(message: string, permanent: boolean): CraftError {
  const err = craftError('ERR_CRAFT_IO', message) as CraftError & { permanent?: boolean };
  if (permanent) err.permanent = true;
  return err;
}

/** @private */
export async function loadInput(input: JobInput, limits: InputLimits): Promise<ImageInput> {
  switch (input.kind) {
    case 'bytes':
      return Buffer.from(input.data, 'base64');
    case 'raw':
      return { data: Buffer.from(input.data, 'base64'), width: input.width, height: input.height, channels: input.channels };
    case 'path':
      return input.path;
    case 'url':
      return download(input.url, limits);
  }
}

/**
 * A 4xx answer (except 408 and 429) will not change on retry: permanent. Network errors, timeouts and 5xx are
 * transient (the job is retried with backoff). A body above `maxBytes` is ERR_CRAFT_INPUT_TOO_LARGE.
 */
async function download(url: string, limits: InputLimits): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(limits.fetchTimeoutMs), redirect: 'follow' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${limits.fetchTimeoutMs} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    throw ioError(`could not fetch ${url}: ${why}`, false);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    throw ioError(`could not fetch ${url}: HTTP ${res.status}`, permanent);
  }
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () => craftError('ERR_CRAFT_INPUT_TOO_LARGE', `${url} is larger than the worker's limit of ${limits.maxBytes} bytes (maxBytes)`);
  if (declared > limits.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    if ((err as CraftError).code === 'ERR_CRAFT_INPUT_TOO_LARGE') throw err;
    throw ioError(`could not read ${url}: ${(err as Error).message}`, false);
  }
  return Buffer.concat(chunks, size);
}
