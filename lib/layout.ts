/*! craft-text | MIT */
// Reading order: words grouped into lines, lines ordered top to bottom, left to right, a column at a time.
// Pure functions of the word boxes (no pixels), so they are tested with hand-made pages (test/layout.test.ts).
//
// 1. De-skew: the median angle of the words' top edges (words wider than tall, within ±30°) is the page's skew; every
//    box is rotated by minus that angle and handled as its axis-aligned bounding box from then on.
// 2. Recursive XY-cut (Nagy & Seth): a block of words is split
//    - left | right at the widest vertical band of white running through the whole block, when it is at least
//      `columnGap` median word heights wide and both sides hold running text, i.e. at least `minColumnWords` words
//      per line on average (columns: read one before the other; a table's or a form's narrow cells, one or two
//      words per line, keep their rows together), else
//    - top / bottom at the widest horizontal band of white through the whole block (no word spans it);
//    a block that can't be split is a leaf.
// 3. A leaf's words become lines: in order of their centre's y, a word joins the current line while its centre is
//    within `lineTolerance` times the line's mean height of the line's mean centre (EasyOCR's ycenter_ths rule);
//    each line is then sorted left to right.
// The column test looks at white space and line length only: two side-by-side blocks of running text (3+ words a
// line) separated by a wide white river read as columns, even where a human would see a table of sentences.
import type { LayoutOptions, Point } from './types';

/** Line grouping defaults (multiples of the median word height). */
export const LAYOUT_DEFAULTS = Object.freeze({ lineTolerance: 0.5, columnGap: 1.5, minColumnWords: 3 });

/** A line in reading order: indices into the words given, left to right, and the axis-aligned box around them. */
export interface LayoutLine {
  box: [Point, Point, Point, Point];
  words: number[];
}

interface Geo {
  x0: number; x1: number; y0: number; y1: number; cy: number; h: number;
}

/** The page's skew in radians: the median top-edge angle of word boxes wider than tall (0 when there are none). */
export function pageSkew(boxes: readonly (readonly Point[])[]): number {
  const angles: number[] = [];
  for (const b of boxes) {
    if (b.length < 4) continue;
    const dx = (b[1][0] - b[0][0]) + (b[2][0] - b[3][0]);
    const dy = (b[1][1] - b[0][1]) + (b[2][1] - b[3][1]);
    const w = Math.hypot(dx, dy) / 2;
    const h = (Math.hypot(b[3][0] - b[0][0], b[3][1] - b[0][1]) + Math.hypot(b[2][0] - b[1][0], b[2][1] - b[1][1])) / 2;
    const a = Math.atan2(dy, dx);
    if (w >= h && Math.abs(a) < Math.PI / 6) angles.push(a);
  }
  if (angles.length === 0) return 0;
  angles.sort((p, q) => p - q);
  const m = angles.length >> 1;
  return angles.length % 2 ? angles[m] : (angles[m - 1] + angles[m]) / 2;
}

function median(v: number[]): number {
  if (v.length === 0) return 0;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every box as its axis-aligned extent in the page's de-skewed frame (rotated by minus the page's skew). */
function deskew(boxes: readonly (readonly Point[])[]): { skew: number; geo: Geo[] } {
  const skew = pageSkew(boxes);
  const c = Math.cos(-skew), s = Math.sin(-skew);
  const geo: Geo[] = boxes.map((b) => {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of b) {
      const rx = x * c - y * s, ry = x * s + y * c;
      x0 = Math.min(x0, rx); x1 = Math.max(x1, rx); y0 = Math.min(y0, ry); y1 = Math.max(y1, ry);
    }
    return { x0, x1, y0, y1, cy: (y0 + y1) / 2, h: Math.max(y1 - y0, 1e-6) };
  });
  return { skew, geo };
}

/** The widest gap along one axis through the whole block: [gap size, index in `sorted` where the second part starts]. */
function widestGap(ids: number[], lo: (i: number) => number, hi: (i: number) => number): [number, number, number[]] {
  const sorted = [...ids].sort((a, b) => lo(a) - lo(b));
  let reach = hi(sorted[0]);
  let best = -Infinity, at = -1;
  for (let k = 1; k < sorted.length; k++) {
    const gap = lo(sorted[k]) - reach;
    if (gap > best && gap > 0) { best = gap; at = k; }
    reach = Math.max(reach, hi(sorted[k]));
  }
  return [best, at, sorted];
}

/**
 * Groups words into lines in reading order.
 * @param boxes - each word's box (4 points, CRAFT's order) in image pixels.
 * @returns lines, top to bottom and a column at a time; each line's word indices left to right. Every word is in
 *   exactly one line.
 */
export function readingOrder(boxes: readonly (readonly Point[])[], options?: LayoutOptions): LayoutLine[] {
  const lineTolerance = options?.lineTolerance ?? LAYOUT_DEFAULTS.lineTolerance;
  const columnGap = options?.columnGap ?? LAYOUT_DEFAULTS.columnGap;
  const minColumnWords = options?.minColumnWords ?? LAYOUT_DEFAULTS.minColumnWords;
  if (boxes.length === 0) return [];
  const { geo } = deskew(boxes);
  const flat = geo.filter((g) => g.x1 - g.x0 >= g.h);
  const medH = median((flat.length > 0 ? flat : geo).map((g) => g.h)) || 1;

  const lines: number[][] = [];
  // Lines of a block, top to bottom, each left to right.
  const group = (ids: number[]): number[][] => {
    const out: number[][] = [];
    const byY = [...ids].sort((a, b) => geo[a].cy - geo[b].cy || geo[a].x0 - geo[b].x0);
    let cur: number[] = [];
    let sumY = 0, sumH = 0;
    const flush = () => {
      if (cur.length) out.push(cur.sort((a, b) => geo[a].x0 - geo[b].x0));
      cur = []; sumY = 0; sumH = 0;
    };
    for (const i of byY) {
      if (cur.length && Math.abs(sumY / cur.length - geo[i].cy) >= lineTolerance * (sumH / cur.length)) flush();
      cur.push(i); sumY += geo[i].cy; sumH += geo[i].h;
    }
    flush();
    return out;
  };
  const leaf = (ids: number[]) => { for (const l of group(ids)) lines.push(l); };
  const runningText = (ids: number[]) => ids.length >= minColumnWords * group(ids).length;
  const cut = (ids: number[]) => {
    if (ids.length > 1) {
      const [xg, xa, xs] = widestGap(ids, (i) => geo[i].x0, (i) => geo[i].x1);
      if (xa > 0 && xg >= columnGap * medH && runningText(xs.slice(0, xa)) && runningText(xs.slice(xa))) {
        cut(xs.slice(0, xa));
        cut(xs.slice(xa));
        return;
      }
      const [, ya, ys] = widestGap(ids, (i) => geo[i].y0, (i) => geo[i].y1);
      if (ya > 0) {
        cut(ys.slice(0, ya));
        cut(ys.slice(ya));
        return;
      }
    }
    leaf(ids);
  };
  cut(boxes.map((_, i) => i));

  return lines.map((ids) => {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const i of ids) {
      for (const [x, y] of boxes[i]) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
    return { box: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], words: ids };
  });
}

/**
 * Two consecutive words of a line in the de-skewed frame (joinRuns() and lineGaps() measure pairs alike): the gap
 * along the line in units of the larger height (negative where they overlap), and their vertical extents' overlap
 * in pixels with the smaller height it is compared to.
 */
function pairGap(a: Geo, b: Geo): { gap: number; overlap: number; minH: number } {
  const overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return { gap: (b.x0 - a.x1) / Math.max(a.h, b.h), overlap, minH: Math.min(a.h, b.h) };
}

/** Neighbouring words of a line that may be one word the detector split (lib/layout.ts joinRuns()). */
export interface JoinRun {
  /** Word indices, left to right (consecutive words of one line). */
  words: number[];
  /** The box around them in the page's de-skewed frame, turned back to the page (4 points, CRAFT's order). */
  box: [Point, Point, Point, Point];
  /** With `window`: per junction (words[k], words[k + 1]), the box reaching `window` heights into each side of it. */
  windows?: [Point, Point, Point, Point][];
}

/**
 * Runs of neighbouring words that may be one word split by the detector. CRAFT links characters by its affinity map,
 * which is weak between punctuation and the next character (`$41.90` comes out as `$41.` `90`) and breaks inside
 * words on noisy scans (`Numb` `er`), and the line text would join the pieces with spaces. Two consecutive words of a
 * line (`lines`: readingOrder()'s, indices into `boxes`) are a candidate pair when, in the page's de-skewed frame,
 * the gap between them along the line is under `maxGap` times the larger of their heights (and they overlap by less
 * than half that height: one box inside the other is not a word cut in two), their vertical extents
 * overlap by at least half the smaller one's height (the line's words, not a super- or subscript beside it), and
 * `eligible(left, right)` allows it. Consecutive candidate pairs chain into runs of at most `maxWords` words (a
 * longer chain is cut into runs of that size from the left). With `window`, each run also gets the box around each
 * of its junctions reaching `window` times the pair's larger height into both words (at most their whole extent).
 * Gap distributions: docs/recognition.md#split-words.
 */
export function joinRuns(boxes: readonly (readonly Point[])[], lines: readonly (readonly number[])[],
  options: { maxGap: number; maxWords?: number; eligible?: (left: number, right: number) => boolean; window?: number }):
  JoinRun[] {
  const { maxGap, maxWords = 4, eligible, window } = options;
  if (boxes.length === 0 || !(maxGap > 0)) return [];
  const { skew, geo } = deskew(boxes);
  const c = Math.cos(skew), s = Math.sin(skew);
  const back = (x: number, y: number): Point => [x * c - y * s, x * s + y * c];
  const runs: JoinRun[] = [];
  const emit = (ids: number[]) => {
    if (ids.length < 2) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const i of ids) {
      x0 = Math.min(x0, geo[i].x0); x1 = Math.max(x1, geo[i].x1); y0 = Math.min(y0, geo[i].y0); y1 = Math.max(y1, geo[i].y1);
    }
    const quad = (a: number, b: number, c: number, d: number): [Point, Point, Point, Point] =>
      [back(a, c), back(b, c), back(b, d), back(a, d)];
    const run: JoinRun = { words: ids, box: quad(x0, x1, y0, y1) };
    if (window !== undefined) {
      run.windows = ids.slice(1).map((id, k) => {
        const a = geo[ids[k]], b = geo[id], reach = window * Math.max(a.h, b.h);
        return quad(Math.max(a.x0, a.x1 - reach), Math.min(b.x1, b.x0 + reach), Math.min(a.y0, b.y0), Math.max(a.y1, b.y1));
      });
    }
    runs.push(run);
  };
  for (const line of lines) {
    let run: number[] = [];
    for (const i of line) {
      if (run.length > 0) {
        const last = run[run.length - 1];
        const { gap, overlap, minH } = pairGap(geo[last], geo[i]);
        const near = gap < maxGap && gap > -0.5 && overlap >= 0.5 * minH &&
          (eligible === undefined || eligible(last, i));
        if (!near || run.length >= maxWords) {
          emit(run);
          run = [];
        }
      }
      run.push(i);
    }
    emit(run);
  }
  return runs;
}

/** The gap between consecutive words of a line in units of the larger height (de-skewed; for measurements). */
export function lineGaps(boxes: readonly (readonly Point[])[], lines: readonly (readonly number[])[]):
  { left: number; right: number; gap: number; overlap: number }[] {
  if (boxes.length === 0) return [];
  const { geo } = deskew(boxes);
  const out: { left: number; right: number; gap: number; overlap: number }[] = [];
  for (const line of lines) {
    for (let k = 1; k < line.length; k++) {
      const { gap, overlap, minH } = pairGap(geo[line[k - 1]], geo[line[k]]);
      out.push({ left: line[k - 1], right: line[k], gap, overlap: overlap / minH });
    }
  }
  return out;
}
