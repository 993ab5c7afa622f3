/*! craft-text | MIT */
// The producer side: enqueue()/enqueueMany() add jobs to a BullMQ queue, results()/waitForResults() collect what the
// workers stored: events as jobs finish, and a periodic sweep of the jobs still pending in Redis, so nothing is missed
// across a reconnect or a Redis restart.
import type { Job, JobsOptions, Queue, QueueEvents } from 'bullmq';
import { craftError } from '../errors';
import type { DetectResult } from '../types';
import { checkKnownKeys, checkNumber, invalidParameterError, plainObject } from '../is';
import {
  decodeResult, encodeInput, encodeOptions, JOB_VERSION, maxBytesOption, OPS, parseFailure, type JobData, type JobError,
  type JobOp, type QueueInput,
} from './codec';
import { loadBullMQ } from './peers';
import { connectionOption, queueName } from './worker';

/** Options of {@link enqueue}. */
export interface EnqueueOptions {
  /** 'detect' (`detect()`'s result) or 'read' (`ocr.read()`'s). Default 'detect'. */
  op?: JobOp;
  /** Options of detect() (all but `signal`; `timeoutMs` counts from when a worker starts the job) or of read(). */
  options?: Record<string, unknown>;
  /**
   * The job's id. Enqueuing an id that is already in the queue adds nothing (BullMQ keeps the first job): give
   * ids derived from the work (a file's path or hash) to make a re-submitted batch idempotent. Default: BullMQ's counter.
   */
  jobId?: string;
  /** BullMQ priority: 1 (highest) … 2097152; unset = plain FIFO. */
  priority?: number;
  /** Attempts of a job whose failures are transient (permanent ones fail at once). Default 3. */
  attempts?: number;
  /** First retry delay; doubles with each retry (exponential backoff). Default 1000 ms. */
  backoffMs?: number;
  /** Largest image carried in the job (bytes, before base64). Default 10 MiB; beyond it: ERR_CRAFT_INPUT_TOO_LARGE. */
  maxBytes?: number;
  /** How long a completed job (and its result) stays in Redis. Default 86400 s (a day). */
  keepCompletedSeconds?: number;
  /** How long a failed job stays in Redis. Default 604800 s (a week). */
  keepFailedSeconds?: number;
}

/** One item of {@link enqueueMany}: an input, or an input with its own options. */
export type EnqueueItem = QueueInput | ({ input: QueueInput } & EnqueueOptions);

/** How a job ended. `T`: the result's type, detect()'s by default (read jobs: `ocr.read()`'s). */
export type JobOutcome<T = DetectResult> =
  | { id: string; ok: true; result: T }
  | { id: string; ok: false; error: JobError };

/** Options of {@link results} and {@link waitForResults}. */
export interface ResultsOptions {
  /** Give up (ERR_CRAFT_TIMEOUT) when the jobs are not all done by then (ms). The jobs go on. Default: no limit. */
  timeoutMs?: number;
  /** Stops waiting (AbortError). The jobs go on. */
  signal?: AbortSignal;
  /** Period of the sweep that reads pending jobs from Redis (events are the fast path). Default 2000 ms. */
  pollMs?: number;
}

const ENQUEUE_KEYS = ['op', 'options', 'jobId', 'priority', 'attempts', 'backoffMs', 'maxBytes', 'keepCompletedSeconds', 'keepFailedSeconds'];

/**
 * Opens a BullMQ Queue for producers (any `new Queue(name, { connection })` works as well).
 * @param options.connection - a Redis URL or BullMQ connection options; `queue` its name; `prefix` BullMQ's key prefix.
 */
export function createQueue(options: { connection: string | import('bullmq').ConnectionOptions; queue: string; prefix?: string }): Queue {
  if (!plainObject(options)) throw invalidParameterError('options', 'object { connection, queue }', options);
  checkKnownKeys('option', options, ['connection', 'queue', 'prefix']);
  const connection = connectionOption(options.connection);
  const name = queueName(options.queue);
  if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix.length === 0)) {
    throw invalidParameterError('prefix', 'non-empty string', options.prefix);
  }
  const { Queue: BullQueue } = loadBullMQ();
  return new BullQueue(name, { connection, prefix: options.prefix });
}

function checkQueue(queue: unknown): Queue {
  const q = queue as Queue | null;
  if (q === null || typeof q !== 'object' || typeof q.add !== 'function' || typeof q.addBulk !== 'function' || typeof q.name !== 'string') {
    throw invalidParameterError('queue', "BullMQ Queue (new Queue(name, { connection }))", queue);
  }
  return q;
}

function jobIdOption(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  // BullMQ's own rules: its counter ids are integers and its keys are ':'-separated.
  if (typeof v !== 'string' || v.length === 0 || /^\d+$/.test(v) || v.includes(':')) {
    throw invalidParameterError(name, "non-empty string id, not an integer, without ':'", v);
  }
  return v;
}

/** One job's name, data and BullMQ options from an input and enqueue options. */
function buildJob(input: unknown, options: unknown, where: string): { name: JobOp; data: JobData; opts: JobsOptions } {
  if (options === undefined) options = {};
  if (!plainObject(options)) throw invalidParameterError(`${where}options`, 'plain object', options);
  checkKnownKeys('option', options, ENQUEUE_KEYS);
  const o = options as EnqueueOptions & Record<string, unknown>;
  const op = o.op ?? 'detect';
  if (!OPS.includes(op)) throw invalidParameterError(`${where}op`, "'detect' or 'read'", op, typeof op === 'string');
  const data: JobData = {
    v: JOB_VERSION, op, input: encodeInput(input, maxBytesOption(o.maxBytes), `${where}input`), options: encodeOptions(op, o.options),
  };
  const attempts = o.attempts === undefined ? 3 : checkNumber(`${where}attempts`, o.attempts, 1, 1000, true);
  const backoffMs = o.backoffMs === undefined ? 1000 : checkNumber(`${where}backoffMs`, o.backoffMs, 0, 86400000, true);
  const keepCompleted = o.keepCompletedSeconds === undefined ? 86400 : checkNumber(`${where}keepCompletedSeconds`, o.keepCompletedSeconds, 1, 2 ** 31, true);
  const keepFailed = o.keepFailedSeconds === undefined ? 604800 : checkNumber(`${where}keepFailedSeconds`, o.keepFailedSeconds, 1, 2 ** 31, true);
  const opts: JobsOptions = {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: keepCompleted },
    removeOnFail: { age: keepFailed },
  };
  const jobId = jobIdOption(o.jobId, `${where}jobId`);
  if (jobId !== undefined) opts.jobId = jobId;
  if (o.priority !== undefined) opts.priority = checkNumber(`${where}priority`, o.priority, 1, 2097152, true);
  return { name: op, data, opts };
}

/**
 * Adds one job.
 * @param queue - a BullMQ `Queue`.
 * @param input - image bytes or raw pixels (carried in the job, up to `maxBytes`), an absolute path or an http(s) URL
 *   the workers can read.
 * @returns the job id.
 * @throws TypeError / RangeError for invalid arguments (before anything is sent); ERR_CRAFT_INPUT_TOO_LARGE for an
 *   image above `maxBytes`.
 */
export async function enqueue(queue: Queue, input: QueueInput, options?: EnqueueOptions): Promise<string> {
  const q = checkQueue(queue);
  const job = buildJob(input, options, '');
  const added = await q.add(job.name, job.data, job.opts);
  return added.id!;
}

/**
 * Adds many jobs, in chunks of 500 per Redis round trip (BullMQ's addBulk). Every item is checked before the first
 * is sent, so a bad one adds nothing.
 * @param items - inputs, or `{ input, ...EnqueueOptions }` for per-item options.
 * @param options - options for every item (an item's own override them).
 * @returns the job ids, in item order.
 */
export async function enqueueMany(queue: Queue, items: EnqueueItem[], options?: EnqueueOptions): Promise<string[]> {
  const q = checkQueue(queue);
  if (!Array.isArray(items)) throw invalidParameterError('items', 'array', items);
  if (options !== undefined && !plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  const jobs = items.map((item, i) => {
    if (plainObject(item) && 'input' in item) {
      const { input, ...own } = item as { input: QueueInput } & EnqueueOptions;
      return buildJob(input, { ...options, ...own }, `items[${i}].`);
    }
    return buildJob(item, options, `items[${i}].`);
  });
  const ids: string[] = [];
  for (let i = 0; i < jobs.length; i += 500) {
    const added = await q.addBulk(jobs.slice(i, i + 500));
    for (const job of added) ids.push(job.id!);
  }
  return ids;
}

function outcomeOf(id: string, job: Job | undefined): JobOutcome<unknown> | undefined {
  if (!job) return { id, ok: false, error: { code: 'ERR_CRAFT_JOB', name: 'Error', message: `job ${id} is not in the queue (never added, or removed)` } };
  if (!job.finishedOn) return undefined;
  if (job.returnvalue !== null && job.returnvalue !== undefined) return { id, ok: true, result: decodeResult(job.returnvalue) };
  return { id, ok: false, error: parseFailure(job.failedReason) };
}

function parsed(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

/**
 * Streams the outcomes of jobs as they finish (any order), each once. A job that fails and is retried is reported
 * when its last attempt ends.
 * @throws ERR_CRAFT_TIMEOUT when `timeoutMs` passes first; AbortError when `signal` aborts.
 */
export async function* results<T = DetectResult>(queue: Queue, ids: string[], options: ResultsOptions = {}): AsyncGenerator<JobOutcome<T>> {
  const q = checkQueue(queue);
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw invalidParameterError('ids', 'array of job ids', ids);
  if (!plainObject(options)) throw invalidParameterError('options', 'plain object', options);
  checkKnownKeys('option', options, ['timeoutMs', 'signal', 'pollMs']);
  const timeoutMs = options.timeoutMs === undefined ? undefined : checkNumber('timeoutMs', options.timeoutMs, 0, 2147483647);
  const pollMs = options.pollMs === undefined ? 2000 : checkNumber('pollMs', options.pollMs, 10, 2147483647);
  const signal = options.signal as AbortSignal | undefined;
  signal?.throwIfAborted();

  const pending = new Set(ids);
  if (pending.size === 0) return;
  const ready: JobOutcome<unknown>[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  const finish = (outcome: JobOutcome<unknown> | undefined) => {
    if (!outcome || !pending.delete(outcome.id)) return;
    ready.push(outcome);
    wake?.();
  };
  const fail = (err: unknown) => { failure ??= err; wake?.(); };

  const { QueueEvents } = loadBullMQ();
  const events: QueueEvents = new QueueEvents(q.name, { connection: q.opts.connection, prefix: q.opts.prefix });
  events.on('error', () => undefined); // reconnects are BullMQ's business; the sweep covers what events miss
  events.on('completed', ({ jobId, returnvalue }) => {
    if (pending.has(jobId)) finish({ id: jobId, ok: true, result: decodeResult(parsed(returnvalue)) });
  });
  events.on('failed', ({ jobId, failedReason }) => {
    // 'failed' is emitted when a job has failed for good (a retried attempt emits 'delayed'/'waiting' instead)
    if (pending.has(jobId)) finish({ id: jobId, ok: false, error: parseFailure(failedReason) });
  });

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const todo = [...pending];
      for (let i = 0; i < todo.length; i += 256) {
        const chunk = todo.slice(i, i + 256);
        const jobs = await Promise.all(chunk.map((id) => q.getJob(id)));
        chunk.forEach((id, k) => finish(outcomeOf(id, jobs[k])));
      }
    } catch { /* Redis unreachable for now: the next sweep tries again */ } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => { void sweep(); }, pollMs);
  const deadline = timeoutMs === undefined ? undefined : setTimeout(() =>
    fail(craftError('ERR_CRAFT_TIMEOUT', `${pending.size} of ${ids.length} jobs not finished within ${timeoutMs} ms (they go on in the queue)`)), timeoutMs);
  const onAbort = () => {
    const err = new Error('The operation was aborted', { cause: signal!.reason }) as Error & { code: string };
    err.name = 'AbortError';
    err.code = 'ABORT_ERR';
    fail(err);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await events.waitUntilReady();
    await sweep(); // jobs that finished before the events subscription
    while (pending.size > 0 || ready.length > 0) {
      if (ready.length > 0) {
        yield ready.shift()! as JobOutcome<T>;
        continue;
      }
      if (failure) throw failure;
      await new Promise<void>((resolve) => { wake = resolve; });
      wake = undefined;
    }
  } finally {
    clearInterval(timer);
    if (deadline) clearTimeout(deadline);
    signal?.removeEventListener('abort', onAbort);
    await events.close().catch(() => undefined);
  }
}

/**
 * Waits for jobs and returns their outcomes in `ids` order.
 * @throws ERR_CRAFT_TIMEOUT / AbortError as {@link results}.
 */
export async function waitForResults<T = DetectResult>(queue: Queue, ids: string[], options?: ResultsOptions): Promise<JobOutcome<T>[]> {
  const byId = new Map<string, JobOutcome<T>>();
  for await (const outcome of results<T>(queue, ids, options)) byId.set(outcome.id, outcome);
  return ids.map((id) => byId.get(id)!);
}
