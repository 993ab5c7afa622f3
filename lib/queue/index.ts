/*! craft-text | MIT */
// craft-text/queue: detection and OCR over a BullMQ/Redis worker fleet (bullmq + ioredis are optional peer
// dependencies of craft-text; this entry point is the only one that loads them). See docs/distributed.md.
export { createWorker, detectorCapacity } from './worker';
export type { CraftWorker, OcrLike, WorkerOptions } from './worker';
export { createQueue, enqueue, enqueueMany, results, waitForResults } from './producer';
export type { EnqueueItem, EnqueueOptions, JobOutcome, ResultsOptions } from './producer';
export { registerMetrics } from './metrics';
export type { JobCounters, MetricsSource, QueueDepth, WorkerMetrics } from './metrics';
export { DEFAULT_MAX_BYTES, JOB_VERSION, PERMANENT_CODES } from './codec';
export type { JobData, JobError, JobInput, JobOp, QueueInput } from './codec';
