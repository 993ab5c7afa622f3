#!/usr/bin/env node
// Load test of examples/server on loopback (127.0.0.1 only), bounded in time and count:
//  1. a sweep over client connection counts (below, at and beyond saturation), each for --duration seconds:
//     throughput, p50/p99 latency of served requests, error (503) rate, server CPU-seconds per request;
//  2. a soak of --amount requests at saturation without overload: RSS of the server before/after (and after idling).
// The server runs in a child process (its RSS and CPU are its own); autocannon runs here, on the same cores.
//
//   node bench/load.js [--model m.onnx] [--image img] [--levels 1,2,4,8,32] [--duration 10] [--amount 10000]
//                      [--max-queue 8] [--soak-connections 4] [--threads n] [--json out.json] [--label text]
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
    threads: { type: 'string' }, json: { type: 'string' }, label: { type: 'string' }, query: { type: 'string' },
  },
});
const model = v.model ?? path.join(ROOT, 'test', 'models', 'craft-tiny.onnx');
const imagePath = v.image ?? path.join(ROOT, 'test', 'fixtures', 'images', 'hello.png');
const levels = (v.levels ?? '1,2,4,8,32').split(',').map(Number);
const duration = Number(v.duration ?? 10);
const amount = Number(v.amount ?? 10000);
const maxQueue = Number(v['max-queue'] ?? 8);
const soakConnections = Number(v['soak-connections'] ?? 4);
const query = v.query ?? '';
if (duration > 120 || amount > 20000 || levels.some((c) => !(c >= 1 && c <= 256))) {
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

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks (USER_HZ = 100)
}

async function startServer() {
  const args = [path.join(ROOT, 'examples', 'server', 'server.js'), '--model', model, '--port', '0', '--host', '127.0.0.1',
    '--max-queue', String(maxQueue), '--log-level', 'warn'];
  if (v.threads !== undefined) args.push('--threads', v.threads);
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

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

(async () => {
  const { child, url } = await startServer();
  const pid = child.pid;
  const report = {
    label: v.label, model, image: { path: imagePath, bytes: image.length }, query, maxQueue, duration, amount,
    node: process.version, cpus: require('node:os').cpus().length, loadavgStart: require('node:os').loadavg(),
    sweep: [], soak: undefined,
  };
  try {
    // warm-up: model, allocator and JIT settle
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${url}/detect${query ? `?${query}` : ''}`, { method: 'POST', body: image, headers: { 'content-type': contentType } });
      if (r.status !== 200) throw new Error(`warm-up request failed: ${r.status} ${await r.text()}`);
    }
    report.rssAfterWarmup = procStatus(pid);

    for (const connections of levels) {
      const cpu0 = cpuSeconds(pid);
      const r = await run(url, { connections, duration });
      const cpu = cpuSeconds(pid) - cpu0;
      const lag = await metric(url, 'nodejs_eventloop_lag_p99_seconds');
      const row = { connections, ...r, serverCpuSecondsPerOk: r.ok ? cpu / r.ok : NaN, serverCpuUtilisation: cpu / r.seconds, eventLoopLagP99ms: lag * 1000 };
      report.sweep.push(row);
      process.stderr.write(`c=${connections}: ${row.okPerSecond.toFixed(1)} ok/s, p50 ${row.okP50} ms, p99 ${row.okP99} ms, ` +
        `errors ${(row.errorRate * 100).toFixed(1)} % ${JSON.stringify(row.statuses)}, ${(row.serverCpuSecondsPerOk * 1000).toFixed(1)} CPU-ms/req\n`);
      await sleep(1000);
    }

    // soak: `amount` requests at saturation (soakConnections <= in-flight + maxQueue, so nothing is refused)
    const before = procStatus(pid);
    const cpu0 = cpuSeconds(pid);
    const r = await run(url, { connections: soakConnections, amount });
    const cpu = cpuSeconds(pid) - cpu0;
    const after = procStatus(pid);
    await sleep(10000);
    const idle = procStatus(pid);
    report.soak = { connections: soakConnections, ...r, serverCpuSecondsPerOk: cpu / r.ok, rssBeforeMB: before.rssMB, rssAfterMB: after.rssMB, rssAfterIdleMB: idle.rssMB, hwmMB: idle.hwmMB };
    process.stderr.write(`soak ${amount} requests (c=${soakConnections}): ${r.okPerSecond.toFixed(1)} ok/s, p50 ${r.okP50} ms, p99 ${r.okP99} ms, ` +
      `errors ${(r.errorRate * 100).toFixed(2)} %, RSS ${before.rssMB.toFixed(1)} -> ${after.rssMB.toFixed(1)} MB (${idle.rssMB.toFixed(1)} after 10 s idle, peak ${idle.hwmMB.toFixed(1)})\n`);
  } finally {
    // graceful shutdown: SIGTERM, in-flight requests finish, exit code 0
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    report.shutdown = await Promise.race([exited, sleep(30000).then(() => ({ code: 'timeout' }))]);
  }
  report.loadavgEnd = require('node:os').loadavg();

  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const lines = [
    `| connections | served/s | p50 ms | p99 ms | error rate | 503s | server CPU-ms / served | event-loop lag p99 ms |`,
    '|---|---|---|---|---|---|---|---|',
    ...report.sweep.map((r) => `| ${r.connections} | ${f(r.okPerSecond)} | ${f(r.okP50, 0)} | ${f(r.okP99, 0)} | ${f(r.errorRate * 100)} % | ${r.statuses[503] ?? 0} | ${f(r.serverCpuSecondsPerOk * 1000)} | ${f(r.eventLoopLagP99ms)} |`),
  ];
  if (report.soak) {
    const s = report.soak;
    lines.push('', `soak: ${s.ok}/${amount} served at ${soakConnections} connections, ${f(s.okPerSecond)} /s, p50 ${f(s.okP50, 0)} ms, ` +
      `p99 ${f(s.okP99, 0)} ms, errors ${f(s.errorRate * 100, 2)} %; server RSS ${f(s.rssBeforeMB)} MB before, ${f(s.rssAfterMB)} MB after, ` +
      `${f(s.rssAfterIdleMB)} MB after 10 s idle (peak ${f(s.hwmMB)} MB)`);
  }
  lines.push(`shutdown: ${JSON.stringify(report.shutdown)}`);
  process.stdout.write(lines.join('\n') + '\n');
  if (v.json) fs.writeFileSync(v.json, JSON.stringify(report, null, 1) + '\n');
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
