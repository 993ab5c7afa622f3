/*! craft-text | MIT */
import { preparePolygon, type PreparedPolygon } from './geometry';
import { scoreDetEval, scoreIou, type ImageScore } from './protocols';
import type { EvalCounts, EvalOptions, EvalResult, EvalSample, ImageResult, Point, Protocol } from './types';
import { checkNumber, invalid, isPlainObject } from './validate';

const OPTION_KEYS = ['protocol', 'iouThreshold', 'dontCareThreshold', 'areaRecall', 'areaPrecision',
  'oneToManyWeight', 'manyToOneWeight', 'centerDistance'] as const;

/** Fills in the defaults and validates `options` (TypeError / RangeError naming the option). */
export function resolveEvalOptions(options: EvalOptions = {}): Required<EvalOptions> {
  if (!isPlainObject(options)) throw invalid('options', 'object', options);
  for (const k of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(k)) {
      throw new TypeError(`Unknown option ${k} for evaluate(); expected one of ${OPTION_KEYS.join(', ')}`);
    }
  }
  const o = options as Record<string, unknown>;
  const protocol = o.protocol ?? 'iou';
  if (protocol !== 'iou' && protocol !== 'deteval') {
    throw invalid('protocol', "one of 'iou', 'deteval'", protocol, typeof protocol === 'string');
  }
  const num = (name: string, def: number, min: number, max: number, minExclusive = false): number =>
    o[name] === undefined ? def : checkNumber(name, o[name], min, max, minExclusive);
  return {
    protocol,
    iouThreshold: num('iouThreshold', 0.5, 0, 1),
    dontCareThreshold: num('dontCareThreshold', protocol === 'iou' ? 0.5 : 0.4, 0, 1),
    areaRecall: num('areaRecall', 0.8, 0, 1),
    areaPrecision: num('areaPrecision', 0.4, 0, 1),
    oneToManyWeight: num('oneToManyWeight', 0.8, 0, 1),
    manyToOneWeight: num('manyToOneWeight', 1, 0, 1),
    centerDistance: num('centerDistance', 1, 0, Infinity, true),
  };
}

function checkPoints(name: string, v: unknown): Point[] {
  if (!Array.isArray(v)) throw invalid(name, 'array of [x, y] points', v);
  for (let i = 0; i < v.length; i++) {
    const p: unknown = v[i];
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
      throw invalid(`${name}[${i}]`, '[x, y] pair of numbers', p);
    }
    if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new RangeError(`Expected finite coordinates for ${name}[${i}] but received [${p[0]}, ${p[1]}]`);
    }
  }
  return v as Point[];
}

function prepareSample(s: unknown, i: number): { gt: PreparedPolygon[]; ignore: boolean[]; det: PreparedPolygon[]; id?: string } {
  const name = `samples[${i}]`;
  if (!isPlainObject(s)) throw invalid(name, 'object with gt and det arrays', s);
  if (!Array.isArray(s.gt)) throw invalid(`${name}.gt`, 'array', s.gt);
  if (!Array.isArray(s.det)) throw invalid(`${name}.det`, 'array', s.det);
  if (s.id !== undefined && typeof s.id !== 'string') throw invalid(`${name}.id`, 'string', s.id);
  const gt: PreparedPolygon[] = [];
  const ignore: boolean[] = [];
  s.gt.forEach((w: unknown, j: number) => {
    if (!isPlainObject(w)) throw invalid(`${name}.gt[${j}]`, 'object with points', w);
    gt.push(preparePolygon(checkPoints(`${name}.gt[${j}].points`, w.points)));
    if (w.ignore !== undefined && typeof w.ignore !== 'boolean') throw invalid(`${name}.gt[${j}].ignore`, 'boolean', w.ignore);
    ignore.push(w.ignore === true);
  });
  const det = s.det.map((d: unknown, j: number) => {
    if (!isPlainObject(d)) throw invalid(`${name}.det[${j}]`, 'object with points', d);
    return preparePolygon(checkPoints(`${name}.det[${j}].points`, d.points));
  });
  return { gt, ignore, det, id: s.id as string | undefined };
}

/** Precision, recall and H-mean from the credits and counts, with the RRC conventions for empty sets. */
function perImageMetrics(s: ImageScore): Pick<EvalCounts, 'precision' | 'recall' | 'hmean'> {
  let precision: number, recall: number;
  if (s.gtCount === 0) {
    // nothing to find: full recall; precision 1 only if nothing was (wrongly) found either
    recall = 1;
    precision = s.detCount > 0 ? 0 : 1;
  } else {
    recall = s.recallScore / s.gtCount;
    precision = s.detCount === 0 ? 0 : s.precisionScore / s.detCount;
  }
  return { precision, recall, hmean: hmean(precision, recall) };
}

const hmean = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Scores detections against ground truth over a set of images.
 *
 * Set-level precision = Σ precision credits / Σ counted detections and recall = Σ recall credits /
 * Σ counted GT words (0 when the denominator is 0, as the RRC scripts). See docs/eval.md.
 */
export function evaluate(samples: readonly EvalSample[], options: EvalOptions = {}): EvalResult {
  const opts = resolveEvalOptions(options);
  if (!Array.isArray(samples)) throw invalid('samples', 'array of { gt, det }', samples);
  const prepared = samples.map(prepareSample); // validate everything before any work
  const score = opts.protocol === 'iou' ? scoreIou : scoreDetEval;
  const perImage: ImageResult[] = [];
  const total = { gtCount: 0, detCount: 0, gtIgnored: 0, detIgnored: 0, matched: 0, recallScore: 0, precisionScore: 0 };
  prepared.forEach((p, index) => {
    const s = score(p.gt, p.ignore, p.det, opts);
    const r: ImageResult = {
      index,
      ...(p.id !== undefined ? { id: p.id } : {}),
      ...perImageMetrics(s),
      gtCount: s.gtCount,
      detCount: s.detCount,
      gtIgnored: s.ignoredGt.length,
      detIgnored: s.ignoredDet.length,
      matched: s.matched,
      recallScore: s.recallScore,
      precisionScore: s.precisionScore,
      matches: s.matches,
      ignoredGt: s.ignoredGt,
      ignoredDet: s.ignoredDet,
      unmatchedGt: s.unmatchedGt,
      unmatchedDet: s.unmatchedDet,
    };
    perImage.push(r);
    total.gtCount += r.gtCount;
    total.detCount += r.detCount;
    total.gtIgnored += r.gtIgnored;
    total.detIgnored += r.detIgnored;
    total.matched += r.matched;
    total.recallScore += r.recallScore;
    total.precisionScore += r.precisionScore;
  });
  const recall = total.gtCount === 0 ? 0 : total.recallScore / total.gtCount;
  const precision = total.detCount === 0 ? 0 : total.precisionScore / total.detCount;
  return {
    protocol: opts.protocol as Protocol,
    precision,
    recall,
    hmean: hmean(precision, recall),
    ...total,
    options: opts,
    images: perImage.length,
    perImage,
  };
}
