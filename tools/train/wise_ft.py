#!/usr/bin/env python3
"""WiSE-FT: weight-space ensembling of a detector and its fine-tuned descendant.

Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022: theta(alpha) = (1 - alpha) theta_base +
alpha theta_finetuned, for two models of one lineage (the fine-tune started from the base, so both share a basin),
keeps much of the fine-tune's in-distribution gain and the base's robustness out of it, at no inference cost.
Here the base is the synthetic model and the fine-tune a weak run on the train pages of the dev sets (docs/training.md,
issue 17): the gain is the dev pages' box convention, the robustness the scale range and the character boxes.

    python3 tools/train/wise_ft.py --base tools/train/checkpoints/w025-step10500.pt \
        --finetuned tools/train/checkpoints/weak2-step900.pt --alpha 0.5 --out /tmp/wise/a05.pt [--onnx a05.onnx]
    python3 tools/train/wise_ft.py --check      # alpha 0 and 1 give the endpoints' outputs (no data needed)

Checkpoints are train.py's layout ({'model', 'width', 'step', 'args', 'history'}), fp16 or fp32, loaded as train.py
and weak.py do (into fp32). Every float tensor is interpolated, BatchNorm's running mean/var included (as the paper
does with the whole state dict); integer buffers (num_batches_tracked) are the fine-tuned model's. The output is a
slim checkpoint (no Adam state) that `train.py --export` and ship.sh read; --half stores fp16 as the committed ones,
but a tensor with values beyond fp16's range (65504) stays fp32.

fp16 overflow: the bundled model's upconv1.conv.1.running_var reaches 2.9e5, so the committed fp16 weak-run
checkpoints hold inf in ~105 of its 128 channels (those channels are constant, beta, in eval mode; a run initialised
from such a checkpoint keeps inf there, since the running update of inf is inf, while its training forward uses batch
statistics). Non-finite entries of the fine-tuned model are taken as base x the median fine-tuned/base ratio of that
tensor's finite entries (weak2: 1.14, range 0.87-1.58), so the interpolation does not carry the inf; alpha 1 is the
fine-tuned model with that repair.
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import build_model, export_onnx  # noqa: E402


def load(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)


def repair(base: dict, finetuned: dict) -> dict:
    """The fine-tuned state dict (fp32) with its non-finite entries estimated from the base's (module docstring)."""
    a, b = base['model'], finetuned['model']
    if base['width'] != finetuned['width'] or a.keys() != b.keys():
        raise ValueError('checkpoints of different architectures (width or state dict keys differ)')
    out = {}
    for k, tb in b.items():
        ta = a[k]
        if ta.shape != tb.shape:
            raise ValueError(f'{k}: shape {tuple(ta.shape)} vs {tuple(tb.shape)}')
        if tb.is_floating_point():
            ta, tb = ta.float(), tb.float()
            bad = ~torch.isfinite(tb)
            if bad.any():  # an fp16 overflow of the stored checkpoint
                ok = ~bad & torch.isfinite(ta) & (ta != 0)
                ratio = float((tb[ok] / ta[ok]).median()) if ok.any() else 1.0
                tb = torch.where(bad, ta * ratio, tb)
                print(f'{k}: {int(bad.sum())} non-finite entries of the fine-tuned model -> base x {ratio:.3f}')
        out[k] = tb
    return out


def interpolate(base: dict, finetuned: dict, alpha: float) -> dict:
    """State dict (1 - alpha) base + alpha finetuned, in fp32; integer buffers from finetuned."""
    b = repair(base, finetuned)
    return {k: (1 - alpha) * base['model'][k].float() + alpha * tb if tb.is_floating_point() else tb.clone()
            for k, tb in b.items()}


def make_checkpoint(base_path: str, ft_path: str, alpha: float, half: bool = False, loaded=None) -> dict:
    """`loaded`: the two checkpoints already loaded from the paths (base, fine-tuned), else they are read."""
    base, ft = loaded or (load(base_path), load(ft_path))
    sd = interpolate(base, ft, alpha)
    if half:
        sd = {k: v.half() if v.is_floating_point() and float(v.abs().max()) <= 65504 else v for k, v in sd.items()}
    return {'model': sd, 'width': ft['width'], 'step': ft['step'], 'args': ft.get('args', {}),
            'history': {'wise_ft': {'base': base_path, 'finetuned': ft_path, 'alpha': alpha}}}


def model_from(ckpt: dict):
    m = build_model(ckpt['width'])
    m.load_state_dict(ckpt['model'])  # fp16 tensors are copied into the fp32 parameters
    return m.eval()


def self_check(base_path: str, ft_path: str) -> None:
    """alpha 0 / 1 reproduce the endpoints' outputs exactly (the fine-tuned one with its non-finite entries
    repaired, and nothing else changed); alpha 0.5 lies between them."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 192, 256)
    base, ft = load(base_path), load(ft_path)
    fixed = repair(base, ft)
    for k, v in ft['model'].items():  # the repair touches the non-finite entries only
        if v.is_floating_point():
            keep = torch.isfinite(v)
            assert torch.equal(fixed[k][keep], v.float()[keep]) and torch.isfinite(fixed[k]).all(), k
    with torch.no_grad():
        ends = [model_from(m)(x)[0] for m in (base, {**ft, 'model': fixed})]
        for alpha, ref in ((0.0, ends[0]), (1.0, ends[1])):
            got = model_from(make_checkpoint(base_path, ft_path, alpha, loaded=(base, ft)))(x)[0]
            err = float((got - ref).abs().max())
            print(f'alpha {alpha}: max |wise - endpoint| = {err:.2e}')
            assert err == 0.0, f'alpha {alpha} does not reproduce its endpoint'
        mid = model_from(make_checkpoint(base_path, ft_path, 0.5, loaded=(base, ft)))(x)[0]
        d = float((ends[0] - ends[1]).abs().max())
        dm = [float((mid - e).abs().max()) for e in ends]
        print(f'alpha 0.5: max diff to base {dm[0]:.3f}, to fine-tuned {dm[1]:.3f} (endpoints differ by {d:.3f})')
        assert d > 0 and all(0 < v < d for v in dm), 'alpha 0.5 is not between the endpoints'
    print('self-check passed')


def main(argv=None):
    ck = os.path.join(HERE, 'checkpoints')
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--base', default=os.path.join(ck, 'w025-step10500.pt'))
    ap.add_argument('--finetuned', default=os.path.join(ck, 'weak2-step900.pt'))
    ap.add_argument('--alpha', type=float, help='0 = base, 1 = fine-tuned')
    ap.add_argument('--out', help='slim checkpoint to write')
    ap.add_argument('--onnx', help='also export ONNX (train.export_onnx, verified against torch)')
    ap.add_argument('--half', action='store_true', help='store fp16 (as the committed checkpoints)')
    ap.add_argument('--check', action='store_true', help='self-check: alpha 0 / 1 reproduce the endpoints')
    args = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get('THREADS', '1')))
    if args.check:
        self_check(args.base, args.finetuned)
        return
    if args.alpha is None or not 0 <= args.alpha <= 1:
        ap.error('--alpha in [0, 1] is required')
    if not args.out and not args.onnx:
        ap.error('--out and/or --onnx')
    ckpt = make_checkpoint(args.base, args.finetuned, args.alpha, args.half)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        tmp = args.out + '.tmp'
        torch.save(ckpt, tmp)
        os.replace(tmp, args.out)
        print(f'wise-ft alpha {args.alpha}: {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)')
    if args.onnx:
        export_onnx(model_from(ckpt), args.onnx)


if __name__ == '__main__':
    main()
