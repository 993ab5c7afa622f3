/*! craft-text | MIT */
// Polygon areas for the detection metrics: area, intersection area, IoU.
//
// Only areas are needed (never the clipped geometry), so instead of a polygon-clipping library (which can
// throw on near-degenerate input) this integrates the covered length along x over vertical slabs. Slab
// boundaries are every vertex x and every x where two edges cross (edges of either polygon, including a
// polygon's own edges). Inside a slab no two edges cross, so the sorted order of the edges is fixed and the
// covered length (of one polygon, or of both at once) is a linear function of x: the midpoint rule is exact.
// Works for any polygon: convex, non-convex, self-touching, self-intersecting (even-odd fill, like GPC /
// the Polygon module the RRC scripts use), repeated points, fewer than 3 points, zero area. It never throws;
// degenerate polygons have area 0. Extra slab boundaries only cost time, never accuracy, so the crossing
// test is deliberately generous.

/** A point `[x, y]`. */
export type Point = [number, number];

/** A polygon prepared for repeated area queries (edges and bounding box precomputed). */
export interface PreparedPolygon {
  readonly points: readonly Point[];
  /** Non-vertical edges as (x0, y0, x1, y1) with x0 < x1, flattened. */
  readonly edges: Float64Array;
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
  /** Filled area (even-odd rule). */
  readonly area: number;
}

/** Prepares a polygon (a closed ring; the closing point may be repeated or not). */
export function preparePolygon(points: readonly Point[]): PreparedPolygon {
  const n = points.length;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of points) {
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (n === 0) minX = minY = maxX = maxY = 0;
  const list: number[] = [];
  if (n >= 3) {
    for (let i = 0; i < n; i++) {
      const [ax, ay] = points[i];
      const [bx, by] = points[(i + 1) % n];
      if (ax < bx) list.push(ax, ay, bx, by);
      else if (bx < ax) list.push(bx, by, ax, ay);
      // vertical or zero-length edges bound no slab interior: skipped
    }
  }
  const edges = Float64Array.from(list);
  const partial = { points, edges, minX, minY, maxX, maxY, area: 0 };
  partial.area = edges.length === 0 ? 0 : integrate([partial], minX, maxX);
  return partial;
}

/** Filled area of a polygon (even-odd rule; 0 for degenerate polygons). */
export function polygonArea(p: readonly Point[] | PreparedPolygon): number {
  return asPrepared(p).area;
}

/** Area of the intersection of two polygons. */
export function intersectionArea(a: readonly Point[] | PreparedPolygon, b: readonly Point[] | PreparedPolygon): number {
  const pa = asPrepared(a), pb = asPrepared(b);
  const lo = Math.max(pa.minX, pb.minX), hi = Math.min(pa.maxX, pb.maxX);
  if (!(hi > lo) || !(Math.min(pa.maxY, pb.maxY) > Math.max(pa.minY, pb.minY))) return 0;
  if (pa.area === 0 || pb.area === 0) return 0;
  const v = integrate([pa, pb], lo, hi);
  // Rounding can leave the result a hair above the smaller area; keep IoU and area ratios within [0, 1].
  return Math.min(v, pa.area, pb.area);
}

/** Area of the union of two polygons. */
export function unionArea(a: readonly Point[] | PreparedPolygon, b: readonly Point[] | PreparedPolygon): number {
  const pa = asPrepared(a), pb = asPrepared(b);
  return pa.area + pb.area - intersectionArea(pa, pb);
}

/** Intersection over union; 0 when the union is empty (as the RRC scripts do). */
export function iou(a: readonly Point[] | PreparedPolygon, b: readonly Point[] | PreparedPolygon): number {
  const pa = asPrepared(a), pb = asPrepared(b);
  const inter = intersectionArea(pa, pb);
  const union = pa.area + pb.area - inter;
  return union > 0 ? inter / union : 0;
}

function asPrepared(p: readonly Point[] | PreparedPolygon): PreparedPolygon {
  return Array.isArray(p) ? preparePolygon(p as readonly Point[]) : (p as PreparedPolygon);
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Integrates over x in [lo, hi] the length of the set covered by every polygon in `polys` (1 polygon: its
 * area; 2: their intersection area).
 */
function integrate(polys: readonly PreparedPolygon[], lo: number, hi: number): number {
  const xs: number[] = [lo, hi];
  for (const p of polys) {
    for (const [x] of p.points) if (x > lo && x < hi) xs.push(x);
  }
  addCrossings(polys, lo, hi, xs);
  xs.sort((a, b) => a - b);

  let total = 0;
  let prev = xs[0];
  for (let k = 1; k < xs.length; k++) {
    const x1 = xs[k];
    if (!(x1 > prev)) continue;
    const xm = (prev + x1) / 2;
    let len: number;
    if (polys.length === 1) {
      len = coveredLength(sections(polys[0], xm, scratchA));
    } else {
      const a = sections(polys[0], xm, scratchA);
      len = a.length === 0 ? 0 : overlapLength(a, sections(polys[1], xm, scratchB));
    }
    total += len * (x1 - prev);
    prev = x1;
  }
  return total;
}

const scratchA: number[] = [];
const scratchB: number[] = [];

/** The sorted y values where the polygon's edges cross the vertical line at x (reusing `out`). */
function sections(p: PreparedPolygon, x: number, out: number[]): number[] {
  out.length = 0;
  const e = p.edges;
  for (let i = 0; i < e.length; i += 4) {
    const x0 = e[i], x1 = e[i + 2];
    if (x0 < x && x < x1) {
      const y0 = e[i + 1];
      out.push(y0 + ((e[i + 3] - y0) * (x - x0)) / (x1 - x0));
    }
  }
  out.sort((a, b) => a - b);
  return out;
}

/** Even-odd: [y0, y1], [y2, y3], ... are inside. */
function coveredLength(ys: readonly number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < ys.length; i += 2) s += ys[i + 1] - ys[i];
  return s;
}

/** Length of the intersection of two even-odd interval lists. */
function overlapLength(a: readonly number[], b: readonly number[]): number {
  let i = 0, j = 0, s = 0;
  while (i + 1 < a.length && j + 1 < b.length) {
    const lo = Math.max(a[i], b[j]);
    const hi = Math.min(a[i + 1], b[j + 1]);
    if (hi > lo) s += hi - lo;
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return s;
}

/** Pushes onto xs the x of every crossing between two edges (of any of the polygons) inside (lo, hi). */
function addCrossings(polys: readonly PreparedPolygon[], lo: number, hi: number, xs: number[]): void {
  const all: number[] = [];
  for (const p of polys) {
    const e = p.edges;
    for (let i = 0; i < e.length; i += 4) {
      if (e[i + 2] > lo && e[i] < hi) all.push(e[i], e[i + 1], e[i + 2], e[i + 3]);
    }
  }
  const m = all.length;
  for (let i = 0; i < m; i += 4) {
    const ax = all[i], ay = all[i + 1], bx = all[i + 2], by = all[i + 3];
    const dx = bx - ax, dy = by - ay;
    for (let j = i + 4; j < m; j += 4) {
      const cx = all[j], cy = all[j + 1], ex = all[j + 2], ey = all[j + 3];
      // x ranges must overlap strictly for a crossing inside both edges' open x intervals
      const l = Math.max(ax, cx), h = Math.min(bx, ex);
      if (!(h > l)) continue;
      const fx = ex - cx, fy = ey - cy;
      const den = dx * fy - dy * fx;
      if (den === 0) continue; // parallel: never cross inside a slab
      const t = ((cx - ax) * fy - (cy - ay) * fx) / den;
      const x = ax + t * dx;
      // generous: a spurious boundary is harmless, a missed one costs accuracy
      if (x > l && x < h && x > lo && x < hi) xs.push(x);
    }
  }
}
