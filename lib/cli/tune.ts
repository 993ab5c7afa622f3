/*! craft-text | MIT */
// `craft-text tune`: finds the textThreshold / linkThreshold / lowText that maximise H-mean on annotated datasets.
// Inference runs once per image (heatmaps kept); every candidate is only CRAFT's post-processing on those maps, so a
// search over hundreds of candidates costs seconds, not hundreds of inference passes. Optionally writes the winner
// into a copy of the model as ONNX metadata (craft.textThreshold, ...), where Detector picks it up as its default.
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Detector } from '../detector';
import { createProgress, evaluate, type DatasetSample, type EvalResult, type Protocol } from '../eval';
import { resolveModel } from '../models';
import { postprocess } from '../postprocess';
import type { Heatmaps } from '../types';
import { isDecimal, num, parse, UsageError } from './args';
import { loadSamples, pool } from './eval';
import { parseMags, runTuneScale, SCALE_LIMIT, writeModelMetadata } from './tune-scale';

export const TUNE_USAGE = 'craft-text tune <dataset-dir>... [--model m.onnx] [--search coordinate|grid] ' +
  '[--text-threshold-grid a,b,...] [--link-threshold-grid a,b,...] [--low-text-grid a,b,...] [--protocol iou|deteval] ' +
  '[--canvas-size n] [--mag-ratio r] [--limit n] [--concurrency n] [--threads n] [--json out.json] [--write out.onnx] [--quiet]\n' +
  '       craft-text tune <dataset-dir>... --scale [--mags a,b,...] [--model m.onnx] [--limit n] [--threads n] [--json out.json] ' +
  '[--write out.onnx] [--quiet]   (scale \'auto\'\'s constants instead of the thresholds)';

/** The post-processing thresholds being searched. */
export interface Thresholds {
  textThreshold: number;
  linkThreshold: number;
  lowText: number;
}
type Key = keyof Thresholds;
const KEYS: Key[] = ['textThreshold', 'linkThreshold', 'lowText'];

/** Default search grids: around test.py's 0.7 / 0.4 / 0.4, wide enough for an under- or over-confident model. */
export const DEFAULT_GRIDS: Record<Key, number[]> = {
  textThreshold: [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85],
  linkThreshold: [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8],
  lowText: [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5],
};

/** One image's inference output, kept for the whole search. */
interface Kept {
  heatmaps?: Heatmaps;
  /** heatmap pixel -> original pixel (2 / scale: the network's stride-2 output over resize_aspect_ratio's ratio). */
  toImage: number;
  error?: string;
}

/** Scores of one candidate: per dataset and their mean H-mean (the objective). */
export interface Candidate extends Thresholds {
  hmean: number;
  sets: { precision: number; recall: number; hmean: number }[];
}

const FLAGS = {
  model: { type: 'string' },
  threads: { type: 'string' },
  search: { type: 'string' },
  'text-threshold-grid': { type: 'string' },
  'link-threshold-grid': { type: 'string' },
  'low-text-grid': { type: 'string' },
  protocol: { type: 'string' },
  'canvas-size': { type: 'string' },
  'mag-ratio': { type: 'string' },
  limit: { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'string' },
  write: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  scale: { type: 'boolean' },
  mags: { type: 'string' },
} as const;

/** Flags of the threshold search that `--scale` has no use for. */
const THRESHOLD_ONLY = ['search', 'text-threshold-grid', 'link-threshold-grid', 'low-text-grid', 'protocol', 'canvas-size', 'mag-ratio', 'concurrency'];

/** Parses a comma-separated list of numbers in [0, 1] (a grid flag). @private */
export function parseGrid(flag: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const parts = value.split(',').map((s) => s.trim());
  const out = parts.map((s) => Number(s));
  if (parts.some((s) => !isDecimal(s)) || out.some((v) => !Number.isFinite(v) || v < 0 || v > 1)) {
    throw new UsageError(`--${flag} expects comma-separated numbers between 0 and 1, got '${value}'`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** lowText above textThreshold turns link-only components into boxes at (0, 0) in the reference: never a candidate. */
const sensible = (t: Thresholds) => t.lowText <= t.textThreshold;
const label = (t: Thresholds) => `${t.textThreshold}/${t.linkThreshold}/${t.lowText}`;

/**
 * Coordinate ascent over the grids: starting from `start`, each threshold in turn takes its best grid value with the
 * others fixed, until a whole round changes nothing (at most `rounds`). Ties keep the current value, so the result
 * only moves away from the start for a real gain. @private
 */
export async function coordinateSearch(
  start: Thresholds, grids: Record<Key, number[]>, score: (t: Thresholds) => Promise<number>, rounds = 6,
): Promise<Thresholds> {
  let best = { ...start };
  let bestScore = await score(best);
  for (let r = 0; r < rounds; r++) {
    let changed = false;
    for (const k of KEYS) {
      for (const v of grids[k]) {
        if (v === best[k]) continue;
        const cand = { ...best, [k]: v };
        if (!sensible(cand)) continue;
        const s = await score(cand);
        if (s > bestScore + 1e-12) {
          best = cand;
          bestScore = s;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return best;
}

/** `craft-text tune`. */
export async function runTune(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse(argv, FLAGS);
  if (positionals.length === 0) throw new UsageError('tune needs at least one dataset folder');
  for (const d of positionals) if (!fs.existsSync(d)) throw new UsageError(`no such dataset: ${d}`);
  const search = (values.search as string | undefined) ?? 'coordinate';
  if (search !== 'coordinate' && search !== 'grid') throw new UsageError(`--search expects coordinate or grid, got '${search}'`);
  const protocol = ((values.protocol as string | undefined) ?? 'iou') as Protocol;
  if (protocol !== 'iou' && protocol !== 'deteval') throw new UsageError(`--protocol expects iou or deteval, got '${protocol}'`);
  const grids: Record<Key, number[]> = {
    textThreshold: parseGrid('text-threshold-grid', values['text-threshold-grid'] as string | undefined, DEFAULT_GRIDS.textThreshold),
    linkThreshold: parseGrid('link-threshold-grid', values['link-threshold-grid'] as string | undefined, DEFAULT_GRIDS.linkThreshold),
    lowText: parseGrid('low-text-grid', values['low-text-grid'] as string | undefined, DEFAULT_GRIDS.lowText),
  };
  const canvasSize = num('canvas-size', values['canvas-size'] as string | undefined, 32, 32768, true);
  const magRatio = num('mag-ratio', values['mag-ratio'] as string | undefined, 0.01, 32);
  const limit = num('limit', values.limit as string | undefined, 1, Number.MAX_SAFE_INTEGER, true);
  const concurrency = num('concurrency', values.concurrency as string | undefined, 1, 64, true) ?? 2;
  const threads = num('threads', values.threads as string | undefined, 0, 1024, true);
  const jsonFile = values.json as string | undefined;
  const writeFile = values.write as string | undefined;
  for (const [flag, f] of [['json', jsonFile], ['write', writeFile]] as const) {
    if (f !== undefined && !fs.existsSync(path.dirname(path.resolve(f)))) {
      throw new UsageError(`--${flag}: no such folder: ${path.dirname(path.resolve(f))}`);
    }
  }
  const model = values.model as string | undefined;
  let modelFile: string | undefined;
  if (writeFile !== undefined) {
    const m = resolveModel(model);
    if (typeof m !== 'string' || !fs.existsSync(m)) throw new UsageError(`--write needs a model file to copy, got '${model}'`);
    modelFile = m;
  }
  const quiet = values.quiet === true;
  const log = (s: string) => { if (!quiet) out.write(s); };
  if (values.scale === true) {
    // scale 'auto''s constants (tune-scale.ts): detection at fixed scales, no threshold search.
    for (const f of THRESHOLD_ONLY) if (values[f as keyof typeof values] !== undefined) throw new UsageError(`--${f} does not apply to --scale`);
    return runTuneScale({ datasets: positionals, model, modelFile, threads, limit: limit ?? SCALE_LIMIT, mags: parseMags(values.mags as string | undefined), jsonFile, writeFile, log });
  }
  if (values.mags !== undefined) throw new UsageError('--mags needs --scale');

  const sets: { dir: string; samples: DatasetSample[] }[] = [];
  for (const dir of positionals) sets.push({ dir, samples: await loadSamples(dir, limit) });

  // 1. Inference, once per image: keep the heatmaps.
  const detector = await Detector.create({ model, ...(threads !== undefined ? { threads } : {}) });
  const defaults = detector.info.defaults;
  // One pass per image at the fixed scale: the grid re-runs post-processing on that pass's maps, which scale 'auto''s
  // extra passes would not follow (their thresholds apply the same way in any pass).
  const inference = { scale: 'fixed' as const, ...(canvasSize !== undefined ? { canvasSize } : {}), ...(magRatio !== undefined ? { magRatio } : {}) };
  const kept: Kept[][] = [];
  const t0 = performance.now();
  try {
    for (const set of sets) {
      const progress = createProgress(set.samples.length, { label: `heatmaps ${path.basename(path.resolve(set.dir))}` });
      kept.push(await pool(set.samples, concurrency, async (s): Promise<Kept> => {
        try {
          // textThreshold 1 keeps detect()'s own post-processing trivial: only the maps are used.
          const r = await detector.detect(s.imagePath, { ...inference, heatmaps: true, textThreshold: 1 });
          return { heatmaps: r.heatmaps, toImage: 2 / r.scale };
        } catch (err) {
          return { toImage: 1, error: (err as Error).message };
        } finally {
          progress.tick(1, path.basename(s.imagePath));
        }
      }));
      progress.stop();
    }
  } finally {
    await detector.dispose();
  }
  const inferenceSeconds = (performance.now() - t0) / 1000;
  const failed = kept.flat().filter((k) => k.error).length;

  // 2. Scoring a candidate = post-processing every kept map + the protocol. Memoised: coordinate ascent revisits.
  const cache = new Map<string, Candidate>();
  const t1 = performance.now();
  const scoreOf = async (t: Thresholds): Promise<Candidate> => {
    const key = label(t);
    const hit = cache.get(key);
    if (hit) return hit;
    const perSet: EvalResult[] = [];
    for (let si = 0; si < sets.length; si++) {
      const dets = await pool(kept[si], concurrency, async (k) => {
        if (!k.heatmaps) return [];
        const words = await postprocess(k.heatmaps, t);
        return words.map((w) => ({ points: w.box.map(([x, y]) => [x * k.toImage, y * k.toImage] as [number, number]) }));
      });
      perSet.push(evaluate(sets[si].samples.map((s, i) => ({ id: s.imagePath, gt: s.words, det: dets[i] })), { protocol }));
    }
    const c: Candidate = {
      ...t,
      hmean: perSet.reduce((a, r) => a + r.hmean, 0) / perSet.length,
      sets: perSet.map((r) => ({ precision: r.precision, recall: r.recall, hmean: r.hmean })),
    };
    cache.set(key, c);
    return c;
  };

  const start: Thresholds = { textThreshold: defaults.textThreshold, linkThreshold: defaults.linkThreshold, lowText: defaults.lowText };
  const baseline = await scoreOf(start);
  let best: Candidate;
  if (search === 'grid') {
    const combos: Thresholds[] = [];
    for (const textThreshold of grids.textThreshold) {
      for (const linkThreshold of grids.linkThreshold) {
        for (const lowText of grids.lowText) {
          if (sensible({ textThreshold, linkThreshold, lowText })) combos.push({ textThreshold, linkThreshold, lowText });
        }
      }
    }
    const progress = createProgress(combos.length, { label: 'grid' });
    best = baseline;
    for (const c of combos) {
      const s = await scoreOf(c);
      if (s.hmean > best.hmean + 1e-12) best = s;
      progress.tick(1, label(c));
    }
    progress.stop();
  } else {
    best = await scoreOf(await coordinateSearch(start, grids, async (t) => (await scoreOf(t)).hmean));
  }
  const searchSeconds = (performance.now() - t1) / 1000;

  // 3. Report.
  const pct = (v: number) => (v * 100).toFixed(2);
  const names = sets.map((s) => path.basename(path.resolve(s.dir)));
  const row = (title: string, c: Candidate) => `${title.padEnd(9)} ${label(c).padEnd(16)} ` +
    c.sets.map((s) => `${pct(s.precision)} / ${pct(s.recall)} / ${pct(s.hmean)}`.padEnd(24)).join(' ') + ` ${pct(c.hmean)}`;
  log(`model      ${model ?? 'default'}; inference once per image (${kept.flat().length} images in ${inferenceSeconds.toFixed(1)} s` +
    `${inference.canvasSize ?? inference.magRatio ? `, ${JSON.stringify(inference)}` : ''}), ` +
    `${cache.size} candidates post-processed and scored in ${searchSeconds.toFixed(1)} s (${search} search, ${protocol})\n`);
  if (failed) log(`failed     ${failed} image(s) could not be processed (scored with no detections)\n`);
  log(`${''.padEnd(9)} ${'text/link/low'.padEnd(16)} ${names.map((n) => `${n}: P / R / H`.padEnd(24)).join(' ')} mean H\n`);
  log(row('defaults', baseline) + '\n');
  log(row('best', best) + '\n');
  const top = [...cache.values()].sort((a, b) => b.hmean - a.hmean).slice(0, 5);
  log('top candidates:\n');
  for (const c of top) log(row('', c) + '\n');

  if (writeFile !== undefined && modelFile !== undefined) {
    const metadata: Record<string, string> = {};
    for (const k of KEYS) metadata[`craft.${k}`] = String(best[k]);
    if (canvasSize !== undefined) metadata['craft.canvasSize'] = String(canvasSize);
    if (magRatio !== undefined) metadata['craft.magRatio'] = String(magRatio);
    metadata['craft.tuned'] = `${names.join(', ')}: mean H-mean ${pct(baseline.hmean)} -> ${pct(best.hmean)} % (${protocol})`;
    await writeModelMetadata(modelFile, writeFile, metadata);
    log(`wrote ${writeFile} with defaults ${label(best)} in its metadata\n`);
  }
  if (jsonFile !== undefined) {
    const report = {
      model: model ?? 'default', datasets: sets.map((s) => path.resolve(s.dir)), protocol, search, grids,
      inference: { ...defaults, ...inference }, images: kept.map((k) => k.length), failed,
      seconds: { inference: inferenceSeconds, search: searchSeconds },
      baseline, best, candidates: [...cache.values()].sort((a, b) => b.hmean - a.hmean),
    };
    await fsp.writeFile(jsonFile, JSON.stringify(report, null, 1) + '\n');
    log(`wrote ${jsonFile}\n`);
  }
  return failed > 0 ? 1 : 0;
}
