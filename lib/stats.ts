/*! craft-text | MIT */
// Counters and stage-time histograms of a detector's scheduler (`detector.stats()`), shaped for a Prometheus exporter:
// cumulative bucket counts + count + sum since creation, plus quantiles over a recent window.

/** Upper bounds (ms) of the histogram buckets; the last bucket (+Inf) is implicit. */
export const BUCKETS_MS: readonly number[] = Object.freeze([1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);

const WINDOW = 1024;

/** A stage-time histogram: all times in milliseconds. */
export interface HistogramSnapshot {
  /** Observations since the detector was created. */
  count: number;
  /** Sum of all observations (ms). */
  sum: number;
  /** Cumulative counts (`le` = upper bound in ms, the last one Infinity), Prometheus style. */
  buckets: { le: number; count: number }[];
  /** Quantiles over the last 1024 observations (0 when there are none). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** @private */
export class Histogram {
  #count = 0;
  #sum = 0;
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  readonly #window = new Float64Array(WINDOW);
  #next = 0;

  /** @param bounds - bucket upper bounds in ms, ascending (+Inf implicit). */
  constructor(bounds: readonly number[] = BUCKETS_MS) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  observe(ms: number): void {
    if (!(ms >= 0)) ms = 0;
    this.#count++;
    this.#sum += ms;
    let i = 0;
    while (i < this.#bounds.length && ms > this.#bounds[i]) i++;
    this.#counts[i]++;
    this.#window[this.#next++ % WINDOW] = ms;
  }

  snapshot(): HistogramSnapshot {
    const buckets: { le: number; count: number }[] = [];
    let acc = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      acc += this.#counts[i];
      buckets.push({ le: i < this.#bounds.length ? this.#bounds[i] : Infinity, count: acc });
    }
    const n = Math.min(this.#next, WINDOW);
    const recent = Array.from(this.#window.subarray(0, n)).sort((a, b) => a - b);
    const q = (p: number) => (n === 0 ? 0 : recent[Math.min(n - 1, Math.floor(p * n))]);
    return { count: this.#count, sum: this.#sum, buckets, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: n === 0 ? 0 : recent[n - 1] };
  }
}

/** Effective scheduling settings of a detector (after defaults and the model's limits). */
export interface SchedulerConfig {
  concurrency: number;
  stageConcurrency: number;
  maxQueue: number;
  batch: { maxSize: number; maxDelayMs: number };
}

/** `detector.stats()`: a snapshot of the scheduler. Gauges are current values; counters count since creation. */
export interface DetectorStats {
  /** Requests accepted but not started (waiting for a slot): what `maxQueue` bounds. */
  queued: number;
  /** Requests started and not yet settled (sum of `stages`). */
  inFlight: number;
  /** Where the in-flight requests are. */
  stages: {
    /** decoding + pre-processing */
    preparing: number;
    /** prepared, waiting for an inference slot (or for batch partners) */
    ready: number;
    inferring: number;
    /** waiting for or in post-processing */
    finishing: number;
  };
  /** Inferences running now (at most `config.concurrency`). */
  runningInferences: number;
  /**
   * The model's network runs, counted where they run (the session): every inference, every tile batch of a tiled
   * image, and the extra passes of scale 'auto' (probe, large text, upscaled), which run inside the decode and
   * post-processing stages. `running` (now) and `peak` (the most at once since creation) never exceed
   * `config.concurrency`: a run over it waits for a slot.
   */
  networkRuns: { runs: number; running: number; peak: number };
  /** Counters since creation. */
  submitted: number;
  completed: number;
  /** Native failures (decode errors, inference errors, …). */
  failed: number;
  /** Refused at once because the queue was full (ERR_CRAFT_QUEUE_FULL). */
  rejected: number;
  /** Settled by an AbortSignal (AbortError). */
  aborted: number;
  /** Settled by `timeoutMs` (ERR_CRAFT_TIMEOUT). */
  timedOut: number;
  /** Inference runs and the images they carried (images / runs = mean batch size). */
  batches: { runs: number; images: number };
  /**
   * Stage times (ms). `queue`: waiting for slots (submit to decode start, plus ready to inference start);
   * `inference`: one observation per run (a batch counts once); `total`: submit to settle of completed requests.
   */
  timings: Record<'queue' | 'decode' | 'preprocess' | 'inference' | 'postprocess' | 'total', HistogramSnapshot>;
  config: SchedulerConfig;
}

/** @private */
export class StatsRecorder {
  submitted = 0;
  completed = 0;
  failed = 0;
  rejected = 0;
  aborted = 0;
  timedOut = 0;
  runs = 0;
  images = 0;
  readonly h = {
    queue: new Histogram(),
    decode: new Histogram(),
    preprocess: new Histogram(),
    inference: new Histogram(),
    postprocess: new Histogram(),
    total: new Histogram(),
  };

  timings(): DetectorStats['timings'] {
    const out = {} as DetectorStats['timings'];
    for (const k of Object.keys(this.h) as (keyof StatsRecorder['h'])[]) out[k] = this.h[k].snapshot();
    return out;
  }
}
