/*! craft-text | MIT */
// `craft-text eval --task recognition|ocr`: read the words of an annotated set (ground-truth boxes or word crops) or
// find and read them end to end, and score the texts (lib/eval/recognition.ts).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createProgress } from '../eval';
import { loadRecognitionDataset, scoreOcr, scoreRecognition, toRegion, type OcrDetection, type RecognitionSample } from '../eval/recognition';
import { Ocr } from '../ocr';
import { JOIN_DEFAULTS } from '../options';
import { Recognizer } from '../recognizer';
import { checkRecognizeFlags, detectOptionsFromFlags, UsageError } from './args';
import { loadSamples, pool } from './eval';

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
const pct = (v: number) => (v * 100).toFixed(2) + ' %';

/** The recognize() options the eval flags set, checked against the loaded recogniser (`info`: a bad flag is a
 * UsageError), and every setting they resolve to for the report. */
function readOptions(s: TextEvalSettings, info: Parameters<typeof checkRecognizeFlags>[1]) {
  const recognize = {
    ...(s.margin !== undefined ? { margin: s.margin } : {}),
    ...(s.marginRetry !== undefined ? { marginRetryThreshold: s.marginRetry } : {}),
    ...(s.inkCrop !== undefined ? { inkCrop: s.inkCrop } : {}),
    ...(s.orientationRetry !== undefined ? { orientationRetryThreshold: s.orientationRetry } : {}),
    ...(s.contrastRetry !== undefined ? { contrastRetryThreshold: s.contrastRetry } : {}),
    ...(s.stretchRetry !== undefined ? { stretchRetryThreshold: s.stretchRetry } : {}),
    ...(s.verticalRetry !== undefined ? { verticalRetry: s.verticalRetry } : {}),
    ...(s.allowlist !== undefined ? { allowlist: s.allowlist } : {}),
    ...(s.blocklist !== undefined ? { blocklist: s.blocklist } : {}),
    ...(s.decoder !== undefined ? { decoder: s.decoder } : {}),
    ...(s.languageModel === false ? { languageModel: false } : {}),
    ...(s.lmWeight !== undefined ? { lmWeight: s.lmWeight } : {}),
    ...(s.insertionBonus !== undefined ? { insertionBonus: s.insertionBonus } : {}),
  };
  const v = checkRecognizeFlags(recognize, info);  // recognize()'s own resolution: the defaults, the LM's decoding
  return {
    recognize,
    // the settings as resolved, in the JSON report's order
    resolved: {
      margin: v.margin,
      marginRetry: v.marginRetryThreshold,
      orientationRetry: v.orientationRetryThreshold,
      contrastRetry: v.contrastRetryThreshold,
      stretchRetry: v.stretchRetryThreshold,
      verticalRetry: v.verticalRetry,
      inkCrop: v.inkCrop,
      // the fused LM: false when off (none loaded, turned off, or the greedy decoder asked for)
      languageModel: v.languageModel ? { weight: v.lmWeight, insertionBonus: v.insertionBonus } : false as const,
      decoder: v.decoder,
      // only when given: the reports of a run without them keep their keys
      ...(s.allowlist !== undefined ? { allowlist: s.allowlist } : {}),
      ...(s.blocklist !== undefined ? { blocklist: s.blocklist } : {}),
    },
  };
}

/** Recognizer.create()'s languageModel from --language-model (off: none; on: the bundled one; a path: that file;
 * absent: create()'s default). */
function lmCreate(s: TextEvalSettings): { languageModel?: false | string } {
  return s.languageModel === undefined ? {} : { languageModel: s.languageModel };
}

/** How the summaries name the crops (the margin, fitted to the ink only with a margin) and the retries. */
function cropSummary(r: ReturnType<typeof readOptions>['resolved']): string {
  return `crop margin ${r.margin}${r.inkCrop && r.margin > 0 ? ' fitted to the ink' : ''}, margin retry below ` +
    `${r.marginRetry}, orientation retry below ${r.orientationRetry}, contrast retry below ${r.contrastRetry}, ` +
    `stretch retry below ${r.stretchRetry}, vertical retry ${r.verticalRetry ? 'on' : 'off'}, ${r.decoder} decoding` +
    (r.languageModel ? ` with the language model (weight ${r.languageModel.weight}, insertion bonus ${r.languageModel.insertionBonus})` : '') +
    (r.allowlist !== undefined ? `, allowlist ${JSON.stringify(r.allowlist)}` : '') +
    (r.blocklist !== undefined ? `, blocklist ${JSON.stringify(r.blocklist)}` : '');
}

/** read()'s join option from --join-gap (0 or absent: off, as read()'s default; n: on with that gap) and
 * --join-confidence (on with the default gap), resolved for the report. */
function joinFlags(s: TextEvalSettings): false | { maxGap: number; maxConfidence: number } {
  if (s.joinGap === 0 || (s.joinGap === undefined && s.joinConfidence === undefined)) return false;
  return { maxGap: s.joinGap ?? JOIN_DEFAULTS.maxGap, maxConfidence: s.joinConfidence ?? JOIN_DEFAULTS.maxConfidence };
}

export interface TextEvalSettings {
  dir: string;
  model?: string;
  recognizer?: string;
  /** recognize()'s crop margin (undefined: the model's). */
  margin?: number;
  /** recognize()'s marginRetryThreshold (undefined: its default). */
  marginRetry?: number;
  /** recognize()'s inkCrop (undefined: its default). */
  inkCrop?: boolean;
  /** recognize()'s orientationRetryThreshold (undefined: its default). */
  orientationRetry?: number;
  /** recognize()'s contrastRetryThreshold (undefined: its default). */
  contrastRetry?: number;
  /** recognize()'s stretchRetryThreshold (undefined: its default). */
  stretchRetry?: number;
  /** recognize()'s verticalRetry (undefined: its default). */
  verticalRetry?: boolean;
  /** recognize()'s allowlist / blocklist (undefined: none). */
  allowlist?: string;
  blocklist?: string;
  /** recognize()'s decoder (undefined: its default). */
  decoder?: 'greedy' | 'beam';
  /** The recogniser's language model: false = none, 'default' = the bundled one, a path = that file (undefined:
   * create()'s default). */
  languageModel?: false | string;
  /** recognize()'s lmWeight / insertionBonus (undefined: their defaults). */
  lmWeight?: number;
  insertionBonus?: number;
  /** read()'s join.maxGap (0: join off; undefined: off unless joinConfidence is given, as read()'s default). */
  joinGap?: number;
  /** read()'s join.maxConfidence (undefined: its default). */
  joinConfidence?: number;
  threads?: number;
  limit?: number;
  concurrency: number;
  jsonFile?: string;
  values: Record<string, unknown>;
}

async function writeReport(jsonFile: string | undefined, report: unknown, out: NodeJS.WritableStream, say: NodeJS.WritableStream) {
  if (jsonFile === undefined) return;
  const text = JSON.stringify(report) + '\n';
  if (jsonFile === '-') out.write(text);
  else {
    await fsp.writeFile(jsonFile, text);
    say.write(`wrote ${jsonFile}\n`);
  }
}

/** Recognition accuracy on word crops (labels.tsv) or on the ground-truth boxes of a dataset with texts. */
export async function runRecognitionEval(s: TextEvalSettings, out: NodeJS.WritableStream): Promise<number> {
  const say = s.jsonFile === '-' ? process.stderr : out;
  let samples: RecognitionSample[];
  try {
    samples = await loadRecognitionDataset(s.dir);
  } catch (err) {
    throw new UsageError(`cannot read the dataset: ${(err as Error).message}`);
  }
  if (s.limit !== undefined) samples = samples.slice(0, s.limit);
  if (samples.length === 0) throw new UsageError(`no words with text in ${s.dir}`);
  const recognizer = await Recognizer.create({ model: s.recognizer, ...(s.threads !== undefined ? { threads: s.threads } : {}), ...lmCreate(s) });
  const words = samples.reduce((a, x) => a + x.texts.length, 0);
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(s, recognizer.info);
  } catch (err) {
    await recognizer.dispose();
    throw err;
  }
  const { recognize, resolved } = options;
  const records: { image: string; gt: string; pred: string; confidence: number; rotation?: number; error?: string }[][] = [];
  let seconds = 0;
  let inferenceMs = 0;
  try {
    const progress = createProgress(words, { label: 'eval' });
    const t0 = performance.now();
    records.push(...await pool(samples, s.concurrency, async (x) => {
      const image = path.relative(path.resolve(s.dir), x.imagePath) || path.basename(x.imagePath);
      try {
        const r = await recognizer.recognizeDetailed(x.imagePath, x.regions?.map(toRegion), recognize);
        inferenceMs += r.timings.inference;
        return r.words.map((w, i) => ({ image, gt: x.texts[i], pred: w.text, confidence: round4(w.confidence), rotation: w.rotation }));
      } catch (err) {
        const e = err as Error & { code?: string };
        return x.texts.map((gt) => ({ image, gt, pred: '', confidence: 0, error: `${e.code ?? 'Error'}: ${e.message}` }));
      } finally {
        progress.tick(x.texts.length, path.basename(x.imagePath));
      }
    }));
    seconds = (performance.now() - t0) / 1000;
    progress.stop();
  } finally {
    await recognizer.dispose();
  }
  const flat = records.flat();
  const r = scoreRecognition(flat);
  const errors = flat.filter((w) => w.error).length;
  say.write([
    `dataset    ${s.dir} (${samples.length} images, ${r.count} words)`,
    `recognizer ${s.recognizer ?? 'default'} (${recognizer.info.name ?? ''}, ${recognizer.info.decoder}; ${cropSummary(resolved)})`,
    `accuracy   ${pct(r.accuracy)} (DTRB: lower case, [0-9a-z] only, exact, every word counted; ${r.correct}/${r.count})`,
    `exact      ${pct(r.exactAccuracy)} (case-sensitive, full text; ${r.exactCorrect}/${r.count})`,
    `1-NED      ${r.oneMinusNed.toFixed(4)} (1 - edit distance / max length, case-sensitive)`,
    `throughput ${(r.count / seconds).toFixed(1)} words/s (${seconds.toFixed(1)} s, ${s.concurrency} in flight; model runs ${(inferenceMs / Math.max(1, r.count)).toFixed(2)} ms per word)`,
    ...(errors ? [`failed     ${errors} word(s) could not be read (scored as empty)`] : []),
  ].join('\n') + '\n');
  await writeReport(s.jsonFile, {
    task: 'recognition', dataset: path.resolve(s.dir), recognizer: s.recognizer ?? 'default', ...resolved,
    count: r.count, accuracy: r.accuracy, exactAccuracy: r.exactAccuracy, oneMinusNed: r.oneMinusNed,
    correct: r.correct, exactCorrect: r.exactCorrect, errors,
    throughput: { words: r.count, seconds: Math.round(seconds * 100) / 100, inferenceMsPerWord: inferenceMs / Math.max(1, r.count) },
    words: flat,
  }, out, say);
  return errors > 0 ? 1 : 0;
}

/** End to end: detect and read every image of a dataset with texts; word spotting and bag-of-words F1. */
export async function runOcrEval(s: TextEvalSettings, out: NodeJS.WritableStream): Promise<number> {
  const say = s.jsonFile === '-' ? process.stderr : out;
  const samples = await loadSamples(s.dir, s.limit);
  const detect = detectOptionsFromFlags(s.values);
  const t = s.threads !== undefined ? { threads: s.threads } : {};
  const ocr = await Ocr.create({ detector: { model: s.model, ...t }, recognizer: { model: s.recognizer, ...t, ...lmCreate(s) } });
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(s, ocr.recognizer.info);
  } catch (err) {
    await ocr.dispose();
    throw err;
  }
  const { recognize, resolved } = options;
  const join = joinFlags(s);
  let seconds = 0;
  const timing = { detection: 0, recognition: 0 };
  let results: { image: string; words: OcrDetection[]; error?: string }[] = [];
  try {
    const progress = createProgress(samples.length, { label: 'eval' });
    const t0 = performance.now();
    results = await pool(samples, s.concurrency, async (x) => {
      const image = path.relative(path.resolve(s.dir), x.imagePath) || path.basename(x.imagePath);
      try {
        const r = await ocr.read(x.imagePath, { detect, recognize, join });
        timing.detection += r.timings.detection;
        timing.recognition += r.timings.recognition;
        return { image, words: r.words.map((w) => ({ points: w.box.map(([a, b]) => [a, b] as [number, number]), text: w.text })) };
      } catch (err) {
        const e = err as Error & { code?: string };
        return { image, words: [], error: `${e.code ?? 'Error'}: ${e.message}` };
      } finally {
        progress.tick(1, path.basename(x.imagePath));
      }
    });
    seconds = (performance.now() - t0) / 1000;
    progress.stop();
  } finally {
    await ocr.dispose();
  }
  const r = scoreOcr(samples.map((x, i) => ({ gt: x.words, det: results[i].words })));
  const errors = results.filter((x) => x.error).length;
  say.write([
    `dataset    ${s.dir} (${r.images} images)`,
    `models     detector ${s.model ?? 'default'}, recognizer ${s.recognizer ?? 'default'} (${cropSummary(resolved)}; ` +
      `${join === false ? 'join off' : `join gap < ${join.maxGap}, a piece under ${join.maxConfidence}`})`,
    `spotting   P ${pct(r.spotting.precision)}  R ${pct(r.spotting.recall)}  H-mean ${pct(r.spotting.hmean)} ` +
      `(IoU > 0.5 one-to-one and equal text, lower case [0-9a-z]; ${r.spotted} of ${r.gtCount} words, ${r.detCount} detections, ${r.matched} boxes matched)`,
    `bag-of-words P ${pct(r.bagOfWords.precision)}  R ${pct(r.bagOfWords.recall)}  F1 ${pct(r.bagOfWords.f1)} (per page, normalised tokens)`,
    `throughput ${(r.images / seconds).toFixed(2)} images/s (${seconds.toFixed(1)} s); per image: detection ${(timing.detection / Math.max(1, r.images)).toFixed(0)} ms, ` +
      `recognition ${(timing.recognition / Math.max(1, r.images)).toFixed(0)} ms`,
    ...(errors ? [`failed     ${errors} image(s) could not be processed (scored with no words)`] : []),
  ].join('\n') + '\n');
  await writeReport(s.jsonFile, {
    task: 'ocr', dataset: path.resolve(s.dir), detector: s.model ?? 'default', recognizer: s.recognizer ?? 'default', ...resolved, join,
    spotting: r.spotting, bagOfWords: r.bagOfWords, gtCount: r.gtCount, detCount: r.detCount, matched: r.matched,
    spotted: r.spotted, images: r.images, errors, seconds,
    perImage: r.perImage.map((p, i) => ({ image: results[i].image, ...p, ...(results[i].error ? { error: results[i].error } : {}), words: results[i].words })),
  }, out, say);
  return errors > 0 ? 1 : 0;
}
