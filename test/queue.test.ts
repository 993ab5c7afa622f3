// craft-text/queue against a real Redis (a throwaway redis-server per suite on a free loopback port): the job codec,
// detect and read jobs, permanent vs transient failures, poison jobs, idempotent enqueue, results streaming,
// back-pressure, metrics, and the `craft-text worker` process: config, SIGTERM drain, SIGKILL recovery, Redis restart.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeBmp, IMAGES, rejects, ROOT, syntheticPage, TINY_MODEL } from './helpers';
import { Detector } from '../dist';
import * as Q from '../dist/queue';
import { decodeResult, encodeInput, encodeOptions, encodeResult, failureReason, isPermanent, parseFailure } from '../dist/queue/codec';
import { workerConfig } from '../dist/cli/worker';
import { UsageError } from '../dist/cli/args';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startRedis, redisServerPath } = require(path.join(ROOT, 'tools', 'redis-server.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Queue } = require('bullmq') as typeof import('bullmq');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Registry } = require('prom-client') as typeof import('prom-client');

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const PNG_PATH = path.join(IMAGES, 'hello.png');
const png = fs.readFileSync(PNG_PATH);
/** A page that takes the tiny model ~50-100 ms: long enough to be caught in flight. */
const SIDE = 320;
const page = encodeBmp(syntheticPage(SIDE, SIDE, 3), SIDE, SIDE);
const PAGE_OPTIONS = { canvasSize: SIDE, magRatio: 1, tiling: 'off' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HAVE_REDIS = redisServerPath() !== undefined;
if (!HAVE_REDIS) console.log('  (skipped: the Redis tests need redis-server: tools/setup-redis.sh installs it)');

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(10);
  }
}

let queues = 0;
const queueName = () => `q${++queues}-${process.pid}`;

// ---- without Redis: codec, validation, config ---------------------------------------------------------------------

const codec = suite('queue codec and validation');

codec('inputs: bytes and raw pixels travel as base64, paths and URLs as references', () => {
  const bytes = encodeInput(png, 1 << 20);
  assert.equal(bytes, { kind: 'bytes', data: png.toString('base64') });
  const raw = new Uint8Array(2 * 2 * 3 + 5).fill(7); // a larger backing buffer: only the described pixels travel
  const r = encodeInput({ data: raw, width: 2, height: 2, channels: 3 }, 1 << 20) as { data: string; width: number };
  assert.is(Buffer.from(r.data, 'base64').length, 12);
  assert.equal(encodeInput(PNG_PATH, 1), { kind: 'path', path: PNG_PATH });
  assert.equal(encodeInput('https://example.com/a.png', 1), { kind: 'url', url: 'https://example.com/a.png' });
  assert.equal(encodeInput(new URL('http://h/b.png'), 1), { kind: 'url', url: 'http://h/b.png' });
});

codec('inputs: a relative path, a wrong type and an image above maxBytes are refused, naming the argument', () => {
  assert.throws(() => encodeInput('page.png', 1), (e: Error) => e instanceof TypeError && /absolute file path .* for input/.test(e.message));
  assert.throws(() => encodeInput(42, 1), (e: Error) => e instanceof TypeError && /for input/.test(e.message));
  assert.throws(() => encodeInput(new URL('ftp://h/x'), 1), (e: Error) => e instanceof TypeError && /http\(s\) URL/.test(e.message));
  assert.throws(() => encodeInput(png, png.length - 1), (e: Error & { code?: string }) =>
    e.code === 'ERR_CRAFT_INPUT_TOO_LARGE' && /maxBytes/.test(e.message) && /path or URL/.test(e.message));
});

codec('options: detect options are checked at enqueue; signal cannot cross a queue', () => {
  assert.equal(encodeOptions('detect', { textThreshold: 0.6, polygons: true, timeoutMs: 500 }), { textThreshold: 0.6, polygons: true, timeoutMs: 500 });
  assert.throws(() => encodeOptions('detect', { textThreshold: 1.5 }), (e: Error) => e instanceof RangeError && /textThreshold/.test(e.message));
  assert.throws(() => encodeOptions('detect', { textTreshold: 0.5 }), (e: Error) => e instanceof TypeError && /did you mean 'textThreshold'/.test(e.message));
  assert.throws(() => encodeOptions('detect', { signal: new AbortController().signal }), (e: Error) => e instanceof TypeError && /signal/.test(e.message));
  assert.throws(() => encodeOptions('read', 'x'), (e: Error) => e instanceof TypeError && /for options/.test(e.message));
  assert.equal(encodeOptions('read', { anything: 1 }), { anything: 1 }); // the worker's Ocr checks read options
});

codec('results: typed arrays are encoded explicitly and come back equal; failures keep their code', () => {
  const region = new Float32Array([0, 0.25, 1.5, -2]);
  const back = decodeResult(JSON.parse(JSON.stringify(encodeResult({ words: [{ box: [[1, 2]] }], heatmaps: { region } })))) as any;
  assert.instance(back.heatmaps.region, Float32Array);
  assert.equal(Array.from(back.heatmaps.region), Array.from(region));
  assert.equal(back.words, [{ box: [[1, 2]] }]);
  const decode = Object.assign(new Error('bad image'), { code: 'ERR_CRAFT_DECODE' });
  assert.equal(parseFailure(failureReason(decode)), { code: 'ERR_CRAFT_DECODE', name: 'Error', message: 'bad image' });
  assert.equal(parseFailure(failureReason(new RangeError('Expected x'))), { name: 'RangeError', message: 'Expected x' });
  assert.equal(parseFailure('job stalled more than allowable limit'), { name: 'Error', message: 'job stalled more than allowable limit' });
  assert.ok(isPermanent(decode));
  assert.ok(isPermanent(new TypeError('x')));
  assert.ok(isPermanent(Object.assign(new Error('x'), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' })));
  assert.not.ok(isPermanent(Object.assign(new Error('x'), { code: 'ERR_CRAFT_INFERENCE' })));
  assert.not.ok(isPermanent(Object.assign(new Error('x'), { code: 'ERR_CRAFT_IO' })));
  assert.not.ok(isPermanent(new Error('connection reset')));
});

codec("the core entry doesn't load bullmq; craft-text/queue resolves through the package's exports", () => {
  const r = spawnSync(process.execPath, ['-e', `
    const craft = require('craft-text');
    const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](bullmq|ioredis|prom-client)[\\\\/]/.test(k));
    const queue = require('craft-text/queue');
    console.log(JSON.stringify({ core: typeof craft.Detector, loaded, queue: typeof queue.createWorker }));`], { cwd: ROOT, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { core: 'function', loaded: [], queue: 'function' });
});

codec('without bullmq installed, craft-text/queue says what to install (ERR_CRAFT_DEPENDENCY)', () => {
  const r = spawnSync(process.execPath, ['-e', `
    const Module = require('module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'bullmq') throw Object.assign(new Error("Cannot find module 'bullmq'"), { code: 'MODULE_NOT_FOUND' });
      return resolve.call(this, request, ...rest);
    };
    const q = require('craft-text/queue');
    q.createWorker({ connection: 'redis://127.0.0.1:1', queue: 'a' }).then(() => console.log('resolved'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`],
  { cwd: ROOT, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.is(out.code, 'ERR_CRAFT_DEPENDENCY');
  assert.match(out.message, /npm install bullmq/);
});

codec('createWorker / createQueue validate their options before connecting', async () => {
  await rejects(() => Q.createWorker(undefined as any), { name: 'TypeError', message: /for options/ });
  await rejects(() => Q.createWorker({ connection: 'http://x', queue: 'a' }), { name: 'RangeError', message: /for connection/ });
  await rejects(() => Q.createWorker({ connection: 'nonsense', queue: 'a' }), { name: 'TypeError', message: /for connection/ });
  await rejects(() => Q.createWorker({ connection: 'redis://127.0.0.1:1', queue: 'a:b' }), { name: 'TypeError', message: /for queue/ });
  await rejects(() => Q.createWorker({ connection: 'redis://127.0.0.1:1', queue: 'a', lockDurationMs: 5 }), { name: 'RangeError', message: /lockDurationMs/ });
  await rejects(() => Q.createWorker({ connection: 'redis://127.0.0.1:1', queue: 'a', concurency: 2 } as any), { name: 'TypeError', message: /did you mean 'concurrency'/ });
  assert.throws(() => Q.createQueue({ connection: 'redis://h', queue: '' }), (e: Error) => e instanceof TypeError && /for queue/.test(e.message));
});

codec('back-pressure: a worker may not hold more jobs than its detector can work on', async () => {
  const detector = await Detector.create({ model: TINY_MODEL, threads: 1, concurrency: 2, stageConcurrency: 1 });
  try {
    assert.is(Q.detectorCapacity(detector), 3);
    await rejects(() => Q.createWorker({ connection: 'redis://127.0.0.1:1', queue: 'a', detector, concurrency: 4 }),
      { name: 'RangeError', message: /concurrency between 1 and 3/ });
  } finally {
    await detector.dispose();
  }
});

codec('worker config: flags, CRAFT_REDIS_URL, and usage errors before anything loads', () => {
  const c = workerConfig(['--redis', 'redis://:secret@h:6380/2', '--queue', 'pages', '--threads', '2', '--concurrency', '1',
    '--inference-concurrency', '2', '--metrics-port', '0', '--lock-duration-ms', '1000', '--model', 'default-int8'], {});
  assert.is(c.redis, 'redis://:secret@h:6380/2');
  assert.is(c.queue, 'pages');
  assert.equal(c.detector, { model: 'default-int8', threads: 2, concurrency: 2 });
  assert.is(c.concurrency, 1);
  assert.is(c.metricsPort, 0);
  assert.is(c.metricsHost, '127.0.0.1');
  assert.is(c.lockDurationMs, 1000);
  assert.is(c.drainTimeoutMs, 60000);
  assert.is(workerConfig(['--queue', 'q'], { CRAFT_REDIS_URL: 'redis://e:1' }).redis, 'redis://e:1');
  const usage = (argv: string[], re: RegExp) => assert.throws(() => workerConfig(argv, {}), (e: Error) => e instanceof UsageError && re.test(e.message));
  usage(['--queue', 'q'], /--redis/);
  usage(['--redis', 'redis://h'], /--queue/);
  usage(['--redis', 'http://h', '--queue', 'q'], /redis:\/\//);
  usage(['--redis', 'redis://h', '--queue', 'a:b'], /':'/);
  usage(['--redis', 'redis://h', '--queue', 'q', '--concurrency', '0'], /--concurrency expects an integer between 1/);
  usage(['--redis', 'redis://h', '--queue', 'q', '--bogus'], /bogus/);
  usage(['--redis', 'redis://h', '--queue', 'q', 'extra'], /extra/);
});

codec('craft-text worker: --help exits 0, a usage error exits 2 with nothing on stdout', () => {
  const help = spawnSync(process.execPath, [CLI, 'worker', '--help'], { encoding: 'utf8' });
  assert.is(help.status, 0);
  assert.match(help.stdout, /craft-text worker --redis URL --queue NAME/);
  const bad = spawnSync(process.execPath, [CLI, 'worker', '--queue', 'q'], { encoding: 'utf8', env: { ...process.env, CRAFT_REDIS_URL: '' } });
  assert.is(bad.status, 2);
  assert.is(bad.stdout, '');
  assert.match(bad.stderr, /needs --redis/);
});

codec("examples/queue: the workers' flags in docker-compose.yml and k8s.yaml are ones the worker accepts", () => {
  const dir = path.join(ROOT, 'examples', 'queue');
  const compose = fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8');
  const k8s = fs.readFileSync(path.join(dir, 'k8s.yaml'), 'utf8');
  const composeArgs = JSON.parse(/^\s+command: (\["worker".*\])$/m.exec(compose)![1]) as string[];
  const k8sArgs = JSON.parse(/^\s+args: (\["worker".*\])$/m.exec(k8s)![1]) as string[];
  const c = workerConfig(composeArgs.slice(1), {});
  assert.is(c.queue, 'pages');
  assert.is(c.metricsHost, '0.0.0.0');
  assert.is(workerConfig(k8sArgs.slice(1), { CRAFT_REDIS_URL: 'redis://redis:6379' }).queue, c.queue);
  // the producer in the compose file sends to the same queue
  assert.match(compose, new RegExp(`producer\\.js --redis redis://redis:6379 --queue ${c.queue} `));
  // the container's grace period outlasts the worker's drain timeout
  const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(k8s)![1]);
  assert.ok(workerConfig(k8sArgs.slice(1), { CRAFT_REDIS_URL: 'redis://r' }).drainTimeoutMs < grace * 1000);
});

codec.run();

// ---- with Redis: in-process worker ----------------------------------------------------------------------------------

type Ctx = { redis: any; detector: Detector; worker: Q.CraftWorker; queue: import('bullmq').Queue; name: string; http: http.Server; base: string; hits: Map<string, number> };
const jobs = suite<Ctx>('queue: detect and read jobs on a real Redis');

jobs.before(async (ctx) => {
  if (!HAVE_REDIS) return;
  ctx.redis = await startRedis();
  ctx.detector = await Detector.create({ model: TINY_MODEL, threads: 1 });
  ctx.name = queueName();
  const reads: unknown[] = [];
  ctx.worker = await Q.createWorker({
    connection: ctx.redis.url, queue: ctx.name, detector: ctx.detector,
    // a stand-in OCR: read jobs are plumbed through to ocr.read(input, options) and its result stored as JSON
    ocr: { async read(input, options) { reads.push(options); const r = await ctx.detector.detect(input); return { words: r.words.map((w) => ({ ...w, text: 'x' })), text: 'x', probs: new Float32Array([0.5]) }; } },
  });
  ctx.queue = Q.createQueue({ connection: ctx.redis.url, queue: ctx.name });
  // A file server for URL inputs: /flaky fails with 503 twice then serves the image, /gone is a 404, /down always 503.
  ctx.hits = new Map();
  ctx.http = http.createServer((req, res) => {
    const n = (ctx.hits.get(req.url!) ?? 0) + 1;
    ctx.hits.set(req.url!, n);
    if (req.url === '/hello.png' || (req.url === '/flaky.png' && n > 2)) { res.writeHead(200, { 'content-type': 'image/png' }); res.end(png); } else if (req.url === '/gone.png') { res.writeHead(404); res.end(); } else { res.writeHead(503); res.end(); }
  });
  await new Promise<void>((r) => ctx.http.listen(0, '127.0.0.1', () => r()));
  ctx.base = `http://127.0.0.1:${(ctx.http.address() as { port: number }).port}`;
});
jobs.after(async (ctx) => {
  if (!HAVE_REDIS) return;
  await ctx.worker.close();
  await ctx.queue.close();
  await ctx.detector.dispose();
  ctx.http.close();
  await ctx.redis.close();
});

const withRedis = (name: string, fn: (ctx: Ctx) => Promise<void>) => jobs(name, async (ctx) => {
  if (!HAVE_REDIS) return console.log(`  (skipped: ${name}: no redis-server)`);
  await fn(ctx);
});

withRedis('detect jobs: bytes, raw pixels, a path and a URL give what detect() gives in process', async (ctx) => {
  const rgb = syntheticPage(200, 120, 5);
  const inputs: any[] = [png, { data: rgb, width: 200, height: 120, channels: 3 }, PNG_PATH, `${ctx.base}/hello.png`];
  // scale 'fixed': this compares transports, and the random test model's words sit where scale 'auto' decides on
  // extra passes, so another thread count's last-bit differences may change its plan.
  const ids = await Q.enqueueMany(ctx.queue, inputs.map((input) => ({ input, options: { polygons: true, scale: 'fixed' } })));
  assert.is(new Set(ids).size, 4);
  const outcomes = await Q.waitForResults(ctx.queue, ids, { timeoutMs: 20000 });
  for (const [i, o] of outcomes.entries()) {
    assert.ok(o.ok, JSON.stringify(o));
    const expected = await ctx.detector.detect(i === 3 ? png : inputs[i], { polygons: true, scale: 'fixed' });
    const got = (o as { result: any }).result;
    assert.is(got.width, expected.width);
    assert.equal(got.words, JSON.parse(JSON.stringify(expected.words)));
    assert.ok(got.words.length > 0);
    assert.ok(got.timings.inference > 0);
  }
});

withRedis('heatmaps: typed arrays come back as Float32Arrays, equal to in-process ones', async (ctx) => {
  const [id] = await Q.enqueueMany(ctx.queue, [png], { options: { heatmaps: true } });
  const [o] = await Q.waitForResults(ctx.queue, [id]);
  assert.ok(o.ok);
  const h = (o as any).result.heatmaps;
  const expected = (await ctx.detector.detect(png, { heatmaps: true })).heatmaps!;
  assert.instance(h.region, Float32Array);
  assert.is(h.region.length, expected.region.length);
  let maxDiff = 0;
  for (let i = 0; i < h.region.length; i++) maxDiff = Math.max(maxDiff, Math.abs(h.region[i] - expected.region[i]));
  assert.ok(maxDiff < 1e-6, `max diff ${maxDiff}`);
});

withRedis('a poison job (corrupt image) fails once with ERR_CRAFT_DECODE and does not block the jobs behind it', async (ctx) => {
  const before = ctx.worker.metrics().jobs.detect;
  const ids = await Q.enqueueMany(ctx.queue, [png, Buffer.from('not an image at all'), png, png], { attempts: 5 });
  const outcomes = await Q.waitForResults(ctx.queue, ids, { timeoutMs: 20000 });
  assert.equal(outcomes.map((o) => o.ok), [true, false, true, true]);
  assert.is((outcomes[1] as any).error.code, 'ERR_CRAFT_DECODE');
  const job = (await ctx.queue.getJob(ids[1]))!;
  assert.is(job.attemptsStarted, 1, 'a permanent failure is not retried');
  assert.is(await job.getState(), 'failed');
  const after = ctx.worker.metrics().jobs.detect;
  assert.is(after.failed - before.failed, 1);
  assert.is(after.retried - before.retried, 0);
  assert.is(after.completed - before.completed, 3);
});

withRedis('bad options in a job (not checked by a producer) fail at once with the TypeError/RangeError message', async (ctx) => {
  const raw = await ctx.queue.add('detect', { v: 1, op: 'detect', input: { kind: 'bytes', data: png.toString('base64') }, options: { lowText: 7 } }, { attempts: 3 });
  const alien = await ctx.queue.add('detect', { hello: 'world' }, { attempts: 3 });
  const [bad, foreign] = await Q.waitForResults(ctx.queue, [raw.id!, alien.id!], { timeoutMs: 20000 });
  assert.equal((bad as any).error.name, 'RangeError');
  assert.match((bad as any).error.message, /lowText/);
  assert.is((foreign as any).error.code, 'ERR_CRAFT_JOB');
  assert.is((await ctx.queue.getJob(raw.id!))!.attemptsStarted, 1);
  assert.is((await ctx.queue.getJob(alien.id!))!.attemptsStarted, 1);
});

withRedis('transient failures are retried with backoff; 4xx is permanent; attempts run out with the last code', async (ctx) => {
  const before = ctx.worker.metrics().jobs.detect.retried;
  const t0 = Date.now();
  const [flaky] = await Q.enqueueMany(ctx.queue, [`${ctx.base}/flaky.png`], { attempts: 4, backoffMs: 100 });
  const [gone, down] = await Q.enqueueMany(ctx.queue, [`${ctx.base}/gone.png`, `${ctx.base}/down.png`], { attempts: 2, backoffMs: 50 });
  const [ok, notFound, unavailable] = await Q.waitForResults(ctx.queue, [flaky, gone, down], { timeoutMs: 20000 });
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.is(ctx.hits.get('/flaky.png'), 3);
  // exponential: 100 ms then 200 ms before the third attempt
  assert.ok(Date.now() - t0 >= 300, `retries waited ${Date.now() - t0} ms`);
  assert.is((await ctx.queue.getJob(flaky))!.attemptsMade, 3); // BullMQ counts the successful attempt too
  assert.is((notFound as any).error.code, 'ERR_CRAFT_IO');
  assert.match((notFound as any).error.message, /HTTP 404/);
  assert.is(ctx.hits.get('/gone.png'), 1, '404 is not retried');
  assert.is((unavailable as any).error.code, 'ERR_CRAFT_IO');
  assert.is(ctx.hits.get('/down.png'), 2, 'a 503 is retried until the attempts run out');
  assert.is(ctx.worker.metrics().jobs.detect.retried - before, 3);
});

withRedis('enqueue: too large refused before sending; the same jobId twice is one job', async (ctx) => {
  const before = await ctx.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
  await rejects(() => Q.enqueue(ctx.queue, page, { maxBytes: 1000 }), { code: 'ERR_CRAFT_INPUT_TOO_LARGE' });
  await rejects(() => Q.enqueueMany(ctx.queue, [png, { input: png, options: { magRatio: 0 } }]), { name: 'RangeError', message: /magRatio/ });
  await rejects(() => Q.enqueue(ctx.queue, png, { jobId: '42' }), { name: 'TypeError', message: /for jobId/ });
  await rejects(() => Q.enqueue({} as any, png), { name: 'TypeError', message: /for queue/ });
  assert.equal(await ctx.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'), before, 'nothing was added');
  const a = await Q.enqueue(ctx.queue, png, { jobId: 'scan-0001' });
  const b = await Q.enqueue(ctx.queue, png, { jobId: 'scan-0001' });
  assert.is(a, 'scan-0001');
  assert.is(b, 'scan-0001');
  const [o] = await Q.waitForResults(ctx.queue, [a]);
  assert.ok(o.ok);
  const after = await ctx.queue.getJobCounts('completed');
  assert.is(after.completed - before.completed, 1);
});

withRedis('results(): streams outcomes as they finish, each once; an unknown id is reported; timeout and abort', async (ctx) => {
  const ids = await Q.enqueueMany(ctx.queue, [page, png, png], { options: PAGE_OPTIONS });
  const seen: string[] = [];
  for await (const o of Q.results(ctx.queue, [...ids, 'no-such-job'], { pollMs: 50 })) seen.push(o.id);
  assert.equal([...seen].sort(), [...ids, 'no-such-job'].sort());
  const slow = await Q.enqueueMany(ctx.queue, Array(6).fill(page), { options: PAGE_OPTIONS });
  await rejects(() => Q.waitForResults(ctx.queue, slow, { timeoutMs: 1 }), { code: 'ERR_CRAFT_TIMEOUT' });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 5);
  await rejects(() => Q.waitForResults(ctx.queue, slow, { signal: ac.signal }), { name: 'AbortError' });
  const done = await Q.waitForResults(ctx.queue, slow);
  assert.ok(done.every((o) => o.ok));
});

withRedis('back-pressure: the worker never holds more jobs than its concurrency', async (ctx) => {
  assert.is(ctx.worker.concurrency, Q.detectorCapacity(ctx.detector));
  const ids = await Q.enqueueMany(ctx.queue, Array(8).fill(page), { options: PAGE_OPTIONS });
  let maxActive = 0;
  let maxRedisActive = 0;
  const sampling = (async () => {
    while (true) {
      maxActive = Math.max(maxActive, ctx.worker.metrics().active);
      const c = await ctx.queue.getJobCounts('active', 'completed');
      maxRedisActive = Math.max(maxRedisActive, c.active);
      if ((await Promise.all(ids.map((id) => ctx.queue.getJobState(id)))).every((s) => s === 'completed')) return;
      await sleep(5);
    }
  })();
  await Q.waitForResults(ctx.queue, ids);
  await sampling;
  assert.ok(maxActive >= 1 && maxActive <= ctx.worker.concurrency, `max ${maxActive} held`);
  assert.ok(maxRedisActive <= ctx.worker.concurrency, `max ${maxRedisActive} active in Redis`);
});

withRedis('metrics: Prometheus text with jobs by outcome, job-time histograms and queue depth', async (ctx) => {
  const registry = Q.registerMetrics(ctx.worker, new Registry());
  const text = await registry.metrics();
  const m = ctx.worker.metrics();
  assert.ok(m.jobs.detect.completed > 0);
  assert.match(text, new RegExp(`craft_queue_jobs_total\\{op="detect",outcome="completed"\\} ${m.jobs.detect.completed}\\b`));
  assert.match(text, new RegExp(`craft_queue_jobs_total\\{op="detect",outcome="retried"\\} ${m.jobs.detect.retried}\\b`));
  assert.match(text, new RegExp(`craft_queue_job_seconds_count\\{phase="processing"\\} ${m.processing.count}\\b`));
  assert.match(text, /craft_queue_job_seconds_bucket\{phase="latency",le="\+Inf"\} \d+/);
  const depth = await ctx.worker.queueDepth();
  assert.match(text, new RegExp(`craft_queue_depth\\{state="failed"\\} ${depth.failed}\\b`));
  assert.match(text, /craft_queue_depth\{state="waiting"\} 0\b/);
});

withRedis('read jobs go to the worker\'s Ocr; a worker with ocr: false fails them at once with ERR_CRAFT_JOB', async (ctx) => {
  const [id] = await Q.enqueueMany(ctx.queue, [png], { op: 'read', options: { lang: 'en' } });
  const [o] = await Q.waitForResults(ctx.queue, [id]);
  assert.ok(o.ok, JSON.stringify(o));
  const r = (o as any).result;
  assert.is(r.text, 'x');
  assert.instance(r.probs, Float32Array);
  assert.ok(r.words.length > 0 && r.words[0].text === 'x');
  const name = queueName();
  const noOcr = await Q.createWorker({ connection: ctx.redis.url, queue: name, detector: ctx.detector, ocr: false });
  const q2 = Q.createQueue({ connection: ctx.redis.url, queue: name });
  try {
    const [rid] = await Q.enqueueMany(q2, [png], { op: 'read' });
    const [f] = await Q.waitForResults(q2, [rid]);
    assert.is((f as any).error.code, 'ERR_CRAFT_JOB');
    assert.is(noOcr.metrics().jobs.read.failed, 1);
  } finally {
    await noOcr.close();
    await q2.close();
  }
});

withRedis('examples/queue/producer.js: enqueues files, prints one JSON line per result, exit 1 when one failed', async (ctx) => {
  const bad = path.join(fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'craft-q-')), 'bad.png');
  fs.writeFileSync(bad, 'not a png');
  const run = (args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'queue', 'producer.js'), '--redis', ctx.redis.url, '--queue', ctx.name, ...args]);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.once('exit', (code) => resolve({ code, out }));
  });
  const ok = await run(['--by-path', PNG_PATH]);
  assert.is(ok.code, 0);
  const line = JSON.parse(ok.out);
  assert.is(line.image, PNG_PATH);
  assert.ok(line.words.length > 0);
  const mixed = await run([PNG_PATH, bad]);
  assert.is(mixed.code, 1);
  const lines = mixed.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(lines.length, 2);
  assert.is(lines.find((l) => l.image === bad).error.code, 'ERR_CRAFT_DECODE');
  fs.rmSync(path.dirname(bad), { recursive: true });
});

withRedis("read jobs with craft-text's own Ocr (when this build has it)", async (ctx) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const craft = require('../dist') as Record<string, any>;
  if (typeof craft.Ocr?.create !== 'function') {
    console.log("  (skipped: read jobs with the real Ocr: this craft-text exports no Ocr yet)");
    // until then a worker left to its default fails read jobs at once, saying why
    const name = queueName();
    const w = await Q.createWorker({ connection: ctx.redis.url, queue: name, detector: ctx.detector });
    const q2 = Q.createQueue({ connection: ctx.redis.url, queue: name });
    try {
      const [id] = await Q.enqueueMany(q2, [png], { op: 'read', attempts: 3 });
      const [o] = await Q.waitForResults(q2, [id]);
      assert.is((o as any).error.code, 'ERR_CRAFT_JOB');
      assert.match((o as any).error.message, /no Ocr/);
      assert.is((await q2.getJob(id))!.attemptsStarted, 1);
    } finally {
      await w.close();
      await q2.close();
    }
    return;
  }
  const name = queueName();
  // The tiny test recogniser: the bundled one may not be installed in this build (Recognizer.create() would refuse).
  const recognizer = { model: path.join(ROOT, 'test', 'models', 'crnn-tiny-pad.onnx'), threads: 1 };
  const w = await Q.createWorker({ connection: ctx.redis.url, queue: name, detector: { model: TINY_MODEL, threads: 1 }, ocr: { recognizer } });
  const q2 = Q.createQueue({ connection: ctx.redis.url, queue: name });
  try {
    const [id] = await Q.enqueueMany(q2, [png], { op: 'read' });
    const [o] = await Q.waitForResults(q2, [id], { timeoutMs: 30000 });
    assert.ok(o.ok, JSON.stringify(o));
    const ocr = await craft.Ocr.create({ detector: w.detector, recognizer });
    const expected = await ocr.read(png);
    const got = (o as any).result;
    assert.is(got.text, expected.text);
    assert.equal(got.words.map((x: any) => x.text), expected.words.map((x: any) => x.text));
    await ocr.dispose?.();
  } finally {
    await w.close();
    await q2.close();
  }
});

jobs.run();

// ---- with Redis: worker processes (the CLI entry point) ------------------------------------------------------------

/** Completions per job id as Redis recorded them (BullMQ's event stream: one 'completed' entry per moveToCompleted). */
async function completionsInRedis(url: string, queue: import('bullmq').Queue): Promise<Map<string, number>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const IORedis = require('ioredis');
  const client = new IORedis(url);
  const counts = new Map<string, number>();
  const entries: [string, string[]][] = await client.xrange(queue.keys.events, '-', '+');
  client.disconnect();
  for (const [, fields] of entries) {
    const f = new Map<string, string>();
    for (let i = 0; i < fields.length; i += 2) f.set(fields[i], fields[i + 1]);
    if (f.get('event') === 'completed') counts.set(f.get('jobId')!, (counts.get(f.get('jobId')!) ?? 0) + 1);
  }
  return counts;
}

interface Proc { child: ChildProcess; lines: string[]; events: { event: string; id: string; attempt?: number; t: number }[]; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stdout: () => string }

function startWorker(url: string, name: string, extra: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--queue', name, '--model', TINY_MODEL, '--threads', '1', '--log-jobs', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const events: Proc['events'] = [];
  let buf = '';
  let err = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stderr!.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.startsWith('{')) events.push({ ...JSON.parse(line), t: Date.now() });
        if (line.startsWith('worker ready')) resolve({ child, lines, events, exit, stdout: () => lines.join('\n') });
      }
    });
    exit.then(({ code }) => reject(new Error(`worker exited (${code}) before ready: ${err}`)));
  });
}

type PCtx = { redis: any };
const procs = suite<PCtx>('queue: craft-text worker processes');
procs.before(async (ctx) => { if (HAVE_REDIS) ctx.redis = await startRedis({ appendonly: true }); });
procs.after(async (ctx) => { if (HAVE_REDIS) await ctx.redis.close(); });
const withProcs = (name: string, fn: (ctx: PCtx) => Promise<void>) => procs(name, async (ctx) => {
  if (!HAVE_REDIS) return console.log(`  (skipped: ${name}: no redis-server)`);
  await fn(ctx);
});

withProcs('SIGTERM drains: the job in hand finishes and is stored, no new job is taken, exit 0', async (ctx) => {
  const name = queueName();
  const queue = Q.createQueue({ connection: ctx.redis.url, queue: name });
  const w = await startWorker(ctx.redis.url, name, ['--concurrency', '1', '--metrics-port', '0']);
  try {
    const port = Number(/metrics http:\/\/127\.0\.0\.1:(\d+)/.exec(w.stdout())![1]);
    const ids = await Q.enqueueMany(queue, Array(4).fill(page), { options: PAGE_OPTIONS });
    await until(() => w.events.some((e) => e.event === 'active'), 20000, 'a job taken');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /craft_queue_depth\{state="waiting"\} \d+/);
    w.child.kill('SIGTERM');
    const { code } = await w.exit;
    const taken = w.events.filter((e) => e.event === 'active').map((e) => e.id);
    assert.is(code, 0, w.stdout());
    assert.match(w.stdout(), /SIGTERM: draining/);
    assert.match(w.stdout(), /stopped$/);
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    const finished = w.events.filter((e) => e.event === 'completed').map((e) => e.id);
    // every job it took was finished and stored; the rest wait for another worker
    assert.equal([...finished].sort(), [...taken].sort());
    ids.forEach((id, i) => assert.is(states[i], taken.includes(id) ? 'completed' : 'waiting', `job ${id}`));
    assert.ok(states.includes('waiting'), 'some jobs were left for other workers');
  } finally {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

withProcs('a metrics port already in use: exit 1 with the reason, no job taken', async (ctx) => {
  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = spawnSync(process.execPath, [CLI, 'worker', '--redis', ctx.redis.url, '--queue', queueName(), '--model', TINY_MODEL,
      '--metrics-port', String(port)], { encoding: 'utf8', timeout: 30000 });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /EADDRINUSE/);
  } finally {
    blocker.close();
  }
});

withProcs('SIGKILL mid-run: the dead worker\'s jobs are picked up after the stall interval; every job has one result', async (ctx) => {
  const name = queueName();
  const queue = Q.createQueue({ connection: ctx.redis.url, queue: name });
  const fast = ['--lock-duration-ms', '1000', '--stalled-interval-ms', '300'];
  const [a, b] = await Promise.all([startWorker(ctx.redis.url, name, fast), startWorker(ctx.redis.url, name, fast)]);
  try {
    const N = 30;
    const ids = await Q.enqueueMany(queue, Array(N).fill(page), { options: PAGE_OPTIONS });
    // kill A while it holds a job it has just taken (a detection takes far longer than 20 ms: not yet stored)
    const holding = () => {
      const done = new Set(a.events.filter((e) => e.event === 'completed').map((e) => e.id));
      return done.size >= 2 && a.events.some((e) => e.event === 'active' && !done.has(e.id) && Date.now() - e.t < 20);
    };
    await until(holding, 30000, 'worker A holding a job');
    const doneByA = new Set(a.events.filter((e) => e.event === 'completed').map((e) => e.id));
    const lost = a.events.filter((e) => e.event === 'active' && !doneByA.has(e.id) && Date.now() - e.t < 20).map((e) => e.id);
    a.child.kill('SIGKILL');
    assert.is((await a.exit).signal, 'SIGKILL');
    const outcomes = await Q.waitForResults(queue, ids, { timeoutMs: 40000, pollMs: 200 });
    assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes.filter((o) => !o.ok)));
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    assert.equal(counts, { completed: N, failed: 0, waiting: 0, active: 0, delayed: 0 });
    // one stored completion per job: none lost, none twice (Redis's own record of completions)
    const inRedis = await completionsInRedis(ctx.redis.url, queue);
    assert.is(inRedis.size, N);
    assert.ok([...inRedis.values()].every((n) => n === 1), JSON.stringify([...inRedis]));
    // the workers' logs agree (A may have died between storing a result and logging it: at most N lines, no id twice)
    const completions = [...a.events, ...b.events].filter((e) => e.event === 'completed').map((e) => e.id);
    assert.ok(completions.length <= N && new Set(completions).size === completions.length, 'completions logged');
    for (const id of lost) {
      const job = (await queue.getJob(id))!;
      assert.ok(job.attemptsStarted >= 2, `job ${id} was re-run after the kill (started ${job.attemptsStarted} times)`);
      assert.ok(b.events.some((e) => e.event === 'completed' && e.id === id), `worker B finished job ${id}`);
    }
    assert.ok(lost.length >= 1);
  } finally {
    for (const w of [a, b]) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all([a.exit, b.exit]);
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

withProcs('Redis restarted mid-run (AOF on): workers reconnect and the run completes', async (ctx) => {
  const name = queueName();
  const queue = Q.createQueue({ connection: ctx.redis.url, queue: name });
  const w = await startWorker(ctx.redis.url, name, ['--lock-duration-ms', '2000', '--stalled-interval-ms', '1000']);
  try {
    const N = 16;
    const ids = await Q.enqueueMany(queue, Array(N).fill(page), { options: PAGE_OPTIONS });
    await until(() => w.events.filter((e) => e.event === 'completed').length >= 3, 20000, 'three jobs done');
    await ctx.redis.restart();
    // A job whose hand-over was cut by the restart (moved to active, the reply lost) is re-run once its lock expires.
    const outcomes = await Q.waitForResults(queue, ids, { timeoutMs: 40000, pollMs: 200 }).catch(async (e) => {
      for (const id of ids) { const j = await queue.getJob(id); console.log(id, await queue.getJobState(id), j?.attemptsStarted, j?.failedReason, j?.finishedOn); }
      console.log(w.stdout());
      throw e;
    });
    assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes.filter((o) => !o.ok)));
    assert.is((await queue.getJobCounts('completed')).completed, N);
    assert.is(w.child.exitCode, null, 'the worker survived the restart');
  } finally {
    w.child.kill('SIGTERM');
    await w.exit;
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

procs.run();
