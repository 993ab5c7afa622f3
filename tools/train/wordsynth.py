#!/usr/bin/env python3
"""Synthetic word images with exact transcriptions, cut the way CRAFT boxes cut them (recogniser training).

    python3 tools/train/wordsynth.py --grid 48 --out docs/images/recognizer-synth.png   # sample grid + labels
    python3 tools/train/wordsynth.py --bench 300                                        # samples/s

A sample is a function of (seed, split, index) only (numpy Generator([seed, split, index]); PIL / OpenCV are
deterministic), like the page generator in synth.py, whose fonts, photographs, textures, word list, text sampler,
line renderer (exact per-character ink boxes), canvas compositing (outline, shadow, texture fill, curvature,
homographies), backgrounds, non-text clutter and photometric degradations it reuses.

Per sample: choose a style (document, form, receipt, web, scene) -> a target text (one token, 75 %, or a phrase of
2-4 tokens; tokens from synth.TextGen: dictionary words in every case, numbers, amounts, dates, times, percentages,
codes, URLs, phone numbers, abbreviations, symbols; plus random printable-ASCII strings so every class is seen) ->
one text line "left neighbours + target + right neighbours" and sometimes lines above / below, in one font, on a
background with clutter, optionally rotated / sheared / perspective-projected / curved -> the target's box: the
minimum-area rectangle of its character boxes (what CRAFT's getDetBoxes returns) or its axis-aligned box (what
ICDAR / FUNSD ground truth is), grown by a random margin (tight to loose; neighbours' fragments can show at the
ends), small rotation and corner jitter -> degradations (blur, motion blur, low resolution, noise, JPEG, palette,
inversion, contrast) -> perspective crop to an upright rectangle -> grey (PIL 'L').

Text outside printable ASCII (the recogniser's charset, tools/str_torch/model.py PRINTABLE_CHARS) is removed before
rendering, so labels are exact; except that now and then (UNLABELLED_P) a token gets a symbol real text is full of and
the charset cannot name (currency signs, marks, checkboxes, bullets), drawn but left out of the label
(recdata.charset_label, as for the real words): the model learns to read nothing there, not a look-alike letter.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'str_torch'))
from assets import Assets, drawn  # noqa: E402
import synth as S  # noqa: E402
from recdata import charset_label  # noqa: E402
from model import PRINTABLE_CHARS  # noqa: E402

cv2.setNumThreads(1)

CHARSET = set(PRINTABLE_CHARS)
SPLITS = {'train': 0, 'val': 1, 'preview': 2}
STYLES = {'document': 0.22, 'form': 0.22, 'receipt': 0.06, 'web': 0.25, 'scene': 0.25}
STYLE_FONTS = {'document': S.FONTS_BODY, 'form': S.FONTS_FORM_VALUE, 'receipt': S.FONTS_RECEIPT, 'web': S.FONTS_WEB,
               'scene': S.FONTS_SCENE}
PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'


def to_charset(t: str) -> str:
    return ''.join(c for c in t if c in CHARSET)


# drawn, never labelled: before the token, after it
UNLABELLED_BEFORE = '£€¥¢•☐☑☒'
UNLABELLED_AFTER = '®°©'
UNLABELLED_P = 0.04


class WordSynth:
    def __init__(self, seed: int = 0, assets: Assets | None = None, styles: dict | None = None):
        self.seed = seed
        self.assets = assets or Assets.load()
        self.tg = S.TextGen(self.assets.words)
        sw = styles or STYLES
        self.style_names = list(sw)
        p = np.array([sw[k] for k in self.style_names], np.float64)
        self.style_p = p / p.sum()
        self._caps: dict[int, bool] = {}
        self._symbols: dict[int, str] = {}

    # -- text ------------------------------------------------------------------------------------------------
    def token(self, rng, case: str) -> str:
        r = rng.random()
        if r < 0.05:  # random printable strings: rare punctuation and every letter / digit get seen
            n = int(rng.integers(1, 9))
            pool = PRINTABLE_CHARS[:-1]
            return ''.join(pool[rng.integers(len(pool))] for _ in range(n))
        if r < 0.09:  # alphanumeric codes / IDs
            n = int(rng.integers(3, 11))
            pool = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ' + ('abcdefghijklmnopqrstuvwxyz' if rng.random() < .4 else '')
            s = ''.join(pool[rng.integers(len(pool))] for _ in range(n))
            if rng.random() < 0.4:
                k = int(rng.integers(1, n))
                s = s[:k] + '-/._'[rng.integers(4)] + s[k:]
            return s
        if r < 0.12:  # punctuation-wrapped / label-like tokens (forms: "Name:", "(a)", "[06]", "#12")
            w = self.tg.token(rng, case)
            k = rng.integers(5)
            return (w + ':', '(' + w + ')', '[' + w + ']', w + ',', '"' + w + '."')[k]
        return self.tg.token(rng, case)

    def caps_design(self, fi: int) -> bool:
        """Fonts whose lower-case letters are drawn as (small) capitals: their text is labelled in upper case,
        which is what the image shows. Decided by comparing the shapes of a, e, r, g with A, E, R, G."""
        v = self._caps.get(fi)
        if v is None:
            info = self.assets.fonts[fi]
            v = not info['lower']
            if not v:
                try:
                    F = self.assets.font(fi, 40)
                    sims = []
                    for lo in 'aerg':
                        ml, mu = F.glyph(lo, 0), F.glyph(lo.upper(), 0)
                        if ml is None or mu is None:
                            continue
                        a = cv2.resize(ml[0], (24, 24), interpolation=cv2.INTER_AREA) > 96
                        b = cv2.resize(mu[0], (24, 24), interpolation=cv2.INTER_AREA) > 96
                        sims.append((a & b).sum() / max(1, (a | b).sum()))
                    v = bool(sims) and min(sims) > 0.6
                except Exception:  # noqa: BLE001
                    v = False
            self._caps[fi] = v
        return v

    def symbols(self, fi: int) -> str:
        """The UNLABELLED symbols font fi draws (not its .notdef box)."""
        v = self._symbols.get(fi)
        if v is None:
            try:
                v = drawn(ImageFont.truetype(self.assets.fonts[fi]['path'], 40, layout_engine=ImageFont.Layout.BASIC),
                          UNLABELLED_BEFORE + UNLABELLED_AFTER)
            except Exception:  # noqa: BLE001
                v = ''
            self._symbols[fi] = v
        return v

    def tokens(self, rng, n: int, case: str, info: dict) -> list[str]:
        out = []
        for _ in range(50):
            if len(out) == n:
                break
            t = [to_charset(self.token(rng, case))]
            if info.get('caps'):
                t = [t[0].upper()]
            t = S.fit_charset(t, info)
            t = [x for x in (''.join(c for c in t[0] if not c.isspace()) if t else '',) if x]
            sym = info.get('symbols', '')
            if t and sym and rng.random() < UNLABELLED_P:
                c = sym[rng.integers(len(sym))]
                t = [c + t[0] if c in UNLABELLED_BEFORE else t[0] + c]
            out.extend(t)
        return out

    # -- one sample ------------------------------------------------------------------------------------------
    def sample(self, index: int, split: str = 'train') -> list[dict]:
        """The crops cut from one rendered line: the target first, then some of its neighbours."""
        rng = np.random.default_rng([self.seed, SPLITS[split], index])
        style = self.style_names[rng.choice(len(self.style_names), p=self.style_p)]
        A = self.assets
        for _ in range(20):
            fi = A.pick_font(rng, STYLE_FONTS[style])
            info = dict(A.fonts[fi], caps=self.caps_design(fi), symbols=self.symbols(fi))
            case = ['sentence', 'lower', 'upper', 'title'][rng.choice(4, p=[.45, .25, .18, .12])]
            n_target = 1 if rng.random() < 0.75 else int(rng.integers(2, 5))
            target = self.tokens(rng, n_target, case, info)
            if len(target) == n_target and sum(len(t) for t in target) <= 30:
                break
        else:
            raise RuntimeError('no text fits the fonts drawn')
        n_left = int(rng.choice(3, p=[.35, .35, .3]))
        n_right = int(rng.choice(3, p=[.35, .35, .3]))
        left = self.tokens(rng, n_left, case, info)
        right = self.tokens(rng, n_right, case, info)
        em = float(np.exp(rng.uniform(math.log(10), math.log(56))))  # canvas em size (px)
        size = int(round(em))
        font = A.font(fi, size)
        sp = font.advance(' ') or size * 0.3
        tracking = size * rng.uniform(0.02, 0.35) if rng.random() < 0.08 else 0.0
        gap = sp * rng.uniform(0.8, 1.6) + tracking
        toks = left + target + right
        gaps = [gap * rng.uniform(0.9, 1.1) for _ in range(len(toks) - 1)]
        text_w = sum(font.width(t, tracking) for t in toks) + sum(gaps)
        # canvas: the line in the middle, room for lines above / below and for rotation
        pad_x, pad_y = int(size * 1.5), int(size * 2.0)
        W = int(text_w + 2 * pad_x)
        H = int(size * 1.3 + 2 * pad_y)
        if W * H > 3_000_000:
            raise RuntimeError('canvas too large')
        cv = S.Canvas(W, H, rng, A, self.tg, 1.0)
        tone = 'light' if rng.random() < 0.5 else 'dark'
        bg = {'document': ['paper', 'flat', 'gradient', 'noise'], 'form': ['paper', 'flat', 'noise'],
              'receipt': ['paper', 'flat'], 'web': ['flat', 'gradient', 'panels', 'photo', 'pattern'],
              'scene': ['photo', 'pattern', 'noise', 'gradient', 'flat']}[style]
        if style in ('document', 'form', 'receipt') and rng.random() < 0.75:
            tone = 'light'
        S.background(cv, bg[rng.integers(len(bg))], tone)
        if rng.random() < 0.35:
            S.draw_clutter(cv, int(rng.integers(1, 6)), scale=rng.uniform(0.3, 1.5))
        # text geometry: M maps pen coordinates (baseline origin) to the canvas
        x0 = pad_x + rng.uniform(-0.3, 0.3) * size
        yb = pad_y + size * 0.9
        theta = 0.0
        if style == 'scene':
            theta = rng.normal(0, 0.12) if rng.random() < 0.6 else 0.0
        elif rng.random() < 0.25:
            theta = rng.normal(0, 0.03)
        cx, cy = W / 2, yb
        M = S.translate(cx, cy) @ S.rot_scale(theta, 1) @ S.translate(-cx, -cy) @ S.translate(x0, yb)
        if rng.random() < (0.3 if style == 'scene' else 0.06):
            sh = rng.normal(0, 0.2)
            M = M @ np.array([[1, sh, 0], [0, 1, 0], [0, 0, 1]])
        if rng.random() < (0.35 if style == 'scene' else 0.08):
            M = M @ S.perspective(rng, max(text_w, size), size * 1.5, rng.uniform(0.03, 0.12))
        curve, curve_kind = 0.0, 0
        if rng.random() < (0.2 if style == 'scene' else 0.03):
            curve = rng.uniform(-1, 1) * size * rng.uniform(0.2, 1.0)
            curve_kind = int(rng.integers(2))
        bgL = cv.region_lum(pad_x, pad_y - size * 0.3, W - pad_x, pad_y + size * 1.3)
        pol = 'light' if bgL < 128 else 'dark'
        if style in ('web', 'scene') and rng.random() < 0.25:  # plate / button with the opposite tone
            pol = 'light' if rng.random() < 0.5 else 'dark'
            L = rng.uniform(0, 100) if pol == 'light' else rng.uniform(160, 255)
            pc = S.colour_with_lum(rng, L)
            m = size * rng.uniform(0.2, 0.7)
            corners = S.apply_h(M, np.array([[-m, -size - m], [text_w + m, -size - m], [text_w + m, size * 0.35 + m],
                                             [-m, size * 0.35 + m]]))
            cv2.fillPoly(cv.img, [np.round(corners).astype(np.int32)], pc.tolist(), cv2.LINE_AA)
            bgL = S.lum(pc)
        col = S.contrasting(rng, bgL, pol, low_contrast_p=0.1)
        kw = {}
        if style in ('web', 'scene'):
            e = rng.random()
            if e < 0.12:
                kw['stroke'] = max(1, int(size * rng.uniform(0.03, 0.09)))
                kw['stroke_colour'] = S.contrasting(rng, S.lum(col))
            elif e < 0.25:
                kw['shadow'] = (size * rng.uniform(-0.08, 0.1), size * rng.uniform(0.02, 0.1), rng.uniform(0, 3),
                                S.contrasting(rng, S.lum(col)), rng.uniform(0.4, 1))
            if rng.random() < 0.1:
                kw['fill_kind'] = 'texture'
        n_before = len(cv.words)
        before = cv.img.copy()
        line = cv.text(0, 0, toks, fi, size, col, gaps=gaps, tracking=tracking, M=M, curve=curve,
                       curve_kind=curve_kind, check=False, underline=style == 'form' and rng.random() < 0.1,
                       blur=rng.uniform(0.3, 1.0) if rng.random() < 0.1 else 0.0, **kw)
        if line is None or len(cv.words) - n_before != len(toks):
            raise RuntimeError('line not rendered whole')
        words = cv.words[n_before:]
        # what the text changed in the picture: a word whose ink barely differs from its background is illegible
        delta = np.abs(cv.img.astype(np.int16) - before).max(axis=2)
        del before
        # lines above / below (other text, same or other font) -> fragments at the crop's top / bottom
        for dy in (-1, 1):
            if rng.random() < 0.35:
                ls = size * rng.uniform(1.05, 1.6)
                Ml = M @ S.translate(rng.uniform(-3, 1) * size, dy * ls)
                other = self.tokens(rng, int(rng.integers(2, 6)), case, info)
                if other:
                    cv.text(0, 0, other, fi, size, col, M=Ml, check=False, curve=curve, curve_kind=curve_kind)
        # degrade the line's neighbourhood once (blur / JPEG act on the page, not on the crop), then cut the target
        # and, from the same canvas, some of its neighbours as samples of their own
        allq = np.concatenate([q.reshape(-1, 2) for q in words])
        bx0, by0 = np.floor(allq.min(0) - size * 1.2).astype(int)
        bx1, by1 = np.ceil(allq.max(0) + size * 1.2).astype(int)
        bx0, by0 = max(0, bx0), max(0, by0)
        bx1, by1 = min(W, bx1), min(H, by1)
        clean = cv.img[by0:by1, bx0:bx1]
        region = self.degrade(clean, rng, style)
        off = np.array([bx0, by0])
        spans = [(len(left), len(left) + len(target))]
        spans += [(i, i + 1) for i in range(len(toks)) if not len(left) <= i < len(left) + len(target)
                  and rng.random() < 0.6]
        out = []
        for a, b in spans:
            pts = np.concatenate([q.reshape(-1, 2) for q in words[a:b]])
            ix0, iy0 = np.maximum(np.floor(pts.min(0)).astype(int), 0)
            ix1, iy1 = np.ceil(pts.max(0)).astype(int) + 1
            d = delta[iy0:iy1, ix0:ix1]
            if d.size == 0 or np.percentile(d, 90) < 40:
                continue
            pts = pts - off
            quad = self.box(pts, rng, size, gap, a > 0, b < len(toks))
            border = cv2.BORDER_REPLICATE if rng.random() < 0.7 else cv2.BORDER_CONSTANT
            crop = self.cut(region, quad, border)
            grey = np.asarray(Image.fromarray(crop).convert('L'))
            g0 = np.asarray(Image.fromarray(self.cut(clean, quad, border)).convert('L'))
            if rng.random() < 0.08:  # low resolution after cutting (tiny words upscaled by the detector's resize)
                h, w = grey.shape
                f = rng.uniform(1.5, 3.0)
                small = cv2.resize(grey, (max(2, int(w / f)), max(4, int(h / f))), interpolation=cv2.INTER_AREA)
                grey = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            # illegible (text lost in the background or in the dark): skip, the label would be a guess
            # (or washed out by the degradations: keep at least 40 % of the clean crop's contrast)
            lo, hi = np.percentile(grey, (3, 97))
            lo0, hi0 = np.percentile(g0, (3, 97))
            if hi - lo < 50 or hi - lo < 0.4 * (hi0 - lo0) or grey.shape[0] < 4 or grey.shape[1] < 2:
                continue
            out.append({'image': grey, 'text': ' '.join(charset_label(t) for t in toks[a:b]), 'style': style,
                        'font': info['path']})
        if not out:
            raise RuntimeError('no legible crop')
        return out

    @staticmethod
    def degrade(img, rng, style):
        layout = {'document': 'document', 'form': 'form', 'receipt': 'receipt', 'web': 'web', 'scene': 'scene'}[style]
        return S.degrade(img, rng, layout)

    @staticmethod
    def box(pts: np.ndarray, rng, size: float, gap: float, has_left: bool, has_right: bool) -> np.ndarray:
        """The target's box as a detector would give it: rotated minimum-area rectangle (CRAFT getDetBoxes) or
        axis-aligned box (ICDAR / FUNSD ground truth), grown by a random margin, corners jittered."""
        if rng.random() < 0.3:
            x0, y0 = pts.min(0)
            x1, y1 = pts.max(0)
            q = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
        else:
            q = cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32))).astype(np.float64)
            # order: start at the top-left, clockwise (reading direction along the longer side)
            c = q.mean(0)
            e = [np.linalg.norm(q[(i + 1) % 4] - q[i]) for i in range(4)]
            i0 = 0 if e[0] >= e[1] else 1
            q = np.roll(q, -i0, axis=0)
            d = q[1] - q[0]
            if d[0] < 0:  # reading left to right
                q = np.roll(q, 2, axis=0)
            a, b = q[1] - q[0], q[3] - q[0]
            if a[0] * b[1] - a[1] * b[0] < 0:
                q = q[[0, 3, 2, 1]]
            _ = c
        u = q[1] - q[0]
        v = q[3] - q[0]
        lu, lv = np.linalg.norm(u) + 1e-6, np.linalg.norm(v) + 1e-6
        u, v = u / lu, v / lv
        h = lv
        r = rng.random()
        if r < 0.25:  # tight
            mt, mb = rng.uniform(-0.04, 0.06, 2) * h
            ml, mr = rng.uniform(-0.03, 0.08, 2) * h
        elif r < 0.8:  # CRAFT-like (getDetBoxes dilates the region blob)
            mt, mb = rng.uniform(0.02, 0.25, 2) * h
            ml, mr = rng.uniform(0.0, 0.3, 2) * h
        else:  # loose
            mt, mb = rng.uniform(0.1, 0.45, 2) * h
            ml, mr = rng.uniform(0.1, 0.6, 2) * h
        # a neighbour starts one gap away: keep most of it out, allow fragments sometimes
        lim = gap * (1.25 if rng.random() < 0.15 else 0.75)
        if has_left:
            ml = min(ml, lim)
        if has_right:
            mr = min(mr, lim)
        q = q + np.stack([-ml * u - mt * v, mr * u - mt * v, mr * u + mb * v, -ml * u + mb * v])
        q = q + rng.normal(0, 0.025 * h, q.shape)
        if rng.random() < 0.2:  # small extra rotation of the box
            a = rng.normal(0, 0.03)
            c = q.mean(0)
            R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
            q = (q - c) @ R.T + c
        return q

    @staticmethod
    def cut(img: np.ndarray, q: np.ndarray, border: int) -> np.ndarray:
        w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
        h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
        w, h = max(2, int(round(w))), max(2, int(round(h)))
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        P = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
        return cv2.warpPerspective(img, P, (w, h), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=0)


class SafeWordSynth(WordSynth):
    """A bad sample (generator bug, odd font) must not end a long run: log it and draw a replacement index."""

    def get(self, index: int, split: str = 'train') -> list[dict]:
        for k in range(20):
            i = index + k * 10 ** 9
            try:
                return self.sample(i, split)
            except Exception as err:  # noqa: BLE001
                if not isinstance(err, RuntimeError):
                    print(f'wordsynth: sample {i} ({split}) failed: {err!r}', flush=True)
        raise RuntimeError(f'wordsynth: no sample for index {index}')


def grid(samples: list[dict], cols: int = 4, cell_h: int = 32, cell_w: int = 260) -> Image.Image:
    rows = (len(samples) + cols - 1) // cols
    lab_h = 16
    out = Image.new('L', (cols * cell_w, rows * (cell_h + lab_h + 6)), 255)
    dr = ImageDraw.Draw(out)
    try:
        font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf', 12)
    except OSError:
        font = ImageFont.load_default()
    for k, s in enumerate(samples):
        r, c = divmod(k, cols)
        im = Image.fromarray(s['image'])
        w = max(1, min(cell_w - 8, int(round(im.width * cell_h / im.height))))
        im = im.resize((w, cell_h), Image.BICUBIC)
        x, y = c * cell_w + 4, r * (cell_h + lab_h + 6) + 2
        out.paste(im, (x, y))
        dr.text((x, y + cell_h + 1), repr(s['text'])[1:-1][:36], fill=0, font=font)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--grid', type=int, default=0, help='write a PNG grid of N samples (split preview) to --out')
    ap.add_argument('--out', default='/tmp/wordsynth.png')
    ap.add_argument('--bench', type=int, default=0)
    ap.add_argument('--write-val', type=int, default=0,
                    help='write the targets of the first N lines of the val split as a labels.tsv folder to --out '
                         '(for craft-text eval --task recognition: the confidence calibration of the model card)')
    a = ap.parse_args(argv)
    ws = SafeWordSynth(a.seed)
    if a.grid:
        samples = []
        i = 0
        while len(samples) < a.grid:
            samples.extend(ws.get(i, 'preview'))
            i += 1
        samples = samples[:a.grid]
        grid(samples).save(a.out)
        for i, s in enumerate(samples):
            print(i, s['style'], repr(s['text']), s['image'].shape)
        print(a.out)
    if a.write_val:
        os.makedirs(os.path.join(a.out, 'images'), exist_ok=True)
        with open(os.path.join(a.out, 'labels.tsv'), 'w', encoding='utf-8') as f:
            for i in range(a.write_val):
                s = ws.get(i, 'val')[0]
                name = f'images/{i:05d}.png'
                Image.fromarray(s['image']).save(os.path.join(a.out, name))
                f.write(f"{name}\t{s['text']}\n")
        print(f'{a.write_val} words in {a.out}/labels.tsv')
    if a.bench:
        t = time.perf_counter()
        n = sum(len(ws.get(i)) for i in range(a.bench))
        dt = time.perf_counter() - t
        print(f'{a.bench} lines, {n} crops: {n / dt:.1f} crops/s ({dt / n * 1000:.1f} ms per crop)')


if __name__ == '__main__':
    main()
