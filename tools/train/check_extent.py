#!/usr/bin/env python3
"""What weak.py's pseudo ground truth decodes to (issue 17, --pseudo-extent; no training).

Words: real training crops (weak.RealSet: never the dev pages), made as weak.py makes them (rescaled, cropped), their
pseudo ground truth built from the interim model's region map for each convention, then decoded by CRAFT's own
post-processing (evalpy.det_boxes = getDetBoxes) and scored against the crop's word boxes (evalpy.score_iou, IoU 0.5):
a convention whose maps do not decode to the ground-truth words teaches the detector other boxes.

Characters: synthetic words (known ink boxes, as check_weak.py) in a word box padded by 0.3 x the text height (FUNSD)
or not padded (ICDAR 2013); mean IoU with the ink of (a) the pseudo character boxes, (b) the characters read back from
the pseudo region map at the runtime's character level 0.35 (binding/craft/characters.h).

    OMP_NUM_THREADS=1 nice -n 10 python3 tools/train/check_extent.py --model tools/train/checkpoints/w025-step10500.pt
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evalpy  # noqa: E402
import synth  # noqa: E402
import weak  # noqa: E402
from check_weak import iou, quad, synthetic_word  # noqa: E402
from train import build_model  # noqa: E402

CONVENTIONS = ('tight', 'loose', 'word', 'word-affinity')
ROOT = os.path.join(HERE, '..', '..', '..', 'shared', 'data')


def maps(region, items, size, convention):
    """Region and affinity ground truth of one crop. 'word-affinity': the tight characters' region with the affinity
    of the untightened intervals (the word box's height), the other reading of "affinity as the word's extent"."""
    if convention == 'word-affinity':
        reg, _, _, _ = weak.pseudo_gt_from(region, items, size, 'tight')
        _, aff, _, _ = weak.pseudo_gt_from(region, items, size, 'loose')
        return reg, aff
    reg, aff, _, _ = weak.pseudo_gt_from(region, items, size, convention)
    return reg, aff


def words(model, roots, pages, size, settings, seed):
    """Word H-mean per set and convention, and how the characters read back at 0.35 from the 'word' maps agree with
    those read back from the 'tight' maps on the same real words (share of words with the same count, mean IoU)."""
    out, same = {}, {}
    for root in roots:
        rs = weak.RealSet([root])
        rng = np.random.default_rng([seed, 17])
        acc = {(c, t): [0, 0, 0] for c in CONVENTIONS for t in settings}
        for _ in range(pages):
            img, items = rs.crop(rng, size, (8.0, 90.0))
            region = weak.interim_region(model, img)
            gt = [q for q, _, _ in items]
            ign = [ig for _, _, ig in items]
            regs = {}
            for c in CONVENTIONS:
                reg, aff = maps(region, items, size, c)
                regs[c] = reg
                for t in settings:
                    det = [b * 2 for b in evalpy.det_boxes(reg, aff, *t)]
                    m, g, d = evalpy.score_iou(gt, ign, det)
                    a = acc[(c, t)]
                    a[0] += m
                    a[1] += g
                    a[2] += d
            for q, n, ig in items:
                if ig:
                    continue
                a, _ = read_back(regs['tight'], q, n)
                b, _ = read_back(regs['word'], q, n)
                ok = len(a) == len(b) and len(a) > 0
                same.setdefault(root, []).append((ok, np.mean([iou(x, y) for x, y in zip(a, b)]) if ok else 0.0))
        name = os.path.basename(os.path.normpath(root))
        out[name] = {k: evalpy.prf(*v) for k, v in acc.items()}
        r = same.get(root, [])
        out[name]['chars'] = (np.mean([o for o, _ in r]), np.mean([v for o, v in r if o])) if r else (0.0, 0.0)
    return out


def read_back(reg, box, n, level=0.35):
    """Characters read from a region map at `level` (weak.split_word with the runtime's level)."""
    saved = weak.LOW_TEXT, weak.GAUSS_LEVEL_AT_LOW_TEXT
    weak.LOW_TEXT = level
    weak.GAUSS_LEVEL_AT_LOW_TEXT = math.sqrt(2 * math.log(1 / level)) / synth.GAUSS_K_REGION
    try:
        return weak.split_word(reg, box, n)
    finally:
        weak.LOW_TEXT, weak.GAUSS_LEVEL_AT_LOW_TEXT = saved


def characters(pad_factor, cases=20):
    rng = np.random.default_rng(0)
    acc = {c: ([], []) for c in CONVENTIONS}
    for _ in range(cases):
        h, n, x, ink = synthetic_word(rng)
        region, _ = synth.make_gt([ink], 384)  # the interim model: one that reproduces synthetic ground truth
        pad = pad_factor * h
        box = quad(30 - pad, 100 - pad, x + pad, 100 + h + pad)
        items = [(box, n, False)]
        for c in CONVENTIONS:
            pseudo, _ = weak.split_word(region, box, n, tight=c != 'loose')
            reg, _ = maps(region, items, 384, c)
            back, _ = read_back(reg, box, n)
            acc[c][0].append(np.mean([iou(a, b) for a, b in zip(pseudo, ink)]))
            acc[c][1].append(np.mean([iou(a, b) for a, b in zip(back, ink)]) if len(back) == n else 0.0)
    return {c: (float(np.mean(a)), float(np.mean(b))) for c, (a, b) in acc.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default=os.path.join(HERE, 'checkpoints', 'w025-step10500.pt'))
    ap.add_argument('--real', nargs='*', default=[os.path.join(ROOT, 'funsd_train'),
                                                  os.path.join(ROOT, 'icdar2013_born_digital')])
    ap.add_argument('--pages', type=int, default=30, help='crops per set')
    ap.add_argument('--size', type=int, default=384)
    ap.add_argument('--thresholds', default='0.7/0.4/0.4,0.7/0.4/0.28,0.75/0.6/0.35',
                    help="getDetBoxes text / link / low_text settings, comma-separated (CRAFT's, a low_text under "
                         "weak.EXTENT_LEVEL, the bundled model's)")
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.model, map_location='cpu', weights_only=False)
    model = build_model(ck['width'])
    model.load_state_dict({k: v.float() for k, v in ck['model'].items()})
    model.eval()
    settings = [tuple(float(v) for v in t.split('/')) for t in args.thresholds.split(',')]

    print(f'interim model {os.path.basename(args.model)}; pseudo GT decoded by getDetBoxes (text / link / low_text), '
          f'{args.pages} train crops of {args.size} px per set, word heights 8-90 px')
    res = words(model, args.real, args.pages, args.size, settings, args.seed)
    ngt = {s: res[s][(CONVENTIONS[0], settings[0])]['gt'] for s in res}
    print(f"H-mean (P / R); words: {', '.join(f'{s} {n}' for s, n in ngt.items())}")
    print('| convention | ' + ' | '.join(f"{s.split('_')[0]} @ {'/'.join(f'{v:g}' for v in t)}" for s in res for t in settings) + ' |')
    print('|' + '---|' * (1 + len(res) * len(settings)))
    for c in CONVENTIONS:
        cells = []
        for s in res:
            for t in settings:
                r = res[s][(c, t)]
                cells.append(f"{r['hmean']:.3f} ({r['precision']:.2f} / {r['recall']:.2f})")
        print(f'| {c} | ' + ' | '.join(cells) + ' |')

    for s in res:
        n, m = res[s]['chars']
        print(f"{s}: characters read back at 0.35, 'word' vs 'tight' maps: same count in {n:.3f} of the words, "
              f"mean IoU {m:.3f}")
    print('\ncharacters vs ink, mean IoU: pseudo boxes / read back from the pseudo region map at 0.35')
    for pad in (0.3, 0.0):
        r = characters(pad)
        print(f'word box padded {pad} x height: ' + ', '.join(f'{c} {a:.3f} / {b:.3f}' for c, (a, b) in r.items()))


if __name__ == '__main__':
    main()
