/*! craft-text | MIT */
// Graph rewrites for INT8: which tensors get quantized (plan), the calibration graph that measures their ranges,
// and the two quantized forms ONNX Runtime runs fast on CPUs:
//  - static QDQ: QuantizeLinear/DequantizeLinear pairs around Conv (int8 per-channel weights, int32 bias, uint8
//    activations), MaxPool, Resize, Concat and Add; ONNX Runtime fuses them into QLinearConv & co. (u8s8, VNNI).
//  - dynamic: Conv -> DynamicQuantizeLinear + ConvInteger (activation ranges measured per run, no calibration).
import { attr, attrName, DT, OnnxModel, type OnnxNode } from './graph';
import { QuantizeError } from './errors';

/** Ops that may produce float activations from a float input (everything else, e.g. Shape, is left alone). */
const FLOAT_PASS = new Set([
  'Conv', 'Relu', 'MaxPool', 'AveragePool', 'Resize', 'Upsample', 'Concat', 'Add', 'Mul', 'Sub', 'Identity',
  'Transpose', 'Sigmoid', 'Clip', 'LeakyRelu', 'Pad', 'BatchNormalization', 'Reshape', 'Flatten', 'Slice',
  'Softmax', 'Tanh', 'Div', 'Split', 'Squeeze', 'Unsqueeze',
]);
/** Ops whose output reuses the input's quantization (data moves, values don't change scale). */
const SAME_SCALE = new Set(['MaxPool', 'Resize']);
/** Ops between a head convolution and a graph output that don't compute (layout only). */
const LAYOUT = new Set(['Transpose', 'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

export interface PlanOptions {
  /** Node names (or output tensor names) of convolutions to keep in float. */
  exclude?: string[];
  /** Keep the convolutions whose output reaches a graph output through layout ops only in float (default true). */
  keepHeadFloat?: boolean;
  /**
   * Keep convolutions with fewer input (per group) or output channels than this in float (default 16): ONNX
   * Runtime's int8 kernels are slower than its float ones on narrow layers (measured: docs/serving.md).
   */
  minChannels?: number;
}

/** How each quantized tensor gets its scale: from its own calibrated range, or the same as another tensor. */
export interface QuantPlan {
  /** Conv nodes that become quantized (by index in model.nodes). */
  convs: OnnxNode[];
  /** Relu nodes folded into the preceding quantized Conv's output quantization. */
  foldedRelus: Set<OnnxNode>;
  /** Tensors (names in the original graph) quantized with their own calibrated range, in graph order. */
  calibrated: string[];
  /** Tensors quantized with another tensor's parameters (MaxPool/Resize outputs): tensor -> source tensor. */
  shared: Map<string, string>;
  /** Conv nodes left in float and why. */
  skipped: { name: string; why: string }[];
  /** Every node that runs quantized (convs, MaxPool/Resize on quantized inputs, quantized Concat/Add). */
  quantizedOps: Set<OnnxNode>;
}

function nodeLabel(n: OnnxNode): string {
  return n.name || n.outputs[0];
}

/** True if a conv's weight and bias can be quantized (float initializers of the usual shapes). */
function quantizableConv(m: OnnxModel, n: OnnxNode): string | undefined {
  const w = m.initializers.get(n.inputs[1]);
  if (!w) return 'weight is not an initializer';
  if (w.dataType !== DT.FLOAT) return 'weight is not float32';
  if (w.dims.length !== 4) return `weight has rank ${w.dims.length} (2-D convolutions only)`;
  if (n.inputs[2] && n.inputs[2] !== '') {
    const b = m.initializers.get(n.inputs[2]);
    if (!b || b.dataType !== DT.FLOAT) return 'bias is not a float initializer';
  }
  return undefined;
}

/** Decides what gets quantized. Works on the original graph (names as they are before any rewrite). */
export function planQuantization(m: OnnxModel, opts: PlanOptions = {}): QuantPlan {
  if (m.opset < 13) {
    throw new QuantizeError(`the model uses opset ${m.opset || '(none)'}; per-channel QDQ needs opset 13 or later (re-export it)`);
  }
  const consumers = m.consumers();
  const graphOutputs = new Set(m.outputs.map((o) => o.name));
  const exclude = new Set(opts.exclude ?? []);
  const keepHeadFloat = opts.keepHeadFloat ?? true;
  const minChannels = opts.minChannels ?? 16;

  // float activations: reachable from the graph inputs through data ops
  const inits = new Set(m.initializers.keys());
  const float = new Set(m.inputs.filter((i) => !inits.has(i.name)).map((i) => i.name));
  for (const n of m.nodes) {
    if (n.opType === 'Cast') continue;
    if (!FLOAT_PASS.has(n.opType) || n.domain !== '') continue;
    const dataInputs = n.opType === 'Concat' || n.opType === 'Add' || n.opType === 'Mul' ? n.inputs : [n.inputs[0]];
    if (dataInputs.some((i) => float.has(i))) for (const o of n.outputs) if (o) float.add(o);
  }

  // head convolutions: their output reaches a model output through layout ops (and sums of heads, as in the
  // LinkRefiner's ASPP) only, whatever else also reads it
  const reachesOutputDirectly = (t: string): boolean => {
    if (graphOutputs.has(t)) return true;
    return (consumers.get(t) ?? []).some((c) => (LAYOUT.has(c.opType) || c.opType === 'Add') && c.outputs.some(reachesOutputDirectly));
  };

  const convs: OnnxNode[] = [];
  const skipped: { name: string; why: string }[] = [];
  for (const n of m.nodes) {
    if (n.opType !== 'Conv' || n.domain !== '') continue;
    const label = nodeLabel(n);
    if (exclude.has(label) || exclude.has(n.outputs[0])) { skipped.push({ name: label, why: 'excluded' }); continue; }
    if (!float.has(n.inputs[0])) { skipped.push({ name: label, why: 'input is not a float activation' }); continue; }
    const why = quantizableConv(m, n);
    if (why) { skipped.push({ name: label, why }); continue; }
    if (keepHeadFloat && reachesOutputDirectly(n.outputs[0])) { skipped.push({ name: label, why: 'head (feeds a model output)' }); continue; }
    const [cout, cin] = m.initializers.get(n.inputs[1])!.dims;
    if (cin < minChannels || cout < minChannels) {
      skipped.push({ name: label, why: `narrow (${cin} -> ${cout} channels, int8 is slower there)` });
      continue;
    }
    convs.push(n);
  }
  const convSet = new Set(convs);

  const calibrated: string[] = [];
  const shared = new Map<string, string>();
  const quantized = new Set<string>();
  const own = (t: string) => {
    if (quantized.has(t)) return;
    quantized.add(t);
    calibrated.push(t);
  };
  const foldedRelus = new Set<OnnxNode>();
  const quantizedOps = new Set<OnnxNode>(convs);
  for (const n of m.nodes) {
    if (convSet.has(n)) {
      own(n.inputs[0]);
      const out = n.outputs[0];
      const cs = consumers.get(out) ?? [];
      if (cs.length === 1 && cs[0].opType === 'Relu' && cs[0].domain === '' && !graphOutputs.has(out)) {
        foldedRelus.add(cs[0]);
        own(cs[0].outputs[0]);
      } else own(out);
    } else if (SAME_SCALE.has(n.opType) && n.domain === '' && quantized.has(n.inputs[0]) && float.has(n.outputs[0])) {
      quantized.add(n.outputs[0]);
      shared.set(n.outputs[0], shared.get(n.inputs[0]) ?? n.inputs[0]);
      quantizedOps.add(n);
    } else if ((n.opType === 'Concat' || n.opType === 'Add') && n.domain === '' && float.has(n.outputs[0]) &&
               n.inputs.every((i) => float.has(i)) && n.inputs.some((i) => quantized.has(i))) {
      for (const i of n.inputs) own(i);
      own(n.outputs[0]);
      quantizedOps.add(n);
    }
  }
  return { convs, foldedRelus, calibrated, shared, skipped, quantizedOps };
}

// ---- calibration graph --------------------------------------------------------------------------------------------

/** Statistics measured per tensor per image: min, max, then (low, high) for each tail fraction. */
export function statsPerTensor(tails: number[]): number {
  return 2 + 2 * tails.length;
}

/**
 * A copy of the model whose `y` output carries, in its first values (flattened, row-major), the statistics of every
 * tensor in `tensors`: [min, max, lo_1, hi_1, lo_2, hi_2, …] per tensor, where lo_i/hi_i are the values with a
 * fraction `tails[i]` of the tensor below/above them (TopK). The rest of `y` is the model's own output, so the model
 * still loads and runs in the detector (which pre-processes exactly as at inference time).
 */
export function calibrationModel(bytes: Uint8Array, tensors: string[], tails: number[]): Uint8Array {
  const m = OnnxModel.parse(bytes);
  const yOut = m.outputs.find((o) => o.name === 'y') ?? m.outputs[0];
  if (!yOut) throw new QuantizeError('the model has no outputs');
  const producers = m.producers();
  const yProducer = producers.get(yOut.name);
  if (!yProducer) throw new QuantizeError(`output ${yOut.name} is not produced by a node`);
  const yOrig = m.fresh(`${yOut.name}__orig`);
  yProducer.outputs = yProducer.outputs.map((o) => (o === yOut.name ? yOrig : o));
  for (const n of m.nodes) n.inputs = n.inputs.map((i) => (i === yOut.name ? yOrig : i));

  const i64 = (name: string, v: number[]) => m.addInitializer(name, DT.INT64, [v.length], BigInt64Array.from(v.map(BigInt)));
  const f32 = (name: string, v: number) => m.addInitializer(name, DT.FLOAT, [], Float32Array.of(v));
  const minus1 = i64('calib_minus1', [-1]);
  const one64 = i64('calib_one', [1]);
  const add = (opType: string, inputs: string[], attrs?: OnnxNode['attrs'], base = opType.toLowerCase()): string => {
    const out = m.fresh(`calib_${base}`);
    m.nodes.push({ inputs, outputs: [out], name: m.fresh(`calib_${opType}`), opType, domain: '', rawAttrs: [], attrs, rest: [] });
    return out;
  };
  const pieces: string[] = [];
  for (const t of tensors) {
    const flat = add('Reshape', [t, minus1]);
    pieces.push(add('ReduceMin', [flat], { keepdims: 1 }), add('ReduceMax', [flat], { keepdims: 1 }));
    if (tails.length) {
      const size = add('Cast', [add('Size', [t])], { to: DT.FLOAT });
      for (const tail of tails) {
        const k = add('Max', [add('Cast', [add('Ceil', [add('Mul', [size, f32('calib_tail', tail)])])], { to: DT.INT64 }), one64]);
        const k1 = add('Reshape', [k, one64]);
        const top = m.fresh('calib_top');
        const bottom = m.fresh('calib_bottom');
        m.nodes.push({ inputs: [flat, k1], outputs: [top, m.fresh('calib_topi')], name: m.fresh('calib_TopK'), opType: 'TopK', domain: '', rawAttrs: [], attrs: { largest: 1, sorted: 0 }, rest: [] });
        m.nodes.push({ inputs: [flat, k1], outputs: [bottom, m.fresh('calib_bottomi')], name: m.fresh('calib_TopK'), opType: 'TopK', domain: '', rawAttrs: [], attrs: { largest: 0, sorted: 0 }, rest: [] });
        pieces.push(add('ReduceMax', [bottom], { keepdims: 1 }), add('ReduceMin', [top], { keepdims: 1 }));
      }
    }
  }
  const stats = add('Concat', pieces, { axis: 0 });
  const yFlat = add('Reshape', [yOrig, minus1]);
  const rest = add('Slice', [yFlat, i64('calib_start', [pieces.length]), i64('calib_end', [Number.MAX_SAFE_INTEGER])]);
  const packed = add('Concat', [stats, rest], { axis: 0 });
  m.nodes.push({ inputs: [packed, add('Shape', [yOrig])], outputs: [yOut.name], name: m.fresh('calib_pack'), opType: 'Reshape', domain: '', rawAttrs: [], rest: [] });
  return m.serialize();
}

// ---- static QDQ ----------------------------------------------------------------------------------------------------

/** A tensor's calibrated range. */
export interface Range { lo: number; hi: number }

export interface QdqOptions {
  /** Weights in 7 bits ([-63, 63]): for CPUs without VNNI, where u8s8 products can saturate (default false). */
  reduceRange?: boolean;
  /** One scale per output channel for weights (default true). */
  perChannel?: boolean;
}

/** uint8 asymmetric activation parameters for a range (which is widened to include 0, as ONNX requires). */
export function activationParams(r: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.lo), hi = Math.max(0, r.hi);
  let scale = Math.fround((hi - lo) / 255);
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  const zeroPoint = Math.max(0, Math.min(255, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** int8 symmetric weights, per output channel (axis 0) or per tensor. */
export function quantizeWeights(w: Float32Array, channels: number, opts: QdqOptions = {}): { q: Int8Array; scales: Float32Array } {
  const qmax = opts.reduceRange ? 63 : 127;
  const per = w.length / channels;
  const groups = opts.perChannel === false ? 1 : channels;
  const scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const from = opts.perChannel === false ? 0 : g * per, to = opts.perChannel === false ? w.length : from + per;
    let amax = 0;
    for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(w[i]));
    scales[g] = amax > 0 ? amax / qmax : 1;
  }
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scales[opts.perChannel === false ? 0 : Math.floor(i / per)];
    q[i] = Math.max(-qmax, Math.min(qmax, Math.round(w[i] / s)));
  }
  return { q, scales };
}

/** Summary of a rewrite. */
export interface RewriteInfo {
  quantizedConvs: number;
  floatConvs: { name: string; why: string }[];
  foldedRelus: number;
  quantizedTensors: number;
}

/** Rewrites `m` in place into the QDQ form, given the plan and each calibrated tensor's range. */
export function applyQdq(m: OnnxModel, plan: QuantPlan, ranges: Map<string, Range>, opts: QdqOptions = {}): RewriteInfo {
  const graphOutputs = new Set(m.outputs.map((o) => o.name));
  const params = new Map<string, { scale: string; zp: string; s: number }>();
  for (const t of plan.calibrated) {
    const r = ranges.get(t);
    if (!r) throw new QuantizeError(`no calibrated range for tensor ${t}`);
    const { scale, zeroPoint } = activationParams(r);
    params.set(t, {
      scale: m.addInitializer(`${t}_scale`, DT.FLOAT, [], Float32Array.of(scale)),
      zp: m.addInitializer(`${t}_zero_point`, DT.UINT8, [], Uint8Array.of(zeroPoint)),
      s: scale,
    });
  }
  for (const [t, src] of plan.shared) params.set(t, params.get(src)!);

  // 1. fold Relus into the preceding conv: the conv now writes the Relu's output tensor (pre-activation values; the
  //    quantization below clamps at zero point 0, which is the Relu)
  const producers = m.producers();
  for (const relu of plan.foldedRelus) {
    const conv = producers.get(relu.inputs[0])!;
    conv.outputs[0] = relu.outputs[0];
  }
  m.nodes = m.nodes.filter((n) => !plan.foldedRelus.has(n));

  // 2. weights and biases of quantized convs
  for (const conv of plan.convs) {
    const xp = params.get(conv.inputs[0])!;
    const wName = conv.inputs[1];
    const wt = m.initializers.get(wName)!;
    const w = m.floatData(wName);
    if (!w) throw new QuantizeError(`cannot read the weights of ${nodeLabel(conv)} (external data?)`);
    const M = wt.dims[0];
    const { q, scales } = quantizeWeights(w, M, opts);
    const perChannel = opts.perChannel !== false;
    const wq = m.addInitializer(`${wName}_quantized`, DT.INT8, wt.dims, q);
    const ws = m.addInitializer(`${wName}_scale`, DT.FLOAT, perChannel ? [M] : [], scales);
    const wz = m.addInitializer(`${wName}_zero_point`, DT.INT8, perChannel ? [M] : [], new Int8Array(perChannel ? M : 1));
    const wdq = m.fresh(`${wName}_dequantized`);
    const newNodes: OnnxNode[] = [dqNode(m, [wq, ws, wz], wdq, perChannel ? 0 : undefined)];
    conv.inputs[1] = wdq;
    if (conv.inputs[2]) {
      const bName = conv.inputs[2];
      const b = m.floatData(bName);
      if (!b || b.length !== M) throw new QuantizeError(`cannot read the bias of ${nodeLabel(conv)}`);
      const bs = new Float32Array(M);
      const bq = new Int32Array(M);
      for (let c = 0; c < M; c++) {
        bs[c] = Math.fround(xp.s * scales[perChannel ? c : 0]);
        bq[c] = Math.max(-2147483648, Math.min(2147483647, Math.round(b[c] / bs[c])));
      }
      const bqn = m.addInitializer(`${bName}_quantized`, DT.INT32, [M], bq);
      const bsn = m.addInitializer(`${bName}_quantized_scale`, DT.FLOAT, [M], bs);
      const bzn = m.addInitializer(`${bName}_quantized_zero_point`, DT.INT32, [M], new Int32Array(M));
      const bdq = m.fresh(`${bName}_dequantized`);
      newNodes.push(dqNode(m, [bqn, bsn, bzn], bdq, 0));
      conv.inputs[2] = bdq;
    }
    m.nodes.splice(m.nodes.indexOf(conv), 0, ...newNodes);
  }

  // 3. Q/DQ pairs on every quantized activation, right after its producer (or at the top for graph inputs)
  const quantizedTensors = [...plan.calibrated, ...plan.shared.keys()];
  const producersNow = m.producers();
  const rename = new Map<string, string>();
  const shapeOnly = new Map<string, string>();
  const floatProduced = new Set<string>();
  const insertions: { after: OnnxNode | undefined; nodes: OnnxNode[] }[] = [];
  for (const t of quantizedTensors) {
    const p = params.get(t)!;
    const producer = producersNow.get(t);
    let src = t;
    const nodes: OnnxNode[] = [];
    const q = m.fresh(`${t}_QuantizeLinear_Output`);
    const dq = m.fresh(`${t}_DequantizeLinear_Output`);
    if (graphOutputs.has(t) && producer) {
      // the graph output keeps its name and gets the dequantized values; consumers get their own DQ
      src = m.fresh(`${t}_QuantizeLinear_Input`);
      producer.outputs = producer.outputs.map((o) => (o === t ? src : o));
      nodes.push(qNode(m, [src, p.scale, p.zp], q), dqNode(m, [q, p.scale, p.zp], t), dqNode(m, [q, p.scale, p.zp], dq));
    } else {
      nodes.push(qNode(m, [src, p.scale, p.zp], q), dqNode(m, [q, p.scale, p.zp], dq));
    }
    rename.set(t, dq);
    shapeOnly.set(t, q);
    if (!producer || !plan.quantizedOps.has(producer)) floatProduced.add(t);
    insertions.push({ after: producer, nodes });
  }
  const own = new Set(insertions.flatMap((x) => x.nodes));
  for (const n of m.nodes) {
    if (own.has(n)) continue;
    const shapeOnlyReader = (n.opType === 'Shape' || n.opType === 'Size') && n.domain === '';
    n.inputs = n.inputs.map((i) => {
      // Shape/Size read only the dimensions: the uint8 tensor has them too, and reading it keeps ONNX Runtime from
      // materialising a float (and, after its layout pass, transposed) copy just to take its shape
      if (shapeOnlyReader) return shapeOnly.get(i) ?? i;
      // a float tensor quantized for a quantized reader (e.g. the score head feeding the refiner's Concat) stays
      // float for its float readers (the model output); a quantized op's output is read dequantized by everyone
      // (ONNX Runtime then fuses the op with its QuantizeLinear)
      if (floatProduced.has(i) && !plan.quantizedOps.has(n)) return i;
      return rename.get(i) ?? i;
    });
  }
  for (const { after, nodes } of insertions) {
    const at = after ? m.nodes.indexOf(after) + 1 : 0;
    m.nodes.splice(at, 0, ...nodes);
  }
  return {
    quantizedConvs: plan.convs.length,
    floatConvs: plan.skipped,
    foldedRelus: plan.foldedRelus.size,
    quantizedTensors: quantizedTensors.length,
  };
}

function qNode(m: OnnxModel, inputs: string[], output: string): OnnxNode {
  return { inputs, outputs: [output], name: m.fresh(`${output}_node`), opType: 'QuantizeLinear', domain: '', rawAttrs: [], rest: [] };
}

function dqNode(m: OnnxModel, inputs: string[], output: string, axis?: number): OnnxNode {
  return {
    inputs, outputs: [output], name: m.fresh(`${output}_node`), opType: 'DequantizeLinear', domain: '', rawAttrs: [],
    attrs: axis === undefined ? undefined : { axis }, rest: [],
  };
}

// ---- dynamic -------------------------------------------------------------------------------------------------------

/**
 * Rewrites every quantizable Conv (as planned) into DynamicQuantizeLinear -> ConvInteger (int8 per-channel weights)
 * -> Cast -> Mul(scales) -> Add(bias). No calibration: ONNX Runtime measures each input's range on every run.
 */
export function applyDynamic(m: OnnxModel, plan: QuantPlan, opts: QdqOptions = {}): RewriteInfo {
  for (const conv of plan.convs) {
    const wName = conv.inputs[1];
    const wt = m.initializers.get(wName)!;
    const w = m.floatData(wName);
    if (!w) throw new QuantizeError(`cannot read the weights of ${nodeLabel(conv)} (external data?)`);
    const M = wt.dims[0];
    const perChannel = opts.perChannel !== false;
    const { q, scales } = quantizeWeights(w, M, { ...opts, perChannel });
    const base = nodeLabel(conv).replace(/[^A-Za-z0-9_.]/g, '_');
    const xq = m.fresh(`${base}_x_q`), xs = m.fresh(`${base}_x_scale`), xz = m.fresh(`${base}_x_zp`);
    // symmetric weights stored as uint8 with zero point 128 (one scalar for all channels: ConvInteger takes no
    // per-channel zero point; the per-channel scales are applied to the int32 result). ONNX Runtime's ConvInteger
    // is much slower with int8 weights than with uint8 ones (measured 13x on the compact model).
    const wu = new Uint8Array(q.length);
    for (let i = 0; i < q.length; i++) wu[i] = q[i] + 128;
    const wz = m.addInitializer(`${wName}_zero_point`, DT.UINT8, [], Uint8Array.of(128));
    const wq = m.addInitializer(`${wName}_quantized`, DT.UINT8, wt.dims, wu);
    const ws = m.addInitializer(`${wName}_scale`, DT.FLOAT, [1, perChannel ? M : 1, 1, 1], scales);
    const acc = m.fresh(`${base}_acc`), accf = m.fresh(`${base}_acc_f`), sc = m.fresh(`${base}_scale`), scaled = m.fresh(`${base}_scaled`);
    const out = conv.outputs[0];
    const nodes: OnnxNode[] = [
      { inputs: [conv.inputs[0]], outputs: [xq, xs, xz], name: m.fresh(`${base}_DynamicQuantizeLinear`), opType: 'DynamicQuantizeLinear', domain: '', rawAttrs: [], rest: [] },
      { inputs: [xq, wq, xz, wz], outputs: [acc], name: m.fresh(`${base}_ConvInteger`), opType: 'ConvInteger', domain: '', rawAttrs: conv.rawAttrs, attrs: conv.attrs, rest: [] },
      { inputs: [acc], outputs: [accf], name: m.fresh(`${base}_Cast`), opType: 'Cast', domain: '', rawAttrs: [], attrs: { to: DT.FLOAT }, rest: [] },
      { inputs: [xs, ws], outputs: [sc], name: m.fresh(`${base}_ScaleMul`), opType: 'Mul', domain: '', rawAttrs: [], rest: [] },
    ];
    if (conv.inputs[2]) {
      const b = m.floatData(conv.inputs[2])!;
      const bn = m.addInitializer(`${conv.inputs[2]}_reshaped`, DT.FLOAT, [1, M, 1, 1], b);
      nodes.push(
        { inputs: [accf, sc], outputs: [scaled], name: m.fresh(`${base}_Mul`), opType: 'Mul', domain: '', rawAttrs: [], rest: [] },
        { inputs: [scaled, bn], outputs: [out], name: m.fresh(`${base}_AddBias`), opType: 'Add', domain: '', rawAttrs: [], rest: [] },
      );
    } else {
      nodes.push({ inputs: [accf, sc], outputs: [out], name: m.fresh(`${base}_Mul`), opType: 'Mul', domain: '', rawAttrs: [], rest: [] });
    }
    m.nodes.splice(m.nodes.indexOf(conv), 1, ...nodes);
  }
  return { quantizedConvs: plan.convs.length, floatConvs: plan.skipped, foldedRelus: 0, quantizedTensors: 0 };
}

// ---- dynamic recurrent and linear layers ---------------------------------------------------------------------------

/** Summary of the recurrent/linear rewrite. */
export interface RecurrentInfo {
  /** LSTM -> com.microsoft DynamicQuantizeLSTM. */
  lstms: number;
  /** MatMul with a constant right-hand side -> com.microsoft DynamicQuantizeMatMul. */
  matmuls: number;
}

/**
 * Rewrites LSTMs and MatMuls with constant weights into ONNX Runtime's dynamically quantized forms (int8 weights per
 * output row/column, activations quantized on every run): the recogniser's BiLSTMs and linear layers, as
 * onnxruntime.quantization.quantize_dynamic does. A recogniser's convolutions are static QDQ (calibrated); its
 * recurrent part has no single activation range worth calibrating (hidden state feeds back), so it goes dynamic.
 */
export function applyDynamicRecurrent(m: OnnxModel): RecurrentInfo {
  const info: RecurrentInfo = { lstms: 0, matmuls: 0 };
  const weight = (name: string, rank: number) => {
    const t = m.initializers.get(name);
    return t && t.dataType === DT.FLOAT && t.dims.length === rank ? { t, w: m.floatData(name) } : undefined;
  };
  m.nodes = m.nodes.map((n) => {
    if (n.domain !== '') return n;
    if (n.opType === 'LSTM') {
      const W = weight(n.inputs[1], 3), R = weight(n.inputs[2], 3);
      if (!W?.w || !R?.w) return n;
      // DynamicQuantizeLSTM takes W [D, I, 4H] and R [D, H, 4H] (transposed), scales and zero points [D, 4H]
      const q = (x: { t: { name: string; dims: number[] }; w?: Float32Array }) => {
        const [D, G, I] = x.t.dims;
        const { q: rows, scales } = quantizeWeights(x.w!, D * G);
        const tq = new Int8Array(rows.length);
        for (let d = 0; d < D; d++) for (let g = 0; g < G; g++) for (let i = 0; i < I; i++) {
          tq[(d * I + i) * G + g] = rows[(d * G + g) * I + i];
        }
        return [
          m.addInitializer(`${x.t.name}_quantized`, DT.INT8, [D, I, G], tq),
          m.addInitializer(`${x.t.name}_scale`, DT.FLOAT, [D, G], scales),
          m.addInitializer(`${x.t.name}_zero_point`, DT.INT8, [D, G], new Int8Array(D * G)),
        ];
      };
      const [wq, ws, wz] = q(W), [rq, rs, rz] = q(R);
      const opt = (i: number) => n.inputs[i] ?? '';
      info.lstms++;
      return {
        ...n, domain: 'com.microsoft', opType: 'DynamicQuantizeLSTM', name: n.name ? `${n.name}_quant` : '',
        inputs: [n.inputs[0], wq, rq, opt(3), opt(4), opt(5), opt(6), opt(7), ws, wz, rs, rz],
        rawAttrs: n.rawAttrs.filter((a) => attrName(a) !== 'layout'), // the contrib op has no layout (always 0)
      };
    }
    if (n.opType === 'MatMul') {
      const B = weight(n.inputs[1], 2);
      if (!B?.w) return n;
      // per output column: B is [K, N]
      const [K, N] = B.t.dims;
      const scales = new Float32Array(N);
      for (let j = 0; j < N; j++) {
        let amax = 0;
        for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(B.w[k * N + j]));
        scales[j] = amax > 0 ? amax / 127 : 1;
      }
      const bq = new Int8Array(K * N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) {
        bq[k * N + j] = Math.max(-127, Math.min(127, Math.round(B.w[k * N + j] / scales[j])));
      }
      info.matmuls++;
      return {
        ...n, domain: 'com.microsoft', opType: 'DynamicQuantizeMatMul', name: n.name ? `${n.name}_quant` : '',
        inputs: [n.inputs[0], m.addInitializer(`${B.t.name}_quantized`, DT.INT8, [K, N], bq),
          m.addInitializer(`${B.t.name}_scale`, DT.FLOAT, [N], scales),
          m.addInitializer(`${B.t.name}_zero_point`, DT.INT8, [N], new Int8Array(N))],
      };
    }
    return n;
  });
  if (info.lstms + info.matmuls > 0) m.useOpset('com.microsoft', 1);
  return info;
}
