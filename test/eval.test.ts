import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, type EvalSample, type GtWord, type Point } from '../lib/eval';

const box = (x0: number, y0: number, x1: number, y1: number): Point[] => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
const gt = (x0: number, y0: number, x1: number, y1: number, ignore = false): GtWord => ({ points: box(x0, y0, x1, y1), text: ignore ? '###' : 'w', ignore });
const det = (x0: number, y0: number, x1: number, y1: number) => ({ points: box(x0, y0, x1, y1) });
const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-12, msg ?? `${a} != ${b}`);
const prh = (r: { precision: number; recall: number; hmean: number }, p: number, rc: number, h: number): void => {
  close(r.precision, p, `precision ${r.precision} != ${p}`);
  close(r.recall, rc, `recall ${r.recall} != ${rc}`);
  close(r.hmean, h, `hmean ${r.hmean} != ${h}`);
};
const one = (s: EvalSample, o = {}) => evaluate([s], o);

// --- ICDAR 2015 IoU protocol --------------------------------------------------------------------------------
test('iou: identical boxes match', () => {
  const r = one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 10)] });
  prh(r, 1, 1, 1);
  assert.is(r.matched, 1);
  assert.equal(r.perImage[0].matches, [{ gt: [0], det: [0], type: 'one-to-one', iou: 1 }]);
  assert.is(r.protocol, 'iou');
});

test('iou: disjoint boxes', () => {
  const r = one({ gt: [gt(0, 0, 10, 10)], det: [det(20, 20, 30, 30)] });
  prh(r, 0, 0, 0);
  assert.is(r.gtCount, 1);
  assert.is(r.detCount, 1);
  assert.equal(r.perImage[0].unmatchedGt, [0]);
  assert.equal(r.perImage[0].unmatchedDet, [0]);
});

test('iou: unit squares shifted by half overlap with IoU 1/3 -> not matched', () => {
  const r = one({ gt: [gt(0, 0, 1, 1)], det: [det(0.5, 0, 1.5, 1)] });
  assert.is(r.matched, 0);
  prh(r, 0, 0, 0);
});

test('iou: just above 0.5 matches, just below and exactly 0.5 do not (strict >, as the RRC script)', () => {
  // GT 10x10; detection 10 x h inside it: IoU = h / 10
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 5.01)] }).matched, 1);
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 4.99)] }).matched, 0);
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 5)] }).matched, 0);
  // a lower threshold admits it
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 5)] }, { iouThreshold: 0.49 }).matched, 1);
  // and a stricter one rejects 0.8
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 8)] }, { iouThreshold: 0.8 }).matched, 0);
});

test('iou: one-to-one - two detections on one GT: one matches, the other is a false positive', () => {
  const r = one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 10, 10), det(0, 0, 10, 9)] });
  assert.is(r.matched, 1);
  prh(r, 0.5, 1, 2 / 3);
  assert.equal(r.perImage[0].matches.map((m) => m.det), [[0]]);
  assert.equal(r.perImage[0].unmatchedDet, [1]);
});

test('iou: one detection covering two GTs matches at most one', () => {
  const r = one({ gt: [gt(0, 0, 10, 10), gt(0, 0, 10, 9)], det: [det(0, 0, 10, 10)] });
  assert.is(r.matched, 1);
  prh(r, 1, 0.5, 2 / 3);
});

test('iou: greedy in the official order (GT by GT, first qualifying detection), not an optimal assignment', () => {
  // GT0 qualifies with det0 (IoU .667) and det1 (IoU 1); GT1 only with det0 (IoU .667).
  // GT0 takes det0 first, so GT1 is left unmatched although a 2-pair assignment exists.
  const r = one({ gt: [gt(0, 0, 10, 10), gt(4, 0, 14, 10)], det: [det(2, 0, 12, 10), det(0, 0, 10, 10)] });
  assert.is(r.matched, 1);
  assert.equal(r.perImage[0].matches[0].gt, [0]);
  assert.equal(r.perImage[0].matches[0].det, [0]);
  close(r.perImage[0].matches[0].iou!, 80 / 120);
});

test("iou: don't-care GT is not counted; detections > 50 % inside it are discarded", () => {
  const s: EvalSample = {
    gt: [gt(0, 0, 10, 10), gt(100, 0, 110, 10, true)],
    det: [
      det(0, 0, 10, 10), // matches the care word
      det(100, 0, 110, 10), // exactly on the don't-care region -> discarded
      det(104, 0, 114, 10), // 60 % inside -> discarded
      det(105, 0, 115, 10), // exactly 50 % inside -> kept (strict >), a false positive
      det(106, 0, 116, 10), // 40 % inside -> kept, a false positive
    ],
  };
  const r = one(s);
  assert.is(r.gtCount, 1);
  assert.is(r.gtIgnored, 1);
  assert.is(r.detCount, 3);
  assert.is(r.detIgnored, 2);
  assert.equal(r.perImage[0].ignoredGt, [1]);
  assert.equal(r.perImage[0].ignoredDet, [1, 2]);
  assert.equal(r.perImage[0].unmatchedDet, [3, 4]);
  prh(r, 1 / 3, 1, 0.5);
  // a don't-care GT is never matched, even by an identical detection
  assert.is(one({ gt: [gt(0, 0, 10, 10, true)], det: [det(0, 0, 10, 10)] }).matched, 0);
  // the text "###" alone does not make a GtWord don't-care at this level: `ignore` does
  assert.is(one({ gt: [{ points: box(0, 0, 10, 10), text: '###' }], det: [] }).gtCount, 1);
});

test("iou: the don't-care rule looks at one region at a time", () => {
  // 30 % + 30 % inside two adjacent don't-care regions: neither alone exceeds 50 % -> kept
  const r = one({ gt: [gt(0, 0, 3, 10, true), gt(3, 0, 6, 10, true)], det: [det(0, 0, 10, 10)] });
  assert.is(r.detIgnored, 0);
  assert.is(r.detCount, 1);
});

test('iou: empty sets follow the RRC script', () => {
  // nothing at all
  const e = evaluate([]);
  prh(e, 0, 0, 0);
  assert.is(e.images, 0);
  // an image with neither GT nor detections is perfect on its own, but adds nothing to the totals
  const n = one({ gt: [], det: [] });
  prh(n.perImage[0], 1, 1, 1);
  prh(n, 0, 0, 0);
  // GT but no detections: recall 0, precision 0
  prh(one({ gt: [gt(0, 0, 1, 1)], det: [] }).perImage[0], 0, 0, 0);
  // detections but no GT: per image recall 1, precision 0; set: both 0 (no GT to recall)
  const d = one({ gt: [], det: [det(0, 0, 1, 1)] });
  prh(d.perImage[0], 0, 1, 0);
  prh(d, 0, 0, 0);
  // only don't-care GT and only detections inside it: nothing counts -> per image 1/1
  const dc = one({ gt: [gt(0, 0, 10, 10, true)], det: [det(1, 1, 9, 9)] });
  prh(dc.perImage[0], 1, 1, 1);
  assert.is(dc.detIgnored, 1);
});

test('iou: totals are summed over images (not averaged per image)', () => {
  const r = evaluate([
    { gt: [gt(0, 0, 1, 1), gt(2, 0, 3, 1), gt(4, 0, 5, 1)], det: [det(0, 0, 1, 1), det(2, 0, 3, 1), det(4, 0, 5, 1)] },
    { gt: [gt(0, 0, 1, 1)], det: [det(5, 5, 6, 6)] },
  ]);
  assert.is(r.matched, 3);
  assert.is(r.gtCount, 4);
  assert.is(r.detCount, 4);
  prh(r, 0.75, 0.75, 0.75);
  prh(r.perImage[1], 0, 0, 0);
});

test('iou: degenerate polygons never throw and never match', () => {
  const r = one({
    gt: [{ points: box(5, 5, 5, 9) }, { points: [[0, 0], [1, 1]] }, { points: [] }, gt(20, 20, 30, 30)],
    det: [
      { points: box(5, 5, 5, 9) }, // zero area, identical to GT 0
      { points: [[20, 20], [25, 25], [30, 30]] }, // collinear
      { points: [[0, 0]] },
      { points: [[20, 20], [30, 30], [30, 20], [20, 30]] }, // bow-tie over GT 3: IoU 0.5 -> not matched
      det(20, 20, 30, 30),
    ],
  });
  assert.is(r.gtCount, 4);
  assert.is(r.detCount, 5);
  assert.is(r.matched, 1);
  assert.equal(r.perImage[0].matches.map((m) => [m.gt[0], m.det[0]]), [[3, 4]]);
  // a zero-area detection on a don't-care region is kept (0/0 -> 0 inside, as the RRC script)
  assert.is(one({ gt: [gt(0, 0, 10, 10, true)], det: [{ points: box(5, 5, 5, 5) }] }).detCount, 1);
});

test('iou: polygons (non-convex) are scored on their exact areas', () => {
  // an L-shaped GT (area 3) and its bounding square (area 4): IoU 0.75
  const L: Point[] = [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]];
  const r = one({ gt: [{ points: L }], det: [det(0, 0, 2, 2)] });
  close(r.perImage[0].matches[0].iou!, 0.75);
});

test('iou: ids and indices are carried into per-image results', () => {
  const r = evaluate([{ id: 'a.png', gt: [gt(0, 0, 1, 1)], det: [det(0, 0, 1, 1)] }, { gt: [], det: [] }]);
  assert.is(r.perImage[0].id, 'a.png');
  assert.is(r.perImage[1].id, undefined);
  assert.is(r.perImage[1].index, 1);
});

// --- DetEval ---------------------------------------------------------------------------------------------------
const DE = { protocol: 'deteval' as const };

test('deteval: identical boxes match one-to-one', () => {
  const r = one({ gt: [gt(0, 0, 10, 2)], det: [det(0, 0, 10, 2)] }, DE);
  prh(r, 1, 1, 1);
  assert.is(r.perImage[0].matches[0].type, 'one-to-one');
});

test('deteval: split word (one GT, two detections) = one-to-many, weight 0.8', () => {
  const r = one({ gt: [gt(0, 0, 10, 2)], det: [det(0, 0, 5, 2), det(5, 0, 10, 2)] }, DE);
  assert.equal(r.perImage[0].matches, [{ gt: [0], det: [0, 1], type: 'one-to-many' }]);
  close(r.recallScore, 0.8);
  close(r.precisionScore, 1.6);
  prh(r, 0.8, 0.8, 0.8);
  assert.is(r.matched, 1);
  // the IoU protocol matches neither half (IoU 0.5, not > 0.5)
  prh(one({ gt: [gt(0, 0, 10, 2)], det: [det(0, 0, 5, 2), det(5, 0, 10, 2)] }), 0, 0, 0);
});

test('deteval: merged words (two GTs, one detection) = many-to-one, weight 1', () => {
  const r = one({ gt: [gt(0, 0, 4, 2), gt(6, 0, 10, 2)], det: [det(0, 0, 10, 2)] }, DE);
  assert.equal(r.perImage[0].matches, [{ gt: [0, 1], det: [0], type: 'many-to-one' }]);
  close(r.recallScore, 2);
  close(r.precisionScore, 1);
  prh(r, 1, 1, 1);
  assert.is(r.matched, 2);
  // IoU protocol: 8/20 each -> nothing
  assert.is(one({ gt: [gt(0, 0, 4, 2), gt(6, 0, 10, 2)], det: [det(0, 0, 10, 2)] }).matched, 0);
});

test('deteval: area recall 0.8 and area precision 0.4 bounds', () => {
  // detection covers 79 % / 80 % of the GT
  assert.is(one({ gt: [gt(0, 0, 100, 2)], det: [det(0, 0, 79, 2)] }, DE).matched, 0);
  assert.is(one({ gt: [gt(0, 0, 100, 2)], det: [det(0, 0, 80, 2)] }, DE).matched, 1);
  // detection 2.5x the GT (precision exactly 0.4) matches, 2.6x does not
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 25, 10)] }, DE).matched, 1);
  assert.is(one({ gt: [gt(0, 0, 10, 10)], det: [det(0, 0, 26, 10)] }, DE).matched, 0);
});

test('deteval: a split with an uncovered remainder below 0.8 is not matched', () => {
  const r = one({ gt: [gt(0, 0, 10, 2)], det: [det(0, 0, 4, 2), det(5, 0, 8, 2)] }, DE); // 70 % covered
  assert.is(r.matched, 0);
  prh(r, 0, 0, 0);
});

test('deteval: a detection overlapping a second GT is not one-to-one ("not single overlap")', () => {
  // det covers GT0 fully and grazes GT1; GT1 alone is not covered 80 % -> no one-to-one; the many-to-one
  // test (GTs with recall >= 0.8) finds only GT0 and counts it as a one-to-one credit.
  const r = one({ gt: [gt(0, 0, 10, 2), gt(10, 0, 20, 2)], det: [det(0, 0, 11, 2)] }, DE);
  assert.equal(r.perImage[0].matches, [{ gt: [0], det: [0], type: 'one-to-one' }]);
  close(r.recallScore, 1);
  close(r.precisionScore, 1);
});

test("deteval: don't-care regions (detections > 40 % inside are discarded)", () => {
  const r = one({
    gt: [gt(0, 0, 10, 2), gt(100, 0, 110, 2, true)],
    det: [det(0, 0, 10, 2), det(105, 0, 115, 2) /* 50 % inside */, det(107, 0, 117, 2) /* 30 % */],
  }, DE);
  assert.is(r.detIgnored, 1);
  assert.is(r.gtIgnored, 1);
  prh(r, 0.5, 1, 2 / 3);
});

test('deteval: empty sets and degenerate polygons', () => {
  prh(evaluate([], DE), 0, 0, 0);
  prh(one({ gt: [], det: [] }, DE).perImage[0], 1, 1, 1);
  prh(one({ gt: [gt(0, 0, 1, 1)], det: [] }, DE).perImage[0], 0, 0, 0);
  prh(one({ gt: [], det: [det(0, 0, 1, 1)] }, DE).perImage[0], 0, 1, 0);
  const r = one({ gt: [{ points: box(1, 1, 1, 5) }, gt(0, 0, 10, 2)], det: [{ points: [[0, 0], [3, 3]] }, { points: box(1, 1, 1, 5) }, det(0, 0, 10, 2)] }, DE);
  assert.is(r.matched, 1);
  assert.is(r.gtCount, 2);
  assert.is(r.detCount, 3);
});

// --- arguments ---------------------------------------------------------------------------------------------
test('arguments: invalid options and samples give TypeError / RangeError naming the culprit', () => {
  assert.throws(() => evaluate([], { protocol: 'map' as never }), (e: Error) => e instanceof RangeError && /protocol/.test(e.message));
  assert.throws(() => evaluate([], { iouThreshold: 1.5 }), (e: Error) => e instanceof RangeError && /iouThreshold/.test(e.message));
  assert.throws(() => evaluate([], { iouThreshold: '0.5' as never }), (e: Error) => e instanceof TypeError && /iouThreshold/.test(e.message));
  assert.throws(() => evaluate([], { iouThresh: 0.5 } as never), (e: Error) => e instanceof TypeError && /iouThresh/.test(e.message));
  assert.throws(() => evaluate({} as never), (e: Error) => e instanceof TypeError && /samples/.test(e.message));
  assert.throws(() => evaluate([{ gt: [], det: [{ points: [[0, NaN]] }] }] as never),
    (e: Error) => e instanceof RangeError && /samples\[0\]\.det\[0\]\.points\[0\]/.test(e.message));
  assert.throws(() => evaluate([{ gt: [{ points: [[0, 0, 1]] }], det: [] }] as never),
    (e: Error) => e instanceof TypeError && /samples\[0\]\.gt\[0\]\.points\[0\]/.test(e.message));
  assert.throws(() => evaluate([{ gt: [] }] as never), (e: Error) => e instanceof TypeError && /samples\[0\]\.det/.test(e.message));
  const r = evaluate([], { protocol: 'deteval' });
  assert.equal(r.options, { protocol: 'deteval', iouThreshold: 0.5, dontCareThreshold: 0.4, areaRecall: 0.8, areaPrecision: 0.4,
    oneToManyWeight: 0.8, manyToOneWeight: 1, centerDistance: 1 });
});

test.run();
