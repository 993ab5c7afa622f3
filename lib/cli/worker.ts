/*! craft-text | MIT */
// `craft-text worker`: one queue worker process (craft-text/queue's createWorker), with Prometheus metrics over HTTP
// and a draining shutdown on SIGTERM/SIGINT (finish the jobs in hand, take no new ones, exit 0).
import * as http from 'node:http';
import { num, parse, UsageError } from './args';

export const WORKER_USAGE = 'craft-text worker --redis URL --queue NAME [--model m.onnx] [--threads n] [--inference-concurrency n] [--concurrency n] [--ocr] [--metrics-port n] [--metrics-host h] [--prefix p] [--lock-duration-ms n] [--stalled-interval-ms n] [--max-stalled n] [--max-bytes n] [--drain-timeout-ms n] [--log-jobs]';

/** The worker's settings from its flags (and CRAFT_REDIS_URL for the URL, which then stays out of `ps`). @private */
export interface WorkerConfig {
  redis: string;
  queue: string;
  prefix?: string;
  detector: { model?: string; threads?: number; concurrency?: number };
  ocr: boolean;
  concurrency?: number;
  maxBytes?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  metricsPort?: number;
  metricsHost: string;
  drainTimeoutMs: number;
  logJobs: boolean;
}

/** Parses the flags; every mistake is a UsageError (exit 2) before anything connects or loads. @private */
export function workerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const { values, positionals } = parse(argv, {
    redis: { type: 'string' }, queue: { type: 'string' }, prefix: { type: 'string' },
    model: { type: 'string' }, threads: { type: 'string' }, 'inference-concurrency': { type: 'string' },
    concurrency: { type: 'string' }, ocr: { type: 'boolean' },
    'metrics-port': { type: 'string' }, 'metrics-host': { type: 'string' },
    'lock-duration-ms': { type: 'string' }, 'stalled-interval-ms': { type: 'string' }, 'max-stalled': { type: 'string' },
    'max-bytes': { type: 'string' }, 'drain-timeout-ms': { type: 'string' }, 'log-jobs': { type: 'boolean' },
  }, false);
  void positionals;
  const s = (k: string) => values[k] as string | undefined;
  const redis = s('redis') ?? env.CRAFT_REDIS_URL;
  if (!redis) throw new UsageError('worker needs --redis URL (or CRAFT_REDIS_URL)');
  let url: URL;
  try { url = new URL(redis); } catch { throw new UsageError(`--redis expects a redis:// or rediss:// URL, got '${redis}'`); }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--redis expects a redis:// or rediss:// URL, got '${redis}'`);
  const queue = s('queue');
  if (!queue) throw new UsageError('worker needs --queue NAME');
  if (queue.includes(':')) throw new UsageError(`--queue must not contain ':', got '${queue}'`);
  if (s('prefix') === '') throw new UsageError('--prefix must not be empty');
  const threads = num('threads', s('threads'), 0, 1024, true);
  const inference = num('inference-concurrency', s('inference-concurrency'), 1, 256, true);
  return {
    redis,
    queue,
    prefix: s('prefix'),
    detector: {
      ...(s('model') !== undefined ? { model: s('model') } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(inference !== undefined ? { concurrency: inference } : {}),
    },
    ocr: values.ocr === true,
    concurrency: num('concurrency', s('concurrency'), 1, 4096, true),
    maxBytes: num('max-bytes', s('max-bytes'), 1, 512 * 1024 * 1024, true),
    lockDurationMs: num('lock-duration-ms', s('lock-duration-ms'), 100, 2147483647, true),
    stalledIntervalMs: num('stalled-interval-ms', s('stalled-interval-ms'), 100, 2147483647, true),
    maxStalledCount: num('max-stalled', s('max-stalled'), 0, 1000, true),
    metricsPort: num('metrics-port', s('metrics-port'), 0, 65535, true),
    metricsHost: s('metrics-host') ?? '127.0.0.1',
    drainTimeoutMs: num('drain-timeout-ms', s('drain-timeout-ms'), 0, 2147483647, true) ?? 60000,
    logJobs: values['log-jobs'] === true,
  };
}

/** The URL without its password, for logs. */
function redacted(redis: string): string {
  const u = new URL(redis);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * Runs until SIGTERM/SIGINT, then drains: resolves 0 once the jobs in hand are done and everything is closed. A drain
 * longer than --drain-timeout-ms exits 1 (the unfinished jobs are picked up by other workers once their lock expires).
 */
export async function runWorker(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const config = workerConfig(argv);
  // Loaded here, not at the top: the other commands must not need bullmq.
  const { createWorker, registerMetrics } = await import('../queue');
  const w = await createWorker({
    connection: config.redis,
    queue: config.queue,
    prefix: config.prefix,
    detector: config.detector,
    ...(config.ocr ? { ocr: true } : {}),
    ...(config.concurrency !== undefined ? { concurrency: config.concurrency } : {}),
    ...(config.maxBytes !== undefined ? { maxBytes: config.maxBytes } : {}),
    ...(config.lockDurationMs !== undefined ? { lockDurationMs: config.lockDurationMs } : {}),
    ...(config.stalledIntervalMs !== undefined ? { stalledIntervalMs: config.stalledIntervalMs } : {}),
    ...(config.maxStalledCount !== undefined ? { maxStalledCount: config.maxStalledCount } : {}),
  });
  if (config.logJobs) {
    w.worker.on('active', (job) => out.write(JSON.stringify({ event: 'active', id: job.id, op: job.name, attempt: job.attemptsStarted }) + '\n'));
    w.worker.on('completed', (job) => out.write(JSON.stringify({ event: 'completed', id: job.id, op: job.name, attempt: job.attemptsStarted }) + '\n'));
    w.worker.on('failed', (job, err) => out.write(JSON.stringify({ event: 'failed', id: job?.id, op: job?.name, reason: err.message }) + '\n'));
  }

  let stopping = false;
  let server: http.Server | undefined;
  if (config.metricsPort !== undefined) {
    const { Registry } = (await import('../queue/peers')).loadPromClient();
    const registry = registerMetrics(w, new Registry());
    server = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        registry.metrics().then((text) => { res.writeHead(200, { 'content-type': registry.contentType }); res.end(text); },
          (err: Error) => { res.writeHead(500); res.end(`${err.message}\n`); });
      } else if (req.url === '/healthz') {
        res.writeHead(stopping ? 503 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: stopping ? 'draining' : 'ok', active: w.metrics().active, concurrency: w.concurrency }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.metricsPort, config.metricsHost, () => resolve());
      });
    } catch (err) {
      await w.close(); // nothing taken yet; without this the open connections would keep the process alive
      throw err;
    }
  }
  const metricsAt = server ? ` metrics http://${config.metricsHost}:${(server.address() as { port: number }).port}/metrics` : '';
  // One line that scripts (tests, bench/queue.js) wait for.
  out.write(`worker ready: queue ${config.queue} on ${redacted(config.redis)}, ${w.concurrency} jobs at once, ` +
    `${w.detector.info.executionProvider}, pid ${process.pid}${metricsAt}\n`);

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      out.write(`${signal}: draining (${w.metrics().active} jobs in hand, taking no new ones)\n`);
      const timer = setTimeout(() => {
        process.stderr.write(`craft-text worker: drain took longer than ${config.drainTimeoutMs} ms; exiting (unfinished jobs go to other workers)\n`);
        process.exit(1);
      }, config.drainTimeoutMs);
      timer.unref();
      w.close().then(async () => {
        await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
        clearTimeout(timer);
        out.write('stopped\n');
        resolve(0);
      }, (err: Error) => {
        process.stderr.write(`craft-text worker: shutdown failed: ${err.message}\n`);
        process.exit(1);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
