/*! craft-text | MIT */
// The two scoring protocols, per image, on prepared polygons. Both follow the loop order and the
// comparisons of the Robust Reading Competition (RRC) scripts (ICDAR 2015 "4 points" IoU script and the
// DetEval script); docs/eval.md describes them exactly.

import { intersectionArea, type PreparedPolygon } from './geometry';
import type { EvalOptions, Match } from './types';

/** What a protocol reports for one image (before precision/recall are derived). */
export interface ImageScore {
  gtCount: number;
  detCount: number;
  recallScore: number;
  precisionScore: number;
  matched: number;
  matches: Match[];
  ignoredGt: number[];
  ignoredDet: number[];
  unmatchedGt: number[];
  unmatchedDet: number[];
}

/**
 * Detections with more than `threshold` of their area inside any single don't-care region (checked one
 * region at a time, in GT order, as the RRC scripts do). A zero-area detection is never discarded.
 */
function discardedDetections(gt: readonly PreparedPolygon[], gtIgnore: readonly boolean[],
  det: readonly PreparedPolygon[], threshold: number): boolean[] {
  const out = new Array<boolean>(det.length).fill(false);
  const dontCare: number[] = [];
  gtIgnore.forEach((v, i) => { if (v) dontCare.push(i); });
  if (dontCare.length === 0) return out;
  det.forEach((d, j) => {
    for (const g of dontCare) {
      const frac = d.area === 0 ? 0 : intersectionArea(gt[g], d) / d.area;
      if (frac > threshold) { out[j] = true; break; }
    }
  });
  return out;
}

function indices(flags: readonly boolean[], want: boolean): number[] {
  const out: number[] = [];
  flags.forEach((v, i) => { if (v === want) out.push(i); });
  return out;
}

function leftovers(n: number, ignored: readonly boolean[], matched: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!ignored[i] && !matched[i]) out.push(i);
  return out;
}

/**
 * ICDAR 2015: greedy one-to-one matching. For each GT in order, for each detection in order, a pair of
 * unmatched, counted items matches when IoU > iouThreshold (strictly, as `iouMat > IOU_CONSTRAINT`).
 */
export function scoreIou(gt: readonly PreparedPolygon[], gtIgnore: readonly boolean[],
  det: readonly PreparedPolygon[], opts: Required<EvalOptions>): ImageScore {
  const detIgnore = discardedDetections(gt, gtIgnore, det, opts.dontCareThreshold);
  const gtMatched = new Uint8Array(gt.length);
  const detMatched = new Uint8Array(det.length);
  const matches: Match[] = [];
  for (let g = 0; g < gt.length; g++) {
    if (gtIgnore[g]) continue;
    const pg = gt[g];
    for (let d = 0; d < det.length; d++) {
      if (gtMatched[g]) break;
      if (detMatched[d] || detIgnore[d]) continue;
      const pd = det[d];
      const inter = intersectionArea(pg, pd);
      if (inter === 0) continue;
      const union = pg.area + pd.area - inter;
      const v = union > 0 ? inter / union : 0;
      if (v > opts.iouThreshold) {
        gtMatched[g] = 1;
        detMatched[d] = 1;
        matches.push({ gt: [g], det: [d], type: 'one-to-one', iou: v });
      }
    }
  }
  const ignoredGt = indices(gtIgnore, true);
  const ignoredDet = indices(detIgnore, true);
  return {
    gtCount: gt.length - ignoredGt.length,
    detCount: det.length - ignoredDet.length,
    recallScore: matches.length,
    precisionScore: matches.length,
    matched: matches.length,
    matches,
    ignoredGt,
    ignoredDet,
    unmatchedGt: leftovers(gt.length, gtIgnore, gtMatched),
    unmatchedDet: leftovers(det.length, detIgnore, detMatched),
  };
}

/** Python's round(x, 4) up to ties: the RRC script rounds the summed coverage before comparing. */
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * DetEval (Wolf & Jolion 2006) as in the RRC DetEval script: area recall / area precision matrices, then
 * one-to-one, one-to-many (split) and many-to-one (merge) matches, in that order.
 */
export function scoreDetEval(gt: readonly PreparedPolygon[], gtIgnore: readonly boolean[],
  det: readonly PreparedPolygon[], opts: Required<EvalOptions>): ImageScore {
  const nG = gt.length, nD = det.length;
  const R = opts.areaRecall, P = opts.areaPrecision;
  const detIgnore = discardedDetections(gt, gtIgnore, det, opts.dontCareThreshold);
  const gtMatched = new Uint8Array(nG);
  const detMatched = new Uint8Array(nD);
  const matches: Match[] = [];
  let recallScore = 0, precisionScore = 0;

  if (nD > 0 && nG > 0) {
    // recall[g][d] = |G∩D| / |G|, precision[g][d] = |G∩D| / |D| (0 for a zero-area polygon)
    const rec = new Float64Array(nG * nD);
    const prec = new Float64Array(nG * nD);
    for (let g = 0; g < nG; g++) {
      for (let d = 0; d < nD; d++) {
        const inter = intersectionArea(gt[g], det[d]);
        if (inter === 0) continue;
        rec[g * nD + d] = gt[g].area === 0 ? 0 : inter / gt[g].area;
        prec[g * nD + d] = det[d].area === 0 ? 0 : inter / det[d].area;
      }
    }
    // Counts that do not depend on the matching state. Like the RRC script, the one-to-one test counts
    // qualifying partners over all rows/columns, while the overlap counts skip don't-care items.
    const rowQual = new Int32Array(nG), colQual = new Int32Array(nD);
    const gtOverlaps = new Int32Array(nG), detOverlaps = new Int32Array(nD);
    for (let g = 0; g < nG; g++) {
      for (let d = 0; d < nD; d++) {
        const k = g * nD + d;
        if (rec[k] >= R && prec[k] >= P) { rowQual[g]++; colQual[d]++; }
        if (rec[k] > 0) {
          if (!detIgnore[d]) gtOverlaps[g]++;
          if (!gtIgnore[g]) detOverlaps[d]++;
        }
      }
    }

    // one-to-one
    for (let g = 0; g < nG; g++) {
      for (let d = 0; d < nD; d++) {
        if (gtMatched[g] || detMatched[d] || gtIgnore[g] || detIgnore[d]) continue;
        const k = g * nD + d;
        if (rowQual[g] !== 1 || colQual[d] !== 1 || !(rec[k] >= R && prec[k] >= P)) continue;
        if (gtOverlaps[g] !== 1 || detOverlaps[d] !== 1) continue; // "not single overlap"
        if (!(normalisedCenterDistance(gt[g], det[d]) < opts.centerDistance)) continue;
        gtMatched[g] = 1;
        detMatched[d] = 1;
        recallScore += 1;
        precisionScore += 1;
        matches.push({ gt: [g], det: [d], type: 'one-to-one' });
      }
    }

    // one-to-many: one GT covered by several detections (a split word)
    for (let g = 0; g < nG; g++) {
      if (gtIgnore[g] || gtMatched[g]) continue;
      let sum = 0;
      const ds: number[] = [];
      for (let d = 0; d < nD; d++) {
        if (detMatched[d] || detIgnore[d]) continue;
        if (prec[g * nD + d] >= P) { sum += rec[g * nD + d]; ds.push(d); }
      }
      if (!(round4(sum) >= R) || gtOverlaps[g] < 2) continue;
      gtMatched[g] = 1;
      for (const d of ds) detMatched[d] = 1;
      if (ds.length === 1) {
        recallScore += 1;
        precisionScore += 1;
        matches.push({ gt: [g], det: ds, type: 'one-to-one' });
      } else {
        recallScore += opts.oneToManyWeight;
        precisionScore += opts.oneToManyWeight * ds.length;
        matches.push({ gt: [g], det: ds, type: 'one-to-many' });
      }
    }

    // many-to-one: several GTs covered by one detection (merged words)
    for (let d = 0; d < nD; d++) {
      if (detIgnore[d] || detMatched[d]) continue;
      let sum = 0;
      const gs: number[] = [];
      for (let g = 0; g < nG; g++) {
        if (gtMatched[g] || gtIgnore[g]) continue;
        if (rec[g * nD + d] >= R) { sum += prec[g * nD + d]; gs.push(g); }
      }
      if (!(round4(sum) >= P) || detOverlaps[d] < 2) continue;
      detMatched[d] = 1;
      for (const g of gs) gtMatched[g] = 1;
      if (gs.length === 1) {
        recallScore += 1;
        precisionScore += 1;
        matches.push({ gt: gs, det: [d], type: 'one-to-one' });
      } else {
        recallScore += opts.manyToOneWeight * gs.length;
        precisionScore += opts.manyToOneWeight;
        matches.push({ gt: gs, det: [d], type: 'many-to-one' });
      }
    }
  }

  const ignoredGt = indices(gtIgnore, true);
  const ignoredDet = indices(detIgnore, true);
  let matched = 0;
  for (const m of matches) matched += m.gt.length;
  return {
    gtCount: nG - ignoredGt.length,
    detCount: nD - ignoredDet.length,
    recallScore,
    precisionScore,
    matched,
    matches,
    ignoredGt,
    ignoredDet,
    unmatchedGt: leftovers(nG, gtIgnore, gtMatched),
    unmatchedDet: leftovers(nD, detIgnore, detMatched),
  };
}

/**
 * 2 * |centre(G) - centre(D)| / (diag(G) + diag(D)) over the axis-aligned bounding boxes (the RRC script
 * works on rectangles; for a rectangle its bounding box is itself).
 */
function normalisedCenterDistance(a: PreparedPolygon, b: PreparedPolygon): number {
  const dx = (a.minX + a.maxX) / 2 - (b.minX + b.maxX) / 2;
  const dy = (a.minY + a.maxY) / 2 - (b.minY + b.maxY) / 2;
  const diag = Math.hypot(a.maxX - a.minX, a.maxY - a.minY) + Math.hypot(b.maxX - b.minX, b.maxY - b.minY);
  return (2 * Math.hypot(dx, dy)) / diag;
}
