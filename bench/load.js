#!/usr/bin/env node
// Load test of examples/server on loopback (127.0.0.1 only), bounded in time and count:
//  1. closed loop: a sweep over client connection counts (below, at and beyond saturation), each for --duration
//     seconds: throughput, p50/p99 latency of served requests, error (503) rate, server CPU per served request.
//     Closed-loop clients resend at once after a 503 (autocannon ignores Retry-After): beyond saturation that is a
//     retry storm, the worst case;
//  2. open loop: requests arrive at a steady rate, --overload times the capacity measured in 1, as many independent
//     clients would send them: does the server keep serving at capacity while refusing the rest?
//  3. a soak of --amount requests at saturation without overload: RSS of the server before/after (and after idling).
// The server runs in a child process (its RSS and CPU are its own); autocannon runs here, on the same cores.
//
//   node bench/load.js [--model m.onnx] [--image img] [--levels 1,2,4,8,32] [--duration 10] [--amount 10000]
//                      [--overload 1.5,3] [--max-queue 8] [--soak-connections 4] [--threads n] [--json out.json]
//                      [--label text] [--query 'canvasSize=640']     (--amount 0 skips the soak, --overload '' the open loop)
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');

const ROOT = path.join(__dirname, '..');
const { values: v } = parseArgs({
  options: {
    model: { type: 'string' }, image: { type: 'string' }, levels: { type: 'string' }, duration: { type: 'string' },
    amount: { type: 'string' }, 'max-queue': { type: 'string' }, 'soak-connections': { type: 'string' },
    threads: { type: 'string' }, 'reject-delay-ms': { type: 'string' }, overload: { type: 'string' }, json: { type: 'string' }, label: { type: 'string' }, query: { type: 'string' },
  },
});
const model = v.model ?? path.join(ROOT, 'test', 'models', 'craft-tiny.onnx');
const imagePath = v.image ?? path.join(ROOT, 'test', 'fixtures', 'images', 'hello.png');
const levels = (v.levels ?? '1,2,4,8,32').split(',').map(Number);
const duration = Number(v.duration ?? 10);
const overload = (v.overload ?? '1.5,3').split(',').filter(Boolean).map(Number);
const amount = Number(v.amount ?? 10000);
const maxQueue = Number(v['max-queue'] ?? 8);
const soakConnections = Number(v['soak-connections'] ?? 4);
const query = v.query ?? '';
if (duration > 120 || amount > 20000 || overload.some((f) => !(f > 0 && f <= 20)) || levels.some((c) => !(c >= 1 && c <= 256))) {
  throw new Error('bounded runs only: --duration <= 120 s, --amount <= 20000, 1 <= connections <= 256');
}
const image = fs.readFileSync(imagePath);
const contentType = /\.png$/i.test(imagePath) ? 'image/png' : /\.jpe?g$/i.test(imagePath) ? 'image/jpeg' : 'application/octet-stream';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function procStatus(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s) ?? [])[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

/** CPU-seconds used by the whole machine (all cores, all processes) since boot. */
function machineBusySeconds() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  return (f.reduce((a, b) => a + b, 0) - idle) / 100;
}

/** Measures a phase: wall time, server CPU, this process's CPU (the load generator) and everybody else's. */
function phase(pid) {
  const t0 = performance.now(), s0 = cpuSeconds(pid), m0 = machineBusySeconds(), c0 = process.cpuUsage();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const server = cpuSeconds(pid) - s0;
    const c = process.cpuUsage(c0);
    const client = (c.user + c.system) / 1e6;
    const machine = machineBusySeconds() - m0;
    return { wall, serverCpu: server, cores: { server: server / wall, loadGenerator: client / wall, others: Math.max(0, machine - server - client) / wall } };
  };
}

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks (USER_HZ = 100)
}

async function startServer() {
  const args = [path.join(ROOT, 'examples', 'server', 'server.js'), '--model', model, '--port', '0', '--host', '127.0.0.1',
    '--max-queue', String(maxQueue), '--log-level', 'warn'];
  if (v.threads !== undefined) args.push('--threads', v.threads);
  if (v['reject-delay-ms'] !== undefined) args.push('--reject-delay-ms', v['reject-delay-ms']);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s')), 60000);
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);

/** One autocannon run; latencies of 2xx responses recorded here (autocannon's own histogram mixes in the 503s). */
async function run(url, opts) {
  const okLatency = [];
  const allLatency = [];
  const statuses = {};
  const instance = autocannon({
    url: `${url}/detect${query ? `?${query}` : ''}`, method: 'POST', body: image, headers: { 'content-type': contentType },
    timeout: 60, ...opts,
  });
  instance.on('response', (client, statusCode, bytes, ms) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    allLatency.push(ms);
    if (statusCode >= 200 && statusCode < 300) okLatency.push(ms);
  });
  const result = await instance;
  okLatency.sort((a, b) => a - b);
  allLatency.sort((a, b) => a - b);
  const responses = allLatency.length;
  const ok = okLatency.length;
  const errors = responses - ok + result.errors + result.timeouts;
  return {
    seconds: result.duration, responses, ok, statuses, socketErrors: result.errors, timeouts: result.timeouts,
    okPerSecond: ok / result.duration, responsesPerSecond: responses / result.duration,
    errorRate: (responses + result.errors + result.timeouts) ? errors / (responses + result.errors + result.timeouts) : 0,
    okP50: pct(okLatency, 0.5), okP99: pct(okLatency, 0.99), allP50: pct(allLatency, 0.5), allP99: pct(allLatency, 0.99),
  };
}

/**
 * Open loop: one request every 1/rate seconds for `seconds`, whatever the responses (many independent clients), over
 * keep-alive connections (up to 256). autocannon's overallRate sends each second's requests in a burst, which
 * measures burst absorption instead (the queue takes maxQueue of them, the rest are refused at once).
 */
async function openLoop(url, rate, seconds) {
  const http = require('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(`${url}/detect${query ? `?${query}` : ''}`);
  const okLatency = [];
  const allLatency = [];
  const statuses = {};
  let errors = 0;
  const pending = new Set();
  const one = () => new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': image.length } }, (res) => {
      res.resume();
      res.on('end', () => {
        const ms = performance.now() - t0;
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        allLatency.push(ms);
        if (res.statusCode >= 200 && res.statusCode < 300) okLatency.push(ms);
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.setTimeout(60000, () => req.destroy(new Error('timeout')));
    req.end(image);
  });
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const p = one();
    pending.add(p);
    p.then(() => pending.delete(p));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  okLatency.sort((a, b) => a - b);
  allLatency.sort((a, b) => a - b);
  const responses = allLatency.length;
  return {
    seconds: elapsed, responses, ok: okLatency.length, statuses, socketErrors: errors, timeouts: 0,
    okPerSecond: okLatency.length / elapsed, responsesPerSecond: responses / elapsed,
    errorRate: (responses - okLatency.length + errors) / Math.max(1, responses + errors),
    okP50: pct(okLatency, 0.5), okP99: pct(okLatency, 0.99), allP50: pct(allLatency, 0.5), allP99: pct(allLatency, 0.99),
  };
}

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

(async () => {
  const { child, url } = await startServer();
  const pid = child.pid;
  const report = {
    label: v.label, model, rejectDelayMs: v['reject-delay-ms'] ?? 'server default', image: { path: imagePath, bytes: image.length }, query, maxQueue, duration, amount,
    node: process.version, cpus: require('node:os').cpus().length, loadavgStart: require('node:os').loadavg(),
    sweep: [], open: [], soak: undefined,
  };
  try {
    // warm-up: model, allocator and JIT settle
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${url}/detect${query ? `?${query}` : ''}`, { method: 'POST', body: image, headers: { 'content-type': contentType } });
      if (r.status !== 200) throw new Error(`warm-up request failed: ${r.status} ${await r.text()}`);
    }
    report.rssAfterWarmup = procStatus(pid);

    for (const connections of levels) {
      const end = phase(pid);
      const r = await run(url, { connections, duration });
      const p = end();
      const lag = await metric(url, 'nodejs_eventloop_lag_p99_seconds');
      const row = { connections, ...r, serverCpuSecondsPerOk: r.ok ? p.serverCpu / r.ok : NaN, cores: p.cores, eventLoopLagP99ms: lag * 1000 };
      report.sweep.push(row);
      process.stderr.write(`c=${connections}: ${row.okPerSecond.toFixed(1)} ok/s, p50 ${row.okP50} ms, p99 ${row.okP99} ms, ` +
        `errors ${(row.errorRate * 100).toFixed(1)} % ${JSON.stringify(row.statuses)}, ${(row.serverCpuSecondsPerOk * 1000).toFixed(1)} CPU-ms/req\n`);
      await sleep(1000);
    }

    // open loop beyond saturation: a fixed arrival rate above the measured capacity
    const capacity = Math.max(...report.sweep.map((r) => r.okPerSecond));
    for (const factor of overload) {
      const rate = Math.max(1, Math.round(factor * capacity));
      const end = phase(pid);
      const r = await openLoop(url, rate, duration);
      const p = end();
      const row = { factor, offeredPerSecond: rate, ...r, serverCpuSecondsPerOk: r.ok ? p.serverCpu / r.ok : NaN, cores: p.cores };
      report.open.push(row);
      process.stderr.write(`open loop ${factor}x capacity (${rate}/s): ${row.okPerSecond.toFixed(1)} ok/s, p50 ${row.okP50} ms, p99 ${row.okP99} ms, ` +
        `errors ${(row.errorRate * 100).toFixed(1)} % ${JSON.stringify(row.statuses)}\n`);
      await sleep(1000);
    }

    if (amount > 0) {
    // soak: `amount` requests at saturation (soakConnections <= in-flight + maxQueue, so nothing is refused)
    const before = procStatus(pid);
    const end = phase(pid);
    const r = await run(url, { connections: soakConnections, amount });
    const p = end();
    const after = procStatus(pid);
    await sleep(10000);
    const idle = procStatus(pid);
    report.soak = { connections: soakConnections, ...r, serverCpuSecondsPerOk: p.serverCpu / r.ok, cores: p.cores, rssBeforeMB: before.rssMB, rssAfterMB: after.rssMB, rssAfterIdleMB: idle.rssMB, hwmMB: idle.hwmMB };
    process.stderr.write(`soak ${amount} requests (c=${soakConnections}): ${r.okPerSecond.toFixed(1)} ok/s, p50 ${r.okP50} ms, p99 ${r.okP99} ms, ` +
      `errors ${(r.errorRate * 100).toFixed(2)} %, RSS ${before.rssMB.toFixed(1)} -> ${after.rssMB.toFixed(1)} MB (${idle.rssMB.toFixed(1)} after 10 s idle, peak ${idle.hwmMB.toFixed(1)})\n`);
    }
  } finally {
    // graceful shutdown: SIGTERM, in-flight requests finish, exit code 0
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    report.shutdown = await Promise.race([exited, sleep(30000).then(() => ({ code: 'timeout' }))]);
  }
  report.loadavgEnd = require('node:os').loadavg();

  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const cores = (c) => `${f(c.server, 2)} / ${f(c.loadGenerator, 2)} / ${f(c.others, 2)}`;
  const lines = [
    `| connections | served/s | p50 ms | p99 ms | error rate | 503s | server CPU-ms / served | event-loop lag p99 ms | cores: server / load gen. / others |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...report.sweep.map((r) => `| ${r.connections} | ${f(r.okPerSecond)} | ${f(r.okP50, 0)} | ${f(r.okP99, 0)} | ${f(r.errorRate * 100)} % | ${r.statuses[503] ?? 0} | ${f(r.serverCpuSecondsPerOk * 1000)} | ${f(r.eventLoopLagP99ms)} | ${cores(r.cores)} |`),
  ];
  if (report.open.length) {
    lines.push('', '| open loop: offered | served/s | p50 ms | p99 ms | error rate | 503s | server CPU-ms / served | cores: server / load gen. / others |', '|---|---|---|---|---|---|---|---|',
      ...report.open.map((r) => `| ${r.factor}x capacity = ${r.offeredPerSecond}/s | ${f(r.okPerSecond)} | ${f(r.okP50, 0)} | ${f(r.okP99, 0)} | ${f(r.errorRate * 100)} % | ${r.statuses[503] ?? 0} | ${f(r.serverCpuSecondsPerOk * 1000)} | ${cores(r.cores)} |`));
  }
  if (report.soak) {
    const s = report.soak;
    lines.push('', `soak: ${s.ok}/${amount} served at ${soakConnections} connections, ${f(s.okPerSecond)} /s, p50 ${f(s.okP50, 0)} ms, ` +
      `p99 ${f(s.okP99, 0)} ms, errors ${f(s.errorRate * 100, 2)} %, server ${f(s.serverCpuSecondsPerOk * 1000)} CPU-ms per request, cores ${cores(s.cores)}; server RSS ${f(s.rssBeforeMB)} MB before, ${f(s.rssAfterMB)} MB after, ` +
      `${f(s.rssAfterIdleMB)} MB after 10 s idle (peak ${f(s.hwmMB)} MB)`);
  }
  lines.push(`shutdown: ${JSON.stringify(report.shutdown)}`);
  process.stdout.write(lines.join('\n') + '\n');
  if (v.json) fs.writeFileSync(v.json, JSON.stringify(report, null, 1) + '\n');
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
