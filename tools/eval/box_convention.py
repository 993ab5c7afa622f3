"""Which pixel convention do a dev set's axis-aligned word boxes use? Measured from the ink at the box borders.

    python3 tools/eval/box_convention.py [--frac 0.5] [--widen 0] [--sets icdar2013_born_digital funsd_train] [--json out]

A box [x0, y0, x1, y1] as written is either inclusive pixel ranges (columns x0..x1, the far edge of the
continuous box is x1 + 1; ICDAR 2013's documented convention) or continuous / exclusive (columns x0..x1 - 1).
A tight annotation has ink in its first and last pixel column and none just outside. So per word:
  * P(ink) in the columns x0 - 1, x0 (near edge) and x1 - 1, x1, x1 + 1 (far edge), same for the rows;
  * the margin from each edge to the ink: left = first ink column - x0, right = x1 - last ink column
    (inclusive and tight: both 0; exclusive and tight: left 0, right 1; a loose box shifts both alike).
Inclusive <=> the far-edge statistics match the near edge's with the far edge at x1 (P(ink at x1) ~ P(ink at x0));
exclusive <=> they match with the far edge at x1 - 1 (P(ink at x1) ~ P(ink at x0 - 1)).
Ink = pixels farther from the local background (median of the box and a 3 px ring) than `frac` of the word's
contrast (98th percentile of that distance inside the box); column statistics use only the rows inside the box under
both conventions (y0 + 1 .. y1 - 1), row statistics the columns x0 + 1 .. x1 - 1. Words under 3 px or with
contrast < 40 grey levels are skipped. Reads <repoRoot>/../shared/data (read-only).
"""
from __future__ import annotations

import argparse
import json
import os
from collections import Counter

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', '..', 'shared', 'data')
RING = 3


def grey(path: str) -> np.ndarray:
    im = Image.open(path)
    if im.mode not in ('RGB', 'L'):
        im = im.convert('RGB')
    return np.asarray(im.convert('L')).astype(np.int16)


def axis_box(points):
    """Integer [x0, y0, x1, y1] of an axis-aligned 4-point box, else None."""
    if len(points) != 4:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if not all(float(v).is_integer() for v in xs + ys):
        return None
    x0, x1, y0, y1 = int(min(xs)), int(max(xs)), int(min(ys)), int(max(ys))
    if not all((x in (x0, x1)) and (y in (y0, y1)) for x, y in points):
        return None
    return x0, y0, x1, y1


def word_stats(img: np.ndarray, box, frac: float):
    """Per-word ink facts, or None when the word cannot be measured."""
    x0, y0, x1, y1 = box
    H, W = img.shape
    if x1 - x0 < 3 or y1 - y0 < 3 or x0 - RING < 0 or y0 - RING < 0 or x1 + RING >= W or y1 + RING >= H:
        return None
    win = img[y0 - RING:y1 + RING + 1, x0 - RING:x1 + RING + 1]
    bg = np.median(win)
    d = np.abs(win - bg)
    inner = d[RING + 1:RING + y1 - y0, RING + 1:RING + x1 - x0]  # rows y0+1..y1-1, cols x0+1..x1-1
    contrast = np.percentile(inner, 98)
    if contrast < 40:
        return None
    ink = d > frac * contrast
    cols = ink[RING + 1:RING + y1 - y0].any(0)          # index i <-> column x0 - RING + i
    rows = ink[:, RING + 1:RING + x1 - x0].any(1)       # index i <-> row    y0 - RING + i
    c = lambda x: bool(cols[x - x0 + RING])
    r = lambda y: bool(rows[y - y0 + RING])
    inner_c, inner_r = np.flatnonzero(cols[RING:RING + x1 - x0 + 1]), np.flatnonzero(rows[RING:RING + y1 - y0 + 1])
    if len(inner_c) == 0 or len(inner_r) == 0:
        return None
    prof = {f'x0{k:+d}': c(x0 + k) for k in range(-RING, RING + 1)}
    prof.update({f'x1{-k:+d}': c(x1 - k) for k in range(-RING, RING + 1)})
    prof.update({f'y0{k:+d}': r(y0 + k) for k in range(-RING, RING + 1)})
    prof.update({f'y1{-k:+d}': r(y1 - k) for k in range(-RING, RING + 1)})
    return {
        **prof,
        'x0-1': c(x0 - 1), 'x0': c(x0), 'x1-1': c(x1 - 1), 'x1': c(x1), 'x1+1': c(x1 + 1),
        'y0-1': r(y0 - 1), 'y0': r(y0), 'y1-1': r(y1 - 1), 'y1': r(y1), 'y1+1': r(y1 + 1),
        # margins to the first / last ink inside [x0, x1] (inclusive span, so an exclusive box shows right >= 1)
        'left': int(inner_c[0]), 'right': int(x1 - x0 - inner_c[-1]),
        'top': int(inner_r[0]), 'bottom': int(y1 - y0 - inner_r[-1]),
    }


def measure(name: str, frac: float, widen: int = 0) -> dict:
    d = os.path.join(DATA, name)
    words, skipped = [], 0
    with open(os.path.join(d, 'gt.jsonl'), encoding='utf-8') as fh:
        for line in fh:
            rec = json.loads(line)
            img = None
            for w in rec['words']:
                if w.get('ignore'):
                    continue
                box = axis_box(w['points'])
                if box is None:
                    skipped += 1
                    continue
                box = (box[0], box[1], box[2] + widen, box[3] + widen)
                if img is None:
                    img = grey(os.path.join(d, rec['image']))
                s = word_stats(img, box, frac)
                if s is None:
                    skipped += 1
                else:
                    words.append(s)
    n = len(words)
    p = {k: sum(w[k] for w in words) / max(n, 1) for k in ('x0-1', 'x0', 'x1-1', 'x1', 'x1+1', 'y0-1', 'y0', 'y1-1', 'y1', 'y1+1')}
    prof = {k: sum(w[k] for w in words) / max(n, 1) for k in words[0] if k[:2] in ('x0', 'x1', 'y0', 'y1')}
    hist = {k: Counter(min(w[k], 3) for w in words) for k in ('left', 'right', 'top', 'bottom')}
    mean = {k: float(np.mean([w[k] for w in words])) for k in ('left', 'right', 'top', 'bottom')}
    return {'set': name, 'words': n, 'skipped': skipped, 'p_ink': p, 'margin_hist': hist, 'margin_mean': mean, 'profile': prof}


def verdict(p: dict, near: str) -> str:
    """'inclusive' when ink at the far coordinate is as frequent as at the near one, 'exclusive' when it is as rare as
    just outside the near edge."""
    out_near, in_near = p[f'{near}0-1'], p[f'{near}0']
    far = p[f'{near}1']
    return 'inclusive' if abs(far - in_near) < abs(far - out_near) else 'exclusive'


def far_shift(prof: dict, a: str) -> float:
    """Shift s (px) that best aligns the mirrored far-edge profile P(ink at a1 - k) with the near-edge profile
    P(ink at a0 + k - s), k = -RING..RING (L1, linear interpolation, s in [-1.5, 2.5] by 0.05): inclusive ~ 0,
    exclusive ~ 1 (the far coordinate is one pixel outside the last covered column)."""
    ks = np.arange(-RING, RING + 1)
    near = np.array([prof[f'{a}0{k:+d}'] for k in ks])
    far = np.array([prof[f'{a}1{-k:+d}'] for k in ks])
    best = None
    for s in np.arange(-1.5, 2.5001, 0.05):
        # near profile at k - s, only where k - s stays inside the measured range
        ok = (ks - s >= -RING) & (ks - s <= RING)
        err = np.abs(far[ok] - np.interp(ks[ok] - s, ks, near)).mean()
        if best is None or err < best[1]:
            best = (float(s), float(err))
    return best[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--frac', type=float, default=0.5, help='ink threshold as a fraction of the word contrast')
    ap.add_argument('--sets', nargs='+', default=['icdar2013_born_digital', 'funsd_train'])
    ap.add_argument('--widen', type=int, default=0,
                    help='add this to x1 / y1 before measuring (calibration: +1 must read as a far shift of about +1)')
    ap.add_argument('--json', help='write the measurements here')
    a = ap.parse_args()
    res = [measure(s, a.frac, a.widen) for s in a.sets]
    print(f'ink = farther from the background than {a.frac:g} of the word contrast; P(column / row has ink)')
    print(f"{'set':24} {'words':>6} | {'x0-1':>5} {'x0':>5} | {'x1-1':>5} {'x1':>5} {'x1+1':>5} | "
          f"{'y0-1':>5} {'y0':>5} | {'y1-1':>5} {'y1':>5} {'y1+1':>5} | x: {'verdict':9} y: verdict")
    for r in res:
        p = r['p_ink']
        print(f"{r['set']:24} {r['words']:>6} | {p['x0-1']:5.3f} {p['x0']:5.3f} | {p['x1-1']:5.3f} {p['x1']:5.3f} {p['x1+1']:5.3f} | "
              f"{p['y0-1']:5.3f} {p['y0']:5.3f} | {p['y1-1']:5.3f} {p['y1']:5.3f} {p['y1+1']:5.3f} | "
              f"x: {verdict(p, 'x'):9} y: {verdict(p, 'y')}")
    print('\nmargin from each edge to the ink inside the inclusive span (share of words with 0 / 1 / 2 / >=3 px; mean)')
    for r in res:
        parts = []
        for k in ('left', 'right', 'top', 'bottom'):
            h, n = r['margin_hist'][k], r['words']
            parts.append(f"{k} " + '/'.join(f'{h.get(i, 0) / n:.2f}' for i in range(4)) + f" ({r['margin_mean'][k]:.2f})")
        print(f"{r['set']:24} " + '  '.join(parts))
    print('\nink profile across each edge, P(ink) at offsets -3..+3 into the box (near: a0 + k; far, mirrored: a1 - k)')
    for r in res:
        pr = r['profile']
        for a_ in ('x', 'y'):
            near = ' '.join(f"{pr[f'{a_}0{k:+d}']:.3f}" for k in range(-RING, RING + 1))
            far = ' '.join(f"{pr[f'{a_}1{-k:+d}']:.3f}" for k in range(-RING, RING + 1))
            print(f"{r['set']:24} {a_}: near {near} | far {far} | best far shift {far_shift(pr, a_):+.2f} px")
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(res, fh, indent=1, default=dict)


if __name__ == '__main__':
    main()
