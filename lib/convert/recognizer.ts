/*! craft-text | MIT */
// Scene-text recognisers (DTRB's four-stage models: None|TPS - VGG|ResNet - None|BiLSTM - CTC|Attn, and EasyOCR's
// generation-2 models, which are DTRB's None-VGG-BiLSTM-CTC with other widths) -> ONNX in craft-text's recogniser
// contract (docs/recognition.md). The architecture is read from the keys, every width from the shapes.
import { ConvertError } from './errors';
import { conv, linear, maxPool, Weights, type Act } from './layers';
import { FLOAT, GraphBuilder } from './onnx';
import type { Tensor } from './torch';

/** DTRB's default character set (case-insensitive models, 36). */
export const DTRB_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';
/** DTRB `--sensitive`: Python's string.printable[:-6] (94: digits, a-z, A-Z, punctuation). */
export const DTRB_SENSITIVE_CHARS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' +
  '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
/** EasyOCR config.py `english_g2` characters (96, with space and the euro sign). */
export const EASYOCR_EN_G2_CHARS = '0123456789!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ \u20ac' +
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Widest input a dynamic-width model is given (the contract's imgW for EasyOCR-style pipelines). */
export const DEFAULT_MAX_WIDTH = 2048;

export interface RecognizerConvertOptions {
  /** The model's characters in class order (overrides the charset found from the class count). */
  character?: string;
  /** DTRB `--sensitive`: the 94-character set (the class count must match). */
  sensitive?: boolean;
  /** Input height (DTRB 32, EasyOCR 64). TPS models: read from the checkpoint's grid buffer. */
  imgH?: number;
  /** Input width (DTRB 100). TPS models: read from the checkpoint's grid buffer. */
  imgW?: number;
  /** DTRB `--PAD`: keep the ratio and pad by repeating the last column instead of squashing. */
  pad?: boolean;
  /** DTRB `batch_max_length` (attention models run batchMaxLength + 1 steps; default 25). */
  batchMaxLength?: number;
  /** Run the model as EasyOCR does (height 64, keep-ratio crops padded per crop, EasyOCR's confidence).
   *  Default: on for english_g2's 97 classes, off otherwise. */
  easyocr?: boolean;
}

export interface RecognizerInfo {
  kind: 'recognizer';
  /** Detected four-stage architecture, e.g. 'TPS-ResNet-BiLSTM-Attn'. */
  architecture: string;
  /** `craft.recognizer.name`: the architecture, or 'EasyOCR english_g2'. */
  name: string;
  decoder: 'ctc' | 'attn';
  /** Where the charset came from. */
  charset: 'dtrb' | 'dtrb-sensitive' | 'easyocr-english_g2' | 'option';
  characters: number;
  numClass: number;
  inputChannels: number;
  /** FeatureExtraction output_channel and the hidden size (BiLSTM / attention). */
  outputChannel: number;
  hiddenSize: number;
  imgH: number;
  imgW: number;
  /** The graph takes any input width (no TPS). */
  graphDynamicWidth: boolean;
  pipeline: 'dtrb' | 'easyocr';
  resize: 'squash' | 'pad';
  confidence: 'dtrb' | 'easyocr';
  numFiducial?: number;
  steps?: number;
  weightBytes: number;
}

const STAGE_PREFIXES = ['Transformation.', 'FeatureExtraction.', 'SequenceModeling.', 'Prediction.'];

/** True if the state dict has the keys of DTRB's four-stage model (or EasyOCR's, which shares them). */
export function looksLikeRecognizer(sd: Map<string, Tensor>): boolean {
  return [...sd.keys()].some((k) => k.startsWith('FeatureExtraction.') || k.startsWith('Prediction.'));
}

const fail = (msg: string, key?: string): never => { throw new ConvertError(`recognizer checkpoint: ${msg}`, key); };

function int64(data: number[]): BigInt64Array { return BigInt64Array.from(data.map((v) => BigInt(v))); }

interface Arch { transformation: 'None' | 'TPS'; feature: 'VGG' | 'ResNet'; sequence: 'None' | 'BiLSTM'; prediction: 'CTC' | 'Attn' }

/** The four stages from the keys; anything else (RCNN, other modules) is refused by name. */
export function detectArchitecture(sd: Map<string, Tensor>): Arch {
  const keys = [...sd.keys()];
  const stray = keys.find((k) => !STAGE_PREFIXES.some((p) => k.startsWith(p)));
  if (stray) fail(`unknown key '${stray}': not a DTRB/EasyOCR recognizer (stages are Transformation, FeatureExtraction, SequenceModeling, Prediction)`, stray);
  const has = (k: string) => sd.has(k);
  const transformation = keys.some((k) => k.startsWith('Transformation.')) ? 'TPS' : 'None';
  let feature: Arch['feature'];
  if (has('FeatureExtraction.ConvNet.conv0_1.weight')) feature = 'ResNet';
  else if (has('FeatureExtraction.ConvNet.0.weight') && has('FeatureExtraction.ConvNet.18.weight')) feature = 'VGG';
  else if (keys.some((k) => /^FeatureExtraction\.ConvNet\.\d+\.(wgf_u|wgr_x|conv_gate)/.test(k) || k.includes('.GRCL.'))) {
    return fail('FeatureExtraction is RCNN (GRCL layers), which is not supported; supported: VGG, ResNet');
  } else {
    return fail(`unknown FeatureExtraction layout (keys ${keys.filter((k) => k.startsWith('FeatureExtraction.')).slice(0, 3).map((k) => `'${k}'`).join(', ') || 'none'}); supported: VGG, ResNet`);
  }
  const sequence = keys.some((k) => k.startsWith('SequenceModeling.')) ? 'BiLSTM' : 'None';
  if (sequence === 'BiLSTM' && !has('SequenceModeling.0.rnn.weight_ih_l0')) {
    fail(`unknown SequenceModeling layout (expected SequenceModeling.0.rnn.*, a BiLSTM)`);
  }
  let prediction: Arch['prediction'];
  if (has('Prediction.weight')) prediction = 'CTC';
  else if (has('Prediction.attention_cell.i2h.weight')) prediction = 'Attn';
  else return fail('unknown Prediction layout (expected Prediction.weight for CTC or Prediction.attention_cell.* for Attn)');
  return { transformation, feature, sequence, prediction };
}

// ---- stages ----------------------------------------------------------------------------------------------------

/** TPS spatial transformer: localisation net -> fiducial points C' -> grid P' = P_hat inv_delta_C [C'; 0] -> sample. */
function tps(g: GraphBuilder, w: Weights, x: Act): { out: Act; imgH: number; imgW: number; F: number } {
  const L = 'Transformation.LocalizationNetwork';
  let h = x;
  const convIdx = [0, 4, 8, 12];
  convIdx.forEach((i, n) => {
    h = conv(g, w, h, { key: `${L}.conv.${i}`, bn: `${L}.conv.${i + 1}`, k: 3, bias: false, relu: true });
    if (n < 3) h = maxPool(g, h, [2, 2], [2, 2]);
  });
  h = { name: g.op('GlobalAveragePool', [h.name]), ch: h.ch };
  h = { name: g.op('Flatten', [h.name], { axis: 1 }), ch: h.ch };
  h = linear(g, w, h, `${L}.localization_fc1.0`);
  h = { name: g.op('Relu', [h.name]), ch: h.ch };
  const fc2 = linear(g, w, h, `${L}.localization_fc2`);
  if (fc2.ch % 2) fail(`'${L}.localization_fc2.weight' has ${fc2.ch} outputs, expected 2 x num_fiducial`, `${L}.localization_fc2.weight`);
  const F = fc2.ch / 2;
  const cPrime = g.op('Reshape', [fc2.name, g.initializer('tps_cprime_shape', [3], int64([-1, F, 2]))], {}, 'tps_cprime');
  const inv = w.get('Transformation.GridGenerator.inv_delta_C', [F + 3, F + 3]).data;
  const { data: pHat, shape: ps } = w.get('Transformation.GridGenerator.P_hat', [null, F + 3]);
  const n = ps[0];
  // P = pixel-centre grid: P_hat row 0 holds (x, y) = (1/W - 1, 1/H - 1) (GridGenerator._build_P)
  const imgW = Math.round(1 / (pHat[1] + 1));
  const imgH = Math.round(1 / (pHat[2] + 1));
  if (!(imgW > 0 && imgH > 0 && imgW * imgH === n)) {
    fail(`'Transformation.GridGenerator.P_hat' (${n} rows) is not the pixel grid of an imgH x imgW input`, 'Transformation.GridGenerator.P_hat');
  }
  // The last 3 rows of [C'; 0] are zero, so P' = (P_hat inv_delta_C[:, :F]) C': one [HW, F] matrix, built in double.
  const M = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < F; f++) {
      let acc = 0;
      for (let k = 0; k < F + 3; k++) acc += pHat[r * (F + 3) + k] * inv[k * (F + 3) + f];
      M[r * F + f] = acc;
    }
  }
  const pPrime = g.op('MatMul', [g.initializer('tps_P_hat_inv_delta_C', [n, F], M), cPrime], {}, 'tps_P_prime');
  const grid = g.op('Reshape', [pPrime, g.initializer('tps_grid_shape', [4], int64([-1, imgH, imgW, 2]))], {}, 'tps_grid');
  // DTRB: F.grid_sample(x, P', padding_mode='border', align_corners=True) (bilinear); GridSample is opset >= 16
  // (its mode is called 'linear' from opset 20 on; this graph is opset 17)
  const out = g.op('GridSample', [x.name, grid], { mode: 'bilinear', padding_mode: 'border', align_corners: 1 }, 'tps_rectified');
  return { out: { name: out, ch: x.ch }, imgH, imgW, F };
}

/** DTRB's VGG_FeatureExtractor (CRNN): BN only after convs 5 and 6; pools 2x2, 2x2, (2,1), (2,1); last conv 2x2. */
function vgg(g: GraphBuilder, w: Weights, x: Act): Act {
  const C = 'FeatureExtraction.ConvNet';
  const c = (h: Act, i: number, k = 3, bn = false): Act => conv(g, w, h, {
    key: `${C}.${i}`, k, pad: k === 3 ? 1 : 0, relu: true,
    ...(bn ? { bn: `${C}.${i + 1}`, bias: false } : {}),
  });
  let h = c(x, 0);
  h = maxPool(g, h, [2, 2], [2, 2]);
  h = c(h, 3);
  h = maxPool(g, h, [2, 2], [2, 2]);
  h = c(h, 6);
  h = c(h, 8);
  h = maxPool(g, h, [2, 1], [2, 1]);
  h = c(h, 11, 3, true);
  h = c(h, 14, 3, true);
  h = maxPool(g, h, [2, 1], [2, 1]);
  return c(h, 18, 2);
}

/** DTRB's ResNet_FeatureExtractor (FAN's ResNet with BasicBlocks; the block counts are read from the keys). */
function resnet(g: GraphBuilder, w: Weights, x: Act): Act {
  const C = 'FeatureExtraction.ConvNet';
  const cbr = (h: Act, name: string, bn: string, k: number, opts: { stride?: [number, number]; pad?: [number, number]; relu?: boolean } = {}) =>
    conv(g, w, h, { key: `${C}.${name}`, bn: `${C}.${bn}`, k, bias: false, relu: opts.relu ?? true, stride: opts.stride, pad: opts.pad });
  const layer = (h: Act, n: number): Act => {
    let b = 0;
    for (; w.has(`${C}.layer${n}.${b}.conv1.weight`); b++) {
      const p = `layer${n}.${b}`;
      let out = cbr(h, `${p}.conv1`, `${p}.bn1`, 3);
      out = cbr(out, `${p}.conv2`, `${p}.bn2`, 3, { relu: false });
      const res = w.has(`${C}.${p}.downsample.0.weight`)
        ? cbr(h, `${p}.downsample.0`, `${p}.downsample.1`, 1, { relu: false })
        : h;
      if (res.ch !== out.ch) fail(`'${C}.${p}' has no downsample but changes ${h.ch} to ${out.ch} channels`, `${C}.${p}.conv1.weight`);
      out = { name: g.op('Add', [out.name, res.name], {}, `${p.replace('.', '_')}_add`), ch: out.ch };
      h = { name: g.op('Relu', [out.name], {}, `${p.replace('.', '_')}_relu`), ch: out.ch };
    }
    if (b === 0) fail(`missing key '${C}.layer${n}.0.conv1.weight'`, `${C}.layer${n}.0.conv1.weight`);
    return h;
  };
  let h = cbr(x, 'conv0_1', 'bn0_1', 3);
  h = cbr(h, 'conv0_2', 'bn0_2', 3);
  h = maxPool(g, h, [2, 2], [2, 2]);
  h = layer(h, 1);
  h = cbr(h, 'conv1', 'bn1', 3);
  h = maxPool(g, h, [2, 2], [2, 2]);
  h = layer(h, 2);
  h = cbr(h, 'conv2', 'bn2', 3);
  h = maxPool(g, h, [2, 2], [2, 1], [0, 1]);
  h = layer(h, 3);
  h = cbr(h, 'conv3', 'bn3', 3);
  h = layer(h, 4);
  h = cbr(h, 'conv4_1', 'bn4_1', 2, { stride: [2, 1], pad: [0, 1] });
  return cbr(h, 'conv4_2', 'bn4_2', 2, { pad: [0, 0] });
}

/** PyTorch LSTM gate blocks i, f, g, o -> ONNX i, o, f, c (rows of [4H, *]). */
function reorderGates(src: Float32Array, hidden: number, cols: number, dst: Float32Array, dstOffset: number): void {
  const order = [0, 3, 1, 2];
  const block = hidden * cols;
  order.forEach((from, to) => dst.set(src.subarray(from * block, (from + 1) * block), dstOffset + to * block));
}

/** BidirectionalLSTM (nn.LSTM bidirectional + Linear(2H -> out)) on a [T, N, C] sequence. */
function biLstm(g: GraphBuilder, w: Weights, x: Act, i: number): Act {
  const p = `SequenceModeling.${i}.rnn`;
  const hh = w.shape(`${p}.weight_hh_l0`);
  if (!hh || hh.length !== 2 || hh[0] !== 4 * hh[1]) {
    return fail(`'${p}.weight_hh_l0' has shape [${hh?.join(', ') ?? ''}], expected [4H, H]`, `${p}.weight_hh_l0`);
  }
  const H = hh[1];
  const W = new Float32Array(2 * 4 * H * x.ch);
  const R = new Float32Array(2 * 4 * H * H);
  const B = new Float32Array(2 * 8 * H);
  ['', '_reverse'].forEach((sfx, d) => {
    const wi = w.get(`${p}.weight_ih_l0${sfx}`, [4 * H, x.ch], `input has ${x.ch} features`).data;
    const wh = w.get(`${p}.weight_hh_l0${sfx}`, [4 * H, H]).data;
    const bi = w.get(`${p}.bias_ih_l0${sfx}`, [4 * H]).data;
    const bh = w.get(`${p}.bias_hh_l0${sfx}`, [4 * H]).data;
    reorderGates(wi, H, x.ch, W, d * 4 * H * x.ch);
    reorderGates(wh, H, H, R, d * 4 * H * H);
    reorderGates(bi, H, 1, B, d * 8 * H);        // Wb
    reorderGates(bh, H, 1, B, d * 8 * H + 4 * H); // Rb
  });
  const y = g.node('LSTM', [
    x.name,
    g.initializer(`${p}.W`, [2, 4 * H, x.ch], W),
    g.initializer(`${p}.R`, [2, 4 * H, H], R),
    g.initializer(`${p}.B`, [2, 8 * H], B),
  ], [g.fresh(`seq${i}_lstm`)], { hidden_size: H, direction: 'bidirectional' });
  // Y [T, 2, N, H] -> [T, N, 2H] (forward then backward, as torch concatenates them)
  const t = g.op('Transpose', [y], { perm: [0, 2, 1, 3] }, `seq${i}_y`);
  const r = g.op('Reshape', [t, g.initializer(`seq${i}_shape`, [3], int64([0, 0, 2 * H]))], {}, `seq${i}_bi`);
  return linear(g, w, { name: r, ch: 2 * H }, `SequenceModeling.${i}.linear`);
}

/** DTRB's Attention decoder, is_train=False: start at [GO], feed back the argmax, run all `steps` steps.
 *  `Hs` is the encoder output [N, T, C]. Returns logits [N, steps, K]. */
function attention(g: GraphBuilder, w: Weights, Hs: Act, steps: number): { logits: string; numClass: number; hidden: number } {
  const A = 'Prediction.attention_cell';
  const gen = w.shape('Prediction.generator.weight');
  if (!gen || gen.length !== 2) return fail(`missing key 'Prediction.generator.weight'`, 'Prediction.generator.weight');
  const [K, hid] = gen;
  const ctx = Hs.ch;
  // batch_H_proj = i2h(batch_H): the same every step, computed once
  const Hp = linear(g, w, Hs, `${A}.i2h`, { bias: false, out: hid });
  const { data: h2hW } = w.get(`${A}.h2h.weight`, [hid, hid]);
  const { data: h2hB } = w.get(`${A}.h2h.bias`, [hid]);
  const { data: scoreW } = w.get(`${A}.score.weight`, [1, hid]);
  const { data: wih } = w.get(`${A}.rnn.weight_ih`, [4 * hid, ctx + K], `context ${ctx} + one-hot ${K}`);
  const { data: whh } = w.get(`${A}.rnn.weight_hh`, [4 * hid, hid]);
  const { data: bih } = w.get(`${A}.rnn.bias_ih`, [4 * hid]);
  const { data: bhh } = w.get(`${A}.rnn.bias_hh`, [4 * hid]);
  const { data: genW } = w.get('Prediction.generator.weight', [K, hid]);
  const { data: genB } = w.get('Prediction.generator.bias', [K]);
  // LSTMCell on cat[context, onehot(prev)]: the one-hot product is a row of the weight, so gates =
  // context Wc^T + E[prev] + h Whh^T + (b_ih + b_hh), with E = W_ih[:, ctx:]^T gathered by the fed-back argmax.
  const wc = new Float32Array(ctx * 4 * hid);
  const E = new Float32Array(K * 4 * hid);
  for (let r = 0; r < 4 * hid; r++) {
    for (let c = 0; c < ctx; c++) wc[c * 4 * hid + r] = wih[r * (ctx + K) + c];
    for (let k = 0; k < K; k++) E[k * 4 * hid + r] = wih[r * (ctx + K) + ctx + k];
  }
  const bsum = new Float32Array(4 * hid);
  const go = new Float32Array(4 * hid); // step 0: prev = [GO] (0), h = c = 0
  for (let r = 0; r < 4 * hid; r++) { bsum[r] = bih[r] + bhh[r]; go[r] = E[r] + bsum[r]; }
  const scoreT = g.initializer(`${A}.score.weight_t`, [hid, 1], scoreW);
  const h2hWn = g.initializer(`${A}.h2h.weight`, [hid, hid], h2hW);
  const h2hBn = g.initializer(`${A}.h2h.bias`, [hid], h2hB);
  const wcN = g.initializer(`${A}.rnn.weight_ih_context_t`, [ctx, 4 * hid], wc);
  const eN = g.initializer(`${A}.rnn.weight_ih_onehot_t`, [K, 4 * hid], E);
  const whhN = g.initializer(`${A}.rnn.weight_hh`, [4 * hid, hid], whh);
  const bsumN = g.initializer(`${A}.rnn.bias`, [4 * hid], bsum);
  const goN = g.initializer(`${A}.rnn.go_row`, [4 * hid], go);
  const genWn = g.initializer('Prediction.generator.weight', [K, hid], genW);
  const genBn = g.initializer('Prediction.generator.bias', [K], genB);
  const ax1 = g.initializer('axes_1', [1], int64([1]));
  let h: string | undefined;
  let c: string | undefined;
  let prev: string | undefined;
  const outs: string[] = [];
  for (let s = 0; s < steps; s++) {
    const tag = `attn${s}`;
    // e = score(tanh(i2h(H) + h2h(h))); alpha = softmax over T; context = alpha^T H
    const hp = h === undefined ? h2hBn : g.op('Unsqueeze', [g.op('Gemm', [h, h2hWn, h2hBn], { transB: 1 }, `${tag}_h2h`), ax1], {}, `${tag}_h2h_u`);
    const e = g.op('MatMul', [g.op('Tanh', [g.op('Add', [Hp.name, hp], {}, `${tag}_sum`)], {}, `${tag}_tanh`), scoreT], {}, `${tag}_e`);
    const alpha = g.op('Softmax', [e], { axis: 1 }, `${tag}_alpha`);
    const ctxv = g.op('Squeeze', [g.op('MatMul', [g.op('Transpose', [alpha], { perm: [0, 2, 1] }, `${tag}_alpha_t`), Hs.name], {}, `${tag}_ctx3`), ax1], {}, `${tag}_context`);
    let gates = g.op('MatMul', [ctxv, wcN], {}, `${tag}_gx`);
    if (h === undefined) {
      gates = g.op('Add', [gates, goN], {}, `${tag}_gates`);
    } else {
      const emb = g.op('Gather', [eN, prev as string], { axis: 0 }, `${tag}_emb`);
      const gh = g.op('Gemm', [h, whhN, bsumN], { transB: 1 }, `${tag}_gh`);
      gates = g.op('Add', [g.op('Add', [gates, emb], {}, `${tag}_gxe`), gh], {}, `${tag}_gates`);
    }
    const [gi, gf, gg, go_] = [0, 1, 2, 3].map((q) => g.fresh(`${tag}_gate${'ifgo'[q]}`));
    g.node('Split', [gates], [gi, gf, gg, go_], { axis: 1 });
    const i = g.op('Sigmoid', [gi]);
    const f = g.op('Sigmoid', [gf]);
    const gt = g.op('Tanh', [gg]);
    const o = g.op('Sigmoid', [go_]);
    const ig = g.op('Mul', [i, gt], {}, `${tag}_ig`);
    c = c === undefined ? ig : g.op('Add', [g.op('Mul', [f, c], {}, `${tag}_fc`), ig], {}, `${tag}_c`);
    h = g.op('Mul', [o, g.op('Tanh', [c])], {}, `${tag}_h`);
    const logits = g.op('Gemm', [h, genWn, genBn], { transB: 1 }, `${tag}_logits`);
    outs.push(g.op('Unsqueeze', [logits, ax1], {}, `${tag}_logits_u`));
    if (s + 1 < steps) prev = g.op('ArgMax', [logits], { axis: 1, keepdims: 0 }, `${tag}_argmax`);
  }
  const all = outs.length === 1 ? outs[0] : g.op('Concat', outs, { axis: 1 }, 'attn_logits');
  return { logits: all, numClass: K, hidden: hid };
}

// ---- the model ---------------------------------------------------------------------------------------------------

function charsetFor(numChars: number, decoder: 'ctc' | 'attn', opts: RecognizerConvertOptions):
  { chars: string[]; source: RecognizerInfo['charset'] } {
  const classes = `${numChars + (decoder === 'ctc' ? 1 : 2)} classes (${decoder === 'ctc' ? '[CTCblank]' : '[GO], [s]'} + ${numChars} characters)`;
  if (opts.character !== undefined) {
    const chars = Array.from(opts.character);
    if (chars.length !== numChars) {
      fail(`--character has ${chars.length} characters but the checkpoint has ${classes}`);
    }
    const dup = chars.find((ch, i) => chars.indexOf(ch) !== i);
    if (dup !== undefined) fail(`--character lists ${JSON.stringify(dup)} twice`);
    return { chars, source: 'option' };
  }
  if (opts.sensitive) {
    if (numChars !== 94) fail(`--sensitive means 94 characters, but the checkpoint has ${classes}; pass --character`);
    return { chars: Array.from(DTRB_SENSITIVE_CHARS), source: 'dtrb-sensitive' };
  }
  if (numChars === 36) return { chars: Array.from(DTRB_CHARS), source: 'dtrb' };
  if (numChars === 94) return { chars: Array.from(DTRB_SENSITIVE_CHARS), source: 'dtrb-sensitive' };
  if (numChars === 96 && decoder === 'ctc') return { chars: Array.from(EASYOCR_EN_G2_CHARS), source: 'easyocr-english_g2' };
  return fail(`the checkpoint has ${classes}, which is no known character set (DTRB 36 or 94, EasyOCR english_g2 96); ` +
    'pass the characters in class order with --character');
}

const posInt = (v: number | undefined, what: string, min: number, max: number): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer`);
  if (v < min || v > max) throw new RangeError(`${what} must be between ${min} and ${max}`);
  return v;
};

/** Builds the ONNX recogniser from a state dict (keys without `module.`). */
export function buildRecognizer(sd: Map<string, Tensor>, opts: RecognizerConvertOptions & { eps: number; producerVersion: string }):
  { onnx: Uint8Array; info: RecognizerInfo } {
  const optH = posInt(opts.imgH, 'imgH', 32, 1024); // the feature extractors reduce the height 16-fold, then a 2x2 conv
  const optW = posInt(opts.imgW, 'imgW', 4, 65536);
  const steps = (posInt(opts.batchMaxLength, 'batchMaxLength', 1, 1000) ?? 25) + 1;
  const arch = detectArchitecture(sd);
  const architecture = `${arch.transformation}-${arch.feature}-${arch.sequence}-${arch.prediction}`;
  const w = new Weights(sd, 'recognizer checkpoint', opts.eps);

  const firstConv = arch.feature === 'VGG' ? 'FeatureExtraction.ConvNet.0.weight' : 'FeatureExtraction.ConvNet.conv0_1.weight';
  const inCh = w.shape(firstConv)?.[1] ?? 0;
  if (inCh !== 1 && inCh !== 3) fail(`'${firstConv}' takes ${inCh} input channels, expected 1 (grey) or 3 (RGB)`, firstConv);

  const g = new GraphBuilder();
  const graphDynamicWidth = arch.transformation === 'None';
  const input = g.input('image', FLOAT, ['N', inCh, 'H', 'W']);
  let x: Act = { name: input, ch: inCh };
  let tpsInfo: { imgH: number; imgW: number; F: number } | undefined;
  if (arch.transformation === 'TPS') {
    const t = tps(g, w, x);
    tpsInfo = t;
    x = t.out;
    if ((optH !== undefined && optH !== t.imgH) || (optW !== undefined && optW !== t.imgW)) {
      fail(`the TPS grid of this checkpoint is built for ${t.imgH}x${t.imgW} (imgH x imgW), not ${optH ?? t.imgH}x${optW ?? t.imgW}`,
        'Transformation.GridGenerator.P_hat');
    }
  }
  const feat = arch.feature === 'VGG' ? vgg(g, w, x) : resnet(g, w, x);
  // official: AdaptiveAvgPool2d((None, 1)) on [N, W, C, H] == the mean over the feature map's height; then [T, N, C]
  const pooled = g.op('ReduceMean', [feat.name], { axes: [2], keepdims: 0 }, 'visual_feature');
  let seq: Act = { name: g.op('Transpose', [pooled], { perm: [2, 0, 1] }, 'visual_feature_t'), ch: feat.ch };
  if (arch.sequence === 'BiLSTM') {
    for (let i = 0; w.has(`SequenceModeling.${i}.rnn.weight_ih_l0`); i++) seq = biLstm(g, w, seq, i);
  }
  let logits: string;
  let numClass: number;
  let hiddenSize = seq.ch;
  if (arch.prediction === 'CTC') {
    const p = linear(g, w, seq, 'Prediction');
    numClass = p.ch;
    logits = g.op('Transpose', [p.name], { perm: [1, 0, 2] }, 'logits_ntk');
  } else {
    const Hs: Act = { name: g.op('Transpose', [seq.name], { perm: [1, 0, 2] }, 'contextual_feature'), ch: seq.ch };
    const a = attention(g, w, Hs, steps);
    numClass = a.numClass;
    hiddenSize = a.hidden;
    logits = a.logits;
  }
  w.checkAllUsed();
  const decoder = arch.prediction === 'CTC' ? 'ctc' : 'attn';
  const numChars = numClass - (decoder === 'ctc' ? 1 : 2);
  if (numChars < 1) fail(`the prediction layer has ${numClass} classes: no characters`);
  const { chars, source } = charsetFor(numChars, decoder, opts);
  g.node('Identity', [logits], ['logits']);
  g.output('logits', FLOAT, ['N', 'T', numClass]);

  const easyocr = opts.easyocr ?? (source === 'easyocr-english_g2' && arch.transformation === 'None');
  if (easyocr && !graphDynamicWidth) fail('--easyocr needs a model without TPS (EasyOCR pads each crop to its own width)');
  const pipeline: RecognizerInfo['pipeline'] = easyocr ? 'easyocr' : 'dtrb';
  const imgH = tpsInfo?.imgH ?? optH ?? (easyocr ? 64 : 32);
  const resize: RecognizerInfo['resize'] = easyocr || opts.pad ? 'pad' : 'squash';
  // EasyOCR pads each crop to its own width (the graph takes any); DTRB always feeds imgW
  const imgW = tpsInfo?.imgW ?? optW ?? (easyocr ? DEFAULT_MAX_WIDTH : 100);
  const outputChannel = feat.ch;
  const name = source === 'easyocr-english_g2' && easyocr && architecture === 'None-VGG-BiLSTM-CTC'
    ? 'EasyOCR english_g2' : easyocr ? `EasyOCR ${architecture}` : architecture;
  const info: RecognizerInfo = {
    kind: 'recognizer', architecture, name, decoder, charset: source, characters: chars.length, numClass,
    inputChannels: inCh, outputChannel, hiddenSize, imgH, imgW, graphDynamicWidth, pipeline, resize,
    confidence: easyocr ? 'easyocr' : 'dtrb', weightBytes: g.weightBytes,
    ...(tpsInfo ? { numFiducial: tpsInfo.F } : {}), ...(decoder === 'attn' ? { steps } : {}),
  };
  const metadata: Record<string, string> = {
    'craft.task': 'recognition',
    'craft.recognizer.name': name,
    'craft.recognizer.architecture': architecture,
    'craft.recognizer.charset': JSON.stringify(chars),
    'craft.recognizer.decoder': decoder,
    'craft.recognizer.imgH': String(imgH),
    'craft.recognizer.imgW': String(imgW),
    'craft.recognizer.dynamicWidth': easyocr ? 'true' : 'false',
    'craft.recognizer.channels': String(inCh),
    'craft.recognizer.resize': resize,
    'craft.recognizer.interpolation': 'bicubic',
    'craft.recognizer.mean': '0.5',
    'craft.recognizer.std': '0.5',
    'craft.recognizer.confidence': info.confidence,
    'craft.recognizer.batchMaxLength': String(steps - 1),
    'craft_text.source': 'craft-text convert (BatchNorm folded)',
    'craft_text.bn_eps': String(opts.eps),
  };
  const onnx = g.finish({
    graphName: architecture.replace(/-/g, '_'), producerVersion: opts.producerVersion, metadata,
    docString: `${name} text recogniser: image [N,${inCh},${imgH},${graphDynamicWidth ? 'W' : imgW}] in [-1,1]; ` +
      `logits [N,T,${numClass}] before softmax (${decoder === 'ctc' ? 'CTC, blank 0' : `attention, ${steps} steps, [GO] 0, [s] 1`})`,
  });
  return { onnx, info };
}
