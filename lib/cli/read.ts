/*! craft-text | MIT */
import { Ocr } from '../ocr';
import type { ReadOptions } from '../types';
import {
  CHARACTER_FLAGS, characterListsFromFlags, checkImageArgs, checkRecognizeFlags, DETECT_FLAGS, detectOptionsFromFlags,
  forEachImage, lmFlags, num, onOff, parse, printable, UsageError,
} from './args';
import { pictureTarget, writeReadingPicture } from './draw';

export const READ_USAGE = 'craft-text read <image...|-> [--model det.onnx] [--recognizer rec.onnx] [--json] [--out words.png] [--decoder greedy|beam] [--beam-width n] [--language-model on|off|file] [--lm-weight n] [--insertion-bonus n] [--margin n] [--ink-crop on|off] [--allowlist chars] [--blocklist chars] [--join-gap n] [--min-confidence n] [--polygons] [--threads n] [detection flags as detect]';

/** `craft-text read`: the text of each image in reading order; with --json one line per image. */
export async function runRead(argv: string[], out: NodeJS.WritableStream = process.stdout,
  stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...DETECT_FLAGS, recognizer: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' },
    decoder: { type: 'string' }, 'beam-width': { type: 'string' }, margin: { type: 'string' },
    'language-model': { type: 'string' }, 'lm-weight': { type: 'string' }, 'insertion-bonus': { type: 'string' },
    'min-confidence': { type: 'string' }, 'join-gap': { type: 'string' }, 'ink-crop': { type: 'string' },
    ...CHARACTER_FLAGS,
  });
  checkImageArgs('read', positionals);
  if (values.refine) throw new UsageError('--refine is not supported by read');
  const outFile = pictureTarget(values.out as string | undefined, 'out', positionals, 'words');
  const { decoder, languageModel, lmWeight, insertionBonus } = lmFlags(values);
  const beamWidth = num('beam-width', values['beam-width'] as string | undefined, 1, 100, true);
  const margin = num('margin', values.margin as string | undefined, 0, 1);
  const inkCrop = onOff('ink-crop', values['ink-crop'] as string | undefined);
  const joinGap = num('join-gap', values['join-gap'] as string | undefined, 0, 10);
  const minConfidence = num('min-confidence', values['min-confidence'] as string | undefined, 0, 1);
  const threads = num('threads', values.threads as string | undefined, 0, 1024, true);
  const t = threads !== undefined ? { threads } : {};
  const options: ReadOptions = {
    detect: detectOptionsFromFlags(values),
    recognize: {
      ...(decoder ? { decoder } : {}),
      ...(languageModel === false ? { languageModel } : {}),
      ...(lmWeight !== undefined ? { lmWeight } : {}),
      ...(insertionBonus !== undefined ? { insertionBonus } : {}),
      ...(beamWidth !== undefined ? { beamWidth } : {}),
      ...(margin !== undefined ? { margin } : {}),
      ...(inkCrop !== undefined ? { inkCrop } : {}),
      ...characterListsFromFlags(values),
    },
    ...(joinGap === undefined ? {} : { join: joinGap > 0 ? { maxGap: joinGap } : false }),  // 0: off
    ...(minConfidence !== undefined ? { minConfidence } : {}),
  };
  const ocr = await Ocr.create({
    detector: { model: values.model as string | undefined, ...t },
    recognizer: { model: values.recognizer as string | undefined, ...t, ...(languageModel !== undefined ? { languageModel } : {}) },
  });
  try {
    checkRecognizeFlags(options.recognize!, ocr.recognizer.info);  // the charset is the model's: once, not per image
    return await forEachImage(positionals, stdin, out, Boolean(values.json), async (image, input) => {
      const r = await ocr.read(input, options);
      const written: { out?: string } = {};
      if (outFile) await writeReadingPicture(input, r.words, written.out = outFile(image));
      if (values.json) {
        const words = r.words.map((w) => ({
          box: w.box, ...(w.polygon ? { polygon: w.polygon } : {}), score: w.score, text: w.text, confidence: w.confidence,
          ...(w.joined ? { joined: w.joined } : {}),
        }));
        out.write(JSON.stringify({ image, width: r.width, height: r.height, words, lines: r.lines, text: r.text, ...written }) + '\n');
      } else {
        if (positionals.length > 1) out.write(`==> ${printable(image)} <==\n`);
        out.write(r.text.length > 0 ? `${r.text}\n` : '');
        if (written.out) process.stderr.write(`wrote words: ${printable(written.out)}\n`);
      }
    });
  } finally {
    await ocr.dispose();
  }
}
