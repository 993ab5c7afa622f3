/*! craft-text | MIT */
// ONNX ModelProto writer for the converter (graph builder over the protobuf encoder).
import * as os from 'node:os';
import { Message } from './protobuf';

/** ONNX TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;

export type AttrValue = number | number[] | string;
/** Dimension of a graph input/output: a fixed size or a symbolic name. */
export type Dim = number | string;

const LITTLE_ENDIAN = os.endianness() === 'LE';

function rawBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = new Uint8Array(view.length);
  const es = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += es) for (let j = 0; j < es; j++) out[i + j] = view[i + es - 1 - j];
  return out;
}

function valueInfo(name: string, elemType: number, dims: Dim[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** Builds one ONNX graph (opset 17, default domain) node by node, in topological order. */
export class GraphBuilder {
  private readonly nodes: Message[] = [];
  private readonly initializers: Message[] = [];
  private readonly inputs: Message[] = [];
  private readonly outputs: Message[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  /** Bytes of initializer data so far. */
  weightBytes = 0;

  /** A fresh tensor name with a readable prefix. */
  fresh(prefix: string): string {
    let n = prefix;
    while (this.names.has(n)) n = `${prefix}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const n = this.fresh(name);
    const t = new Message();
    for (const d of dims) t.int(1, d);
    t.int(2, data instanceof Float32Array ? FLOAT : INT64).string(8, n).bytes(9, rawBytes(data));
    this.initializers.push(t);
    this.weightBytes += data.byteLength;
    return n;
  }

  /** Adds a node; `outputs` are exact names (use fresh() for temporaries). Returns the first output. */
  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const m = new Message();
    for (const i of inputs) m.string(1, i);
    for (const o of outputs) { m.string(2, o); this.names.add(o); }
    m.string(3, `${op}_${this.nodes.length}`).string(4, op);
    for (const [key, v] of Object.entries(attrs)) {
      const a = new Message().string(1, key);
      if (typeof v === 'string') a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
      else if (Array.isArray(v)) { for (const x of v) a.int(8, x); a.int(20, 7); }
      else a.int(3, v).int(20, 2);
      m.message(5, a);
    }
    this.nodes.push(m);
    return outputs[0];
  }

  /** Single-output node with a fresh output name. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, prefix = op.toLowerCase()): string {
    return this.node(op, inputs, [this.fresh(prefix)], attrs);
  }

  /** The serialized ModelProto. */
  finish(opts: { graphName: string; producerVersion: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const g = new Message();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, opts.graphName);
    for (const t of this.initializers) g.message(5, t);
    if (opts.docString) g.string(10, opts.docString);
    for (const i of this.inputs) g.message(11, i);
    for (const o of this.outputs) g.message(12, o);
    const model = new Message()
      .int(1, 8) // IR version 8 (ONNX 1.10+), enough for opset 17
      .string(2, 'craft-text')
      .string(3, opts.producerVersion)
      .message(7, g)
      .message(8, new Message().string(1, '').int(2, 17));
    for (const [k, v] of Object.entries(opts.metadata ?? {})) model.message(14, new Message().string(1, k).string(2, v));
    return model.finish();
  }
}
