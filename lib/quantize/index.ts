/*! craft-text | MIT */
// INT8 quantization of a craft-text ONNX model in plain Node (no Python): static QDQ with ranges calibrated on
// images run through the model's own runtime class (the Detector for CRAFT, the Recognizer for a recogniser:
// same decoding and pre-processing as at inference time), or dynamic (ConvInteger).
import { readRegularFile } from '../files';
import { Detector } from '../detector';
import { Recognizer } from '../recognizer';
import type { DetectOptions, ImageInput, RegionInput } from '../types';
import { QuantizeError } from './errors';
import { OnnxModel } from './graph';
import {
  activationParams, applyDynamic, applyQdq, calibrationModel, planQuantization, statsPerTensor,
  applyDynamicRecurrent, type QuantPlan, type Range, type RecurrentInfo, type RewriteInfo,
} from './rewrite';

export { QuantizeError, QUANTIZE_ERROR_CODE } from './errors';
export type { Range, RecurrentInfo, RewriteInfo } from './rewrite';

/** How calibrated ranges are derived from the per-image statistics. */
export type CalibrationMethod = 'minmax' | 'percentile';

/**
 * A recogniser's calibration input: an image and the word regions in it (default: the whole image is one word).
 * CRAFT calibration reads `image` only.
 */
export interface CalibrationSample {
  image: ImageInput;
  regions?: readonly RegionInput[];
}

/** What the model is, from its `craft.task` metadata: a recogniser, or (anything else) a CRAFT detector. */
export type QuantizeTask = 'detection' | 'recognition';

export interface QuantizeOptions {
  /** 'static' (QDQ, needs `calibration`; fast on CPUs) or 'dynamic' (ConvInteger, no calibration). Default 'static'. */
  mode?: 'static' | 'dynamic';
  /**
   * Calibration inputs, for 'static'. CRAFT: images (paths, bytes, pixels) like the pages you will detect on, a few
   * dozen are enough. A recogniser: word crops (images) or { image, regions } samples (words at boxes in a page),
   * each word cropped and pre-processed as recognize() does; a few hundred words.
   */
  calibration?: (ImageInput | CalibrationSample)[];
  /**
   * 'minmax' (default): the smallest/largest value seen over all calibration images. 'percentile': per image, the
   * values with `percentile` % of the tensor below (above for the low end), averaged over the images: clips rare
   * outliers, which buys resolution for the bulk of the values. CRAFT's character peaks are such rare values:
   * clipping them cost H-mean in our measurements (docs/serving.md), so minmax is the default.
   */
  method?: CalibrationMethod;
  /** Percentile for method 'percentile' (90 … 100). Default 99.999. */
  percentile?: number;
  /** CRAFT only: pre-processing of the calibration images (default: the model's own canvasSize/magRatio, as detect() uses). */
  detectOptions?: Pick<DetectOptions, 'canvasSize' | 'magRatio'>;
  /** Conv node names (or their output tensor names) to keep in float. */
  exclude?: string[];
  /** Keep convolutions that feed a model output directly (the 1x1 score head) in float. Default true. */
  keepHeadFloat?: boolean;
  /**
   * Keep convolutions with fewer input or output channels than this in float (0 quantizes all). Default 16 for CRAFT
   * (its narrow layers ran slower in int8), 0 for recognisers (the bundled CRNN's 1 -> 16 first convolution runs
   * faster in int8: docs/recognition.md).
   */
  minChannels?: number;
  /** 7-bit weights, for CPUs without VNNI (AVX2/AVX-512 without VNNI can saturate u8s8 products). Default false. */
  reduceRange?: boolean;
  /** Per-output-channel weight scales. Default true. */
  perChannel?: boolean;
  /**
   * LSTMs and MatMuls with constant weights (a recogniser's BiLSTMs and linear layers): 'dynamic' (default) = int8
   * weights, activations quantized per run (ONNX Runtime's DynamicQuantizeLSTM / DynamicQuantizeMatMul); 'float' =
   * left as they are.
   */
  recurrent?: 'dynamic' | 'float';
  /** ONNX Runtime threads for the calibration runs (0 = ORT's default). */
  threads?: number;
  /** Called after each calibration image (sample). */
  onProgress?: (done: number, total: number) => void;
}

export interface QuantizeReport {
  /** The model's task (`craft.task` = 'recognition', else detection). */
  task: QuantizeTask;
  mode: 'static' | 'dynamic';
  method?: CalibrationMethod;
  percentile?: number;
  calibrationImages?: number;
  /** Recognisers: the word crops measured (over `calibrationImages` images). */
  calibrationCrops?: number;
  /** Calibration images that could not be used (decode errors, too small), with the reason. */
  calibrationSkipped?: { index: number; reason: string }[];
  calibrationMs?: number;
  rewrite: RewriteInfo;
  /** LSTMs and MatMuls made dynamic INT8 (`recurrent: 'dynamic'`). */
  recurrent: RecurrentInfo;
  /** Calibrated range and the resulting uint8 parameters of every activation (static). */
  ranges?: Record<string, Range & { scale: number; zeroPoint: number }>;
  bytesIn: number;
  bytesOut: number;
}

/** Tail fractions measured per image (two percentile levels are enough to choose from later). */
const TAILS_FOR = (percentile: number): number[] => [Math.max(0, (100 - percentile) / 100)];

async function bytesOf(model: Uint8Array | string): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string') throw new TypeError('model must be a path or a Uint8Array');
  try {
    return await readRegularFile(model);
  } catch (err) {
    throw new QuantizeError(`cannot read the model '${model}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function producerMetadata(m: OnnxModel, desc: string): void {
  m.metadata.set('craft.quantization', desc);
}

/** The task a model declares: `craft.task` = 'recognition' is a recogniser, anything else CRAFT. */
export function modelTask(m: OnnxModel): QuantizeTask {
  return m.metadata.get('craft.task') === 'recognition' ? 'recognition' : 'detection';
}

function isSample(x: unknown): x is CalibrationSample {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !(x instanceof ArrayBuffer) && 'image' in x;
}

type Measured = { stats: Float64Array[]; skipped: { index: number; reason: string }[]; crops: number };

/** CRAFT: the calibration model's statistics ride in the first values of its score maps (`heatmaps`). */
async function measureDetector(calib: Uint8Array, inputs: (ImageInput | CalibrationSample)[], need: number,
  opts: QuantizeOptions): Promise<Measured> {
  const detector = await Detector.create({ model: calib, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
  const out: Measured = { stats: [], skipped: [], crops: 0 };
  try {
    const detectOptions: DetectOptions = {
      ...opts.detectOptions, heatmaps: true, tiling: 'off', textThreshold: 1, lowText: 1, linkThreshold: 1,
    };
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      try {
        const r = await detector.detect(isSample(x) ? x.image : x, detectOptions);
        const hm = r.heatmaps!;
        if (hm.region.length * 2 < need) {
          out.skipped.push({ index: i, reason: `too small: its ${hm.width}x${hm.height} score map holds fewer than ${need} values` });
        } else {
          const s = new Float64Array(need);
          for (let j = 0; j < need; j++) s[j] = j % 2 === 0 ? hm.region[j >> 1] : hm.affinity[j >> 1];
          out.stats.push(s);
        }
      } catch (err) {
        const e = err as Error & { code?: string };
        out.skipped.push({ index: i, reason: `${e.code ? e.code + ': ' : ''}${e.message}` });
      }
      opts.onProgress?.(i + 1, inputs.length);
    }
  } finally {
    await detector.dispose();
  }
  return out;
}

/**
 * A recogniser: each word runs alone (batchSize 1, no rotation retry), so the first values of its logits carry the
 * statistics of its own crop, cut and pre-processed by the Recognizer exactly as recognize() does.
 */
async function measureRecognizer(calib: Uint8Array, inputs: (ImageInput | CalibrationSample)[], need: number,
  opts: QuantizeOptions): Promise<Measured> {
  const recognizer = await Recognizer.create({ model: calib, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
  const out: Measured = { stats: [], skipped: [], crops: 0 };
  try {
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      try {
        const words = await recognizer.recognize(isSample(x) ? x.image : x, isSample(x) ? x.regions : undefined,
          { logits: true, batchSize: 1, rotationRetryThreshold: 0, marginRetryThreshold: 0, orientationRetryThreshold: 0,
            stretchRetryThreshold: 0 });
        let used = 0;
        for (const w of words) {
          if (!w.logits) continue; // skipped region (degenerate, outside)
          if (w.logits.length < need) continue;
          out.stats.push(Float64Array.from(w.logits.subarray(0, need)));
          used++;
        }
        out.crops += used;
        if (used === 0) {
          out.skipped.push({ index: i, reason: words.length === 0 ? 'no regions' :
            `no usable word: ${words.some((w) => w.logits) ? `its output holds fewer than ${need} values` : 'every region was skipped'}` });
        }
      } catch (err) {
        const e = err as Error & { code?: string };
        out.skipped.push({ index: i, reason: `${e.code ? e.code + ': ' : ''}${e.message}` });
      }
      opts.onProgress?.(i + 1, inputs.length);
    }
  } finally {
    await recognizer.dispose();
  }
  return out;
}

/**
 * Measures, for every tensor the plan quantizes with its own range, per-input statistics on the calibration set
 * (by running a calibration copy of the model through the detector or the recogniser, per `task`), and reduces
 * them to one range per tensor.
 */
export async function calibrate(bytes: Uint8Array, plan: QuantPlan, inputs: (ImageInput | CalibrationSample)[],
  opts: QuantizeOptions = {}, task: QuantizeTask = 'detection'):
  Promise<{ ranges: Map<string, Range>; used: number; crops: number; skipped: { index: number; reason: string }[]; ms: number }> {
  const t0 = performance.now();
  const method = opts.method ?? 'minmax';
  const percentile = opts.percentile ?? 99.999;
  const tails = method === 'percentile' ? TAILS_FOR(percentile) : [];
  const per = statsPerTensor(tails);
  const tensors = plan.calibrated;
  const calib = calibrationModel(bytes, tensors, tails);
  const need = tensors.length * per;
  const { stats, skipped, crops } = await (task === 'recognition' ? measureRecognizer : measureDetector)(calib, inputs, need, opts);
  if (stats.length === 0) {
    throw new QuantizeError(`no usable calibration image (of ${inputs.length})${skipped.length ? `: ${skipped[0].reason}` : ''}`);
  }
  const ranges = new Map<string, Range>();
  tensors.forEach((t, k) => {
    const o = k * per;
    if (method === 'minmax') {
      let lo = Infinity, hi = -Infinity;
      for (const s of stats) { lo = Math.min(lo, s[o]); hi = Math.max(hi, s[o + 1]); }
      ranges.set(t, { lo, hi });
    } else {
      let lo = 0, hi = 0;
      for (const s of stats) { lo += s[o + 2]; hi += s[o + 3]; }
      ranges.set(t, { lo: lo / stats.length, hi: hi / stats.length });
    }
  });
  return { ranges, used: inputs.length - skipped.length, crops, skipped, ms: performance.now() - t0 };
}

/**
 * Quantizes a CRAFT or recogniser ONNX model (path or bytes) to INT8; every `craft.*` metadata entry is kept and
 * `craft.quantization` says what was done. Static mode (default) calibrates on `calibration` inputs (pages for
 * CRAFT, word crops for a recogniser, whose recurrent and linear layers stay float); dynamic mode needs none but is
 * slower than FP32 on CPUs for convolutional networks (docs/serving.md).
 * Rejects with a QuantizeError (code ERR_CRAFT_QUANTIZE) when the model or the calibration set can't be used.
 */
export async function quantize(model: Uint8Array | string, options: QuantizeOptions = {}):
  Promise<{ onnx: Uint8Array; report: QuantizeReport }> {
  const mode = options.mode ?? 'static';
  if (mode !== 'static' && mode !== 'dynamic') throw new RangeError(`mode must be 'static' or 'dynamic', got ${String(mode)}`);
  const method = options.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile') throw new RangeError(`method must be 'minmax' or 'percentile', got ${String(method)}`);
  const percentile = options.percentile ?? 99.999;
  if (!(percentile >= 90 && percentile <= 100)) throw new RangeError(`percentile must be between 90 and 100, got ${percentile}`);
  const recurrentMode = options.recurrent ?? 'dynamic';
  if (recurrentMode !== 'dynamic' && recurrentMode !== 'float') {
    throw new RangeError(`recurrent must be 'dynamic' or 'float', got ${String(recurrentMode)}`);
  }
  const recurrentOf = (m: OnnxModel): { info: RecurrentInfo; desc: string } => {
    const info = recurrentMode === 'dynamic' ? applyDynamicRecurrent(m) : { lstms: 0, matmuls: 0 };
    const parts = [info.lstms ? `${info.lstms} LSTM` : '', info.matmuls ? `${info.matmuls} MatMul` : ''].filter(Boolean);
    return { info, desc: parts.length ? `; dynamic int8 ${parts.join(' + ')}` : '' };
  };
  const bytes = await bytesOf(model);
  const m = OnnxModel.parse(bytes);
  const task = modelTask(m);
  if (task === 'recognition' && options.detectOptions !== undefined) {
    throw new TypeError('detectOptions is for CRAFT models; this model is a recogniser (craft.task = recognition)');
  }
  const plan = planQuantization(m, {
    exclude: options.exclude, keepHeadFloat: options.keepHeadFloat,
    minChannels: options.minChannels ?? (task === 'recognition' ? 0 : undefined),
  });
  if (plan.convs.length === 0) throw new QuantizeError('no convolution of this model can be quantized');
  const opts = { reduceRange: options.reduceRange, perChannel: options.perChannel };
  const wbits = options.reduceRange ? '7-bit' : '8-bit';
  if (mode === 'dynamic') {
    const rewrite = applyDynamic(m, plan, opts);
    const rec = recurrentOf(m);
    producerMetadata(m, `dynamic ConvInteger, int8 ${options.perChannel === false ? 'per-tensor' : 'per-channel'} ${wbits} weights${rec.desc}`);
    const onnx = m.serialize();
    return { onnx, report: { task, mode, rewrite, recurrent: rec.info, bytesIn: bytes.length, bytesOut: onnx.length } };
  }
  const images = options.calibration ?? [];
  if (!Array.isArray(images) || images.length === 0) {
    throw new QuantizeError(task === 'recognition'
      ? 'static quantization needs calibration word crops (a few hundred like the words you will read)'
      : 'static quantization needs calibration images (a few dozen like the ones you will detect on)');
  }
  const cal = await calibrate(bytes, plan, images, { ...options, method, percentile }, task);
  const rewrite = applyQdq(m, plan, cal.ranges, opts);
  const rec = recurrentOf(m);
  producerMetadata(m, `static QDQ, uint8 activations (${method}${method === 'percentile' ? ` ${percentile}` : ''}, ` +
    `${task === 'recognition' ? `${cal.crops} word crops` : `${cal.used} images`}), int8 ${options.perChannel === false ? 'per-tensor' : 'per-channel'} ${wbits} weights${rec.desc}`);
  const onnx = m.serialize();
  const ranges: QuantizeReport['ranges'] = {};
  for (const [t, r] of cal.ranges) ranges[t] = { ...r, ...activationParams(r) };
  return {
    onnx,
    report: {
      task, mode, method, ...(method === 'percentile' ? { percentile } : {}), calibrationImages: cal.used,
      ...(task === 'recognition' ? { calibrationCrops: cal.crops } : {}),
      calibrationSkipped: cal.skipped, calibrationMs: cal.ms, rewrite, recurrent: rec.info, ranges, bytesIn: bytes.length, bytesOut: onnx.length,
    },
  };
}
