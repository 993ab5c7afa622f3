/*! craft-text | MIT */
// Shared CLI plumbing: node's util.parseArgs (strict), usage errors with exit code 2, and numeric flags.
import * as fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { recognizeOptions } from '../options';

/** A command-line mistake: printed with the usage line, exit code 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking; unknown flags and missing values become UsageErrors. @private */
export function parse<T extends Options>(argv: string[], options: T, allowPositionals = true):
  { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(msg);
  }
}

/** Plain decimal notation only: Number() would also take '0x1', '0b1', '1_0'-less forms like ' 1 ' and 'Infinity'. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Whether a flag value is a number in plain decimal notation. @private */
export const isDecimal = (value: string): boolean => DECIMAL.test(value);

/** Parses a numeric flag value (decimal notation), or throws a UsageError naming the flag. @private */
export function num(flag: string, value: string | undefined, min: number, max: number, int = false): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    throw new UsageError(`--${flag} expects ${int ? 'an integer' : 'a number'} between ${min} and ${max}, got '${value}'`);
  }
  return v;
}

/** A switch flag's value: 'on' / 'off' (undefined when the flag is absent). */
export function onOff(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'on' && value !== 'off') throw new UsageError(`--${flag} expects on or off, got '${value}'`);
  return value === 'on';
}

/** Detection flags shared by detect, read, eval and bench. */
export const DETECT_FLAGS = {
  model: { type: 'string' },
  threads: { type: 'string' },
  'text-threshold': { type: 'string' },
  'link-threshold': { type: 'string' },
  'low-text': { type: 'string' },
  'canvas-size': { type: 'string' },
  'mag-ratio': { type: 'string' },
  scale: { type: 'string' },
  polygons: { type: 'boolean' },
  refine: { type: 'boolean' },
} as const;

/** Turns the shared detection flags into detect() options (only the ones given). @private */
export function detectOptionsFromFlags(v: Record<string, unknown>) {
  const o: Record<string, number | boolean | string> = {};
  if (v.scale !== undefined) {
    if (v.scale !== 'auto' && v.scale !== 'fixed') throw new UsageError(`--scale expects auto or fixed, got '${String(v.scale)}'`);
    o.scale = v.scale;
  }
  const set = (key: string, value: number | boolean | undefined) => { if (value !== undefined) o[key] = value; };
  set('textThreshold', num('text-threshold', v['text-threshold'] as string | undefined, 0, 1));
  set('linkThreshold', num('link-threshold', v['link-threshold'] as string | undefined, 0, 1));
  set('lowText', num('low-text', v['low-text'] as string | undefined, 0, 1));
  set('canvasSize', num('canvas-size', v['canvas-size'] as string | undefined, 32, 32768, true));
  set('magRatio', num('mag-ratio', v['mag-ratio'] as string | undefined, 0.01, 32));
  if (v.polygons) o.polygons = true;
  if (v.refine) o.refine = true;
  return o;
}

/** recognize()'s character lists as flags, shared by read and eval (`--allowlist 0123456789`). */
export const CHARACTER_FLAGS = {
  allowlist: { type: 'string' },
  blocklist: { type: 'string' },
} as const;

/** Turns --allowlist / --blocklist into recognize() options (only the ones given). @private */
export function characterListsFromFlags(v: Record<string, unknown>): { allowlist?: string; blocklist?: string } {
  return {
    ...(v.allowlist !== undefined ? { allowlist: v.allowlist as string } : {}),
    ...(v.blocklist !== undefined ? { blocklist: v.blocklist as string } : {}),
  };
}

/**
 * Checks recognize() options made from flags against the loaded recogniser (its charset and decoder), once before any
 * image is read: their TypeError / RangeError (which names the option) becomes a UsageError. Returns them resolved
 * (defaults filled in). @private
 */
export function checkRecognizeFlags(recognize: object,
  info: { decoder: 'ctc' | 'attn'; margin: number; charset: readonly string[]; languageModel: unknown }):
  ReturnType<typeof recognizeOptions> {
  try {
    return recognizeOptions(recognize, info);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * A file name (or a message quoting one) as one line of text output: a name with control characters (a newline would
 * forge an output line, an escape sequence would drive the terminal) is printed JSON-quoted, escapes visible. @private
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text) ? JSON.stringify(text) : text;
}

/** `-` as an image argument: the image is read from standard input (once). @private */
export const STDIN = '-';

/** Checks `command`'s image arguments: at least one, each exists (or is `-`, at most once). UsageErrors otherwise. @private */
export function checkImageArgs(command: string, images: string[]): void {
  if (images.length === 0) throw new UsageError(`${command} needs at least one image`);
  if (images.filter((p) => p === STDIN).length > 1) throw new UsageError('standard input (-) can be read only once');
  for (const p of images) {
    if (p !== STDIN && !fs.existsSync(p)) throw new UsageError(`no such file: ${printable(p)}`);
  }
}

/** The input for an image argument: the path, or for `-` the bytes of `stdin`. @private */
export async function imageArg(image: string, stdin: NodeJS.ReadableStream): Promise<string | Buffer> {
  if (image !== STDIN) return image;
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Runs `each` on every image argument (`-`: the bytes of `stdin`). A failing image is reported (a JSON line with
 * `json`, a line on stderr otherwise) and the next one still runs. Resolves with the exit code: 1 if any failed.
 * @private
 */
export async function forEachImage(images: string[], stdin: NodeJS.ReadableStream, out: NodeJS.WritableStream,
  json: boolean, each: (image: string, input: string | Buffer) => Promise<void>): Promise<number> {
  let failures = 0;
  for (const image of images) {
    try {
      await each(image, await imageArg(image, stdin));
    } catch (err) {
      failures++;
      const e = err as Error & { code?: string };
      if (json) out.write(JSON.stringify({ image, error: { code: e.code, message: e.message } }) + '\n');
      else process.stderr.write(`${printable(image)}: ${e.code ?? 'Error'}: ${printable(e.message)}\n`);
    }
  }
  return failures > 0 ? 1 : 0;
}

/**
 * The recogniser's decoding flags (read, eval): --decoder greedy|beam, --language-model on|off|<file> (on: the bundled
 * LM, whatever the recogniser; off: none; a file: tools/lm/ngram.py's), --lm-weight n, --insertion-bonus n.
 */
export function lmFlags(values: Record<string, unknown>): { decoder?: 'greedy' | 'beam'; languageModel?: false | string;
  lmWeight?: number; insertionBonus?: number } {
  const decoder = values.decoder as string | undefined;
  if (decoder !== undefined && decoder !== 'greedy' && decoder !== 'beam') {
    throw new UsageError(`--decoder expects greedy or beam, got '${decoder}'`);
  }
  const lm = values['language-model'] as string | undefined;
  if (lm === '') throw new UsageError('--language-model expects on, off or a file');
  if (lm === 'on' && decoder === 'greedy') throw new UsageError('--language-model on needs --decoder beam (or none)');
  const lmWeight = num('lm-weight', values['lm-weight'] as string | undefined, 0, 10);
  const insertionBonus = num('insertion-bonus', values['insertion-bonus'] as string | undefined, -20, 20);
  return {
    ...(decoder !== undefined ? { decoder: decoder as 'greedy' | 'beam' } : {}),
    ...(lm === 'off' ? { languageModel: false as const } : lm === 'on' ? { languageModel: 'default' } : lm !== undefined ? { languageModel: lm } : {}),
    ...(lmWeight !== undefined ? { lmWeight } : {}),
    ...(insertionBonus !== undefined ? { insertionBonus } : {}),
  };
}
