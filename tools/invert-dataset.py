#!/usr/bin/env python3
"""Writes a photometrically inverted copy of an annotated dataset (images/ + gt.jsonl [+ gt/]):

    python3 tools/invert-dataset.py ../shared/data/icdar2013_born_digital /tmp/bd_inverted

Every image becomes 255 - RGB (palette, CMYK and alpha flattened to RGB first), saved losslessly as PNG, so light
text on dark is scored against the same boxes as the original. gt.jsonl is copied with the image names changed to
.png; an ICDAR 2013 gt/ folder is copied as well so that `craft-text eval` applies the same (inclusive) box
convention as on the original set. Tooling only (Pillow).
"""
import json
import os
import shutil
import sys

from PIL import Image


def main(src: str, dst: str) -> None:
    os.makedirs(os.path.join(dst, 'images'), exist_ok=True)
    out_lines = []
    with open(os.path.join(src, 'gt.jsonl'), encoding='utf-8') as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            img = Image.open(os.path.join(src, rec['image']))
            img.seek(0)
            if img.mode in ('RGBA', 'LA', 'P'):
                img = img.convert('RGBA')
                bg = Image.new('RGBA', img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(bg, img)
            rgb = img.convert('RGB')
            inv = Image.eval(rgb, lambda v: 255 - v)
            name = os.path.splitext(rec['image'])[0] + '.png'
            inv.save(os.path.join(dst, name))
            rec['image'] = name
            out_lines.append(json.dumps(rec, ensure_ascii=False))
    with open(os.path.join(dst, 'gt.jsonl'), 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(out_lines) + '\n')
    if os.path.isdir(os.path.join(src, 'gt')):
        shutil.copytree(os.path.join(src, 'gt'), os.path.join(dst, 'gt'), dirs_exist_ok=True)
    print(f'{len(out_lines)} images inverted into {dst}')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
