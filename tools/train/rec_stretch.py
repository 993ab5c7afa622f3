#!/usr/bin/env python3
"""Does reading a crop horizontally stretched recover the characters a CTC recogniser drops? (docs/recognition.md,
stretch retry.)

    nice -n 10 python3 tools/train/rec_stretch.py models/craft-text-recognizer-int8.onnx \
        models/craft-text-recognizer.onnx --dev <recdev> [--sets ic13,funsd,ic15] [--scales 0.75,1,1.25,1.5,2] \
        [--cache readings.json]

The crops are <recdev>/<set>/labels.tsv's (recdata.write_dev: cut exactly at the ground-truth boxes), read as
eval_rec.py reads them (PIL L, bicubic to height 32, pad to the next multiple of 32 by repeating the last column,
batches of one padded width, greedy CTC) except that the resized width is ceil(32 w / h x s) for each scale s (at
most the model's imgW). Every crop is read once per scale and model; the strategies are then scored on those
readings without running the model again:

- always s: every crop read at width x s;
- retry (t, scales): a crop whose reading at x1 has a confidence (DTRB's: the product of the per-frame maxima over
  all T frames) under t is read at the other scales too, and the reading kept is the most confident, compared by
  the raw product (the runtime's rule), or per frame (confidence^(1/T)), or per character (confidence^(1/n));
- frame rule: stretched only when the x1 reading's characters fill the frames (2 n + 1 > T x f), or when the crop's
  resized width per read character is under k pixels (at height 32).
Prints DTRB accuracy per set and model, and words fixed / broken against x1.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_rec as E  # noqa: E402
import recdata as R  # noqa: E402


def load_set(d: str) -> tuple[list[np.ndarray], list[str]]:
    imgs, gts = [], []
    with open(os.path.join(d, 'labels.tsv'), encoding='utf-8') as fh:
        for line in fh:
            line = line.rstrip('\n')
            if not line:
                continue
            f, t = line.split('\t', 1)
            imgs.append(np.asarray(Image.open(os.path.join(d, f)).convert('L')))
            gts.append(t)
    return imgs, gts


def read_at(sess, charset: str, max_w: int, imgs: list[np.ndarray], s: float, bs: int = 32) -> list[dict]:
    """Every crop read at width x s: text, confidence (product of the T frames' maxima), T, resized width."""
    widths = [min(max_w, max(1, math.ceil(R.IMG_H * im.shape[1] / im.shape[0] * s))) for im in imgs]
    by_w: dict[int, list[int]] = {}
    for i, w in enumerate(widths):
        by_w.setdefault(min(max_w, math.ceil(w / R.IMG_H) * R.IMG_H), []).append(i)
    out: list[dict] = [{}] * len(imgs)
    name = sess.get_inputs()[0].name
    for W, ids in sorted(by_w.items()):
        for k in range(0, len(ids), bs):
            part = ids[k:k + bs]
            x = np.empty((len(part), 1, R.IMG_H, W), np.float32)
            for row, j in enumerate(part):
                r = np.asarray(Image.fromarray(imgs[j]).resize((widths[j], R.IMG_H), Image.BICUBIC))
                f = (r.astype(np.float32) / 255.0 - 0.5) / 0.5
                x[row, 0, :, :widths[j]] = f
                x[row, 0, :, widths[j]:] = f[:, -1:]
            logits = sess.run(None, {name: x})[0]
            e = np.exp(logits - logits.max(-1, keepdims=True))
            p = e / e.sum(-1, keepdims=True)
            conf = np.prod(p.max(-1).astype(np.float64), axis=1)
            texts = R.ctc_greedy(logits, charset)
            for row, j in enumerate(part):
                out[j] = {'text': texts[row], 'conf': float(conf[row]), 'T': int(logits.shape[1]), 'w': widths[j]}
    return out


def per(r: dict, how: str) -> float:
    if how == 'raw':
        return r['conf']
    if how == 'frame':
        return r['conf'] ** (1.0 / r['T'])
    return r['conf'] ** (1.0 / max(1, len(r['text'])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+')
    ap.add_argument('--dev', required=True)
    ap.add_argument('--sets', default='ic13,funsd,ic15')
    ap.add_argument('--scales', default='0.75,1,1.25,1.5,2')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--cache', help='readings JSON: written after reading, read instead of reading when it exists')
    a = ap.parse_args()
    scales = [float(s) for s in a.scales.split(',')]
    data = {name: load_set(os.path.join(a.dev, name)) for name in a.sets.split(',')}
    if a.cache and os.path.exists(a.cache):
        reads = json.load(open(a.cache))
    else:
        reads = {}
        for m in a.models:
            sess, charset, max_w = E.load_session(m, a.threads)
            for name, (imgs, _) in data.items():
                for s in scales:
                    reads[f'{os.path.basename(m)}|{name}|{s:g}'] = read_at(sess, charset, max_w, imgs, s)
                    print('read', m, name, s, file=sys.stderr, flush=True)
        if a.cache:
            json.dump(reads, open(a.cache, 'w'))
    report(reads, data, a.models, scales)


def report(reads: dict, data: dict, models: list[str], scales: list[float]):
    ok = lambda r, g: R.dtrb_norm(r['text']) == R.dtrb_norm(g)  # noqa: E731
    for m in models:
        mb = os.path.basename(m)
        print(f'\n## {mb}')
        rows: dict[str, dict[str, str]] = {}
        for name, (_, gts) in data.items():
            base = reads[f'{mb}|{name}|1']
            n = len(gts)
            base_ok = [ok(r, g) for r, g in zip(base, gts)]

            def score(choice: list[dict]) -> str:
                c = [ok(r, g) for r, g in zip(choice, gts)]
                fixed = sum(x and not y for x, y in zip(c, base_ok))
                broken = sum(y and not x for x, y in zip(c, base_ok))
                return f'{sum(c) / n:.4f} (+{fixed}/-{broken})'

            def put(key: str, choice: list[dict]):
                rows.setdefault(key, {})[name] = score(choice)

            for s in scales:
                put(f'always x{s:g}', reads[f'{mb}|{name}|{s:g}'])
            alts_sets = [(1.5,), (2,), (1.5, 2), (1.25, 1.5, 2), (0.75, 1.5, 2)]
            for how in ('raw', 'frame', 'char'):
                for t in (0.1, 0.2, 0.3, 0.5, 1.01):
                    for alts in alts_sets:
                        if any(f'{mb}|{name}|{s:g}' not in reads for s in alts):
                            continue
                        choice = []
                        for i, r in enumerate(base):
                            best = r
                            if r['conf'] < t:
                                for s in alts:
                                    o = reads[f'{mb}|{name}|{s:g}'][i]
                                    if per(o, how) > per(best, how):
                                        best = o
                            choice.append(best)
                        put(f'retry {how} t={t:g} x{"/".join(f"{s:g}" for s in alts)}', choice)
            # frame rule: the x1 reading fills its frames, or few pixels per character
            for s in (1.5, 2):
                alt = reads[f'{mb}|{name}|{s:g}']
                for f in (0.6, 0.7, 0.8, 0.9):
                    put(f'frames 2n+1>{f:g}T -> x{s:g}',
                        [o if 2 * len(r['text']) + 1 > f * r['T'] else r for r, o in zip(base, alt)])
                for k in (6, 8, 10, 12):
                    put(f'w/n<{k} -> x{s:g}',
                        [o if r['text'] and r['w'] / len(r['text']) < k else r for r, o in zip(base, alt)])
                for k in (8, 10):
                    for t in (0.2, 0.5):
                        put(f'w/n<{k} & conf<{t:g} -> x{s:g} (raw max)',
                            [o if r['text'] and r['w'] / len(r['text']) < k and r['conf'] < t and o['conf'] > r['conf']
                             else r for r, o in zip(base, alt)])
                        put(f'w/n<{k} & conf<{t:g} -> x{s:g} (char max)',
                            [o if r['text'] and r['w'] / len(r['text']) < k and r['conf'] < t and
                             per(o, 'char') > per(r, 'char') else r for r, o in zip(base, alt)])
        names = list(data)
        print('| setting | ' + ' | '.join(names) + ' |')
        print('|---|' + '---|' * len(names))
        for key, v in rows.items():
            print(f'| {key} | ' + ' | '.join(v.get(nm, '') for nm in names) + ' |')


if __name__ == '__main__':
    main()
