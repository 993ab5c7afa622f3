#!/usr/bin/env python3
"""Prints the measured tables of models/craft-text-recognizer.md from tools/train/ship_rec.sh's reports.

    python3 tools/train/card_rec.py tools/train/runs/ship [tools/train/runs/tess-crops.json] [tools/train/runs/tess-pages.json]
"""
import json
import os
import sys

d = sys.argv[1]
tess = json.load(open(sys.argv[2])) if len(sys.argv) > 2 and os.path.exists(sys.argv[2]) else {}
tpages = json.load(open(sys.argv[3])) if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else {}
ev = json.load(open(os.path.join(d, 'eval_rec.json')))
NAMES = {'ic13': 'ICDAR 2013 born-digital', 'funsd': 'FUNSD', 'ic15': 'ICDAR 2015'}
f3 = lambda v: f'{v:.3f}'  # noqa: E731

print('| set (dev words) | FP32: DTRB / exact / 1-NED | INT8: DTRB / exact / 1-NED | Tesseract psm 7 / psm 8 / psm 7 upscaled (DTRB) | target |')
print('|---|---|---|---|---|')
for k, target in (('ic13', 0.90), ('funsd', 0.90), ('ic15', 0.65)):
    r = ev[k]
    a, b = r['craft-text-recognizer.onnx'], r['craft-text-recognizer-int8.onnx']
    t = tess.get(k, {})
    ts = ' / '.join(f3(t[x]['dtrb']) for x in ('tesseract-psm7', 'tesseract-psm8', 'tesseract-psm7-upscaled') if x in t)
    print(f"| {NAMES[k]} ({r['n']}) | **{f3(a['dtrb'])}** / {f3(a['exact'])} / {f3(a['ned'])} | {f3(b['dtrb'])} / "
          f"{f3(b['exact'])} / {f3(b['ned'])} | {ts} | {target} |")
print()
print('speed (ms per word, eval_rec, interleaved, best of 3):')
for k in ('ic13', 'funsd', 'ic15'):
    r = ev[k]
    a, b = r['craft-text-recognizer.onnx'], r['craft-text-recognizer-int8.onnx']
    t = tess.get(k, {}).get('tesseract-psm7', {})
    print(f"  {k}: FP32 {a['ms_per_word']:.2f}, INT8 {b['ms_per_word']:.2f} ({a['ms_per_word'] / b['ms_per_word']:.2f}x)"
          + (f", tesseract psm7 {t['ms_per_word']:.1f}" if t else ''))
print()
for s in ('ic13', 'funsd'):
    for tag in ('craft-text-recognizer', 'craft-text-recognizer-int8', 'margin0'):
        p = os.path.join(d, f'rec-{s}-{tag}.json')
        if os.path.exists(p):
            r = json.load(open(p))
            print(f"runtime recognition {s} {tag} (crop margin {r.get('margin')}): {r['accuracy']:.3f} / {r['exactAccuracy']:.3f} / {r['oneMinusNed']:.3f} "
                  f"({r['correct']}/{r['count']}), {r['throughput']['inferenceMsPerWord']:.2f} ms/word model runs")
    # ship_rec.sh: ocr-<set> is the default (INT8, join off since session 11; before, join on and -nojoin, -fp32-nojoin
    # beside it); -join, -fp32, -fp32-join, -margin0 (INT8)
    for tag in ('', '-join', '-nojoin', '-fp32', '-fp32-join', '-fp32-nojoin', '-margin0'):
        p = os.path.join(d, f'ocr-{s}{tag}.json')
        if not os.path.exists(p):
            continue
        r = json.load(open(p))
        print(f"ocr {os.path.basename(p)[4:-5]} ({os.path.basename(str(r.get('recognizer')))}, crop margin {r.get('margin')}, "
              f"join {'off' if not r.get('join') else 'on'}): spotting P/R/H {r['spotting']['precision']:.3f} / {r['spotting']['recall']:.3f} / "
              f"{r['spotting']['hmean']:.3f}; bag of words P/R/F1 {r['bagOfWords']['precision']:.3f} / "
              f"{r['bagOfWords']['recall']:.3f} / {r['bagOfWords']['f1']:.3f}")
for k, r in tpages.items():
    print(f"tesseract pages {k}: spotting P/R/H {r['spotting']['precision']:.3f} / {r['spotting']['recall']:.3f} / "
          f"{r['spotting']['hmean']:.3f}; bag of words {r['bagOfWords']['precision']:.3f} / {r['bagOfWords']['recall']:.3f}"
          f" / {r['bagOfWords']['f1']:.3f}; {r['ms_per_image']:.0f} ms/page")
for tag in ('', '-int8'):
    p = os.path.join(d, f'rec-ic15{tag}.json')
    if os.path.exists(p):
        r = json.load(open(p))
        print(f"runtime recognition ic15{tag} crops: {r['accuracy']:.3f} / {r['exactAccuracy']:.3f} / {r['oneMinusNed']:.3f}")
for tag in ('fp32', 'int8'):
    p = os.path.join(d, f'bench-{tag}.json')
    if os.path.exists(p) and os.path.getsize(p):
        try:
            b = json.load(open(p))
            # bench/recognize.js --json: perWord and read are lists (one entry per --model; per recogniser and read()
            # setting, each named by `mode`; older reports name it `retry`). The defaults' entry first.
            for w in b['perWord']:
                print(f"bench {tag}: {b['page']} {b['words']} words; {w['model']}: batched {w['batchedMs']:.2f} ms/word "
                      f"(one call per word {w['oneAtATimeMs']:.2f})")
            reads = sorted(b['read'], key=lambda r: r.get('mode', r.get('retry')) != 'defaults')
            for r in reads:
                print(f"bench {tag}: read() {r['recognizer']} [{r.get('mode', r.get('retry'))}]: detection {r['detectionMs']:.0f} ms, "
                      f"recognition {r['recognitionMs']:.0f} ms ({r['recognitionOverDetection']:.2f}x) for {r['words']} words"
                      + (f" ({r['joined']} joined)" if r.get('joined') else ''))
        except Exception as e:  # noqa: BLE001
            print(f'bench {tag}: unreadable ({e})')
