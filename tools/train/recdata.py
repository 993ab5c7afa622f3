"""Recogniser data: real word crops from ../shared/data, the fixed train / dev split, preprocessing, batches.

Real sets (never copied into the repo; found at <repoRoot>/../shared/data):
  * icdar2013_born_digital/gt.jsonl, funsd_train/gt.jsonl: every word's box and text; a word image is the
    perspective crop of its box (axis-aligned boxes; xmax / ymax are inclusive in both sets, so +1: ICDAR 2013 by its
    definition, FUNSD as measured from the ink at the box edges, tools/eval/box_convention.py, docs/eval.md).
  * icdar2015_words_train/labels.tsv: the organisers' crops.

The split (fixed, documented in docs/recognizer-training.md): a page / image belongs to the **dev** part when
`int(sha1(basename).hexdigest()[:8], 16) % 5 == 0` (about 20 % of the pages, all their words); for ICDAR 2015
crops the key is the block of 50 consecutive crop numbers (`ic15-block-{(N - 1) // 50}`), so crops cut from one
scene photo (numbered consecutively) stay on one side. Words with empty text are not recognition samples. Dev keeps
every word as written (every sample counted); training reads a word by its charset_label(): accents folded, typographic
quotes/dashes as their ASCII forms, other characters outside printable ASCII (currency signs, marks, checkboxes) left
out, so the model learns to emit nothing for what it cannot name instead of a look-alike letter.

Preprocessing = the runtime's (docs/recognition.md, `resize: pad`): grey (PIL 'L'), PIL bicubic resize to height
32 keeping the ratio (width min(ceil(32 w / h), maxW)), (x / 255 - 0.5) / 0.5, right-pad by repeating the last
column (to the next multiple of 32, then to the batch's widest).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import string
import unicodedata

import cv2
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
DATA = os.path.join(REPO, '..', 'shared', 'data')
SETS = {'ic13': 'icdar2013_born_digital', 'funsd': 'funsd_train', 'ic15': 'icdar2015_words_train'}
IMG_H = 32

_ASCII_FORMS = str.maketrans({'\u2018': "'", '\u2019': "'", '\u201a': "'", '\u2032': "'", '\u00b4': "'", '\u201c': '"',
                              '\u201d': '"', '\u201e': '"', '\u2033': '"', '\u2010': '-', '\u2011': '-', '\u2012': '-',
                              '\u2013': '-', '\u2014': '-', '\u2212': '-', '\u2026': '...', '\u00a0': ' '})
_CHARSET = set(string.printable[:-6] + ' ')  # tools/str_torch/model.py PRINTABLE_CHARS (not imported: weak.py's
#                                               'model' is the detector's)


def charset_label(text: str) -> str:
    """What the recogniser should read for a word written `text`: accents folded (é -> e), typographic quotes and
    dashes as their ASCII forms, then every character outside the charset left out (£ € ® ☐ ...: nothing, rather
    than a guessed letter)."""
    t = unicodedata.normalize('NFKD', text.translate(_ASCII_FORMS))
    return ''.join(c for c in t if c in _CHARSET)


def is_dev(key: str) -> bool:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 5 == 0


def grey(path: str) -> np.ndarray:
    im = Image.open(path)
    if im.mode not in ('RGB', 'L'):
        im = im.convert('RGB')
    return np.asarray(im.convert('L'))


def box_quad(points) -> np.ndarray:
    """gt.jsonl corners -> float quad tl, tr, br, bl. Axis-aligned inclusive boxes get +1 on the far sides."""
    q = np.array(points, np.float64).reshape(-1, 2)
    if len(q) == 4 and q[0, 1] == q[1, 1] and q[2, 1] == q[3, 1] and q[0, 0] == q[3, 0] and q[1, 0] == q[2, 0]:
        x0, y0 = q.min(0)
        x1, y1 = q.max(0) + 1
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    if len(q) != 4:
        rect = cv2.minAreaRect(q.astype(np.float32))
        q = cv2.boxPoints(rect).astype(np.float64)
    return q


def cut(img: np.ndarray, q: np.ndarray) -> np.ndarray:
    w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
    w, h = max(1, int(round(w))), max(1, int(round(h)))
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    P = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
    return cv2.warpPerspective(img, P, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def load_pages(name: str, part: str) -> list[dict]:
    """[{'image': grey, 'words': [(quad, text)]}] of one part ('train' / 'dev') of a gt.jsonl set."""
    d = os.path.join(DATA, SETS[name])
    out = []
    with open(os.path.join(d, 'gt.jsonl'), encoding='utf-8') as fh:
        for line in fh:
            r = json.loads(line)
            key = os.path.basename(r['image'])
            if is_dev(key) != (part == 'dev'):
                continue
            words = [(box_quad(w['points']), w['text']) for w in r['words'] if not w.get('ignore') and w['text']]
            if words:
                out.append({'image': grey(os.path.join(d, r['image'])), 'words': words, 'key': key})
    return out


def ic15_block(fname: str) -> str:
    n = int(''.join(c for c in os.path.basename(fname) if c.isdigit()))
    return f'ic15-block-{(n - 1) // 50}'


def load_ic15(part: str) -> list[tuple[np.ndarray, str]]:
    d = os.path.join(DATA, SETS['ic15'])
    out = []
    with open(os.path.join(d, 'labels.tsv'), encoding='utf-8') as fh:
        for line in fh:
            f, t = line.rstrip('\n').split('\t', 1)
            if not t or is_dev(ic15_block(f)) != (part == 'dev'):
                continue
            out.append((grey(os.path.join(d, f)), t))
    return out


def dev_samples(name: str) -> list[tuple[np.ndarray, str]]:
    """The held-out crops of one set, cut exactly at the ground-truth boxes (no jitter)."""
    if name == 'ic15':
        return load_ic15('dev')
    return [(cut(p['image'], q), t) for p in load_pages(name, 'dev') for q, t in p['words']]


def write_crops(d: str, samples) -> int:
    """Write (image, text) crops as <d>/images/*.png + labels.tsv (the eval CLI's recognition format)."""
    os.makedirs(os.path.join(d, 'images'), exist_ok=True)
    rows = []
    for i, (im, t) in enumerate(samples):
        f = f'images/{i:05d}.png'
        Image.fromarray(im).save(os.path.join(d, f))
        rows.append(f'{f}\t{t}')
    with open(os.path.join(d, 'labels.tsv'), 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(rows) + '\n')
    return len(rows)


def write_dev(root: str) -> dict:
    """Write the dev crops as <root>/<set>/images/*.png + labels.tsv."""
    return {name: write_crops(os.path.join(root, name), dev_samples(name)) for name in SETS}


# ---------------------------------------------------------------------------------------------------------------
# preprocessing (the runtime's)

def resize_h(img: np.ndarray, max_w: int, h: int = IMG_H) -> np.ndarray:
    ih, iw = img.shape
    w = min(max(1, math.ceil(h * iw / ih)), max_w)
    return np.asarray(Image.fromarray(img).resize((w, h), Image.BICUBIC))


def batch_tensor(imgs: list[np.ndarray], max_w: int, h: int = IMG_H) -> np.ndarray:
    """Grey crops -> float32 [N, 1, h, W]: resize, normalise, pad to the next multiple of h, then to the widest,
    by repeating the last column."""
    rs = [resize_h(im, max_w, h) for im in imgs]
    W = max(min(max_w, math.ceil(r.shape[1] / h) * h) for r in rs)
    W = max(W, max(r.shape[1] for r in rs))
    out = np.empty((len(rs), 1, h, W), np.float32)
    for i, r in enumerate(rs):
        f = r.astype(np.float32) / 255.0
        f = (f - 0.5) / 0.5
        w = r.shape[1]
        out[i, 0, :, :w] = f
        out[i, 0, :, w:] = f[:, w - 1:w]
    return out


# ---------------------------------------------------------------------------------------------------------------
# DTRB-protocol metrics

def dtrb_norm(s: str) -> str:
    return ''.join(c for c in s.lower() if c in '0123456789abcdefghijklmnopqrstuvwxyz')


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def scores(preds: list[str], gts: list[str]) -> dict:
    n = len(gts)
    dtrb = sum(dtrb_norm(p) == dtrb_norm(g) for p, g in zip(preds, gts))
    exact = sum(p == g for p, g in zip(preds, gts))
    ned = 0.0
    for p, g in zip(preds, gts):
        m = max(len(p), len(g))
        ned += 1.0 - (edit_distance(p, g) / m if m else 0.0)
    return {'n': n, 'dtrb': dtrb / max(n, 1), 'exact': exact / max(n, 1), 'ned': ned / max(n, 1)}


def ctc_greedy(logits: np.ndarray, charset: str) -> list[str]:
    """[N, T, K] -> strings: argmax, merge repeats, drop blanks (class 0)."""
    idx = logits.argmax(-1)
    out = []
    for row in idx:
        s, prev = [], 0
        for k in row:
            if k != prev and k != 0:
                s.append(charset[k - 1])
            prev = k
        out.append(''.join(s))
    return out


def write_dev_pages(root: str) -> dict:
    """The held-out pages of the gt.jsonl sets as datasets of their own (<root>/<set>-pages/gt.jsonl, image paths
    relative to it, the inclusive boxes already widened by one pixel, as box_quad) for `craft-text eval --task ocr`
    and `--task recognition` (which then cuts the words itself, as the runtime does)."""
    counts = {}
    for name in ('ic13', 'funsd'):
        src = os.path.join(DATA, SETS[name])
        d = os.path.join(root, f'{name}-pages')
        os.makedirs(d, exist_ok=True)
        rows = []
        with open(os.path.join(src, 'gt.jsonl'), encoding='utf-8') as fh:
            for line in fh:
                r = json.loads(line)
                if not is_dev(os.path.basename(r['image'])):
                    continue
                words = []
                for w in r['words']:
                    q = box_quad(w['points'])
                    words.append({'points': q.tolist(), 'text': w['text'], 'ignore': w.get('ignore', False)})
                rows.append(json.dumps({'image': os.path.relpath(os.path.join(src, r['image']), d), 'words': words}))
        with open(os.path.join(d, 'gt.jsonl'), 'w', encoding='utf-8') as fh:
            fh.write('\n'.join(rows) + '\n')
        counts[name] = len(rows)
    return counts


def write_synth(root: str, n: int) -> int:
    """n synthetic word crops of the generator's val split (never trained on) as <root>/images/*.png + labels.tsv:
    the calibration set of `craft-text quantize` for the bundled recogniser (tools/train/ship_rec.sh)."""
    from wordsynth import SafeWordSynth
    ws = SafeWordSynth(0)
    os.makedirs(os.path.join(root, 'images'), exist_ok=True)
    rows, i = [], 0
    while len(rows) < n:
        for smp in ws.get(10 ** 8 + i, 'val'):
            if len(rows) < n:
                f = f'images/{len(rows):05d}.png'
                Image.fromarray(smp['image']).save(os.path.join(root, f))
                rows.append(f"{f}\t{smp['text']}")
        i += 1
    with open(os.path.join(root, 'labels.tsv'), 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(rows) + '\n')
    return len(rows)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description='write the dev parts (crops + labels.tsv, page subsets) to a folder')
    ap.add_argument('--write-dev', default=os.path.join(HERE, 'runs', 'recdev'))
    ap.add_argument('--write-synth', metavar='DIR', help='instead: write N synthetic val-split crops (--count) to DIR')
    ap.add_argument('--count', type=int, default=256)
    a = ap.parse_args()
    if a.write_synth:
        print('synthetic crops', write_synth(a.write_synth, a.count))
        raise SystemExit(0)
    print('crops', write_dev(a.write_dev))
    print('pages', write_dev_pages(a.write_dev))
