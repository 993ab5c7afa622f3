"""The reference side of bench/recognize-reference.js: DTRB's demo.py pipeline (PyTorch, CPU) on word crops.

    python3 bench/recognize-reference.py <dir>      (driven by bench/recognize-reference.js; not run by hand)

Setup (once): renders the word crops to <dir>/words/*.png (PIL, DejaVu Sans, varied sizes and colours), the same
crops pasted into one image, <dir>/mosaic.png, with their integer boxes in <dir>/mosaic.json (craft-text's batched
path: one recognize() call for all crops), other words' crops to <dir>/calib/ (INT8 calibration; not the measured
crops), and saves a full-size None-VGG-BiLSTM-CTC (CRNN, 36 characters, 8.45 M parameters, random weights) as
released: torch.save of the `module.`-prefixed state dict, <dir>/None-VGG-BiLSTM-CTC.pth. Prints 'ready <n>'.
Then, per line 'run <batch>' on stdin: runs demo.py's pipeline over all crops (PIL open + convert('L') [RawDataset],
AlignCollate (BICUBIC squash to 100x32, ToTensor, (x - 0.5) / 0.5), model, CTCLabelConverter greedy decode,
cumprod confidence) with `batch` crops per forward (demo.py: DataLoader batch_size 192; 1 = one at a time) and prints
'ms <total> <first text> <first confidence>'. 'loader <batch> <workers>' does the same through demo.py's own loading
(torch DataLoader over a RawDataset, AlignCollate as collate_fn, num_workers = demo.py's --workers, default 4).
'texts' prints every crop's [text, confidence] as JSON. 'threads <n>' sets torch.set_num_threads (default 1) and
prints 'ok'. 'quit' ends it.
"""
import os
import sys
import time

import torch
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'str_torch'))
from make_fixtures import build  # noqa: E402
from model import crnn_opt, official_state_dict  # noqa: E402
from pipeline import AlignCollate, CTCLabelConverter, dtrb_demo  # noqa: E402

WORDS = ('invoice total amount date number customer address street city payment due balance tax subtotal '
         'quantity price description item order shipping phone email account reference page signature '
         'approved received company limited january february 2024 42 USD 3.50 no. ID code').split()
FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def render(dir_, words=WORDS, heights=(24, 32, 40, 56)):
    os.makedirs(dir_, exist_ok=True)
    files = []
    for i, w in enumerate(words):
        h = heights[i % len(heights)]
        font = ImageFont.truetype(FONT, int(h * 0.7))
        l, t, r, b = font.getbbox(w)
        img = Image.new('RGB', (r - l + 8, h), ((240, 238, 230), (255, 255, 255), (30, 40, 60))[i % 3])
        fg = ((20, 20, 20), (120, 10, 10), (240, 240, 240))[i % 3]
        ImageDraw.Draw(img).text((4 - l, (h - (b - t)) // 2 - t), w, font=font, fill=fg)
        p = os.path.join(dir_, f'{i:03d}-{w.replace(".", "")}.png')
        img.save(p)
        files.append(p)
    return files


def mosaic(files, out):
    """The crops stacked top to bottom in one RGB image (left-aligned), and their boxes [x0, y0, x1, y1]."""
    import json
    ims = [Image.open(f).convert('RGB') for f in files]
    canvas = Image.new('RGB', (max(im.width for im in ims), sum(im.height for im in ims)), (128, 128, 128))
    boxes, y = [], 0
    for im in ims:
        canvas.paste(im, (0, y))
        boxes.append([0, y, im.width, y + im.height])
        y += im.height
    canvas.save(os.path.join(out, 'mosaic.png'))
    with open(os.path.join(out, 'mosaic.json'), 'w') as fh:
        json.dump(boxes, fh)


class RawDataset(torch.utils.data.Dataset):
    """DTRB dataset.py RawDataset: PIL open + convert('L'), (image, path)."""

    def __init__(self, files):
        self.files = files

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return Image.open(self.files[i]).convert('L'), self.files[i]


def collate(batch):
    images, paths = zip(*batch)
    return AlignCollate(32, 100, False)(list(images)), paths


def demo_loader(model, files, batch, workers, opt):
    """demo.py's loop: DataLoader -> model -> greedy decode -> cumprod confidence."""
    loader = torch.utils.data.DataLoader(RawDataset(files), batch_size=batch, shuffle=False, num_workers=workers,
                                         collate_fn=collate, pin_memory=False)
    conv = CTCLabelConverter(opt.character)
    out = []
    with torch.no_grad():
        for x, _ in loader:
            preds = model(x)
            _, idx = preds.max(2)
            strs = conv.decode(idx.view(-1).tolist(), [preds.size(1)] * x.size(0))
            mp, _ = torch.nn.functional.softmax(preds, dim=2).max(dim=2)
            out.extend((t, float(p.cumprod(dim=0)[-1])) for t, p in zip(strs, mp))
    return out


def main():
    out = sys.argv[1]
    torch.set_num_threads(1)
    files = render(os.path.join(out, 'words'))
    mosaic(files, out)
    render(os.path.join(out, 'calib'), [w.upper() for w in WORDS] + [w.title() for w in WORDS], (28, 36, 48))
    opt = crnn_opt(False)
    # random weights that depend on the input (make_fixtures.build: He-normal convs, random BatchNorm statistics,
    # prediction layer scaled to logits of ~25): the strings differ per crop, so the parity check below means something
    model = build(opt, 3, 6.0, {0: 10.0})
    torch.save(official_state_dict(model), os.path.join(out, 'None-VGG-BiLSTM-CTC.pth'))
    print(f'ready {len(files)}', flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == 'quit':
            break
        if cmd[0] == 'threads':
            torch.set_num_threads(int(cmd[1]))
            print('ok', flush=True)
            continue
        if cmd[0] == 'texts':  # every crop's (text, confidence), for the parity check at full size
            import json
            res = []
            for f in files:
                res.extend(dtrb_demo(model, [Image.open(f)], opt)[2])
            print(json.dumps(res), flush=True)
            continue
        batch = int(cmd[1])
        t0 = time.perf_counter()
        results = []
        if cmd[0] == 'loader':
            results = demo_loader(model, files, batch, int(cmd[2]), opt)
        else:
            for i in range(0, len(files), batch):
                images = [Image.open(f) for f in files[i:i + batch]]  # RawDataset.__getitem__ opens, demo converts
                _, _, res = dtrb_demo(model, images, opt)
                results.extend(res)
        ms = (time.perf_counter() - t0) * 1000
        print(f'ms {ms:.3f} {results[0][0] or "-"} {results[0][1]:.6f}', flush=True)


if __name__ == '__main__':
    main()
