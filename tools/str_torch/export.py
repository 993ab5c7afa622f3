"""ONNX export of a recogniser in craft-text's recogniser contract (docs/recognition.md, "Model contract").

    python3 tools/str_torch/export.py --kind crnn|trba|easyocr_g2 [--sensitive|--printable] [--pad] [--checkpoint x.pth] -o out.onnx

Without --checkpoint the weights are random (seeded). The graph has one input `image` [N, C, H, W] float32 in
[-1, 1] and one output `logits` [N, T, K] (before softmax). CTC models have a dynamic width; attention models
(TPS buffers are built for imgH x imgW) a fixed one.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Model, Opt, PRINTABLE_CHARS, crnn_opt, trba_opt, easyocr_g2_opt, load_official  # noqa: E402

# Longest input width a dynamic-width model accepts (pixels at imgH): a cap against absurd crops, far above any word.
DEFAULT_MAX_WIDTH = 2048


def metadata(opt: Opt, name: str, dynamic_width: bool, max_width: int, confidence: str, extra=None) -> dict:
    meta = {
        'craft.task': 'recognition',
        'craft.recognizer.name': name,
        'craft.recognizer.charset': json.dumps(list(opt.character), ensure_ascii=False),
        'craft.recognizer.decoder': 'ctc' if opt.Prediction == 'CTC' else 'attn',
        'craft.recognizer.imgH': str(opt.imgH),
        # squash resizes every crop to imgW (DTRB's 100) even when the graph takes any width; pad uses the cap.
        'craft.recognizer.imgW': str(max_width if dynamic_width and opt.PAD else opt.imgW),
        'craft.recognizer.dynamicWidth': 'true' if dynamic_width else 'false',
        'craft.recognizer.channels': str(3 if opt.rgb else opt.input_channel),
        'craft.recognizer.resize': 'pad' if opt.PAD else 'squash',
        'craft.recognizer.interpolation': 'bicubic',
        'craft.recognizer.mean': '0.5',
        'craft.recognizer.std': '0.5',
        'craft.recognizer.confidence': confidence,
        'craft.recognizer.batchMaxLength': str(opt.batch_max_length),
    }
    meta.update(extra or {})
    return meta


def export(model: Model, path: str, meta: dict, dynamic_width: bool, opset: int = 17):
    import onnx
    opt = model.opt
    model.eval()
    w = 100 if opt.imgW == 0 else opt.imgW
    x = torch.zeros(1, opt.input_channel, opt.imgH, w)
    axes = {'image': {0: 'N'}, 'logits': {0: 'N'}}
    if dynamic_width:
        axes['image'][3] = 'W'
        axes['logits'][1] = 'T'
    torch.onnx.export(model, (x,), path, input_names=['image'], output_names=['logits'], dynamic_axes=axes,
                      opset_version=opset, dynamo=False, do_constant_folding=True)
    m = onnx.load(path)
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)


def build(kind: str, sensitive: bool) -> tuple:
    if kind == 'crnn':
        return crnn_opt(sensitive), 'None-VGG-BiLSTM-CTC', True, 'dtrb'
    if kind == 'trba':
        return trba_opt(sensitive), 'TPS-ResNet-BiLSTM-Attn', False, 'dtrb'
    if kind == 'easyocr_g2':
        return easyocr_g2_opt(), 'EasyOCR english_g2', True, 'easyocr'
    raise SystemExit(f'unknown kind {kind}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--kind', required=True, choices=['crnn', 'trba', 'easyocr_g2'])
    ap.add_argument('--sensitive', action='store_true')
    ap.add_argument('--printable', action='store_true', help='CTC: printable ASCII + space (the bundled recogniser\'s charset)')
    ap.add_argument('--pad', action='store_true', help='CTC: keep the ratio and pad (DTRB --PAD) instead of squashing')
    ap.add_argument('--output-channel', type=int, help='VGG/ResNet width (random weights of another size)')
    ap.add_argument('--hidden', type=int, help='BiLSTM hidden size')
    ap.add_argument('--checkpoint')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('-o', '--out', required=True)
    a = ap.parse_args()
    opt, name, dyn, conf = build(a.kind, a.sensitive)
    if a.printable:
        opt.character = PRINTABLE_CHARS
    if a.pad:
        opt.PAD = True
    if a.output_channel:
        opt.output_channel = a.output_channel
    if a.hidden:
        opt.hidden_size = a.hidden
    torch.manual_seed(a.seed)
    model = Model(opt)
    if a.checkpoint:
        load_official(model, torch.load(a.checkpoint, map_location='cpu'))
    export(model, a.out, metadata(opt, name, dyn, DEFAULT_MAX_WIDTH, conf), dyn)
    print(a.out)


if __name__ == '__main__':
    main()
