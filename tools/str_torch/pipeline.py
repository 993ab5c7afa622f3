"""The official recognition pipelines, re-written faithfully for oracles and the reference benchmark (never runtime).

DTRB `demo.py` (clovaai/deep-text-recognition-benchmark @ e2117f2: demo.py, dataset.py RawDataset/AlignCollate/
ResizeNormalize/NormalizePAD, utils.py CTCLabelConverter/AttnLabelConverter):
    PIL open -> convert('L') (or 'RGB' with --rgb) -> AlignCollate(imgH, imgW, keep_ratio_with_pad=PAD)
    -> model -> greedy decode -> confidence = cumprod of the max softmax (CTC: all frames; Attn: steps before [s]).
EasyOCR's recogniser path for generation-2 models (JaidedAI/EasyOCR @ c4f3cd7: utils.get_image_list /
compute_ratio_and_resize, recognition.AlignCollate/recognizer_predict, utils.CTCLabelConverter.decode_greedy,
custom_mean), one box at a time as on CPU:
    grey crop -> cv2.resize to height 64 keeping the ratio (flag LANCZOS=1 = INTER_LINEAR) -> AlignCollate(64,
    ceil(max(1, ratio)) * 64, keep_ratio_with_pad=True) -> model -> softmax (ignore mask: none for english) ->
    greedy decode -> confidence = prod(p)^(2/sqrt(n)) over the non-blank frames' max probabilities.

torchvision is not needed: ToTensor for an 8-bit image is `uint8 -> float32 / 255`, which to_tensor() reproduces
bit for bit.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def to_tensor(img: Image.Image) -> torch.Tensor:
    """torchvision.transforms.ToTensor for 'L' / 'RGB' images: [C, H, W] float32 in [0, 1]."""
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return torch.from_numpy(a.copy()).permute(2, 0, 1).float().div(255)


class ResizeNormalize:
    def __init__(self, size, interpolation=Image.BICUBIC):
        self.size = size
        self.interpolation = interpolation

    def __call__(self, img):
        img = to_tensor(img.resize(self.size, self.interpolation))
        img.sub_(0.5).div_(0.5)
        return img


class NormalizePAD:
    def __init__(self, max_size):
        self.max_size = max_size

    def __call__(self, img):
        img = to_tensor(img)
        img.sub_(0.5).div_(0.5)
        c, h, w = img.size()
        pad = torch.FloatTensor(*self.max_size).fill_(0)
        pad[:, :, :w] = img  # right pad
        if self.max_size[2] != w:  # add border Pad: repeat the last column
            pad[:, :, w:] = img[:, :, w - 1].unsqueeze(2).expand(c, h, self.max_size[2] - w)
        return pad


class AlignCollate:
    def __init__(self, imgH=32, imgW=100, keep_ratio_with_pad=False):
        self.imgH, self.imgW, self.keep_ratio_with_pad = imgH, imgW, keep_ratio_with_pad

    def __call__(self, images):
        if self.keep_ratio_with_pad:  # same concept as the 'Rosetta' paper
            input_channel = 3 if images[0].mode == 'RGB' else 1
            transform = NormalizePAD((input_channel, self.imgH, self.imgW))
            out = []
            for image in images:
                w, h = image.size
                ratio = w / float(h)
                resized_w = self.imgW if math.ceil(self.imgH * ratio) > self.imgW else math.ceil(self.imgH * ratio)
                out.append(transform(image.resize((resized_w, self.imgH), Image.BICUBIC)))
            return torch.cat([t.unsqueeze(0) for t in out], 0)
        transform = ResizeNormalize((self.imgW, self.imgH))
        return torch.cat([transform(image).unsqueeze(0) for image in images], 0)


class CTCLabelConverter:
    def __init__(self, character):
        self.character = ['[CTCblank]'] + list(character)

    def decode(self, text_index, length):
        texts = []
        index = 0
        for l in length:
            t = text_index[index:index + l]
            chars = [self.character[t[i]] for i in range(l) if t[i] != 0 and not (i > 0 and t[i - 1] == t[i])]
            texts.append(''.join(chars))
            index += l
        return texts


class AttnLabelConverter:
    def __init__(self, character):
        self.character = ['[GO]', '[s]'] + list(character)

    def decode(self, text_index, length):
        return [''.join(self.character[i] for i in text_index[index]) for index, _ in enumerate(length)]


def dtrb_demo(model, images, opt, dtype=torch.float32):
    """demo.py on a list of PIL images (already opened): returns (input tensor, logits, [(text, confidence)])."""
    x = AlignCollate(opt.imgH, opt.imgW, opt.PAD)([im.convert('RGB' if opt.rgb else 'L') for im in images])
    with torch.no_grad():
        preds = model(x.to(dtype))
    b = x.size(0)
    if opt.Prediction == 'CTC':
        conv = CTCLabelConverter(opt.character)
        preds_size = [preds.size(1)] * b
        _, idx = preds.max(2)
        strs = conv.decode(idx.view(-1).tolist(), preds_size)
    else:
        conv = AttnLabelConverter(opt.character)
        _, idx = preds.max(2)
        strs = conv.decode(idx.tolist(), [opt.batch_max_length] * b)
    probs = F.softmax(preds, dim=2)
    max_prob, _ = probs.max(dim=2)
    out = []
    for pred, p in zip(strs, max_prob):
        if opt.Prediction == 'Attn':
            eos = pred.find('[s]')
            pred = pred[:eos]  # prune after the end-of-sentence token ([s])
            p = p[:eos]
        conf = float(p.cumprod(dim=0)[-1]) if len(p) else 0.0  # test.py: an empty prediction scores 0
        out.append((pred, conf))
    return x, preds, out


def custom_mean(x):
    return x.prod() ** (2.0 / np.sqrt(len(x)))


def easyocr_recognize(model, grey: np.ndarray, character: str, imgH=64, dtype=torch.float32):
    """EasyOCR's CPU recogniser path for one horizontal crop (uint8 grey array): (input, logits, (text, conf))."""
    import cv2
    h, w = grey.shape
    ratio = w / h
    if ratio < 1.0:  # compute_ratio_and_resize: vertical crops get width imgH
        ratio = 1.0 / ratio
        img = cv2.resize(grey, (imgH, int(imgH * ratio)), interpolation=1)  # Image.Resampling.LANCZOS == 1
    else:
        img = cv2.resize(grey, (int(imgH * ratio), imgH), interpolation=1)
    max_width = math.ceil(max(1, ratio)) * imgH  # get_image_list: max_ratio starts at 1
    x = AlignCollate(imgH, max_width, keep_ratio_with_pad=True)([Image.fromarray(img, mode='L')])
    with torch.no_grad():
        preds = model(x.to(dtype))
    preds_prob = F.softmax(preds, dim=2).cpu().numpy()
    ignore_idx = []  # english: set(character) - lang_char is empty
    preds_prob[:, :, ignore_idx] = 0.
    preds_prob = preds_prob / np.expand_dims(preds_prob.sum(axis=2), axis=-1)
    idx = preds_prob.argmax(axis=2)[0]
    chars = ['[blank]'] + list(character)
    keep = np.insert(~(idx[1:] == idx[:-1]), 0, True) & ~np.isin(idx, np.array([0]))
    text = ''.join(np.array(chars)[idx[keep.nonzero()]])
    values = preds_prob.max(axis=2)[0]
    max_probs = values[idx != 0]
    conf = float(custom_mean(max_probs)) if len(max_probs) > 0 else float(custom_mean(np.array([0])))
    return x, preds, (text, conf)
