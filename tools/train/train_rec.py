#!/usr/bin/env python3
"""Train craft-text's bundled recogniser: a compact CRNN (DTRB None-VGG-BiLSTM-CTC layout), CPU, resumable.

    # train (re-run with --resume to continue from <out>/last.pt, or from a committed checkpoint file)
    nice -n 19 python3 tools/train/train_rec.py --out tools/train/runs/rec --steps 12000
    nice -n 19 python3 tools/train/train_rec.py --out tools/train/runs/rec --resume tools/train/checkpoints/rec-last.pt
    # ONNX export (recogniser contract, docs/recognition.md) of a checkpoint + dev-set accuracy with onnxruntime
    python3 tools/train/train_rec.py --export models/craft-text-recognizer.onnx --resume tools/train/runs/rec/best.pt

Model: tools/str_torch/model.py `Model(Opt(output_channel=128, hidden_size=128, imgH=32, PAD=True,
character=PRINTABLE_CHARS))`: VGG channels 16-32-64-128, two BiLSTM(128), Linear -> 96 classes (CTC blank 0 +
printable ASCII with space, case-sensitive); grey input, height 32, any width (T = W / 4 - 1 frames).

Data (recdata.py, wordsynth.py): each batch mixes synthetic word crops (wordsynth, seed --seed) with real crops of
the *train* parts of ICDAR 2013 born-digital, FUNSD and ICDAR 2015 (the dev parts are never trained on), cut with
random CRAFT-like margins and lightly degraded. Batch `step` is a pure function of (seed, step): the data-stream
position is the step, so a resumed run continues the same stream. A bad sample is logged and replaced.

Loss: CTC (blank 0, zero_infinity), every frame of the padded width is an input frame (the runtime pads too).
Adam, linear warm-up, cosine decay to 2 % at --steps (a function of the step only: --steps may be raised on resume),
gradient-norm clipping 5. Validation on the dev parts every --val-every steps: DTRB word accuracy (lower case,
[0-9a-z], exact, every sample counted), case-sensitive exact accuracy, 1 - normalised edit distance; `best.pt` keeps
the best mean DTRB accuracy over the three sets.
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
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'str_torch'))
from model import Model, Opt, PRINTABLE_CHARS  # noqa: E402  (tools/str_torch/model.py)
import recdata as R  # noqa: E402
from nninit import kaiming_init  # noqa: E402

cv2.setNumThreads(1)
CHARSET = PRINTABLE_CHARS
CHAR_INDEX = {c: i + 1 for i, c in enumerate(CHARSET)}
DEFAULT_MIX = 'synth:0.55,funsd:0.18,ic13:0.12,ic15:0.15'
# The runtime's default crop margin for this model (craft.recognizer.margin; the fraction of the text height added on
# every side of a box): the median margin of the training crops around their text (WordSynth.box), measured by
# tools/train/rec_margin.py (0.120 across, 0.130 along the text).
CROP_MARGIN = '0.12'


def make_opt(a) -> Opt:
    return Opt(imgH=R.IMG_H, imgW=0, output_channel=a.oc, hidden_size=a.hidden, character=CHARSET, PAD=True)


def build_model(opt: Opt) -> Model:
    m = Model(opt)
    kaiming_init(m)
    return m


# ---------------------------------------------------------------------------------------------------------------
# data

def light_degrade(img: np.ndarray, rng) -> np.ndarray:
    r = rng.random()
    if r < 0.12:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2))
    elif r < 0.2:
        h, w = img.shape
        f = rng.uniform(1.3, 2.5)
        small = cv2.resize(img, (max(2, int(w / f)), max(4, int(h / f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.15:
        img = np.clip(img + rng.normal(0, rng.uniform(3, 12), img.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.uniform(25, 90))])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if rng.random() < 0.15:
        img = 255 - img
    return img


def ctc_frames_needed(t: str) -> int:
    """Frames CTC needs for label t: one per character plus a blank between repeated ones."""
    return len(t) + sum(a == b for a, b in zip(t, t[1:]))


def squeeze(im: np.ndarray, t: str, rng) -> np.ndarray:
    """Narrow a crop horizontally (x U(0.4, 0.9), never below ~1.5 frames per needed frame at height 32): condensed
    type. The synthetic words are rarely under 8 px of width per character at height 32 (under two CTC frames each:
    1 % of them), ICDAR 2015's crops 13 % of the time, and such words lose characters (docs/recognition.md, the stretch
    retry)."""
    h, w = im.shape[:2]
    w32 = R.IMG_H * w / h
    lo = max(0.4, 4 * (1.5 * ctc_frames_needed(t) + 2) / max(1.0, w32))
    if lo >= 0.9:
        return im
    nw = max(1, round(w * rng.uniform(lo, 0.9)))
    return cv2.resize(im, (nw, h), interpolation=cv2.INTER_AREA)


class Batches(torch.utils.data.Dataset):
    """Item `step` = one training batch (x [B,1,32,W], CTC targets, lengths, labels); pure function of the step."""

    def __init__(self, seed: int, batch: int, mix: dict, max_w: int, squeeze: float = 0.0):
        self.seed, self.batch, self.mix, self.max_w, self.squeeze = seed, batch, mix, max_w, squeeze
        self.names = list(mix)
        p = np.array([mix[k] for k in self.names], np.float64)
        self.p = p / p.sum()
        self.ws = None

    def __len__(self):
        return 10 ** 9

    def _init(self):
        import wordsynth
        torch.set_num_threads(1)
        self.ws = wordsynth.SafeWordSynth(self.seed)
        self.box = wordsynth.WordSynth.box
        self.pages = {k: R.load_pages(k, 'train') for k in ('ic13', 'funsd') if k in self.mix}
        # words with no charset character (FUNSD's checkboxes, ®, €) stay in with an empty label: the recogniser
        # should read nothing there (recdata.charset_label), not guess a letter
        self.page_words = {k: [(i, j) for i, p in enumerate(v) for j in range(len(p['words']))
                               if p['words'][j][1].strip()] for k, v in self.pages.items()}
        self.ic15 = [(im, label) for im, t in R.load_ic15('train') if (label := R.charset_label(t)).strip()] \
            if 'ic15' in self.mix else []

    def real(self, name, rng):
        if name == 'ic15':
            im, t = self.ic15[rng.integers(len(self.ic15))]
            h, w = im.shape
            if rng.random() < 0.5:  # trim / extend the organisers' crop a little
                q = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
                q += rng.uniform(-0.08, 0.06, (4, 2)) * np.array([h, h])
                if rng.random() < 0.3:
                    a = rng.normal(0, 0.04)
                    c = q.mean(0)
                    Rm = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
                    q = (q - c) @ Rm.T + c
                im = R.cut(im, q)
            return light_degrade(im, rng), t
        pi, wi = self.page_words[name][rng.integers(len(self.page_words[name]))]
        page = self.pages[name][pi]
        q, t = page['words'][wi]
        h = max(2.0, np.linalg.norm(q[3] - q[0]))
        q = self.box(q, rng, h, 0.35 * h, True, True)
        return light_degrade(R.cut(page['image'], q), rng), R.charset_label(t)

    def __getitem__(self, step):
        if self.ws is None:
            self._init()
        rng = np.random.default_rng([self.seed, 77, step])
        src = rng.choice(len(self.names), size=self.batch, p=self.p)
        imgs, labels = [], []
        n_syn = int((src == self.names.index('synth')).sum()) if 'synth' in self.names else 0
        line = 0
        syn = []
        while len(syn) < n_syn:
            idx = step * 4096 + line
            line += 1
            try:
                syn.extend(self.ws.get(idx))
            except Exception as err:  # noqa: BLE001  (never end a run for one sample)
                print(f'batch {step}: synthetic line {idx} failed: {err!r}', flush=True)
        for s in syn[:n_syn]:
            imgs.append(s['image'])
            labels.append(s['text'])
        for k in src:
            name = self.names[k]
            if name == 'synth':
                continue
            for _ in range(10):
                try:
                    im, t = self.real(name, rng)
                    if im.shape[0] >= 2 and im.shape[1] >= 1:
                        imgs.append(im)
                        labels.append(t)
                        break
                except Exception as err:  # noqa: BLE001
                    print(f'batch {step}: {name} sample failed: {err!r}', flush=True)
        if self.squeeze > 0:
            imgs = [squeeze(im, t, rng) if rng.random() < self.squeeze else im for im, t in zip(imgs, labels)]
        # CTC needs T >= L (+ repeats): drop (rarely) crops too narrow for their text at height 32
        keep = []
        for im, t in zip(imgs, labels):
            w = min(self.max_w, math.ceil(R.IMG_H * im.shape[1] / im.shape[0]))
            if len(t) <= max(1, w // 4 - 1) and all(c in CHAR_INDEX for c in t):
                keep.append((im, t))
        if not keep:
            keep = [(np.full((32, 64), 255, np.uint8), ' ')]
        # sub-batches of similar widths (sorted by aspect): padding every crop to the widest of 64 wastes compute
        keep.sort(key=lambda k: k[0].shape[1] / k[0].shape[0])
        q = (len(keep) + 3) // 4
        out = []
        for part in (keep[i:i + q] for i in range(0, len(keep), q)):
            if not part:
                continue
            imgs, labels = [k[0] for k in part], [k[1] for k in part]
            x = torch.from_numpy(R.batch_tensor(imgs, self.max_w))
            targets = torch.tensor([CHAR_INDEX[c] for t in labels for c in t], dtype=torch.long)
            lengths = torch.tensor([len(t) for t in labels], dtype=torch.long)
            out.append((x, targets, lengths, labels))
        return out


# ---------------------------------------------------------------------------------------------------------------
# validation

_DEV = {}


def dev_sets(limit_funsd: int) -> dict:
    if not _DEV:
        for name in R.SETS:
            s = R.dev_samples(name)
            if name == 'funsd' and limit_funsd:
                s = s[::max(1, len(s) // limit_funsd)][:limit_funsd]  # fixed spread-out subset for periodic checks
            _DEV[name] = s
    return _DEV


def predict(model, imgs: list[np.ndarray], max_w: int, bs: int = 64) -> list[str]:
    order = sorted(range(len(imgs)), key=lambda i: imgs[i].shape[1] / imgs[i].shape[0])
    out = [''] * len(imgs)
    model.eval()
    with torch.no_grad():
        for i in range(0, len(order), bs):
            ids = order[i:i + bs]
            x = torch.from_numpy(R.batch_tensor([imgs[j] for j in ids], max_w))
            for j, s in zip(ids, R.ctc_greedy(model(x).numpy(), CHARSET)):
                out[j] = s
    return out


def validate(model, max_w, limit_funsd) -> dict:
    res = {}
    for name, samples in dev_sets(limit_funsd).items():
        preds = predict(model, [s[0] for s in samples], max_w)
        res[name] = R.scores(preds, [s[1] for s in samples])
    model.train()
    return res


# ---------------------------------------------------------------------------------------------------------------

def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
    lr = a.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))
    # A resume that restarts Adam (a slim checkpoint) ramps up again: fresh moment estimates make the first updates
    # about lr in size for every parameter.
    if getattr(a, 'rewarm_from', None) is not None and step - a.rewarm_from < a.rewarm:
        return lr * (step - a.rewarm_from + 1) / a.rewarm
    return lr


def save(path, model, opt, step, a, hist, slim=False, half=False):
    """slim: no Adam state (a resume from it restarts Adam); half: weights in fp16 (a resume casts them back)."""
    sd = model.state_dict()
    if half:
        sd = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    d = {'model': sd, 'step': step, 'args': vars(a), 'history': hist[-400:], 'arch': {'oc': a.oc, 'hidden': a.hidden}}
    if not slim:
        d['optimizer'] = opt.state_dict()
    tmp = path + '.tmp'
    torch.save(d, tmp)
    os.replace(tmp, path)


def export_onnx(ckpt_path: str, out: str, limit_funsd: int = 0):
    sys.path.insert(0, os.path.join(HERE, '..', 'str_torch'))
    from export import export, metadata, DEFAULT_MAX_WIDTH
    ck = torch.load(ckpt_path, map_location='cpu', weights_only=False)
    a = argparse.Namespace(**ck['args'])
    opt = make_opt(a)
    model = Model(opt)
    model.load_state_dict(ck['model'])
    model.eval()
    extra = {'craft.recognizer.trainedSteps': str(ck['step']),
             'craft.recognizer.margin': CROP_MARGIN,
             'craft.recognizer.source': 'craft-text tools/train/train_rec.py'}
    if 'averaged' in ck:  # a weight average of snapshots (avg_rec.py): which ones (trainedSteps is the newest)
        extra['craft.recognizer.averagedSteps'] = ','.join(str(s) for s in ck['averaged']['steps'])
    meta = metadata(opt, 'None-VGG-BiLSTM-CTC', True, DEFAULT_MAX_WIDTH, 'dtrb', extra)
    export(model, out, meta, True)
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(out, so, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 32, 160)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = sess.run(None, {'image': x})[0]
    print(f'exported {out} (step {ck["step"]}); onnxruntime vs torch max abs diff {np.abs(ref - got).max():.2e}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, 'runs', 'rec'))
    ap.add_argument('--resume', nargs='?', const='', default=None)
    ap.add_argument('--init', help='start at step 0 from a trained (narrower) checkpoint, widened to --oc/--hidden '
                    'without changing its outputs (widen_rec.py); fresh optimizer')
    ap.add_argument('--export')
    ap.add_argument('--steps', type=int, default=12000)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=None, help='peak learning rate (default 1e-3; on resume: the saved one)')
    ap.add_argument('--warmup', type=int, default=None, help='warm-up steps (default 300; on resume: the saved one)')
    ap.add_argument('--oc', type=int, default=128)
    ap.add_argument('--hidden', type=int, default=128)
    ap.add_argument('--max-w', type=int, default=512)
    ap.add_argument('--rewarm', type=int, default=200, help='steps of linear warm-up after a resume that restarts Adam')
    ap.add_argument('--mix', default=None, help=f'sources and weights (default {DEFAULT_MIX}; on resume: the saved one)')
    ap.add_argument('--squeeze', type=float, default=None,
                    help='share of crops narrowed horizontally, condensed type (default 0; on resume: the saved one)')
    ap.add_argument('--seed', type=int, default=0)
    # 1 thread: under contention (nice 19 on a shared 2-core machine) 2 OpenMP threads spin-waited, 6.3 s of CPU per
    # step against 0.22 s with 1 thread (28x), 104 s against 6 s of wall time, measured side by side
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--bf16', action='store_true',
                    help='bfloat16 autocast for the forward pass (weights, loss and validation stay fp32): '
                         'about 1.65x faster steps on a CPU with AVX512-BF16 (docs/recognizer-training.md)')
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--val-every', type=int, default=1000)
    ap.add_argument('--log-every', type=int, default=25)
    ap.add_argument('--val-funsd', type=int, default=1500, help='FUNSD dev words in periodic validation (0 = all)')
    ap.add_argument('--ckpt-minutes', type=float, default=5)
    ap.add_argument('--commit-ckpt', default=os.path.join(HERE, 'checkpoints', 'rec-last.pt'),
                    help='small resume checkpoint written every --commit-minutes (to be committed)')
    ap.add_argument('--commit-minutes', type=float, default=25)
    a = ap.parse_args()
    if a.export:
        export_onnx(a.resume or os.path.join(a.out, 'best.pt'), a.export)
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    start, hist, ck = 0, [], None
    if a.resume is not None:
        path = a.resume or os.path.join(a.out, 'last.pt')
        ck = torch.load(path, map_location='cpu', weights_only=False)
        saved = ck['args']
        for k in ('oc', 'hidden', 'seed', 'max_w', 'batch'):  # the network and the stream stay the same
            setattr(a, k, saved[k])
        if a.squeeze is None:
            a.squeeze = saved.get('squeeze', 0.0)
        if a.mix is None:  # the data mix may be changed on resume (the stream is then a function of the new mix)
            a.mix = saved['mix']
        for k in ('lr', 'warmup'):  # the schedule continues unless told otherwise
            if getattr(a, k) is None:
                setattr(a, k, saved[k])
        start, hist = ck['step'], ck.get('history', [])
        print(f'resuming from {path} at step {start}', flush=True)
    a.lr = 1e-3 if a.lr is None else a.lr
    a.warmup = 300 if a.warmup is None else a.warmup
    a.squeeze = a.squeeze or 0.0
    opt = make_opt(a)
    model = build_model(opt)
    optim = torch.optim.Adam(model.parameters(), lr=a.lr)
    if ck is not None:
        model.load_state_dict(ck['model'])
        if 'optimizer' in ck:
            optim.load_state_dict(ck['optimizer'])
        else:
            a.rewarm_from = start
            print(f'no Adam state in the checkpoint: Adam restarts, lr ramps up over {a.rewarm} steps', flush=True)
    elif a.init:
        from widen_rec import widen
        init = torch.load(a.init, map_location='cpu', weights_only=False)
        s = init['args']
        model.load_state_dict(widen(init['model'], model.state_dict(), s['oc'], s['hidden'], a.oc, a.hidden))
        print(f'initialised from {a.init} (step {init["step"]}, {s["oc"]}/{s["hidden"]})', flush=True)
    nparam = sum(p.numel() for p in model.parameters())
    print(f'model {opt.output_channel}/{opt.hidden_size}: {nparam / 1e6:.3f} M parameters', flush=True)
    a.mix = a.mix or DEFAULT_MIX
    mix = {k: float(v) for k, v in (x.split(':') for x in a.mix.split(','))}
    print(f'data mix {mix}', flush=True)
    print(f'squeeze {a.squeeze}', flush=True)
    ds = Batches(a.seed, a.batch, mix, a.max_w, a.squeeze)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, sampler=range(start, 10 ** 9), num_workers=a.workers,
                                     prefetch_factor=8 if a.workers else None, persistent_workers=a.workers > 0)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    logf = open(os.path.join(a.out, 'log.jsonl'), 'a')
    best = max([h['mean'] for h in hist if h.get('kind') == 'val'] or [-1])
    t_ckpt = t_commit = time.time()
    t0, tw, n_seen, losses = time.time(), 0.0, 0, []
    model.train()
    step = start
    it = iter(dl)
    while step < a.steps:
        tw0 = time.time()
        parts = next(it)
        tw += time.time() - tw0
        for g in optim.param_groups:
            g['lr'] = lr_at(step, a)
        optim.zero_grad(set_to_none=True)
        nb = sum(p[0].shape[0] for p in parts)
        tot, ok = 0.0, True
        for x, targets, lengths, labels in parts:
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
                out = model(x)
            lp = out.float().log_softmax(2).permute(1, 0, 2)  # CTC in fp32
            T = lp.shape[0]
            # CTCLoss(reduction='mean') divides by target lengths, then averages over the sub-batch: weight by size
            loss = ctc(lp, targets, torch.full((x.shape[0],), T, dtype=torch.long), lengths) * (x.shape[0] / nb)
            if not torch.isfinite(loss):
                ok = False
                break
            loss.backward()
            tot += float(loss.detach())
        if ok:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optim.step()
        losses.append(tot)
        x = parts[-1][0]
        n_seen += nb
        step += 1
        if step % a.log_every == 0:
            dt = time.time() - t0
            rec = {'kind': 'train', 'step': step, 'loss': float(np.mean(losses)), 'lr': lr_at(step, a),
                   's_per_step': dt / len(losses), 'data_wait_s': tw / len(losses), 'samples': n_seen, 'width': x.shape[3],
                   'time': time.strftime('%H:%M:%S')}
            print(json.dumps(rec), flush=True)
            logf.write(json.dumps(rec) + '\n')
            logf.flush()
            hist.append(rec)
            t0, tw, n_seen, losses = time.time(), 0.0, 0, []
        if step % a.val_every == 0 or step == a.steps:
            tv = time.time()
            res = validate(model, a.max_w, 0 if step == a.steps else a.val_funsd)
            mean = float(np.mean([r['dtrb'] for r in res.values()]))
            rec = {'kind': 'val', 'step': step, 'mean': mean, **{k: v for k, v in res.items()},
                   'val_s': time.time() - tv, 'time': time.strftime('%H:%M:%S')}
            print(json.dumps(rec), flush=True)
            logf.write(json.dumps(rec) + '\n')
            logf.flush()
            hist.append(rec)
            if mean > best:
                best = mean
                save(os.path.join(a.out, 'best.pt'), model, optim, step, a, hist, slim=True)
            t0 = time.time()
        if time.time() - t_ckpt > a.ckpt_minutes * 60 or step == a.steps:
            save(os.path.join(a.out, 'last.pt'), model, optim, step, a, hist)
            t_ckpt = time.time()
        if a.commit_ckpt and (time.time() - t_commit > a.commit_minutes * 60 or step == a.steps):
            save(a.commit_ckpt, model, optim, step, a, hist, slim=True, half=True)  # small: it is committed
            print(f'wrote {a.commit_ckpt} at step {step}', flush=True)
            t_commit = time.time()
    print('done', flush=True)


if __name__ == '__main__':
    main()
