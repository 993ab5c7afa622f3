#!/usr/bin/env python3
"""Writes gt.jsonl views of the detection sets without their dev pages (recdata.is_dev), for `craft-text tune` of a
fine-tuned candidate on pages it may have trained on but that the dev evaluation (bench/finetune.js) never uses.

    python3 tools/train/train_pages.py <out-dir>     ->  <out-dir>/icdar2013_born_digital, <out-dir>/funsd_train
"""
import json
import os
import sys

from recdata import DATA, is_dev

out = sys.argv[1]
for name in ('icdar2013_born_digital', 'funsd_train'):
    src = os.path.abspath(os.path.join(DATA, name))
    os.makedirs(os.path.join(out, name), exist_ok=True)
    if os.path.isdir(os.path.join(src, 'gt')) and not os.path.exists(os.path.join(out, name, 'gt')):
        os.symlink(os.path.join(src, 'gt'), os.path.join(out, name, 'gt'))  # the loader reads both sets' boxes as inclusive when their originals are there
    n = 0
    with open(os.path.join(src, 'gt.jsonl')) as f, open(os.path.join(out, name, 'gt.jsonl'), 'w') as o:
        for line in f:
            if line.strip():
                d = json.loads(line)
                if not is_dev(os.path.basename(d['image'])):
                    d['image'] = os.path.join(src, d['image'])
                    o.write(json.dumps(d) + '\n')
                    n += 1
    print(name, n, 'train pages')
