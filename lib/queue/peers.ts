/*! craft-text | MIT */
// The optional peer dependencies of craft-text/queue, loaded when first needed: the core package never requires them,
// and a missing one is a coded error that says what to install.
import { craftError } from '../errors';

type BullMQ = typeof import('bullmq');

function load<T>(name: string, why: string, install = name): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw craftError('ERR_CRAFT_DEPENDENCY', `craft-text/queue needs the '${name}' package ${why}: npm install ${install}`);
  }
}

let bullmq: BullMQ | undefined;
/** BullMQ (which needs ioredis, its optional peer, for Redis connections). @private */
export function loadBullMQ(): BullMQ {
  return (bullmq ??= load<BullMQ>('bullmq', 'for its queues', 'bullmq ioredis'));
}

/** prom-client, for the Prometheus metrics. @private */
export function loadPromClient(): typeof import('prom-client') {
  return load<typeof import('prom-client')>('prom-client', 'for Prometheus metrics');
}
