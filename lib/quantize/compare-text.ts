/*! craft-text | MIT */
// Accuracy and speed of several recognisers on one recognition set (labels.tsv crops or a dataset's words), in one
// run: every image goes through every model back to back (the order rotates per image), as compare.ts does for CRAFT.
import { loadRecognitionDataset, scoreRecognition, toRegion, type RecognitionScores } from '../eval/recognition';
import { Recognizer } from '../recognizer';
import type { CompareModel } from './compare';

export interface RecognizerCompareRow extends RecognitionScores {
  label: string;
  /** Words whose string equals the first (baseline) model's, as a fraction of all words. */
  agreement: number;
  /** Model run time per word (timings.inference summed / words), ms. */
  inferenceMsPerWord: number;
  /** Whole recognize() calls per word, ms. */
  totalMsPerWord: number;
  errors: number;
}

export interface RecognizerCompareResult {
  dataset: string;
  images: number;
  words: number;
  rows: RecognizerCompareRow[];
  seconds: number;
}

/** Reads every word of `dataset` with every model (interleaved, no rotation retry) and scores each (DTRB protocol). */
export async function compareRecognizers(models: CompareModel[], dataset: string, opts: {
  limit?: number; threads?: number; onProgress?: (done: number, total: number) => void;
} = {}): Promise<RecognizerCompareResult> {
  let samples = await loadRecognitionDataset(dataset);
  if (opts.limit !== undefined) samples = samples.slice(0, opts.limit);
  if (samples.length === 0) throw new Error(`no words in ${dataset}`);
  const recognizers: Recognizer[] = [];
  const read = { rotationRetryThreshold: 0, marginRetryThreshold: 0, orientationRetryThreshold: 0,
    stretchRetryThreshold: 0 };
  try {
    for (const m of models) {
      recognizers.push(await Recognizer.create({ model: m.model, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) }));
    }
    for (const r of recognizers) await r.recognize(samples[0].imagePath, samples[0].regions?.map(toRegion), read).catch(() => undefined);
    const texts: string[][] = models.map(() => []);
    const inf = models.map(() => 0), tot = models.map(() => 0), errors = models.map(() => 0);
    const t0 = performance.now();
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      for (let k = 0; k < models.length; k++) {
        const j = (i + k) % models.length;
        const start = performance.now();
        try {
          const r = await recognizers[j].recognizeDetailed(s.imagePath, s.regions?.map(toRegion), read);
          tot[j] += performance.now() - start;
          inf[j] += r.timings.inference;
          texts[j].push(...r.words.map((w) => w.text));
        } catch {
          errors[j]++;
          texts[j].push(...s.texts.map(() => ''));
        }
      }
      opts.onProgress?.(i + 1, samples.length);
    }
    const gts = samples.flatMap((s) => s.texts);
    const rows = models.map((m, j) => ({
      label: m.label,
      ...scoreRecognition(gts.map((gt, w) => ({ gt, pred: texts[j][w] }))),
      agreement: texts[j].filter((t, w) => t === texts[0][w]).length / gts.length,
      inferenceMsPerWord: inf[j] / gts.length, totalMsPerWord: tot[j] / gts.length, errors: errors[j],
    }));
    return { dataset, images: samples.length, words: gts.length, rows, seconds: (performance.now() - t0) / 1000 };
  } finally {
    for (const r of recognizers) await r.dispose();
  }
}
