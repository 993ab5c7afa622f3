#!/usr/bin/env python3
"""Accuracy and speed of an ONNX recogniser on the held-out dev crops, optionally side by side with Tesseract.

    python3 tools/train/eval_rec.py models/craft-text-recognizer.onnx [models/craft-text-recognizer-int8.onnx ...]
        [--sets ic13,funsd,ic15] [--tesseract] [--json out.json]

The dev crops are recdata.dev_samples(): the held-out pages / crop blocks, cut exactly at the ground-truth boxes.
Pre-processing is the runtime's (recdata.batch_tensor: PIL L, bicubic to height 32, pad to the next multiple of 32 by
repeating the last column, batches of one padded width, like the runtime's width buckets); greedy CTC decoding.
Metrics (recdata.scores): DTRB word accuracy (lower case, [0-9a-z] kept, exact, every sample counted), case-sensitive
exact accuracy, 1 - normalised edit distance (ICDAR 2019: 1 - ED / max(len)). Speed: ms per word over whole sets,
onnxruntime with 2 threads; several models are timed interleaved in one run (ratios, not absolute numbers).
Tesseract (Debian tesseract-ocr, English, LSTM engine): the same crops, --psm 7 (one text line) and --psm 8 (one
word), run as one process per set over a list file; its output is compared with the same metrics.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import recdata as R  # noqa: E402


def load_session(path: str, threads: int = 2):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    meta = s.get_modelmeta().custom_metadata_map
    return s, ''.join(json.loads(meta['craft.recognizer.charset'])), int(meta.get('craft.recognizer.imgW', 2048))


def buckets(imgs: list[np.ndarray], max_w: int, bs: int = 64) -> list[tuple[list[int], np.ndarray]]:
    """The runtime's batching: every crop padded to the next multiple of 32 (at most max_w); one batch per width."""
    by_w: dict[int, list[int]] = {}
    for i, im in enumerate(imgs):
        w = min(max_w, math.ceil(R.IMG_H * im.shape[1] / im.shape[0]))
        W = min(max_w, math.ceil(w / R.IMG_H) * R.IMG_H)
        by_w.setdefault(W, []).append(i)
    out = []
    for W, ids in sorted(by_w.items()):
        for k in range(0, len(ids), bs):
            part = ids[k:k + bs]
            out.append((part, R.batch_tensor([imgs[j] for j in part], max_w)))
    return out


def run_model(sess, charset: str, batches, n: int) -> tuple[list[str], float]:
    preds = [''] * n
    t = time.perf_counter()
    for ids, x in batches:
        logits = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        for j, s in zip(ids, R.ctc_greedy(logits, charset)):
            preds[j] = s
    return preds, time.perf_counter() - t


def tesseract_friendly(im: np.ndarray, min_h: int = 48, border: int = 8) -> np.ndarray:
    """Tesseract reads text best at 20-40 px capitals with a margin: small crops are upscaled (bicubic) to min_h and
    get a replicated border (its own documentation, "Improving the quality of the output")."""
    h, w = im.shape
    if h < min_h:
        im = np.asarray(Image.fromarray(im).resize((max(1, round(w * min_h / h)), min_h), Image.BICUBIC))
    return np.pad(im, border, mode='edge')


def tesseract(imgs: list[np.ndarray], psm: int, prepare: bool = False) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, im in enumerate(imgs):
            if prepare:
                im = tesseract_friendly(im)
            p = os.path.join(d, f'{i:05d}.png')
            Image.fromarray(im).save(p)
            paths.append(p)
        lst = os.path.join(d, 'list.txt')
        with open(lst, 'w') as fh:
            fh.write('\n'.join(paths) + '\n')
        out = subprocess.run(['tesseract', lst, 'stdout', '--psm', str(psm), '-l', 'eng'], capture_output=True,
                             text=True, env={**os.environ, 'OMP_THREAD_LIMIT': '1'}).stdout
    pages = out.split('\f')
    res = [' '.join(p.split()) for p in pages[:len(imgs)]]
    return res + [''] * (len(imgs) - len(res))


def rect_iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def score_ocr_page(gt: list[tuple[list, str, bool]], det: list[tuple[list, str]]) -> dict:
    """lib/eval/recognition.ts scoreOcrImage for axis-aligned boxes [x0, y0, x1, y1]: one-to-one greedy IoU > 0.5
    matching (GT order, then detection order), detections > 50 % inside a don't-care GT discarded, a match is
    spotted when the normalised texts are equal; bag of words over normalised whitespace tokens."""
    from collections import Counter
    gign = [ig or R.dtrb_norm(t) == '' for _, t, ig in gt]
    dign = []
    for b, _ in det:
        area = (b[2] - b[0]) * (b[3] - b[1])
        d = False
        for (g, _, _), ig in zip(gt, gign):
            if ig and area > 0:
                ix = max(0.0, min(g[2], b[2]) - max(g[0], b[0]))
                iy = max(0.0, min(g[3], b[3]) - max(g[1], b[1]))
                if ix * iy / area > 0.5:
                    d = True
                    break
        dign.append(d)
    gm, dm = [False] * len(gt), [False] * len(det)
    matched = spotted = 0
    for i, (g, gtext, _) in enumerate(gt):
        if gign[i]:
            continue
        for j, (b, dtext) in enumerate(det):
            if dign[j] or dm[j] or gm[i]:
                continue
            if rect_iou(g, b) > 0.5:
                gm[i] = dm[j] = True
                matched += 1
                spotted += R.dtrb_norm(gtext) == R.dtrb_norm(dtext)
    bag = lambda texts: Counter(n for t in texts for n in (R.dtrb_norm(x) for x in t.split()) if n)  # noqa: E731
    bg, bp = bag([t for _, t, ig in gt if not ig]), bag([t for _, t in det])
    return {'gtCount': sum(not x for x in gign), 'detCount': sum(not x for x in dign), 'matched': matched,
            'spotted': spotted, 'bagGt': sum(bg.values()), 'bagPred': sum(bp.values()),
            'bagCommon': sum(min(v, bg[k]) for k, v in bp.items())}


def summarize_ocr(pages: list[dict]) -> dict:
    t = {k: sum(p[k] for p in pages) for k in pages[0]}
    f1 = lambda p, r: 2 * p * r / (p + r) if p + r else 0.0  # noqa: E731
    sp, sr = t['spotted'] / max(1, t['detCount']), t['spotted'] / max(1, t['gtCount'])
    bp, br = t['bagCommon'] / max(1, t['bagPred']), t['bagCommon'] / max(1, t['bagGt'])
    return {**t, 'images': len(pages), 'spotting': {'precision': sp, 'recall': sr, 'hmean': f1(sp, sr)},
            'bagOfWords': {'precision': bp, 'recall': br, 'f1': f1(bp, br)}}


def tesseract_pages(dataset_dir: str, psm: int = 3) -> dict:
    """Tesseract end to end on every page of a gt.jsonl dataset (word boxes from its TSV output)."""
    recs = [json.loads(l) for l in open(os.path.join(dataset_dir, 'gt.jsonl'), encoding='utf-8') if l.strip()]
    with tempfile.TemporaryDirectory() as d:
        lst = os.path.join(d, 'list.txt')
        with open(lst, 'w') as fh:
            for r in recs:
                fh.write(os.path.normpath(os.path.join(dataset_dir, r['image'])) + '\n')
        t = time.perf_counter()
        out = subprocess.run(['tesseract', lst, 'stdout', '--psm', str(psm), '-l', 'eng', 'tsv'], capture_output=True,
                             text=True, env={**os.environ, 'OMP_THREAD_LIMIT': '1'}).stdout
        dt = time.perf_counter() - t
    dets: dict[int, list] = {}
    for line in out.splitlines():
        f = line.split('\t')
        if len(f) < 12 or not f[0].isdigit() or f[0] != '5' or not f[11].strip():
            continue
        page, x, y, w, h = int(f[1]), int(f[6]), int(f[7]), int(f[8]), int(f[9])
        dets.setdefault(page, []).append(([x, y, x + w, y + h], f[11].strip()))
    pages = []
    for i, r in enumerate(recs):
        gt = []
        for w in r['words']:
            q = np.array(w['points'], np.float64)
            gt.append(([*q.min(0), *q.max(0)], w['text'], bool(w.get('ignore'))))
        pages.append(score_ocr_page(gt, dets.get(i + 1, [])))
    res = summarize_ocr(pages)
    res['ms_per_image'] = dt / len(recs) * 1000
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='*')
    ap.add_argument('--sets', default='ic13,funsd,ic15')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--tesseract', action='store_true')
    ap.add_argument('--repeat', type=int, default=1, help='timing rounds (interleaved across models)')
    ap.add_argument('--json')
    ap.add_argument('--tesseract-pages', nargs='*', help='gt.jsonl datasets: Tesseract end to end (psm 3)')
    a = ap.parse_args()
    report = {}
    for d in a.tesseract_pages or []:
        r = tesseract_pages(d)
        report[f'tesseract-pages:{d}'] = r
        print(d, json.dumps({k: v for k, v in r.items()}), flush=True)
    sessions = [(m, *load_session(m, a.threads)) for m in a.models]
    for name in (a.sets.split(',') if (sessions or a.tesseract) else []):
        samples = R.dev_samples(name)
        imgs, gts = [s[0] for s in samples], [s[1] for s in samples]
        rep = {'n': len(samples)}
        times = {m: [] for m, *_ in sessions}
        preds = {}
        for r in range(a.repeat):
            for m, sess, charset, max_w in sessions:
                b = buckets(imgs, max_w)
                p, dt = run_model(sess, charset, b, len(imgs))
                preds[m] = p
                times[m].append(dt)
        for m in preds:
            sc = R.scores(preds[m], gts)
            sc['ms_per_word'] = min(times[m]) / len(imgs) * 1000
            rep[os.path.basename(m)] = sc
        if a.tesseract:
            for psm, prep in ((7, False), (8, False), (7, True)):
                t = time.perf_counter()
                p = tesseract(imgs, psm, prep)
                sc = R.scores(p, gts)
                sc['ms_per_word'] = (time.perf_counter() - t) / len(imgs) * 1000
                rep[f'tesseract-psm{psm}' + ('-upscaled' if prep else '')] = sc
        report[name] = rep
        print(name, json.dumps(rep), flush=True)
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(report, fh, indent=1)


if __name__ == '__main__':
    main()
