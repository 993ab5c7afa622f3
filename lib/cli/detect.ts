/*! craft-text | MIT */
import * as fs from 'node:fs';
import { Detector } from '../detector';
import { DETECT_FLAGS, detectOptionsFromFlags, num, parse, UsageError } from './args';

export const DETECT_USAGE = 'craft-text detect <image...> [--model m.onnx] [--json] [--polygons] [--refine] [--text-threshold n] [--link-threshold n] [--low-text n] [--canvas-size n] [--mag-ratio n] [--threads n]';

/** `craft-text detect`: one JSON line per image with --json, a short summary otherwise. */
export async function runDetect(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse(argv, { ...DETECT_FLAGS, json: { type: 'boolean' } });
  if (positionals.length === 0) throw new UsageError('detect needs at least one image');
  for (const p of positionals) {
    if (!fs.existsSync(p)) throw new UsageError(`no such file: ${p}`);
  }
  const options = detectOptionsFromFlags(values);
  const threads = num('threads', values.threads as string | undefined, 0, 1024, true);
  const detector = await Detector.create({ model: values.model as string | undefined, ...(threads !== undefined ? { threads } : {}) });
  let failures = 0;
  try {
    for (const image of positionals) {
      try {
        const r = await detector.detect(image, options);
        if (values.json) {
          out.write(JSON.stringify({ image, width: r.width, height: r.height, words: r.words }) + '\n');
        } else {
          const t = r.timings;
          out.write(`${image}: ${r.width}x${r.height}, ${r.words.length} words ` +
            `(decode ${t.decode.toFixed(1)} ms, preprocess ${t.preprocess.toFixed(1)} ms, ` +
            `inference ${t.inference.toFixed(1)} ms, postprocess ${t.postprocess.toFixed(1)} ms)\n`);
          for (const w of r.words) {
            out.write(`  ${w.score.toFixed(3)}  ${w.box.map(([x, y]) => `${Math.round(x)},${Math.round(y)}`).join(' ')}\n`);
          }
        }
      } catch (err) {
        failures++;
        const e = err as Error & { code?: string };
        if (values.json) out.write(JSON.stringify({ image, error: { code: e.code, message: e.message } }) + '\n');
        else process.stderr.write(`${image}: ${e.code ?? 'Error'}: ${e.message}\n`);
      }
    }
  } finally {
    await detector.dispose();
  }
  return failures > 0 ? 1 : 0;
}
