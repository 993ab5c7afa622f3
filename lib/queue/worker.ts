/*! craft-text | MIT */
// createWorker(): a BullMQ worker that runs craft-text jobs on one Detector (and, for read jobs, an Ocr). It holds at
// most as many jobs as the detector can work on at once, fails permanent errors at once with their code, lets
// BullMQ retry transient ones with backoff, and drains on close().
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import { Detector } from '../detector';
import { checkKnownKeys, checkNumber, invalidParameterError, plainObject } from '../is';
import { craftError } from '../errors';
import type { CreateOptions, ImageInput } from '../types';
import {
  decodeJob, encodeResult, failureReason, isPermanent, maxBytesOption, type JobOp,
} from './codec';
import { loadInput } from './input';
import { MetricsRecorder, type QueueDepth, type WorkerMetrics } from './metrics';
import { loadBullMQ } from './peers';

/** The part of the OCR pipeline (`Ocr` from 'craft-text') a worker uses. */
export interface OcrLike {
  read(input: ImageInput, options?: Record<string, unknown>): Promise<unknown>;
  dispose?(): Promise<void> | void;
}

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** A Redis URL (`redis://[:password@]host:port[/db]`, `rediss://` for TLS) or BullMQ connection options. */
  connection: string | ConnectionOptions;
  /** Queue name (the producers' `new Queue(name)`). */
  queue: string;
  /** BullMQ key prefix. Default 'bull'. */
  prefix?: string;
  /**
   * The detector: `Detector.create()` options (default: the bundled model), or a Detector to share (the worker then
   * does not dispose it).
   */
  detector?: CreateOptions | Detector;
  /**
   * Read (OCR) jobs: an Ocr (or anything with `read(input, options)`), options for `Ocr.create()` (created now, with
   * this worker's detector as `detector` unless the options name one), `false` to refuse read jobs (they fail with
   * ERR_CRAFT_JOB), or unset: an Ocr is created with the first read job when craft-text has one.
   */
  ocr?: OcrLike | Record<string, unknown> | boolean;
  /**
   * Jobs held at once. Default and maximum: what the detector can work on at once, `concurrency × batch.maxSize`
   * inferences plus `stageConcurrency` images being decoded or post-processed (back-pressure: a worker never takes a
   * job it would only queue).
   */
  concurrency?: number;
  /** Largest URL download (bytes). Default 10 MiB, as enqueue()'s limit on carried bytes. */
  maxBytes?: number;
  /** Deadline of one URL download (ms). Default 30000. */
  fetchTimeoutMs?: number;
  /** How long a job's lock lasts without renewal (ms); a worker that dies loses its jobs after this. Default 30000. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired (ms). Default 30000. */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it fails instead of re-running. Default 1. */
  maxStalledCount?: number;
  /** Connection and job-lock errors reported by BullMQ. Default: one line on stderr (repeats within 5 s dropped). */
  onError?: (err: Error) => void;
}

/** A running worker. */
export interface CraftWorker {
  /** The BullMQ worker (events: 'completed', 'failed', 'active', …). */
  readonly worker: Worker;
  readonly detector: Detector;
  /** Jobs held at once. */
  readonly concurrency: number;
  /** Counters and job-time histograms since the worker started. */
  metrics(): WorkerMetrics;
  /** Job counts of the queue in Redis (waiting, active, delayed, prioritized, failed, completed). */
  queueDepth(): Promise<QueueDepth>;
  /**
   * Drains: takes no new job, finishes the jobs in hand (their results are stored), then closes the Redis connections
   * and frees the detector if the worker created it. Resolves when done.
   */
  close(): Promise<void>;
}

const WORKER_KEYS = [
  'connection', 'queue', 'prefix', 'detector', 'ocr', 'concurrency', 'maxBytes', 'fetchTimeoutMs', 'lockDurationMs',
  'stalledIntervalMs', 'maxStalledCount', 'onError',
];

/** Jobs a detector can work on at once: every inference slot full plus every decode/post-processing slot busy. */
export function detectorCapacity(detector: Detector): number {
  const c = detector.stats().config;
  return c.concurrency * c.batch.maxSize + c.stageConcurrency;
}

/** A Redis URL or BullMQ connection options. @private */
export function connectionOption(v: unknown): ConnectionOptions {
  if (typeof v === 'string') {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw invalidParameterError('connection', 'Redis URL (redis://host:port) or connection options', v);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw invalidParameterError('connection', 'Redis URL (redis:// or rediss://)', v, true);
    }
    return { url: v };
  }
  if (v === null || typeof v !== 'object') throw invalidParameterError('connection', 'Redis URL or connection options', v);
  return v as ConnectionOptions;
}

/** @private */
export function queueName(v: unknown, name = 'queue'): string {
  // BullMQ builds Redis keys as prefix:name:…; a ':' in the name would break its key layout.
  if (typeof v !== 'string' || v.length === 0 || v.includes(':')) throw invalidParameterError(name, "non-empty queue name without ':'", v);
  return v;
}

function stderrErrors(): (err: Error) => void {
  const last = new Map<string, number>();
  return (err) => {
    const now = Date.now();
    if (now - (last.get(err.message) ?? -Infinity) < 5000) return;
    last.set(err.message, now);
    process.stderr.write(`craft-text worker: ${(err as Error & { code?: string }).code ? `${(err as Error & { code?: string }).code}: ` : ''}${err.message}\n`);
  };
}

/** The Ocr class of this craft-text, when it has one (the OCR pipeline is a separate part of the package). */
function ocrClass(): { create(options?: Record<string, unknown>): Promise<OcrLike> } | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const craft = require('../index') as Record<string, unknown>;
  const Ocr = craft.Ocr as { create?: unknown } | undefined;
  return typeof Ocr?.create === 'function' ? (Ocr as { create(o?: Record<string, unknown>): Promise<OcrLike> }) : undefined;
}

/**
 * Starts a worker on `queue`: it takes `detect` and `read` jobs made by {@link enqueue} and stores their results in
 * Redis (BullMQ's return value, written once per job: a re-run after a stall can't add a second one).
 * @returns once the model is loaded and the worker is connected.
 * @throws TypeError / RangeError for invalid options (naming them); ERR_CRAFT_DEPENDENCY without bullmq/ioredis;
 *   the detector's errors (ERR_CRAFT_MODEL_LOAD, …).
 */
export async function createWorker(options: WorkerOptions): Promise<CraftWorker> {
  if (!plainObject(options)) throw invalidParameterError('options', 'object { connection, queue, ... }', options);
  checkKnownKeys('option', options, WORKER_KEYS);
  const o = options as unknown as Record<string, unknown>;
  const connection = connectionOption(o.connection);
  const name = queueName(o.queue);
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || o.prefix.length === 0)) throw invalidParameterError('prefix', 'non-empty string', o.prefix);
  const maxBytes = maxBytesOption(o.maxBytes);
  const fetchTimeoutMs = o.fetchTimeoutMs === undefined ? 30000 : checkNumber('fetchTimeoutMs', o.fetchTimeoutMs, 1, 2147483647, true);
  const lockDuration = o.lockDurationMs === undefined ? 30000 : checkNumber('lockDurationMs', o.lockDurationMs, 100, 2147483647, true);
  const stalledInterval = o.stalledIntervalMs === undefined ? 30000 : checkNumber('stalledIntervalMs', o.stalledIntervalMs, 100, 2147483647, true);
  const maxStalledCount = o.maxStalledCount === undefined ? 1 : checkNumber('maxStalledCount', o.maxStalledCount, 0, 1000, true);
  if (o.concurrency !== undefined) checkNumber('concurrency', o.concurrency, 1, 4096, true);
  if (o.onError !== undefined && typeof o.onError !== 'function') throw invalidParameterError('onError', 'function', o.onError);
  const ocrOption = o.ocr;
  if (ocrOption !== undefined && typeof ocrOption !== 'boolean' && !plainObject(ocrOption) &&
      !(typeof ocrOption === 'object' && ocrOption !== null && typeof (ocrOption as OcrLike).read === 'function')) {
    throw invalidParameterError('ocr', 'Ocr, Ocr.create() options or boolean', ocrOption);
  }
  const { Worker, Queue, UnrecoverableError } = loadBullMQ();

  const ownDetector = !(o.detector instanceof Detector);
  const detector = o.detector instanceof Detector ? o.detector : await Detector.create(o.detector as CreateOptions | undefined);
  let ocr: Promise<OcrLike> | undefined;
  let ownOcr = false;
  try {
    const capacity = detectorCapacity(detector);
    const concurrency = o.concurrency === undefined ? capacity : (o.concurrency as number);
    if (concurrency > capacity) {
      throw new RangeError(`Expected concurrency between 1 and ${capacity} (what the detector can work on at once: ` +
        `concurrency × batch.maxSize + stageConcurrency) but received ${concurrency}`);
    }
    const explicitOcr = (ocrOption === true || plainObject(ocrOption));
    const makeOcr = (): Promise<OcrLike> => {
      const Ocr = ocrClass();
      if (!Ocr) return Promise.reject(craftError('ERR_CRAFT_JOB', 'this craft-text has no Ocr: read jobs need the OCR pipeline'));
      ownOcr = true;
      return Ocr.create({ detector, ...(plainObject(ocrOption) ? ocrOption : {}) });
    };
    if (typeof ocrOption === 'object' && ocrOption !== null && typeof (ocrOption as OcrLike).read === 'function') ocr = Promise.resolve(ocrOption as OcrLike);
    else if (explicitOcr) ocr = makeOcr(); // configured: load it now, so a bad recognizer stops the worker at start
    if (explicitOcr) await ocr;
    const getOcr = (): Promise<OcrLike> => {
      if (ocrOption === false) {
        return Promise.reject(craftError('ERR_CRAFT_JOB', 'this worker runs no read jobs (started with ocr: false)'));
      }
      if (!ocr) {
        const made = makeOcr();
        ocr = made;
        // a failed creation (a recognizer that doesn't load) is tried again by the next read job, not cached
        made.catch(() => { if (ocr === made) ocr = undefined; });
      }
      return ocr;
    };

    const recorder = new MetricsRecorder();
    const limits = { maxBytes, fetchTimeoutMs };

    const run = async (op: JobOp, input: ImageInput, jobOptions: Record<string, unknown>): Promise<unknown> => {
      if (op === 'detect') return detector.detect(input, jobOptions);
      return (await getOcr()).read(input, jobOptions);
    };

    const processor = async (job: Job): Promise<unknown> => {
      const t0 = performance.now();
      const op: JobOp = job.data?.op === 'read' ? 'read' : 'detect';
      recorder.active++;
      try {
        const data = decodeJob(job.data);
        const input = await loadInput(data.input, limits);
        const result = encodeResult(await run(data.op, input, data.options));
        recorder.jobs[op].completed++;
        recorder.processing.observe(performance.now() - t0);
        recorder.latency.observe(Date.now() - job.timestamp);
        return result;
      } catch (err) {
        const reason = failureReason(err);
        if (isPermanent(err)) {
          recorder.jobs[op].failed++;
          throw new UnrecoverableError(reason);
        }
        const attempts = job.opts.attempts ?? 1;
        if (job.attemptsMade + 1 < attempts) recorder.jobs[op].retried++;
        else recorder.jobs[op].failed++;
        throw new Error(reason);
      } finally {
        recorder.active--;
      }
    };

    const worker = new Worker(name, processor, {
      connection,
      prefix: o.prefix as string | undefined,
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      autorun: true,
    });
    worker.on('error', (o.onError as ((err: Error) => void) | undefined) ?? stderrErrors());
    await worker.waitUntilReady();

    let queue: Queue | undefined;
    let closing: Promise<void> | undefined;
    return {
      worker,
      detector,
      concurrency,
      metrics: () => recorder.snapshot(),
      async queueDepth() {
        queue ??= new Queue(name, { connection, prefix: o.prefix as string | undefined });
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
        return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, prioritized: c.prioritized ?? 0,
          failed: c.failed ?? 0, completed: c.completed ?? 0 };
      },
      close() {
        closing ??= (async () => {
          await worker.close(); // waits for the jobs in hand, takes no new one
          await queue?.close();
          if (ownOcr && ocr) await (await ocr.catch(() => undefined))?.dispose?.();
          if (ownDetector) await detector.dispose();
        })();
        return closing;
      },
    };
  } catch (err) {
    if (ownDetector) await detector.dispose();
    throw err;
  }
}
