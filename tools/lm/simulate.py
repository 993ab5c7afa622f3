"""Greedy, prefix beam search and prefix beam search with a character LM (shallow fusion) on dumped logits.

    python3 tools/lm/simulate.py --lm lm.bin --dump /tmp/x/funsd [--dump ...] --alpha 0.5 --beta 1 [--beam 5]
    python3 tools/lm/simulate.py --lm lm.bin --dump ... --grid 0,0.25,0.5,0.75,1 --betas 0,0.5,1,2

Dumps: tools/lm/dump_logits.js (the runtime's logits of the reading it kept). The search is the runtime's prefix
beam search (label_converter.cc CtcBeamSearch: classes under 1e-3 at a frame not expanded, beamWidth prefixes per
frame), the prefixes ranked by log P_ctc + alpha ln P_lm + beta |prefix| (Hannun et al. 2014, DeepSpeech's decoder;
the LM's end-of-word probability joins at the last frame). Metric: DTRB (recdata.dtrb_norm, exact).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import string
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'train'))
import recdata as R  # noqa: E402
from ngram import CharNgram  # noqa: E402

LN10 = math.log(10)
PRUNE = 1e-3


def load_dump(prefix: str):
    rows = [json.loads(x) for x in open(prefix + '.jsonl', encoding='utf-8')]
    f = np.fromfile(prefix + '.f32', np.float32)
    out = []
    for r in rows:
        x = f[r['offset']:r['offset'] + r['T'] * r['K']].reshape(r['T'], r['K'])
        x = x - x.max(1, keepdims=True)
        p = np.exp(x)
        p /= p.sum(1, keepdims=True)
        out.append((r['gt'], r['pred'], p))
    return out


def greedy(p, charset):
    idx = p.argmax(1)
    s, prev = [], 0
    for k in idx:
        if k != prev and k != 0:
            s.append(charset[k - 1])
        prev = k
    return ''.join(s)


class LmScorer:
    """ln P_lm of the next class given a prefix's LM state (the last order-1 symbols), cached."""

    def __init__(self, lm: CharNgram, charset: str):
        self.lm = lm
        self.cls_sym = [0] + [lm.sym.get(c.lower(), -1) for c in charset]  # class -> LM symbol
        self.cache = {}

    def start(self):
        return (self.lm.S,) * (self.lm.order - 1)

    def step(self, state, cls):
        key = (state, cls)
        v = self.cache.get(key)
        if v is None:
            s = self.cls_sym[cls] if cls else 0
            v = self.lm.logp(state, s) * LN10
            self.cache[key] = v
        return v

    def next_state(self, state, cls):
        return (state + (self.cls_sym[cls],))[1:] if self.lm.order > 1 else ()


def beam(p, charset, width=5, scorer: LmScorer | None = None, alpha=0.0, beta=0.0):
    T, K = p.shape
    lp = np.log(np.maximum(p, 1e-30))
    NEG = -1e30
    # prefix -> [pb, pnb, lm, state]
    start = scorer.start() if scorer else ()
    beams = {(): [0.0, NEG, 0.0, start]}

    def lae(a, b):
        if a < b:
            a, b = b, a
        return a if b <= NEG else a + math.log1p(math.exp(b - a))

    for t in range(T):
        cand = np.nonzero(p[t] >= PRUNE)[0]
        cand = [int(c) for c in cand if c != 0]
        nxt = {}
        for prefix, (pb, pnb, lm, st) in beams.items():
            tot = lae(pb, pnb)
            e = nxt.get(prefix)
            if e is None:
                e = nxt[prefix] = [NEG, NEG, lm, st]
            e[0] = lae(e[0], tot + lp[t, 0])
            last = prefix[-1] if prefix else -1
            if last > 0:
                e[1] = lae(e[1], pnb + lp[t, last])
            for c in cand:
                ext = prefix + (c,)
                x = nxt.get(ext)
                if x is None:
                    if scorer:
                        x = nxt[ext] = [NEG, NEG, lm + scorer.step(st, c), scorer.next_state(st, c)]
                    else:
                        x = nxt[ext] = [NEG, NEG, 0.0, ()]
                x[1] = lae(x[1], (pb if c == last else tot) + lp[t, c])
        ranked = sorted(nxt.items(), key=lambda kv: -(lae(kv[1][0], kv[1][1]) + alpha * kv[1][2] + beta * len(kv[0])))
        beams = dict(ranked[:width])

    def final(kv):
        prefix, (pb, pnb, lm, st) = kv
        eow = scorer.step(st, 0) if scorer else 0.0
        return lae(pb, pnb) + alpha * (lm + eow) + beta * len(prefix)
    best = max(beams.items(), key=final)[0]
    return ''.join(charset[c - 1] for c in best)


def evaluate(data, charset, mode, width=5, scorer=None, alpha=0.0, beta=0.0):
    ok = 0
    preds = []
    for gt, _, p in data:
        s = greedy(p, charset) if mode == 'greedy' else beam(p, charset, width, scorer, alpha, beta)
        preds.append(s)
        ok += R.dtrb_norm(s) == R.dtrb_norm(gt)
    return ok, preds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lm')
    ap.add_argument('--dump', action='append', required=True)
    ap.add_argument('--alpha', type=float, default=0.5)
    ap.add_argument('--beta', type=float, default=0.0)
    ap.add_argument('--grid')
    ap.add_argument('--betas', default='0')
    ap.add_argument('--beam', type=int, default=5)
    ap.add_argument('--show', type=int, default=0, help='print this many changed words per set')
    a = ap.parse_args()
    charset = string.printable[:-6] + ' '  # the bundled recogniser's class order (its charset metadata)
    sets = {os.path.basename(d): load_dump(d) for d in a.dump}
    lm = CharNgram.load(a.lm) if a.lm else None
    scorer = LmScorer(lm, charset) if lm else None
    res = {}
    for name, data in sets.items():
        n = len(data)
        g, gp = evaluate(data, charset, 'greedy')
        b, bp = evaluate(data, charset, 'beam', a.beam)
        line = f'{name:>10} n={n} greedy {g / n:.4f} beam {b / n:.4f}'
        res[name] = {'n': n, 'greedy': g, 'beam': b}
        if scorer:
            alphas = [float(x) for x in a.grid.split(',')] if a.grid else [a.alpha]
            betas = [float(x) for x in a.betas.split(',')] if a.grid else [a.beta]
            for al in alphas:
                for be in betas:
                    f, fp = evaluate(data, charset, 'beam', a.beam, scorer, al, be)
                    line += f' | a={al} b={be}: {f / n:.4f}'
                    res[name][f'{al},{be}'] = f
                    if a.show:
                        shown = 0
                        for (gt, _, _), x, y in zip(data, gp, fp):
                            if x != y and shown < a.show:
                                print(f'   {gt!r}: {x!r} -> {y!r} {"+" if R.dtrb_norm(y) == R.dtrb_norm(gt) else ("-" if R.dtrb_norm(x) == R.dtrb_norm(gt) else "=")}')
                                shown += 1
        print(line, flush=True)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
