/*! craft-text | MIT */
// `craft-text bench`: per-stage times, latency percentiles and throughput of detect() at several concurrency
// levels, side by side (interleaved, same process, same threads) with a bare onnxruntime-node run of the same
// model on the same network input sizes, so the pipeline's overhead is measured as a ratio.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { binding } from '../binding';
import { Detector } from '../detector';
import { resolveModel } from '../models';
import { createOptions } from '../options';
import type { SchedulerConfig } from '../stats';
import type { DetectorInfo, DetectOptions } from '../types';
import { DETECT_FLAGS, detectOptionsFromFlags, num, parse, UsageError } from './args';
import { pool } from './eval';

export const BENCH_USAGE = 'craft-text bench [image...] [--model m.onnx] [--concurrency 1,2,4] [--runs n] [--warmup n] ' +
  '[--threads n] [--no-bare] [--json] [detection flags as for detect]';

const ROOT = path.join(__dirname, '..', '..');
const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.gif', '.bmp', '.tif', '.tiff', '.webp']);
const STAGES = ['decode', 'preprocess', 'inference', 'postprocess', 'queue'] as const;

/** The machine, runtime versions and thread/scheduler settings a measurement was taken with. */
export function runEnvironment(info: DetectorInfo, threads: number | undefined, scheduler?: SchedulerConfig) {
  const session = createOptions(threads !== undefined ? { threads } : {});
  const cpus = os.cpus();
  let onnxruntimeNode: string | undefined;
  try {
    onnxruntimeNode = JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version;
  } catch { /* not installed */ }
  return {
    machine: {
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      logicalCpus: cpus.length,
      availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
      memoryBytes: os.totalmem(),
      loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
      platform: `${process.platform}-${process.arch}`,
      kernel: os.release(),
    },
    node: process.version,
    onnxruntime: { version: info.onnxruntime.version, apiVersion: info.onnxruntime.apiVersion, library: info.onnxruntime.path },
    onnxruntimeNode,
    opencv: binding().opencvVersion,
    executionProvider: info.executionProvider,
    threads: {
      intraOp: session.threads,
      intraOpNote: session.threads === 0 ? 'ONNX Runtime default: one thread per physical core' : 'set with --threads',
      interOp: session.interOpThreads,
      spinning: session.spinning,
    },
    ...(scheduler ? { scheduler } : {}),
  };
}

/** Nearest-rank percentile of sorted values. @private */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length, mean: r2(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    p50: r2(percentile(s, 0.5)), p95: r2(percentile(s, 0.95)), p99: r2(percentile(s, 0.99)), max: r2(s[s.length - 1] ?? NaN),
  };
}
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : path.resolve(file);
}

function defaultImages(): string[] {
  for (const dir of [path.join(ROOT, 'examples', 'images'), path.join(ROOT, 'test', 'fixtures', 'images')]) {
    if (!fs.existsSync(dir)) continue;
    const files = fs.readdirSync(dir).filter((f) => IMAGE_EXTS.has(path.extname(f).toLowerCase())).sort();
    if (files.length) return files.map((f) => path.join(dir, f));
  }
  return [];
}

function concurrencyList(value: string | undefined): number[] {
  if (value === undefined) return [1, 2, 4];
  const parts = value.split(',');
  const out = parts.map((p) => num('concurrency', p, 1, 256, true)!);
  return [...new Set(out)];
}

interface Pass { wallMs: number; latencies: number[] }

/** `craft-text bench`. */
export async function runBench(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...DETECT_FLAGS,
    concurrency: { type: 'string' }, runs: { type: 'string' }, warmup: { type: 'string' },
    json: { type: 'boolean' }, 'no-bare': { type: 'boolean' },
  });
  const levels = concurrencyList(values.concurrency as string | undefined);
  const runs = num('runs', values.runs as string | undefined, 1, 100000, true) ?? 5;
  const warmup = num('warmup', values.warmup as string | undefined, 0, 1000, true) ?? 1;
  const threads = num('threads', values.threads as string | undefined, 0, 1024, true);
  const options: DetectOptions = detectOptionsFromFlags(values);
  for (const p of positionals) {
    if (!fs.existsSync(p) || !fs.statSync(p).isFile()) throw new UsageError(`no such file: ${p}`);
  }
  const files = positionals.length ? positionals : defaultImages();
  if (files.length === 0) throw new UsageError('no images given and no bundled example images found');
  const bare = !values['no-bare'];

  // Images are read once: the timed decode is in-memory (as for a Buffer input), not disk I/O.
  const buffers = files.map((f) => fs.readFileSync(f));
  const modelArg = values.model as string | undefined;
  const modelPath = resolveModel(modelArg) as string;
  const detector = await Detector.create({ model: modelArg, ...(threads !== undefined ? { threads } : {}) });
  try {
    const env = runEnvironment(detector.info, threads, detector.stats().config);
    // A first pass with heatmaps: the network input size of every image (heatmap = half the padded input).
    const images: { file: string; width: number; height: number; networkWidth: number; networkHeight: number; tiles: number; words: number }[] = [];
    for (let i = 0; i < files.length; i++) {
      const r = await detector.detect(buffers[i], { ...options, heatmaps: true });
      images.push({
        file: displayPath(files[i]), width: r.width, height: r.height,
        networkWidth: r.heatmaps!.width * 2, networkHeight: r.heatmaps!.height * 2, tiles: r.tiles ?? 1, words: r.words.length,
      });
    }
    const tiled = images.filter((im) => im.tiles > 1);
    if (tiled.length && bare) {
      process.stderr.write(`bench: ${tiled.length} image(s) are tiled; the bare run uses one input of the stitched size for them\n`);
    }
    for (let w = 0; w < warmup; w++) await pool(buffers, 1, (b) => detector.detect(b, options));
    const rssCraftOnly = process.resourceUsage().maxRSS * 1024;

    // The bare contender: onnxruntime-node's own API, same model, same thread settings, same input shapes.
    let bareRun: ((i: number) => Promise<void>) | undefined;
    let bareInfo: Record<string, unknown> | undefined;
    if (bare) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
      const sessionOptions = {
        intraOpNumThreads: threads ?? 0, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const,
        executionMode: 'sequential' as const,
        // The same session settings as craft-text's (binding/craft/session.cc).
        extra: {
          'session.set_denormal_as_zero': '1',
          ...(env.threads.spinning ? {} : { 'session.intra_op.allow_spinning': '0' }),
        },
      };
      const session = await ort.InferenceSession.create(modelPath, sessionOptions);
      const tensors = new Map<string, InstanceType<typeof ort.Tensor>>();
      for (const im of images) {
        const key = `${im.networkWidth}x${im.networkHeight}`;
        if (tensors.has(key)) continue;
        const data = new Float32Array(3 * im.networkWidth * im.networkHeight);
        let s = 12345;
        for (let k = 0; k < data.length; k++) data[k] = ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 4 - 2;
        tensors.set(key, new ort.Tensor('float32', data, [1, 3, im.networkHeight, im.networkWidth]));
      }
      const inputName = session.inputNames[0], outputName = session.outputNames[0];
      bareRun = async (i: number) => {
        const im = images[i];
        const res = await session.run({ [inputName]: tensors.get(`${im.networkWidth}x${im.networkHeight}`)! }, [outputName]);
        for (const t of Object.values(res)) (t as { dispose?: () => void }).dispose?.();
      };
      for (let w = 0; w < Math.max(1, warmup); w++) await pool(images, 1, (_, i) => bareRun!(i));
      bareInfo = {
        api: 'onnxruntime-node InferenceSession.run', sessionOptions: { ...sessionOptions },
        input: 'the network input size of each image (from the first pass), constant pseudo-random values',
        output: outputName,
      };
    }

    const results = [];
    for (const c of levels) {
      // A pass sends every image once, cycling through them until at least 2 * c requests keep c slots busy.
      const index = Array.from({ length: Math.max(images.length, 2 * c) }, (_, k) => k % images.length);
      const craftPasses: Pass[] = [], barePasses: Pass[] = [];
      const stages: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
      const craftPass = async () => {
        const t0 = performance.now();
        const latencies = await pool(index, c, async (i) => {
          const s = performance.now();
          const r = await detector.detect(buffers[i], options);
          const ms = performance.now() - s;
          for (const k of STAGES) stages[k].push((r.timings as unknown as Record<string, number>)[k] ?? 0);
          return ms;
        });
        craftPasses.push({ wallMs: performance.now() - t0, latencies });
      };
      const barePass = async () => {
        const t0 = performance.now();
        const latencies = await pool(index, c, async (i) => {
          const s = performance.now();
          await bareRun!(i);
          return performance.now() - s;
        });
        barePasses.push({ wallMs: performance.now() - t0, latencies });
      };
      for (let r = 0; r < runs; r++) {
        // Interleaved, alternating which goes first, so machine noise hits both alike.
        const order = r % 2 === 0 ? [craftPass, barePass] : [barePass, craftPass];
        for (const pass of order) if (pass === craftPass || bareRun) await pass();
        if (process.stderr.isTTY) process.stderr.write(`\rbench: concurrency ${c}, run ${r + 1}/${runs}\x1b[K`);
      }
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      const side = (passes: Pass[]) => ({
        latencyMs: summary(passes.flatMap((p) => p.latencies)),
        throughput: r2(median(passes.map((p) => (p.latencies.length * 1000) / p.wallMs))),
      });
      const craft = { ...side(craftPasses), stageMedianMs: Object.fromEntries(STAGES.map((k) => [k, r2(median(stages[k]))])) };
      const bareSide = bareRun ? side(barePasses) : undefined;
      results.push({
        concurrency: c,
        craftText: craft,
        ...(bareSide ? {
          bare: bareSide,
          ratio: {
            latencyP50: r2(craft.latencyMs.p50 / bareSide.latencyMs.p50),
            throughput: r2(craft.throughput / bareSide.throughput),
          },
        } : {}),
      });
    }

    const report = {
      model: modelArg ?? 'default', modelPath, images, runs, warmup,
      detectOptions: { ...detector.info.defaults, ...options },
      environment: env,
      bare: bareInfo ?? null,
      results,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakRssCraftOnlyBytes: rssCraftOnly,
    };
    if (values.json) out.write(JSON.stringify(report) + '\n');
    else printReport(out, report);
    return 0;
  } finally {
    await detector.dispose();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function printReport(out: NodeJS.WritableStream, r: any): void {
  const e = r.environment;
  const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
  const lines = [
    `model      ${r.model} (${r.modelPath})`,
    `machine    ${e.machine.cpu}, ${e.machine.logicalCpus} logical CPUs, load average ${e.machine.loadAverage.join(' ')}`,
    `runtime    Node ${e.node}, ONNX Runtime ${e.onnxruntime.version} (${e.executionProvider}), onnxruntime-node ${e.onnxruntimeNode ?? '-'}, OpenCV ${e.opencv}`,
    `threads    intra-op ${e.threads.intraOp} (${e.threads.intraOpNote}), inter-op ${e.threads.interOp}, spinning ${e.threads.spinning ? 'on' : 'off'} (both contenders)`,
    ...(e.scheduler ? [`scheduler  craft-text: ${e.scheduler.concurrency} inference(s) at once, stage concurrency ${e.scheduler.stageConcurrency}, batch up to ${e.scheduler.batch.maxSize}; bare: every request runs at once`] : []),
    `images     ${r.images.length}, ${r.runs} interleaved run(s) per concurrency level after ${r.warmup} warm-up pass(es); a run = every image once, at least 2 x concurrency requests`,
    ...r.images.map((im: any) => `  ${im.file}: ${im.width}x${im.height} -> network ${im.networkWidth}x${im.networkHeight}${im.tiles > 1 ? ` (${im.tiles} tiles)` : ''}, ${im.words} words`),
    '',
  ];
  for (const res of r.results) {
    const c = res.craftText, b = res.bare;
    const lat = (l: any) => `p50 ${l.p50.toFixed(1)}  p95 ${l.p95.toFixed(1)}  p99 ${l.p99.toFixed(1)} ms`;
    lines.push(`concurrency ${res.concurrency}`);
    lines.push(`  craft-text detect()  ${lat(c.latencyMs)}   ${c.throughput.toFixed(2)} images/s`);
    if (b) {
      lines.push(`  bare onnxruntime     ${lat(b.latencyMs)}   ${b.throughput.toFixed(2)} images/s`);
      lines.push(`  ratio                latency p50 x${res.ratio.latencyP50.toFixed(2)}, throughput x${res.ratio.throughput.toFixed(2)} (craft-text / bare)`);
    }
    const s = c.stageMedianMs;
    lines.push(`  stages (median ms)   decode ${s.decode}  preprocess ${s.preprocess}  inference ${s.inference}  postprocess ${s.postprocess}  queue ${s.queue}`);
  }
  lines.push('', `peak RSS   ${mb(r.peakRssBytes)} (craft-text alone, before the bare session: ${mb(r.peakRssCraftOnlyBytes)})`);
  out.write(lines.join('\n') + '\n');
}
