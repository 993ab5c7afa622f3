#!/usr/bin/env python3
"""Widen a trained compact CRNN (train_rec.py layout) without changing what it computes (Net2Net-style, zero fan-out).

Every old channel / hidden unit keeps its weights; a new one gets fresh initial incoming weights and ZERO outgoing
weights, so the widened network's outputs equal the old network's exactly at step 0 and training continues from
the trained model with more capacity (Chen, Goodfellow & Shlens, "Net2Net", ICLR 2016, the "random-init, zero
fan-out" variant). Used by `train_rec.py --init <narrow ckpt> --oc N --hidden N`.

    python3 tools/train/widen_rec.py tools/train/checkpoints/rec-last.pt --oc 192 --hidden 192   # check: max |diff|
"""
from __future__ import annotations

import torch


def vgg_channels(oc: int) -> list[int]:
    return [oc // 8, oc // 4, oc // 2, oc]


def _conv_io(oc: int) -> dict[str, tuple[int, int]]:
    """VGG_FeatureExtractor.ConvNet index -> (out, in) channel counts, in DTRB's order."""
    c = vgg_channels(oc)
    return {'0': (c[0], 1), '3': (c[1], c[0]), '6': (c[2], c[1]), '8': (c[2], c[2]),
            '11': (c[3], c[2]), '14': (c[3], c[3]), '18': (c[3], c[3])}


def _gates(old: torch.Tensor, new: torch.Tensor, h_old: int, h_new: int) -> torch.Tensor:
    """Put an LSTM tensor whose rows are 4 gate blocks (i, f, g, o) of h_old units into the h_new layout of `new`."""
    out = new.clone()
    for g in range(4):
        rows = slice(g * h_new, g * h_new + h_old)
        if old.dim() == 1:
            out[rows] = old[g * h_old:(g + 1) * h_old]
        else:  # old units read nothing from new inputs / new hidden units
            out[rows] = 0
            out[rows, :old.shape[1]] = old[g * h_old:(g + 1) * h_old]
    return out


def widen(old: dict, fresh: dict, oc_old: int, h_old: int, oc_new: int, h_new: int) -> dict:
    """`fresh` = state_dict of a newly initialised wide model; returns it with the old model embedded."""
    sd = {k: v.clone() for k, v in fresh.items()}
    io_old = _conv_io(oc_old)
    for i, (o, n) in io_old.items():
        k = f'FeatureExtraction.ConvNet.{i}.'
        w = sd[k + 'weight']
        w[:o] = 0  # old output channels read nothing from new input channels
        w[:o, :n] = old[k + 'weight']
        if k + 'bias' in old:
            sd[k + 'bias'][:o] = old[k + 'bias']
    for i in ('12', '15'):  # BatchNorm after convs 11 and 14
        k = f'FeatureExtraction.ConvNet.{i}.'
        o = io_old['11'][0]
        for p in ('weight', 'bias', 'running_mean', 'running_var'):
            sd[k + p][:o] = old[k + p]
        sd[k + 'num_batches_tracked'] = old[k + 'num_batches_tracked'].clone()
    for layer in ('0', '1'):
        k = f'SequenceModeling.{layer}.'
        for sfx in ('_l0', '_l0_reverse'):
            for p in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
                sd[k + 'rnn.' + p + sfx] = _gates(old[k + 'rnn.' + p + sfx], sd[k + 'rnn.' + p + sfx], h_old, h_new)
        # linear: input is [forward h | backward h]; old rows read the old units of each direction only
        w = sd[k + 'linear.weight']
        w[:h_old] = 0
        w[:h_old, :h_old] = old[k + 'linear.weight'][:, :h_old]
        w[:h_old, h_new:h_new + h_old] = old[k + 'linear.weight'][:, h_old:]
        sd[k + 'linear.bias'][:h_old] = old[k + 'linear.bias']
    w = sd['Prediction.weight']
    w[:] = 0
    w[:, :h_old] = old['Prediction.weight']
    sd['Prediction.bias'] = old['Prediction.bias'].clone()
    return sd


def main():
    import argparse
    import sys
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    from train_rec import make_opt, build_model
    ap = argparse.ArgumentParser()
    ap.add_argument('ckpt')
    ap.add_argument('--oc', type=int, default=192)
    ap.add_argument('--hidden', type=int, default=192)
    a = ap.parse_args()
    ck = torch.load(a.ckpt, map_location='cpu', weights_only=False)
    s = ck['args']
    narrow = build_model(make_opt(argparse.Namespace(oc=s['oc'], hidden=s['hidden'])))
    narrow.load_state_dict(ck['model'])
    wide = build_model(make_opt(a))
    wide.load_state_dict(widen(ck['model'], wide.state_dict(), s['oc'], s['hidden'], a.oc, a.hidden))
    narrow.eval(), wide.eval()
    x = torch.rand(4, 1, 32, 160)
    with torch.no_grad():
        d = (narrow(x) - wide(x)).abs().max().item()
    n = sum(p.numel() for p in wide.parameters())
    print(f'{s["oc"]}/{s["hidden"]} -> {a.oc}/{a.hidden} ({n / 1e6:.2f} M params): max |logit diff| {d:.2e}')


if __name__ == '__main__':
    main()
