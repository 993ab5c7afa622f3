/*! craft-text | MIT */
// INT8 quantization of a CRAFT ONNX model in plain Node (no Python): static QDQ with ranges calibrated on images run
// through the detector itself (same decoding and pre-processing as at inference time), or dynamic (ConvInteger).
import { readRegularFile } from '../files';
import { Detector } from '../detector';
import type { DetectOptions, ImageInput } from '../types';
import { QuantizeError } from './errors';
import { OnnxModel } from './graph';
import {
  activationParams, applyDynamic, applyQdq, calibrationModel, planQuantization, statsPerTensor,
  type QuantPlan, type Range, type RewriteInfo,
} from './rewrite';

export { QuantizeError, QUANTIZE_ERROR_CODE } from './errors';
export type { Range, RewriteInfo } from './rewrite';

/** How calibrated ranges are derived from the per-image statistics. */
export type CalibrationMethod = 'minmax' | 'percentile';

export interface QuantizeOptions {
  /** 'static' (QDQ, needs `calibration`; fast on CPUs) or 'dynamic' (ConvInteger, no calibration). Default 'static'. */
  mode?: 'static' | 'dynamic';
  /** Calibration images (paths or encoded bytes), for 'static'. A few dozen representative images are enough. */
  calibration?: ImageInput[];
  /**
   * 'minmax' (default): the smallest/largest value seen over all calibration images. 'percentile': per image, the
   * values with `percentile` % of the tensor below (above for the low end), averaged over the images: clips rare
   * outliers, which buys resolution for the bulk of the values. CRAFT's character peaks are such rare values:
   * clipping them cost H-mean in our measurements (docs/serving.md), so minmax is the default.
   */
  method?: CalibrationMethod;
  /** Percentile for method 'percentile' (90 … 100). Default 99.999. */
  percentile?: number;
  /** Pre-processing of the calibration images (default: the model's own canvasSize/magRatio, as detect() uses). */
  detectOptions?: Pick<DetectOptions, 'canvasSize' | 'magRatio'>;
  /** Conv node names (or their output tensor names) to keep in float. */
  exclude?: string[];
  /** Keep convolutions that feed a model output directly (the 1x1 score head) in float. Default true. */
  keepHeadFloat?: boolean;
  /** Keep convolutions with fewer input or output channels than this in float (default 16; 0 quantizes all). */
  minChannels?: number;
  /** 7-bit weights, for CPUs without VNNI (AVX2/AVX-512 without VNNI can saturate u8s8 products). Default false. */
  reduceRange?: boolean;
  /** Per-output-channel weight scales. Default true. */
  perChannel?: boolean;
  /** ONNX Runtime threads for the calibration runs (0 = ORT's default). */
  threads?: number;
  /** Called after each calibration image. */
  onProgress?: (done: number, total: number) => void;
}

export interface QuantizeReport {
  mode: 'static' | 'dynamic';
  method?: CalibrationMethod;
  percentile?: number;
  calibrationImages?: number;
  /** Calibration images that could not be used (decode errors, too small), with the reason. */
  calibrationSkipped?: { index: number; reason: string }[];
  calibrationMs?: number;
  rewrite: RewriteInfo;
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

/**
 * Measures, for every tensor the plan quantizes with its own range, per-image statistics on the calibration images
 * (by running a calibration copy of the model through the detector), and reduces them to one range per tensor.
 */
export async function calibrate(bytes: Uint8Array, plan: QuantPlan, images: ImageInput[], opts: QuantizeOptions = {}):
  Promise<{ ranges: Map<string, Range>; used: number; skipped: { index: number; reason: string }[]; ms: number }> {
  const t0 = performance.now();
  const method = opts.method ?? 'minmax';
  const percentile = opts.percentile ?? 99.999;
  const tails = method === 'percentile' ? TAILS_FOR(percentile) : [];
  const per = statsPerTensor(tails);
  const tensors = plan.calibrated;
  const calib = calibrationModel(bytes, tensors, tails);
  const detector = await Detector.create({ model: calib, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
  const stats: Float64Array[] = []; // per image: tensors x per
  const skipped: { index: number; reason: string }[] = [];
  try {
    const detectOptions: DetectOptions = {
      ...opts.detectOptions, heatmaps: true, tiling: 'off', textThreshold: 1, lowText: 1, linkThreshold: 1,
    };
    for (let i = 0; i < images.length; i++) {
      try {
        const r = await detector.detect(images[i], detectOptions);
        const need = tensors.length * per;
        const hm = r.heatmaps!;
        if (hm.region.length * 2 < need) {
          skipped.push({ index: i, reason: `too small: its ${hm.width}x${hm.height} score map holds fewer than ${need} values` });
          continue;
        }
        const s = new Float64Array(need);
        for (let j = 0; j < need; j++) s[j] = j % 2 === 0 ? hm.region[j >> 1] : hm.affinity[j >> 1];
        stats.push(s);
      } catch (err) {
        const e = err as Error & { code?: string };
        skipped.push({ index: i, reason: `${e.code ? e.code + ': ' : ''}${e.message}` });
      }
      opts.onProgress?.(i + 1, images.length);
    }
  } finally {
    await detector.dispose();
  }
  if (stats.length === 0) {
    throw new QuantizeError(`no usable calibration image (of ${images.length})${skipped.length ? `: ${skipped[0].reason}` : ''}`);
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
  return { ranges, used: stats.length, skipped, ms: performance.now() - t0 };
}

/**
 * Quantizes a CRAFT ONNX model (path or bytes) to INT8. Static mode (default) calibrates on `calibration` images;
 * dynamic mode needs none but is slower than FP32 on CPUs for convolutional networks (docs/serving.md).
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
  const bytes = await bytesOf(model);
  const m = OnnxModel.parse(bytes);
  const plan = planQuantization(m, { exclude: options.exclude, keepHeadFloat: options.keepHeadFloat, minChannels: options.minChannels });
  if (plan.convs.length === 0) throw new QuantizeError('no convolution of this model can be quantized');
  const opts = { reduceRange: options.reduceRange, perChannel: options.perChannel };
  const wbits = options.reduceRange ? '7-bit' : '8-bit';
  if (mode === 'dynamic') {
    const rewrite = applyDynamic(m, plan, opts);
    producerMetadata(m, `dynamic ConvInteger, int8 ${options.perChannel === false ? 'per-tensor' : 'per-channel'} ${wbits} weights`);
    const onnx = m.serialize();
    return { onnx, report: { mode, rewrite, bytesIn: bytes.length, bytesOut: onnx.length } };
  }
  const images = options.calibration ?? [];
  if (!Array.isArray(images) || images.length === 0) {
    throw new QuantizeError('static quantization needs calibration images (a few dozen like the ones you will detect on)');
  }
  const cal = await calibrate(bytes, plan, images, { ...options, method, percentile });
  const rewrite = applyQdq(m, plan, cal.ranges, opts);
  producerMetadata(m, `static QDQ, uint8 activations (${method}${method === 'percentile' ? ` ${percentile}` : ''}, ` +
    `${cal.used} images), int8 ${options.perChannel === false ? 'per-tensor' : 'per-channel'} ${wbits} weights`);
  const onnx = m.serialize();
  const ranges: QuantizeReport['ranges'] = {};
  for (const [t, r] of cal.ranges) ranges[t] = { ...r, ...activationParams(r) };
  return {
    onnx,
    report: {
      mode, method, ...(method === 'percentile' ? { percentile } : {}), calibrationImages: cal.used,
      calibrationSkipped: cal.skipped, calibrationMs: cal.ms, rewrite, ranges, bytesIn: bytes.length, bytesOut: onnx.length,
    },
  };
}
