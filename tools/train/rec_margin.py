#!/usr/bin/env python3
"""The margin around the text in the bundled recogniser's training crops: where `craft.recognizer.margin` comes from.

    python3 tools/train/rec_margin.py            # ~30 s: 1,500 synthetic lines + 100,000 real-page boxes
    python3 tools/train/rec_margin.py --synth 0  # real-page boxes only (no fonts / assets needed)

Training crops (train_rec.py `Batches`) are cut around a word's tight box by `WordSynth.box` (tools/train/wordsynth.py):
a random margin on each side (25 % tight, 55 % CRAFT-like, 20 % loose, in units of the box's height h = the side
across the reading direction), the side margins capped near neighbouring words, corners jittered. This script calls
that function itself on a box of height 1 and measures what each side moved outward:
  * real page words (FUNSD, ICDAR 2013; train_rec.py `Batches.real`): gap 0.35 h, neighbours on both sides;
  * synthetic words: the (box, gap, neighbour) arguments the generator actually passes, recorded over --synth lines.
ICDAR 2015 samples (15 % of a batch) are the organisers' crops, whose margin around the text is not known here;
they are left out. The runtime's `margin` (PlanCrop) adds one fraction of the text height on every side, so the
median over all sides of the synthetic + page mix (weighted as DEFAULT_MIX) is the value the model saw most.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wordsynth  # noqa: E402
from wordsynth import WordSynth  # noqa: E402

BOX = WordSynth.box


def sides(q: np.ndarray, length: float, h: float = 1.0) -> np.ndarray:
    """Outward movement of each side (top, bottom, left, right) of the box [0, length] x [0, h], in units of h."""
    top = -(q[0, 1] + q[1, 1]) / 2
    bottom = (q[2, 1] + q[3, 1]) / 2 - h
    left = -(q[0, 0] + q[3, 0]) / 2
    right = (q[1, 0] + q[2, 0]) / 2 - length
    return np.array([top, bottom, left, right]) / h


def measure(args: list[tuple[float, float, bool, bool]], seed: int) -> np.ndarray:
    """Margins of WordSynth.box for each (aspect, gap / h, has_left, has_right), on an axis-aligned box of height 1."""
    rng = np.random.default_rng(seed)
    out = []
    for aspect, gap, hl, hr in args:
        L = max(aspect, 1.05)  # keep the longer side along the reading direction (box orders by the longer edge)
        pts = np.array([[0, 0], [L, 0], [L, 1], [0, 1]], np.float64)
        out.append(sides(BOX(pts, rng, 1.0, gap, hl, hr), L))
    return np.array(out)


def synth_args(lines: int, seed: int) -> list[tuple[float, float, bool, bool]]:
    """The arguments the word generator passes to box() over `lines` lines (its tight box measured the same way)."""
    import cv2
    rec = []

    def spy(pts, rng, size, gap, has_left, has_right):
        r = cv2.minAreaRect(pts.astype(np.float32))
        w, h = sorted(r[1])[::-1]
        if h > 0:
            rec.append((w / h, gap / h, has_left, has_right))
        return BOX(pts, rng, size, gap, has_left, has_right)

    WordSynth.box = staticmethod(spy)
    try:
        ws = wordsynth.SafeWordSynth(seed)
        for i in range(lines):
            try:
                ws.get(i)
            except Exception:  # noqa: BLE001  (a line the generator refuses: no box)
                pass
    finally:
        WordSynth.box = staticmethod(BOX)
    return rec


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    o = np.argsort(x)
    c = np.cumsum(w[o])
    return float(x[o][np.searchsorted(c, c[-1] / 2)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--synth', type=int, default=1500, help='synthetic lines to record box() arguments from (0: none)')
    ap.add_argument('--real', type=int, default=100000, help='real-page boxes to draw')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    sets = {'pages (FUNSD, ICDAR 2013)': (measure([(4.0, 0.35, True, True)] * a.real, a.seed + 1), 0.18 + 0.12)}
    if a.synth > 0:
        sets['synthetic'] = (measure(synth_args(a.synth, a.seed), a.seed + 2), 0.55)
    print('margin around the text in training crops, fraction of the box height (q25 / median / q75 / mean)')
    for name, (m, _) in sets.items():
        for label, cols in (('across (top, bottom)', [0, 1]), ('along (left, right)', [2, 3])):
            v = m[:, cols].ravel()
            q = np.quantile(v, [0.25, 0.5, 0.75])
            print(f'  {name:26s} {label:21s} {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f} / {v.mean():.3f}  ({len(m)} boxes)')
    allv = np.concatenate([m.ravel() for m, _ in sets.values()])
    w = np.concatenate([np.full(m.size, wt / m.size) for m, wt in sets.values()])
    across = np.concatenate([m[:, :2].ravel() for m, _ in sets.values()])
    wa = np.concatenate([np.full(2 * len(m), wt / (2 * len(m))) for m, wt in sets.values()])
    along = np.concatenate([m[:, 2:].ravel() for m, _ in sets.values()])
    print(f'mix (weights as DEFAULT_MIX without ICDAR 2015): median across {weighted_median(across, wa):.3f}, '
          f'along {weighted_median(along, wa):.3f}, all sides {weighted_median(allv, w):.3f}')


if __name__ == '__main__':
    main()
