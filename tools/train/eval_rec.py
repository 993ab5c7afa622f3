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


def tesseract(imgs: list[np.ndarray], psm: int) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, im in enumerate(imgs):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='*')
    ap.add_argument('--sets', default='ic13,funsd,ic15')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--tesseract', action='store_true')
    ap.add_argument('--repeat', type=int, default=1, help='timing rounds (interleaved across models)')
    ap.add_argument('--json')
    a = ap.parse_args()
    sessions = [(m, *load_session(m, a.threads)) for m in a.models]
    report = {}
    for name in a.sets.split(','):
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
            for psm in (7, 8):
                t = time.perf_counter()
                p = tesseract(imgs, psm)
                sc = R.scores(p, gts)
                sc['ms_per_word'] = (time.perf_counter() - t) / len(imgs) * 1000
                rep[f'tesseract-psm{psm}'] = sc
        report[name] = rep
        print(name, json.dumps(rep), flush=True)
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(report, fh, indent=1)


if __name__ == '__main__':
    main()
