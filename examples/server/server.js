// A production-shaped HTTP front end for craft-text: Fastify, raw or multipart uploads, validated options,
// size limits, back-pressure as 503 + Retry-After, Prometheus metrics, graceful shutdown.
//
//   node examples/server/server.js [--model m.onnx] [--port 8080] [--host 127.0.0.1]   (see docs/serving.md)
//   curl --data-binary @page.png -H 'content-type: image/png' 'http://127.0.0.1:8080/detect?polygons=true'
//   curl -F image=@page.png -F textThreshold=0.6 http://127.0.0.1:8080/detect
'use strict';
const { parseArgs } = require('node:util');
const Fastify = require('fastify');
const multipart = require('@fastify/multipart');
const promClient = require('prom-client');
const { setTimeout: sleep } = require('node:timers/promises');

/** craft-text: this repository when run from it, else the installed package. */
function loadCraft() {
  try {
    const local = require('../..');
    if (local && typeof local.Detector === 'function') return local;
  } catch { /* not inside the repository */ }
  return require('craft-text');
}
const { Detector } = loadCraft();

/** Options the library knows but a client may not set: they would let one request cost unbounded memory or time. */
const SERVER_OPTIONS = new Set(['heatmaps', 'maxPixels', 'signal', 'timeoutMs']);

const DEFAULTS = Object.freeze({
  model: undefined, // the bundled default model
  threads: undefined, // craft-text's default (ONNX Runtime's, one per physical core, split among concurrent runs)
  concurrency: 1,
  maxQueue: 16, // requests waiting beyond those in flight; more -> 503
  maxUploads: undefined, // request bodies read at once (default maxQueue + concurrency); more -> 503 before reading
  maxBodyBytes: 20 * 1024 * 1024, // encoded upload size -> 413 beyond
  maxPixels: 40_000_000, // decoded size (checked from the image header) -> 413 beyond
  maxCanvasSize: 2560, // the largest canvasSize a client may ask for
  requestTimeoutMs: 30_000, // queueing included -> 503
  rejectDelayMs: 100, // a 503 is sent after this: clients that retry at once (ignoring Retry-After) can't storm
  shutdownTimeoutMs: 30_000,
  logLevel: 'warn',
});

class HttpError extends Error {
  constructor(statusCode, code, message, headers) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.headers = headers;
  }
}

/** A query/form value as the library expects it: 'true'/'false' -> boolean, numeric text -> number, else as is. */
function typed(value) {
  if (typeof value !== 'string') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

/**
 * detect() options from the request's query string or form fields (or one JSON `options` field). Values are typed
 * but not range-checked: the library does that and its message goes back as the 400.
 */
function clientOptions(fields, limits) {
  const out = Object.create(null); // '__proto__' & co. stay plain keys (and get the library's unknown-option 400)
  for (const [key, raw] of Object.entries(fields)) {
    if (key === 'options') {
      let parsed;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        throw new HttpError(400, 'ERR_BAD_OPTIONS', `options is not valid JSON: ${err.message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new HttpError(400, 'ERR_BAD_OPTIONS', 'options must be a JSON object');
      }
      Object.assign(out, parsed);
    } else {
      out[key] = Array.isArray(raw) ? raw.map(typed) : typed(raw);
    }
  }
  for (const key of Object.keys(out)) {
    // unknown keys go through: the library's message names them (with a did-you-mean)
    if (SERVER_OPTIONS.has(key)) throw new HttpError(400, 'ERR_OPTION_NOT_ALLOWED', `option '${key}' is set by the server`);
  }
  if (typeof out.canvasSize === 'number' && out.canvasSize > limits.maxCanvasSize) {
    throw new HttpError(400, 'ERR_OPTION_LIMIT', `canvasSize is limited to ${limits.maxCanvasSize} on this server`);
  }
  return out;
}

/**
 * Prometheus metrics from detector.stats(): counters and gauges one to one, the stage-time histograms as
 * craft_stage_seconds{stage}. prom-client can't take pre-aggregated histograms, so they are custom metric objects
 * (name/help/type/get), which prom-client's registry formats like its own.
 */
function registerDetectorMetrics(registry, stats) {
  const custom = (name, help, type, values) => registry.registerMetric({
    name, help, type, aggregator: 'sum', get: () => ({ name, help, type, aggregator: 'sum', values: values(stats()) }), reset() {},
  });
  custom('craft_requests_total', 'Detections by outcome since the detector was created', 'counter', (s) =>
    ['completed', 'failed', 'rejected', 'aborted', 'timedOut'].map((k) => ({ labels: { outcome: k }, value: s[k] })));
  custom('craft_inference_runs_total', 'Model runs (a batch counts once)', 'counter', (s) => [{ value: s.batches.runs }]);
  custom('craft_inference_images_total', 'Images carried by model runs', 'counter', (s) => [{ value: s.batches.images }]);
  custom('craft_queue_depth', 'Requests waiting for a slot (bounded by maxQueue)', 'gauge', (s) => [{ value: s.queued }]);
  custom('craft_in_flight', 'Requests started and not settled, by stage', 'gauge', (s) =>
    Object.entries(s.stages).map(([stage, v]) => ({ labels: { stage }, value: v })));
  custom('craft_running_inferences', 'Inferences running now', 'gauge', (s) => [{ value: s.runningInferences }]);
  custom('craft_network_runs_total', 'Network runs of the model (every tile and scale-auto pass; craft_inference_runs_total counts the infer stage only)', 'counter', (s) => [{ value: s.networkRuns.runs }]);
  custom('craft_stage_seconds', 'Time per stage (queue, decode, preprocess, inference, postprocess, total)', 'histogram', (s) => {
    const values = [];
    for (const [stage, h] of Object.entries(s.timings)) {
      for (const b of h.buckets) {
        values.push({ metricName: 'craft_stage_seconds_bucket', labels: { stage, le: b.le === Infinity ? '+Inf' : b.le / 1000 }, value: b.count });
      }
      values.push({ metricName: 'craft_stage_seconds_sum', labels: { stage }, value: h.sum / 1000 });
      values.push({ metricName: 'craft_stage_seconds_count', labels: { stage }, value: h.count });
    }
    return values;
  });
}

/**
 * detector.stats() at most every `ttlMs`: a snapshot sorts the recent-timings windows of six histograms, which is
 * too much work to repeat for every refused request when an overloaded server refuses hundreds per second.
 */
function cachedStats(detector, ttlMs = 20) {
  let at = -Infinity;
  let value;
  const get = () => {
    const now = performance.now();
    if (now - at > ttlMs) { value = detector.stats(); at = now; }
    return value;
  };
  /** Takes a new snapshot now (a /metrics scrape must not report the state of up to ttlMs ago). */
  get.refresh = () => { at = -Infinity; };
  return get;
}

/** 503 + Retry-After: the time the current backlog needs, from the recent median detection time (at least 1 s). */
function retryAfterSeconds(stats, concurrency) {
  const s = stats();
  const per = s.timings.total.count ? s.timings.total.p50 : 1000;
  return Math.max(1, Math.ceil(((s.queued + s.inFlight) * per) / concurrency / 1000));
}

/**
 * Builds the server (not listening yet). Resolves to { app, detector, shutdown } once the model is loaded.
 * `shutdown()` stops accepting requests, lets in-flight ones finish, then frees the model.
 */
async function buildServer(options = {}) {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const detector = await Detector.create({
    model: o.model, concurrency: o.concurrency, maxQueue: o.maxQueue, ...(o.threads !== undefined ? { threads: o.threads } : {}),
  });
  const app = Fastify({
    logger: o.logLevel === 'silent' ? false : { level: o.logLevel },
    bodyLimit: o.maxBodyBytes,
    requestTimeout: o.requestTimeoutMs * 2, // slow uploads (slowloris) end here
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  let closing = false;
  const stats = cachedStats(detector);
  // Uploads admitted and still being read. They count as queued detections: each becomes one once its body is in, so
  // capacity is checked before a body is read, and never more than maxUploads bodies are read at once (40 concurrent
  // 20 MB uploads must not all be buffered only to be refused once read).
  const maxUploads = o.maxUploads ?? (Number.isFinite(o.maxQueue) ? o.maxQueue + o.concurrency : 256);
  const reading = new Set();
  const doneReading = (request) => { reading.delete(request); };

  // ---- metrics ----
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });
  registerDetectorMetrics(registry, stats);
  const httpRequests = new promClient.Counter({
    name: 'http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry],
  });
  const httpDuration = new promClient.Histogram({
    name: 'http_request_duration_seconds', help: 'HTTP request time by route and status', labelNames: ['route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  // while shutting down, answers close their connection: a keep-alive connection that was busy when close() began
  // would otherwise hold the server open until its keep-alive timeout (72 s in Fastify)
  app.addHook('onSend', async (request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    const labels = { route, status: String(reply.statusCode) };
    httpRequests.inc(labels);
    httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  // ---- bodies: raw images and multipart ----
  app.removeAllContentTypeParsers(); // no JSON or text bodies: those get 415
  app.addContentTypeParser(['application/octet-stream', /^image\//], { parseAs: 'buffer' }, (request, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: o.maxBodyBytes, files: 1, fields: 32, fieldSize: 16 * 1024, parts: 40 } });

  app.setErrorHandler((err, request, reply) => {
    let status = err.statusCode ?? 500;
    let code = err.code ?? 'ERR_INTERNAL';
    let message = err.message;
    const headers = err.headers ?? {};
    if ((err instanceof TypeError || err instanceof RangeError) && err.code === undefined) { // the library's validation
      status = 400;
      code = 'ERR_INVALID_OPTION';
    } else if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE') {
      status = 413;
      message = `the upload is larger than ${o.maxBodyBytes} bytes`;
    } else if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      message = 'send the image as the body (content-type image/* or application/octet-stream) or as multipart/form-data';
    } else if (code === 'ERR_CRAFT_INPUT_TOO_LARGE') status = 413;
    else if (code === 'ERR_CRAFT_DECODE' || code === 'ERR_CRAFT_INVALID_INPUT') status = 400;
    else if (code === 'ERR_CRAFT_QUEUE_FULL' || code === 'ERR_CRAFT_TIMEOUT' || code === 'ERR_CRAFT_DISPOSED') {
      status = 503;
      headers['retry-after'] = String(retryAfterSeconds(stats, o.concurrency));
    }
    if (status >= 500 && status !== 503) request.log.error(err);
    reply.code(status).headers(headers).send({ error: { code, message } });
  });

  app.get('/healthz', async (request, reply) => {
    const s = detector.stats();
    const body = { status: closing ? 'shutting-down' : 'ok', queued: s.queued, inFlight: s.inFlight, maxQueue: s.config.maxQueue,
      provider: detector.info.executionProvider };
    return reply.code(closing ? 503 : 200).send(body);
  });

  app.get('/metrics', async (request, reply) => {
    reply.header('content-type', registry.contentType);
    stats.refresh(); // one fresh snapshot shared by every detector metric of this scrape
    return registry.metrics();
  });

  app.post('/detect', {
    // refuse before reading the body when the detector could not take it: an overloaded server doesn't buffer uploads
    onRequest: async (request, reply) => {
      const s = stats();
      const free = (o.maxQueue - s.queued) + Math.max(0, o.concurrency - s.inFlight);
      if (reading.size >= free || reading.size >= maxUploads) {
        if (o.rejectDelayMs > 0) await sleep(o.rejectDelayMs);
        throw new HttpError(503, 'ERR_CRAFT_QUEUE_FULL',
          `the detection queue is full (${s.queued} waiting, ${reading.size} uploads in progress); retry later`,
          { 'retry-after': String(retryAfterSeconds(stats, o.concurrency)) });
      }
      reading.add(request);
    },
    onResponse: async (request) => doneReading(request),
    onRequestAbort: async (request) => doneReading(request),
  }, async (request, reply) => {
    let image;
    let fields = request.query ?? {};
    if (request.isMultipart()) {
      fields = { ...fields };
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (image !== undefined) throw new HttpError(400, 'ERR_BAD_REQUEST', 'send one image per request');
            image = await part.toBuffer(); // throws FST_REQ_FILE_TOO_LARGE beyond the limit
          } else fields[part.fieldname] = part.value;
        }
      } catch (err) {
        // The parser's own errors (no boundary, a boundary over 256 characters, a truncated body) are the client's:
        // 400. Errors with a status (our HttpErrors, @fastify/multipart's limits: 413) keep theirs.
        if (err instanceof HttpError || err.statusCode !== undefined) throw err;
        throw new HttpError(400, 'ERR_BAD_MULTIPART', `malformed multipart body: ${err.message}`);
      }
    } else image = request.body;
    doneReading(request); // the body is in: from here on the detector's queue accounts for this request
    if (!Buffer.isBuffer(image) || image.length === 0) {
      throw new HttpError(400, 'ERR_NO_IMAGE', 'no image: send it as the request body or as a multipart file field');
    }
    const options = clientOptions(fields, o);
    // a client that goes away cancels its detection (queued: dropped; running: stopped after the current operator)
    const ac = new AbortController();
    const onClose = () => { if (!reply.raw.writableFinished) ac.abort(); };
    request.raw.socket?.once('close', onClose);
    try {
      const r = await detector.detect(image, { ...options, maxPixels: o.maxPixels, timeoutMs: o.requestTimeoutMs, signal: ac.signal });
      return { width: r.width, height: r.height, scale: r.scale, words: r.words, timings: r.timings };
    } catch (err) {
      if (err.name === 'AbortError') return reply.code(499).send({ error: { code: 'ERR_CLIENT_CLOSED', message: 'client closed the request' } });
      if (err.code === 'ERR_CRAFT_QUEUE_FULL' && o.rejectDelayMs > 0) await sleep(o.rejectDelayMs);
      throw err;
    } finally {
      request.raw.socket?.off('close', onClose);
    }
  });

  let shutdownPromise;
  /** Stop taking requests, finish the ones in flight (their detections included), free the model. */
  function shutdown() {
    if (!shutdownPromise) {
      closing = true;
      shutdownPromise = (async () => {
        await app.close(); // waits for in-flight HTTP requests; new ones get 503 or a refused connection
        await detector.dispose(); // every accepted detection has settled by now; frees the model
      })();
    }
    return shutdownPromise;
  }
  return { app, detector, shutdown, options: o };
}

function flags(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, threads: { type: 'string' },
      concurrency: { type: 'string' }, 'max-queue': { type: 'string' }, 'max-uploads': { type: 'string' }, 'max-body-bytes': { type: 'string' },
      'max-pixels': { type: 'string' }, 'request-timeout-ms': { type: 'string' }, 'reject-delay-ms': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const n = (v, env) => (v ?? process.env[env]) === undefined ? undefined : Number(v ?? process.env[env]);
  return {
    port: n(values.port, 'PORT') ?? 8080,
    host: values.host ?? process.env.HOST ?? '127.0.0.1',
    server: {
      model: values.model ?? process.env.CRAFT_MODEL,
      threads: n(values.threads, 'CRAFT_THREADS'),
      concurrency: n(values.concurrency, 'CRAFT_CONCURRENCY'),
      maxQueue: n(values['max-queue'], 'CRAFT_MAX_QUEUE'),
      maxUploads: n(values['max-uploads'], 'MAX_UPLOADS'),
      maxBodyBytes: n(values['max-body-bytes'], 'MAX_BODY_BYTES'),
      maxPixels: n(values['max-pixels'], 'MAX_PIXELS'),
      requestTimeoutMs: n(values['request-timeout-ms'], 'REQUEST_TIMEOUT_MS'),
      rejectDelayMs: n(values['reject-delay-ms'], 'REJECT_DELAY_MS'),
      logLevel: values['log-level'] ?? process.env.LOG_LEVEL,
    },
  };
}

async function main() {
  const f = flags(process.argv.slice(2));
  const { app, shutdown, options } = await buildServer(f.server);
  const address = await app.listen({ port: f.port, host: f.host });
  // one line on stdout that scripts (bench/load.js) wait for
  process.stdout.write(`listening ${address} pid ${process.pid}\n`);
  const stop = (signal) => {
    process.stdout.write(`${signal}: finishing in-flight requests\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${options.shutdownTimeoutMs} ms; exiting\n`);
      process.exit(1);
    }, options.shutdownTimeoutMs);
    timer.unref();
    shutdown().then(() => { process.stdout.write('stopped\n'); process.exitCode = 0; },
      (err) => { process.stderr.write(`shutdown failed: ${err.stack}\n`); process.exit(1); });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

module.exports = { buildServer, clientOptions, DEFAULTS };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err.code ? err.code + ': ' : ''}${err.message}\n`);
    process.exit(1);
  });
}
