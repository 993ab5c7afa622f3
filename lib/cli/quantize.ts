/*! craft-text | MIT */
// `craft-text quantize`: FP32 CRAFT or recogniser ONNX -> INT8 (static QDQ calibrated on images or word crops, or
// dynamic), in plain Node; optionally scores both models on annotated datasets and times them, interleaved, in the
// same run.
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { loadRecognitionDataset, toRegion } from '../eval/recognition';
import { compareModels, type CompareResult } from '../quantize/compare';
import { compareRecognizers, type RecognizerCompareResult } from '../quantize/compare-text';
import { OnnxModel } from '../quantize/graph';
import { modelTask, quantize, type CalibrationSample, type QuantizeReport } from '../quantize';
import { num, parse, UsageError } from './args';

export const QUANTIZE_USAGE = 'craft-text quantize <in.onnx> <out.onnx> [--calibrate <images-dir>] [--mode static|dynamic] ' +
  '[--method minmax|percentile] [--percentile p] [--calib-limit n] [--eval <dataset-dir>]... [--eval-limit n] ' +
  '[--max-hmean-drop d] [--max-accuracy-drop d] [--exclude <conv>,...] [--min-channels n] [--quantize-head] [--float-recurrent] ' +
  '[--reduce-range] [--per-tensor] [--threads n] ' +
  '[--canvas-size n] [--mag-ratio r] [--json <report.json>] [--quiet]';

const FLAGS = {
  calibrate: { type: 'string' },
  mode: { type: 'string' },
  method: { type: 'string' },
  percentile: { type: 'string' },
  'calib-limit': { type: 'string' },
  eval: { type: 'string', multiple: true },
  'eval-limit': { type: 'string' },
  'max-hmean-drop': { type: 'string' },
  'max-accuracy-drop': { type: 'string' },
  'float-recurrent': { type: 'boolean' },
  exclude: { type: 'string' },
  'quantize-head': { type: 'boolean' },
  'min-channels': { type: 'string' },
  'reduce-range': { type: 'boolean' },
  'per-tensor': { type: 'boolean' },
  threads: { type: 'string' },
  'canvas-size': { type: 'string' },
  'mag-ratio': { type: 'string' },
  json: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

const IMAGE_EXT = /\.(png|jpe?g|bmp|tiff?|webp|gif)$/i;

/** Image files of a folder (not recursive), sorted; at most `limit`, spread evenly over the sorted list. @private */
export function calibrationFiles(dir: string, limit: number): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UsageError(`--calibrate: no such folder: ${dir}`);
  }
  if (!st.isDirectory()) throw new UsageError(`--calibrate expects a folder of images, got ${dir}`);
  const files = fs.readdirSync(dir).filter((f) => IMAGE_EXT.test(f)).sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new UsageError(`--calibrate: no images (png, jpg, bmp, tiff, webp, gif) in ${dir}`);
  if (files.length <= limit) return files;
  return Array.from({ length: limit }, (_, i) => files[Math.floor((i * files.length) / limit)]);
}

/**
 * A recogniser's calibration set: a recognition set (a folder with labels.tsv, or a dataset with word boxes: its
 * words are cropped as recognize() crops them) or a folder of word-crop images; at most `limit` images, spread
 * evenly. @private
 */
export async function recognitionCalibration(dir: string, limit: number): Promise<{ inputs: (string | CalibrationSample)[]; names: string[] }> {
  const isRecognitionSet = ['labels.tsv', 'gt.jsonl', 'gt'].some((f) => fs.existsSync(path.join(dir, f)));
  if (!isRecognitionSet) {
    const files = calibrationFiles(dir, limit);
    return { inputs: files, names: files };
  }
  const all = await loadRecognitionDataset(dir);
  if (all.length === 0) throw new UsageError(`--calibrate: no words in ${dir}`);
  const pick = all.length <= limit ? all : Array.from({ length: limit }, (_, i) => all[Math.floor((i * all.length) / limit)]);
  return {
    inputs: pick.map((s) => (s.regions ? { image: s.imagePath, regions: s.regions.map(toRegion) } : s.imagePath)),
    names: pick.map((s) => s.imagePath),
  };
}

const pct = (v: number) => (v * 100).toFixed(2);

function printRecognizerComparison(out: NodeJS.WritableStream, c: RecognizerCompareResult): void {
  const [base, q] = c.rows;
  out.write(`\n${c.dataset} (${c.words} words in ${c.images} images, ${c.seconds.toFixed(0)} s, models interleaved per image, no rotation retry)\n`);
  out.write('  model   DTRB acc.  exact    1-NED    inference ms/word   recognize() ms/word\n');
  for (const r of c.rows) {
    out.write(`  ${r.label.padEnd(6)}  ${pct(r.accuracy).padStart(8)}  ${pct(r.exactAccuracy).padStart(6)}  ${r.oneMinusNed.toFixed(4)}   ` +
      `${r.inferenceMsPerWord.toFixed(3).padStart(9)}           ${r.totalMsPerWord.toFixed(3).padStart(9)}${r.errors ? `   (${r.errors} failed)` : ''}\n`);
  }
  out.write(`  INT8 reads the same string as FP32 for ${pct(q.agreement)} % of the words; accuracy delta ` +
    `${(q.accuracy - base.accuracy >= 0 ? '+' : '') + (q.accuracy - base.accuracy).toFixed(4)}; inference speed-up ` +
    `${(base.inferenceMsPerWord / q.inferenceMsPerWord).toFixed(2)}x\n`);
}

function printComparison(out: NodeJS.WritableStream, c: CompareResult): void {
  const [base, q] = c.rows;
  const s = c.speedup[1];
  out.write(`\n${c.dataset} (${c.images} images, ${c.seconds.toFixed(0)} s, models interleaved per image)\n`);
  out.write('  model   precision  recall   H-mean   inference ms (median / mean / p90)   detect() ms (median)\n');
  for (const r of c.rows) {
    out.write(`  ${r.label.padEnd(6)}  ${pct(r.precision).padStart(8)}  ${pct(r.recall).padStart(6)}  ${pct(r.hmean).padStart(7)}   ` +
      `${r.inference.median.toFixed(1).padStart(8)} / ${r.inference.mean.toFixed(1).padStart(8)} / ${r.inference.p90.toFixed(1).padStart(8)}` +
      `          ${r.total.median.toFixed(1).padStart(8)}${r.errors ? `   (${r.errors} failed)` : ''}\n`);
  }
  out.write(`  INT8 vs FP32 detections (FP32 as ground truth): P ${pct(q.agreement.precision)} R ${pct(q.agreement.recall)} ` +
    `H-mean ${pct(q.agreement.hmean)}\n`);
  out.write(`  H-mean delta ${(q.hmean - base.hmean >= 0 ? '+' : '') + (q.hmean - base.hmean).toFixed(4)}; ` +
    `inference speed-up ${s.medianRatio.toFixed(2)}x (median per image), ${s.sumRatio.toFixed(2)}x (total); ` +
    `detect() ${s.totalSumRatio.toFixed(2)}x\n`);
}

/**
 * Runs `craft-text quantize`. Exit code 0; 1 when --max-hmean-drop (CRAFT) or --max-accuracy-drop (recogniser) is
 * exceeded on a dataset (the model is written).
 */
export async function runQuantize(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, FLAGS);
  if (positionals.length !== 2) {
    throw new UsageError(positionals.length < 2 ? 'quantize needs an input and an output model' : `expected 2 paths, got ${positionals.length}`);
  }
  const [input, output] = positionals;
  if (!fs.existsSync(input)) throw new UsageError(`no such model: ${input}`);
  if (path.resolve(input) === path.resolve(output)) throw new UsageError('the output would overwrite the input');
  const mode = (v.mode as string | undefined) ?? 'static';
  if (mode !== 'static' && mode !== 'dynamic') throw new UsageError(`--mode expects static or dynamic, got '${mode}'`);
  const method = (v.method as string | undefined) ?? 'minmax';
  if (method !== 'percentile' && method !== 'minmax') throw new UsageError(`--method expects minmax or percentile, got '${method}'`);
  const percentile = num('percentile', v.percentile as string | undefined, 90, 100);
  const calibLimit = num('calib-limit', v['calib-limit'] as string | undefined, 1, 100000, true) ?? 64;
  const evalLimit = num('eval-limit', v['eval-limit'] as string | undefined, 1, Number.MAX_SAFE_INTEGER, true);
  const maxDrop = num('max-hmean-drop', v['max-hmean-drop'] as string | undefined, 0, 1);
  const maxAccDrop = num('max-accuracy-drop', v['max-accuracy-drop'] as string | undefined, 0, 1);
  const minChannels = num('min-channels', v['min-channels'] as string | undefined, 0, 1 << 20, true);
  const threads = num('threads', v.threads as string | undefined, 0, 1024, true);
  const canvasSize = num('canvas-size', v['canvas-size'] as string | undefined, 32, 32768, true);
  const magRatio = num('mag-ratio', v['mag-ratio'] as string | undefined, 0.01, 32);
  const evalDirs = (v.eval as unknown as string[] | undefined) ?? [];
  for (const d of evalDirs) if (!fs.existsSync(d)) throw new UsageError(`--eval: no such dataset: ${d}`);
  let task: 'detection' | 'recognition';
  try {
    task = modelTask(OnnxModel.parse(await fsp.readFile(input)));
  } catch (err) {
    throw new UsageError(`cannot read the model ${input}: ${(err as Error).message}`);
  }
  const recognition = task === 'recognition';
  if (recognition && (canvasSize !== undefined || magRatio !== undefined)) {
    throw new UsageError('--canvas-size and --mag-ratio are for CRAFT models; this model is a recogniser');
  }
  if (recognition && maxDrop !== undefined) throw new UsageError('--max-hmean-drop is for CRAFT models: use --max-accuracy-drop');
  if (!recognition && maxAccDrop !== undefined) throw new UsageError('--max-accuracy-drop is for recognisers: use --max-hmean-drop');
  if (mode === 'static' && v.calibrate === undefined) {
    throw new UsageError(recognition
      ? 'static quantization needs --calibrate <word crops: a folder of images, or one with labels.tsv, or a dataset with word boxes> ' +
        '(or --mode dynamic, which needs none but is slower on CPUs)'
      : 'static quantization needs --calibrate <folder of images like the ones you will detect on> ' +
        '(or --mode dynamic, which needs none but is slower on CPUs)');
  }
  if (mode === 'dynamic' && v.calibrate !== undefined) throw new UsageError('--calibrate is for --mode static');
  const cal = mode !== 'static' ? undefined : recognition
    ? await recognitionCalibration(v.calibrate as string, v['calib-limit'] === undefined ? 256 : calibLimit)
    : { inputs: calibrationFiles(v.calibrate as string, calibLimit), names: [] as string[] };
  const calibration = cal?.inputs;
  if (cal && !recognition) cal.names = cal.inputs as string[];
  const jsonFile = v.json as string | undefined;
  const quiet = v.quiet === true;
  const say = (s: string) => { if (!quiet) process.stdout.write(s); };
  const detectOptions = { ...(canvasSize !== undefined ? { canvasSize } : {}), ...(magRatio !== undefined ? { magRatio } : {}) };

  const t0 = performance.now();
  const tty = process.stderr.isTTY && !quiet;
  const { onnx, report } = await quantize(input, {
    mode, method, ...(percentile !== undefined ? { percentile } : {}), calibration,
    exclude: v.exclude === undefined ? undefined : (v.exclude as string).split(',').map((s) => s.trim()).filter(Boolean),
    keepHeadFloat: v['quantize-head'] !== true,
    ...(minChannels !== undefined ? { minChannels } : {}),
    reduceRange: v['reduce-range'] === true,
    perChannel: v['per-tensor'] !== true,
    ...(threads !== undefined ? { threads } : {}),
    ...(recognition ? {} : { detectOptions }),
    ...(v['float-recurrent'] === true ? { recurrent: 'float' as const } : {}),
    onProgress: tty ? (d, n) => process.stderr.write(`\rcalibrating ${d}/${n}`) : undefined,
  });
  if (tty) process.stderr.write('\n');
  const tmp = `${output}.${process.pid}.tmp`;
  try {
    await fsp.writeFile(tmp, onnx);
    await fsp.rename(tmp, output);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  say(describe(input, output, report, (performance.now() - t0) / 1000));
  for (const s of report.calibrationSkipped ?? []) {
    process.stderr.write(`  calibration image skipped: ${cal!.names[s.index]}: ${s.reason}\n`);
  }

  const comparisons: (CompareResult | RecognizerCompareResult)[] = [];
  let exit = 0;
  for (const dir of recognition ? evalDirs : []) {
    const c = await compareRecognizers([{ label: 'fp32', model: input }, { label: 'int8', model: output }], dir, {
      limit: evalLimit, ...(threads !== undefined ? { threads } : {}),
      onProgress: tty ? (d, n) => process.stderr.write(`\r${path.basename(dir)} ${d}/${n}`) : undefined,
    });
    if (tty) process.stderr.write('\n');
    comparisons.push(c);
    if (!quiet) printRecognizerComparison(process.stdout, c);
    const drop = c.rows[0].accuracy - c.rows[1].accuracy;
    if (maxAccDrop !== undefined && drop > maxAccDrop) {
      process.stderr.write(`craft-text quantize: accuracy drops by ${drop.toFixed(4)} on ${dir} (more than --max-accuracy-drop ${maxAccDrop})\n`);
      exit = 1;
    }
  }
  for (const dir of recognition ? [] : evalDirs) {
    const c = await compareModels([{ label: 'fp32', model: input }, { label: 'int8', model: output }], dir, {
      limit: evalLimit, detectOptions, ...(threads !== undefined ? { threads } : {}),
      onProgress: tty ? (d, n) => process.stderr.write(`\r${path.basename(dir)} ${d}/${n}`) : undefined,
    });
    if (tty) process.stderr.write('\n');
    comparisons.push(c);
    if (!quiet) printComparison(process.stdout, c);
    const drop = c.rows[0].hmean - c.rows[1].hmean;
    if (maxDrop !== undefined && drop > maxDrop) {
      process.stderr.write(`craft-text quantize: H-mean drops by ${drop.toFixed(4)} on ${dir} (more than --max-hmean-drop ${maxDrop})\n`);
      exit = 1;
    }
  }
  if (jsonFile !== undefined) {
    await fsp.writeFile(jsonFile, JSON.stringify({ input, output, report, comparisons }, null, 1) + '\n');
    say(`wrote ${jsonFile}\n`);
  }
  return exit;
}

function describe(input: string, output: string, r: QuantizeReport, secs: number): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  const lines = [
    `${input} (${mb(r.bytesIn)}) -> ${output} (${mb(r.bytesOut)}) in ${secs.toFixed(1)} s`,
    r.mode === 'static'
      ? `static QDQ: ${r.rewrite.quantizedConvs} convolutions int8, ${r.rewrite.quantizedTensors} activations uint8 ` +
        `(${r.method}${r.method === 'percentile' ? ` ${r.percentile}` : ''} over ` +
        `${r.task === 'recognition' ? `${r.calibrationCrops} word crops in ` : ''}${r.calibrationImages} images, ` +
        `${((r.calibrationMs ?? 0) / 1000).toFixed(1)} s), ${r.rewrite.foldedRelus} ReLUs folded`
      : `dynamic: ${r.rewrite.quantizedConvs} convolutions -> ConvInteger`,
  ];
  if (r.recurrent.lstms + r.recurrent.matmuls > 0) {
    lines.push(`dynamic int8: ${r.recurrent.lstms} LSTM -> DynamicQuantizeLSTM, ${r.recurrent.matmuls} MatMul -> DynamicQuantizeMatMul`);
  }
  if (r.rewrite.floatConvs.length) {
    lines.push(`kept in float: ${r.rewrite.floatConvs.map((f) => `${f.name} (${f.why})`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
