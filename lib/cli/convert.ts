/*! craft-text | MIT */
// `craft-text convert`: official CRAFT (+ LinkRefiner) checkpoints and text recognisers (DTRB, EasyOCR generation 2)
// -> ONNX, in plain Node. What a checkpoint is comes from its keys (or --recognizer / --detector).
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parse, num, UsageError } from './args';
import { convertWithInfo, type OnnxNameMap, type RecognizerConvertOptions } from '../convert';

export const CONVERT_USAGE = 'craft-text convert <craft.pth | recognizer.pth | model.onnx> [--refiner <refiner.pth>] [-o <out.onnx>] ' +
  '[--bn-eps <eps>] [--onnx-input <name>] [--onnx-y <name>] [--onnx-feature <name>] [--onnx-refined <name>] ' +
  '[--recognizer | --detector] [--sensitive] [--character <chars>] [--imgH <px>] [--imgW <px>] [--pad] ' +
  '[--batch-max-length <n>] [--easyocr | --dtrb] [--quiet]';

const FLAGS = {
  refiner: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'bn-eps': { type: 'string' },
  'onnx-input': { type: 'string' },
  'onnx-y': { type: 'string' },
  'onnx-feature': { type: 'string' },
  'onnx-refined': { type: 'string' },
  recognizer: { type: 'boolean' },
  detector: { type: 'boolean' },
  sensitive: { type: 'boolean' },
  character: { type: 'string' },
  imgH: { type: 'string' },
  imgW: { type: 'string' },
  pad: { type: 'boolean' },
  'batch-max-length': { type: 'string' },
  easyocr: { type: 'boolean' },
  dtrb: { type: 'boolean' },
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
  if (v.recognizer && v.detector) throw new UsageError('--recognizer and --detector exclude each other');
  if (v.easyocr && v.dtrb) throw new UsageError('--easyocr and --dtrb exclude each other');
  const rec: RecognizerConvertOptions = {};
  if (v.sensitive) rec.sensitive = true;
  if (v.character !== undefined) rec.character = v.character as string;
  const imgH = num('imgH', v.imgH as string | undefined, 32, 1024, true);
  const imgW = num('imgW', v.imgW as string | undefined, 4, 65536, true);
  const bml = num('batch-max-length', v['batch-max-length'] as string | undefined, 1, 1000, true);
  if (imgH !== undefined) rec.imgH = imgH;
  if (imgW !== undefined) rec.imgW = imgW;
  if (bml !== undefined) rec.batchMaxLength = bml;
  if (v.pad) rec.pad = true;
  if (v.easyocr) rec.easyocr = true;
  if (v.dtrb) rec.easyocr = false;
  const kind = v.recognizer ? 'recognizer' : v.detector ? 'craft' : 'auto';

  const t0 = performance.now();
  const { onnx, info } = await convertWithInfo(input, { refiner, onnxNames, kind, ...rec, ...(bnEps !== undefined ? { bnEps } : {}) });
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
    const r = info.recognizer;
    const what = info.source === 'onnx'
      ? `ONNX model (renamed ${Object.entries(info.mapping ?? {}).map(([o, t]) => `${t} -> ${o}`).join(', ')})`
      : r
        ? `text recognizer ${r.name} (${info.source} format): detected ${r.architecture}, ${r.inputChannels === 1 ? 'grey' : 'RGB'} input, ` +
          `output_channel ${r.outputChannel}, hidden ${r.hiddenSize}, ${r.numClass} classes = ${r.characters} characters (${r.charset}), ` +
          `${r.decoder === 'ctc' ? 'CTC' : `attention, ${r.steps} steps`}; ${r.pipeline} pipeline: imgH ${r.imgH}, ` +
          `${r.resize === 'squash' ? `squash to width ${r.imgW}` : r.pipeline === 'easyocr' ? `keep ratio, pad per crop (width <= ${r.imgW})` : `keep ratio, pad to width ${r.imgW}`}` +
          `${r.graphDynamicWidth ? ', dynamic width' : ''}, ${r.confidence} confidence`
      : `CRAFT checkpoint (${info.source} format, width ${info.width}, feature ${info.featureChannels} ch)` +
        (info.refinerSource ? ` + LinkRefiner (${info.refinerSource} format)` : '');
    process.stdout.write(`${input}: ${what}\n-> ${out} (${mb(onnx.length)}) in ${secs} s\n`);
  }
  return 0;
}
