/*! craft-text | MIT */
// `craft-text eval`: detect on every image of an annotated dataset, score with the ICDAR 2015 IoU protocol or
// DetEval (lib/eval), print the totals and throughput, optionally write per-image JSON and pictures of the worst.
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Detector } from '../detector';
import { createProgress, evaluate, loadDataset, type DatasetSample, type Detection, type EvalResult } from '../eval';
import type { DetectResult } from '../types';
import { CHARACTER_FLAGS, DETECT_FLAGS, detectOptionsFromFlags, lmFlags, num, onOff, parse, UsageError } from './args';
import { runEnvironment } from './bench';
import { writeEvalPicture } from './draw';
import { runOcrEval, runRecognitionEval } from './eval-text';

export const EVAL_USAGE = 'craft-text eval <dataset-dir> [--task detection|recognition|ocr] [--model m.onnx] ' +
  '[--recognizer rec.onnx] [--margin n] [--margin-retry n] [--orientation-retry n] [--contrast-retry n] [--stretch-retry n] [--vertical-retry on|off] [--ink-crop on|off] [--allowlist chars] [--blocklist chars] [--decoder greedy|beam] [--language-model on|off|file] [--lm-weight n] [--insertion-bonus n] [--join-gap n] [--join-confidence n] [--protocol iou|deteval] [--json out.json] [--out-dir dir] [--worst n] [--limit n] ' +
  '[--concurrency n] [detection flags as for detect]';

/** One image's record in the JSON report. */
interface ImageRecord {
  image: string;
  width?: number;
  height?: number;
  ms?: number;
  timings?: DetectResult['timings'];
  error?: { code?: string; message: string };
  detections: Detection[];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. @private */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A dataset's samples (the first `limit`), or a UsageError when it can't be read or has no images. @private */
export async function loadSamples(dir: string, limit: number | undefined): Promise<DatasetSample[]> {
  let samples: DatasetSample[];
  try {
    samples = await loadDataset(dir);
  } catch (err) {
    throw new UsageError(`cannot read the dataset: ${(err as Error).message}`);
  }
  if (limit !== undefined) samples = samples.slice(0, limit);
  if (samples.length === 0) throw new UsageError(`no images in ${dir}`);
  return samples;
}

/** `craft-text eval`. Exit code 0, or 1 when an image could not be processed (scored as having no detections). */
export async function runEval(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...DETECT_FLAGS,
    protocol: { type: 'string' },
    json: { type: 'string' },
    'out-dir': { type: 'string' },
    worst: { type: 'string' },
    limit: { type: 'string' },
    concurrency: { type: 'string' },
    task: { type: 'string' },
    recognizer: { type: 'string' },
    margin: { type: 'string' },
    'margin-retry': { type: 'string' },
    'orientation-retry': { type: 'string' },
    'contrast-retry': { type: 'string' },
    'stretch-retry': { type: 'string' },
    'ink-crop': { type: 'string' },
    'vertical-retry': { type: 'string' },
    decoder: { type: 'string' },
    'language-model': { type: 'string' },
    'lm-weight': { type: 'string' },
    'insertion-bonus': { type: 'string' },
    'join-gap': { type: 'string' },
    'join-confidence': { type: 'string' },
    ...CHARACTER_FLAGS,
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'eval needs a dataset folder' : `eval takes one dataset folder, got ${positionals.length}`);
  const dir = positionals[0];
  if (!fs.existsSync(dir)) throw new UsageError(`no such dataset: ${dir}`);
  const protocol = (values.protocol as string | undefined) ?? 'iou';
  if (protocol !== 'iou' && protocol !== 'deteval') throw new UsageError(`--protocol expects iou or deteval, got '${protocol}'`);
  const limit = num('limit', values.limit as string | undefined, 1, Number.MAX_SAFE_INTEGER, true);
  const worst = num('worst', values.worst as string | undefined, 0, 100000, true) ?? 10;
  const concurrency = num('concurrency', values.concurrency as string | undefined, 1, 64, true) ?? 2;
  const threads = num('threads', values.threads as string | undefined, 0, 1024, true);
  const options = detectOptionsFromFlags(values);
  const jsonFile = values.json as string | undefined;
  const outDir = values['out-dir'] as string | undefined;
  if (jsonFile !== undefined && jsonFile !== '-' && !fs.existsSync(path.dirname(path.resolve(jsonFile)))) {
    throw new UsageError(`--json: no such folder: ${path.dirname(path.resolve(jsonFile))}`);
  }
  // With --json - the report goes to stdout and the summary to stderr.
  const say = jsonFile === '-' ? process.stderr : out;

  const task = (values.task as string | undefined) ?? 'detection';
  if (task !== 'detection' && task !== 'recognition' && task !== 'ocr') {
    throw new UsageError(`--task expects detection, recognition or ocr, got '${task}'`);
  }
  if (task !== 'ocr') {
    for (const flag of ['join-gap', 'join-confidence'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for --task ocr`);
    }
  }
  if (task !== 'detection') {
    for (const flag of ['protocol', 'out-dir', 'worst'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for --task detection`);
    }
    const settings = {
      dir, model: values.model as string | undefined, recognizer: values.recognizer as string | undefined,
      margin: num('margin', values.margin as string | undefined, 0, 1),
      marginRetry: num('margin-retry', values['margin-retry'] as string | undefined, 0, 1), threads, limit, concurrency, jsonFile, values,
      inkCrop: onOff('ink-crop', values['ink-crop'] as string | undefined),
      orientationRetry: num('orientation-retry', values['orientation-retry'] as string | undefined, 0, 1),
      contrastRetry: num('contrast-retry', values['contrast-retry'] as string | undefined, 0, 1),
      stretchRetry: num('stretch-retry', values['stretch-retry'] as string | undefined, 0, 1),
      verticalRetry: onOff('vertical-retry', values['vertical-retry'] as string | undefined),
      ...lmFlags(values),
      joinGap: num('join-gap', values['join-gap'] as string | undefined, 0, 10),
      joinConfidence: num('join-confidence', values['join-confidence'] as string | undefined, 0, 1),
      allowlist: values.allowlist as string | undefined,
      blocklist: values.blocklist as string | undefined,
    };
    if (task === 'recognition') {
      if (values.model !== undefined) throw new UsageError('--task recognition reads ground-truth boxes: name the model with --recognizer');
      return runRecognitionEval(settings, out);
    }
    return runOcrEval(settings, out);
  }
  for (const flag of ['recognizer', 'margin', 'margin-retry', 'orientation-retry', 'contrast-retry', 'stretch-retry',
    'vertical-retry', 'ink-crop', 'allowlist', 'blocklist', 'decoder', 'language-model', 'lm-weight',
    'insertion-bonus'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is for --task recognition or ocr`);
  }

  const samples = await loadSamples(dir, limit);

  const model = values.model as string | undefined;
  const tCreate = performance.now();
  const detector = await Detector.create({ model, ...(threads !== undefined ? { threads } : {}) });
  const createMs = performance.now() - tCreate;
  const records: ImageRecord[] = [];
  let seconds = 0;
  try {
    const progress = createProgress(samples.length, { label: 'eval' });
    const t0 = performance.now();
    const results = await pool(samples, concurrency, async (s): Promise<ImageRecord> => {
      const image = path.relative(path.resolve(dir), s.imagePath) || path.basename(s.imagePath);
      const start = performance.now();
      try {
        const r = await detector.detect(s.imagePath, options);
        const ms = performance.now() - start;
        const usePolygons = options.polygons === true || options.refine === true;
        const detections = r.words.map((w) => ({
          points: (usePolygons && w.polygon ? w.polygon : w.box).map(([x, y]) => [round2(x), round2(y)] as [number, number]),
          score: Math.round(w.score * 1e4) / 1e4,
        }));
        return { image, width: r.width, height: r.height, ms: round2(ms), timings: r.timings, detections };
      } catch (err) {
        const e = err as Error & { code?: string };
        return { image, error: { code: e.code, message: e.message }, detections: [] };
      } finally {
        progress.tick(1, path.basename(s.imagePath));
      }
    });
    seconds = (performance.now() - t0) / 1000;
    progress.stop();
    records.push(...results);
  } finally {
    await detector.dispose();
  }

  const result = evaluate(samples.map((s, i) => ({ id: records[i].image, gt: s.words, det: records[i].detections })), { protocol });
  const errors = records.filter((r) => r.error);
  const ok = records.filter((r) => r.ms !== undefined);
  const latencies = ok.map((r) => r.ms!).sort((a, b) => a - b);
  const throughput = {
    images: samples.length, seconds: round2(seconds), imagesPerSecond: samples.length / seconds, concurrency,
    latencyMedianMs: latencies.length ? latencies[Math.floor(latencies.length / 2)] : null,
    stageMeanMs: Object.fromEntries((['decode', 'preprocess', 'inference', 'postprocess'] as const).map((k) =>
      [k, ok.length ? round2(ok.reduce((a, r) => a + r.timings![k], 0) / ok.length) : null])),
  };

  printSummary(say, dir, model, detector.info.onnxruntime.version, result, throughput, errors.length, createMs);
  for (const e of errors.slice(0, 10)) process.stderr.write(`  failed: ${e.image}: ${e.error!.code ?? 'Error'}: ${e.error!.message}\n`);
  if (errors.length > 10) process.stderr.write(`  ... and ${errors.length - 10} more failures (see the JSON report)\n`);

  if (outDir !== undefined) {
    await fsp.mkdir(outDir, { recursive: true });
    const order = rankWorst(result);
    const picked = order.slice(0, worst);
    await pool(picked, 2, async (i, rank) => {
      const pi = result.perImage[i];
      const name = `${String(rank + 1).padStart(3, '0')}_${path.parse(samples[i].imagePath).name}.png`;
      const caption = `#${rank + 1} ${records[i].image}  P ${pi.precision.toFixed(2)} R ${pi.recall.toFixed(2)} ` +
        `H ${pi.hmean.toFixed(2)}  (${pi.matched}/${pi.gtCount} GT, ${pi.detCount} det)` +
        (records[i].error ? `  ERROR ${records[i].error!.code}` : '');
      try {
        await writeEvalPicture(samples[i].imagePath, samples[i].words, records[i].detections, pi, caption, path.join(outDir, name));
      } catch (err) {
        process.stderr.write(`  could not draw ${records[i].image}: ${(err as Error).message}\n`);
      }
    });
    say.write(`wrote ${picked.length} pictures of the worst images to ${outDir}\n`);
  }

  if (jsonFile !== undefined) {
    const report = {
      dataset: path.resolve(dir),
      model: model ?? 'default',
      protocol,
      evalOptions: result.options,
      detectOptions: { ...detector.info.defaults, ...options },
      precision: result.precision, recall: result.recall, hmean: result.hmean,
      gtCount: result.gtCount, detCount: result.detCount, matched: result.matched,
      gtIgnored: result.gtIgnored, detIgnored: result.detIgnored,
      recallScore: result.recallScore, precisionScore: result.precisionScore,
      images: result.images, errors: errors.length,
      throughput,
      modelLoadMs: round2(createMs),
      environment: runEnvironment(detector.info, threads),
      perImage: result.perImage.map((pi, i) => {
        const { index: _index, id: _id, ...scores } = pi;
        const r = records[i];
        return {
          image: r.image, width: r.width, height: r.height, ms: r.ms, timings: r.timings,
          ...(r.error ? { error: r.error } : {}), ...scores, detections: r.detections,
        };
      }),
    };
    const text = JSON.stringify(report) + '\n';
    if (jsonFile === '-') out.write(text);
    else {
      await fsp.writeFile(jsonFile, text);
      say.write(`wrote ${jsonFile}\n`);
    }
  }
  return errors.length > 0 ? 1 : 0;
}

/** Image indices from worst to best: lowest H-mean, then most errors (missed GT + false detections). @private */
export function rankWorst(result: EvalResult): number[] {
  const errorsOf = (i: number) => result.perImage[i].unmatchedGt.length + result.perImage[i].unmatchedDet.length;
  return result.perImage.map((_, i) => i)
    .sort((a, b) => result.perImage[a].hmean - result.perImage[b].hmean || errorsOf(b) - errorsOf(a) || a - b);
}

function printSummary(
  out: NodeJS.WritableStream, dir: string, model: string | undefined, ortVersion: string, r: EvalResult,
  t: { images: number; seconds: number; imagesPerSecond: number; concurrency: number; latencyMedianMs: number | null },
  errors: number, createMs: number,
): void {
  const pct = (v: number) => (v * 100).toFixed(2) + ' %';
  const lines = [
    `dataset    ${dir} (${r.images} images)`,
    `model      ${model ?? 'default'} (loaded in ${createMs.toFixed(0)} ms, ONNX Runtime ${ortVersion})`,
    `protocol   ${r.protocol === 'iou' ? `ICDAR 2015 IoU (> ${r.options.iouThreshold}, one-to-one)` : `DetEval (area recall ${r.options.areaRecall}, area precision ${r.options.areaPrecision})`}`,
    `precision  ${pct(r.precision)}`,
    `recall     ${pct(r.recall)}`,
    `H-mean     ${pct(r.hmean)}`,
    `counts     ${r.matched} matched, ${r.gtCount} ground truth (+${r.gtIgnored} don't care), ${r.detCount} detections (+${r.detIgnored} discarded)`,
    `throughput ${t.imagesPerSecond.toFixed(2)} images/s (${t.images} images in ${t.seconds.toFixed(1)} s, ${t.concurrency} in flight, median latency ${t.latencyMedianMs?.toFixed(0) ?? '-'} ms)`,
  ];
  if (errors) lines.push(`failed     ${errors} image(s) could not be processed (scored with no detections)`);
  out.write(lines.join('\n') + '\n');
}
