/*! craft-text | MIT */
// `craft-text convert`: official CRAFT (+ LinkRefiner) checkpoints -> ONNX, in plain Node.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parse, num, UsageError } from './args';
import { convertWithInfo, type OnnxNameMap } from '../convert';

export const CONVERT_USAGE = 'craft-text convert <craft.pth | model.onnx> [--refiner <refiner.pth>] [-o <out.onnx>] ' +
  '[--bn-eps <eps>] [--onnx-input <name>] [--onnx-y <name>] [--onnx-feature <name>] [--onnx-refined <name>] [--quiet]';

const FLAGS = {
  refiner: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'bn-eps': { type: 'string' },
  'onnx-input': { type: 'string' },
  'onnx-y': { type: 'string' },
  'onnx-feature': { type: 'string' },
  'onnx-refined': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Runs `craft-text convert` with the arguments after the command name. Resolves to the exit code. */
export async function runConvert(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, FLAGS);
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length ? `expected one checkpoint, got ${positionals.length}` : 'missing the checkpoint');
  }
  const input = positionals[0];
  const refiner = v.refiner as string | undefined;
  const out = (v.output as string | undefined) ??
    `${path.basename(input).replace(/\.(pth|pt|ckpt|bin|onnx)$/i, '')}${refiner ? '-refiner' : ''}.onnx`;
  if (path.resolve(out) === path.resolve(input) || (refiner && path.resolve(out) === path.resolve(refiner))) {
    throw new UsageError('the output would overwrite an input; pass -o <out.onnx>');
  }
  const onnxNames: OnnxNameMap = {};
  if (v['onnx-input'] !== undefined) onnxNames.input = v['onnx-input'] as string;
  if (v['onnx-y'] !== undefined) onnxNames.y = v['onnx-y'] as string;
  if (v['onnx-feature'] !== undefined) onnxNames.feature = v['onnx-feature'] as string;
  if (v['onnx-refined'] !== undefined) onnxNames.refinedLink = v['onnx-refined'] as string;
  const bnEps = num('bn-eps', v['bn-eps'] as string | undefined, 0, 1);

  const t0 = performance.now();
  const { onnx, info } = await convertWithInfo(input, { refiner, onnxNames, ...(bnEps !== undefined ? { bnEps } : {}) });
  // write next to the target, then rename: no half-written model on failure
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await fsp.writeFile(tmp, onnx);
    await fsp.rename(tmp, out);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(2);
  if (!v.quiet) {
    const what = info.source === 'onnx'
      ? `ONNX model (renamed ${Object.entries(info.mapping ?? {}).map(([o, t]) => `${t} -> ${o}`).join(', ')})`
      : `CRAFT checkpoint (${info.source} format, width ${info.width}, feature ${info.featureChannels} ch)` +
        (info.refinerSource ? ` + LinkRefiner (${info.refinerSource} format)` : '');
    process.stdout.write(`${input}: ${what}\n-> ${out} (${mb(onnx.length)}) in ${secs} s\n`);
  }
  return 0;
}
