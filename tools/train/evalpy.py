"""Python-side detection + scoring used for monitoring during training (not the shipped pipeline).

* ``det_boxes``: port of CRAFT's ``craft_utils.getDetBoxes_core`` (threshold region at low_text and affinity at
  link_threshold, 4-connected components, keep components whose peak region score >= text_threshold and whose
  area >= 10, remove pure-link pixels, dilate by ``niter = int(sqrt(area * min(w, h) / (w * h)) * 2)``, minimum
  area rectangle; near-square boxes become axis-aligned), boxes in heat-map coordinates.
* ``score_iou``: the ICDAR 2015 protocol as in ``lib/eval/protocols.ts`` (greedy one-to-one, GT order then
  detection order, IoU > 0.5; detections more than 50 % inside a don't-care region are discarded).
* ``eval_dataset``: resize like CRAFT's test.py (long side * mag_ratio, capped at canvas_size, padded to a multiple
  of 32), normalise, forward, det_boxes, scale back, score against ``gt.jsonl`` of a development set.

The authoritative numbers for the model card come from the project's eval CLI; this module only tracks training.
"""
from __future__ import annotations

import json
import math
import os

import cv2
import numpy as np
from shapely.geometry import Polygon

MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def det_boxes(textmap: np.ndarray, linkmap: np.ndarray, text_threshold=0.7, link_threshold=0.4, low_text=0.4):
    h, w = textmap.shape
    text_score = textmap > low_text
    link_score = linkmap > link_threshold
    comb = (text_score | link_score).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(comb, connectivity=4)
    boxes = []
    for k in range(1, n):
        area = int(stats[k, cv2.CC_STAT_AREA])
        if area < 10:
            continue
        x, y = int(stats[k, cv2.CC_STAT_LEFT]), int(stats[k, cv2.CC_STAT_TOP])
        cw, ch = int(stats[k, cv2.CC_STAT_WIDTH]), int(stats[k, cv2.CC_STAT_HEIGHT])
        lab = labels[y:y + ch, x:x + cw] == k
        if textmap[y:y + ch, x:x + cw][lab].max() < text_threshold:
            continue
        niter = int(math.sqrt(area * min(cw, ch) / (cw * ch)) * 2)
        sx, ex = max(0, x - niter), min(w, x + cw + niter + 1)
        sy, ey = max(0, y - niter), min(h, y + ch + niter + 1)
        seg = np.zeros((ey - sy, ex - sx), np.uint8)
        sub = labels[sy:ey, sx:ex] == k
        seg[sub] = 255
        seg[link_score[sy:ey, sx:ex] & ~text_score[sy:ey, sx:ex]] = 0
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1 + niter, 1 + niter))
        seg = cv2.dilate(seg, kernel)
        ys, xs = np.nonzero(seg)
        if len(xs) == 0:
            continue
        pts = np.stack([xs + sx, ys + sy], 1).astype(np.float32)
        box = cv2.boxPoints(cv2.minAreaRect(pts))
        bw, bh = np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[1] - box[2])
        if abs(1 - max(bw, bh) / (min(bw, bh) + 1e-5)) <= 0.1:
            l, r, t, b = pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max()
            box = np.array([[l, t], [r, t], [r, b], [l, b]], np.float32)
        start = box.sum(1).argmin()
        boxes.append(np.roll(box, 4 - start, 0))
    return boxes


def _poly(p) -> Polygon:
    pg = Polygon(np.asarray(p, np.float64))
    if not pg.is_valid:
        pg = pg.buffer(0)
    return pg


def score_iou(gt: list, ignore: list, det: list, iou_thr=0.5, dont_care=0.5) -> tuple[int, int, int]:
    """Returns (matched, gt_count, det_count) for one image."""
    gp = [_poly(g) for g in gt]
    dp = [_poly(d) for d in det]
    det_ign = [False] * len(dp)
    if any(ignore):
        for j, d in enumerate(dp):
            if d.area == 0:
                continue
            for g, ig in zip(gp, ignore):
                if ig and d.intersection(g).area / d.area > dont_care:
                    det_ign[j] = True
                    break
    gm, dm = [False] * len(gp), [False] * len(dp)
    matched = 0
    for gi, g in enumerate(gp):
        if ignore[gi]:
            continue
        for di, d in enumerate(dp):
            if gm[gi]:
                break
            if dm[di] or det_ign[di]:
                continue
            inter = g.intersection(d).area
            if inter == 0:
                continue
            union = g.area + d.area - inter
            if union > 0 and inter / union > iou_thr:
                gm[gi] = dm[di] = True
                matched += 1
    return matched, len(gp) - sum(bool(i) for i in ignore), len(dp) - sum(det_ign)


def prf(matched: int, ngt: int, ndet: int) -> dict:
    r = matched / ngt if ngt else 1.0
    p = matched / ndet if ndet else (1.0 if ngt == 0 else 0.0)
    h = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {'precision': p, 'recall': r, 'hmean': h, 'matched': matched, 'gt': ngt, 'det': ndet}


def resize_aspect_ratio(img: np.ndarray, canvas_size=1280, mag_ratio=1.5):
    h, w = img.shape[:2]
    target = mag_ratio * max(h, w)
    if target > canvas_size:
        target = canvas_size
    ratio = target / max(h, w)
    th, tw = int(h * ratio), int(w * ratio)
    proc = cv2.resize(img, (tw, th), interpolation=cv2.INTER_LINEAR)
    th32 = th + (32 - th % 32) % 32
    tw32 = tw + (32 - tw % 32) % 32
    out = np.zeros((th32, tw32, 3), np.float32)
    out[:th, :tw] = proc
    return out, ratio


def load_rgb(path: str) -> np.ndarray:
    from PIL import Image
    im = Image.open(path)
    if im.mode == 'CMYK' or im.mode == 'P' or im.mode != 'RGB':
        im = im.convert('RGB')
    return np.asarray(im)


def eval_dataset(model, root: str, limit: int | None = None, invert=False, canvas_size=1280, mag_ratio=1.5,
                 thresholds=(0.7, 0.4, 0.4)) -> dict:
    """H-mean of a model (torch, eval mode) on a development set folder with gt.jsonl (ICDAR 2015 IoU)."""
    import torch
    tm, lm, gm = 0, 0, 0
    with open(os.path.join(root, 'gt.jsonl')) as fh:
        items = [json.loads(line) for line in fh if line.strip()]
    if limit:
        items = items[:limit]
    for it in items:
        img = load_rgb(os.path.join(root, it['image']))
        if invert:
            img = 255 - img
        x, ratio = resize_aspect_ratio(img.astype(np.float32), canvas_size, mag_ratio)
        x = (x - MEAN) / STD
        with torch.no_grad():
            y, _ = model(torch.from_numpy(x.transpose(2, 0, 1)).unsqueeze(0))
        y = y[0].numpy()
        boxes = det_boxes(y[..., 0], y[..., 1], *thresholds)
        det = [b * (2 / ratio) for b in boxes]
        gt = [w['points'] for w in it['words']]
        ign = [bool(w.get('ignore')) for w in it['words']]
        m, g, d = score_iou(gt, ign, det)
        tm, gm, lm = tm + m, gm + g, lm + d
    return prf(tm, gm, lm)
