/*! craft-text | MIT */
// The OCR pipeline: decode once -> detect (CRAFT) -> recognise every word -> reading order.
import { performance } from 'node:perf_hooks';
import { Detector } from './detector';
import { craftError } from './errors';
import { DecodedImage, decodeImage } from './image';
import { checkKnownKeys, checkNumber, invalidParameterError, plainObject } from './is';
import { acceptJoin, JUNCTION_REACH, joinCandidate, joinedWord, oneWord, spaceProbability, type JoinSettings } from './join';
import { joinRuns, readingOrder, type LayoutLine } from './layout';
import { readJoinOptions, recognizeOptions, runOptions } from './options';
import { Recognizer } from './recognizer';
import { abortError } from './scheduler';
import type {
  CreateOptions, ImageInput, LayoutOptions, OcrLine, OcrResult, OcrWord, Point, ReadOptions, RecognizeOptions,
  RecognizerCreateOptions,
} from './types';

/** Options of `Ocr.create()`. */
export interface OcrCreateOptions {
  /** A detector to use (not disposed by the Ocr), or the options to create one with. Default: the bundled model. */
  detector?: Detector | CreateOptions;
  /** A recogniser to use (not disposed by the Ocr), or the options to create one with. Default: the bundled model. */
  recognizer?: Recognizer | RecognizerCreateOptions;
}

/**
 * Finds and reads the words of an image: CRAFT detection, recognition of each word, lines in reading order.
 *
 * @example
 * const ocr = await Ocr.create();
 * const { text, lines } = await ocr.read('page.png');
 * await ocr.dispose();
 */
export class Ocr {
  readonly detector: Detector;
  readonly recognizer: Recognizer;
  readonly #owned: { detector: boolean; recognizer: boolean };
  #disposed = false;

  private constructor(detector: Detector, recognizer: Recognizer, owned: { detector: boolean; recognizer: boolean }) {
    this.detector = detector;
    this.recognizer = recognizer;
    this.#owned = owned;
  }

  /**
   * Creates (or wraps) a detector and a recogniser.
   * @throws TypeError for invalid options; the errors of Detector.create() and Recognizer.create().
   */
  static async create(options?: OcrCreateOptions): Promise<Ocr> {
    if (options !== undefined && !plainObject(options)) throw invalidParameterError('options', 'plain object', options);
    const o = (options ?? {}) as Record<string, unknown>;
    checkKnownKeys('option', o, ['detector', 'recognizer']);
    for (const [key, cls] of [['detector', Detector], ['recognizer', Recognizer]] as const) {
      const v = o[key];
      if (v !== undefined && !(v instanceof cls) && !plainObject(v)) {
        throw invalidParameterError(key, `${cls.name} or create options`, v);
      }
    }
    const ownDetector = !(o.detector instanceof Detector);
    const ownRecognizer = !(o.recognizer instanceof Recognizer);
    const [d, r] = await Promise.allSettled([
      ownDetector ? Detector.create(o.detector as CreateOptions | undefined) : Promise.resolve(o.detector as Detector),
      ownRecognizer ? Recognizer.create(o.recognizer as RecognizerCreateOptions | undefined)
        : Promise.resolve(o.recognizer as Recognizer),
    ]);
    if (d.status === 'rejected' || r.status === 'rejected') {
      if (d.status === 'fulfilled' && ownDetector) await d.value.dispose();
      if (r.status === 'fulfilled' && ownRecognizer) await r.value.dispose();
      throw d.status === 'rejected' ? d.reason : (r as PromiseRejectedResult).reason;
    }
    return new Ocr(d.value, r.value, { detector: ownDetector, recognizer: ownRecognizer });
  }

  /**
   * Reads an image: the image is decoded once, its words detected, each word read, and the words grouped into lines
   * in reading order (top to bottom, left to right, a column at a time; lib/layout.ts).
   * @param input - a file path, encoded image, raw pixels or DecodedImage.
   * @param options - `detect`, `recognize` and `layout` options, `minConfidence`, `signal`, `timeoutMs` (whole call).
   * @throws as detect() and recognize().
   */
  async read(input: ImageInput, options?: ReadOptions): Promise<OcrResult> {
    const t0 = performance.now();
    if (this.#disposed) throw craftError('ERR_CRAFT_DISPOSED', 'Ocr is disposed');
    if (options !== undefined && !plainObject(options)) throw invalidParameterError('options', 'plain object', options);
    const o = (options ?? {}) as Record<string, unknown>;
    checkKnownKeys('option', o, ['detect', 'recognize', 'layout', 'join', 'minConfidence', 'signal', 'timeoutMs']);
    for (const key of ['detect', 'recognize', 'layout'] as const) {
      if (o[key] !== undefined && !plainObject(o[key])) throw invalidParameterError(key, 'plain object', o[key]);
    }
    // Before the detection: a bad recognize option (an allowlist outside the charset) fails the call at once, also
    // on a page where no word is found.
    if (o.recognize !== undefined) recognizeOptions(o.recognize, this.recognizer.info);
    const layout = layoutOptions(o.layout);
    const join = readJoinOptions(o.join);
    const minConfidence = o.minConfidence === undefined ? 0 : checkNumber('minConfidence', o.minConfidence, 0, 1);
    const { signal, timeoutMs } = runOptions(o);
    const deadline = timeoutMs === undefined ? undefined : t0 + timeoutMs;
    const remaining = () => (deadline === undefined ? undefined : Math.max(0, deadline - performance.now()));
    if (signal?.aborted) throw abortError(signal);

    const given = input instanceof DecodedImage;
    const maxPixels = (o.detect as { maxPixels?: number | false } | undefined)?.maxPixels;
    const image = given ? input : await decodeImage(input, maxPixels === undefined ? undefined : { maxPixels });
    const t1 = performance.now();
    try {
      const det = await this.detector.detect(image, { ...(o.detect as object), signal, timeoutMs: remaining() });
      const t2 = performance.now();
      const rec = det.words.length === 0 ? [] : await this.recognizer.recognize(image, det.words,
        { ...(o.recognize as object), signal, timeoutMs: remaining() });
      let read: OcrWord[] = [];
      det.words.forEach((w, i) => {
        const r = rec[i];
        if (!r.skipped) read.push({ ...w, text: r.text, confidence: r.confidence, rotation: r.rotation });
      });
      // The join's lines are the reading order of the words as read: kept for the result when neither the join nor
      // minConfidence changes the words (the same boxes give the same order), else computed again for what is left.
      let order: LayoutLine[] | undefined;
      // A recogniser without a space in its charset cannot say where a word ends: nothing to join with.
      if (join !== undefined && read.length > 1 && this.recognizer.info.charset.includes(' ')) {
        order = readingOrder(read.map((w) => w.box), layout);
        const joined = await this.#join(image, read, order, join, () => ({ ...(o.recognize as object), signal, timeoutMs: remaining() }));
        if (joined !== read) order = undefined;
        read = joined;
      }
      const t3 = performance.now();
      const words = read.filter((w) => w.confidence >= minConfidence);
      if (words.length !== read.length) order = undefined;
      order ??= readingOrder(words.map((w) => w.box), layout);
      const sorted: OcrWord[] = [];
      const lines: OcrLine[] = order.map((l) => {
        const ids = l.words.map((i) => { sorted.push(words[i]); return sorted.length - 1; });
        return { box: l.box, text: ids.map((i) => sorted[i].text).filter((t) => t.length > 0).join(' '), words: ids };
      });
      const t4 = performance.now();
      return {
        width: det.width,
        height: det.height,
        words: sorted,
        lines,
        text: lines.map((l) => l.text).join('\n'),
        timings: { decode: given ? 0 : t1 - t0, detection: t2 - t1, recognition: t3 - t2, layout: t4 - t3, total: t4 - t0 },
      };
    } finally {
      if (!given) image.release();
    }
  }

  /**
   * Split words joined (lib/join.ts): neighbouring words of a line (lib/layout.ts joinRuns) with a piece read below
   * `maxConfidence` are checked at their junction first (a crop reaching one text height into each word, cheap: one
   * recognize() call for all junctions); where the recogniser sees no word space, the pieces are read again as one
   * crop (a second call) and an accepted joint reading replaces them. `order`: the words' reading order. Returns the
   * words with the joined ones in place of their first piece, or `words` itself when none was joined.
   */
  async #join(image: DecodedImage, words: OcrWord[], order: readonly LayoutLine[], join: JoinSettings,
    options: () => RecognizeOptions): Promise<OcrWord[]> {
    const boxes = words.map((w) => w.box);
    const lines = order.map((l) => l.words);
    const info = this.recognizer.info;
    const classes = info.charset.length + (info.decoder === 'ctc' ? 1 : 2);
    const space = info.charset.indexOf(' ') + (info.decoder === 'ctc' ? 1 : 2);
    // No retries: a run is a line's horizontal neighbours, and a reading too doubtful to keep as it is decides nothing.
    const read = (regions: [Point, Point, Point, Point][]) => this.recognizer.recognize(image, regions,
      { ...options(), logits: true, rotationRetryThreshold: 0, marginRetryThreshold: 0, orientationRetryThreshold: 0, contrastRetryThreshold: 0, stretchRetryThreshold: 0, verticalRetry: false });  // the deadline left now
    const chains = joinRuns(boxes, lines, {
      maxGap: join.maxGap, maxWords: Infinity, window: JUNCTION_REACH,
      eligible: (a, b) => joinCandidate(words[a], words[b], join.maxConfidence),
    });
    if (chains.length === 0) return words;
    const seen = await read(chains.flatMap((c) => c.windows ?? []));
    const open = new Set<string>();
    let k = 0;
    for (const c of chains) {
      for (let i = 1; i < c.words.length; i++, k++) {
        const w = seen[k];
        if (!w.skipped && oneWord(w.text, spaceProbability(w.logits as Float32Array, classes, space))) {
          open.add(`${c.words[i - 1]},${c.words[i]}`);
        }
      }
    }
    const runs = joinRuns(boxes, lines, { maxGap: join.maxGap, maxWords: join.maxWords, eligible: (a, b) => open.has(`${a},${b}`) });
    if (runs.length === 0) return words;
    const joint = await read(runs.map((r) => r.box));
    const replaced = new Map<number, OcrWord>();
    const dropped = new Set<number>();
    runs.forEach((run, r) => {
      const j = joint[r];
      const pieces = run.words.map((i) => words[i]);
      if (j.skipped || !acceptJoin(pieces, j, spaceProbability(j.logits as Float32Array, classes, space))) return;
      replaced.set(run.words[0], joinedWord(run, pieces, j));
      for (const i of run.words.slice(1)) dropped.add(i);
    });
    if (replaced.size === 0) return words;
    return words.flatMap((w, i) => (dropped.has(i) ? [] : [replaced.get(i) ?? w]));
  }

  /** Disposes the detector and recogniser it created (not ones it was given), after their accepted calls settle. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all([
      this.#owned.detector ? this.detector.dispose() : undefined,
      this.#owned.recognizer ? this.recognizer.dispose() : undefined,
    ]);
  }
}

function layoutOptions(v: unknown): LayoutOptions {
  if (v === undefined) return {};
  const o = v as Record<string, unknown>;
  checkKnownKeys('layout option', o, ['lineTolerance', 'columnGap', 'minColumnWords']);
  return {
    lineTolerance: o.lineTolerance === undefined ? undefined : checkNumber('layout.lineTolerance', o.lineTolerance, 0.01, 10),
    columnGap: o.columnGap === undefined ? undefined : o.columnGap === Infinity ? Infinity
      : checkNumber('layout.columnGap', o.columnGap, 0, 1000),
    minColumnWords: o.minColumnWords === undefined ? undefined : checkNumber('layout.minColumnWords', o.minColumnWords, 0, 1000),
  };
}
