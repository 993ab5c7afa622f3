/*! craft-text | MIT */
// Official CRAFT / LinkRefiner checkpoints (torch.save, zip or legacy format) -> ONNX, in plain Node.
import { readRegularFile } from '../files';
import { buildModel, DEFAULT_BN_EPS, type BuildInfo } from './craft';
import { ConvertError } from './errors';
import { buildRecognizer, looksLikeRecognizer, type RecognizerConvertOptions, type RecognizerInfo } from './recognizer';
import { looksLikeOnnx, remapOnnx, type OnnxNameMap } from './remap';
import { readCheckpoint, stateDict, type Tensor } from './torch';

export { ConvertError, CONVERT_ERROR_CODE } from './errors';
export { readCheckpoint, stateDict, Tensor } from './torch';
export type { OnnxNameMap } from './remap';
export type { BuildInfo } from './craft';
export type { RecognizerConvertOptions, RecognizerInfo } from './recognizer';
export { DTRB_CHARS, DTRB_SENSITIVE_CHARS, EASYOCR_EN_G2_CHARS } from './recognizer';

export interface ConvertOptions extends RecognizerConvertOptions {
  /**
   * What the checkpoint is: 'craft' (CRAFT, + refiner), 'recognizer' (DTRB four-stage / EasyOCR generation 2), or
   * 'auto' (default): decided from the keys. The recogniser options (character, sensitive, imgH, imgW, pad,
   * batchMaxLength, easyocr) apply to recognisers only.
   */
  kind?: 'auto' | 'craft' | 'recognizer';
  /** The LinkRefiner checkpoint (path or bytes): adds the `refined_link` [N,H/2,W/2,1] output. */
  refiner?: Uint8Array | string;
  /** BatchNorm epsilon used when folding (torch's BatchNorm2d default 1e-5; checkpoints do not store it). */
  bnEps?: number;
  /**
   * When the input is already an ONNX export: the names of its image input and outputs (unset ones are found by
   * shape). Ignored for torch checkpoints.
   */
  onnxNames?: OnnxNameMap;
}

export interface ConvertInfo extends Partial<BuildInfo> {
  /** What the input was. */
  source: 'zip' | 'legacy' | 'onnx';
  /** What was converted: a CRAFT detector or a text recogniser. */
  kind: 'craft' | 'recognizer';
  /** For a recogniser: the detected architecture, charset, geometry and pipeline. */
  recognizer?: RecognizerInfo;
  refinerSource?: 'zip' | 'legacy';
  /** For an ONNX input: our name -> their name. */
  mapping?: Record<string, string>;
  /** Wall time of the conversion (reading excluded), ms. */
  ms: number;
}

async function bytesOf(src: Uint8Array | string, what: string): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  if (typeof src !== 'string') throw new TypeError(`${what} must be a path or a Uint8Array`);
  try {
    return await readRegularFile(src);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConvertError(`cannot read ${what} '${src}': ${e.code ?? e.message}`);
  }
}

function producerVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return String((require('../../package.json') as { version?: string }).version ?? '0');
  } catch {
    return '0';
  }
}

function loadStateDict(bytes: Uint8Array, what: string): { sd: Map<string, Tensor>; format: 'zip' | 'legacy' } {
  try {
    const ck = readCheckpoint(bytes);
    return { sd: stateDict(ck), format: ck.format };
  } catch (err) {
    if (err instanceof ConvertError) {
      const e = new ConvertError(`${what}: ${err.message}`, err.key);
      e.stack = err.stack;
      throw e;
    }
    throw err;
  }
}

/**
 * Builds the ONNX model from already-read state dicts (keys without the `module.` prefix), e.g. from
 * stateDict(readCheckpoint(bytes)). Throws a ConvertError naming the key on a missing/unknown key or a wrong shape.
 */
export function convertStateDict(craft: Map<string, Tensor>, refiner?: Map<string, Tensor>, opts: { bnEps?: number } = {}):
  { onnx: Uint8Array; info: BuildInfo } {
  return buildModel(craft, refiner, { eps: opts.bnEps ?? DEFAULT_BN_EPS, producerVersion: producerVersion() });
}

/** Converts and reports what was converted. See convert(). */
export async function convertWithInfo(checkpoint: Uint8Array | string, opts: ConvertOptions = {}):
  Promise<{ onnx: Uint8Array; info: ConvertInfo }> {
  const eps = opts.bnEps ?? DEFAULT_BN_EPS;
  if (!(typeof eps === 'number' && eps >= 0 && Number.isFinite(eps))) throw new RangeError('bnEps must be a finite number >= 0');
  const kind = opts.kind ?? 'auto';
  if (kind !== 'auto' && kind !== 'craft' && kind !== 'recognizer') throw new RangeError("kind must be 'auto', 'craft' or 'recognizer'");
  if (opts.character !== undefined && typeof opts.character !== 'string') throw new TypeError('character must be a string');
  const main = await bytesOf(checkpoint, 'checkpoint');
  const ref = opts.refiner === undefined ? undefined : await bytesOf(opts.refiner, 'refiner checkpoint');
  const t0 = performance.now();
  if (looksLikeOnnx(main)) {
    if (kind === 'recognizer') {
      throw new ConvertError('the input is already an ONNX model: a recogniser in craft-text\'s contract is used as it is ' +
        '(Recognizer.create({ model })); convert reads the .pth checkpoints');
    }
    if (ref) throw new ConvertError('the refiner cannot be added to an already-exported ONNX model; convert the .pth files');
    const { onnx, mapping } = remapOnnx(main, opts.onnxNames);
    return { onnx, info: { source: 'onnx', kind: 'craft', mapping, ms: performance.now() - t0 } };
  }
  if (kind !== 'craft') {
    const ck = loadStateDict(main, 'checkpoint');
    const isRec = looksLikeRecognizer(ck.sd);
    if (kind === 'recognizer' && !isRec) {
      const some = [...ck.sd.keys()].slice(0, 3).map((k) => `'${k}'`).join(', ');
      throw new ConvertError(`not a recognizer state dict: no FeatureExtraction.*/Prediction.* keys (found ${some || 'no keys'})`);
    }
    if (isRec) {
      if (ref) throw new ConvertError('--refiner belongs to a CRAFT checkpoint, but this checkpoint is a text recognizer');
      const { onnx, info } = buildRecognizer(ck.sd, { ...opts, eps, producerVersion: producerVersion() });
      return { onnx, info: { source: ck.format, kind: 'recognizer', recognizer: info, weightBytes: info.weightBytes, ms: performance.now() - t0 } };
    }
  }
  const craft = loadStateDict(main, 'CRAFT checkpoint');
  const refiner = ref ? loadStateDict(ref, 'refiner checkpoint') : undefined;
  const { onnx, info } = buildModel(craft.sd, refiner?.sd, { eps, producerVersion: producerVersion() });
  return {
    onnx,
    info: { source: craft.format, kind: 'craft', ...(refiner ? { refinerSource: refiner.format } : {}), ...info, ms: performance.now() - t0 },
  };
}

/**
 * Converts an official CRAFT checkpoint, or a text recogniser (DTRB `None-VGG-BiLSTM-CTC`, `TPS-ResNet-BiLSTM-Attn`
 * and the other four-stage combinations of VGG|ResNet, EasyOCR generation 2 such as `english_g2`) to ONNX in the
 * recogniser contract of docs/recognition.md (input `image` [N,C,H,W], output `logits` [N,T,K], charset and
 * pipeline in the metadata). For CRAFT (`craft_mlt_25k.pth`, `craft_ic15_20k.pth`, or any state dict with the same
 * keys, any width) to an ONNX model: input `input` [N,3,H,W], outputs `y` [N,H/2,W/2,2] and `feature`
 * [N,32*w,H/2,W/2]; with `refiner` (`craft_refiner_CTW1500.pth`) also `refined_link` [N,H/2,W/2,1].
 * Rejects with a ConvertError (code ERR_CRAFT_CONVERT) naming the key or the problem.
 */
export async function convert(checkpoint: Uint8Array | string, opts: ConvertOptions = {}): Promise<Uint8Array> {
  return (await convertWithInfo(checkpoint, opts)).onnx;
}
