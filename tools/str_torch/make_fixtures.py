"""Write the recogniser converter/parity fixtures: small random-weight checkpoints in the OFFICIAL layout and what
the OFFICIAL pipelines make of a few word images with them.

  test/fixtures/str-checkpoints/*.pth             checkpoints: torch.save of the `module.`-prefixed state dict (DataParallel
                                              dumps, as released), zip and legacy formats, one without the prefix
  test/fixtures/str-checkpoints/images/*.png      word images rendered here with PIL (no research data)
  test/fixtures/str-checkpoints/ref/*.f32         per case: the input tensor the pipeline built and the logits
                                              (little-endian float32, C order)
  test/fixtures/str-checkpoints/manifest.json     per model: files, detected architecture, charset; per case: image,
                                              pipeline options, input shape, logits, decoded text, confidence

Widths are reduced (VGG and ResNet output_channel 32, hidden 16, TPS localisation 8/8/16/16 + fc 16) to keep the files
small; the converter must infer every width from the shapes. tools/str_torch/check_full.py checks the full-size
layouts locally without committing them.

Pipelines (tools/str_torch/pipeline.py): DTRB demo.py (squash, or --PAD) for CRNN/TRBA and EasyOCR's CPU recogniser
path for english_g2. The reference logits, text and confidence are computed with the model in float64 from the
float32 input tensor; the float32 pipeline (what demo.py itself runs) is checked to give the same strings.
Random weights are shaped to give non-trivial output (several classes win, confident frames, [s] mid-sequence):
the prediction layer is scaled and biased with a seeded search; every decision (argmax) the strings depend on is
checked to have a top-2 logit margin >= MIN_MARGIN, so float32 round-off elsewhere cannot flip it.

Usage: python3 tools/str_torch/make_fixtures.py
"""
import json
import os
import shutil
import sys
from collections import OrderedDict

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import (DTRB_CHARS, DTRB_SENSITIVE_CHARS, EASYOCR_EN_G2_CHARS, Model, Opt,  # noqa: E402
                   official_state_dict)
from pipeline import dtrb_demo, easyocr_recognize  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'str-checkpoints')
MIN_MARGIN = 2e-3
F32_TOL = 5e-5
FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def render(text, height, fg=(20, 20, 30), bg=(235, 230, 220), mode='RGB', pad=(6, 4), size=None):
    """A word image: text in DejaVu Sans, tightly padded, `height` pixels high."""
    font = ImageFont.truetype(FONT, size or int(height * 0.7))
    l, t, r, b = font.getbbox(text)
    w = r - l + 2 * pad[0]
    img = Image.new('RGB', (w, height), bg)
    ImageDraw.Draw(img).text((pad[0] - l, (height - (b - t)) // 2 - t), text, font=font, fill=fg)
    return img.convert(mode) if mode != 'RGB' else img


def randomise_bn(model, gen):
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            # residual branches start small (as with zero-init residuals): the activations of 11 random BasicBlocks
            # stay O(1) and float32 stays accurate to ~1e-5 through the ResNet
            m.weight.data = (torch.rand(c, generator=gen) + 0.5) * (0.2 if name.endswith('.bn2') else 1.0)
            m.bias.data = torch.randn(c, generator=gen) * 0.1
            m.running_mean.data = torch.randn(c, generator=gen) * 0.1
            m.running_var.data = torch.rand(c, generator=gen) * 1.5 + 0.5
            m.num_batches_tracked.fill_(1234)


def head(model):
    p = model.Prediction
    return p if isinstance(p, torch.nn.Linear) else p.generator


def shape_head(model, scale, bias):
    """Scale the prediction layer and bias the special classes (blank / [GO]). For attention models, bias['stop'] =
    (A, B) makes the last hidden unit of the decoder's LSTMCell a step counter (forget/input/output gates saturated
    open, cell input tanh = 0.15, so h = tanh(0.15 t)) and the [s] logit A h + B: random weights then stop after a
    few steps instead of never or at once."""
    h = head(model)
    h.weight.data *= scale
    h.bias.data *= scale
    for k, v in bias.items():
        if k != 'stop':
            h.bias.data[k] += v
    if 'stop' in bias:
        a, b = bias['stop']
        cell = model.Prediction.attention_cell.rnn
        hid = cell.hidden_size
        u = hid - 1
        rows = [u, hid + u, 2 * hid + u, 3 * hid + u]  # PyTorch gate order i, f, g, o
        with torch.no_grad():
            cell.weight_ih[rows] = 0
            cell.weight_hh[rows] = 0
            cell.bias_hh[rows] = 0
            cell.bias_ih[rows] = torch.tensor([10.0, 10.0, float(np.arctanh(0.15)), 10.0])
            h.weight[1] = 0
            h.weight[1, u] = a
            h.bias[1] = b


def margins(logits):
    """Smallest top-2 logit gap over all frames / decoder steps (attention: every step feeds its argmax back)."""
    top2 = logits.topk(2, dim=2).values
    return float((top2[..., 0] - top2[..., 1]).min())


def reinit(model, lstm_gain):
    """Weights that keep the signal alive through small random layers (PyTorch's defaults make the output nearly
    input-independent): He-normal convs, LSTMs at lstm_gain/sqrt(fan_in) (2 for VGG, 3 for the smaller-signal ResNet), linears at 2/sqrt(fan_in), the TPS regressor
    slightly input-dependent around its official RARE initialisation."""
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
        elif isinstance(m, (torch.nn.LSTM, torch.nn.LSTMCell)):
            for n, p in m.named_parameters():
                if 'weight' in n:
                    torch.nn.init.normal_(p, std=lstm_gain / p.shape[1] ** 0.5)
        elif isinstance(m, torch.nn.Linear):
            g = 0.0 if name.endswith('localization_fc2') else 2.0
            torch.nn.init.normal_(m.weight, std=g / m.weight.shape[1] ** 0.5)


def build(opt, seed, scale, bias):
    torch.manual_seed(seed)
    model = Model(opt).eval()
    reinit(model, 3.0 if opt.FeatureExtraction == 'ResNet' else 2.0)
    gen = torch.Generator().manual_seed(seed + 1)
    randomise_bn(model, gen)
    shape_head(model, scale, bias)
    return model


def run_cases(model, opt, cases, pipeline):
    """Run the official pipeline in float64 and float32; returns per case (x, logits64, text, conf)."""
    m64 = model.double()
    res64 = [run_one(m64, opt, c, pipeline, torch.float64) for c in cases]
    model.float()
    res32 = [run_one(model, opt, c, pipeline, torch.float32) for c in cases]
    return res64, res32


def run_one(model, opt, case, pipeline, dtype):
    img = Image.open(os.path.join(OUT, 'images', case['image']))
    if pipeline == 'easyocr':
        grey = np.asarray(img.convert('L'))
        x, logits, (text, conf) = easyocr_recognize(model, grey, opt.character, opt.imgH, dtype)
    else:
        o = Opt(**{**opt.__dict__, 'PAD': case.get('pad', False)})
        x, logits, [(text, conf)] = dtrb_demo(model, [img], o, dtype)
    return x, logits, text, conf


def search(opt, seed, cases, pipeline, scales, biases):
    """First (scale, bias) whose strings are non-trivial and whose decisions have a safe margin."""
    for seed in (seed, seed + 1000, seed + 2000, seed + 3000):
      for scale in scales:
        for bias in biases:
            model = build(opt, seed, scale, bias)
            r64, r32 = run_cases(model, opt, cases, pipeline)
            texts = [r[2] for r in r64]
            confs = [r[3] for r in r64]
            if os.environ.get('FIXTURE_DEBUG'):
                print(scale, bias, texts, [round(c, 4) for c in confs], min(margins(r[1]) for r in r64),
                      max(float((a[1] - b[1].double()).abs().max()) for a, b in zip(r64, r32)))
            if any(len(t) < 2 or len(t) > 24 for t in texts) or \
                    len(set(texts)) < min(len(texts), 2 if opt.Prediction == 'Attn' else 99):
                continue
            if not all(1e-5 < c < 0.98 for c in confs) or max(confs) < 1e-3:
                continue
            if [r[2] for r in r32] != texts:
                continue
            mg = min(margins(r[1]) for r in r64)
            if mg < MIN_MARGIN:
                continue
            # well-conditioned: PyTorch's own float32 forward within F32_TOL of float64, so a 1e-4 test is meaningful
            f32 = max(float((a[1] - b[1].double()).abs().max()) for a, b in zip(r64, r32))
            if f32 > F32_TOL:
                continue
            return model, r64, r32, scale, bias, mg, f32, seed
    raise SystemExit(f"no head shaping gave non-trivial output for {opt}; last: {texts} {confs}")


def save(model, name, legacy, prefix=True):
    sd = official_state_dict(model) if prefix else OrderedDict(model.state_dict())
    torch.save(OrderedDict(sd), os.path.join(OUT, name), _use_new_zipfile_serialization=not legacy)
    return {'file': name, 'format': 'legacy' if legacy else 'zip', 'module_prefix': prefix}


def write_f32(t, name):
    t.detach().float().numpy().astype('<f4').tofile(os.path.join(OUT, 'ref', name))
    return name


def main():
    torch.set_num_threads(1)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, 'ref'))
    os.makedirs(os.path.join(OUT, 'images'))

    # word images: colour and grey, several aspect ratios (DTRB squashes to 100x32 or pads; EasyOCR needs height 64
    # grey to be exactly the model contract's keep-ratio path: its cv2 resize is then an identity)
    images = {
        'hello.png': render('hello', 32),
        'parity.png': render('Parity', 44, fg=(180, 30, 40), bg=(250, 250, 240)),
        'craft-text.png': render('craft-text', 28, fg=(240, 240, 240), bg=(30, 60, 90)),
        'no42.png': render('No.42', 40, fg=(10, 90, 30), bg=(255, 255, 255)),
        'invoice-g64.png': render('Invoice 2024', 64, mode='L', fg=(25, 25, 25), bg=(245, 245, 245)),
        'total-g64.png': render('Total: 3.50', 64, mode='L', fg=(0, 0, 0), bg=(230, 230, 230)),
        'ok-g64.png': render('ok', 64, mode='L', fg=(40, 40, 40), bg=(250, 250, 250)),
    }
    for n, im in images.items():
        im.save(os.path.join(OUT, 'images', n), optimize=True)

    dtrb_cases = [{'image': 'hello.png'}, {'image': 'parity.png'}, {'image': 'craft-text.png'},
                  {'image': 'no42.png', 'pad': True}, {'image': 'parity.png', 'pad': True}]
    g2_cases = [{'image': 'invoice-g64.png'}, {'image': 'total-g64.png'}, {'image': 'ok-g64.png'}]

    tps = (8, 8, 16, 16, 16)
    variants = [
        # name, opt, seed, pipeline, cases, checkpoints [(file, legacy, prefix)], expected name
        ('crnn36', Opt(output_channel=32, hidden_size=16, character=DTRB_CHARS), 101, 'dtrb', dtrb_cases,
         [('crnn36-zip.pth', False, True), ('crnn36-legacy.pth', True, True), ('crnn36-zip-noprefix.pth', False, False)],
         'None-VGG-BiLSTM-CTC'),
        ('crnn94', Opt(output_channel=32, hidden_size=16, character=DTRB_SENSITIVE_CHARS), 102, 'dtrb', dtrb_cases[:3],
         [('crnn94-legacy.pth', True, True), ('crnn94-zip.pth', False, True)], 'None-VGG-BiLSTM-CTC'),
        ('trba36', Opt(Transformation='TPS', FeatureExtraction='ResNet', Prediction='Attn', output_channel=32,
                       hidden_size=16, character=DTRB_CHARS, tps_channels=tps), 103, 'dtrb', dtrb_cases,
         [('trba36-zip.pth', False, True)], 'TPS-ResNet-BiLSTM-Attn'),
        ('trba94-64', Opt(Transformation='TPS', FeatureExtraction='ResNet', Prediction='Attn', output_channel=32,
                          hidden_size=16, imgW=64, character=DTRB_SENSITIVE_CHARS, tps_channels=tps), 104, 'dtrb',
         dtrb_cases[:3], [('trba94-64-legacy.pth', True, True)], 'TPS-ResNet-BiLSTM-Attn'),
        # another four-stage combination: attention without TPS (the graph takes any width; DTRB feeds imgW)
        ('vgg-attn', Opt(Prediction='Attn', output_channel=32, hidden_size=16, character=DTRB_CHARS), 106, 'dtrb',
         dtrb_cases[:3], [('none-vgg-bilstm-attn-zip.pth', False, True)], 'None-VGG-BiLSTM-Attn'),
        ('g2', Opt(imgH=64, imgW=0, output_channel=32, hidden_size=16, character=EASYOCR_EN_G2_CHARS, PAD=True), 105,
         'easyocr', g2_cases, [('g2-zip.pth', False, True), ('g2-legacy.pth', True, True)], 'EasyOCR english_g2'),
    ]
    manifest = {'generator': 'tools/str_torch/make_fixtures.py', 'torch': torch.__version__,
                'min_margin': MIN_MARGIN, 'models': []}
    for name, opt, seed, pipeline, cases, ckpts, arch in variants:
        if opt.Prediction == 'CTC':
            biases = [{0: b} for b in (4.0, 6.0, 8.0, 3.0, 2.0, 10.0, 12.0, 0.0, 1.0)]
        else:
            biases = [{0: -20.0, 'stop': ab} for ab in ((20.0, -8.0), (20.0, -10.0), (20.0, -12.0), (30.0, -16.0), (40.0, -16.0), (40.0, -24.0), (60.0, -30.0))]
        scales = (12.0, 10.0, 8.0, 6.0, 4.0, 3.0, 2.0)  # most confident first
        model, r64, r32, scale, bias, mg, f32, seed = search(opt, seed, cases, pipeline, scales, biases)
        entry = {
            'name': name, 'seed': seed, 'architecture': arch, 'pipeline': pipeline,
            'decoder': 'ctc' if opt.Prediction == 'CTC' else 'attn',
            'charset': opt.character, 'imgH': opt.imgH, 'imgW': opt.imgW, 'input_channel': opt.input_channel,
            'output_channel': opt.output_channel, 'hidden_size': opt.hidden_size,
            'batch_max_length': opt.batch_max_length, 'head_scale': scale, 'head_bias': {str(k): v for k, v in bias.items()},
            'min_margin': mg, 'torch_float32_max_diff': f32,
            'checkpoints': [save(model, f, legacy, prefix) for f, legacy, prefix in ckpts],
            'cases': [],
        }
        for i, (c, (x, logits, text, conf), (_, _, t32, c32)) in enumerate(zip(cases, r64, r32)):
            tag = f'{name}-{i}'
            entry['cases'].append({
                'image': c['image'], 'pad': bool(c.get('pad', pipeline == 'easyocr')),
                'input': write_f32(x, f'{tag}-input.f32'), 'input_shape': list(x.shape),
                'logits': write_f32(logits, f'{tag}-logits.f32'), 'logits_shape': list(logits.shape),
                'logits_absmax': float(logits.abs().max()),
                'text': text, 'confidence': conf, 'confidence_float32': c32,
            })
        manifest['models'].append(entry)
        print(f'{name}: scale {scale} bias {bias} margin {mg:.3g} torch f32 {f32:.2g}:',
              ', '.join(f'{c["text"]!r} {c["confidence"]:.4f}' for c in entry['cases']))
    with open(os.path.join(OUT, 'manifest.json'), 'w', encoding='utf-8') as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f'wrote {OUT} ({total / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
