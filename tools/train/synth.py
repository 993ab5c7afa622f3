#!/usr/bin/env python3
"""Synthetic text images with exact per-character boxes and CRAFT ground truth (region + affinity).

    python3 tools/train/synth.py --preview 12 --out /tmp/synth      # images with boxes / GT overlaid
    python3 tools/train/synth.py --bench 200                         # samples/s (single process)
    python3 tools/train/synth.py --list-assets                       # the fonts / images actually used

A sample is a function of (seed, split, index) only: ``Synth(size, seed).sample(index)`` always returns the same
image and maps (numpy Generator seeded with [seed, split, index]; PIL / OpenCV are deterministic).

Pipeline per sample: choose a layout (document page, form, receipt, web page / banner, scene, clutter) and a
global view transform (zoom, rotation, perspective) -> build a *canvas* that covers the inverse image of the output
crop -> background + non-text clutter (lines, boxes, tables, icons, shapes, photo insets) -> text lines rendered
with PIL (whole words, per-character ink boxes from the same font metrics), optionally tracked, curved (baseline
displacement applied to the pixels and to the box corners) and projected by a per-block homography -> the global
homography maps canvas and boxes to the ``size x size`` crop -> photometric degradations (blur, resampling,
noise, palette quantisation, JPEG) -> ground truth at half resolution: an isotropic 2-D Gaussian warped by a
perspective transform into every character box (region) and every affinity box (centres of the upper / lower
triangles of two adjacent characters of one word; a word = a whitespace-separated token).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from assets import Assets, FontCache  # noqa: E402

cv2.setNumThreads(1)

SPLITS = {'train': 0, 'val': 1, 'preview': 2}

# Gaussian: value exp(-0.5 * (K * d)^2), d = distance from the box centre in units of the half box size (d = 1 at
# the edge mid-points), clipped to the box. K was chosen by running the official post-processing (getDetBoxes at
# 0.7 / 0.4 / 0.4) on the ground truth itself ("oracle" H-mean on the synthetic validation set, IoU 0.5):
#   region K / affinity K:  2.5/2.5 -> 0.34 (words fall apart: the 0.4 levels of region and affinity do not meet)
#                           2.26/1.2 -> 0.88, 1.8/1.2 -> 0.91, 1.8/1.0 -> 0.934, 1.7/1.0 -> 0.937, 1.9/1.0 -> 0.929
# With region K = 1.75 the 0.4 level sits at 77 % of the half box (getDetBoxes' dilation restores the ink box) and
# with affinity K = 1.0 the whole affinity box is >= 0.37, so the characters of a word always link. The remaining
# oracle misses are mostly tiny one-character words whose component has < 10 heat-map pixels.
GAUSS_K_REGION = 1.75
GAUSS_K_AFFINITY = 1.0
MIN_BOX_HALF = 1.0  # heat-map pixels: tiny characters get at least a 2x2 px Gaussian

LAYOUTS = {'document': 0.18, 'form': 0.2, 'receipt': 0.06, 'web': 0.28, 'scene': 0.2, 'clutter': 0.08}

FONTS_BODY = {'sans': 0.45, 'serif': 0.35, 'mono': 0.12, 'hand': 0.03, 'display': 0.05}
FONTS_FORM_LABEL = {'sans': 0.55, 'serif': 0.25, 'mono': 0.1, 'display': 0.1}
FONTS_FORM_VALUE = {'sans': 0.25, 'serif': 0.1, 'mono': 0.3, 'hand': 0.35}
FONTS_RECEIPT = {'mono': 0.7, 'sans': 0.2, 'pixel': 0.1}
FONTS_WEB = {'sans': 0.45, 'serif': 0.15, 'display': 0.14, 'decorative': 0.07, 'hand': 0.08, 'mono': 0.05,
             'pixel': 0.06}
FONTS_SCENE = {'sans': 0.3, 'serif': 0.15, 'display': 0.2, 'decorative': 0.15, 'hand': 0.15, 'mono': 0.05}

COMMON = ('the of and to a in is for on that by with at from as be this are or your it an we our you not all new '
          'more can will has have was no about if but one may up out use see its any per my get free home page '
          'click here name date total sign print form type code amount address city state zip phone fax email '
          'please yes check only other date time item qty price tax cash card sale news contact login search '
          'help menu shop buy now order help top best off save view more info').split()
ABBREV = ('Inc.', 'Ltd.', 'No.', 'Dr.', 'Mr.', 'Mrs.', 'Co.', 'St.', 'Ave.', 'e.g.', 'i.e.', 'etc.', 'Fig.', 'p.m.',
          'a.m.', 'U.S.', 'Corp.', 'Dept.', 'Tel.', 'vs.', 'approx.', 'min.', 'max.', 'Jan.', 'Feb.', 'Oct.')
MONTHS = ('January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
          'November', 'December')
TLDS = ('com', 'org', 'net', 'de', 'co.uk', 'io', 'info', 'edu', 'gov')
FORM_LABELS = ('Name', 'Date', 'Address', 'City', 'State', 'Zip', 'Phone', 'Fax', 'Signature', 'Title', 'Company',
               'Department', 'Account', 'Number', 'Amount', 'Total', 'Subject', 'From', 'To', 'Re', 'Cc', 'Ref',
               'Budget', 'Code', 'Approved', 'Brand', 'Quantity', 'Description', 'Remarks', 'Comments', 'Location',
               'Period', 'Contact', 'Email', 'Project', 'Client', 'Invoice', 'Order', 'Item', 'Price', 'Market')


# ---------------------------------------------------------------------------------------------------------------
# text content

class TextGen:
    def __init__(self, words: list[str]):
        self.words = words

    def _word(self, rng) -> str:
        if rng.random() < 0.35:
            return COMMON[rng.integers(len(COMMON))]
        return self.words[rng.integers(len(self.words))].lower()

    def token(self, rng, case: str = 'sentence') -> str:
        r = rng.random()
        if r < 0.72:
            w = self._word(rng)
            if case == 'upper':
                w = w.upper()
            elif case == 'title' or (case == 'sentence' and rng.random() < 0.12):
                w = w[:1].upper() + w[1:]
            elif case == 'lower':
                pass
            if rng.random() < 0.13:
                w += '.,:;!?'[rng.choice(6, p=[.35, .35, .12, .06, .06, .06])]
            elif rng.random() < 0.03:
                q = rng.integers(3)
                w = ('(' + w + ')', '"' + w + '"', "'" + w + "'")[q]
            elif rng.random() < 0.02:
                w = w + "'s"
            return w
        r = rng.random()
        if r < 0.22:
            n = int(10 ** rng.uniform(0, 6))
            s = f'{n:,}' if rng.random() < 0.3 else str(n)
            return s
        if r < 0.36:
            cur = '$€£'[rng.choice(3, p=[.7, .2, .1])] if rng.random() < 0.75 else ''
            return f'{cur}{rng.uniform(0, 2000):.2f}'
        if r < 0.48:
            d, m, y = rng.integers(1, 29), rng.integers(1, 13), rng.integers(1950, 2030)
            k = rng.integers(5)
            return (f'{m:02d}/{d:02d}/{y}', f'{y}-{m:02d}-{d:02d}', f'{d}.{m}.{y}', f'{m}/{d}/{y % 100:02d}',
                    f'{d:02d}-{MONTHS[m - 1][:3].upper()}-{y}')[k]
        if r < 0.54:
            return f'{rng.integers(0, 24)}:{rng.integers(0, 60):02d}' + ('' if rng.random() < 0.6 else 'pm')
        if r < 0.62:
            return f'{rng.integers(0, 100)}%' if rng.random() < 0.6 else f'{rng.uniform(0, 100):.1f}%'
        if r < 0.7:
            a = ''.join(chr(65 + rng.integers(26)) for _ in range(rng.integers(1, 4)))
            return f'{a}-{rng.integers(10, 99999)}' if rng.random() < 0.6 else f'#{rng.integers(100, 99999)}'
        if r < 0.76:
            w = self._word(rng)
            return (f'www.{w}.{TLDS[rng.integers(len(TLDS))]}' if rng.random() < 0.5 else
                    f'{self._word(rng)}@{w}.{TLDS[rng.integers(len(TLDS))]}')
        if r < 0.81:
            return f'({rng.integers(200, 999)}) {rng.integers(200, 999)}-{rng.integers(1000, 9999)}'.split()[
                rng.integers(2)] if rng.random() < 0.5 else f'{rng.integers(200, 999)}-{rng.integers(1000, 9999)}'
        if r < 0.88:
            return ABBREV[rng.integers(len(ABBREV))]
        if r < 0.93:
            return '&-+#/*=|'[rng.integers(8)] if rng.random() < 0.5 else str(rng.integers(0, 10))
        # pseudo-random letter strings
        n = rng.integers(2, 9)
        s = ''.join(chr(97 + rng.integers(26)) for _ in range(n))
        return s.upper() if rng.random() < 0.4 else s

    def tokens(self, rng, n: int, case: str = 'sentence') -> list[str]:
        out = [self.token(rng, case) for _ in range(n)]
        if case == 'sentence' and out:
            out[0] = out[0][:1].upper() + out[0][1:]
        return out


def fit_charset(tokens: list[str], font_info: dict) -> list[str]:
    cover = font_info['cover']
    out = []
    for t in tokens:
        if not font_info['lower']:
            t = t.upper()
        t = ''.join(c for c in t if c in cover)
        if t:
            out.append(t)
    return out


# ---------------------------------------------------------------------------------------------------------------
# colours

def lum(rgb) -> float:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return 0.299 * r + 0.587 * g + 0.114 * b


def colour_with_lum(rng, target: float, sat: float | None = None) -> np.ndarray:
    """Random colour (hue, saturation) whose luminance is ~target (0..255)."""
    target = float(np.clip(target, 0, 255))
    sat = rng.uniform(0, 1) ** 1.5 if sat is None else sat
    hue = rng.uniform(0, 6)
    x = 1 - abs(hue % 2 - 1)
    base = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(hue) % 6]
    c = np.array(base) * sat + (1 - sat) * 0.5
    c = c * 255
    L = lum(c)
    if L < 1e-3:
        c = np.full(3, target)
    elif target <= L:
        c = c * (target / L)
    else:
        t = (target - L) / (255 - L + 1e-6)
        c = c + (255 - c) * t
    return np.clip(c, 0, 255).astype(np.float32)


def contrasting(rng, bg_lum: float, polarity: str | None = None, low_contrast_p: float = 0.12) -> np.ndarray:
    """Text colour against a background of luminance bg_lum. polarity 'light' / 'dark' forces the text side."""
    if polarity is None:
        polarity = 'dark' if bg_lum > 127 else 'light'
    lo = rng.uniform(28, 60) if rng.random() < low_contrast_p else rng.uniform(70, 230)
    if polarity == 'dark':
        t = bg_lum - lo
        if t < 0:
            t = rng.uniform(0, 40)
    else:
        t = bg_lum + lo
        if t > 255:
            t = rng.uniform(215, 255)
    return colour_with_lum(rng, t)


# ---------------------------------------------------------------------------------------------------------------
# geometry helpers

def apply_h(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = pts.reshape(-1, 2).astype(np.float64)
    q = np.concatenate([p, np.ones((len(p), 1))], axis=1) @ H.T
    q = q[:, :2] / q[:, 2:3]
    return q.reshape(pts.shape)


def translate(tx, ty):
    return np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=np.float64)


def rot_scale(theta, sx, sy=None):
    sy = sx if sy is None else sy
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c * sx, -s * sy, 0], [s * sx, c * sy, 0], [0, 0, 1]], dtype=np.float64)


def perspective(rng, w, h, strength):
    """Homography moving the corners of a w x h rectangle by up to strength * size (keeps it convex)."""
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jit = rng.uniform(-strength, strength, size=(4, 2)) * np.array([w, h])
    dst = (src + jit).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst).astype(np.float64)


# ---------------------------------------------------------------------------------------------------------------
# text rendering

class Line:
    """A rendered line: alpha masks (uint8) + per-word character quads in mask coordinates."""
    __slots__ = ('fill', 'stroke', 'words', 'w', 'h', 'baseline', 'ox')

    def __init__(self, fill, stroke, words, baseline, ox=0):
        self.fill, self.stroke, self.words, self.baseline, self.ox = fill, stroke, words, baseline, ox
        self.h, self.w = fill.shape


def render_line(F: FontCache, tokens, gaps, tracking=0.0, stroke=0, underline=False) -> Line | None:
    """Render tokens separated by gaps[i] pixels; tracking = extra px between the letters of a word."""
    blits, sblits, words, spans = [], [], [], []
    x = 0.0
    for ti, t in enumerate(tokens):
        pen, prev, boxes = x, None, []
        for ch in t:
            if prev is not None:
                pen += tracking if tracking else F.kerning(prev, ch)
            g = F.glyph(ch, 0)
            if g is not None:
                px = int(round(pen))
                blits.append((g[0], px + g[1], g[2]))
                b = g[3]
                if stroke:
                    sg = F.glyph(ch, stroke)
                    if sg is not None:
                        sblits.append((sg[0], px + sg[1], sg[2]))
                        b = sg[3]
                boxes.append((px + b[0], b[1], px + b[2], b[3]))
            pen += F.advance(ch)
            prev = ch
        spans.append((x, pen))
        if boxes:
            words.append(np.array(boxes, dtype=np.float64))
        x = pen + (gaps[ti] if ti < len(gaps) else 0)
    if not words:
        return None
    ext = [(bx, by, bx + a.shape[1], by + a.shape[0]) for a, bx, by in blits + sblits]
    ext = np.array(ext)
    x0, y0 = int(ext[:, 0].min()) - 2, int(ext[:, 1].min()) - 2
    x1, y1 = int(ext[:, 2].max()) + 2, int(ext[:, 3].max()) + 2
    th = max(1, int(round(F.size / 14)))
    uy = max(2, int(F.size * 0.12))
    if underline:
        y1 = max(y1, uy + th + 2)
    W, H = x1 - x0, y1 - y0
    if W <= 0 or H <= 0 or W * H > 6_000_000:
        return None
    fill = np.zeros((H, W), np.uint8)
    for a, bx, by in blits:
        r = fill[by - y0:by - y0 + a.shape[0], bx - x0:bx - x0 + a.shape[1]]
        np.maximum(r, a, out=r)
    st = None
    if sblits:
        st = np.zeros((H, W), np.uint8)
        for a, bx, by in sblits:
            r = st[by - y0:by - y0 + a.shape[0], bx - x0:bx - x0 + a.shape[1]]
            np.maximum(r, a, out=r)
    if underline:
        for sx, ex in spans:
            fill[uy - y0:uy - y0 + th, int(sx) - x0:int(math.ceil(ex)) - x0] = 255
    quads = []
    for wb in words:
        q = np.stack([np.stack([wb[:, 0], wb[:, 1]], 1), np.stack([wb[:, 2], wb[:, 1]], 1),
                      np.stack([wb[:, 2], wb[:, 3]], 1), np.stack([wb[:, 0], wb[:, 3]], 1)], axis=1)
        q[..., 0] -= x0
        q[..., 1] -= y0
        quads.append(q)
    return Line(fill, st, quads, -y0, -x0)


def curve_line(line: Line, amount: float, kind: int) -> Line:
    """Displace the baseline vertically by dy(x) (parabola or sine); amount in pixels (signed)."""
    H, W = line.h, line.w
    xs = np.arange(W, dtype=np.float32)
    u = (xs - W / 2) / max(W / 2, 1)
    if kind == 0:
        dy = amount * (u ** 2)
    else:
        dy = amount * np.sin(u * math.pi * 0.9)
    dy = dy - dy.min()  # >= 0
    Hn = H + int(math.ceil(dy.max())) + 1
    map_x = np.tile(xs, (Hn, 1))
    map_y = np.arange(Hn, dtype=np.float32)[:, None] - dy[None, :]

    def warp(m):
        return None if m is None else cv2.remap(m, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                                 borderValue=0)
    words = []
    for q in line.words:
        q = q.copy()
        q[..., 1] += np.interp(q[..., 0], xs, dy)
        words.append(q)
    return Line(warp(line.fill), warp(line.stroke), words, line.baseline, line.ox)


# ---------------------------------------------------------------------------------------------------------------
# canvas

class Canvas:
    def __init__(self, w, h, rng, assets: Assets, textgen: TextGen, zoom: float):
        self.w, self.h = w, h
        self.img = np.zeros((h, w, 3), np.uint8)
        self.rng = rng
        self.assets = assets
        self.tg = textgen
        self.zoom = zoom
        self.words: list[np.ndarray] = []
        self.occ = np.zeros((h // 4 + 2, w // 4 + 2), bool)
        self.stats = {'light_text': 0, 'dark_text': 0}

    # -- occupancy (text must not overlap text) ----------------------------------------------------------------
    def free(self, x0, y0, x1, y1, margin=2) -> bool:
        a, b = max(0, int(x0 - margin) // 4), max(0, int(y0 - margin) // 4)
        c, d = min(self.occ.shape[1], int(x1 + margin) // 4 + 1), min(self.occ.shape[0], int(y1 + margin) // 4 + 1)
        if c <= a or d <= b:
            return True
        return not self.occ[b:d, a:c].any()

    def mark(self, x0, y0, x1, y1):
        a, b = max(0, int(x0) // 4), max(0, int(y0) // 4)
        c, d = min(self.occ.shape[1], int(x1) // 4 + 1), min(self.occ.shape[0], int(y1) // 4 + 1)
        if c > a and d > b:
            self.occ[b:d, a:c] = True

    def region_lum(self, x0, y0, x1, y1) -> float:
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        x1, y1 = min(self.w, int(math.ceil(x1))), min(self.h, int(math.ceil(y1)))
        if x1 <= x0 or y1 <= y0:
            return 128.0
        roi = self.img[y0:y1:2, x0:x1:2]
        return float(lum(roi.reshape(-1, 3).astype(np.float32)).mean())

    # -- compositing ---------------------------------------------------------------------------------------------
    def blend(self, x0, y0, alpha: np.ndarray, colour):
        """alpha: float32 [h,w] in 0..1 at canvas offset (x0, y0); colour: rgb (3,) or image [h,w,3]."""
        h, w = alpha.shape
        cx0, cy0 = max(0, x0), max(0, y0)
        cx1, cy1 = min(self.w, x0 + w), min(self.h, y0 + h)
        if cx1 <= cx0 or cy1 <= cy0:
            return
        a = alpha[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0, None]
        if isinstance(colour, np.ndarray) and colour.ndim == 3:
            col = colour[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0].astype(np.float32)
        else:
            col = np.asarray(colour, np.float32)
        roi = self.img[cy0:cy1, cx0:cx1].astype(np.float32)
        roi += (col - roi) * a
        self.img[cy0:cy1, cx0:cx1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)

    def fill_source(self, kind, h, w, c1, c2=None):
        rng = self.rng
        if kind == 'solid':
            return c1
        if kind == 'gradient':
            t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
            return np.broadcast_to(c1 * (1 - t) + c2 * t, (h, w, 3)).astype(np.float32)
        # texture: noisy version of c1
        n = rng.normal(0, 18, size=(max(1, h // 3), max(1, w // 3), 1)).astype(np.float32)
        n = cv2.resize(n, (w, h), interpolation=cv2.INTER_LINEAR)[:, :, None]
        return np.clip(c1[None, None] + n, 0, 255)

    def put_line(self, line: Line, M: np.ndarray | None, ox: float, oy: float, colour, *,
                 stroke_colour=None, shadow=None, fill_kind='solid', colour2=None, check=True,
                 blur=0.0) -> bool:
        """Place a rendered line: M (3x3, line -> canvas) or integer offset (ox, oy). Returns False if rejected."""
        if M is None:
            M = translate(round(ox), round(oy))
        corners = apply_h(M, np.array([[0, 0], [line.w, 0], [line.w, line.h], [0, line.h]], np.float64))
        words = [apply_h(M, q) for q in line.words]
        allq = np.concatenate([q.reshape(-1, 2) for q in words])
        bx0, by0 = allq.min(0)
        bx1, by1 = allq.max(0)
        # at least part of the text must be on the canvas
        if bx1 < 0 or by1 < 0 or bx0 >= self.w or by0 >= self.h:
            return False
        if check and not self.free(bx0, by0, bx1, by1):
            return False
        x0, y0 = np.floor(corners.min(0)).astype(int) - 1
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
        x0, y0 = max(x0, -2), max(y0, -2)
        x1, y1 = min(x1, self.w + 2), min(y1, self.h + 2)
        if x1 <= x0 or y1 <= y0:
            return False
        is_shift = np.allclose(M[:2, :2], np.eye(2)) and np.allclose(M[2], [0, 0, 1]) \
            and float(M[0, 2]).is_integer() and float(M[1, 2]).is_integer()

        def project(mask):
            if mask is None:
                return None
            if is_shift:
                out = np.zeros((y1 - y0, x1 - x0), np.float32)
                sx, sy = int(M[0, 2]) - x0, int(M[1, 2]) - y0
                a0, b0 = max(0, sx), max(0, sy)
                a1, b1 = min(x1 - x0, sx + line.w), min(y1 - y0, sy + line.h)
                if a1 > a0 and b1 > b0:
                    out[b0:b1, a0:a1] = mask[b0 - sy:b1 - sy, a0 - sx:a1 - sx]
                return out * (1 / 255)
            Mr = translate(-x0, -y0) @ M
            return cv2.warpPerspective(mask, Mr, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(np.float32) * (1 / 255)
        fa = project(line.fill)
        sa = project(line.stroke)
        if blur > 0:
            k = int(blur * 3) * 2 + 1
            fa = cv2.GaussianBlur(fa, (k, k), blur)
            if sa is not None:
                sa = cv2.GaussianBlur(sa, (k, k), blur)
        if shadow is not None:
            dx, dy, sb, scol, sop = shadow
            base = sa if sa is not None else fa
            sh = np.zeros_like(base)
            dxi, dyi = int(round(dx)), int(round(dy))
            H_, W_ = base.shape
            if abs(dyi) < H_ and abs(dxi) < W_:  # an offset past the line's own box casts nothing inside it
                src = base[max(0, -dyi):H_ - max(0, dyi), max(0, -dxi):W_ - max(0, dxi)]
                sh[max(0, dyi):max(0, dyi) + src.shape[0], max(0, dxi):max(0, dxi) + src.shape[1]] = src
            if sb > 0:
                k = int(sb * 3) * 2 + 1
                sh = cv2.GaussianBlur(sh, (k, k), sb)
            self.blend(x0, y0, sh * sop, scol)
        if sa is not None and stroke_colour is not None:
            self.blend(x0, y0, sa, stroke_colour)
        src = self.fill_source(fill_kind, y1 - y0, x1 - x0, colour, colour2)
        self.blend(x0, y0, fa, src)
        self.words.extend(words)
        self.mark(bx0, by0, bx1, by1)
        return True

    def text(self, x, y, tokens, font_idx, size, colour, *, gaps=None, tracking=0.0, stroke=0, M=None,
             curve=0.0, curve_kind=0, check=True, underline=False, count_polarity=None, **kw) -> Line | None:
        """Render tokens with one font; (x, y) = pen start and top of the em box, or M (3x3) maps pen
        coordinates (origin on the baseline) to the canvas."""
        info = self.assets.fonts[font_idx]
        tokens = fit_charset(tokens, info)
        if not tokens:
            return None
        size = int(max(6, min(size, 400)))
        font = self.assets.font(font_idx, size)
        if gaps is None:
            sp = font.advance(' ') or size * 0.3
            gaps = [sp * self.rng.uniform(0.9, 1.5) + tracking] * (len(tokens) - 1)
        line = render_line(font, tokens, gaps, tracking=tracking, stroke=stroke, underline=underline)
        if line is None:
            return None
        if curve:
            line = curve_line(line, curve, curve_kind)
        if M is not None:
            M = M @ translate(-line.ox, -line.baseline)  # M maps pen coordinates (origin on the baseline)
        else:  # (x, y): pen start, top of the em box (baseline = y + ascent)
            x, y = x - line.ox, y + font.font.getmetrics()[0] - line.baseline
        ok = self.put_line(line, M, x, y, colour, check=check, **kw)
        if not ok:
            return None
        if count_polarity is not None:
            self.stats['light_text' if count_polarity == 'light' else 'dark_text'] += len(line.words)
        return line

    def font_size(self, out_px: float) -> int:
        """Canvas font size for an em size of out_px pixels in the output crop."""
        return int(round(out_px / self.zoom))


# ---------------------------------------------------------------------------------------------------------------
# backgrounds

def noise_field(rng, h, w, scales=(4, 16, 64), amps=(1.0, 0.5, 0.25)):
    acc = np.zeros((h, w), np.float32)
    for s, a in zip(scales, amps):
        gh, gw = max(2, h // s + 2), max(2, w // s + 2)
        g = rng.normal(0, 1, (gh, gw)).astype(np.float32)
        acc += a * cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
    acc -= acc.mean()
    acc /= acc.std() + 1e-6
    return acc


def tone_adjust(img: np.ndarray, tone: str, rng) -> np.ndarray:
    """Map an image so that its mean luminance is light (> ~170) or dark (< ~85)."""
    f = img.astype(np.float32)
    m = float(lum(f.reshape(-1, 3)).mean())
    if tone == 'light':
        target = rng.uniform(170, 235)
        if m < target:
            t = (target - m) / (255 - m + 1e-3)
            f = f + (255 - f) * t
    elif tone == 'dark':
        target = rng.uniform(15, 85)
        if m > target:
            f = f * (target / max(m, 1))
    return np.clip(f, 0, 255).astype(np.uint8)


def photo_crop(assets: Assets, rng, h, w, kind='photo') -> np.ndarray:
    lst = assets.photos if kind == 'photo' else assets.papers if kind == 'paper' else assets.patterns
    src = assets.image(lst[rng.integers(len(lst))]['path'])
    sh, sw = src.shape[:2]
    if kind == 'pattern':  # tile, random scale
        s = rng.uniform(0.5, 2.0)
        t = cv2.resize(src, (max(8, int(sw * s)), max(8, int(sh * s))), interpolation=cv2.INTER_AREA)
        reps = (h // t.shape[0] + 2, w // t.shape[1] + 2, 1)
        big = np.tile(t, reps)
        oy, ox = rng.integers(t.shape[0]), rng.integers(t.shape[1])
        return np.ascontiguousarray(big[oy:oy + h, ox:ox + w])
    # random crop of random size (aspect of the target), resized
    scale = rng.uniform(0.25, 1.0)
    ch = int(min(sh, sw * h / w) * scale)
    cw = int(ch * w / h)
    ch, cw = max(8, min(ch, sh)), max(8, min(cw, sw))
    y0, x0 = rng.integers(0, sh - ch + 1), rng.integers(0, sw - cw + 1)
    crop = src[y0:y0 + ch, x0:x0 + cw]
    interp = cv2.INTER_AREA if cw > w else cv2.INTER_LINEAR
    out = cv2.resize(crop, (w, h), interpolation=interp)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if kind == 'photo' and rng.random() < 0.15:
        out = out[::-1]
    return np.ascontiguousarray(out)


def background(cv: Canvas, kind: str, tone: str):
    rng, h, w = cv.rng, cv.h, cv.w
    if kind == 'flat':
        L = rng.uniform(185, 255) if tone == 'light' else rng.uniform(0, 80)
        cv.img[:] = colour_with_lum(rng, L).astype(np.uint8)
        if rng.random() < 0.4:
            n = rng.normal(0, rng.uniform(1, 6), (h, w, 1))
            cv.img[:] = np.clip(cv.img + n, 0, 255).astype(np.uint8)
    elif kind == 'gradient':
        L1 = rng.uniform(170, 255) if tone == 'light' else rng.uniform(0, 90)
        L2 = np.clip(L1 + rng.uniform(-60, 60), 0, 255)
        c1, c2 = colour_with_lum(rng, L1), colour_with_lum(rng, L2)
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        if rng.random() < 0.25:  # radial
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        else:
            t = xx * math.cos(ang) + yy * math.sin(ang)
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
        cv.img[:] = np.clip(c1 * (1 - t[..., None]) + c2 * t[..., None], 0, 255).astype(np.uint8)
    elif kind == 'noise':
        L = rng.uniform(160, 240) if tone == 'light' else rng.uniform(15, 95)
        c1 = colour_with_lum(rng, L)
        c2 = colour_with_lum(rng, np.clip(L + rng.uniform(-50, 50), 0, 255))
        s = rng.choice([2, 4, 8, 16])
        t = noise_field(rng, h, w, scales=(s, s * 4, s * 16), amps=(rng.uniform(0.2, 1), 0.6, 0.4))
        t = 1 / (1 + np.exp(-t * rng.uniform(0.5, 2)))
        cv.img[:] = np.clip(c1 * (1 - t[..., None]) + c2 * t[..., None], 0, 255).astype(np.uint8)
    elif kind == 'paper':
        if cv.assets.papers and rng.random() < 0.6:
            base = photo_crop(cv.assets, rng, h, w, 'paper').astype(np.float32)
            base = (base - base.mean((0, 1))) * rng.uniform(0.5, 1.5) + colour_with_lum(rng, rng.uniform(200, 245),
                                                                                        rng.uniform(0, 0.25))
        else:
            base = np.broadcast_to(colour_with_lum(rng, rng.uniform(200, 250), rng.uniform(0, 0.3)),
                                   (h, w, 3)).astype(np.float32)
            base = base + noise_field(rng, h, w, (2, 8, 64), (0.6, 0.5, 1.0))[..., None] * rng.uniform(2, 10)
        if rng.random() < 0.3:  # stains / uneven illumination
            base = base * (1 - 0.12 * np.clip(noise_field(rng, h, w, (64, 128), (1, 1)), 0, 3)[..., None])
        img = np.clip(base, 0, 255).astype(np.uint8)
        if tone == 'dark':
            img = 255 - img
        cv.img[:] = img
    elif kind in ('photo', 'pattern'):
        src = kind if (kind == 'photo' or cv.assets.patterns) else 'photo'
        img = photo_crop(cv.assets, rng, h, w, src)
        if rng.random() < 0.3:
            k = int(rng.uniform(1, 6)) * 2 + 1
            img = cv2.GaussianBlur(img, (k, k), 0)
        if rng.random() < 0.7:
            img = tone_adjust(img, tone, rng)
        elif rng.random() < 0.5:  # low-contrast wash
            f = img.astype(np.float32)
            m = 235.0 if tone == 'light' else 30.0
            a = rng.uniform(0.3, 0.7)
            img = np.clip(f * (1 - a) + m * a, 0, 255).astype(np.uint8)
        cv.img[:] = img
    elif kind == 'panels':  # web page: a few flat / gradient panels
        background(cv, 'flat', tone)
        for _ in range(rng.integers(1, 5)):
            x0, y0 = rng.integers(-w // 4, w), rng.integers(-h // 4, h)
            pw, ph = rng.integers(w // 6, w + 1), rng.integers(h // 8, h // 2 + 1)
            t2 = tone if rng.random() < 0.6 else ('dark' if tone == 'light' else 'light')
            L = rng.uniform(170, 255) if t2 == 'light' else rng.uniform(0, 90)
            cv2.rectangle(cv.img, (int(x0), int(y0)), (int(x0 + pw), int(y0 + ph)),
                          colour_with_lum(rng, L).tolist(), -1)


# ---------------------------------------------------------------------------------------------------------------
# clutter (non-text)

def draw_clutter(cv: Canvas, n: int, scale: float = 1.0, kinds=None, region=None):
    """n non-text items. With region=(x0, y0, x1, y1) items are placed there and skipped where they could
    cover text already drawn (text must stay visible wherever it is labelled)."""
    rng, h, w = cv.rng, cv.h, cv.w
    img = cv.img
    all_kinds = ['hline', 'vline', 'rect', 'fillrect', 'circle', 'poly', 'icon', 'checkbox', 'grid', 'hatch',
                 'dots', 'scribble', 'stripes', 'inset', 'blob', 'arrow']
    wts = np.array([8, 5, 5, 5, 4, 4, 5, 3, 2, 1.5, 1.5, 1.5, 0.7, 2, 2, 2], np.float64)
    if kinds is not None:
        idx = [all_kinds.index(k) for k in kinds]
        all_kinds = [all_kinds[i] for i in idx]
        wts = wts[idx]
    wts = wts / wts.sum()
    for _ in range(n):
        k = all_kinds[rng.choice(len(all_kinds), p=wts)]
        bgL = cv.region_lum(0, 0, w, h)
        col = contrasting(rng, bgL, low_contrast_p=0.3).tolist()
        th = int(max(1, rng.choice([1, 1, 1, 2, 2, 3, 4]) * scale ** 0.5))
        s = max(4, int(rng.uniform(6, 60) * scale))
        if region is None:
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        else:
            x = int(rng.uniform(region[0], max(region[0] + 1, region[2])))
            y = int(rng.uniform(region[1], max(region[1] + 1, region[3])))
            if k in ('hline', 'vline', 'grid', 'inset', 'dots') or not cv.free(x - s, y - s, x + 6 * s, y + 3 * s):
                continue
        aa = cv2.LINE_AA if rng.random() < 0.6 else cv2.LINE_8
        if k == 'hline':
            L = int(rng.uniform(0.1, 1.2) * w)
            if rng.random() < 0.2:  # dashed
                step = int(rng.uniform(3, 12))
                for xx in range(x - L // 2, x + L // 2, step * 2):
                    cv2.line(img, (xx, y), (xx + step, y), col, th, aa)
            else:
                cv2.line(img, (x - L // 2, y), (x + L // 2, y), col, th, aa)
        elif k == 'vline':
            L = int(rng.uniform(0.1, 1.2) * h)
            cv2.line(img, (x, y - L // 2), (x, y + L // 2), col, th, aa)
        elif k == 'rect':
            cv2.rectangle(img, (x, y), (x + int(s * rng.uniform(1, 6)), y + int(s * rng.uniform(0.5, 3))), col, th, aa)
        elif k == 'fillrect':
            pw, ph = int(s * rng.uniform(0.5, 5)), int(s * rng.uniform(0.3, 2))
            if rng.random() < 0.5:
                r = max(1, min(pw, ph) // 3)
                cv2.rectangle(img, (x + r, y), (x + pw - r, y + ph), col, -1)
                cv2.rectangle(img, (x, y + r), (x + pw, y + ph - r), col, -1)
                for cx_, cy_ in ((x + r, y + r), (x + pw - r, y + r), (x + r, y + ph - r), (x + pw - r, y + ph - r)):
                    cv2.circle(img, (cx_, cy_), r, col, -1, cv2.LINE_AA)
            else:
                cv2.rectangle(img, (x, y), (x + pw, y + ph), col, -1)
        elif k == 'circle':
            r = max(2, s // 2)
            if rng.random() < 0.5:
                cv2.circle(img, (x, y), r, col, -1 if rng.random() < 0.5 else th, aa)
            else:
                cv2.ellipse(img, (x, y), (r, max(1, int(r * rng.uniform(0.3, 1)))), rng.uniform(0, 180), 0, 360, col,
                            -1 if rng.random() < 0.5 else th, aa)
        elif k == 'poly':
            nv = rng.integers(3, 9)
            ang = np.sort(rng.uniform(0, 2 * math.pi, nv))
            rad = s * rng.uniform(0.4, 1.0, nv) / 2
            if rng.random() < 0.3:  # star
                nv = 10
                ang = np.linspace(0, 2 * math.pi, nv, endpoint=False)
                rad = np.where(np.arange(nv) % 2 == 0, s / 2, s / 5)
            pts = np.stack([x + rad * np.cos(ang), y + rad * np.sin(ang)], 1).astype(np.int32)
            if rng.random() < 0.7:
                cv2.fillPoly(img, [pts], col, aa)
            else:
                cv2.polylines(img, [pts], True, col, th, aa)
        elif k == 'icon':  # small pictograms: magnifier, hamburger, house, play, envelope, bell-ish
            r = max(3, s // 3)
            t = rng.integers(6)
            if t == 0:
                cv2.circle(img, (x, y), r, col, max(1, r // 4), aa)
                cv2.line(img, (x + int(r * .7), y + int(r * .7)), (x + 2 * r, y + 2 * r), col, max(1, r // 3), aa)
            elif t == 1:
                for i in range(3):
                    cv2.line(img, (x, y + i * r), (x + 2 * r, y + i * r), col, max(1, r // 3), aa)
            elif t == 2:
                cv2.fillPoly(img, [np.array([[x, y + r], [x + r, y], [x + 2 * r, y + r]], np.int32)], col, aa)
                cv2.rectangle(img, (x + r // 3, y + r), (x + 2 * r - r // 3, y + 2 * r), col, -1)
            elif t == 3:
                cv2.fillPoly(img, [np.array([[x, y], [x + 2 * r, y + r], [x, y + 2 * r]], np.int32)], col, aa)
            elif t == 4:
                cv2.rectangle(img, (x, y), (x + 3 * r, y + 2 * r), col, max(1, r // 4), aa)
                cv2.line(img, (x, y), (x + 3 * r // 2, y + r), col, max(1, r // 4), aa)
                cv2.line(img, (x + 3 * r, y), (x + 3 * r // 2, y + r), col, max(1, r // 4), aa)
            else:
                cv2.circle(img, (x, y), r, col, -1, aa)
                cv2.circle(img, (x, y), max(1, r // 2), (255 - np.array(col)).tolist(), -1, aa)
        elif k == 'checkbox':
            b = max(5, int(s * 0.3))
            for i in range(rng.integers(1, 5)):
                yy = y + i * int(b * rng.uniform(1.6, 2.5))
                cv2.rectangle(img, (x, yy), (x + b, yy + b), col, max(1, th // 2), aa)
                if rng.random() < 0.4:
                    cv2.line(img, (x + b // 5, yy + b // 2), (x + b // 2, yy + b - b // 5), col, max(1, th // 2), aa)
                    cv2.line(img, (x + b // 2, yy + b - b // 5), (x + b, yy - b // 5), col, max(1, th // 2), aa)
        elif k == 'grid':
            nx, ny = rng.integers(2, 7), rng.integers(2, 10)
            cw, chh = int(rng.uniform(20, 120) * scale), int(rng.uniform(10, 40) * scale)
            for i in range(nx + 1):
                cv2.line(img, (x + i * cw, y), (x + i * cw, y + ny * chh), col, max(1, th // 2), cv2.LINE_8)
            for j in range(ny + 1):
                cv2.line(img, (x, y + j * chh), (x + nx * cw, y + j * chh), col, max(1, th // 2), cv2.LINE_8)
        elif k == 'hatch':
            pw, ph = int(s * rng.uniform(1, 4)), int(s * rng.uniform(1, 3))
            step = max(3, int(rng.uniform(3, 10) * scale ** 0.5))
            for o in range(-ph, pw, step):
                cv2.line(img, (x + o, y + ph), (x + o + ph, y), col, 1, aa)
        elif k == 'dots':
            step = max(3, int(rng.uniform(3, 8) * scale ** 0.5))
            L = int(rng.uniform(0.1, 0.6) * w)
            r = max(1, step // 4)
            for xx in range(x, x + L, step):
                cv2.circle(img, (xx, y), r, col, -1, aa)
        elif k == 'scribble':
            pts = np.cumsum(rng.normal(0, s / 3, (rng.integers(4, 12), 2)), 0) + [x, y]
            pts = pts.astype(np.int32)
            cv2.polylines(img, [pts], False, col, th, aa)
        elif k == 'stripes':  # barcode-like
            xx = x
            bh = int(s * rng.uniform(0.8, 2))
            for _ in range(rng.integers(15, 50)):
                bw = int(rng.integers(1, 4) * max(1, scale ** 0.5))
                if rng.random() < 0.5:
                    cv2.rectangle(img, (xx, y), (xx + bw - 1, y + bh), col, -1)
                xx += bw
        elif k == 'inset' and cv.assets.photos:
            pw, ph = int(rng.uniform(30, 200) * scale), int(rng.uniform(30, 160) * scale)
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(w, x + pw), min(h, y + ph)
            if x1 - x0 > 4 and y1 - y0 > 4:
                cv.img[y0:y1, x0:x1] = photo_crop(cv.assets, rng, y1 - y0, x1 - x0, 'photo')
                if rng.random() < 0.5:
                    cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), col, th)
        elif k == 'blob':
            r = int(rng.uniform(10, 80) * scale)
            x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + r), min(h, y + r)
            if x1 > x0 and y1 > y0:
                yy, xx = np.mgrid[y0:y1, x0:x1]
                a = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * (r / 2.5) ** 2)).astype(np.float32)
                cv.blend(x0, y0, a * rng.uniform(0.3, 0.9), np.array(col, np.float32))
        elif k == 'arrow':
            x2, y2 = x + int(rng.normal(0, s)), y + int(rng.normal(0, s))
            cv2.arrowedLine(img, (x, y), (x2, y2), col, th, aa, tipLength=0.3)


# ---------------------------------------------------------------------------------------------------------------
# layouts

def em_sample(rng, kind='body'):
    """Em size in output pixels."""
    if kind == 'body':
        return float(np.exp(rng.uniform(math.log(9), math.log(30)))) if rng.random() < 0.85 else rng.uniform(30, 60)
    if kind == 'small':
        return rng.uniform(8, 15)
    if kind == 'heading':
        return float(np.exp(rng.uniform(math.log(18), math.log(110))))
    if kind == 'any':
        return float(np.exp(rng.uniform(math.log(9), math.log(140))))
    raise ValueError(kind)


def flow_paragraph(cv: Canvas, x0, x1, y, font_idx, size, colour, n_lines, align, ls, polarity, case='sentence',
                   **kw) -> float:
    rng = cv.rng
    font = cv.assets.font(font_idx, max(6, int(size)))
    sp = font.advance(' ') or size * 0.3
    info = cv.assets.fonts[font_idx]
    for li in range(n_lines):
        if y > cv.h + size:
            break
        avail = x1 - x0
        toks, widths = [], []
        total = 0.0
        while True:
            t = fit_charset([cv.tg.token(rng, case)], info)
            if not t:
                continue
            tw = font.width(t[0])
            if toks and total + sp + tw > avail:
                break
            toks.append(t[0])
            widths.append(tw)
            total += tw + (sp if len(toks) > 1 else 0)
            if total > avail:
                break
            if len(toks) > 60:
                break
        last = li == n_lines - 1
        if last and len(toks) > 2:
            k = int(rng.integers(1, len(toks)))
            toks, widths = toks[:k], widths[:k]
        if case == 'sentence' and li == 0 and toks:
            toks[0] = toks[0][:1].upper() + toks[0][1:]
        gaps = [sp] * (len(toks) - 1)
        tw = sum(widths) + sp * len(gaps)
        xs = x0
        if align == 'justify' and not last and len(gaps) > 0 and tw < avail:
            extra = (avail - tw) / len(gaps)
            if extra < sp * 2.5:
                gaps = [g + extra for g in gaps]
        elif align == 'center':
            xs = x0 + (avail - tw) / 2
        elif align == 'right':
            xs = x1 - tw
        if toks:
            cv.text(xs, y, toks, font_idx, size, colour, gaps=gaps, count_polarity=polarity, **kw)
        y += ls
    return y


def layout_document(cv: Canvas, tone: str):
    rng, W, H = cv.rng, cv.w, cv.h
    background(cv, ['paper', 'flat', 'gradient', 'noise', 'pattern'][rng.choice(5, p=[.35, .35, .1, .1, .1])], tone)
    polarity = 'dark' if tone == 'light' else 'light'
    body_font = cv.assets.pick_font(rng, FONTS_BODY)
    head_font = cv.assets.pick_font(rng, FONTS_BODY if rng.random() < 0.6 else FONTS_WEB)
    em = em_sample(rng, 'body')
    size = cv.font_size(em)
    bgL = cv.region_lum(0, 0, W, H)
    colour = contrasting(rng, bgL, polarity, low_contrast_p=0.08)
    ncols = 1 if rng.random() < 0.7 else 2
    ml = rng.uniform(-0.15, 0.12) * W
    mr = rng.uniform(-0.15, 0.12) * W
    colw = (W - ml - mr) / ncols
    gutter = size * rng.uniform(1, 3)
    align = ['left', 'justify', 'center', 'right'][rng.choice(4, p=[.5, .35, .1, .05])]
    ls = size * rng.uniform(1.15, 1.9)
    if rng.random() < 0.4:
        draw_clutter(cv, int(rng.integers(0, 5)), scale=size / 14, kinds=['hline', 'vline', 'rect', 'icon', 'inset',
                                                                           'fillrect', 'grid', 'dots'])
    for c in range(ncols):
        x0 = ml + c * colw + (gutter / 2 if c else 0)
        x1 = ml + (c + 1) * colw - (gutter / 2 if c < ncols - 1 else 0)
        y = rng.uniform(-1.0, 0.5) * ls
        while y < H:
            r = rng.random()
            if r < 0.12:  # heading
                hs = cv.font_size(max(em * rng.uniform(1.2, 2.5), em_sample(rng, 'heading') * 0.7))
                hcol = colour if rng.random() < 0.6 else contrasting(rng, bgL, polarity)
                case = ['title', 'upper', 'sentence'][rng.integers(3)]
                toks = cv.tg.tokens(rng, int(rng.integers(1, 6)), case)
                cv.text(x0, y, toks, head_font, hs, hcol, count_polarity=polarity,
                        underline=rng.random() < 0.08)
                y += hs * rng.uniform(1.3, 2.0)
            elif r < 0.2:  # list with bullets
                for _ in range(rng.integers(2, 6)):
                    bx = x0 + size * 0.3
                    cy_ = int(y + size * 0.55)
                    if rng.random() < 0.6:
                        cv2.circle(cv.img, (int(bx), cy_), max(1, size // 7), colour.tolist(), -1, cv2.LINE_AA)
                    else:
                        b = max(1, size // 6)
                        cv2.rectangle(cv.img, (int(bx) - b, cy_ - b), (int(bx) + b, cy_ + b), colour.tolist(), -1)
                    y = flow_paragraph(cv, x0 + size * 1.5, x1, y, body_font, size, colour, int(rng.integers(1, 3)),
                                       'left', ls, polarity)
            elif r < 0.26:  # rule
                cv2.line(cv.img, (int(x0), int(y + ls / 2)), (int(x1), int(y + ls / 2)), colour.tolist(),
                         max(1, size // 12))
                y += ls
            elif r < 0.3:
                y += ls * rng.uniform(0.5, 2)
            else:
                kw = {}
                if rng.random() < 0.1:
                    kw['underline'] = True
                lcol = colour if rng.random() < 0.85 else contrasting(rng, bgL, polarity)
                y = flow_paragraph(cv, x0 + (size * 2 if rng.random() < 0.3 else 0), x1, y, body_font, size, lcol,
                                   int(rng.integers(1, 9)), align, ls, polarity, **kw)
                y += ls * rng.uniform(0, 0.8)


def layout_form(cv: Canvas, tone: str):
    rng, W, H = cv.rng, cv.w, cv.h
    background(cv, ['paper', 'flat', 'noise'][rng.choice(3, p=[.55, .35, .1])], tone)
    polarity = 'dark' if tone == 'light' else 'light'
    bgL = cv.region_lum(0, 0, W, H)
    ink = contrasting(rng, bgL, polarity, low_contrast_p=0.15)
    lab_font = cv.assets.pick_font(rng, FONTS_FORM_LABEL)
    val_font = cv.assets.pick_font(rng, FONTS_FORM_VALUE)
    em = float(np.exp(rng.uniform(math.log(9), math.log(24))))
    size = cv.font_size(em)
    vsize = int(size * rng.uniform(0.9, 1.4))
    vink = ink if rng.random() < 0.6 else contrasting(rng, bgL, polarity)
    lw = max(1, int(round(size / rng.uniform(8, 20))))
    y = rng.uniform(-1, 1) * size
    x_left = rng.uniform(-0.1, 0.1) * W
    while y < H:
        r = rng.random()
        if r < 0.4:  # row of label: value fields
            x = x_left + rng.uniform(0, 2) * size
            for _ in range(rng.integers(1, 4)):
                lab = FORM_LABELS[rng.integers(len(FORM_LABELS))]
                toks = [lab + (':' if rng.random() < 0.6 else '')]
                if rng.random() < 0.3:
                    toks = [FORM_LABELS[rng.integers(len(FORM_LABELS))]] + toks
                if rng.random() < 0.3:
                    toks = [t.upper() for t in toks]
                line = cv.text(x, y, toks, lab_font, size, ink, count_polarity=polarity)
                lwid = line.w if line else size * 4
                vx = x + lwid + size * rng.uniform(0.3, 1.5)
                fw = size * rng.uniform(4, 16)
                style = rng.integers(3)
                if style == 0:  # underline field
                    cv2.line(cv.img, (int(vx), int(y + size * 1.15)), (int(vx + fw), int(y + size * 1.15)),
                             ink.tolist(), lw)
                elif style == 1:  # box field
                    cv2.rectangle(cv.img, (int(vx - size * 0.3), int(y - size * 0.3)),
                                  (int(vx + fw), int(y + size * 1.5)), ink.tolist(), lw)
                if rng.random() < 0.8:
                    vt = cv.tg.tokens(rng, int(rng.integers(1, 5)), ['sentence', 'title', 'upper'][rng.integers(3)])
                    cv.text(vx + rng.uniform(0, 1) * size, y + rng.uniform(-0.3, 0.1) * size, vt, val_font,
                            vsize, vink, count_polarity=polarity)
                x = vx + fw + size * rng.uniform(1, 3)
                if x > W:
                    break
            y += size * rng.uniform(1.8, 3.0)
        elif r < 0.55:  # table
            ncols = int(rng.integers(2, 6))
            cws = rng.uniform(3, 12, ncols) * size
            rh = size * rng.uniform(1.5, 2.2)
            nrows = int(rng.integers(2, 8))
            x0 = x_left + rng.uniform(0, 2) * size
            grid = rng.random() < 0.7
            xs = x0 + np.concatenate([[0], np.cumsum(cws)])
            for j in range(nrows):
                yy = y + j * rh
                header = j == 0 and rng.random() < 0.7
                hdr_fill = header and rng.random() < 0.4 and cv.free(xs[0], yy, xs[-1], yy + rh, margin=0)
                if hdr_fill:
                    cv2.rectangle(cv.img, (int(xs[0]), int(yy)), (int(xs[-1]), int(yy + rh)), ink.tolist(), -1)
                for i in range(ncols):
                    if rng.random() < 0.15:
                        continue
                    if header:
                        toks = [FORM_LABELS[rng.integers(len(FORM_LABELS))].upper() if rng.random() < 0.5 else
                                FORM_LABELS[rng.integers(len(FORM_LABELS))]]
                    elif rng.random() < 0.5:
                        toks = [cv.tg.token(rng)]
                    else:
                        toks = cv.tg.tokens(rng, int(rng.integers(1, 4)))
                    col = (np.clip(255 - ink, 0, 255) if hdr_fill else ink).astype(np.float32)
                    cv.text(xs[i] + size * 0.3, yy + (rh - size * 1.2) / 2, toks, lab_font if header else val_font,
                            size, col, count_polarity=('light' if polarity == 'dark' else 'dark') if hdr_fill
                            else polarity)
                if grid:
                    cv2.line(cv.img, (int(xs[0]), int(yy)), (int(xs[-1]), int(yy)), ink.tolist(), lw)
            if grid:
                yb = y + nrows * rh
                cv2.line(cv.img, (int(xs[0]), int(yb)), (int(xs[-1]), int(yb)), ink.tolist(), lw)
                for xx in xs:
                    cv2.line(cv.img, (int(xx), int(y)), (int(xx), int(yb)), ink.tolist(), lw)
            y += nrows * rh + size * rng.uniform(1, 3)
        elif r < 0.65:  # section header (maybe inverted bar)
            if rng.random() < 0.5 and cv.free(x_left, y - size * 0.3, W - x_left, y + size * 1.5, margin=0):
                bar = ink.tolist()
                cv2.rectangle(cv.img, (int(x_left), int(y - size * 0.3)), (int(W - x_left), int(y + size * 1.5)), bar,
                              -1)
                cv.text(x_left + size, y, cv.tg.tokens(rng, int(rng.integers(1, 5)), 'upper'), lab_font, size,
                        np.clip(255 - ink, 0, 255).astype(np.float32),
                        count_polarity='light' if polarity == 'dark' else 'dark')
            else:
                cv.text(x_left + size, y, cv.tg.tokens(rng, int(rng.integers(1, 5)), 'upper'), lab_font,
                        int(size * rng.uniform(1, 1.8)), ink, count_polarity=polarity)
            y += size * 2.5
        elif r < 0.75:  # checkboxes with labels
            x = x_left + size
            b = int(size * 0.8)
            for _ in range(rng.integers(1, 5)):
                cv2.rectangle(cv.img, (int(x), int(y + size * 0.1)), (int(x + b), int(y + size * 0.1 + b)),
                              ink.tolist(), lw)
                if rng.random() < 0.3:
                    cv2.line(cv.img, (int(x), int(y)), (int(x + b), int(y + b)), vink.tolist(), lw + 1)
                    cv2.line(cv.img, (int(x + b), int(y)), (int(x), int(y + b)), vink.tolist(), lw + 1)
                line = cv.text(x + b + size * 0.5, y, cv.tg.tokens(rng, int(rng.integers(1, 3)), 'title'), lab_font,
                               size, ink, count_polarity=polarity)
                x += b + size + (line.w if line else size * 4) + size * rng.uniform(1, 3)
            y += size * 2.2
        elif r < 0.9:  # free text paragraph
            y = flow_paragraph(cv, x_left + size, W - x_left - size, y, lab_font if rng.random() < 0.5 else val_font,
                               size, ink, int(rng.integers(1, 5)), 'left', size * rng.uniform(1.2, 1.6), polarity)
            y += size
        else:  # clutter: logo, stamp, lines
            draw_clutter(cv, int(rng.integers(1, 4)), scale=size / 14, kinds=['rect', 'poly', 'circle', 'scribble',
                                                                              'checkbox', 'stripes', 'icon'],
                         region=(0, y, W, y + size * 2))
            y += size * rng.uniform(1, 3)


def layout_receipt(cv: Canvas, tone: str):
    rng, W, H = cv.rng, cv.w, cv.h
    background(cv, ['paper', 'flat', 'noise', 'photo'][rng.choice(4, p=[.4, .3, .1, .2])], tone)
    # the receipt strip
    polarity = 'dark' if tone == 'light' else 'light'
    sx0 = rng.uniform(-0.1, 0.3) * W
    sx1 = W - rng.uniform(-0.1, 0.3) * W
    if rng.random() < 0.6:
        paperL = rng.uniform(215, 255) if polarity == 'dark' else rng.uniform(0, 50)
        cv2.rectangle(cv.img, (int(sx0), -5), (int(sx1), H + 5), colour_with_lum(rng, paperL, 0.05).tolist(), -1)
    bgL = cv.region_lum(sx0, 0, sx1, H)
    ink = contrasting(rng, bgL, polarity)
    font = cv.assets.pick_font(rng, FONTS_RECEIPT)
    em = float(np.exp(rng.uniform(math.log(9), math.log(22))))
    size = cv.font_size(em)
    ls = size * rng.uniform(1.1, 1.6)
    y = rng.uniform(-2, 1) * ls
    pad = size
    while y < H:
        r = rng.random()
        if r < 0.6:  # item .... price
            name = cv.tg.tokens(rng, int(rng.integers(1, 4)), 'upper' if rng.random() < 0.6 else 'sentence')
            if rng.random() < 0.3:
                name = [str(rng.integers(1, 10)), 'x'] + name if rng.random() < 0.5 else [f'{rng.integers(1, 10)}x'] + name
            cv.text(sx0 + pad, y, name, font, size, ink, count_polarity=polarity)
            price = [f'{rng.uniform(0, 300):.2f}']
            f = cv.assets.font(font, max(6, size))
            pw = f.width(price[0])
            cv.text(sx1 - pad - pw, y, price, font, size, ink, count_polarity=polarity)
        elif r < 0.7:
            yy = int(y + ls / 2)
            step = max(2, size // 3)
            if rng.random() < 0.5:
                for xx in range(int(sx0 + pad), int(sx1 - pad), step * 2):
                    cv2.line(cv.img, (xx, yy), (xx + step, yy), ink.tolist(), max(1, size // 10))
            else:
                cv2.line(cv.img, (int(sx0 + pad), yy), (int(sx1 - pad), yy), ink.tolist(), max(1, size // 10))
        elif r < 0.85:  # header / centred
            hs = int(size * rng.uniform(1, 2))
            toks = cv.tg.tokens(rng, int(rng.integers(1, 4)), 'upper')
            f = cv.assets.font(font, max(6, hs))
            tw = sum(f.width(t) for t in toks) + f.advance(' ') * (len(toks) - 1)
            cv.text((sx0 + sx1) / 2 - tw / 2, y, toks, font, hs, ink, count_polarity=polarity)
            y += hs - size
        elif r < 0.95:
            toks = [['TOTAL', 'SUBTOTAL', 'TAX', 'CASH', 'CHANGE', 'VISA', 'DATE', 'TIME'][rng.integers(8)],
                    cv.tg.token(rng)]
            cv.text(sx0 + pad, y, toks, font, size, ink, count_polarity=polarity)
        y += ls


def button(cv: Canvas, x, y, tokens, font_idx, size, polarity_text, rng):
    """Coloured (rounded) button with centred text."""
    font = cv.assets.font(font_idx, max(6, size))
    info = cv.assets.fonts[font_idx]
    tokens = fit_charset(tokens, info)
    if not tokens:
        return
    tw = sum(font.width(t) for t in tokens) + font.advance(' ') * (len(tokens) - 1)
    px, py = size * rng.uniform(0.5, 1.5), size * rng.uniform(0.3, 0.8)
    bw, bh = tw + 2 * px, size * 1.25 + 2 * py
    if not cv.free(x, y, x + bw, y + bh):
        return
    L = rng.uniform(0, 110) if polarity_text == 'light' else rng.uniform(160, 255)
    bc = colour_with_lum(rng, L, rng.uniform(0.3, 1.0))
    r = int(min(bh / 2, size * rng.uniform(0, 0.8)))
    x0, y0, x1, y1 = int(x), int(y), int(x + bw), int(y + bh)
    if r > 1:
        cv2.rectangle(cv.img, (x0 + r, y0), (x1 - r, y1), bc.tolist(), -1)
        cv2.rectangle(cv.img, (x0, y0 + r), (x1, y1 - r), bc.tolist(), -1)
        for cx_, cy_ in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
            cv2.circle(cv.img, (cx_, cy_), r, bc.tolist(), -1, cv2.LINE_AA)
    else:
        cv2.rectangle(cv.img, (x0, y0), (x1, y1), bc.tolist(), -1)
    col = contrasting(rng, lum(bc), polarity_text, low_contrast_p=0.05)
    ascent = font.font.getmetrics()[0]
    cv.text(x + px, y + py + (size * 1.25 - ascent) / 2, tokens, font_idx, size, col, check=False,
            count_polarity=polarity_text)
    cv.mark(x0, y0, x1, y1)


def outline_or_shadow(rng, size: float, col, max_blur: float) -> dict:
    """cv.text() effects of display text (web headings, scene signs): an outline (1 in 5), a drop shadow blurred up to
    `max_blur` px (1 in 5) or neither, in colours that contrast with the text's `col`."""
    kw = {}
    e = rng.random()
    if e < 0.2:
        kw['stroke'] = max(1, int(size * rng.uniform(0.03, 0.1)))
        kw['stroke_colour'] = contrasting(rng, lum(col))
    elif e < 0.4:
        kw['shadow'] = (size * rng.uniform(-0.08, 0.1), size * rng.uniform(0.02, 0.1), rng.uniform(0, max_blur),
                        contrasting(rng, lum(col)), rng.uniform(0.4, 1))
    return kw


def layout_web(cv: Canvas, tone: str):
    rng, W, H = cv.rng, cv.w, cv.h
    background(cv, ['flat', 'gradient', 'panels', 'photo', 'noise', 'pattern'][
        rng.choice(6, p=[.3, .2, .2, .15, .08, .07])], tone)
    polarity = 'dark' if tone == 'light' else 'light'
    draw_clutter(cv, int(rng.integers(0, 10)), scale=rng.uniform(0.5, 2))
    n_items = int(rng.integers(3, 14))
    fonts = [cv.assets.pick_font(rng, FONTS_WEB) for _ in range(3)]
    for _ in range(n_items):
        r = rng.random()
        fi = fonts[rng.integers(3)] if rng.random() < 0.8 else cv.assets.pick_font(rng, FONTS_WEB)
        x, y = rng.uniform(-0.1, 0.9) * W, rng.uniform(-0.05, 0.95) * H
        if r < 0.3:  # heading / logo text with effects
            size = cv.font_size(em_sample(rng, 'heading'))
            toks = cv.tg.tokens(rng, int(rng.integers(1, 4)), ['title', 'upper', 'sentence', 'lower'][rng.integers(4)])
            bgL = cv.region_lum(x, y, x + size * 5, y + size)
            pol = polarity if rng.random() < 0.7 else None
            col = contrasting(rng, bgL, pol)
            kw = outline_or_shadow(rng, size, col, max_blur=3)
            if rng.random() < 0.15:
                kw['fill_kind'] = 'gradient'
                kw['colour2'] = np.clip(col + rng.normal(0, 50, 3), 0, 255).astype(np.float32)
            if rng.random() < 0.1:
                kw['tracking'] = size * rng.uniform(0.05, 0.4)
            cv.text(x, y, toks, fi, size, col, count_polarity='light' if lum(col) > bgL else 'dark', **kw)
        elif r < 0.5:  # button
            size = cv.font_size(em_sample(rng, 'small') * rng.uniform(1, 1.6))
            pol = 'light' if rng.random() < 0.5 else 'dark'
            button(cv, x, y, cv.tg.tokens(rng, int(rng.integers(1, 4)), ['title', 'upper'][rng.integers(2)]), fi,
                   size, pol, rng)
        elif r < 0.65:  # nav bar: items in a row (often on a coloured bar)
            size = cv.font_size(em_sample(rng, 'small'))
            yy = y
            pol = 'light' if rng.random() < 0.5 else 'dark'
            if rng.random() < 0.6 and cv.free(0, yy - size * 0.5, W, yy + size * 1.8):
                L = rng.uniform(0, 100) if pol == 'light' else rng.uniform(170, 255)
                cv2.rectangle(cv.img, (-2, int(yy - size * 0.5)), (W + 2, int(yy + size * 1.8)),
                              colour_with_lum(rng, L).tolist(), -1)
            bgL = cv.region_lum(0, yy, W, yy + size)
            col = contrasting(rng, bgL, pol)
            xx = x - W * 0.3
            sep = rng.integers(3)
            for _ in range(rng.integers(2, 9)):
                line = cv.text(xx, yy, cv.tg.tokens(rng, int(rng.integers(1, 3)), ['title', 'upper'][rng.integers(2)]),
                               fi, size, col, count_polarity=pol)
                xx += (line.w if line else size * 3) + size * rng.uniform(1, 3)
                if sep == 1:
                    cv2.line(cv.img, (int(xx - size), int(yy)), (int(xx - size), int(yy + size)), col.tolist(), 1)
                if xx > W:
                    break
        elif r < 0.9:  # small text paragraph
            size = cv.font_size(em_sample(rng, 'small') * rng.uniform(1, 1.4))
            x1 = x + rng.uniform(0.2, 0.8) * W
            bgL = cv.region_lum(x, y, x1, y + size * 4)
            pol = polarity if rng.random() < 0.6 else None
            col = contrasting(rng, bgL, pol)
            flow_paragraph(cv, x, x1, y, fi, size, col, int(rng.integers(1, 6)), 'left', size * rng.uniform(1.1, 1.6),
                           'light' if lum(col) > bgL else 'dark', underline=rng.random() < 0.05)
        else:  # price / label
            size = cv.font_size(em_sample(rng, 'any'))
            bgL = cv.region_lum(x, y, x + size * 4, y + size)
            col = contrasting(rng, bgL)
            toks = [f'${rng.uniform(0, 999):.2f}' if rng.random() < 0.5 else f'{rng.integers(5, 90)}%', 'OFF'][
                :int(rng.integers(1, 3))]
            cv.text(x, y, toks, fi, size, col, count_polarity='light' if lum(col) > bgL else 'dark')


def layout_scene(cv: Canvas, tone: str):
    rng, W, H = cv.rng, cv.w, cv.h
    background(cv, ['photo', 'pattern', 'noise', 'gradient'][rng.choice(4, p=[.65, .15, .1, .1])], tone)
    draw_clutter(cv, int(rng.integers(0, 8)), scale=rng.uniform(0.5, 3))
    for _ in range(int(rng.integers(1, 9))):
        fi = cv.assets.pick_font(rng, FONTS_SCENE)
        size = cv.font_size(em_sample(rng, 'any'))
        nlines = 1 if rng.random() < 0.65 else int(rng.integers(2, 4))
        case = ['title', 'upper', 'sentence', 'lower'][rng.choice(4, p=[.3, .4, .2, .1])]
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        theta = rng.normal(0, 0.25) if rng.random() < 0.6 else 0.0
        if rng.random() < 0.05:
            theta = rng.choice([-1, 1]) * math.pi / 2
        M = translate(cx, cy) @ rot_scale(theta, 1, 1)
        if rng.random() < 0.3:
            sh = rng.normal(0, 0.25)
            M = M @ np.array([[1, sh, 0], [0, 1, 0], [0, 0, 1]])
        bgL = cv.region_lum(cx - size * 3, cy - size, cx + size * 3, cy + size)
        plate = rng.random() < 0.25
        pol = 'light' if (bgL < 128) ^ (rng.random() < 0.15) else 'dark'
        if plate:
            pol = 'light' if rng.random() < 0.5 else 'dark'
            L = rng.uniform(0, 100) if pol == 'light' else rng.uniform(160, 255)
            pc = colour_with_lum(rng, L)
            pw, ph = size * rng.uniform(3, 10), size * nlines * 1.5 + size * 0.6
            pts = apply_h(M, np.array([[-size * 0.5, -size * 1.2], [pw, -size * 1.2], [pw, ph - size * 1.2],
                                       [-size * 0.5, ph - size * 1.2]]))
            if not cv.free(*pts.min(0), *pts.max(0)):
                continue
            cv2.fillPoly(cv.img, [pts.astype(np.int32)], pc.tolist(), cv2.LINE_AA)
            bgL = lum(pc)
        col = contrasting(rng, bgL, pol, low_contrast_p=0.1)
        kw = outline_or_shadow(rng, size, col, max_blur=4)
        if rng.random() < 0.15:
            kw['fill_kind'] = 'texture'
        curve = 0.0
        if rng.random() < 0.25:
            curve = rng.uniform(-1, 1) * size * rng.uniform(0.3, 1.5)
        tracking = size * rng.uniform(0, 0.3) if rng.random() < 0.1 else 0.0
        if rng.random() < 0.3:  # block perspective
            P = perspective(rng, size * 6, size * 2 * nlines, 0.12)
            M = M @ P
        for li in range(nlines):
            toks = cv.tg.tokens(rng, int(rng.integers(1, 5)), case)
            Ml = M @ translate(0, li * size * rng.uniform(1.1, 1.4))
            cv.text(0, 0, toks, fi, size, col, M=Ml, curve=curve, curve_kind=int(rng.integers(2)),
                    tracking=tracking, count_polarity=pol, blur=rng.uniform(0, 1.0) if rng.random() < 0.2 else 0,
                    **kw)


def layout_clutter(cv: Canvas, tone: str):
    """Mostly non-text: shapes, rules, icons, stripes, insets; 0-3 words. Teaches precision."""
    rng = cv.rng
    background(cv, ['photo', 'pattern', 'noise', 'flat', 'paper', 'panels'][rng.choice(6, p=[.3, .15, .15, .15, .1,
                                                                                             .15])], tone)
    draw_clutter(cv, int(rng.integers(5, 30)), scale=rng.uniform(0.3, 3))
    for _ in range(int(rng.integers(0, 4))):
        fi = cv.assets.pick_font(rng, FONTS_WEB)
        size = cv.font_size(em_sample(rng, 'any'))
        x, y = rng.uniform(0, cv.w * 0.8), rng.uniform(0, cv.h * 0.9)
        bgL = cv.region_lum(x, y, x + size * 4, y + size)
        col = contrasting(rng, bgL)
        cv.text(x, y, cv.tg.tokens(rng, int(rng.integers(1, 4)), 'title'), fi, size, col,
                count_polarity='light' if lum(col) > bgL else 'dark')


LAYOUT_FN = {'document': layout_document, 'form': layout_form, 'receipt': layout_receipt, 'web': layout_web,
             'scene': layout_scene, 'clutter': layout_clutter}


# ---------------------------------------------------------------------------------------------------------------
# ground truth

def _enlarge(q: np.ndarray, m: float) -> np.ndarray:
    """q: (N,4,2). Scale each quad about its centre so that its mean width and height are >= 2*m."""
    c = q.mean(1, keepdims=True)
    wv = ((q[:, 1] - q[:, 0]) + (q[:, 2] - q[:, 3])) / 2
    hv = ((q[:, 3] - q[:, 0]) + (q[:, 2] - q[:, 1])) / 2
    wl = np.linalg.norm(wv, axis=1)
    hl = np.linalg.norm(hv, axis=1)
    small = (wl < 2 * m) | (hl < 2 * m)
    if not small.any():
        return q
    fw = np.maximum(wl, 2 * m) / np.maximum(wl, 1e-6)
    fh = np.maximum(hl, 2 * m) / np.maximum(hl, 1e-6)
    # decompose each corner offset into the (w, h) axes and scale them
    d = q - c
    uw = wv / np.maximum(wl, 1e-6)[:, None]
    uh = hv / np.maximum(hl, 1e-6)[:, None]
    uw[wl < 1e-6] = (1.0, 0.0)
    uh[hl < 1e-6] = (0.0, 1.0)
    a = (d * uw[:, None]).sum(-1)
    b = (d * uh[:, None]).sum(-1)
    a = np.where(np.abs(a) < 1e-9, np.array([-1, 1, 1, -1]) * 1e-3, a)
    b = np.where(np.abs(b) < 1e-9, np.array([-1, -1, 1, 1]) * 1e-3, b)
    out = c + (a * fw[:, None])[..., None] * uw[:, None] + (b * fh[:, None])[..., None] * uh[:, None]
    return np.where(small[:, None, None], out, q)


_UNIT = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)


def _homographies_to_unit(q: np.ndarray) -> np.ndarray:
    """Batched homographies mapping each quad (N,4,2) onto the square [-1,1]^2 (corner order tl,tr,br,bl)."""
    n = len(q)
    A = np.zeros((n, 8, 8))
    bvec = np.zeros((n, 8))
    x, y = q[..., 0], q[..., 1]
    u, v = _UNIT[:, 0], _UNIT[:, 1]
    A[:, 0::2, 0] = x
    A[:, 0::2, 1] = y
    A[:, 0::2, 2] = 1
    A[:, 0::2, 6] = -x * u
    A[:, 0::2, 7] = -y * u
    A[:, 1::2, 3] = x
    A[:, 1::2, 4] = y
    A[:, 1::2, 5] = 1
    A[:, 1::2, 6] = -x * v
    A[:, 1::2, 7] = -y * v
    bvec[:, 0::2] = u
    bvec[:, 1::2] = v
    h = np.linalg.solve(A, bvec[..., None])[..., 0]
    return np.concatenate([h, np.ones((n, 1))], 1).reshape(n, 3, 3)


def draw_gaussians(hm: np.ndarray, quads: np.ndarray, gk: float):
    """Max-accumulate an isotropic Gaussian, perspective-warped into each quad, into hm.

    quads: (N,4,2) in heat-map continuous coordinates (pixel (i, j) covers [j, j+1) x [i, i+1)); the value at a
    pixel centre is exp(-0.5 gk^2 (u^2 + v^2)) where (u, v) in [-1,1]^2 is the centre mapped into the unit square
    by the quad's homography (0 outside the quad) -- the analytic form of warping a Gaussian template."""
    if len(quads) == 0:
        return
    Hh, Wh = hm.shape
    q = _enlarge(np.asarray(quads, np.float64), MIN_BOX_HALF)
    x0 = np.clip(np.floor(q[..., 0].min(1)), 0, Wh).astype(np.int64)
    y0 = np.clip(np.floor(q[..., 1].min(1)), 0, Hh).astype(np.int64)
    x1 = np.clip(np.ceil(q[..., 0].max(1)), 0, Wh).astype(np.int64)
    y1 = np.clip(np.ceil(q[..., 1].max(1)), 0, Hh).astype(np.int64)
    area = 0.5 * np.abs((q[..., 0] * np.roll(q[..., 1], -1, 1) - q[..., 1] * np.roll(q[..., 0], -1, 1)).sum(1))
    ok = (x1 > x0) & (y1 > y0) & (area >= 0.2)
    if not ok.any():
        return
    q, x0, y0, x1, y1 = q[ok], x0[ok], y0[ok], x1[ok], y1[ok]
    try:
        Hs = _homographies_to_unit(q)
    except np.linalg.LinAlgError:  # a degenerate quad somewhere: solve one by one, drop the singular ones
        keep, hs = [], []
        for i in range(len(q)):
            try:
                hs.append(_homographies_to_unit(q[i:i + 1])[0])
                keep.append(i)
            except np.linalg.LinAlgError:
                pass
        if not keep:
            return
        Hs = np.stack(hs)
        q, x0, y0, x1, y1 = q[keep], x0[keep], y0[keep], x1[keep], y1[keep]
    w, h = x1 - x0, y1 - y0
    cnt = w * h
    bid = np.repeat(np.arange(len(q)), cnt)
    k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    px = x0[bid] + k % w[bid]
    py = y0[bid] + k // w[bid]
    cx, cy = px + 0.5, py + 0.5
    Hb = Hs[bid]
    den = Hb[:, 2, 0] * cx + Hb[:, 2, 1] * cy + Hb[:, 2, 2]
    # A degenerate (flattened) box gives den == 0: inf/NaN there must become 0, never reach the GT maps (a NaN
    # times False is NaN, and one NaN pixel made the training loss NaN for good).
    with np.errstate(divide='ignore', invalid='ignore'):
        u = (Hb[:, 0, 0] * cx + Hb[:, 0, 1] * cy + Hb[:, 0, 2]) / den
        v = (Hb[:, 1, 0] * cx + Hb[:, 1, 1] * cy + Hb[:, 1, 2]) / den
        inside = np.isfinite(u) & np.isfinite(v) & (np.abs(u) <= 1) & (np.abs(v) <= 1)
        val = np.where(inside, np.exp(-0.5 * gk * gk * (u * u + v * v)), 0).astype(np.float32)
    np.maximum.at(hm, (py, px), val)


def affinity_quads(word: np.ndarray) -> np.ndarray:
    """word: (n,4,2) character quads in reading order (tl, tr, br, bl). Returns (n-1,4,2) affinity boxes."""
    if len(word) < 2:
        return np.zeros((0, 4, 2))
    c = word.mean(1)
    up = (word[:, 0] + word[:, 1] + c) / 3
    lo = (word[:, 2] + word[:, 3] + c) / 3
    return np.stack([up[:-1], up[1:], lo[1:], lo[:-1]], axis=1)


def make_gt(words: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    h = size // 2
    region = np.zeros((h, h), np.float32)
    affinity = np.zeros((h, h), np.float32)
    if words:
        chars = np.concatenate(words) / 2.0
        draw_gaussians(region, chars, GAUSS_K_REGION)
        aff = [affinity_quads(w / 2.0) for w in words if len(w) > 1]
        if aff:
            draw_gaussians(affinity, np.concatenate(aff), GAUSS_K_AFFINITY)
    return region, affinity


# ---------------------------------------------------------------------------------------------------------------
# photometric degradations

def degrade(img: np.ndarray, rng, layout: str) -> np.ndarray:
    h, w = img.shape[:2]
    if rng.random() < 0.2:  # brightness / contrast / gamma
        f = img.astype(np.float32) / 255
        f = np.clip((f - 0.5) * rng.uniform(0.6, 1.3) + 0.5 + rng.uniform(-0.12, 0.12), 0, 1)
        f = f ** rng.uniform(0.7, 1.4)
        img = (f * 255 + 0.5).astype(np.uint8)
    if rng.random() < 0.08:
        img = np.ascontiguousarray(img[:, :, rng.permutation(3)])
    if rng.random() < 0.08:  # global inversion (keeps the light/dark balance, adds variety)
        img = 255 - img
    if rng.random() < 0.12 or (layout in ('form', 'receipt') and rng.random() < 0.4):
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        img = np.repeat(g[:, :, None], 3, axis=2)
    if rng.random() < 0.1:  # illumination gradient
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        t = (xx * math.cos(ang) + yy * math.sin(ang)) / max(h, w)
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
        s = 1 - rng.uniform(0.2, 0.5) * t
        img = np.clip(img * s[..., None], 0, 255).astype(np.uint8)
    r = rng.random()
    if r < 0.25:
        s = rng.uniform(0.3, 1.3)
        img = cv2.GaussianBlur(img, (0, 0), s)
    elif r < 0.3:  # motion blur
        k = int(rng.integers(3, 8))
        ker = np.zeros((k, k), np.float32)
        ker[k // 2] = 1
        ker = cv2.warpAffine(ker, cv2.getRotationMatrix2D((k / 2 - .5, k / 2 - .5), rng.uniform(0, 180), 1), (k, k))
        img = cv2.filter2D(img, -1, ker / max(ker.sum(), 1e-6))
    if rng.random() < 0.15:  # low resolution
        f = rng.uniform(1.3, 2.5)
        small = cv2.resize(img, (max(8, int(w / f)), max(8, int(h / f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=[cv2.INTER_LINEAR, cv2.INTER_CUBIC,
                                                       cv2.INTER_NEAREST][rng.integers(3)])
    if rng.random() < 0.3:
        sigma = rng.uniform(2, 12)
        img = np.clip(img + rng.normal(0, sigma, img.shape if rng.random() < 0.7 else (h, w, 1)), 0, 255).astype(
            np.uint8)
    if rng.random() < 0.03:
        m = rng.random((h, w)) < rng.uniform(0.001, 0.01)
        img[m] = rng.choice([0, 255])
    if rng.random() < (0.25 if layout == 'web' else 0.06):  # GIF-like palette
        pim = Image.fromarray(img).quantize(colors=int(rng.choice([8, 16, 32, 64, 128, 256])),
                                            method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG if rng.random() < 0.5
                                            else Image.Dither.NONE)
        img = np.asarray(pim.convert('RGB'))
    if rng.random() < 0.45:
        q = int(rng.uniform(15, 95))
        ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            if img.ndim == 2:
                img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img)


# ---------------------------------------------------------------------------------------------------------------
# the view (global) transform

def view_params(rng, layout: str):
    """zoom (output px per canvas px), rotation (rad), perspective strength."""
    if layout == 'web':
        z = [1.0, rng.uniform(1.0, 2.0), rng.uniform(0.6, 1.0)][rng.choice(3, p=[.35, .45, .2])]
        rot = 0.0 if rng.random() < 0.9 else rng.normal(0, 0.05)
        persp = 0.0
    elif layout in ('document', 'form', 'receipt'):
        z = rng.uniform(0.7, 1.8) if rng.random() < 0.8 else 1.0
        rot = rng.normal(0, 0.025) if rng.random() < 0.85 else rng.normal(0, 0.2)
        persp = 0.0 if rng.random() < 0.75 else rng.uniform(0.02, 0.1)
    else:
        z = rng.uniform(0.6, 1.6)
        rot = rng.normal(0, 0.1)
        persp = 0.0 if rng.random() < 0.5 else rng.uniform(0.03, 0.15)
    if rng.random() < 0.02:
        rot += math.pi / 2 * rng.choice([-1, 1])
    return z, rot, persp


class Synth:
    def __init__(self, size: int = 384, seed: int = 0, assets: Assets | None = None, layouts: dict | None = None):
        assert size % 32 == 0
        self.size = size
        self.seed = seed
        self.assets = assets or Assets.load()
        self.tg = TextGen(self.assets.words)
        lw = layouts or LAYOUTS
        self.layout_names = list(lw)
        p = np.array([lw[k] for k in self.layout_names], np.float64)
        self.layout_p = p / p.sum()

    def sample(self, index: int, split: str = 'train', layout: str | None = None) -> dict:
        rng = np.random.default_rng([self.seed, SPLITS[split], index])
        S = self.size
        if layout is None:
            layout = self.layout_names[rng.choice(len(self.layout_names), p=self.layout_p)]
        if layout not in LAYOUT_FN:
            raise ValueError(layout)
        z, rot, persp = view_params(rng, layout)
        # global homography G: canvas -> output.  G = P . T(S/2) . R(rot) . Z(z) . T(-cx,-cy)
        Pm = perspective(rng, S, S, persp) if persp > 0 else np.eye(3)
        core = translate(S / 2, S / 2) @ rot_scale(rot, z)
        Ginv_core = np.linalg.inv(Pm @ core)
        out_corners = np.array([[0, 0], [S, 0], [S, S], [0, S]], np.float64)
        cc = apply_h(Ginv_core, out_corners)  # canvas coordinates relative to the canvas centre
        lo, hi = cc.min(0) - 3, cc.max(0) + 3
        cw, ch = int(math.ceil(hi[0] - lo[0])), int(math.ceil(hi[1] - lo[1]))
        G = Pm @ core @ translate(lo[0], lo[1])  # canvas pixel (0,0) = relative lo
        cv = Canvas(cw, ch, rng, self.assets, self.tg, z)
        tone = 'light' if rng.random() < 0.5 else 'dark'
        LAYOUT_FN[layout](cv, tone)
        # canvas -> output
        canvas = cv.img
        Gw = G
        if z < 0.9:  # pre-shrink with area averaging to avoid aliasing
            f = z * 1.05
            nw, nh = max(8, int(round(cw * f))), max(8, int(round(ch * f)))
            canvas = cv2.resize(canvas, (nw, nh), interpolation=cv2.INTER_AREA)
            Gw = G @ np.diag([cw / nw, ch / nh, 1.0])
        interp = cv2.INTER_LINEAR if rng.random() < 0.8 else cv2.INTER_CUBIC
        if np.allclose(Gw, np.round(Gw)) and np.allclose(Gw[:2, :2], np.eye(2)):
            tx, ty = int(Gw[0, 2]), int(Gw[1, 2])
            img = np.zeros((S, S, 3), np.uint8)
            img[:] = canvas[max(0, -ty):max(0, -ty) + S, max(0, -tx):max(0, -tx) + S][:S, :S]
        else:
            img = cv2.warpPerspective(canvas, Gw, (S, S), flags=interp, borderMode=cv2.BORDER_REPLICATE)
        words = [apply_h(G, q) for q in cv.words]
        # keep words with any character touching the crop
        kept = []
        for q in words:
            x0, y0 = q[..., 0].min(), q[..., 1].min()
            x1, y1 = q[..., 0].max(), q[..., 1].max()
            if x1 > 0 and y1 > 0 and x0 < S and y0 < S:
                kept.append(q)
        img = degrade(img, rng, layout)
        region, affinity = make_gt(kept, S)
        return {'image': img, 'region': region, 'affinity': affinity, 'words': kept, 'layout': layout,
                'stats': cv.stats}


# ---------------------------------------------------------------------------------------------------------------
# torch dataset (imported lazily so the generator works without torch)

MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def normalize_mean_variance(img: np.ndarray) -> np.ndarray:
    """CRAFT imgproc.normalizeMeanVariance: RGB uint8 -> float32 (x - mean*255) / (std*255)."""
    return (img.astype(np.float32) - MEAN) / STD


# ---------------------------------------------------------------------------------------------------------------
# wide scale range (issue 17): behind a flag, on its own random stream, so the default sample stream is unchanged

WIDE_SCALE_HEIGHTS = (6.0, 200.0)  # character heights (output px) drawn log-uniformly


def char_height(q: np.ndarray) -> float:
    """Height of one character quad [4, 2]: the mean length of its left and right sides."""
    return float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)


def wide_scale(s: dict, size: int, rng, heights=WIDE_SCALE_HEIGHTS) -> dict:
    """Rescale a finished sample so its median character height is drawn log-uniformly from `heights`: upscaled
    samples are crops around a random character (large display type, headings: few characters, each up to 200 px);
    downscaled ones are tiled on a canvas of the sample's edge colour. Boxes and GT maps follow exactly (make_gt)."""
    import cv2
    chars = [c for w in s['words'] for c in w]
    if not chars:
        return s
    h0 = float(np.median([char_height(c) for c in chars]))
    if h0 <= 0:
        return s
    lo, hi = np.log(heights[0]), np.log(heights[1])
    f = float(np.exp(rng.uniform(lo, hi))) / h0
    img = s['image']
    S = size
    if f >= 1:
        W = int(round(S * f))
        big = cv2.resize(img, (W, W), interpolation=cv2.INTER_CUBIC if f > 2 else cv2.INTER_LINEAR)
        c = chars[rng.integers(len(chars))].mean(0) * f  # a random character, somewhere in the crop
        x0 = int(np.clip(c[0] - rng.uniform(0.1, 0.9) * S, 0, W - S))
        y0 = int(np.clip(c[1] - rng.uniform(0.1, 0.9) * S, 0, W - S))
        out = big[y0:y0 + S, x0:x0 + S].copy()
        words = [w * f - np.array([x0, y0], np.float64) for w in s['words']]
    else:
        W = max(8, int(round(S * f)))
        small = cv2.resize(img, (W, W), interpolation=cv2.INTER_AREA)
        edge = np.median(np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]), 0).astype(np.uint8)
        out = np.empty((S, S, 3), np.uint8)
        out[:] = edge
        x0 = int(rng.integers(0, S - W + 1))
        y0 = int(rng.integers(0, S - W + 1))
        out[y0:y0 + W, x0:x0 + W] = small
        words = [w * (W / S) + np.array([x0, y0], np.float64) for w in s['words']]
    kept = [w for w in words if w[..., 0].max() > 0 and w[..., 1].max() > 0 and w[..., 0].min() < S
            and w[..., 1].min() < S]
    region, affinity = make_gt(kept, S)
    return {**s, 'image': out, 'region': region, 'affinity': affinity, 'words': kept, 'scale_factor': f}


def make_dataset(size: int, seed: int, split: str = 'train', length: int = 10 ** 9, offset: int = 0,
                 wide_scale_p: float = 0.0):
    """wide_scale_p > 0: that share of samples goes through wide_scale() (its own stream [seed, split, index, 17]);
    0 keeps the original stream bit for bit."""
    import torch
    from torch.utils.data import Dataset

    class SynthDataset(Dataset):
        def __init__(self):
            self.synth = None

        def __len__(self):
            return length

        def __getitem__(self, i):
            if self.synth is None:
                self.synth = Synth(size, seed)
            try:
                s = self.synth.sample(offset + i, split)
            except Exception as err:  # a generator bug must not end a long run: log it, use a stand-in sample
                print(f'synth: sample {offset + i} ({split}) failed: {err!r}; using sample {offset + i + 10 ** 9}',
                      flush=True)
                s = self.synth.sample(offset + i + 10 ** 9, split)
            if wide_scale_p > 0:
                rng = np.random.default_rng([seed, SPLITS[split], offset + i, 17])
                if rng.random() < wide_scale_p:
                    s = wide_scale(s, size, rng)
            x = torch.from_numpy(normalize_mean_variance(s['image']).transpose(2, 0, 1).copy())
            y = torch.from_numpy(np.stack([s['region'], s['affinity']], -1))
            return x, y

    return SynthDataset()


# ---------------------------------------------------------------------------------------------------------------
# CLI: preview / bench / list-assets / shards

def overlay(s: dict) -> Image.Image:
    img = s['image']
    S = img.shape[0]
    vis = img.copy()
    for wq in s['words']:
        for q in wq:
            cv2.polylines(vis, [np.round(q).astype(np.int32)], True, (255, 0, 0), 1, cv2.LINE_AA)
        for q in affinity_quads(wq):
            cv2.polylines(vis, [np.round(q).astype(np.int32)], True, (0, 0, 255), 1, cv2.LINE_AA)
        allp = wq.reshape(-1, 2).astype(np.float32)
        box = cv2.boxPoints(cv2.minAreaRect(allp))
        cv2.polylines(vis, [np.round(box).astype(np.int32)], True, (0, 200, 0), 1, cv2.LINE_AA)
    reg = cv2.resize(s['region'], (S, S), interpolation=cv2.INTER_LINEAR)
    aff = cv2.resize(s['affinity'], (S, S), interpolation=cv2.INTER_LINEAR)
    heat = np.zeros_like(img, dtype=np.float32)
    heat[..., 0] = reg * 255
    heat[..., 1] = aff * 255
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] * 0.35
    over = np.clip(gray + heat, 0, 255).astype(np.uint8)
    return Image.fromarray(np.concatenate([img, vis, over], axis=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', type=int, default=384)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--preview', type=int, default=0, help='write N overlay PNGs to --out')
    ap.add_argument('--layout', default=None, help='force one layout (preview/bench)')
    ap.add_argument('--out', default='/tmp/synth_preview')
    ap.add_argument('--bench', type=int, default=0, help='time N samples')
    ap.add_argument('--list-assets', action='store_true')
    ap.add_argument('--oracle', type=int, default=0,
                    help='H-mean of getDetBoxes run on the GT maps of N validation samples (GT/post-processing fit)')
    ap.add_argument('--shards', type=int, default=0, help='pre-generate N samples into npz shards under --out')
    ap.add_argument('--shard-size', type=int, default=256)
    ap.add_argument('--split', default='train', choices=list(SPLITS))
    args = ap.parse_args(argv)
    t0 = time.time()
    assets = Assets.load(verbose=True)
    synth = Synth(args.size, args.seed, assets)
    if args.list_assets:
        print(json.dumps(assets.summary(), indent=1))
        for f in assets.fonts:
            print(f"font\t{f['category']}\t{f['group']}\t{f['path']}")
        for p in assets.photos:
            print(f"photo\t{p['src']}")
        for p in assets.papers:
            print(f"paper\t{p['src']}")
        for p in assets.patterns:
            print(f"pattern\t{p['src']}")
        return
    print(f'assets loaded in {time.time() - t0:.1f}s: {assets.summary()}', flush=True)
    if args.preview:
        os.makedirs(args.out, exist_ok=True)
        for i in range(args.preview):
            s = synth.sample(i, 'preview', layout=args.layout)
            p = os.path.join(args.out, f'{i:03d}-{s["layout"]}.png')
            overlay(s).save(p)
            print(p, len(s['words']), 'words', s['stats'])
    if args.bench:
        from collections import Counter
        t = time.time()
        c0 = time.process_time()
        per = Counter()
        cnt = Counter()
        pol = Counter()
        nwords = 0
        for i in range(args.bench):
            t1 = time.time()
            s = synth.sample(i, 'train', layout=args.layout)
            per[s['layout']] += time.time() - t1
            cnt[s['layout']] += 1
            nwords += len(s['words'])
            pol.update(s['stats'])
        dt = time.time() - t
        cpu = time.process_time() - c0
        print(f'{args.bench} samples of {args.size}px in {dt:.1f}s wall ({args.bench / dt:.1f} samples/s, '
              f'{dt / args.bench * 1000:.0f} ms/sample), {cpu / args.bench * 1000:.0f} ms CPU/sample '
              f'(= {args.bench / cpu:.1f} samples/s per free core), {nwords / args.bench:.0f} words/sample, '
              f'load avg {os.getloadavg()[0]:.1f}')
        for k in sorted(cnt):
            print(f'  {k:9s} n={cnt[k]:4d} {per[k] / cnt[k] * 1000:6.0f} ms')
        tot = pol['light_text'] + pol['dark_text']
        print(f'  light-on-dark words: {pol["light_text"] / max(tot, 1):.2f} (before global inversion)')
    if args.oracle:
        import evalpy
        tot = [0, 0, 0]
        for i in range(args.oracle):
            s = synth.sample(i, 'val', layout=args.layout)
            det = [b * 2 for b in evalpy.det_boxes(s['region'], s['affinity'])]
            gt, ign = [], []
            for q in s['words']:
                pts = q.reshape(-1, 2).astype(np.float32)
                gt.append(cv2.boxPoints(cv2.minAreaRect(pts)))
                ign.append(not (pts.min() >= 0 and pts.max() <= args.size))
            m, g, d = evalpy.score_iou(gt, ign, det)
            tot = [tot[0] + m, tot[1] + g, tot[2] + d]
        print('oracle (getDetBoxes 0.7/0.4/0.4 on the GT maps, ICDAR 2015 IoU 0.5):', evalpy.prf(*tot))
    if args.shards:
        os.makedirs(args.out, exist_ok=True)
        for s0 in range(0, args.shards, args.shard_size):
            n = min(args.shard_size, args.shards - s0)
            imgs = np.zeros((n, args.size, args.size, 3), np.uint8)
            maps = np.zeros((n, args.size // 2, args.size // 2, 2), np.uint8)
            for j in range(n):
                s = synth.sample(s0 + j, args.split)
                imgs[j] = s['image']
                maps[j, ..., 0] = np.round(s['region'] * 255)
                maps[j, ..., 1] = np.round(s['affinity'] * 255)
            p = os.path.join(args.out, f'{args.split}-{args.seed}-{s0:08d}.npz')
            np.savez(p, images=imgs, maps=maps)
            print(p, flush=True)


if __name__ == '__main__':
    main()
