#!/usr/bin/env python3
"""Train a compact CRAFT (width multiplier) on synthetic text; export ONNX.

    # train (resumable: re-run the same command with --resume to continue from <out>/last.pt)
    nice -n 19 python3 tools/train/train.py --out runs/w025 --width 0.25 --size 256 --batch 8 --steps 20000
    nice -n 19 python3 tools/train/train.py --out runs/w025 --resume
    # step-time benchmark (random tensors, no data generation)
    nice -n 19 python3 tools/train/train.py --bench 0.25,0.375,0.5 --bench-sizes 256,384 --batch 8
    # ONNX export of a checkpoint (input [N,3,H,W] -> y [N,H/2,W/2,2], feature [N,C,H/2,W/2]; opset 17)
    python3 tools/train/train.py --export runs/w025/model.onnx --resume runs/w025/best.pt

Loss: per image and per map (region, affinity), MSE over the positive pixels (GT >= 0.1) averaged, plus the
mean of the 3 * n_pos hardest negative pixels (all negatives if fewer; 500 if the image has no positive) --
online hard-negative mining 1:3 as in the CRAFT paper. Adam, linear warm-up then cosine decay.
Validation: a fixed synthetic set (split 'val', its own seed stream), loss and ICDAR 2015 H-mean via a Python
port of getDetBoxes (evalpy.py) at the default thresholds 0.7 / 0.4 / 0.4; optional real development sets
(--eval-real DIR ...; never used for training) for monitoring only.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'craft_torch'))
from model import CRAFT  # noqa: E402  (tools/craft_torch/model.py)
import evalpy  # noqa: E402
from nninit import kaiming_init  # noqa: E402


# ---------------------------------------------------------------------------------------------------------------
# model / loss

def build_model(width: float) -> CRAFT:
    m = CRAFT(width)
    kaiming_init(m)
    last = m.conv_cls[-1]
    nn.init.normal_(last.weight, std=1e-3)
    nn.init.zeros_(last.bias)
    return m


def ohem_mse(pred: torch.Tensor, gt: torch.Tensor, ratio: float = 3.0, pos_thr: float = 0.1,
             empty_k: int = 500) -> torch.Tensor:
    """pred, gt: [N,H,W,2]. Sum over the 2 maps of (mean positive loss + mean of the k hardest negatives)."""
    n = pred.shape[0]
    loss = (pred - gt) ** 2
    total = pred.new_zeros(())
    for c in range(2):
        lc = loss[..., c].reshape(n, -1)
        gc = gt[..., c].reshape(n, -1)
        pos = gc >= pos_thr
        for i in range(n):
            p = pos[i]
            npos = int(p.sum())
            neg = lc[i][~p]
            if npos > 0:
                total = total + lc[i][p].mean()
                k = min(neg.numel(), int(ratio * npos))
            else:
                k = min(neg.numel(), empty_k)
            if k > 0:
                total = total + torch.topk(neg, k, sorted=False).values.mean()
    return total / n


def lr_at(step: int, base: float, total: int, warmup: int, final_frac: float = 0.02) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * t)))


# ---------------------------------------------------------------------------------------------------------------
# data

class RangeSampler(torch.utils.data.Sampler):
    """Sequential indices start..end: sample i of the run is synthetic sample i -> deterministic, resumable."""

    def __init__(self, start: int, end: int):
        self.start, self.end = start, end

    def __iter__(self):
        return iter(range(self.start, self.end))

    def __len__(self):
        return self.end - self.start


class ShardDataset(torch.utils.data.Dataset):
    """Pre-generated npz shards (synth.py --shards): index i -> sample i mod total (epochs over the pool)."""

    def __init__(self, root: str):
        self.files = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith('.npz'))
        if not self.files:
            raise SystemExit(f'no .npz shards in {root}')
        with np.load(self.files[0]) as z:
            self.per = len(z['images'])
        self.total = self.per * len(self.files)
        self._cache = (None, None)

    def __len__(self):
        return 10 ** 12

    def __getitem__(self, i):
        j = i % self.total
        f = self.files[j // self.per]
        if self._cache[0] != f:
            with np.load(f) as z:
                self._cache = (f, (z['images'], z['maps']))
        imgs, maps = self._cache[1]
        k = j % self.per
        x = torch.from_numpy(((imgs[k].astype(np.float32) - evalpy.MEAN) / evalpy.STD).transpose(2, 0, 1).copy())
        y = torch.from_numpy(maps[k].astype(np.float32) / 255)
        return x, y


def worker_init(_):
    torch.set_num_threads(1)
    import cv2
    cv2.setNumThreads(1)


def make_loader(args, start_index: int, end_index: int):
    if args.shards:
        ds = ShardDataset(args.shards)
    else:
        from synth import make_dataset
        # --wide-scale 0 (the default, and what runs saved before it had) keeps the original sample stream.
        ds = make_dataset(args.size, args.seed, 'train', wide_scale_p=getattr(args, 'wide_scale', 0.0))
    kw = {}
    if args.workers > 0:
        kw = {'persistent_workers': False, 'prefetch_factor': 4, 'worker_init_fn': worker_init}
    return torch.utils.data.DataLoader(ds, batch_size=args.batch, sampler=RangeSampler(start_index, end_index),
                                       num_workers=args.workers, drop_last=True, **kw)


def make_val_set(size: int, n: int, seed: int):
    """Fixed synthetic validation set: images, GT maps, GT word boxes (words cut by the border = don't care)."""
    from synth import Synth, normalize_mean_variance
    import cv2
    s = Synth(size, seed)
    xs, ys, words = [], [], []
    for i in range(n):
        smp = s.sample(i, 'val')
        xs.append(normalize_mean_variance(smp['image']).transpose(2, 0, 1))
        ys.append(np.stack([smp['region'], smp['affinity']], -1))
        ws = []
        for q in smp['words']:
            pts = q.reshape(-1, 2).astype(np.float32)
            box = cv2.boxPoints(cv2.minAreaRect(pts))
            inside = (pts.min() >= 0) and (pts[:, 0].max() <= size) and (pts[:, 1].max() <= size)
            ws.append((box.tolist(), not inside))
        words.append(ws)
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)), words


@torch.no_grad()
def validate(model, val, batch: int = 8) -> dict:
    xs, ys, words = val
    model.eval()
    losses, tm, tg, td = [], 0, 0, 0
    for i in range(0, len(xs), batch):
        y, _ = model(xs[i:i + batch])
        losses.append(ohem_mse(y, ys[i:i + batch]).item() * len(y))
        y = y.numpy()
        for j in range(len(y)):
            det = [b * 2 for b in evalpy.det_boxes(y[j, ..., 0], y[j, ..., 1])]
            ws = words[i + j]
            m, g, d = evalpy.score_iou([w[0] for w in ws], [w[1] for w in ws], det)
            tm, tg, td = tm + m, tg + g, td + d
    model.train()
    out = evalpy.prf(tm, tg, td)
    out['loss'] = sum(losses) / len(xs)
    return out


# ---------------------------------------------------------------------------------------------------------------
# checkpoints / export

def save_ckpt(path: str, model, opt, step: int, args, history: dict, slim: bool = False):
    state = {'model': model.state_dict(), 'width': args.width, 'step': step, 'args': vars(args),
             'history': history}
    if not slim:
        state['optim'] = opt.state_dict()
    tmp = path + '.tmp'
    torch.save(state, tmp)
    os.replace(tmp, path)


def export_onnx(model: CRAFT, path: str, meta: dict | None = None):
    model.eval()
    x = torch.randn(1, 3, 256, 320)
    axes = {'input': {0: 'N', 2: 'H', 3: 'W'}, 'y': {0: 'N', 1: 'H2', 2: 'W2'},
            'feature': {0: 'N', 2: 'H2', 3: 'W2'}}
    torch.onnx.export(model, (x,), path, input_names=['input'], output_names=['y', 'feature'], dynamic_axes=axes,
                      opset_version=17, dynamo=False, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    if meta:
        for k, v in meta.items():
            p = m.metadata_props.add()
            p.key, p.value = k, str(v)
        onnx.save(m, path)
    onnx.checker.check_model(m)
    # verify against torch at another size
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
        x2 = torch.randn(2, 3, 352, 224)
        with torch.no_grad():
            ref, feat = model(x2)
        got = sess.run(None, {'input': x2.numpy()})
        err = max(float(np.abs(got[0] - ref.numpy()).max()), float(np.abs(got[1] - feat.numpy()).max()))
        print(f'onnx: {path} ({os.path.getsize(path) / 1e6:.2f} MB), max |onnxruntime - torch| = {err:.2e}')
    except ImportError:
        print(f'onnx: {path} written (onnxruntime not installed: not verified)')


# ---------------------------------------------------------------------------------------------------------------
# benchmark

def bench(widths, sizes, batch: int, steps: int, threads: int):
    """Training step time per (width, crop) on random tensors. Configurations are interleaved round-robin (one
    step each per round) so that load from other processes hits all of them alike; reports median and min."""
    torch.set_num_threads(threads)
    cfgs = []
    for s in sizes:
        for w in widths:
            torch.manual_seed(0)
            m = build_model(w)
            opt = torch.optim.Adam(m.parameters(), lr=1e-4)
            x = torch.randn(batch, 3, s, s)
            y = torch.rand(batch, s // 2, s // 2, 2) * (torch.rand(batch, s // 2, s // 2, 2) > 0.8)
            cfgs.append({'w': w, 's': s, 'm': m, 'opt': opt, 'x': x, 'y': y, 't': []})
    for r in range(steps + 1):
        for c in cfgs:
            t = time.perf_counter()
            pred, _ = c['m'](c['x'])
            loss = ohem_mse(pred, c['y'])
            c['opt'].zero_grad(set_to_none=True)
            loss.backward()
            c['opt'].step()
            if r >= 1:  # round 0 = warm-up
                c['t'].append(time.perf_counter() - t)
    rows = []
    for c in cfgs:
        m = c['m']
        m.eval()
        with torch.no_grad():
            xi = torch.randn(1, 3, 768, 768)
            m(xi)
            ti = []
            for _ in range(2):
                t = time.perf_counter()
                m(xi)
                ti.append(time.perf_counter() - t)
        row = {'width': c['w'], 'size': c['s'], 'batch': batch,
               'params_M': round(sum(p.numel() for p in m.parameters()) / 1e6, 3),
               'step_s_median': round(float(np.median(c['t'])), 3), 'step_s_min': round(float(np.min(c['t'])), 3),
               'infer_768_s_min': round(min(ti), 3), 'load_avg': round(os.getloadavg()[0], 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description='train a compact CRAFT on synthetic text')
    ap.add_argument('--out', default=os.path.join(HERE, 'runs', 'craft'))
    ap.add_argument('--width', type=float, default=0.25)
    ap.add_argument('--size', type=int, default=256, help='training crop (multiple of 32)')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=20000)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--warmup', type=int, default=300)
    ap.add_argument('--weight-decay', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--workers', type=int, default=1, help='DataLoader workers generating samples on the fly')
    ap.add_argument('--threads', type=int, default=2, help='torch threads in the training process')
    ap.add_argument('--shards', default=None, help='train from pre-generated npz shards instead')
    ap.add_argument('--wide-scale', type=float, default=0.0,
                    help='share of samples rescaled to character heights 6-200 px (synth.wide_scale; issue 17)')
    ap.add_argument('--val-n', type=int, default=96)
    ap.add_argument('--val-size', type=int, default=512)
    ap.add_argument('--val-every', type=int, default=500)
    ap.add_argument('--ckpt-every', type=int, default=250)
    ap.add_argument('--log-every', type=int, default=25)
    ap.add_argument('--eval-real', nargs='*', default=[], help='development sets to monitor (never trained on)')
    ap.add_argument('--eval-real-every', type=int, default=0)
    ap.add_argument('--eval-real-limit', type=int, default=0)
    ap.add_argument('--resume', nargs='?', const='', default=None,
                    help='resume from <out>/last.pt (or the given checkpoint; a slim one restarts Adam)')
    ap.add_argument('--export', default=None, help='export ONNX from --resume checkpoint (or <out>/best.pt) and exit')
    ap.add_argument('--meta', nargs='*', default=[], help='ONNX metadata key=value (with --export)')
    ap.add_argument('--bench', default=None, help='comma-separated widths: time training steps and exit')
    ap.add_argument('--bench-sizes', default='256,384')
    ap.add_argument('--bench-steps', type=int, default=4)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    if args.bench:
        bench([float(w) for w in args.bench.split(',')], [int(s) for s in args.bench_sizes.split(',')],
              args.batch, args.bench_steps, args.threads)
        return

    ckpt = None
    if args.resume is not None or args.export:
        path = args.resume or os.path.join(args.out, 'best.pt' if args.export else 'last.pt')
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
        print(f'loaded {path} (step {ckpt["step"]}, width {ckpt["width"]})')
        if not args.export:  # continue with the run's own settings, unless overridden on the command line
            saved = ckpt['args']
            given = {a.split('=')[0] for a in (argv if argv is not None else sys.argv[1:]) if a.startswith('--')}
            for k, v in saved.items():
                if '--' + k.replace('_', '-') not in given and k not in ('resume', 'export', 'out'):
                    setattr(args, k, v)
        args.width = ckpt['width']

    torch.manual_seed(args.seed)
    model = build_model(args.width)
    if ckpt is not None:
        model.load_state_dict(ckpt['model'])
    if args.export:
        meta = dict(kv.split('=', 1) for kv in args.meta)
        export_onnx(model, args.export, meta)
        return

    os.makedirs(args.out, exist_ok=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step = 0
    history = {'val': [], 'real': [], 'best_hmean': -1.0}
    if ckpt is not None:
        step = ckpt['step']
        history = ckpt.get('history', history)
        if 'optim' in ckpt:
            opt.load_state_dict(ckpt['optim'])
        else:
            print('slim checkpoint: Adam state restarts (short warm-up)')
            args.warmup_restart = step
    nparam = sum(p.numel() for p in model.parameters())
    print(f'CRAFT width {args.width}: {nparam / 1e6:.3f} M parameters; crop {args.size}, batch {args.batch}, '
          f'steps {step}->{args.steps}', flush=True)
    with open(os.path.join(args.out, 'args.json'), 'w') as fh:
        json.dump(vars(args), fh, indent=1)
    log = open(os.path.join(args.out, 'log.jsonl'), 'a')

    t0 = time.time()
    val = make_val_set(args.val_size, args.val_n, args.seed)
    print(f'validation set: {args.val_n} x {args.val_size}px ({time.time() - t0:.0f}s)', flush=True)

    def do_val():
        t = time.time()
        v = validate(model, val)
        v.update(step=step, secs=round(time.time() - t, 1))
        history['val'].append(v)
        line = {'kind': 'val', **v}
        print(json.dumps(line), flush=True)
        log.write(json.dumps(line) + '\n')
        log.flush()
        if v['hmean'] > history['best_hmean']:
            history['best_hmean'] = v['hmean']
            save_ckpt(os.path.join(args.out, 'best.pt'), model, opt, step, args, history, slim=True)
        if args.eval_real and args.eval_real_every and step % args.eval_real_every == 0:
            model.eval()
            for root in args.eval_real:
                for inv in (False, True):
                    r = evalpy.eval_dataset(model, root, limit=args.eval_real_limit or None, invert=inv)
                    rl = {'kind': 'real', 'set': os.path.basename(root.rstrip('/')), 'inverted': inv, 'step': step,
                          **r}
                    history['real'].append(rl)
                    print(json.dumps(rl), flush=True)
                    log.write(json.dumps(rl) + '\n')
            model.train()
            log.flush()

    loader = make_loader(args, step * args.batch, args.steps * args.batch)
    model.train()
    warm_restart = getattr(args, 'warmup_restart', None)
    run_loss, run_n, t_last, data_wait = 0.0, 0, time.time(), 0.0
    t_fetch = time.time()
    for x, y in loader:
        data_wait += time.time() - t_fetch
        lr = lr_at(step, args.lr, args.steps, args.warmup)
        if warm_restart is not None and step - warm_restart < 100:
            lr *= (step - warm_restart + 1) / 100
        for g in opt.param_groups:
            g['lr'] = lr
        if not torch.isfinite(y).all() or not torch.isfinite(x).all():
            # A bad sample must never poison the weights: skip the batch (the step counter still advances so a
            # resumed run sees the same sample stream).
            print(json.dumps({'kind': 'skip', 'step': step, 'why': 'non-finite input or target'}), flush=True)
            step += 1
            t_fetch = time.time()
            continue
        pred, _ = model(x)
        loss = ohem_mse(pred, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        run_loss += loss.item()
        run_n += 1
        if step % args.log_every == 0:
            dt = time.time() - t_last
            line = {'kind': 'train', 'step': step, 'loss': round(run_loss / run_n, 5), 'lr': lr,
                    's_per_step': round(dt / run_n, 3), 'data_wait_s': round(data_wait / run_n, 3),
                    'elapsed_h': round((time.time() - t0) / 3600, 3)}
            print(json.dumps(line), flush=True)
            log.write(json.dumps(line) + '\n')
            log.flush()
            run_loss, run_n, t_last, data_wait = 0.0, 0, time.time(), 0.0
        if step % args.ckpt_every == 0 or step == args.steps:
            save_ckpt(os.path.join(args.out, 'last.pt'), model, opt, step, args, history)
            save_ckpt(os.path.join(args.out, 'last_slim.pt'), model, opt, step, args, history, slim=True)
        if step % args.val_every == 0 or step == args.steps:
            do_val()
        if step >= args.steps:
            break
        t_fetch = time.time()
    export_onnx(model, os.path.join(args.out, 'last.onnx'))
    log.close()


if __name__ == '__main__':
    main()
