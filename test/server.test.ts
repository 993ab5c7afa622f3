// examples/server: endpoints, validation (400 with the library's message), limits (413/415), back-pressure (503 +
// Retry-After), metrics, client disconnects and graceful shutdown, over real HTTP on 127.0.0.1 (ephemeral ports).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeBmp, IMAGES, ROOT, syntheticPage, TINY_MODEL } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildServer } = require(path.join(ROOT, 'examples', 'server', 'server.js'));

type Server = { app: { listen(o: object): Promise<string> }; detector: { stats(): any }; shutdown(): Promise<void> };

const png = fs.readFileSync(path.join(IMAGES, 'hello.png'));
/** A page big enough that one detection takes a while (no resize: canvas = image, magRatio 1). */
const SLOW = 640;
const slowImage = encodeBmp(syntheticPage(SLOW, SLOW, 7), SLOW, SLOW);
const slowQuery = `canvasSize=${SLOW}&magRatio=1&tiling=off`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(options: object): Promise<{ server: Server; url: string }> {
  const server: Server = await buildServer({ model: TINY_MODEL, threads: 1, logLevel: 'silent', ...options });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, url };
}

async function post(url: string, body: BodyInit, contentType = 'image/png', init: RequestInit = {}) {
  const res = await fetch(url, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {}, ...init });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

async function until(cond: () => boolean, timeoutMs = 20000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached');
    await sleep(2);
  }
}

const S = suite<{ server: Server; url: string }>('server');
S.before(async (ctx) => Object.assign(ctx, await start({ maxQueue: 1 })));
S.after(async (ctx) => ctx.server.shutdown());

S('GET /healthz', async ({ url }) => {
  const res = await fetch(`${url}/healthz`);
  assert.is(res.status, 200);
  const body = await res.json();
  assert.is(body.status, 'ok');
  assert.is(body.maxQueue, 1);
});

S('POST /detect with a raw body and query options', async ({ url }) => {
  const r = await post(`${url}/detect?polygons=true&textThreshold=0.6`, png);
  assert.is(r.status, 200, r.text);
  assert.is(r.json.width, 400);
  assert.is(r.json.height, 200);
  assert.ok(Array.isArray(r.json.words) && r.json.words.length > 0);
  assert.ok(Array.isArray(r.json.words[0].polygon));
  assert.is(r.json.words[0].box.length, 4);
  assert.ok(r.json.timings.inference > 0);
  const r2 = await post(`${url}/detect`, png, 'application/octet-stream');
  assert.is(r2.status, 200);
});

S('POST /detect multipart: file + fields, or a JSON options field', async ({ url }) => {
  const form = new FormData();
  form.append('image', new Blob([png], { type: 'image/png' }), 'hello.png');
  form.append('polygons', 'true');
  const r = await post(`${url}/detect`, form, '');
  assert.is(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.words[0].polygon));
  const form2 = new FormData();
  form2.append('options', JSON.stringify({ lowText: 0.3, polygons: false }));
  form2.append('image', new Blob([png]), 'hello.png');
  const r2 = await post(`${url}/detect`, form2, '');
  assert.is(r2.status, 200, r2.text);
  assert.is(r2.json.words[0].polygon, undefined);
});

S('400: invalid options carry the library message', async ({ url }) => {
  let r = await post(`${url}/detect?textThreshold=2`, png);
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'ERR_INVALID_OPTION');
  assert.match(r.json.error.message, /Expected number between 0 and 1 for textThreshold but received 2/);
  r = await post(`${url}/detect?textTreshold=0.5`, png);
  assert.is(r.status, 400);
  assert.match(r.json.error.message, /Unknown option 'textTreshold' \(did you mean 'textThreshold'\?\)/);
  r = await post(`${url}/detect?polygons=maybe`, png);
  assert.is(r.status, 400);
  assert.match(r.json.error.message, /polygons/);
  r = await post(`${url}/detect?heatmaps=true`, png);
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'ERR_OPTION_NOT_ALLOWED');
  r = await post(`${url}/detect?canvasSize=100000`, png);
  assert.is(r.status, 400);
  r = await post(`${url}/detect?__proto__=1`, png);
  assert.is(r.status, 400);
  assert.match(r.json.error.message, /Unknown option '__proto__'/);
  const form = new FormData();
  form.append('options', '{not json');
  form.append('image', new Blob([png]), 'hello.png');
  r = await post(`${url}/detect`, form, '');
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'ERR_BAD_OPTIONS');
});

S('400: no image, an undecodable image, two images', async ({ url }) => {
  let r = await post(`${url}/detect`, new Uint8Array(0));
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'ERR_NO_IMAGE');
  r = await post(`${url}/detect`, Buffer.from('definitely not an image'));
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'ERR_CRAFT_DECODE');
  const form = new FormData();
  form.append('a', new Blob([png]), 'a.png');
  form.append('b', new Blob([png]), 'b.png');
  r = await post(`${url}/detect`, form, '');
  assert.ok(r.status === 400 || r.status === 413, r.text); // one file per request (multipart's files limit or ours)
});

S('400: malformed multipart bodies are the client\'s error, not a 500 (issue 12)', async ({ url }) => {
  const cases: [string, string][] = [
    ['multipart/form-data', 'no boundary at all'],
    [`multipart/form-data; boundary=${'x'.repeat(300)}`, `--${'x'.repeat(300)}\r\n`],
    ['multipart/form-data; boundary=abc', '--abc\r\ncontent-disposition: form-data; name="image"; filename="a.png"\r\n\r\ntrunc'],
    ['multipart/form-data; boundary=abc', '--abc\r\ncontent-disposition: form-data; name="f"\r\n\r\nhello'],
  ];
  for (const [type, body] of cases) {
    const r = await post(`${url}/detect`, body, type);
    assert.is(r.status, 400, `${type.slice(0, 40)}: ${r.text}`);
    assert.is(r.json.error.code, 'ERR_BAD_MULTIPART');
  }
});

S('415: other content types', async ({ url }) => {
  const r = await post(`${url}/detect`, 'hello', 'text/plain');
  assert.is(r.status, 415);
  const j = await post(`${url}/detect`, '{"image":"x"}', 'application/json');
  assert.is(j.status, 415);
});

S('503 + Retry-After beyond the queue, the others succeed; counted in /metrics', async ({ url, server }) => {
  const results = await Promise.all(Array.from({ length: 8 }, () => post(`${url}/detect?${slowQuery}`, slowImage, 'image/bmp')));
  const ok = results.filter((r) => r.status === 200);
  const busy = results.filter((r) => r.status === 503);
  assert.is(ok.length + busy.length, results.length, JSON.stringify(results.map((r) => r.status)));
  assert.ok(ok.length >= 1, 'some requests are served');
  assert.ok(busy.length >= 1, 'some requests are refused');
  for (const r of busy) {
    assert.is(r.json.error.code, 'ERR_CRAFT_QUEUE_FULL');
    const after = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(after) && after >= 1, `Retry-After ${r.headers.get('retry-after')}`);
  }
  await until(() => server.detector.stats().inFlight === 0);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /http_requests_total\{route="\/detect",status="503"\} [1-9]/);
  assert.match(metrics, /craft_requests_total\{outcome="completed"\} [1-9]/);
});

S('GET /metrics: detector counters, stage histograms, process metrics', async ({ url }) => {
  const res = await fetch(`${url}/metrics`);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  for (const re of [
    /# TYPE craft_stage_seconds histogram/,
    /craft_stage_seconds_bucket\{stage="inference",le="0.001"\} \d+/,
    /craft_stage_seconds_bucket\{stage="total",le="\+Inf"\} [1-9]/,
    /craft_stage_seconds_count\{stage="total"\} [1-9]/,
    /# TYPE craft_requests_total counter/,
    /craft_requests_total\{outcome="failed"\} [1-9]/, // the undecodable image
    /craft_queue_depth 0/,
    /craft_in_flight\{stage="inferring"\} 0/,
    /process_resident_memory_bytes \d+/,
    /http_request_duration_seconds_bucket\{le="0.005",route="\/detect",status="200"\} \d+/,
  ]) assert.match(text, re);
});

S('a client that goes away cancels its detection', async ({ url, server }) => {
  const before = server.detector.stats().aborted;
  const ac = new AbortController();
  const p = fetch(`${url}/detect?${slowQuery}`, { method: 'POST', body: slowImage, headers: { 'content-type': 'image/bmp' }, signal: ac.signal })
    .catch((err: Error) => err);
  await until(() => server.detector.stats().inFlight > 0);
  ac.abort();
  assert.instance(await p, Error);
  await until(() => server.detector.stats().aborted > before);
});

S.run();

// ---- limits and shutdown: servers of their own ---------------------------------------------------------------------

const L = suite('server limits');

L('413: upload larger than maxBodyBytes (raw and multipart), image larger than maxPixels', async () => {
  const { server, url } = await start({ maxBodyBytes: 16 * 1024, maxPixels: 10000 });
  try {
    // just over the limit: a client still sending megabytes when the 413 comes may see the connection reset instead
    const over = slowImage.subarray(0, 20 * 1024);
    let r = await post(`${url}/detect`, over, 'image/bmp');
    assert.is(r.status, 413);
    assert.is(r.json.error.code, 'FST_ERR_CTP_BODY_TOO_LARGE');
    const form = new FormData();
    form.append('image', new Blob([over]), 'big.bmp');
    r = await post(`${url}/detect`, form, '');
    assert.is(r.status, 413, r.text);
    r = await post(`${url}/detect`, png); // 400x200 = 80,000 pixels, refused from the header
    assert.is(r.status, 413);
    assert.is(r.json.error.code, 'ERR_CRAFT_INPUT_TOO_LARGE');
  } finally {
    await server.shutdown();
  }
});

L('capacity is checked before a body is read: uploads in progress count as queued, bodies read at once are bounded (issue 12)', async () => {
  // maxQueue 1 + concurrency 1: two uploads can be taken. Each of these sends its headers and a first chunk of a
  // 4 MB body, then stalls. The third must get its 503 at once, while its own body is still unsent.
  const { server, url } = await start({ maxQueue: 1, rejectDelayMs: 0 });
  const http = await import('node:http');
  const { port } = new URL(url);
  const open: import('node:http').ClientRequest[] = [];
  const upload = () => new Promise<{ status: number; ms: number }>((resolve, reject) => {
    const t0 = Date.now();
    const req = http.request({ host: '127.0.0.1', port, path: '/detect', method: 'POST', headers: { 'content-type': 'image/bmp', 'content-length': 4 * 1024 * 1024 } });
    req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode!, ms: Date.now() - t0 }); });
    req.on('error', reject);
    req.write(Buffer.alloc(64 * 1024));
    open.push(req);
  });
  try {
    const stalled = [upload(), upload()];
    for (const p of stalled) p.catch(() => {}); // destroyed below
    await sleep(300);
    const thirdUpload = upload();
    thirdUpload.catch(() => {});
    const third = await Promise.race([thirdUpload, sleep(5000).then(() => ({ status: 0, ms: 5000 }))]);
    assert.is(third.status, 503, 'refused while two uploads are being read');
    assert.ok(third.ms < 2000, `refused in ${third.ms} ms`);
    // The stalled ones were admitted (still waiting for their bodies, no answer yet).
    const early = await Promise.race([Promise.race(stalled).then(() => 'answered'), sleep(100).then(() => 'waiting')]);
    assert.is(early, 'waiting');
  } finally {
    for (const req of open) req.destroy();
    await sleep(50);
  }
  // Once they are gone, capacity is back.
  const ok = await post(`${url}/detect`, png);
  assert.is(ok.status, 200, ok.text);
  await server.shutdown();
  // maxUploads bounds the bodies read at once even when the queue has room.
  const second = await start({ maxQueue: 8, maxUploads: 1, rejectDelayMs: 0 });
  const port2 = new URL(second.url).port;
  const held = http.request({ host: '127.0.0.1', port: port2, path: '/detect', method: 'POST', headers: { 'content-type': 'image/bmp', 'content-length': 4 * 1024 * 1024 } });
  held.on('error', () => {});
  held.write(Buffer.alloc(64 * 1024));
  try {
    await sleep(300);
    const r = await post(`${second.url}/detect`, png);
    assert.is(r.status, 503, r.text);
    assert.match(r.json.error.message, /1 uploads in progress/);
  } finally {
    held.destroy();
    await sleep(50);
    await second.server.shutdown();
  }
});

L('graceful shutdown: in-flight requests finish, then the port closes and the model is freed', async () => {
  const { server, url } = await start({});
  const inflight = post(`${url}/detect?${slowQuery}`, slowImage, 'image/bmp');
  await until(() => server.detector.stats().inFlight > 0);
  const health = fetch(`${url}/healthz`).then((r) => r.status, () => 'refused');
  const closed = server.shutdown();
  const r = await inflight;
  assert.is(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.words));
  // sent as shutdown began: answered (200 or 503) or refused, never left hanging
  assert.ok([200, 503, 'refused'].includes(await health));
  // keep-alive connections that were busy when shutdown began are closed with their answer, not after Fastify's
  // 72 s keep-alive timeout
  const t0 = Date.now();
  await closed;
  assert.ok(Date.now() - t0 < 5000, `shutdown took ${Date.now() - t0} ms after the last answer`);
  const after = await fetch(`${url}/healthz`).then((x) => x.status, (err: Error) => err);
  assert.instance(after, Error, 'the port is closed');
  await server.detector.stats(); // stats still readable
  let code: string | undefined;
  try {
    await (server.detector as any).detect(png);
  } catch (err) {
    code = (err as { code?: string }).code;
  }
  assert.is(code, 'ERR_CRAFT_DISPOSED');
});

L.run();
