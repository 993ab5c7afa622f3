"""Full-size check of `craft-text convert` for recognisers (nothing committed): the official layouts and widths
(None-VGG-BiLSTM-CTC 36 and 94 characters, TPS-ResNet-BiLSTM-Attn 36 and 94, EasyOCR english_g2), random weights
(PyTorch's default init, BatchNorm statistics randomised, the prediction layer scaled to logits of ~20), saved as released (`module.` prefix) in the legacy and the
zip format, converted by the Node CLI, run with onnxruntime and compared with the float64 PyTorch forward.

    python3 tools/str_torch/check_full.py [--out DIR] [--keep]       (needs `npx tsc` first: runs dist/cli/main.js)

Prints one line per variant: conversion time, max |onnx - torch64| and PyTorch's own float32 error for scale.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Model, crnn_opt, easyocr_g2_opt, official_state_dict, trba_opt  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def randomise_bn(model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=gen) + 0.5
            m.bias.data = torch.randn(c, generator=gen) * 0.1
            m.running_mean.data = torch.randn(c, generator=gen) * 0.1
            m.running_var.data = torch.rand(c, generator=gen) * 1.5 + 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out')
    ap.add_argument('--keep', action='store_true', help='keep the checkpoints and ONNX files')
    ap.add_argument('--only', help='comma-separated variant names')
    a = ap.parse_args()
    torch.set_num_threads(1)
    import onnxruntime as ort
    out = a.out or tempfile.mkdtemp(prefix='str-full-')
    os.makedirs(out, exist_ok=True)
    variants = [('crnn36', crnn_opt(False)), ('crnn94', crnn_opt(True)), ('trba36', trba_opt(False)),
                ('trba94', trba_opt(True)), ('english_g2', easyocr_g2_opt())]
    if a.only:
        variants = [v for v in variants if v[0] in a.only.split(',')]
    for name, opt in variants:
        torch.manual_seed(7)
        model = Model(opt).eval()
        randomise_bn(model, torch.Generator().manual_seed(8))
        w = 100 if opt.imgW == 0 else opt.imgW
        shapes = [(1, 1, opt.imgH, w), (2, 1, opt.imgH, w)]
        if opt.Transformation == 'None':
            shapes.append((1, 1, opt.imgH, 256 if opt.imgH == 64 else 160))
        xs = [torch.rand(s, generator=torch.Generator().manual_seed(i)) * 2 - 1 for i, s in enumerate(shapes)]
        with torch.no_grad():
            # PyTorch's default init gives logits of ~0.1: scale the prediction layer to a trained model's range (~20)
            head = model.Prediction if opt.Prediction == 'CTC' else model.Prediction.generator
            k = 20.0 / float(model(xs[0]).abs().max())
            head.weight.mul_(k)
            head.bias.mul_(k)
            ref32 = [model(x) for x in xs]
            m64 = model.double()
            ref = [m64(x.double()) for x in xs]
            model.float()
        sd = OrderedDict(official_state_dict(model))
        for fmt in ('legacy', 'zip'):
            pth = os.path.join(out, f'{name}-{fmt}.pth')
            torch.save(sd, pth, _use_new_zipfile_serialization=(fmt == 'zip'))
            onnx_path = os.path.join(out, f'{name}-{fmt}.onnx')
            t0 = time.time()
            r = subprocess.run(['node', os.path.join(ROOT, 'dist', 'cli', 'main.js'), 'convert', pth, '-o', onnx_path, '-q'],
                               capture_output=True, text=True)
            secs = time.time() - t0
            if r.returncode != 0:
                print(f'{name} {fmt}: convert FAILED: {r.stderr.strip()}')
                continue
            s = ort.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
            d = max(float(np.abs(s.run(None, {'image': x.numpy()})[0] - rf.numpy()).max()) for x, rf in zip(xs, ref))
            d32 = max(float((r32.double() - rf).abs().max()) for r32, rf in zip(ref32, ref))
            absmax = max(float(rf.abs().max()) for rf in ref)
            mb = os.path.getsize(pth) / 1e6
            print(f'{name:11s} {fmt:6s} {mb:6.1f} MB  convert {secs:5.2f} s  max|onnx-torch64| {d:.2e}  '
                  f'(torch float32 {d32:.2e}, |logits| <= {absmax:.1f})', flush=True)
            if not a.keep:
                os.remove(pth)
                os.remove(onnx_path)
    print(f'files in {out}' if a.keep else '')


if __name__ == '__main__':
    main()
