/*! craft-text | MIT */
// Split words joined (docs/recognition.md#split-words): CRAFT cuts some words in pieces (at punctuation, where its
// affinity is weak, and inside words on noisy scans); Ocr.read() reads the junctions of neighbouring pieces of a
// line, then the box around the pieces whose junction reads as one word, and keeps the joint reading when the
// recogniser finds one word there and is surer of it than of the pieces. Pure functions: the candidates come from
// lib/layout.ts (joinRuns), the readings from the recogniser.
import type { JoinRun } from './layout';
import type { OcrWord, Point } from './types';

/** What `read()`'s `join` option resolves to (lib/options.ts readJoinOptions). */
export interface JoinSettings {
  /** Largest gap between two pieces, in multiples of the larger one's height. */
  maxGap: number;
  /** Only pairs with a piece read below this confidence are candidates (joinCandidate). */
  maxConfidence: number;
  /** Most pieces read as one. */
  maxWords: number;
}

/** A reading as the join compares it. */
export interface JoinReading {
  text: string;
  confidence: number;
}

/**
 * Whether two neighbouring readings are worth reading again as one: only when one of them was read below
 * `maxConfidence` (1: always). A pair read confidently is left alone, which keeps the second read's cost down.
 */
export function joinCandidate(left: JoinReading, right: JoinReading, maxConfidence: number): boolean {
  return maxConfidence >= 1 || Math.min(left.confidence, right.confidence) < maxConfidence;
}

/**
 * The most a joint reading's frames may give the space class anywhere and still count as one word. Greedy decoding
 * drops a space the model half-sees between tightly set words (`SUBMISSION DATE` read `SUBMISSIONDATE`); a split
 * word's frames give the space almost nothing. On the dev pages' pairs (tools/eval/join_gaps.js) the highest space
 * probability over a joint reading's frames has a median of 0.0002 for split words (90th percentile 0.016) and
 * 0.10 for word spaces read without a space (10th percentile 0.001).
 */
export const MAX_SPACE_PROBABILITY = 0.01;

/** The highest probability of class `space` over the frames of a reading's logits (T x K, before softmax). */
export function spaceProbability(logits: Float32Array, classes: number, space: number): number {
  let best = 0;
  for (let t = 0; t + classes <= logits.length; t += classes) {
    let max = -Infinity, sum = 0;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[t + k]);
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[t + k] - max);
    best = Math.max(best, Math.exp(logits[t + space] - max) / sum);
  }
  return best;
}

/** How far the junction check's crop reaches into each of the two words, in text heights. */
export const JUNCTION_REACH = 1;

/** A reading of one word: text without white space, and no frame giving the space class over MAX_SPACE_PROBABILITY. */
export function oneWord(text: string, spaceProbability: number): boolean {
  return text.length > 0 && !/\s/.test(text) && spaceProbability <= MAX_SPACE_PROBABILITY;
}

/**
 * Whether the joint reading of a run replaces its pieces': it must be one word (no white space read, and no frame
 * giving the space class more than MAX_SPACE_PROBABILITY: `spaceProbability`) and more confident than the pieces
 * together. The confidences are DTRB-style products over the frames, and the union crop has about the frames of the
 * pieces' crops together, so the pieces' side is the product of their confidences: the probability that every piece
 * is read right.
 */
export function acceptJoin(pieces: readonly JoinReading[], joint: JoinReading, spaceProbability: number): boolean {
  if (!oneWord(joint.text, spaceProbability)) return false;
  const together = pieces.reduce((p, r) => p * r.confidence, 1);
  return joint.confidence > together;
}

/** The word that replaces a run's pieces: the run's box and the joint reading; the detector's scores combined. */
export function joinedWord(run: JoinRun, pieces: readonly OcrWord[], joint: JoinReading & { rotation: number }): OcrWord {
  const box = run.box.map(([x, y]) => [x, y] as Point) as [Point, Point, Point, Point];
  const w: OcrWord = {
    box,
    score: pieces.reduce((a, p) => a + p.score, 0) / pieces.length,
    rawScore: Math.max(...pieces.map((p) => p.rawScore)),
    text: joint.text,
    confidence: joint.confidence,
    rotation: joint.rotation,
    joined: pieces.length,
  };
  if (pieces.some((p) => p.polygon !== undefined)) w.polygon = box.map(([x, y]) => [x, y] as Point);
  if (pieces.every((p) => p.characters !== undefined)) w.characters = pieces.flatMap((p) => p.characters ?? []);
  return w;
}
