#!/usr/bin/env python3
"""Weakly supervised fine-tuning of CRAFT on word-level boxes (the CRAFT paper, sec. 3.2; issue 17).

Real images only have word boxes (and their transcriptions). For each word of a training crop, the interim model
(the weights being trained, in eval mode, no gradient) gives its region map; the map inside the word box is sampled
into a strip along the word's axis, the column profile's peaks are split by a 1-D watershed into l_c characters,
and the paper's length confidence s_conf = (l - min(l, |l - l_c|)) / l (l = the transcription's length without
spaces) says how far to trust the split. With s_conf < 0.5 the word is split evenly into l characters and s_conf
is set to 0.5 (the paper's fallback). The pseudo character boxes become region/affinity ground truth exactly as for
synthetic data (synth.make_gt), and the loss (train.ohem_mse on confidence-weighted errors) counts every pixel of a
word with its s_conf; words marked ignore (or '###') have weight 0. --pseudo-extent word adds the word box itself
as a region plateau under the character level (pseudo_gt; docs/training.md "Fifth run"). A share of every batch stays synthetic
(--synth-share) so the model keeps what the real sets lack.

    # fine-tune from an interim checkpoint (resumable: re-run with --resume to continue from <out>/last.pt)
    nice -n 19 python3 tools/train/weak.py --init runs/wide/best.pt --out runs/weak \\
        --real ../shared/data/funsd_train ../shared/data/icdar2013_born_digital --steps 4000 --batch 8 --size 384
    nice -n 19 python3 tools/train/weak.py --out runs/weak --resume
    # smoke run (a few steps; proves the pipeline and resume)
    python3 tools/train/weak.py --init tools/train/checkpoints/w025-step10500.pt --out /tmp/weak-smoke --steps 3 \\
        --batch 2 --size 256 --real ../shared/data/funsd_train
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
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evalpy  # noqa: E402
import synth  # noqa: E402
from train import build_model, lr_at, save_ckpt, export_onnx  # noqa: E402
from recdata import is_dev  # noqa: E402  (the recogniser's page split: dev pages are never trained on)

PROMINENCE = 0.15  # as binding/craft/characters.h (kPeakProminence)
LOW_TEXT = 0.4
# where the region Gaussian exp(-0.5 K^2 u^2) (synth.GAUSS_K_REGION) crosses LOW_TEXT, as a fraction u of the half box
GAUSS_LEVEL_AT_LOW_TEXT = math.sqrt(2 * math.log(1 / LOW_TEXT)) / synth.GAUSS_K_REGION
# --pseudo-extent word: the region level of the word-extent plateau (below the runtime's character level,
# binding/craft/characters.h kCharacterLevel 0.35, so the characters read there stay the tightened ones; words are then
# grouped at a lowText under it, e.g. 0.2: docs/training.md "Fifth run")
EXTENT_LEVEL = 0.3


# ---------------------------------------------------------------------------------------------------------------
# pseudo character boxes

def order_word(q: np.ndarray) -> tuple[np.ndarray, bool]:
    """The word quad clockwise from its top-left, and whether it is vertical (taller than wide)."""
    q = np.asarray(q, np.float64)
    top, side = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[1])
    return q, side > top * 1.5


def grow(lo: float, hi: float, lim_lo: float, lim_hi: float) -> tuple[float, float]:
    """The extent [lo, hi) over LOW_TEXT, as the box whose Gaussian has it (clipped to the limits)."""
    c, h = (lo + hi) / 2, (hi - lo) / 2 / GAUSS_LEVEL_AT_LOW_TEXT
    return max(lim_lo, c - h), min(lim_hi, c + h)


def tighten(strip: np.ndarray, bounds) -> list[tuple[float, float, float, float]]:
    """Each split interval [x0, x1) of the word strip shrunk to the character the region map shows there.

    A word box (FUNSD's especially) is looser than its characters, and a watershed interval runs from one valley to
    the next: used as they are, the character boxes are taller and wider than the ink, so the pseudo ground truth
    teaches wide, flat peaks (the second run's character precision fell: docs/training.md). The paper's watershed gives 2-D character
    regions; here each interval keeps the extent where the map is over LOW_TEXT (its row and column profiles),
    widened by 1 / GAUSS_LEVEL_AT_LOW_TEXT, because the training Gaussian (synth.GAUSS_K_REGION) is at LOW_TEXT at
    that fraction of the half box: a model that reproduces synthetic ground truth gets its own character boxes back.
    An interval with nothing over LOW_TEXT (the even-split fallback) keeps its extent."""
    H, L = strip.shape
    out = []
    for x0, x1 in zip(bounds[:-1], bounds[1:]):
        a, b = int(np.floor(x0)), max(int(np.floor(x0)) + 1, int(np.ceil(x1)))
        part = strip[:, a:b]
        rows = np.flatnonzero(part.max(1) > LOW_TEXT)
        cols = np.flatnonzero(part.max(0) > LOW_TEXT)
        if len(rows) == 0 or len(cols) == 0:
            out.append((float(x0), float(x1), 0.0, float(H)))
            continue
        cx0, cx1 = grow(a + cols[0], a + cols[-1] + 1, float(x0), float(x1))
        cy0, cy1 = grow(float(rows[0]), float(rows[-1] + 1), 0.0, float(H))
        out.append((cx0, cx1, cy0, cy1))
    return out


def split_word(region: np.ndarray, quad: np.ndarray, length: int, tight: bool = True) -> tuple[np.ndarray, float]:
    """Character quads [n, 4, 2] (image coordinates, region map at half resolution) and s_conf for one word.
    tight=False keeps the split intervals as they are (the word box's height, valley to valley: the second run's
    convention)."""
    q, vertical = order_word(quad)
    # strip axes: x along the reading direction
    o, a, f, c = (q[0], q[3], q[2], q[1]) if vertical else (q[0], q[1], q[2], q[3])
    L = max(2, int(round(np.linalg.norm(a - o) / 2 * 2)))
    H = max(1, int(round(np.linalg.norm(c - o) / 2 * 2)))
    src = (np.array([o, a, f, c]) / 2).astype(np.float32)
    dst = np.array([[0, 0], [L, 0], [L, H], [0, H]], np.float32)
    M = cv2.getPerspectiveTransform(src, dst)
    strip = cv2.warpPerspective(region.astype(np.float32), M, (L, H), flags=cv2.INTER_LINEAR, borderValue=0)
    raw = strip.max(0)
    p = np.convolve(np.pad(raw, 1, mode='edge'), [0.25, 0.5, 0.25], mode='valid')
    peaks = [x for x in range(L) if p[x] > LOW_TEXT and (x == 0 or p[x - 1] < p[x]) and (x == L - 1 or p[x + 1] <= p[x])]
    kept: list[int] = []
    for pk in peaks:
        kept.append(pk)
        while len(kept) >= 2:
            i, j = kept[-2], kept[-1]
            if p[i:j + 1].min() < (1 - PROMINENCE) * min(p[i], p[j]):
                break
            higher = i if p[i] >= p[j] else j
            kept.pop()
            kept[-1] = higher
    lc = len(kept)
    l = max(1, length)
    conf = (l - min(l, abs(l - lc))) / l
    if conf < 0.5 or lc == 0:
        bounds = np.linspace(0, L, l + 1)  # the paper's fallback: an even split, confidence 0.5
        conf = 0.5
    else:
        bounds = [0] + [kept[k] + int(np.argmin(p[kept[k]:kept[k + 1] + 1])) for k in range(lc - 1)] + [L]
    Minv = np.linalg.inv(M)
    chars = []
    boxes = tighten(strip, bounds) if tight else [(float(a), float(b), 0.0, float(H)) for a, b in zip(bounds[:-1], bounds[1:])]
    for x0, x1, y0, y1 in boxes:
        pts = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
        back = cv2.perspectiveTransform(pts, Minv)[0] * 2
        chars.append(back if not vertical else back[[1, 2, 3, 0]])
    return np.array(chars, np.float64), float(conf)


# ---------------------------------------------------------------------------------------------------------------
# real crops

class RealSet:
    def __init__(self, roots: list[str]):
        self.items = []
        for root in roots:
            with open(os.path.join(root, 'gt.jsonl')) as fh:
                for line in fh:
                    if line.strip():
                        it = json.loads(line)
                        if is_dev(os.path.basename(it['image'])):
                            continue  # held out: detection is measured on these pages (bench/devset.js and bench/finetune.js evaluate them)
                        self.items.append((os.path.join(root, it['image']), it['words']))
        if not self.items:
            raise SystemExit('no real images (--real)')

    def crop(self, rng, size: int, heights=(10.0, 60.0)):
        """A random image, rescaled (its words' median height -> heights[0]..heights[1] px, log-uniform) and cropped
        to size x size: image, word quads in crop pixels, transcription lengths, ignore flags."""
        path, words = self.items[rng.integers(len(self.items))]
        img = evalpy.load_rgb(path)
        quads = [np.asarray(w['points'], np.float64) for w in words]
        hs = [min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[1])) for q in quads] or [20.0]
        f = float(np.exp(rng.uniform(np.log(heights[0]), np.log(heights[1])))) / max(2.0, float(np.median(hs)))
        h, w = img.shape[:2]
        W, H = max(size, int(round(w * f))), max(size, int(round(h * f)))
        img = cv2.resize(img, (int(round(w * f)), int(round(h * f))), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        canvas = np.full((H, W, 3), 255, np.uint8)
        canvas[:img.shape[0], :img.shape[1]] = img
        x0, y0 = int(rng.integers(0, W - size + 1)), int(rng.integers(0, H - size + 1))
        out = canvas[y0:y0 + size, x0:x0 + size].copy()
        items = []
        for q, wd in zip(quads, words):
            q2 = q * f - [x0, y0]
            if q2[:, 0].max() <= 0 or q2[:, 1].max() <= 0 or q2[:, 0].min() >= size or q2[:, 1].min() >= size:
                continue
            text = str(wd.get('text') or '')
            inside = q2.min() >= 0 and q2.max() <= size
            ignore = bool(wd.get('ignore')) or text == '###' or not inside or not text.strip()
            items.append((q2, len(text.replace(' ', '')), ignore))
        return out, items


def extent_inset(quad_h: np.ndarray) -> np.ndarray:
    """The word quad (heat-map coordinates) moved in on every side by the margin getDetBoxes' dilation adds back.

    getDetBoxes dilates a word's region > low_text pixels by niter = int(2 sqrt(area * min(w, h) / (w * h))), w x h
    its component's bounds: for a filled box of short side s, 2 sqrt(s), half of it per side. A plateau of short side
    G - 2d, d = sqrt(G - 2d) (d = sqrt(1 + G) - 1), decodes to the box of short side G."""
    q = np.asarray(quad_h, np.float64)
    u = (q[1] - q[0]) + (q[2] - q[3])
    v = (q[3] - q[0]) + (q[2] - q[1])
    lu, lv = np.linalg.norm(u) / 2, np.linalg.norm(v) / 2
    if lu < 1e-6 or lv < 1e-6:
        return q
    u, v = u / (2 * lu), v / (2 * lv)
    d = min(math.sqrt(1 + min(lu, lv)) - 1, 0.3 * min(lu, lv))
    return q + d * np.array([u + v, -u + v, -u - v, u - v])


def draw_extent(region: np.ndarray, quads: list[np.ndarray]):
    """--pseudo-extent word: max-accumulate EXTENT_LEVEL over each word box (image coordinates), inset by
    extent_inset, into the region map (heat-map coordinates: pixel (i, j) covers [j, j+1) x [i, i+1))."""
    if not quads:
        return
    mask = np.zeros(region.shape, np.uint8)
    polys = [np.round((extent_inset(np.asarray(q, np.float64) / 2) - 0.5) * 16).astype(np.int32) for q in quads]
    cv2.fillPoly(mask, polys, 1, lineType=cv2.LINE_8, shift=4)
    np.maximum(region, EXTENT_LEVEL * mask, out=region)


def interim_region(model, img: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(((img.astype(np.float32) - evalpy.MEAN) / evalpy.STD).transpose(2, 0, 1)).unsqueeze(0)
    with torch.no_grad():
        y, _ = model(x)
    return y[0, ..., 0].numpy()


def pseudo_gt(model, img: np.ndarray, items, size: int, extent: str = 'tight'):
    """Region/affinity GT and the confidence map of one real crop, from the interim model's region map.

    extent (--pseudo-extent): 'tight' (third run): the characters tightened to the region map (weak.tighten), and the
    word box drawn at getDetBoxes' low_text moves with them (tighter than FUNSD's loose boxes). 'word': the same tight
    characters (region peaks, affinity), plus a plateau at EXTENT_LEVEL over the word box (inset by the dilation), so
    that words grouped at a lowText under EXTENT_LEVEL decode to the ground-truth box whatever its convention, while
    characters read at kCharacterLevel (0.35) stay tight. 'loose' (second run): untightened intervals."""
    region = interim_region(model, img)
    return pseudo_gt_from(region, items, size, extent)


def pseudo_gt_from(region: np.ndarray, items, size: int, extent: str = 'tight'):
    """pseudo_gt from a given region map (the interim model's, half resolution)."""
    conf = np.ones((size // 2, size // 2), np.float32)
    words, confs, kept = [], [], []
    for q, length, ignore in items:
        poly = (q / 2).astype(np.int32)
        if ignore:
            cv2.fillPoly(conf, [poly], 0.0)
            continue
        chars, c = split_word(region, q, length, tight=extent != 'loose')
        words.append(chars)
        confs.append(c)
        kept.append(q)
        cv2.fillPoly(conf, [poly], c)
    reg, aff = synth.make_gt(words, size)
    if extent == 'word':
        draw_extent(reg, kept)
    return reg, aff, conf, confs


def weighted_ohem(pred, gt, conf, ratio=3.0, pos_thr=0.1, empty_k=500):
    """train.ohem_mse with every pixel's squared error weighted by the confidence map (the paper's S_c(p))."""
    total = pred.new_zeros(())
    for i in range(pred.shape[0]):
        for m in range(2):
            err = (pred[i, ..., m] - gt[i, ..., m]) ** 2 * conf[i]
            pos = gt[i, ..., m] >= pos_thr
            npos = int(pos.sum())
            neg = err[~pos & (conf[i] > 0)]
            if npos > 0:
                k = min(int(ratio * npos), neg.numel())
                total = total + err[pos].mean() + (neg.topk(k).values.mean() if k > 0 else 0)
            else:
                k = min(empty_k, neg.numel())
                total = total + (neg.topk(k).values.mean() if k > 0 else 0)
    return total / pred.shape[0]


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--init', default=None, help='interim checkpoint to start from (train.py best.pt / last.pt)')
    ap.add_argument('--resume', action='store_true', help='continue from <out>/last.pt')
    ap.add_argument('--real', nargs='*', default=[], help='dev set folders with gt.jsonl (word boxes + text)')
    ap.add_argument('--synth-share', type=float, default=0.25, help='share of each batch that stays synthetic')
    ap.add_argument('--wide-scale', type=float, default=0.5, help='synthetic samples through synth.wide_scale')
    ap.add_argument('--real-heights', default='10,60',
                    help="real pages rescaled so their median word height is log-uniform in this range (px); the first "
                         "runs' 10-60 narrowed the model's range (docs/training.md): 8,90 keeps the large text")
    ap.add_argument('--real-invert', type=float, default=0.0,
                    help='share of real crops trained inverted (255 - v); the real pages are all dark on light, and '
                         'the third run, without it, lost 0.03 on the inverted ICDAR 2013 pages (docs/training.md)')
    ap.add_argument('--pseudo-extent', choices=('tight', 'word', 'loose'), default='tight',
                    help="pseudo ground truth of a real word: 'tight' characters (third run; the decoded word box moves "
                         "with them), 'word' = tight characters plus a region plateau at EXTENT_LEVEL over the word box "
                         "(decoded at a lowText under it: the ground-truth box), 'loose' = untightened intervals (second "
                         "run); see pseudo_gt")
    ap.add_argument('--size', type=int, default=384)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=4000)
    ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ckpt-every', type=int, default=100)
    ap.add_argument('--log-every', type=int, default=10)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    os.makedirs(args.out, exist_ok=True)

    last = os.path.join(args.out, 'last.pt')
    src = last if args.resume else args.init
    if src is None:
        raise SystemExit('--init CHECKPOINT or --resume')
    ckpt = torch.load(src, map_location='cpu', weights_only=False)
    if args.resume:  # the run's own settings (the data stream depends on them)
        saved = ckpt['args']
        if 'pseudo_extent' not in saved:
            saved = {**saved, 'pseudo_extent': 'tight'}  # a run from before the flag: its convention
        for k, v in saved.items():
            if k not in ('out', 'resume', 'steps'):
                setattr(args, k, v)
    args.width = ckpt['width']
    model = build_model(args.width)
    model.load_state_dict(ckpt['model'])
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step = ckpt['step'] if args.resume else 0
    if args.resume and 'optim' in ckpt:
        opt.load_state_dict(ckpt['optim'])
    history = ckpt.get('history', {}) if args.resume else {'init': src}
    print(f'weak fine-tuning: width {args.width}, from {src} at step {step} -> {args.steps}, '
          f'pseudo extent {args.pseudo_extent}', flush=True)

    real = RealSet(args.real)
    heights = tuple(float(v) for v in str(args.real_heights).split(','))
    synth_ds = synth.make_dataset(args.size, args.seed, 'train', wide_scale_p=args.wide_scale)
    n_synth = int(round(args.batch * args.synth_share))
    log = open(os.path.join(args.out, 'log.jsonl'), 'a')
    t_last = time.time()
    while step < args.steps:
        rng = np.random.default_rng([args.seed, 17, step])  # the batch is a function of (seed, step): resumable
        xs, ys, cs, sconf = [], [], [], []
        model.eval()
        for b in range(args.batch):
            if b < n_synth:
                x, y = synth_ds[step * args.batch + b]
                xs.append(x)
                ys.append(y)
                cs.append(torch.ones(args.size // 2, args.size // 2))
            else:
                img, items = real.crop(rng, args.size, heights)
                reg, aff, conf, c = pseudo_gt(model, img, items, args.size, args.pseudo_extent)
                sconf += c
                if args.real_invert > 0 and rng.random() < args.real_invert:
                    img = 255 - img  # after the pseudo labels (read on the page as printed): same characters, light on dark
                xs.append(torch.from_numpy(((img.astype(np.float32) - evalpy.MEAN) / evalpy.STD).transpose(2, 0, 1).copy()))
                ys.append(torch.from_numpy(np.stack([reg, aff], -1)))
                cs.append(torch.from_numpy(conf))
        model.train()
        x, y, conf = torch.stack(xs), torch.stack(ys), torch.stack(cs)
        lr = lr_at(step, args.lr, args.steps, args.warmup)
        for g in opt.param_groups:
            g['lr'] = lr
        pred, _ = model(x)
        loss = weighted_ohem(pred, y, conf)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % args.log_every == 0 or step == args.steps:
            line = {'kind': 'weak', 'step': step, 'loss': round(float(loss.detach()), 5), 'lr': lr,
                    'mean_s_conf': round(float(np.mean(sconf)), 3) if sconf else None,
                    'fallback_share': round(float(np.mean([c == 0.5 for c in sconf])), 3) if sconf else None,
                    's_per_step': round((time.time() - t_last) / args.log_every, 2)}
            print(json.dumps(line), flush=True)
            log.write(json.dumps(line) + '\n')
            log.flush()
            t_last = time.time()
        if step % args.ckpt_every == 0 or step == args.steps:
            save_ckpt(last, model, opt, step, args, history)
    log.close()
    export_onnx(model, os.path.join(args.out, 'last.onnx'))


if __name__ == '__main__':
    main()
