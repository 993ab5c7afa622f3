#!/usr/bin/env node
// craft-text/queue on a throwaway redis-server (tools/redis-server.js, AOF on), with `craft-text worker` processes:
//   1. overhead: one 768x768 page at a time, the queue round trip (enqueue -> worker -> stored result -> producer)
//      against detect() in this process, alternated so noise hits both alike;
//   2. throughput: the same pages through one in-process detector, 1 worker process and 2 worker processes;
//   3. faults: --jobs pages (default 1000) over 2 workers plus one corrupt image (poison); one worker is SIGKILLed
//      while it holds jobs (a replacement starts, as a Deployment would), then Redis is restarted (SIGTERM, AOF
//      flushed, started again); every job must end with exactly one stored result.
// Usage: node bench/queue.js [--jobs 1000] [--throughput-jobs 120] [--overhead-runs 20] [--model default-int8]
//   [--size 768] [--fault-size 384] [--skip overhead,throughput,faults] [--json out.json]   (run `npm run build` first)
// The fault run uses smaller pages (--fault-size) so 1,000 jobs take minutes, not a quarter of an hour, on 2 cores.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseArgs } = require('node:util');
const IORedis = require('ioredis');
const { Detector } = require('../dist');
const Q = require('../dist/queue');
const { startRedis } = require('../tools/redis-server');
const { syntheticPage } = require('./synthetic-page');

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' }, 'throughput-jobs': { type: 'string', default: '120' },
    'overhead-runs': { type: 'string', default: '20' }, model: { type: 'string', default: 'default-int8' },
    size: { type: 'string', default: '768' }, 'fault-size': { type: 'string', default: '384' }, skip: { type: 'string', default: '' }, json: { type: 'string' },
  },
});
const SIZE = Number(values.size);
const MODEL = values.model;
const skip = new Set(values.skip.split(',').filter(Boolean));
const CLI = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

/** A minimal PNG encoder (RGB, filter 0, zlib): pages as a scanner would send them, not 1.7 MB bitmaps. */
function encodePng(rgb, w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) Buffer.from(rgb.buffer, rgb.byteOffset + y * w * 3, w * 3).copy(raw, y * (w * 3 + 1) + 1);
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** `craft-text worker` as a child process; resolves when it prints its ready line. Counts its logged job events. */
function startWorker(url, queue, extra = []) {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--queue', queue, '--model', MODEL, '--log-jobs', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const w = { child, completed: [], active: new Set(), stderr: '' };
  w.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.on('data', (d) => { w.stderr += d; });
  let buf = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) {
          const e = JSON.parse(line);
          if (e.event === 'active') w.active.add(e.id);
          else { w.active.delete(e.id); if (e.event === 'completed') w.completed.push(e.id); }
        } else if (line.startsWith('worker ready')) resolve(w);
      }
    });
    w.exit.then(({ code }) => reject(new Error(`worker exited (${code}): ${w.stderr}`)));
  });
}

/** Peak resident memory of a process (MB), from /proc (Linux). */
function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch { return undefined; }
}

async function stopWorkers(workers) {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exit));
}

/** 'completed' entries per job id in BullMQ's event stream: Redis's own record of stored results. */
async function completionsInRedis(url, queue) {
  const client = new IORedis(url);
  const entries = await client.xrange(queue.keys.events, '-', '+');
  const len = await client.xlen(queue.keys.events);
  client.disconnect();
  const counts = new Map();
  for (const [, f] of entries) {
    const m = new Map();
    for (let i = 0; i < f.length; i += 2) m.set(f[i], f[i + 1]);
    if (m.get('event') === 'completed') counts.set(m.get('jobId'), (counts.get(m.get('jobId')) ?? 0) + 1);
  }
  return { counts, streamLength: len };
}

async function timedRun(queue, pages, label) {
  const t0 = performance.now();
  const ids = await Q.enqueueMany(queue, pages);
  const outcomes = await Q.waitForResults(queue, ids, { pollMs: 500 });
  const s = (performance.now() - t0) / 1000;
  const failed = outcomes.filter((o) => !o.ok).length;
  console.log(`  ${label}: ${pages.length} pages in ${s.toFixed(1)} s = ${(pages.length / s).toFixed(2)} pages/s${failed ? ` (${failed} failed!)` : ''}`);
  return { pages: pages.length, seconds: s, pagesPerSecond: pages.length / s, failed };
}

(async () => {
  const report = { model: MODEL, size: SIZE, cores: require('node:os').availableParallelism() };
  const pngs = Array.from({ length: 8 }, (_, i) => encodePng(syntheticPage(SIZE, SIZE, i + 1), SIZE, SIZE));
  report.pngBytes = Math.round(pngs.reduce((a, b) => a + b.length, 0) / pngs.length);
  console.log(`pages: ${SIZE}x${SIZE} synthetic PNG (~${(report.pngBytes / 1024).toFixed(0)} KB), model ${MODEL}, ${report.cores} cores`);
  const redis = await startRedis({ appendonly: true });
  let queueNo = 0;
  const newQueue = () => Q.createQueue({ connection: redis.url, queue: `bench${++queueNo}` });
  try {
    // ---- 1. overhead --------------------------------------------------------------------------------------------
    if (!skip.has('overhead')) {
      const runs = Number(values['overhead-runs']);
      const queue = newQueue();
      // Same detector settings on both sides: default threads, one page at a time.
      const w = await startWorker(redis.url, queue.name, ['--concurrency', '1']);
      const detector = await Detector.create({ model: MODEL });
      const local = [], viaQueue = [], inWorker = [];
      for (let i = 0; i < 3; i++) { await detector.detect(pngs[i]); await Q.waitForResults(queue, [await Q.enqueue(queue, pngs[i])]); }
      for (let i = 0; i < runs; i++) {
        const png = pngs[i % pngs.length];
        for (const which of i % 2 === 0 ? ['local', 'queue'] : ['queue', 'local']) {
          const t0 = performance.now();
          if (which === 'local') {
            await detector.detect(png);
            local.push(performance.now() - t0);
          } else {
            const [o] = await Q.waitForResults(queue, [await Q.enqueue(queue, png)], { pollMs: 1000 });
            viaQueue.push(performance.now() - t0);
            const t = o.result.timings;
            inWorker.push(t.decode + t.preprocess + t.inference + t.postprocess + t.queue);
          }
        }
      }
      await detector.dispose();
      await stopWorkers([w]);
      await queue.close();
      const overhead = viaQueue.map((v, i) => v - local[i]);
      const direct = viaQueue.map((v, i) => v - inWorker[i]);
      report.overhead = {
        runs, detectMs: median(local), queueRoundTripMs: median(viaQueue), overheadMs: median(overhead),
        overheadFraction: median(overhead) / median(local), outsideDetectMs: median(direct),
        outsideDetectFraction: median(direct) / median(inWorker), workerDetectMs: median(inWorker),
      };
      const o = report.overhead;
      console.log(`1. overhead, ${runs} pages one at a time (medians): detect() in process ${o.detectMs.toFixed(1)} ms; ` +
        `via the queue ${o.queueRoundTripMs.toFixed(1)} ms (p90 ${pct(viaQueue, 0.9).toFixed(1)}) -> ` +
        `${o.overheadMs.toFixed(1)} ms = ${(100 * o.overheadFraction).toFixed(1)} % of detect time; ` +
        `round trip minus the worker's own detect timings: ${o.outsideDetectMs.toFixed(1)} ms = ${(100 * o.outsideDetectFraction).toFixed(1)} %`);
    }

    // ---- 2. throughput ------------------------------------------------------------------------------------------
    if (!skip.has('throughput')) {
      const n = Number(values['throughput-jobs']);
      const pages = Array.from({ length: n }, (_, i) => pngs[i % pngs.length]);
      console.log(`2. throughput, ${n} pages each:`);
      report.throughput = {};
      {
        const detector = await Detector.create({ model: MODEL });
        const inFlight = Q.detectorCapacity(detector); // what a worker would hold
        const t0 = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: inFlight }, async () => { while (next < n) await detector.detect(pages[next++]); }));
        const s = (performance.now() - t0) / 1000;
        await detector.dispose();
        report.throughput.inProcess = { pages: n, seconds: s, pagesPerSecond: n / s };
        console.log(`  one in-process detector (${inFlight} in flight): ${n} pages in ${s.toFixed(1)} s = ${(n / s).toFixed(2)} pages/s`);
      }
      for (const [label, key, count, extra] of [
        ['1 worker process', 'oneWorker', 1, []],
        ['2 worker processes, --threads 1 each', 'twoWorkers', 2, ['--threads', '1']],
      ]) {
        const queue = newQueue();
        const workers = await Promise.all(Array.from({ length: count }, () => startWorker(redis.url, queue.name, extra)));
        report.throughput[key] = await timedRun(queue, pages, label);
        report.throughput[key].workerPeakRssMb = workers.map((w) => Math.round(peakRssMb(w.child.pid)));
        console.log(`    worker peak RSS: ${report.throughput[key].workerPeakRssMb.join(', ')} MB`);
        await stopWorkers(workers);
        await queue.obliterate({ force: true });
        await queue.close();
      }
    }

    // ---- 3. faults ----------------------------------------------------------------------------------------------
    if (!skip.has('faults')) {
      const n = Number(values.jobs);
      const queue = newQueue();
      // Shorter locks than the defaults (30 s / 30 s) so the run shows recovery in seconds, as a tuned fleet would.
      const flags = ['--threads', '1', '--lock-duration-ms', '5000', '--stalled-interval-ms', '2000'];
      const workers = await Promise.all([startWorker(redis.url, queue.name, flags), startWorker(redis.url, queue.name, flags)]);
      const FS = Number(values['fault-size']);
      const small = Array.from({ length: 8 }, (_, i) => encodePng(syntheticPage(FS, FS, i + 1), FS, FS));
      const items = Array.from({ length: n }, (_, i) => ({ input: small[i % small.length], jobId: `page-${String(i).padStart(5, '0')}` }));
      items.splice(Math.floor(n / 2), 0, { input: Buffer.from('%PDF-1.4 this is not an image'), jobId: 'poison' });
      const t0 = performance.now();
      const ids = await Q.enqueueMany(queue, items);
      const log = (m) => console.log(`  [${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}`);
      console.log(`3. faults: ${n} ${FS}x${FS} pages + 1 poison job over 2 workers (lock 5 s, stall check 2 s)`);
      const done = () => workers.reduce((a, w) => a + w.completed.length, 0);
      while (done() < n * 0.25 || workers[0].active.size === 0) await sleep(20);
      const lost = [...workers[0].active];
      workers[0].child.kill('SIGKILL');
      await workers[0].exit;
      log(`SIGKILL worker 1 (pid ${workers[0].child.pid}) after ${done()} results, holding jobs ${lost.join(', ')}`);
      await sleep(1000);
      workers.push(await startWorker(redis.url, queue.name, flags));
      log('replacement worker 3 started');
      while (done() < n * 0.6) await sleep(20);
      const tr = performance.now();
      await redis.restart();
      log(`Redis restarted (SIGTERM, AOF flushed, started again) in ${((performance.now() - tr) / 1000).toFixed(1)} s after ${done()} results`);
      const outcomes = await Q.waitForResults(queue, ids, { pollMs: 1000 });
      const seconds = (performance.now() - t0) / 1000;
      log('all jobs finished');
      const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
      const { counts: completions, streamLength } = await completionsInRedis(redis.url, queue);
      const logged = workers.flatMap((w) => w.completed);
      const poison = await queue.getJob('poison');
      const lostJobs = await Promise.all(lost.map((id) => queue.getJob(id)));
      report.faults = {
        jobs: n, pageSize: FS, poisonJobs: 1, seconds,
        killedWorkerHeld: lost.length,
        recovered: lostJobs.filter((j) => j && j.attemptsStarted >= 2 && j.finishedOn && j.returnvalue).length,
        completed: counts.completed, failed: counts.failed, leftOver: counts.waiting + counts.active + counts.delayed,
        okOutcomes: outcomes.filter((o) => o.ok).length,
        storedResultsPerJob: { one: [...completions.values()].filter((c) => c === 1).length, more: [...completions.values()].filter((c) => c > 1).length },
        jobsWithoutStoredResult: ids.filter((id) => id !== 'poison' && !completions.has(id)).length,
        eventStreamLength: streamLength,
        loggedCompletions: logged.length, loggedDuplicates: logged.length - new Set(logged).size,
        poison: { state: await poison.getState(), attemptsStarted: poison.attemptsStarted, error: outcomes.find((o) => o.id === 'poison').error },
        redisRestarted: true,
      };
      const f = report.faults;
      console.log(`  ${f.completed} completed, ${f.failed} failed (the poison job: ${f.poison.error.code}, started ${f.poison.attemptsStarted}x), ${f.leftOver} left over; ` +
        `stored results per job: ${f.storedResultsPerJob.one} exactly once, ${f.storedResultsPerJob.more} more than once, ${f.jobsWithoutStoredResult} none; ` +
        `the killed worker's ${f.killedWorkerHeld} jobs re-run and stored: ${f.recovered}; ${seconds.toFixed(1)} s`);
      await stopWorkers(workers);
      await queue.close();
    }
  } finally {
    await redis.close();
  }
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
})().catch((err) => { console.error(err); process.exit(1); });
