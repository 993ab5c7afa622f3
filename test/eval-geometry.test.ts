import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intersectionArea, iou, polygonArea, unionArea, type Point } from '../lib/eval';

const close = (a: number, b: number, eps = 1e-9, msg?: string): void =>
  assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), msg ?? `${a} != ${b}`);
const box = (x0: number, y0: number, x1: number, y1: number): Point[] => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];

// --- references used only by the tests --------------------------------------------------------------------
const shoelace = (p: Point[]): number => {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const [x0, y0] = p[i], [x1, y1] = p[(i + 1) % p.length];
    s += x0 * y1 - x1 * y0;
  }
  return Math.abs(s) / 2;
};
/** Sutherland-Hodgman: subject clipped by a convex polygon. */
function clipConvex(subject: Point[], clip: Point[]): Point[] {
  let orient = 0;
  for (let i = 0; i < clip.length; i++) {
    const [x0, y0] = clip[i], [x1, y1] = clip[(i + 1) % clip.length];
    orient += x0 * y1 - x1 * y0;
  }
  const sign = orient >= 0 ? 1 : -1;
  let out = subject;
  for (let i = 0; i < clip.length && out.length > 0; i++) {
    const a = clip[i], b = clip[(i + 1) % clip.length];
    const side = (p: Point): number => sign * ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]));
    const input = out;
    out = [];
    for (let j = 0; j < input.length; j++) {
      const p = input[j], q = input[(j + 1) % input.length];
      const sp = side(p), sq = side(q);
      if (sp >= 0) out.push(p);
      if ((sp >= 0) !== (sq >= 0)) {
        const t = sp / (sp - sq);
        out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
      }
    }
  }
  return out;
}
function hull(pts: Point[]): Point[] {
  const p = [...pts].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [], upper: Point[] = [];
  for (const q of p) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop(); lower.push(q); }
  for (const q of p.reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop(); upper.push(q); }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}
let seed = 12345;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

// --- areas ---------------------------------------------------------------------------------------------------
test('area: square, triangle, closing point repeated, orientation', () => {
  assert.is(polygonArea(box(0, 0, 1, 1)), 1);
  close(polygonArea([[0, 0], [4, 0], [0, 3]]), 6);
  assert.is(polygonArea([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]), 1);
  assert.is(polygonArea(box(0, 0, 1, 1).reverse()), 1);
});

test('area: non-convex U shape and a self-touching ring', () => {
  const u: Point[] = [[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]];
  close(polygonArea(u), 7);
  // two unit squares meeting at (1,1), drawn as one ring
  close(polygonArea([[0, 0], [1, 0], [1, 1], [2, 1], [2, 2], [1, 2], [1, 1], [0, 1]]), 2);
});

test('area: self-intersecting bow-tie uses the even-odd fill (two triangles)', () => {
  close(polygonArea([[0, 0], [2, 2], [2, 0], [0, 2]]), 2);
});

test('area: degenerate polygons are 0 and never throw', () => {
  assert.is(polygonArea([]), 0);
  assert.is(polygonArea([[1, 1]]), 0);
  assert.is(polygonArea([[0, 0], [5, 5]]), 0);
  assert.is(polygonArea([[0, 0], [1, 1], [2, 2], [3, 3]]), 0); // collinear
  assert.is(polygonArea([[3, 4], [3, 4], [3, 4], [3, 4]]), 0); // one point repeated
  assert.is(polygonArea(box(2, 2, 2, 9)), 0); // zero width
  assert.is(polygonArea(box(2, 5, 9, 5)), 0); // zero height
  assert.is(intersectionArea(box(2, 2, 2, 9), box(0, 0, 10, 10)), 0);
  assert.is(iou(box(2, 2, 2, 9), box(2, 2, 2, 9)), 0); // empty union -> 0, as the RRC script
  assert.is(iou([], box(0, 0, 1, 1)), 0);
});

// --- intersections -------------------------------------------------------------------------------------------
test('intersection: identical, disjoint, touching, half overlap (IoU exactly 1/3)', () => {
  assert.is(intersectionArea(box(0, 0, 1, 1), box(0, 0, 1, 1)), 1);
  assert.is(iou(box(0, 0, 1, 1), box(0, 0, 1, 1)), 1);
  assert.is(intersectionArea(box(0, 0, 1, 1), box(5, 5, 6, 6)), 0);
  assert.is(intersectionArea(box(0, 0, 1, 1), box(1, 0, 2, 1)), 0); // shared edge
  assert.is(intersectionArea(box(0, 0, 1, 1), box(1, 1, 2, 2)), 0); // shared corner
  assert.is(intersectionArea(box(0, 0, 1, 1), box(0.5, 0, 1.5, 1)), 0.5);
  assert.is(unionArea(box(0, 0, 1, 1), box(0.5, 0, 1.5, 1)), 1.5);
  close(iou(box(0, 0, 1, 1), box(0.5, 0, 1.5, 1)), 1 / 3, 1e-15);
});

test('intersection: rotated square inside a diamond, containment, far from the origin', () => {
  const diamond: Point[] = [[1, 0], [0, 1], [-1, 0], [0, -1]];
  close(polygonArea(diamond), 2);
  close(intersectionArea(diamond, box(-0.5, -0.5, 0.5, 0.5)), 1);
  close(intersectionArea(diamond, box(0, 0, 1, 1)), 0.5);
  close(intersectionArea(box(0, 0, 10, 10), box(2, 3, 4, 5)), 4);
  const o = 1e6;
  close(iou(box(o, o, o + 1, o + 1), box(o + 0.5, o, o + 1.5, o + 1)), 1 / 3, 1e-9);
});

test('intersection: non-convex shapes with hand-computed answers', () => {
  const u: Point[] = [[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]];
  close(intersectionArea(u, box(0, 2, 3, 3)), 2); // both arms
  close(intersectionArea(u, box(1, 0, 2, 3)), 1); // only the base under the notch
  close(intersectionArea(u, box(1.2, 1.5, 1.8, 2.5)), 0); // inside the notch
  close(intersectionArea(u, u), 7);
});

test('intersection: comb (4 teeth) vs the same comb shifted by half a tooth', () => {
  // base [0,4]x[0,1] and teeth [0,0.5],[1,1.5],[2,2.5],[3,3.5] x [1,2]
  const teeth = [0, 1, 2, 3];
  const ring: Point[] = [[0, 0], [4, 0], [4, 1]];
  for (const t of [...teeth].reverse()) ring.push([t + 0.5, 1], [t + 0.5, 2], [t, 2], [t, 1]);
  close(polygonArea(ring), 4 + 4 * 0.5);
  const shifted = ring.map(([x, y]) => [x + 0.5, y] as Point);
  // bases overlap 3.5 x 1; teeth never overlap (shifted teeth fill the gaps)
  close(intersectionArea(ring, shifted), 3.5);
  const shifted1 = ring.map(([x, y]) => [x + 1, y] as Point);
  close(intersectionArea(ring, shifted1), 3 + 3 * 0.5);
});

test('intersection: random convex polygons agree with Sutherland-Hodgman', () => {
  for (let k = 0; k < 400; k++) {
    const gen = (): Point[] => hull(Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => [rnd() * 100, rnd() * 100] as Point));
    const a = gen(), b = gen();
    if (a.length < 3 || b.length < 3) continue;
    close(polygonArea(a), shoelace(a), 1e-9, `area #${k}`);
    const ref = shoelace(clipConvex(a, b));
    close(intersectionArea(a, b), ref, 1e-9, `intersection #${k}: ${intersectionArea(a, b)} vs ${ref}`);
    close(intersectionArea(b, a), ref, 1e-9, `symmetry #${k}`);
  }
});

test('intersection: random non-convex (star) vs convex agrees with Sutherland-Hodgman', () => {
  for (let k = 0; k < 200; k++) {
    const n = 5 + Math.floor(rnd() * 10);
    const cx = 50, cy = 50;
    const star: Point[] = Array.from({ length: n }, (_, i) => {
      const r = 10 + rnd() * 40, t = (2 * Math.PI * i) / n;
      return [cx + r * Math.cos(t), cy + r * Math.sin(t)] as Point;
    });
    const conv = hull(Array.from({ length: 6 }, () => [rnd() * 100, rnd() * 100] as Point));
    close(polygonArea(star), shoelace(star), 1e-9);
    // SH with a convex clip works for a non-convex subject as far as the area goes
    close(intersectionArea(star, conv), shoelace(clipConvex(star, conv)), 1e-9, `#${k}`);
  }
});

test('intersection: results stay within [0, min(area)] and IoU within [0, 1]', () => {
  for (let k = 0; k < 200; k++) {
    const q = (): Point[] => Array.from({ length: 4 }, () => [Math.round(rnd() * 10), Math.round(rnd() * 10)] as Point);
    const a = q(), b = q();
    const i = intersectionArea(a, b);
    assert.ok(i >= 0 && i <= Math.min(polygonArea(a), polygonArea(b)));
    const v = iou(a, b);
    assert.ok(v >= 0 && v <= 1 && Number.isFinite(v));
  }
});

test.run();
