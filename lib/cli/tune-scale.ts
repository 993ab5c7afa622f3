/*! craft-text | MIT */
// `craft-text tune --scale`: measures a detector's constants for scale 'auto' (binding/craft/autoscale.h) on annotated
// pages, the way the bundled model's were measured (bench/scale-range.js, docs/robustness.md#scale-auto-issue-17):
// every page detected at a few fixed working scales, every ground-truth word binned by its height in working pixels,
// recall per bin (IoU > 0.5), and the median detected / ground-truth box height over the matches. From those:
//   goodLow .. goodHigh  the contiguous bins around the best one with recall >= 0.70 (MIN_RECALL);
//   targetHeight         the geometric middle of the best bins (recall within 0.05 of the best, inside the range);
//   detectedToTruth      the median ratio, boxes read at max(lowText, 0.35) as scale 'auto' reads them
//                        (characters.h kCharacterLevel).
// Optionally writes them into a copy of the model as metadata (craft.scaleTargetHeight, ...), where the detector
// picks them up. Calibrate on pages the model is not judged on (tools/train/train_pages.py).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Detector } from '../detector';
import { createProgress, iou, type DatasetSample, type Point } from '../eval';
import { readRegularFile } from '../files';
import { postprocess } from '../postprocess';
import { OnnxModel } from '../quantize/graph';
import type { AutoScaleConstants } from '../types';
import { UsageError } from './args';
import { loadSamples } from './eval';

/** Height bins (working pixels), bench/scale-range.js's. */
export const SCALE_BINS = [4, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128, 180, 256, 362];
/** Working scales each page is detected at (scale-range.js's default: heights 4..~250 px on FUNSD and ICDAR 2013). */
export const DEFAULT_MAGS = [0.35, 0.6, 1, 1.6, 2.6];
/** Pages per dataset by default (--limit): 3 FUNSD forms and 3 ICDAR 2013 pages give 100+ words in most bins. */
export const SCALE_LIMIT = 3;
/** A bin is in the good range with at least this recall (how autoscale.h's 11..64 was chosen). */
export const MIN_RECALL = 0.7;
/** The best bins: recall within this of the best bin's. */
const BEST_MARGIN = 0.05;
/** Bins with fewer words say too little: they end the range. */
export const MIN_BIN_WORDS = 20;
/** scale 'auto' reads word heights at max(lowText, this) (binding/craft/characters.h kCharacterLevel). */
const CHARACTER_LEVEL = 0.35;

/** Metadata keys of the four constants (binding/craft/autoscale.h ScaleConstantsFromMetadata). */
export const SCALE_METADATA: Record<keyof AutoScaleConstants, string> = {
  targetHeight: 'craft.scaleTargetHeight',
  goodLow: 'craft.scaleGoodLow',
  goodHigh: 'craft.scaleGoodHigh',
  detectedToTruth: 'craft.detectedToTruth',
};

export interface HeightBin { from: number; to: number; words: number; found: number; recall: number | null }

/** A box's height: the shorter side of a 4-point box, else of the polygon's bounding box. @private */
export function boxHeight(points: readonly Point[]): number {
  if (points.length === 4) {
    const side = (p: Point, q: Point) => Math.hypot(p[0] - q[0], p[1] - q[1]);
    return Math.min(side(points[0], points[1]), side(points[1], points[2]));
  }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  return Math.min(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
}

/** Index of the bin holding height h, -1 below the first. @private */
export function binOf(h: number): number {
  let i = -1;
  while (i + 1 < SCALE_BINS.length && h >= SCALE_BINS[i + 1]) i++;
  return i;
}

/**
 * The constants from recall per height bin and the detected / ground-truth ratios over matches; null when no bin
 * with enough words reaches MIN_RECALL (nothing to aim at). @private
 */
export function deriveScaleConstants(bins: readonly HeightBin[], ratios: readonly number[]): AutoScaleConstants | null {
  const ok = (i: number) => i >= 0 && i < bins.length && bins[i].words >= MIN_BIN_WORDS && bins[i].recall !== null;
  const recall = (i: number) => bins[i].recall as number;
  let best = -1;
  for (let i = 0; i < bins.length; i++) if (ok(i) && (best < 0 || recall(i) > recall(best))) best = i;
  if (best < 0 || recall(best) < MIN_RECALL || ratios.length === 0) return null;
  let lo = best, hi = best;
  while (ok(lo - 1) && recall(lo - 1) >= MIN_RECALL) lo--;
  while (ok(hi + 1) && recall(hi + 1) >= MIN_RECALL) hi++;
  let blo = best, bhi = best;
  const near = (i: number) => i >= lo && i <= hi && recall(i) >= recall(best) - BEST_MARGIN;
  while (near(blo - 1)) blo--;
  while (near(bhi + 1)) bhi++;
  // The last bin is open-ended: its upper edge as far above its lower as the bins grow (x sqrt 2).
  const upper = (i: number) => (Number.isFinite(bins[i].to) ? bins[i].to : bins[i].from * Math.SQRT2);
  const sorted = [...ratios].sort((a, b) => a - b);
  const round = (v: number, digits: number) => Number(v.toFixed(digits));
  return {
    targetHeight: round(Math.sqrt(bins[blo].from * upper(bhi)), 1),
    goodLow: bins[lo].from,
    goodHigh: round(upper(hi), 1),
    detectedToTruth: round(sorted[sorted.length >> 1], 3),
  };
}

export interface ScaleCalibration {
  pages: number;
  failed: number;
  mags: number[];
  bins: HeightBin[];
  matches: number;
  constants: AutoScaleConstants | null;
  seconds: number;
}

/**
 * Detects every sample at every magnification (scale 'fixed', tiled where needed, so the working scale is exactly
 * the magnification) and derives the constants. @private
 */
export async function calibrateScale(
  detector: Detector, sets: { name: string; samples: DatasetSample[] }[], mags: number[],
): Promise<ScaleCalibration> {
  const t0 = performance.now();
  const { textThreshold, linkThreshold, lowText } = detector.info.defaults;
  const level = Math.max(lowText, CHARACTER_LEVEL);
  const found = new Array<number>(SCALE_BINS.length).fill(0), total = new Array<number>(SCALE_BINS.length).fill(0);
  const ratios: number[] = [];
  let pages = 0, failed = 0;
  for (const set of sets) {
    const progress = createProgress(set.samples.length * mags.length, { label: `scale ${set.name}` });
    for (const s of set.samples) {
      pages++;
      try {
        for (const m of mags) {
          // The model's own thresholds decide what is found; heights are read at the level scale 'auto' reads them.
          const r = await detector.detect(s.imagePath, { scale: 'fixed', magRatio: m, tiling: {}, heatmaps: level !== lowText });
          let levelBoxes = r.words.map((w) => w.box as Point[]);
          if (r.heatmaps) {
            const k = 2 / r.scale;
            levelBoxes = (await postprocess(r.heatmaps, { textThreshold, linkThreshold, lowText: level }))
              .map((w) => w.box.map(([x, y]) => [x * k, y * k] as Point));
          }
          const boxes = r.words.map((w) => w.box as Point[]);
          for (const g of s.words) {
            if (g.ignore) continue;
            const truth = boxHeight(g.points);
            const bin = binOf(truth * r.scale);
            if (bin < 0 || !(truth > 0)) continue;
            total[bin]++;
            if (boxes.some((d) => iou(d, g.points) > 0.5)) found[bin]++;
            const atLevel = levelBoxes.find((d) => iou(d, g.points) > 0.5);
            if (atLevel) ratios.push(boxHeight(atLevel) / truth);
          }
          progress.tick(1, path.basename(s.imagePath));
        }
      } catch {
        failed++;
      }
    }
    progress.stop();
  }
  const bins = SCALE_BINS.map((from, i) => ({
    from, to: SCALE_BINS[i + 1] ?? Infinity, words: total[i], found: found[i],
    recall: total[i] ? Number((found[i] / total[i]).toFixed(3)) : null,
  }));
  return { pages, failed, mags, bins, matches: ratios.length, constants: deriveScaleConstants(bins, ratios), seconds: (performance.now() - t0) / 1000 };
}

/** Parses --mags: comma-separated working scales in (0, 16]. @private */
export function parseMags(value: string | undefined): number[] {
  if (value === undefined) return DEFAULT_MAGS;
  const out = value.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((v) => !Number.isFinite(v) || v <= 0 || v > 16)) {
    throw new UsageError(`--mags expects comma-separated scales above 0 and at most 16, got '${value}'`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** `tune --write` (either mode): a copy of the model with `metadata` set, its other keys kept; Detector reads it. */
export async function writeModelMetadata(modelFile: string, writeFile: string, metadata: Record<string, string>): Promise<void> {
  const m = OnnxModel.parse(await readRegularFile(modelFile));
  for (const [k, v] of Object.entries(metadata)) m.metadata.set(k, v);
  await fsp.writeFile(writeFile, m.serialize());
}

/** `craft-text tune --scale` (the flags are tune's, already validated). Exit code 0; 1 when nothing could be derived. */
export async function runTuneScale(opts: {
  datasets: string[]; model?: string; modelFile?: string; threads?: number; limit?: number; mags: number[];
  jsonFile?: string; writeFile?: string; log: (s: string) => void;
}): Promise<number> {
  const sets: { name: string; samples: DatasetSample[] }[] = [];
  for (const dir of opts.datasets) sets.push({ name: path.basename(path.resolve(dir)), samples: await loadSamples(dir, opts.limit) });
  const detector = await Detector.create({ model: opts.model, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
  let cal: ScaleCalibration;
  let before: AutoScaleConstants;
  try {
    before = detector.info.autoScale;
    cal = await calibrateScale(detector, sets, opts.mags);
  } finally {
    await detector.dispose();
  }
  const { log } = opts;
  log(`model      ${opts.model ?? 'default'}; ${cal.pages} pages x scales ${cal.mags.join(', ')} in ${cal.seconds.toFixed(1)} s` +
    `${cal.failed ? ` (${cal.failed} failed)` : ''}; ${cal.matches} matched words\n`);
  log('height (working px)   words  recall\n');
  for (const b of cal.bins) {
    if (b.words) log(`  ${String(b.from).padStart(4)}-${String(b.to).padEnd(4)}        ${String(b.words).padStart(6)}  ${b.recall!.toFixed(3)}\n`);
  }
  const show = (c: AutoScaleConstants) => `target ${c.targetHeight}, good range ${c.goodLow}..${c.goodHigh}, detected/truth ${c.detectedToTruth}`;
  log(`in effect  ${show(before)}\n`);
  const c = cal.constants;
  if (c === null) {
    log(`measured   nothing: no height bin with ${MIN_BIN_WORDS}+ words reaches recall ${MIN_RECALL} (more pages or scales?)\n`);
  } else {
    log(`measured   ${show(c)}\n`);
  }
  if (c !== null && opts.writeFile !== undefined && opts.modelFile !== undefined) {
    const metadata: Record<string, string> = {};
    for (const k of Object.keys(SCALE_METADATA) as (keyof AutoScaleConstants)[]) metadata[SCALE_METADATA[k]] = String(c[k]);
    metadata['craft.scaleCalibrated'] = `${sets.map((s) => s.name).join(', ')}: ${cal.pages} pages x scales ${cal.mags.join(', ')}`;
    await writeModelMetadata(opts.modelFile, opts.writeFile, metadata);
    log(`wrote ${opts.writeFile} with scale constants in its metadata\n`);
  }
  if (opts.jsonFile !== undefined) {
    const report = { model: opts.model ?? 'default', datasets: opts.datasets.map((d) => path.resolve(d)), before, ...cal };
    await fsp.writeFile(opts.jsonFile, JSON.stringify(report, null, 1) + '\n');
    log(`wrote ${opts.jsonFile}\n`);
  }
  return c === null || cal.failed > 0 ? 1 : 0;
}
