"""Checks that model.py's state_dict keys and shapes are exactly the official ones (shared/reference)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Model, crnn_opt, trba_opt, easyocr_g2_opt  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
REF = os.path.join(ROOT, '..', 'shared', 'reference', 'str_state_dicts.txt')


def sections(path):
    out, cur = {}, None
    for line in open(path, encoding='utf-8'):
        if line.startswith('### '):
            cur = line[4:].strip()
            out[cur] = {}
        elif cur and line.strip() and not line.startswith('#'):
            key, shape, _ = line.rstrip('\n').split('\t')
            out[cur][key] = [int(x) for x in re.findall(r'\d+', shape)]
    return out


def main():
    if not os.path.exists(REF):
        print(f'skip: {REF} not found')
        return 0
    ref = sections(REF)
    models = {'None-VGG-BiLSTM-CTC': crnn_opt(), 'TPS-ResNet-BiLSTM-Attn': trba_opt(), 'EasyOCR english_g2': easyocr_g2_opt()}
    bad = 0
    for title, keys in ref.items():
        name = next(n for n in models if title.startswith(n))
        sd = Model(models[name]).state_dict()
        mine = {k: list(v.shape) for k, v in sd.items()}
        if mine != keys:
            bad += 1
            print(f'{name}: MISMATCH', sorted(set(mine) ^ set(keys))[:10],
                  [(k, mine[k], keys[k]) for k in mine if k in keys and mine[k] != keys[k]][:5])
        else:
            print(f'{name}: {len(keys)} keys match')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
