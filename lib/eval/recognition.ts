/*! craft-text | MIT */
// Recognition and end-to-end OCR metrics, and the recognition dataset reader (labels.tsv crops or gt.jsonl words).
//
// Recognition, as deep-text-recognition-benchmark's test.py with --sensitive --data_filtering_off: both texts lower
// cased, everything outside [0-9a-z] deleted, exact match, every sample counted (also those whose normalised text is
// empty). Also case-sensitive exact accuracy and 1 - normalised edit distance (ICDAR 2019: 1 - ED / max(len)).
// End to end: word spotting (a detection is correct when it matches a ground-truth word one-to-one at IoU > 0.5 and
// their normalised texts are equal) and a page-level bag-of-words F1 (multisets of normalised whitespace tokens),
// which does not care how the words were boxed, so it is fair to tools that return lines.

import { promises as fsp } from 'fs';
import * as path from 'path';
import { loadDataset, type DatasetSample } from './dataset';
import { preparePolygon } from './geometry';
import { resolveEvalOptions } from './evaluate';
import { scoreIou } from './protocols';
import type { GtWord, Point } from './types';
import type { Region, RegionInput } from '../types';

/** DTRB's case-insensitive alphanumeric normalisation: lower case, keep only [0-9a-z]. */
export function normalizeText(s: string): string {
  return s.toLowerCase().replace(/[^0-9a-z]/g, '');
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** 1 - ED / max(len): 1 for equal texts (also both empty), 0 for nothing in common. */
export function oneMinusNed(pred: string, gt: string): number {
  const m = Math.max([...pred].length, [...gt].length);
  return m === 0 ? 1 : 1 - editDistance(pred, gt) / m;
}

export interface RecognitionScores {
  /** Samples scored (all of them). */
  count: number;
  /** DTRB word accuracy (normalised exact match). */
  accuracy: number;
  /** Case-sensitive exact match of the full texts. */
  exactAccuracy: number;
  /** Mean 1 - normalised edit distance over the full (case-sensitive) texts. */
  oneMinusNed: number;
  correct: number;
  exactCorrect: number;
}

/** Scores predictions against ground-truth texts (same order, same length). */
export function scoreRecognition(pairs: readonly { pred: string; gt: string }[]): RecognitionScores {
  let correct = 0;
  let exact = 0;
  let ned = 0;
  for (const { pred, gt } of pairs) {
    if (normalizeText(pred) === normalizeText(gt)) correct++;
    if (pred === gt) exact++;
    ned += oneMinusNed(pred, gt);
  }
  const n = pairs.length;
  return {
    count: n, accuracy: n ? correct / n : 0, exactAccuracy: n ? exact / n : 0, oneMinusNed: n ? ned / n : 0,
    correct, exactCorrect: exact,
  };
}

/** A word found and read, for end-to-end scoring. */
export interface OcrDetection {
  points: Point[];
  text: string;
}

export interface OcrImageScores {
  /** Ground-truth words that count for word spotting (not don't-care, normalised text not empty). */
  gtCount: number;
  /** Detections that count (not discarded by the don't-care rule). */
  detCount: number;
  /** IoU matches (one-to-one, IoU > threshold). */
  matched: number;
  /** IoU matches whose normalised texts are equal. */
  spotted: number;
  /** Bag of words: tokens of the ground truth, of the prediction, and in common (multiset intersection). */
  bagGt: number;
  bagPred: number;
  bagCommon: number;
}

export interface OcrScores extends OcrImageScores {
  images: number;
  spotting: { precision: number; recall: number; hmean: number };
  bagOfWords: { precision: number; recall: number; f1: number };
  perImage: OcrImageScores[];
}

const f1 = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** Normalised whitespace tokens (empty ones dropped). */
export function bagOfWords(texts: readonly string[]): Map<string, number> {
  const bag = new Map<string, number>();
  for (const t of texts) {
    for (const tok of t.split(/\s+/)) {
      const n = normalizeText(tok);
      if (n) bag.set(n, (bag.get(n) ?? 0) + 1);
    }
  }
  return bag;
}

/** End-to-end scores of one image. Ground-truth words that are don't-care or have no alphanumeric text are don't-care. */
export function scoreOcrImage(gt: readonly GtWord[], det: readonly OcrDetection[], iouThreshold = 0.5): OcrImageScores {
  const gtIgnore = gt.map((g) => g.ignore === true || normalizeText(g.text ?? '') === '');
  const r = scoreIou(gt.map((g) => preparePolygon(g.points)), gtIgnore, det.map((d) => preparePolygon(d.points)),
    resolveEvalOptions({ protocol: 'iou', iouThreshold }));
  let spotted = 0;
  for (const m of r.matches) {
    if (normalizeText(gt[m.gt[0]].text ?? '') === normalizeText(det[m.det[0]].text)) spotted++;
  }
  const bg = bagOfWords(gt.filter((g) => !g.ignore).map((g) => g.text ?? ''));
  const bp = bagOfWords(det.map((d) => d.text));
  let common = 0;
  for (const [k, v] of bp) common += Math.min(v, bg.get(k) ?? 0);
  const sum = (b: Map<string, number>) => [...b.values()].reduce((a, v) => a + v, 0);
  return {
    gtCount: r.gtCount, detCount: r.detCount, matched: r.matches.length, spotted,
    bagGt: sum(bg), bagPred: sum(bp), bagCommon: common,
  };
}

/** End-to-end scores over images (micro averages: counts summed over the set). */
export function scoreOcr(images: readonly { gt: readonly GtWord[]; det: readonly OcrDetection[] }[], iouThreshold = 0.5): OcrScores {
  const perImage = images.map((im) => scoreOcrImage(im.gt, im.det, iouThreshold));
  const tot = perImage.reduce((a, s) => ({
    gtCount: a.gtCount + s.gtCount, detCount: a.detCount + s.detCount, matched: a.matched + s.matched,
    spotted: a.spotted + s.spotted, bagGt: a.bagGt + s.bagGt, bagPred: a.bagPred + s.bagPred,
    bagCommon: a.bagCommon + s.bagCommon,
  }), { gtCount: 0, detCount: 0, matched: 0, spotted: 0, bagGt: 0, bagPred: 0, bagCommon: 0 });
  const sp = tot.detCount ? tot.spotted / tot.detCount : 0;
  const sr = tot.gtCount ? tot.spotted / tot.gtCount : 0;
  const bp = tot.bagPred ? tot.bagCommon / tot.bagPred : 0;
  const br = tot.bagGt ? tot.bagCommon / tot.bagGt : 0;
  return {
    ...tot, images: images.length, perImage,
    spotting: { precision: sp, recall: sr, hmean: f1(sp, sr) },
    bagOfWords: { precision: bp, recall: br, f1: f1(bp, br) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Recognition datasets

/** One image of a recognition set: the whole image is one word (`regions` undefined), or words at boxes. */
export interface RecognitionSample {
  imagePath: string;
  /** Word boxes in the image; undefined = the image is a word crop. */
  regions?: Point[][];
  /** The texts, one per region (or one for a crop). */
  texts: string[];
}

/** A ground-truth word's points as recognize() takes them: a quad as is, a polygon with its bounding box. */
export function toRegion(p: Point[]): RegionInput {
  if (p.length === 4) return p as Region;
  const xs = p.map((q) => q[0]);
  const ys = p.map((q) => q[1]);
  const [l, t, r, b] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  return { box: [[l, t], [r, t], [r, b], [l, b]], polygon: p };
}

/**
 * Parses `labels.tsv` (`file<TAB>text` per line, paths relative to `baseDir`; a BOM, CRLF and blank lines are
 * accepted). The text is everything after the first tab, kept as written.
 */
export function parseLabelsTsv(text: string, baseDir: string, source = 'labels.tsv'): RecognitionSample[] {
  const out: RecognitionSample[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const tab = line.indexOf('\t');
    if (tab <= 0) throw new Error(`${source}:${i + 1}: expected "file<TAB>text"`);
    out.push({ imagePath: path.resolve(baseDir, line.slice(0, tab)), texts: [line.slice(tab + 1)] });
  });
  return out;
}

/** The words of a detection dataset with text as recognition samples: every non-ignored word with a non-empty text. */
export function recognitionFromDataset(samples: readonly DatasetSample[]): RecognitionSample[] {
  const out: RecognitionSample[] = [];
  for (const s of samples) {
    const words = s.words.filter((w) => !w.ignore && (w.text ?? '') !== '');
    if (words.length) out.push({ imagePath: s.imagePath, regions: words.map((w) => w.points), texts: words.map((w) => w.text!) });
  }
  return out;
}

/** Loads a recognition set: a folder with `labels.tsv` (word crops), else a detection dataset with texts. */
export async function loadRecognitionDataset(dir: string): Promise<RecognitionSample[]> {
  const tsv = path.join(dir, 'labels.tsv');
  let text: string | undefined;
  try {
    text = await fsp.readFile(tsv, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) return parseLabelsTsv(text, dir, tsv);
  return recognitionFromDataset(await loadDataset(dir));
}
