"""The reference side of bench/recognize-reference.js: DTRB's demo.py pipeline (PyTorch, CPU) on word crops.

    python3 bench/recognize-reference.py <dir>      (driven by bench/recognize-reference.js; not run by hand)

Setup (once): renders the word crops to <dir>/words/*.png (PIL, DejaVu Sans, varied sizes and colours) and saves a
full-size None-VGG-BiLSTM-CTC (CRNN, 36 characters, 8.45 M parameters, random weights) as released: torch.save of the
`module.`-prefixed state dict, <dir>/None-VGG-BiLSTM-CTC.pth. Prints 'ready <n>'.
Then, per line 'run <batch>' on stdin: runs demo.py's pipeline over all crops (PIL open + convert('L') [RawDataset],
AlignCollate (BICUBIC squash to 100x32, ToTensor, (x - 0.5) / 0.5), model, CTCLabelConverter greedy decode,
cumprod confidence) with `batch` crops per forward (demo.py: DataLoader batch_size 192; 1 = one at a time) and prints
'ms <total> <first text> <first confidence>'. 'quit' ends it. Threads: torch.set_num_threads(1).
"""
import os
import sys
import time

import torch
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'str_torch'))
from model import Model, crnn_opt, official_state_dict  # noqa: E402
from pipeline import dtrb_demo  # noqa: E402

WORDS = ('invoice total amount date number customer address street city payment due balance tax subtotal '
         'quantity price description item order shipping phone email account reference page signature '
         'approved received company limited january february 2024 42 USD 3.50 no. ID code').split()
FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def render(dir_):
    os.makedirs(dir_, exist_ok=True)
    files = []
    for i, w in enumerate(WORDS):
        h = (24, 32, 40, 56)[i % 4]
        font = ImageFont.truetype(FONT, int(h * 0.7))
        l, t, r, b = font.getbbox(w)
        img = Image.new('RGB', (r - l + 8, h), ((240, 238, 230), (255, 255, 255), (30, 40, 60))[i % 3])
        fg = ((20, 20, 20), (120, 10, 10), (240, 240, 240))[i % 3]
        ImageDraw.Draw(img).text((4 - l, (h - (b - t)) // 2 - t), w, font=font, fill=fg)
        p = os.path.join(dir_, f'{i:03d}-{w.replace(".", "")}.png')
        img.save(p)
        files.append(p)
    return files


def main():
    out = sys.argv[1]
    torch.set_num_threads(1)
    files = render(os.path.join(out, 'words'))
    opt = crnn_opt(False)
    torch.manual_seed(3)
    model = Model(opt).eval()
    with torch.no_grad():  # trained-like logits (~20) so decoding does real work
        model.Prediction.weight.mul_(100)
        model.Prediction.bias.mul_(100)
    torch.save(official_state_dict(model), os.path.join(out, 'None-VGG-BiLSTM-CTC.pth'))
    print(f'ready {len(files)}', flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == 'quit':
            break
        batch = int(cmd[1])
        t0 = time.perf_counter()
        results = []
        for i in range(0, len(files), batch):
            images = [Image.open(f) for f in files[i:i + batch]]  # RawDataset.__getitem__ opens, demo converts
            _, _, res = dtrb_demo(model, images, opt)
            results.extend(res)
        ms = (time.perf_counter() - t0) * 1000
        print(f'ms {ms:.3f} {results[0][0] or "-"} {results[0][1]:.6f}', flush=True)


if __name__ == '__main__':
    main()
