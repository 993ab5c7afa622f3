#!/usr/bin/env python3
"""Checkpoint averaging for the recogniser: the uniform weight average of snapshots along the end of a run.

Stochastic weight averaging (Izmailov et al., "Averaging Weights Leads to Wider Optima and Better Generalization",
UAI 2018; with one fine-tuning lineage a "uniform soup", Wortsman et al., ICML 2022): the mean of the weights of K
checkpoints of one run lies in the same basin nearer its centre and often generalises better than any one of them,
at no inference cost. The average of BatchNorm's running statistics is not the statistics of the averaged network,
so they are re-estimated (SWA's `bn_update`, torch.optim.swa_utils.update_bn): the network in train mode without
gradients over training batches (train_rec.Batches, the run's own seed, mix and width limit, stream positions from
--bn-start, which no run reaches), each BatchNorm reset with momentum None (a cumulative mean over the forward passes).

    # the checkpoint to ship: the snapshots in the last third of the steps they span (the first snapshot = the
    # run's start), BN re-estimated on 512 crops
    python3 tools/train/avg_rec.py SNAPDIR/rec256-*.pt --tail 1/3 --out tools/train/runs/avg/rec256-avg.pt
    tools/train/ship_rec.sh tools/train/runs/avg/rec256-avg.pt
    python3 tools/train/avg_rec.py SNAPSHOTS... --last 4 --out avg.pt     # or --steps 15000,16000 / --from-step 15000
    # dev table: the newest snapshot and the averages of the newest 2, 3, ... (--ks), with and without BN
    # re-estimation; the selection (--tail ...) is marked
    python3 tools/train/avg_rec.py SNAPSHOTS... --tail 1/3 --sweep --json tools/train/runs/avg/sweep.json
    python3 tools/train/avg_rec.py --check     # self-check on random weights (no data, no snapshots)

Checkpoints are train_rec.py's ({'model', 'step', 'args', ...}; fp16 or fp32, averaged in fp32); all must have the
same architecture. Every float tensor is averaged, BatchNorm's running mean / var included (the "no BN" rows);
integer buffers (num_batches_tracked) are the newest snapshot's. The output holds 'model' (fp32), 'step' (the newest
snapshot's, which the ONNX metadata reports as craft.recognizer.trainedSteps), 'args' (the newest snapshot's: the
network, seed, mix) and 'averaged' (the steps and files, the BN crops): what `train_rec.py --export` and
tools/train/ship_rec.sh read, and `train_rec.py --resume` too (restarting Adam, like the slim checkpoints).

Evaluation (--sweep) is eval_rec.py's protocol in torch: the whole dev parts (recdata.dev_samples: ICDAR 2013
842, FUNSD 4,415, ICDAR 2015 1,000 words), the runtime's width buckets (eval_rec.buckets, the exported model's
maximum width 2048), greedy CTC, recdata.scores (DTRB accuracy, exact, 1 - NED). The dev sets only report; the K to
ship is a rule fixed before looking (--tail 1/3: the snapshots of the last third of the run), not the dev-best K.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import sys
import time
from fractions import Fraction

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_rec as T  # noqa: E402
import recdata as R  # noqa: E402

# The BN statistics are means over (crop, height, width) positions: at conv 5 / 6 the feature map is 2 rows by
# W/4 columns, ~80 positions per crop, so 512 crops (16 training batches, ~65 sub-batch passes) are ~40,000 positions
# per channel. Measured: their means / variances are within ~1 % (median channel) of a 4,096-crop estimate, closer
# than the training's own running average is, and 256-2,048 crops gave the same dev accuracy
# (docs/recognizer-training.md#checkpoint-averaging-toolstrainavg_recpy).
BN_CROPS = 512
BN_START = 10 ** 8  # stream position of the first BN batch: the same distribution as training, no step of a run
EVAL_MAX_W = 2048  # tools/str_torch/export.py DEFAULT_MAX_WIDTH: the exported model's craft.recognizer.imgW


def load(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)


def select(ckpts: list[dict], last: int | None = None, steps: list[int] | None = None,
           from_step: int | None = None, tail: Fraction | float | None = None) -> list[dict]:
    """Sorted by step; the newest `last`, those of `steps`, those at or after `from_step`, or those in the last
    `tail` fraction of the steps the checkpoints span (first step = the run's start, newest = its end)."""
    ckpts = sorted(ckpts, key=lambda c: c['step'])
    if tail is not None:
        if not 0 < tail <= 1:
            raise ValueError(f'tail {tail}: a fraction in (0, 1]')
        lo, hi = ckpts[0]['step'], ckpts[-1]['step']
        from_step = max(from_step or lo, math.ceil(hi - tail * (hi - lo)))
    if len({c['step'] for c in ckpts}) != len(ckpts):
        raise ValueError('two checkpoints of the same step')
    if steps is not None:
        have = {c['step']: c for c in ckpts}
        missing = [s for s in steps if s not in have]
        if missing:
            raise ValueError(f'no checkpoint of step(s) {missing} (have {sorted(have)})')
        ckpts = [have[s] for s in sorted(steps)]
    if from_step is not None:
        ckpts = [c for c in ckpts if c['step'] >= from_step]
    if last is not None:
        ckpts = ckpts[-last:]
    if not ckpts:
        raise ValueError('no checkpoint selected')
    return ckpts


def average(state_dicts: list[dict]) -> dict:
    """Uniform mean of the float tensors (fp32, summed in fp64); integer buffers of the last (newest) state dict."""
    first = state_dicts[-1]
    for sd in state_dicts:
        if sd.keys() != first.keys():
            raise ValueError('checkpoints of different architectures (state dict keys differ)')
        for k, v in sd.items():
            if v.shape != first[k].shape:
                raise ValueError(f'{k}: shape {tuple(v.shape)} vs {tuple(first[k].shape)}')
    out = {}
    for k, v in first.items():
        if v.is_floating_point():
            out[k] = (sum(sd[k].double() for sd in state_dicts) / len(state_dicts)).float()
        else:
            out[k] = v.clone()
    return out


def build(args: dict, state_dict: dict | None = None):
    model = T.Model(T.make_opt(argparse.Namespace(**args)))
    if state_dict is not None:
        model.load_state_dict(state_dict)
    return model.eval()


def bn_batches(args: dict, crops: int = BN_CROPS, start: int = BN_START) -> list[torch.Tensor]:
    """Input tensors of training batches (the run's Batches stream, its sub-batches of similar width) until `crops`
    crops are collected; the last batch is trimmed."""
    ds = T.Batches(args['seed'], args['batch'], {k: float(v) for k, v in (x.split(':') for x in args['mix'].split(','))},
                   args['max_w'])
    xs, n, step = [], 0, start
    while n < crops:
        for x, *_ in ds[step]:
            x = x[:crops - n]
            if len(x):
                xs.append(x)
                n += len(x)
        step += 1
    return xs


def recompute_bn(model, xs: list[torch.Tensor]):
    """SWA's bn_update: every BatchNorm's running statistics become the cumulative mean over the forward passes of
    `xs` with the network in train mode (no gradients); weights are untouched. Returns the model in eval mode."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for x in xs:
            model(x)
    for m, mo in zip(bns, momenta):
        m.momentum = mo
    return model.eval()


def make_checkpoint(ckpts: list[dict], paths: list[str] | None = None, bn_xs: list[torch.Tensor] | None = None) -> dict:
    newest = ckpts[-1]
    for c in ckpts:
        if (c['args']['oc'], c['args']['hidden']) != (newest['args']['oc'], newest['args']['hidden']):
            raise ValueError(f'step {c["step"]}: network {c["args"]["oc"]}/{c["args"]["hidden"]}, '
                             f'newest {newest["args"]["oc"]}/{newest["args"]["hidden"]}')
    sd = average([c['model'] for c in ckpts])
    bn = 0
    if bn_xs:
        model = recompute_bn(build(newest['args'], sd), bn_xs)
        sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bn = sum(len(x) for x in bn_xs)
    a = newest['args']
    return {'model': sd, 'step': newest['step'], 'args': a, 'arch': {'oc': a['oc'], 'hidden': a['hidden']},
            'averaged': {'steps': [c['step'] for c in ckpts], 'files': paths or [], 'bn_crops': bn}}


# ---------------------------------------------------------------------------------------------------------------
# evaluation (eval_rec.py's protocol, torch)

def dev_buckets(sets: list[str], max_w: int = EVAL_MAX_W) -> dict:
    from eval_rec import buckets
    out = {}
    for name in sets:
        samples = R.dev_samples(name)
        out[name] = (buckets([s[0] for s in samples], max_w), [s[1] for s in samples])
    return out


def evaluate(model, dev: dict) -> dict:
    model.eval()
    res = {}
    with torch.no_grad():
        for name, (batches, gts) in dev.items():
            preds = [''] * len(gts)
            for ids, x in batches:
                for j, s in zip(ids, R.ctc_greedy(model(torch.from_numpy(x)).numpy(), T.CHARSET)):
                    preds[j] = s
            res[name] = R.scores(preds, gts)
    res['mean'] = float(np.mean([res[n]['dtrb'] for n in dev]))
    return res


def row(label: str, res: dict, sets: list[str]) -> str:
    cells = ' | '.join(f'{res[n]["dtrb"]:.3f} / {res[n]["exact"]:.3f} / {res[n]["ned"]:.3f}' for n in sets)
    return f'| {label} | {cells} | {res["mean"]:.4f} |'


def sweep(ckpts: list[dict], ks: list[int], dev: dict, bn_xs, out_json: str | None,
          selected: list[dict] | None = None) -> list[dict]:
    """The newest snapshot and the averages of the newest K, each with its averaged BN statistics and re-estimated;
    `selected` (the --last / --steps / --from-step / --tail selection) is marked, or added when not a newest K."""
    sets = list(dev)
    sel_steps = [c['step'] for c in selected] if selected else None
    jobs = [ckpts[-k:] for k in ks]
    if sel_steps and sel_steps not in [[c['step'] for c in j] for j in jobs]:
        jobs.append(selected)
    print(f'| snapshots (steps) | ' + ' | '.join(f'{n} DTRB / exact / 1-NED' for n in sets) + ' | mean DTRB |',
          flush=True)
    print('|---|' + '---|' * len(sets) + '---|', flush=True)
    rows = []
    for sel in jobs:
        k, steps = len(sel), [c['step'] for c in sel]
        span = f'{steps[0]}' if k == 1 else f'{steps[0]}-{steps[-1]}'
        suffix = steps == [c['step'] for c in ckpts[-k:]]
        name = (f'newest ({span})' if k == 1 else f'last {k} ({span})') if suffix else f'{k} selected ({span})'
        if steps == sel_steps:
            name = f'**{name}, the selection**'
        for bn in ((False, True) if bn_xs else (False,)):
            t = time.time()
            ck = make_checkpoint(sel, bn_xs=bn_xs if bn else None)
            res = evaluate(build(ck['args'], ck['model']), dev)
            label = name + (', BN re-estimated' if bn else '')
            print(row(label, res, sets) + f' <!-- {time.time() - t:.0f} s -->', flush=True)
            rows.append({'k': k, 'steps': steps, 'bn': bn, 'selected': steps == sel_steps, **res})
            if out_json:
                os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
                with open(out_json, 'w') as fh:
                    json.dump(rows, fh, indent=1)
    return rows


# ---------------------------------------------------------------------------------------------------------------

def self_check() -> None:
    """On random weights, no data: the average of one state dict is itself; of two, their mean (float tensors,
    BN statistics included; integer buffers the newest's); BN re-estimation changes the running statistics to the
    inputs' per-channel moments and no parameter; the averaged checkpoint exports-loads into the network."""
    torch.manual_seed(0)
    args = {'oc': 32, 'hidden': 32, 'seed': 0, 'batch': 4, 'max_w': 128, 'mix': 'synth:1'}
    nets = []
    for i in range(2):
        m = T.build_model(T.make_opt(argparse.Namespace(**args)))
        for b in m.modules():
            if isinstance(b, torch.nn.BatchNorm2d):
                b.running_mean.uniform_(-1, 1)
                b.running_var.uniform_(0.5, 2)
                b.num_batches_tracked.fill_(10 + i)
        nets.append({'model': m.state_dict(), 'step': 100 * (i + 1), 'args': args})
    one = average([nets[0]['model']])
    assert all(torch.equal(one[k], v) for k, v in nets[0]['model'].items()), 'average of one is not itself'
    two = average([n['model'] for n in nets])
    for k, v in two.items():
        a, b = nets[0]['model'][k], nets[1]['model'][k]
        if v.is_floating_point():
            assert torch.allclose(v, (a + b) / 2, atol=1e-7), k
        else:
            assert torch.equal(v, b), f'{k}: not the newest integer buffer'
    print(f'average: 1 -> itself, 2 -> mean over {len(two)} tensors')
    ck = make_checkpoint(nets)  # steps 100, 200: the newest is the last
    assert ck['step'] == 200 and ck['averaged']['steps'] == [100, 200] and ck['averaged']['bn_crops'] == 0
    # BN re-estimation: the stats of an input stream whose moments are known at the BN layers' inputs are hard to
    # set up through the convs, so compare with the moments computed from a forward hook
    xs = [torch.rand(3, 1, 32, 64) * 2 - 1 for _ in range(4)]
    model = build(args, ck['model'])
    seen = {}
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    hooks = [b.register_forward_hook(lambda mod, inp, out, i=i: seen.setdefault(i, []).append(inp[0].detach()))
             for i, b in enumerate(bns)]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    recompute_bn(model, xs)
    for h in hooks:
        h.remove()
    after = model.state_dict()
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]), f'{name}: a parameter changed'
    for i, b in enumerate(bns):
        mean = torch.stack([t.mean((0, 2, 3)) for t in seen[i]]).mean(0)
        var = torch.stack([t.var((0, 2, 3), unbiased=True) for t in seen[i]]).mean(0)
        assert torch.allclose(b.running_mean, mean, atol=1e-5), f'BN {i}: running mean is not the batches\' mean'
        assert torch.allclose(b.running_var, var, rtol=1e-4, atol=1e-6), f'BN {i}: running var'
        assert int(b.num_batches_tracked) == len(xs) and b.momentum == 0.1 and not b.training
    changed = [k for k in before if 'running' in k and not torch.equal(before[k], after[k])]
    assert len(changed) == 2 * len(bns), changed
    print(f'BN re-estimation: {len(bns)} layers\' running stats = the mean of the {len(xs)} batches\' moments, '
          f'{sum(1 for _ in model.parameters())} parameters unchanged')
    bn_ck = make_checkpoint(nets, bn_xs=xs)
    assert bn_ck['averaged']['bn_crops'] == 12
    assert all(torch.equal(bn_ck['model'][k], after[k]) for k in after), 'make_checkpoint(bn_xs) differs'
    build(bn_ck['args'], bn_ck['model'])
    print('self-check passed')


def steps_of(paths: list[str]) -> list[str]:
    """Expanded globs sorted by the step in the file name (rec256-9500.pt before rec256-11000.pt)."""
    out = sorted({p for pat in paths for p in (glob.glob(pat) or [pat])},
                 key=lambda p: [int(s) if s.isdigit() else s for s in re.split(r'(\d+)', os.path.basename(p))])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('checkpoints', nargs='*', help='train_rec.py checkpoints (snapshots of one run; globs expanded)')
    ap.add_argument('--last', type=int, help='the newest K')
    ap.add_argument('--steps', help='comma-separated steps to average')
    ap.add_argument('--from-step', type=int, help='the checkpoints at or after this step')
    ap.add_argument('--tail', type=Fraction, help='the checkpoints in this last fraction of the steps they span '
                    '(1/3: the last third of a run whose first snapshot is its start)')
    ap.add_argument('--bn-crops', type=int, default=BN_CROPS, help=f'crops for BN re-estimation (0 = keep the '
                    f'averaged statistics; default {BN_CROPS})')
    ap.add_argument('--bn-start', type=int, default=BN_START, help='stream position of the first BN batch')
    ap.add_argument('--out', help='averaged checkpoint to write (train_rec.py --export / ship_rec.sh read it)')
    ap.add_argument('--sweep', action='store_true', help='dev table: newest K = 1, 2, ... (--ks), BN off / on')
    ap.add_argument('--ks', help='comma-separated K for --sweep (default 1..all)')
    ap.add_argument('--sets', default='ic13,funsd,ic15')
    ap.add_argument('--json', help='--sweep rows as JSON')
    ap.add_argument('--check', action='store_true', help='self-check on random weights')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.check:
        self_check()
        return
    paths = steps_of(a.checkpoints)
    if not paths:
        ap.error('no checkpoints')
    if not a.out and not a.sweep:
        ap.error('--out and/or --sweep')
    loaded = [(p, load(p)) for p in paths]
    by_step = {c['step']: p for p, c in loaded}
    everything = select([c for _, c in loaded])
    chosen = any(v is not None for v in (a.last, a.steps, a.from_step, a.tail))
    ckpts = select(everything, a.last, [int(s) for s in a.steps.split(',')] if a.steps else None,
                   a.from_step, a.tail)
    print(f'{len(ckpts)} of {len(everything)} checkpoint(s) selected, steps {[c["step"] for c in ckpts]}', flush=True)
    t = time.time()
    bn_xs = bn_batches(ckpts[-1]['args'], a.bn_crops, a.bn_start) if a.bn_crops > 0 else None
    if bn_xs:
        print(f'BN batches: {sum(len(x) for x in bn_xs)} crops in {len(bn_xs)} forward passes '
              f'({time.time() - t:.0f} s)', flush=True)
    if a.out:
        ck = make_checkpoint(ckpts, [by_step[c['step']] for c in ckpts], bn_xs)
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        tmp = a.out + '.tmp'
        torch.save(ck, tmp)
        os.replace(tmp, a.out)
        print(f'averaged steps {ck["averaged"]["steps"]} (BN re-estimated on {ck["averaged"]["bn_crops"]} crops): '
              f'{a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB)', flush=True)
    if a.sweep:
        # over all the given checkpoints; the selection (if any) is one of the rows
        ks = [int(k) for k in a.ks.split(',')] if a.ks else list(range(1, len(everything) + 1))
        ks = [k for k in ks if 1 <= k <= len(everything)]
        dev = dev_buckets(a.sets.split(','))
        sweep(everything, ks, dev, bn_xs, a.json, ckpts if chosen else None)


if __name__ == '__main__':
    main()
