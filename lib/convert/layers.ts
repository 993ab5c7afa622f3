/*! craft-text | MIT */
// Layers shared by the converters' graph builders (CRAFT, recognisers): checked state-dict access, Conv2d with
// BatchNorm folded, Linear. Widths come from the weights; every input width is checked against what feeds it.
import { ConvertError } from './errors';
import type { GraphBuilder } from './onnx';
import type { Tensor } from './torch';

/** BatchNorm2d default epsilon (not stored in checkpoints). */
export const DEFAULT_BN_EPS = 1e-5;

/** State-dict access that records which keys were consumed and reports problems by key. */
export class Weights {
  private readonly used = new Set<string>();
  constructor(readonly sd: Map<string, Tensor>, readonly what: string, readonly eps: number) {}

  has(key: string): boolean { return this.sd.has(key); }

  /** The shape of a key (undefined when absent); does not mark it used. */
  shape(key: string): number[] | undefined { return this.sd.get(key)?.shape; }

  get(key: string, shape: (number | null)[], hint = ''): { data: Float32Array; shape: number[] } {
    const t = this.sd.get(key);
    if (!t) throw new ConvertError(`${this.what}: missing key '${key}'`, key);
    const ok = t.shape.length === shape.length && shape.every((s, i) => s === null || s === t.shape[i]);
    if (!ok) {
      const exp = `[${shape.map((s) => (s === null ? '*' : s)).join(', ')}]`;
      throw new ConvertError(`${this.what}: '${key}' has shape [${t.shape.join(', ')}], expected ${exp}${hint ? ` (${hint})` : ''}`, key);
    }
    if (t.dtype === 'bool' || t.dtype.startsWith('int') || t.dtype === 'uint8') {
      throw new ConvertError(`${this.what}: '${key}' has dtype ${t.dtype}, expected a floating-point tensor`, key);
    }
    this.used.add(key);
    return { data: t.toFloat32(key), shape: t.shape };
  }

  /** Marks the optional `num_batches_tracked` entry of a BatchNorm as known. */
  batches(prefix: string): void {
    const key = `${prefix}.num_batches_tracked`;
    const t = this.sd.get(key);
    if (!t) return;
    if (t.numel !== 1) throw new ConvertError(`${this.what}: '${key}' has shape [${t.shape.join(', ')}], expected []`, key);
    this.used.add(key);
  }

  /** Keys never consumed: an error naming them. */
  checkAllUsed(): void {
    const extra = [...this.sd.keys()].filter((k) => !this.used.has(k));
    if (extra.length) {
      const list = extra.slice(0, 5).map((k) => `'${k}'`).join(', ');
      throw new ConvertError(`${this.what}: unknown key${extra.length > 1 ? 's' : ''} ${list}` +
        `${extra.length > 5 ? ` and ${extra.length - 5} more` : ''} (not part of the official architecture)`, extra[0]);
    }
  }
}

/** A graph tensor and its channel count. */
export interface Act { name: string; ch: number }

export interface ConvSpec {
  key: string;          // e.g. 'basenet.slice1.0'
  bn?: string;          // e.g. 'basenet.slice1.1'
  k: number | [number, number];
  /** Symmetric padding: one number, or [pad_h, pad_w]. Default k // 2. */
  pad?: number | [number, number];
  dil?: number;
  stride?: [number, number];
  relu: boolean;
  /** The conv has a bias (default true; DTRB's convs before a BatchNorm have none). */
  bias?: boolean;
  out?: number;         // fixed output channels (2 for conv_cls.8, 1 for the ASPP heads)
  hint?: string;        // what the input channels are made of, for shape errors
}

/** Conv2d (+ BatchNorm2d folded in double precision) (+ ReLU). */
export function conv(g: GraphBuilder, w: Weights, x: Act, s: ConvSpec): Act {
  const [kh, kw] = typeof s.k === 'number' ? [s.k, s.k] : s.k;
  const { data: wt, shape } = w.get(`${s.key}.weight`, [s.out ?? null, x.ch, kh, kw], s.hint ?? `input has ${x.ch} channels`);
  const cout = shape[0];
  const hasBias = s.bias ?? true;
  const bias = hasBias ? w.get(`${s.key}.bias`, [cout]).data : undefined;
  let W = wt;
  let B = bias;
  if (s.bn) {
    const gamma = w.get(`${s.bn}.weight`, [cout]).data;
    const beta = w.get(`${s.bn}.bias`, [cout]).data;
    const mean = w.get(`${s.bn}.running_mean`, [cout]).data;
    const vr = w.get(`${s.bn}.running_var`, [cout]).data;
    w.batches(s.bn);
    // fold: W' = W * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta (computed in double)
    W = new Float32Array(wt.length);
    B = new Float32Array(cout);
    const per = wt.length / cout;
    for (let o = 0; o < cout; o++) {
      if (!(vr[o] + w.eps > 0)) {
        throw new ConvertError(`${w.what}: '${s.bn}.running_var' has a negative or NaN entry at ${o}`, `${s.bn}.running_var`);
      }
      const sc = gamma[o] / Math.sqrt(vr[o] + w.eps);
      for (let i = o * per, e = i + per; i < e; i++) W[i] = wt[i] * sc;
      B[o] = ((bias ? bias[o] : 0) - mean[o]) * sc + beta[o];
    }
  }
  const inputs = [x.name, g.initializer(`${s.key}.weight`, shape, W)];
  if (B) inputs.push(g.initializer(`${s.key}.bias`, [cout], B));
  const [ph, pw] = s.pad === undefined ? [kh >> 1, kw >> 1] : typeof s.pad === 'number' ? [s.pad, s.pad] : s.pad;
  const d = s.dil ?? 1;
  const prefix = s.key.replace(/\./g, '_');
  let y = g.op('Conv', inputs, {
    kernel_shape: [kh, kw], pads: [ph, pw, ph, pw], dilations: [d, d], strides: s.stride ?? [1, 1], group: 1,
  }, prefix);
  if (s.relu) y = g.op('Relu', [y], {}, `${prefix}_relu`);
  return { name: y, ch: cout };
}

/** MaxPool2d(kernel, stride, padding) (padding pads with -inf, as PyTorch's does). */
export function maxPool(g: GraphBuilder, x: Act, k: [number, number], stride: [number, number], pad: [number, number] = [0, 0]): Act {
  return {
    name: g.op('MaxPool', [x.name], { kernel_shape: k, strides: stride, pads: [pad[0], pad[1], pad[0], pad[1]] }),
    ch: x.ch,
  };
}

/** nn.Linear on the last axis of x: MatMul with W^T (+ bias). `inCh` is checked against the weight. */
export function linear(g: GraphBuilder, w: Weights, x: Act, key: string, opts: { bias?: boolean; out?: number; hint?: string } = {}): Act {
  const { data, shape } = w.get(`${key}.weight`, [opts.out ?? null, x.ch], opts.hint ?? `input has ${x.ch} features`);
  const [out, inp] = shape;
  const wt = new Float32Array(inp * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) wt[i * out + o] = data[o * inp + i];
  let y = g.op('MatMul', [x.name, g.initializer(`${key}.weight_t`, [inp, out], wt)], {}, key.replace(/\./g, '_'));
  if (opts.bias ?? true) {
    const b = w.get(`${key}.bias`, [out]).data;
    y = g.op('Add', [y, g.initializer(`${key}.bias`, [out], b)], {}, `${key.replace(/\./g, '_')}_add`);
  }
  return { name: y, ch: out };
}
