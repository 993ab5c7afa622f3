#!/usr/bin/env python3
"""The committed character-box fixtures (issue 17): a few synthetic pages from tools/train/synth.py with the
generator's exact per-character boxes, for test/scale.test.ts and bench/characters.js.

    python3 tools/train/make_char_fixtures.py [--out test/fixtures/characters] [--size 512] [--seed 0]

Writes <layout>-<index>.png and characters.json: {pages: [{image, words: [{chars: [[[x, y] x4] ...]}]}]}, the words
whose characters all lie inside the page (a word cut by the crop edge has no exact boxes for what is outside).
Deterministic for a given seed (the generator's samples are functions of seed, split and index; split 'preview').
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synth import Synth  # noqa: E402

PAGES = [('document', 0), ('form', 1), ('web', 2), ('receipt', 3)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='test/fixtures/characters')
    ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    synth = Synth(args.size, args.seed)
    pages = []
    for layout, index in PAGES:
        s = synth.sample(index, 'preview', layout=layout)
        name = f'{layout}-{index}.png'
        Image.fromarray(s['image']).save(os.path.join(args.out, name), optimize=True)
        words = []
        for q in s['words']:
            q = np.asarray(q, np.float64)
            if q.min() < 0 or q[..., 0].max() > args.size or q[..., 1].max() > args.size:
                continue
            words.append({'chars': [[[round(float(x), 2), round(float(y), 2)] for x, y in c] for c in q]})
        pages.append({'image': name, 'words': words})
        print(f'{name}: {len(words)} words, {sum(len(w["chars"]) for w in words)} characters')
    meta = {'generator': 'tools/train/synth.py', 'size': args.size, 'seed': args.seed, 'split': 'preview',
            'pages': pages}
    with open(os.path.join(args.out, 'characters.json'), 'w') as f:
        json.dump(meta, f, separators=(',', ':'))


if __name__ == '__main__':
    main()
