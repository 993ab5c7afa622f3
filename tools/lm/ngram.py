"""A character n-gram model (interpolated Kneser-Ney, case-folded) and its binary file, for CTC shallow fusion.

    python3 tools/lm/ngram.py -o models/craft-text-charlm.bin   # the bundled model: order 5, prune 1,1,3,4,5,
                                                                # from lmdata.corpus(); the same bytes every run

The model scores a word as its characters and an end of word, after order-1 start symbols. Characters are folded to
lower case (the recogniser's case stays its own: an upper-case form field and a dictionary word share their
statistics); every other character of the charset is its own symbol.

Smoothing (Chen & Goodman's interpolated Kneser-Ney, one discount D = n1 / (n1 + 2 n2) per order): the highest order
from counts, the lower ones from continuation counts (how many distinct characters precede), down to a uniform
distribution over the symbols; k-grams that begin with the start symbol keep their own counts (they have no left
context), as KenLM does. Pruning: an order's n-grams seen fewer than its `prune` count (in the counts that order is
estimated from) are dropped and their mass goes to the context's back-off weight, so each context's distribution
still sums to one.

File (little-endian), read by binding/craft/char_lm.cc:
  magic 'CLM1', u32 order, u32 symbols (S, end of word = symbol 0, start = S), u32 fold (1: lower-cased),
  u32 alphabet bytes, alphabet (UTF-8: the S - 1 characters of symbols 1..S-1, in order),
  then for each order k = 1..n: u32 count, count keys (u32 for k <= 4, else u64; sorted; key = the k symbols, 7
  bits each, oldest first),
  count x u16 round(-2000 log10 P(last | first k - 1)) (clipped to 65535),
  and for k < n: count x u16 back-off weights (the same scale), the weight of the k-gram as a context.
"""
from __future__ import annotations

import argparse
import math
import struct
import sys
from collections import defaultdict

import os
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PRINTABLE = ''.join(chr(c) for c in range(32, 127))
SCALE = 2000.0  # -log10 p in 1/2000 units: 65535 / 2000 = 32.8 decades, steps of 0.0012 (0.3 % in p)


def alphabet(charset: str = PRINTABLE, fold: bool = True) -> str:
    out = []
    for c in charset:
        c = c.lower() if fold else c
        if c not in out:
            out.append(c)
    return ''.join(out)


class CharNgram:
    def __init__(self, order: int, alpha: str):
        self.order = order
        self.alpha = alpha
        self.sym = {c: i + 1 for i, c in enumerate(alpha)}
        self.S = len(alpha) + 1  # + end of word (0); start = S
        self.prob: list[dict[tuple, float]] = []   # per order k: k-gram -> log10 p
        self.bow: list[dict[tuple, float]] = []    # per order k: k-gram as a context -> log10 weight

    def encode(self, word: str) -> list[int] | None:
        out = []
        for c in word.lower():
            s = self.sym.get(c)
            if s is None:
                return None
            out.append(s)
        return out

    def fit(self, texts, prune: list[int] | int = 2):
        n, S = self.order, self.S
        raw = defaultdict(int)  # the highest order's counts
        for text, c in texts:
            ids = self.encode(text)
            if ids is None:
                continue
            seq = [S] * (n - 1) + ids + [0]
            for i in range(n - 1, len(seq)):
                raw[tuple(seq[i - n + 1:i + 1])] += c
        # the lower orders: continuation counts (distinct left extensions), except for k-grams that begin with the
        # start symbol, which have no left context: their own counts (as KenLM)
        counts = [defaultdict(int) for _ in range(n + 1)]
        counts[n] = raw
        for k in range(n - 1, 0, -1):
            for g, v in counts[k + 1].items():
                if g[1] == S:
                    continue
                counts[k][g[1:]] += 1
            for g, v in raw.items():
                if g[n - k] == S:
                    counts[k][g[n - k:]] += v
        self.prob = [dict() for _ in range(n + 1)]
        self.bow = [dict() for _ in range(n + 1)]
        lower = {(): 1.0 / (S)}  # uniform over the S - 1 characters and the end
        uni = None
        for k in range(1, n + 1):
            cnt = counts[k]
            n1 = sum(1 for v in cnt.values() if v == 1)
            n2 = sum(1 for v in cnt.values() if v == 2)
            D = n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.5
            keep_min = prune[k - 1] if isinstance(prune, list) else (prune if k >= n - 1 else 1)
            tot = defaultdict(float)
            kept_types = defaultdict(int)
            for g, v in cnt.items():
                tot[g[:-1]] += v
            ctx_mass = defaultdict(float)  # discount + pruned mass per context
            probs = {}
            for g, v in cnt.items():
                h = g[:-1]
                if v < keep_min:
                    ctx_mass[h] += v
                    continue
                ctx_mass[h] += D
                kept_types[h] += 1
                probs[g] = (v - D) / tot[h]
            gamma = {h: ctx_mass[h] / tot[h] for h in tot}
            # interpolate with the lower order
            for g in probs:
                h = g[:-1]
                probs[g] += gamma[h] * self._p_lower(g[1:], k)
            self.prob[k] = {g: math.log10(p) for g, p in probs.items()}
            self.bow[k - 1] = {h: math.log10(w) for h, w in gamma.items() if w > 0}
        return self

    def _p_lower(self, g: tuple, k: int) -> float:
        """P(g[-1] | g[:-1]) of order k - 1 (g has k - 1 symbols), backing off as the file does."""
        if len(g) == 0:
            return 1.0 / self.S
        return 10 ** self.logp(g[:-1], g[-1])

    def logp(self, h: tuple, c: int) -> float:
        """log10 P(c | h), h the symbols before c (start = S), longest stored context first."""
        h = tuple(h[-(self.order - 1):]) if self.order > 1 else ()
        bo = 0.0
        while True:
            g = h + (c,)
            lp = self.prob[len(g)].get(g) if len(g) < len(self.prob) else None
            if lp is not None:
                return bo + lp
            if len(h) == 0:
                return bo + math.log10(1.0 / self.S)
            bo += self.bow[len(h)].get(h, 0.0)
            h = h[1:]

    def word_logp(self, word: str) -> float:
        ids = self.encode(word)
        if ids is None:
            return -99.0
        h = (self.S,) * (self.order - 1)
        lp = 0.0
        for s in ids + [0]:
            lp += self.logp(h, s)
            h = (h + (s,))[1:] if self.order > 1 else ()
        return lp

    # -- file -----------------------------------------------------------------------------------------------
    def save(self, path: str, fold: bool = True):
        def q(lp):  # log10 -> u16
            return max(0, min(65535, round(-lp * SCALE)))
        with open(path, 'wb') as fh:
            a = self.alpha.encode()
            fh.write(b'CLM1' + struct.pack('<4I', self.order, self.S, int(fold), len(a)) + a)
            for k in range(1, self.order + 1):
                grams = sorted(self.prob[k], key=self.key)
                fh.write(struct.pack('<I', len(grams)))
                kf = '<I' if k <= 4 else '<Q'
                fh.write(b''.join(struct.pack(kf, self.key(g)) for g in grams))
                fh.write(b''.join(struct.pack('<H', q(self.prob[k][g])) for g in grams))
                if k < self.order:
                    fh.write(b''.join(struct.pack('<H', q(self.bow[k].get(g, 0.0))) for g in grams))

    @staticmethod
    def key(g: tuple) -> int:
        v = 0
        for s in g:
            v = (v << 7) | s
        return v

    @classmethod
    def load(cls, path: str) -> 'CharNgram':
        with open(path, 'rb') as fh:
            b = fh.read()
        assert b[:4] == b'CLM1'
        order, S, fold, na = struct.unpack_from('<4I', b, 4)
        o = 20
        alpha = b[o:o + na].decode()
        o += na
        m = cls(order, alpha)
        m.prob = [dict() for _ in range(order + 1)]
        m.bow = [dict() for _ in range(order + 1)]
        for k in range(1, order + 1):
            (cnt,) = struct.unpack_from('<I', b, o)
            o += 4
            kb = 4 if k <= 4 else 8
            keys = struct.unpack_from(f'<{cnt}{"I" if kb == 4 else "Q"}', b, o)
            o += kb * cnt
            ps = struct.unpack_from(f'<{cnt}H', b, o)
            o += 2 * cnt
            bs = struct.unpack_from(f'<{cnt}H', b, o) if k < order else [0] * cnt
            if k < order:
                o += 2 * cnt
            for key, p, w in zip(keys, ps, bs):
                g = tuple((key >> (7 * (k - 1 - i))) & 127 for i in range(k))
                m.prob[k][g] = -p / SCALE
                if k < order and w:
                    m.bow[k][g] = -w / SCALE
        return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--order', type=int, default=5)
    ap.add_argument('--prune', default='1,1,3,4,5', help='least count kept: one number (the two highest orders) or one per order')
    ap.add_argument('-o', '--out', required=True)
    a = ap.parse_args()
    import lmdata
    texts = lmdata.corpus()
    prune = [int(x) for x in a.prune.split(',')] if ',' in a.prune else int(a.prune)
    m = CharNgram(a.order, alphabet()).fit(texts, prune)
    m.save(a.out)
    print(f'{a.out}: order {a.order}, prune {a.prune}, n-grams per order {[len(p) for p in m.prob[1:]]}, '
          f'{os.path.getsize(a.out)} bytes, {len(texts)} texts')


if __name__ == '__main__':
    main()
