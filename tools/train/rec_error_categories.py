#!/usr/bin/env python3
"""What a recogniser gets wrong on the held-out dev crops, by category (the model card's error analysis).

    nice python3 tools/train/rec_error_categories.py models/craft-text-recognizer-int8.onnx \
        models/craft-text-recognizer.onnx [--sets ic13,funsd,ic15] [--examples 4] [--json out.json] \
        [--runtime funsd=<report.json> ...]

The crops, pre-processing and decoding are eval_rec.py's (recdata.dev_samples: cut exactly at the ground-truth boxes,
no crop margin, no rotation retry, no quarter turn; the runtime's resize, width buckets and greedy CTC), so the
error counts are that script's DTRB errors (lower case, [0-9a-z], exact). `--runtime set=report.json` adds the readings
of `craft-text eval <recdev>/<set>[-pages] --task recognition --json report.json` (the runtime's crops: margin, fitted to
the ink, quarter turn, 180-degree retry) on the same words, categorised by the same crop shapes. Each error falls in every category it
matches (they overlap); for the crop-shape categories the set's accuracy inside and outside the group is given too:

- substitutions only: same normalised length, the characters differ (look-alikes only: o/0, l/1, i/l, s/5, ...)
- length differs: the normalised reading is shorter (characters dropped) or longer (added) than the ground truth
- one character wrong: normalised edit distance 1
- empty reading: the reading normalises to '' while the ground truth does not
- punctuation-only ground truth: the ground truth normalises to '' (a checkbox '☐', '-', ':') and the reading does
  not; its most frequent readings are listed
- ground truth outside printable ASCII (the charset): '☐', '€', '®', accented letters
- vertical crop: taller than 1.5x its width (the runtime turns such crops a quarter; this script does not)
- tiny text: crop 6-10 px high (and under 6 px)
- rotated word in an axis-aligned crop (ICDAR 2015 only: its crops are axis-aligned boxes around oriented words):
  the ink's baseline (ink_angle) more than 10 degrees off the horizontal, for crops at least 1.5x wider than high
  (on the document sets' short words and punctuation the estimate fires on shapes, not turns)
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_rec as E  # noqa: E402
import recdata as R  # noqa: E402

CONFUSE = {frozenset(p) for p in ('o0', 'l1', 'i1', 'il', 's5', 'b8', 'z2', 'g9', 'g6', 'b6', 't7')}
PRINTABLE = set(chr(c) for c in range(0x20, 0x7f))
# Each error is exactly one of the first five; the rest overlap them.
ORDER = ['substitutions only (same length)', '  of which look-alikes only (o/0, l/1, i/l, s/5, b/8, ...)',
         'length differs: reading shorter', 'length differs: reading longer', 'empty reading',
         'punctuation-only ground truth (normalised empty), reading not', 'one character wrong (edit distance 1)',
         'ground truth outside printable ASCII', '  of which checkboxes (\u2610)']


def ink_angle(im: np.ndarray) -> float | None:
    """Degrees between the ink's baseline and the horizontal: the slope of the ink's centre row per column (Otsu
    ink, polarity from the crop's border), fitted by least squares weighted by each column's ink. None for crops under
    1.5x wider than high or with ink in under 8 columns (no reliable line)."""
    h, w = im.shape
    if w < 1.5 * h or h < 4:
        return None
    _, bw = cv2.threshold(im, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ring = np.concatenate([bw[0], bw[-1], bw[:, 0], bw[:, -1]])
    ink = bw == 0 if (ring > 0).mean() >= 0.5 else bw > 0  # dark ink on a bright border, or the other way round
    count = ink.sum(0).astype(np.float64)
    xs = np.nonzero(count)[0]
    if len(xs) < 8:
        return None
    wts = count[xs]
    ys = (ink * np.arange(h)[:, None]).sum(0)[xs] / wts
    xm, ym = np.average(xs, weights=wts), np.average(ys, weights=wts)
    slope = ((xs - xm) * (ys - ym) * wts).sum() / (((xs - xm) ** 2) * wts).sum()
    return abs(math.degrees(math.atan(slope)))


def categorise(imgs: list[np.ndarray], gts: list[str], preds: list[str], examples: int, rotated: bool) -> dict:
    n = len(gts)
    shape = []
    for im in imgs:
        h, w = im.shape
        row = {'vertical': h > 1.5 * w, 'tiny 6-10 px': 6 <= h <= 10, 'under 6 px': h < 6}
        if rotated:
            a = ink_angle(im)
            row['rotated > 10 deg (estimated)'] = a is not None and a > 10
        shape.append(row)
    cats: dict[str, list[int]] = collections.OrderedDict()

    def add(name: str, i: int):
        cats.setdefault(name, []).append(i)

    errors = []
    for i, (g, p) in enumerate(zip(gts, preds)):
        gn, pn = R.dtrb_norm(g), R.dtrb_norm(p)
        if gn == pn:
            continue
        errors.append(i)
        if gn == '':
            add('punctuation-only ground truth (normalised empty), reading not', i)
        elif pn == '':
            add('empty reading', i)
        elif len(pn) == len(gn):
            add('substitutions only (same length)', i)
            if all(a == b or frozenset((a, b)) in CONFUSE for a, b in zip(pn, gn)):
                add('  of which look-alikes only (o/0, l/1, i/l, s/5, b/8, ...)', i)
        elif len(pn) < len(gn):
            add('length differs: reading shorter', i)
        else:
            add('length differs: reading longer', i)
        if gn and pn and R.edit_distance(pn, gn) == 1:
            add('one character wrong (edit distance 1)', i)
        if any(c not in PRINTABLE for c in g):
            add('ground truth outside printable ASCII', i)
        if '\u2610' in g or '\u2611' in g or '\u2612' in g:
            add('  of which checkboxes (\u2610)', i)
        for k, v in shape[i].items():
            if v:
                add(f'crop: {k}', i)
    out = {'n': n, 'errors': len(errors), 'accuracy': 1 - len(errors) / max(1, n), 'categories': {}}
    order = ORDER + [f'crop: {k}' for k in (shape[0] if shape else {})]
    for name in order:
        if name not in cats:
            continue
        ids = cats[name]
        row = {'count': len(ids), 'share': len(ids) / max(1, len(errors)),
               'examples': [[gts[i], preds[i]] for i in ids[:examples]]}
        if name.startswith('crop: '):
            key = name[len('crop: '):]
            inside = [i for i in range(n) if shape[i][key]]
            row['group'] = len(inside)
            row['group_accuracy'] = 1 - len(ids) / max(1, len(inside))
            row['rest_accuracy'] = 1 - (len(errors) - len(ids)) / max(1, n - len(inside))
        if name.startswith('punctuation-only') or 'checkboxes' in name:
            row['readings'] = collections.Counter(preds[i] for i in ids).most_common(6)
        out['categories'][name] = row
    return out


def runtime_preds(report: str, gts: list[str]) -> list[str]:
    """The readings of an eval report, checked to be of the same words (ground truth equal, in order)."""
    with open(report, encoding='utf-8') as fh:
        words = json.load(fh)['words']
    if [w['gt'] for w in words] != gts:
        raise SystemExit(f'{report}: not the same words as the dev crops ({len(words)} vs {len(gts)})')
    return [w['pred'] for w in words]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+')
    ap.add_argument('--sets', default='ic13,funsd,ic15')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--examples', type=int, default=4)
    ap.add_argument('--runtime', action='append', default=[], metavar='SET=REPORT.json',
                    help='also categorise the readings of a `craft-text eval --task recognition --json` report on the '
                         'same dev words (recdata.py --write-dev / --write-dev-pages: the same words in the same order)')
    ap.add_argument('--json')
    a = ap.parse_args()
    runtime = dict(r.split('=', 1) for r in a.runtime)
    sessions = [(m, *E.load_session(m, a.threads)) for m in a.models]
    report = {'models': a.models}
    for name in a.sets.split(','):
        samples = R.dev_samples(name)
        imgs, gts = [s[0] for s in samples], [s[1] for s in samples]
        report[name] = {}
        runs = [(os.path.basename(m), lambda sess=sess, charset=charset, max_w=max_w:
                 E.run_model(sess, charset, E.buckets(imgs, max_w), len(imgs))[0]) for m, sess, charset, max_w in sessions]
        if name in runtime:
            runs.append((f'runtime {os.path.basename(runtime[name])}', lambda f=runtime[name]: runtime_preds(f, gts)))
        for label, read in runs:
            preds = read()
            r = categorise(imgs, gts, preds, a.examples, rotated=name == 'ic15')
            report[name][label] = r
            print(f'\n## {name}, {label}: {r["errors"]} errors of {r["n"]} (DTRB accuracy '
                  f'{r["accuracy"]:.3f})', flush=True)
            for cat, row in r['categories'].items():
                extra = ''
                if 'group' in row:
                    extra = (f'; {row["group"]} such crops, accuracy {row["group_accuracy"]:.3f} '
                             f'(other crops {row["rest_accuracy"]:.3f})')
                if 'readings' in row:
                    extra += '; readings ' + ', '.join(f'{p!r} x{c}' for p, c in row['readings'])
                ex = ', '.join(f'{g!r} -> {p!r}' for g, p in row['examples'])
                print(f'  {cat}: {row["count"]} ({100 * row["share"]:.0f} %){extra}; e.g. {ex}', flush=True)
    if a.json:
        with open(a.json, 'w', encoding='utf-8') as fh:
            json.dump(report, fh, indent=1, ensure_ascii=False)


if __name__ == '__main__':
    main()
