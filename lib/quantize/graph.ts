/*! craft-text | MIT */
// An editable view of an ONNX ModelProto for graph rewrites (quantization): nodes, initializers, graph inputs and
// outputs, decoded just enough to be changed; every field we don't touch is copied back byte for byte.
import * as os from 'node:os';
import { decode, Field, Message, str } from '../convert/protobuf';
import { QuantizeError } from './errors';

/** ONNX TensorProto.DataType values used here. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

const LE = os.endianness() === 'LE';

/** A graph node: names and op decoded, attributes kept as raw AttributeProto fields (plus new ones to write). */
export interface OnnxNode {
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  /** AttributeProto fields of the original node (field 5), untouched. */
  rawAttrs: Field[];
  /** Attributes added by a rewrite. */
  attrs?: Record<string, number | number[] | string>;
  /** Other NodeProto fields (doc_string, …), untouched. */
  rest: Field[];
}

/** An initializer: decoded header, data still in the original bytes until someone asks for it. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** The original TensorProto bytes (undefined for new tensors). */
  raw?: Uint8Array;
  /** New tensors' data (little-endian bytes). */
  data?: Uint8Array;
}

/** A graph input/output: name + the original ValueInfoProto bytes (or a new one). */
export interface OnnxValueInfo {
  name: string;
  raw?: Uint8Array;
  elemType?: number;
}

/** The model: graph parts editable, the rest (opsets, metadata, producer, …) as raw ModelProto fields. */
export class OnnxModel {
  nodes: OnnxNode[] = [];
  initializers = new Map<string, OnnxTensor>();
  inputs: OnnxValueInfo[] = [];
  outputs: OnnxValueInfo[] = [];
  /** ModelProto fields other than the graph (7) and metadata (14). */
  modelRest: { index: number; field: Field }[] = [];
  /** GraphProto fields other than nodes (1), initializers (5), inputs (11), outputs (12), value_info (13). */
  graphRest: Field[] = [];
  metadata = new Map<string, string>();
  /** Default-domain opset version (0 if none). */
  opset = 0;
  #graphIndex = 0;
  #names = new Set<string>();
  #counter = 0;

  static parse(bytes: Uint8Array): OnnxModel {
    const m = new OnnxModel();
    let mf: Field[];
    try {
      mf = decode(bytes, 'ONNX model');
    } catch (err) {
      throw new QuantizeError(`not an ONNX model: ${(err as Error).message}`);
    }
    const gi = mf.findIndex((f) => f.no === 7 && f.wire === 2);
    if (gi < 0 || bytes[0] !== 0x08) throw new QuantizeError('not an ONNX model (no graph)');
    m.#graphIndex = gi;
    mf.forEach((f, index) => {
      if (f.no === 7) return;
      if (f.no === 14) {
        const kv = decode(f.value as Uint8Array);
        const k = kv.find((x) => x.no === 1);
        const v = kv.find((x) => x.no === 2);
        if (k) m.metadata.set(str(k), v ? str(v) : '');
        return;
      }
      if (f.no === 8) {
        const os = decode(f.value as Uint8Array);
        const domain = os.find((x) => x.no === 1);
        const version = os.find((x) => x.no === 2);
        if ((!domain || str(domain) === '' || str(domain) === 'ai.onnx') && version) m.opset = Number(version.value as bigint);
      }
      m.modelRest.push({ index, field: f });
    });
    const gf = decode(mf[gi].value as Uint8Array, 'ONNX graph');
    for (const f of gf) {
      if (f.no === 1) m.nodes.push(parseNode(f.value as Uint8Array));
      else if (f.no === 5) {
        const t = parseTensorHeader(f.value as Uint8Array);
        m.initializers.set(t.name, t);
      } else if (f.no === 11 || f.no === 12) {
        const vi = decode(f.value as Uint8Array);
        const name = str(vi.find((x) => x.no === 1) ?? { no: 1, wire: 2, value: new Uint8Array() });
        (f.no === 11 ? m.inputs : m.outputs).push({ name, raw: f.value as Uint8Array });
      } else if (f.no === 13) {
        // value_info (intermediate shapes): dropped, tensors are renamed and re-typed by the rewrite; ORT re-infers.
      } else m.graphRest.push(f);
    }
    for (const n of m.nodes) for (const o of [...n.inputs, ...n.outputs]) m.#names.add(o);
    for (const k of m.initializers.keys()) m.#names.add(k);
    for (const io of [...m.inputs, ...m.outputs]) m.#names.add(io.name);
    return m;
  }

  /** A tensor name not used anywhere in the graph yet. */
  fresh(base: string): string {
    let n = base;
    while (this.#names.has(n)) n = `${base}_${++this.#counter}`;
    this.#names.add(n);
    return n;
  }

  /** Adds an initializer under a fresh name derived from `base`; returns the name. */
  addInitializer(base: string, dataType: number, dims: number[], data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): string {
    const name = this.fresh(base);
    this.initializers.set(name, { name, dims, dataType, data: leBytes(data) });
    return name;
  }

  /** Data of a float initializer as a Float32Array, or undefined if `name` is not a float initializer. */
  floatData(name: string): Float32Array | undefined {
    const t = this.initializers.get(name);
    if (!t || t.dataType !== DT.FLOAT) return undefined;
    if (t.data) return toF32(t.data);
    const fields = decode(t.raw!, 'ONNX TensorProto');
    const raw = fields.find((f) => f.no === 9);
    if (raw) return toF32(raw.value as Uint8Array);
    // float_data (4): packed (wire 2) or one fixed32 per element (wire 5)
    const out: number[] = [];
    for (const f of fields) {
      if (f.no !== 4) continue;
      const b = f.value as Uint8Array;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 4 <= b.length; i += 4) out.push(dv.getFloat32(i, true));
    }
    if (fields.some((f) => f.no === 13)) return undefined; // external data: not supported here
    return Float32Array.from(out);
  }

  /** Declares an operator set (e.g. 'com.microsoft' for ONNX Runtime's contrib ops) unless the model has it. */
  useOpset(domain: string, version: number): void {
    const have = this.modelRest.some(({ field: f }) => f.no === 8 &&
      decode(f.value as Uint8Array).some((x) => x.no === 1 && str(x) === domain));
    if (have) return;
    const index = Math.max(this.#graphIndex + 1, ...this.modelRest.filter((x) => x.field.no === 8).map((x) => x.index));
    this.modelRest.push({ index, field: { no: 8, wire: 2, value: new Message().string(1, domain).int(2, version).finish() } });
  }

  /** Nodes that read each tensor. */
  consumers(): Map<string, OnnxNode[]> {
    const map = new Map<string, OnnxNode[]>();
    for (const n of this.nodes) for (const i of n.inputs) {
      if (i === '') continue;
      let list = map.get(i);
      if (!list) map.set(i, (list = []));
      if (!list.includes(n)) list.push(n);
    }
    return map;
  }

  /** The node producing each tensor. */
  producers(): Map<string, OnnxNode> {
    const map = new Map<string, OnnxNode>();
    for (const n of this.nodes) for (const o of n.outputs) if (o !== '') map.set(o, n);
    return map;
  }

  /** Serializes the model. Initializers no node or output uses any more are dropped. */
  serialize(): Uint8Array {
    const used = new Set<string>();
    for (const n of this.nodes) for (const i of n.inputs) used.add(i);
    for (const o of this.outputs) used.add(o.name);
    const g = new Message();
    for (const n of this.nodes) g.message(1, nodeMessage(n));
    for (const f of this.graphRest.filter((x) => x.no === 2)) g.raw(f); // name
    for (const t of this.initializers.values()) {
      if (!used.has(t.name)) continue;
      if (t.raw) g.raw({ no: 5, wire: 2, value: t.raw });
      else {
        const m = new Message();
        for (const d of t.dims) m.int(1, d);
        m.int(2, t.dataType).string(8, t.name).bytes(9, t.data!);
        g.message(5, m);
      }
    }
    for (const f of this.graphRest.filter((x) => x.no !== 2)) g.raw(f);
    const initNames = new Set(this.initializers.keys());
    for (const i of this.inputs) {
      // graph inputs that are (now removed) initializers go too
      if (initNames.has(i.name) && !used.has(i.name)) continue;
      g.message(11, valueInfo(i));
    }
    for (const o of this.outputs) g.message(12, valueInfo(o));
    const out = new Message();
    let graphWritten = false;
    const writeGraph = () => {
      out.message(7, g);
      graphWritten = true;
    };
    for (const { index, field } of this.modelRest) {
      if (!graphWritten && index > this.#graphIndex) writeGraph();
      out.raw(field);
    }
    if (!graphWritten) writeGraph();
    for (const [k, v] of this.metadata) out.message(14, new Message().string(1, k).string(2, v));
    return out.finish();
  }
}

function parseNode(b: Uint8Array): OnnxNode {
  const n: OnnxNode = { inputs: [], outputs: [], name: '', opType: '', domain: '', rawAttrs: [], rest: [] };
  for (const f of decode(b, 'ONNX NodeProto')) {
    if (f.no === 1) n.inputs.push(str(f));
    else if (f.no === 2) n.outputs.push(str(f));
    else if (f.no === 3) n.name = str(f);
    else if (f.no === 4) n.opType = str(f);
    else if (f.no === 7) n.domain = str(f);
    else if (f.no === 5) n.rawAttrs.push(f);
    else n.rest.push(f);
  }
  return n;
}

function parseTensorHeader(b: Uint8Array): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, raw: b };
  for (const f of decode(b, 'ONNX TensorProto')) {
    if (f.no === 1) {
      if (f.wire === 0) t.dims.push(Number(f.value as bigint));
      else t.dims.push(...packedVarints(f.value as Uint8Array));
    } else if (f.no === 2) t.dataType = Number(f.value as bigint);
    else if (f.no === 8) t.name = str(f);
  }
  return t;
}

function packedVarints(b: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0n, shift = 0n;
  for (const byte of b) {
    v |= BigInt(byte & 0x7f) << shift;
    if (byte & 0x80) shift += 7n;
    else { out.push(Number(BigInt.asIntN(64, v))); v = 0n; shift = 0n; }
  }
  return out;
}

/** The name of a raw AttributeProto field. */
export function attrName(f: Field): string {
  const name = decode(f.value as Uint8Array, 'ONNX AttributeProto').find((x) => x.no === 1);
  return name ? str(name) : '';
}

/** Reads one attribute of a node: ints/floats/strings/lists; undefined if absent. */
export function attr(n: OnnxNode, key: string): number | number[] | string | undefined {
  if (n.attrs && key in n.attrs) return n.attrs[key];
  for (const f of n.rawAttrs) {
    const a = decode(f.value as Uint8Array, 'ONNX AttributeProto');
    const name = a.find((x) => x.no === 1);
    if (!name || str(name) !== key) continue;
    const ints: number[] = [];
    let type = 0;
    for (const x of a) {
      if (x.no === 20) type = Number(x.value as bigint);
      else if (x.no === 3) return Number(BigInt.asIntN(64, x.value as bigint));
      else if (x.no === 2) return new DataView((x.value as Uint8Array).buffer, (x.value as Uint8Array).byteOffset, 4).getFloat32(0, true);
      else if (x.no === 4) return str(x);
      else if (x.no === 8) {
        if (x.wire === 0) ints.push(Number(BigInt.asIntN(64, x.value as bigint)));
        else ints.push(...packedVarints(x.value as Uint8Array));
      }
    }
    if (ints.length || type === 7) return ints;
    return undefined;
  }
  return undefined;
}

function nodeMessage(n: OnnxNode): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.opType);
  for (const a of n.rawAttrs) m.raw(a);
  for (const [key, v] of Object.entries(n.attrs ?? {})) {
    const a = new Message().string(1, key);
    if (typeof v === 'string') a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
    else if (Array.isArray(v)) { for (const x of v) a.int(8, x); a.int(20, 7); }
    else a.int(3, v).int(20, 2);
    m.message(5, a);
  }
  if (n.domain) m.string(7, n.domain);
  for (const f of n.rest) m.raw(f);
  return m;
}

function valueInfo(v: OnnxValueInfo): Message {
  if (v.raw) {
    // rewrite the name (field 1), keep the type
    const m = new Message();
    let named = false;
    for (const f of decode(v.raw)) {
      if (f.no === 1) { m.string(1, v.name); named = true; } else m.raw(f);
    }
    if (!named) m.string(1, v.name);
    return m;
  }
  const tensorType = new Message().int(1, v.elemType ?? DT.FLOAT);
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType));
}

function leBytes(data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const es = data.BYTES_PER_ELEMENT;
  if (LE || es === 1) return view.slice();
  const out = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += es) for (let j = 0; j < es; j++) out[i + j] = view[i + es - 1 - j];
  return out;
}

function toF32(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.length >> 2);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}
