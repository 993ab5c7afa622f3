"""Tiny random recognisers in craft-text's recogniser contract, for the test suites (test/models/).

    python3 tools/str_torch/make_test_models.py [-o test/models]

Same module layouts as the official models (model.py), much narrower (VGG output_channel 32, hidden 16), so each file
is a few hundred KB. Written:
  crnn-tiny.onnx          None-VGG-BiLSTM-CTC, DTRB: grey 32 x W (dynamic), squash to 100, 36 characters, dtrb
  g2-tiny.onnx            EasyOCR english_g2 layout: grey 64 x W (dynamic), keep ratio + pad, 96 characters, easyocr
  attn-tiny.onnx          None-VGG-BiLSTM-Attn: grey 32 x 100 (fixed), 36 characters, [GO]/[s], 26 steps
  crnn-tiny-pad.onnx      crnn-tiny with resize 'pad' (dynamic width padded to multiples of imgH)
  crnn-tiny-rgb.onnx      RGB input (DTRB --rgb), resize 'pad'
  bad-no-charset.onnx     crnn-tiny without craft.recognizer.charset
  bad-classes.onnx        crnn-tiny whose charset (10) does not match its 37 classes
Also test/fixtures/recognition/oracle.json (+ crop-*.png): the oracle's logits, decoded strings and confidences for a few inputs (random pixels
through the reference pre-processing: PIL L, BICUBIC resize, (x/255 - .5)/.5, last-column pad), so the runtime's
pre-processing + inference + decoding are checked against PyTorch + PIL.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Model, Opt, DTRB_CHARS, EASYOCR_EN_G2_CHARS  # noqa: E402
from export import metadata, export  # noqa: E402


def tiny(**kw) -> Opt:
    return Opt(output_channel=32, hidden_size=16, **kw)


def write(opt, name, path, conf, dynamic, seed, edit=None):
    torch.manual_seed(seed)
    model = Model(opt)
    # Default initialisation of so narrow a network gives near-uniform outputs (every crop reads the same): larger
    # weights make the readings depend on the pixels, so the fixtures tell pre-processing mistakes apart.
    with torch.no_grad():
        for name_, prm in model.named_parameters():
            if prm.dim() > 1:
                prm.mul_(3.0)
    meta = metadata(opt, name, dynamic, 2048, conf)
    if edit:
        edit(meta)
    export(model, path, meta, dynamic)
    return model


def to_tensor(img: Image.Image) -> torch.Tensor:
    """torchvision ToTensor: HWC uint8 -> CHW float in [0, 1]."""
    x = np.asarray(img, dtype=np.uint8)
    if x.ndim == 2:
        x = x[:, :, None]
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).float().div(255)


def preprocess(img: Image.Image, opt: Opt, pad_to=None) -> torch.Tensor:
    """DTRB dataset.py: ResizeNormalize (squash) or AlignCollate keep_ratio_with_pad (NormalizePAD)."""
    img = img.convert('L' if opt.input_channel == 1 else 'RGB')
    if not opt.PAD:
        return to_tensor(img.resize((opt.imgW, opt.imgH), Image.BICUBIC)).sub_(0.5).div_(0.5)
    w, h = img.size
    ratio = w / float(h)
    resized_w = min(math.ceil(opt.imgH * ratio), pad_to)
    t = to_tensor(img.resize((resized_w, opt.imgH), Image.BICUBIC)).sub_(0.5).div_(0.5)
    c = t.shape[0]
    out = torch.zeros(c, opt.imgH, pad_to)
    out[:, :, :resized_w] = t
    if resized_w < pad_to:
        out[:, :, resized_w:] = t[:, :, resized_w - 1].unsqueeze(2).expand(c, opt.imgH, pad_to - resized_w)
    return out


def oracle(model, opt, images, chars, pad_multiple=None):
    """DTRB demo.py decoding + confidence (CTC, greedy), per image."""
    out = []
    model.eval()
    for img in images:
        pad_to = None
        if opt.PAD:
            ratio = img.size[0] / img.size[1]
            rw = min(math.ceil(opt.imgH * ratio), 2048)
            pad_to = min(2048, int(math.ceil(rw / opt.imgH)) * opt.imgH)
        x = preprocess(img, opt, pad_to).unsqueeze(0)
        with torch.no_grad():
            preds = model(x)
        probs = torch.softmax(preds, 2)
        maxp, idx = probs.max(2)
        t = idx[0].tolist()
        text = ''.join(chars[t[i] - 1] for i in range(len(t)) if t[i] != 0 and not (i > 0 and t[i - 1] == t[i]))
        conf = float(maxp[0].cumprod(0)[-1])
        out.append({'text': text, 'confidence': conf, 'logits': [round(v, 6) for v in preds[0].flatten().tolist()],
                    'T': preds.shape[1], 'K': preds.shape[2]})
    return out


def main():
    ap = argparse.ArgumentParser()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
    ap.add_argument('-o', '--out', default=os.path.join(root, 'test', 'models'))
    ap.add_argument('--fixtures', default=os.path.join(root, 'test', 'fixtures', 'recognition'))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.fixtures, exist_ok=True)
    p = lambda f: os.path.join(a.out, f)  # noqa: E731
    fx = lambda f: os.path.join(a.fixtures, f)  # noqa: E731

    crnn = tiny(character=DTRB_CHARS)
    m_crnn = write(crnn, 'tiny None-VGG-BiLSTM-CTC', p('crnn-tiny.onnx'), 'dtrb', True, 11)
    crnn_pad = tiny(character=DTRB_CHARS, PAD=True)
    m_pad = write(crnn_pad, 'tiny None-VGG-BiLSTM-CTC (PAD)', p('crnn-tiny-pad.onnx'), 'dtrb', True, 11)
    crnn_rgb = tiny(character=DTRB_CHARS, PAD=True, input_channel=3, rgb=True)
    m_rgb = write(crnn_rgb, 'tiny None-VGG-BiLSTM-CTC (RGB, PAD)', p('crnn-tiny-rgb.onnx'), 'dtrb', True, 14)
    g2 = tiny(imgH=64, imgW=0, character=EASYOCR_EN_G2_CHARS, PAD=True)
    write(g2, 'tiny EasyOCR english_g2', p('g2-tiny.onnx'), 'easyocr', True, 12)
    attn = tiny(Prediction='Attn', character=DTRB_CHARS)
    write(attn, 'tiny None-VGG-BiLSTM-Attn', p('attn-tiny.onnx'), 'dtrb', False, 13)
    write(crnn, 'tiny CRNN without charset', p('bad-no-charset.onnx'), 'dtrb', True, 11,
          lambda m: m.pop('craft.recognizer.charset'))
    write(crnn, 'tiny CRNN with a wrong charset', p('bad-classes.onnx'), 'dtrb', True, 11,
          lambda m: m.update({'craft.recognizer.charset': json.dumps(list('0123456789'))}))

    # Oracle fixtures: random RGB crops of several shapes, saved as PNG (lossless), read back by the tests.
    rng = np.random.default_rng(5)
    fixtures = []
    images = []
    for i, (w, h) in enumerate([(100, 32), (57, 21), (240, 40), (33, 47), (512, 30)]):
        arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        # Smooth it a little so resizing matters (pure noise is resampled to near-constant grey).
        arr = np.asarray(Image.fromarray(arr).resize((w // 2 + 1, h // 2 + 1), Image.BILINEAR).resize((w, h), Image.NEAREST))
        name = f'crop-{i}.png'
        Image.fromarray(arr).save(fx(name))
        images.append(Image.open(fx(name)))
        fixtures.append(name)
    res = {'crnn-tiny.onnx': oracle(m_crnn, crnn, images, DTRB_CHARS),
           'crnn-tiny-pad.onnx': oracle(m_pad, crnn_pad, images, DTRB_CHARS),
           'crnn-tiny-rgb.onnx': oracle(m_rgb, crnn_rgb, images, DTRB_CHARS)}
    with open(fx('oracle.json'), 'w') as f:
        json.dump({'images': fixtures, 'results': res}, f)
    print('wrote', a.out)


if __name__ == '__main__':
    main()
