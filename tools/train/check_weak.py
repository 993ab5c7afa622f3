#!/usr/bin/env python3
"""Check weak.py's pseudo character boxes against known ones: characters drawn as the synthetic ground truth
(synth.make_gt, exact ink boxes) inside a loose word box (padding 0.3 x the text height on every side, as FUNSD's
boxes are), split by weak.split_word with the right length. A model that reproduces the synthetic ground truth must
get its character boxes back: mean IoU with the ink boxes at least 0.8 at every height (it was ~0.43 before
weak.tighten: the split intervals ran the word box's full height and from valley to valley).

    python3 tools/train/check_weak.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402
import weak  # noqa: E402


def quad(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def iou(a, b):
    (ax0, ay0), (ax1, ay1) = a.min(0), a.max(0)
    (bx0, by0), (bx1, by1) = b.min(0), b.max(0)
    i = max(0, min(ax1, bx1) - max(ax0, bx0)) * max(0, min(ay1, by1) - max(ay0, by0))
    return i / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - i)


def synthetic_word(rng):
    """A word of n characters of height h drawn at (30, 100): (h, n, right end x, character quads [n, 4, 2])."""
    h, n, x = rng.uniform(10, 60), int(rng.integers(2, 8)), 30.0
    chars = []
    for _ in range(n):
        w = h * rng.uniform(0.4, 0.8)
        chars.append(quad(x, 100, x + w, 100 + h))
        x += w + h * rng.uniform(0.05, 0.25)
    return h, n, x, np.array(chars)


def main():
    rng = np.random.default_rng(0)
    worst = 1.0
    for _ in range(20):
        h, n, x, chars = synthetic_word(rng)
        region, _ = synth.make_gt([chars], 384)
        pad = 0.3 * h
        got, conf = weak.split_word(region, quad(30 - pad, 100 - pad, x + pad, 100 + h + pad), n)
        assert len(got) == n and conf == 1.0, (h, n, len(got), conf)
        m = float(np.mean([iou(a, b) for a, b in zip(got, chars)]))
        worst = min(worst, m)
        print(f'height {h:5.1f} px, {n} characters: mean IoU {m:.3f}')
    assert worst >= 0.8, worst
    print(f'ok: worst mean IoU {worst:.3f}')


if __name__ == '__main__':
    main()
