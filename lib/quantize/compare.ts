/*! craft-text | MIT */
// Accuracy and speed of several models on one annotated dataset, in one run: every image goes through every model
// back to back (the order rotates per image), so machine load drifts hit all models alike.
import { Detector } from '../detector';
import { evaluate, loadDataset, type Detection } from '../eval';
import type { DetectOptions } from '../types';

export interface CompareModel {
  label: string;
  model: string | Uint8Array;
}

export interface TimingSummary {
  /** Milliseconds per image. */
  median: number;
  mean: number;
  p90: number;
}

export interface CompareRow {
  label: string;
  precision: number;
  recall: number;
  hmean: number;
  /** Model run time per image (timings.inference). */
  inference: TimingSummary;
  /** Whole detect() per image (decode + pre-processing + inference + post-processing). */
  total: TimingSummary;
  errors: number;
  /**
   * The first model's detections taken as ground truth (same protocol): how far this model's output is from the
   * baseline's, whatever the baseline's own accuracy. 1 for the baseline itself.
   */
  agreement: { precision: number; recall: number; hmean: number };
}

export interface CompareResult {
  dataset: string;
  images: number;
  rows: CompareRow[];
  /**
   * Speed-up of each model over the first (baseline): median over images of baseline inference time / model
   * inference time (paired per image), and the ratio of the summed inference times.
   */
  speedup: { label: string; medianRatio: number; sumRatio: number; totalSumRatio: number }[];
  seconds: number;
}

function summary(v: number[]): TimingSummary {
  const s = [...v].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0);
  return { median: q(0.5), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), p90: q(0.9) };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Detects every image of `dataset` with every model (interleaved), scores each with the ICDAR 2015 IoU protocol. */
export async function compareModels(models: CompareModel[], dataset: string, opts: {
  limit?: number; threads?: number; detectOptions?: DetectOptions; onProgress?: (done: number, total: number) => void;
} = {}): Promise<CompareResult> {
  let samples = await loadDataset(dataset);
  if (opts.limit !== undefined) samples = samples.slice(0, opts.limit);
  if (samples.length === 0) throw new Error(`no images in ${dataset}`);
  const detectors: Detector[] = [];
  try {
    for (const m of models) {
      detectors.push(await Detector.create({ model: m.model, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) }));
    }
    // warm-up: first runs allocate and tune
    for (const d of detectors) await d.detect(samples[0].imagePath, opts.detectOptions).catch(() => undefined);
    const dets: Detection[][][] = models.map(() => []);
    const inf: number[][] = models.map(() => []);
    const tot: number[][] = models.map(() => []);
    const errors = models.map(() => 0);
    const t0 = performance.now();
    for (let i = 0; i < samples.length; i++) {
      for (let k = 0; k < models.length; k++) {
        const j = (i + k) % models.length;
        const start = performance.now();
        try {
          const r = await detectors[j].detect(samples[i].imagePath, opts.detectOptions);
          tot[j][i] = performance.now() - start;
          inf[j][i] = r.timings.inference;
          dets[j][i] = r.words.map((w) => ({ points: w.box, score: w.score }));
        } catch {
          errors[j]++;
          dets[j][i] = [];
          inf[j][i] = NaN;
          tot[j][i] = NaN;
        }
      }
      opts.onProgress?.(i + 1, samples.length);
    }
    const seconds = (performance.now() - t0) / 1000;
    const ok = (i: number) => models.every((_, j) => Number.isFinite(inf[j][i]));
    const idx = samples.map((_, i) => i).filter(ok);
    const rows: CompareRow[] = models.map((m, j) => {
      const r = evaluate(samples.map((s, i) => ({ id: s.imagePath, gt: s.words, det: dets[j][i] })), { protocol: 'iou' });
      const a = evaluate(samples.map((s, i) => ({
        id: s.imagePath, gt: dets[0][i].map((d) => ({ points: d.points, ignore: false })), det: dets[j][i],
      })), { protocol: 'iou' });
      return {
        label: m.label, precision: r.precision, recall: r.recall, hmean: r.hmean,
        agreement: { precision: a.precision, recall: a.recall, hmean: a.hmean },
        inference: summary(idx.map((i) => inf[j][i])), total: summary(idx.map((i) => tot[j][i])), errors: errors[j],
      };
    });
    const sum = (v: number[]) => idx.reduce((a, i) => a + v[i], 0);
    const speedup = models.map((m, j) => ({
      label: m.label,
      medianRatio: median(idx.map((i) => inf[0][i] / inf[j][i])),
      sumRatio: sum(inf[0]) / sum(inf[j]),
      totalSumRatio: sum(tot[0]) / sum(tot[j]),
    }));
    return { dataset, images: samples.length, rows, speedup, seconds };
  } finally {
    for (const d of detectors) await d.dispose();
  }
}
