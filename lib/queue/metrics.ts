/*! craft-text | MIT */
// A worker's counters and job-time histograms, and their Prometheus form (prom-client, optional): jobs completed,
// failed and retried per op, processing time and enqueue-to-done latency, queue depth read from Redis at scrape time.
import { Histogram, type HistogramSnapshot } from '../stats';
import type { JobOp } from './codec';
import { loadPromClient } from './peers';

/** Latency of a job from enqueue to done can be long in a backlog: buckets up to an hour (ms). */
const LATENCY_BUCKETS_MS = Object.freeze([10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000]);

/** Counters of one op since the worker started. */
export interface JobCounters {
  /** Jobs that ended with a stored result. */
  completed: number;
  /** Jobs that ended failed: permanent failures at once, transient ones once their attempts ran out. */
  failed: number;
  /** Failed attempts that will be retried (with backoff). */
  retried: number;
}

/** `worker.metrics()`. */
export interface WorkerMetrics {
  jobs: Record<JobOp, JobCounters>;
  /** Jobs being processed now (at most `worker.concurrency`). */
  active: number;
  /** Processing time of completed jobs (ms, the worker's part: input, detect/read, result). */
  processing: HistogramSnapshot;
  /** Enqueue to completion of completed jobs (ms: waiting in Redis included). */
  latency: HistogramSnapshot;
}

/** Job counts in Redis, as BullMQ's getJobCounts() gives them. */
export type QueueDepth = Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed', number>;

/** @private */
export class MetricsRecorder {
  readonly jobs: Record<JobOp, JobCounters> = {
    detect: { completed: 0, failed: 0, retried: 0 },
    read: { completed: 0, failed: 0, retried: 0 },
  };
  active = 0;
  readonly processing = new Histogram();
  readonly latency = new Histogram(LATENCY_BUCKETS_MS);

  snapshot(): WorkerMetrics {
    return {
      jobs: { detect: { ...this.jobs.detect }, read: { ...this.jobs.read } },
      active: this.active,
      processing: this.processing.snapshot(),
      latency: this.latency.snapshot(),
    };
  }
}

/** What {@link registerMetrics} reads: a worker (or anything with the same two methods). */
export interface MetricsSource {
  metrics(): WorkerMetrics;
  queueDepth(): Promise<QueueDepth>;
}

/**
 * Registers the worker's metrics on a prom-client registry (prom-client is an optional peer dependency):
 * `craft_queue_jobs_total{op,outcome}` (completed / failed / retried), `craft_queue_job_seconds{phase}` histograms
 * (`processing`, `latency` = enqueue to done), `craft_queue_active_jobs`, and `craft_queue_depth{state}` read from Redis
 * at scrape time (shared by every worker of the queue: aggregate it with max, not sum).
 * @param registry - a prom-client `Registry` (default: prom-client's global one).
 */
export function registerMetrics(source: MetricsSource, registry?: import('prom-client').Registry): import('prom-client').Registry {
  const prom = loadPromClient();
  const reg = registry ?? prom.register;
  // prom-client can't take pre-aggregated histograms: custom metric objects (name/help/type/get), formatted by the registry.
  const custom = (name: string, help: string, type: string, values: () => unknown[] | Promise<unknown[]>) => {
    const metric = {
      name, help, type, aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: await values() }),
      reset() {},
    };
    reg.registerMetric(metric as unknown as import('prom-client').Metric);
  };
  custom('craft_queue_jobs_total', 'Jobs by op and outcome (completed, failed, retried) since the worker started', 'counter', () => {
    const m = source.metrics();
    return (Object.keys(m.jobs) as JobOp[]).flatMap((op) =>
      (Object.keys(m.jobs[op]) as (keyof JobCounters)[]).map((outcome) => ({ labels: { op, outcome }, value: m.jobs[op][outcome] })));
  });
  custom('craft_queue_active_jobs', 'Jobs this worker is processing now', 'gauge', () => [{ value: source.metrics().active }]);
  custom('craft_queue_job_seconds', 'Completed jobs: processing time, and latency from enqueue to done', 'histogram', () => {
    const m = source.metrics();
    const values: unknown[] = [];
    for (const [phase, h] of [['processing', m.processing], ['latency', m.latency]] as const) {
      for (const b of h.buckets) {
        values.push({ metricName: 'craft_queue_job_seconds_bucket', labels: { phase, le: b.le === Infinity ? '+Inf' : b.le / 1000 }, value: b.count });
      }
      values.push({ metricName: 'craft_queue_job_seconds_sum', labels: { phase }, value: h.sum / 1000 });
      values.push({ metricName: 'craft_queue_job_seconds_count', labels: { phase }, value: h.count });
    }
    return values;
  });
  custom('craft_queue_depth', 'Jobs in the queue by state, read from Redis (the same for every worker of a queue)', 'gauge', async () => {
    const depth = await source.queueDepth();
    return Object.entries(depth).map(([state, value]) => ({ labels: { state }, value }));
  });
  return reg;
}
