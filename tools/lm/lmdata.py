"""The character language model's text and its tuning words, kept apart from the recogniser's dev data.

    python3 tools/lm/lmdata.py --write-tune <dir>    # the tuning slice's crops: <dir>/{ic13,funsd,ic15}/labels.tsv

Text (corpus()), every word case-folded later by the model (ngram.py):
  * the English word list the synthetic generator draws from (/usr/share/dict/words, Debian wamerican), each
    entry once;
  * tokens of the synthetic generator's own text source (wordsynth.WordSynth.token: dictionary words in every case,
    numbers, amounts, dates, times, percentages, codes / IDs, phone numbers, URLs, abbreviations, random printable
    strings), so the model does not pull digits and codes towards words;
  * the transcriptions of the *train* parts of FUNSD, ICDAR 2013 and ICDAR 2015 (recdata.is_dev false), except the
    tuning slice below.
The dev parts (recdata.is_dev) are never read here.

Tuning slice: the train pages (ICDAR 2015: the train crop blocks) with is_tune(key), about a seventh; their
transcriptions are left out of the text, and their crops (cut at the ground-truth boxes, as the dev crops) are where
the fusion weights are chosen. The recogniser was trained on them (the whole train part), so it reads them more
surely than unseen words: the weights chosen there are, if anything, too small.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'train'))
import recdata as R  # noqa: E402

DICT = '/usr/share/dict/words'
SYNTH_TOKENS = 300_000
REAL_WEIGHT = 5  # the train transcriptions count this many times (forms' and scenes' own words, few of them)


def is_tune(key: str) -> bool:
    return int(hashlib.sha1(('lm-tune:' + key).encode()).hexdigest()[:8], 16) % 7 == 0


def train_words(name: str, tune: bool) -> list[str]:
    """Transcriptions of a set's train part: the tuning slice's (tune) or the rest's."""
    out = []
    if name == 'ic15':
        with open(os.path.join(R.DATA, R.SETS['ic15'], 'labels.tsv'), encoding='utf-8') as fh:
            for line in fh:
                f, t = line.rstrip('\n').split('\t', 1)
                b = R.ic15_block(f)
                if t and not R.is_dev(b) and is_tune(b) == tune:
                    out.append(t)
        return out
    with open(os.path.join(R.DATA, R.SETS[name], 'gt.jsonl'), encoding='utf-8') as fh:
        for line in fh:
            r = json.loads(line)
            key = os.path.basename(r['image'])
            if R.is_dev(key) or is_tune(key) != tune:
                continue
            out += [w['text'] for w in r['words'] if not w.get('ignore') and w['text']]
    return out


def synth_tokens(n: int, seed: int = 1234) -> list[str]:
    """n tokens of the generator's text source (WordSynth.token, the same case mix), without rendering."""
    import synth as S
    import wordsynth as W
    with open(DICT, encoding='utf-8', errors='ignore') as fh:
        words = [w for w in (x.strip() for x in fh) if 1 <= len(w) <= 14 and "'" not in w and w.isalpha()]

    class Text:  # the part of WordSynth token() reads
        tg = S.TextGen(words)
    rng = np.random.default_rng(seed)
    cases = ['sentence', 'lower', 'upper', 'title']
    return [W.to_charset(W.WordSynth.token(Text, rng, cases[rng.choice(4, p=[.45, .25, .18, .12])]))
            for _ in range(n)]


def corpus() -> list[tuple[str, int]]:
    """(text, count) pairs, each text a word or token as written (charset_label'd)."""
    out: list[tuple[str, int]] = []
    with open(DICT, encoding='utf-8', errors='ignore') as fh:
        out += [(R.charset_label(w.strip()), 1) for w in fh if w.strip()]
    out += [(t, 1) for t in synth_tokens(SYNTH_TOKENS)]
    for name in ('funsd', 'ic13', 'ic15'):
        out += [(R.charset_label(t), REAL_WEIGHT) for t in train_words(name, tune=False)]
    return [(t, c) for t, c in out if t.strip()]


def write_tune(root: str) -> dict:
    counts = {}
    for name in ('funsd', 'ic13', 'ic15'):
        if name == 'ic15':
            samples = [(im, t) for im, t in R.load_ic15('train')]
            # load_ic15 does not return the file names: filter by block again
            keep = []
            with open(os.path.join(R.DATA, R.SETS['ic15'], 'labels.tsv'), encoding='utf-8') as fh:
                for line in fh:
                    f, t = line.rstrip('\n').split('\t', 1)
                    if t and not R.is_dev(R.ic15_block(f)):
                        keep.append(is_tune(R.ic15_block(f)))
            samples = [s for s, k in zip(samples, keep) if k]
        else:
            samples = [(R.cut(p['image'], q), t) for p in R.load_pages(name, 'train') if is_tune(p['key'])
                       for q, t in p['words']]
        counts[name] = R.write_crops(os.path.join(root, name), samples)
    return counts


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('--write-tune')
    ap.add_argument('--stats', action='store_true')
    a = ap.parse_args()
    if a.write_tune:
        print(write_tune(a.write_tune))
    if a.stats:
        for name in ('funsd', 'ic13', 'ic15'):
            print(name, 'text', len(train_words(name, False)), 'tune', len(train_words(name, True)))
