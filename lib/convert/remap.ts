/*! craft-text | MIT */
// Accepting a CRAFT model someone already exported to ONNX: find its image input and its outputs (by shape, or by
// the names given) and rename them to ours (`input`, `y`, `feature`, `refined_link`). Everything else in the file is
// copied field by field, untouched.
import { ConvertError } from './errors';
import { decode, Field, Message, str } from './protobuf';

/** Names of the other graph's tensors (their names -> our roles). Unset roles are detected by shape. */
export interface OnnxNameMap {
  input?: string;
  y?: string;
  feature?: string;
  refinedLink?: string;
}

type Dim = number | string | undefined;
interface Io { name: string; dims: Dim[] | undefined }

function ioOf(valueInfo: Uint8Array): Io {
  const f = decode(valueInfo, 'ONNX ValueInfoProto');
  const name = str(f.find((x) => x.no === 1) ?? { no: 1, wire: 2, value: new Uint8Array() });
  const type = f.find((x) => x.no === 2);
  const tensor = type && decode(type.value as Uint8Array).find((x) => x.no === 1);
  const shape = tensor && decode(tensor.value as Uint8Array).find((x) => x.no === 2);
  if (!shape) return { name, dims: undefined };
  const dims = decode(shape.value as Uint8Array).filter((x) => x.no === 1).map((d): Dim => {
    const df = decode(d.value as Uint8Array);
    const v = df.find((x) => x.no === 1);
    if (v) return Number(v.value as bigint);
    const p = df.find((x) => x.no === 2);
    return p ? str(p) : undefined;
  });
  return { name, dims };
}

const fmt = (io: Io) => `${io.name}${io.dims ? `[${io.dims.map((d) => d ?? '?').join(',')}]` : ''}`;

/** True if the bytes look like an ONNX ModelProto (ir_version varint first, then a graph). */
export function looksLikeOnnx(b: Uint8Array): boolean {
  if (b.length < 16 || b[0] !== 0x08) return false;
  try {
    return decode(b).some((f) => f.no === 7 && f.wire === 2);
  } catch {
    return false;
  }
}

/** Renames the I/O of an ONNX CRAFT export to craft-text's names. Returns the new model and the mapping used. */
export function remapOnnx(model: Uint8Array, map: OnnxNameMap = {}): { onnx: Uint8Array; mapping: Record<string, string> } {
  const mf = decode(model, 'ONNX model');
  const gi = mf.findIndex((f) => f.no === 7);
  if (gi < 0) throw new ConvertError('not an ONNX model: no graph');
  const gf = decode(mf[gi].value as Uint8Array, 'ONNX graph');
  const inits = new Set(gf.filter((f) => f.no === 5).map((f) => str(decode(f.value as Uint8Array).find((x) => x.no === 8) ?? f)));
  const inputs = gf.filter((f) => f.no === 11).map((f) => ioOf(f.value as Uint8Array)).filter((io) => !inits.has(io.name));
  const outputs = gf.filter((f) => f.no === 12).map((f) => ioOf(f.value as Uint8Array));
  const describe = () => `inputs ${inputs.map(fmt).join(', ') || '(none)'}; outputs ${outputs.map(fmt).join(', ') || '(none)'}`;
  const fail = (why: string): never => {
    throw new ConvertError(`unrecognised ONNX graph: ${why} (${describe()}); name them with ` +
      `--onnx-input/--onnx-y/--onnx-feature/--onnx-refined (or { onnxNames })`);
  };
  const pick = (given: string | undefined, list: Io[], role: string, test: (d: Dim[]) => boolean, required: boolean) => {
    if (given !== undefined) {
      if (!list.some((io) => io.name === given)) fail(`no ${role === 'input' ? 'input' : 'output'} named '${given}' for ${role}`);
      return given;
    }
    const hits = list.filter((io) => io.dims !== undefined && test(io.dims));
    if (hits.length === 1) return hits[0].name;
    if (required) fail(hits.length ? `several candidates for ${role}` : `no candidate for ${role}`);
    return undefined;
  };
  const input = pick(map.input, inputs, 'input', (d) => d.length === 4 && (d[1] === 3 || d[1] === undefined || typeof d[1] === 'string'), true) as string;
  const y = pick(map.y, outputs, 'y [N,H/2,W/2,2]', (d) => d.length === 4 && d[3] === 2, true) as string;
  const refined = pick(map.refinedLink, outputs, 'refined_link [N,H/2,W/2,1]', (d) => d.length === 4 && d[3] === 1, false);
  const feature = pick(map.feature, outputs.filter((o) => o.name !== y && o.name !== refined), 'feature [N,C,H/2,W/2]',
    (d) => d.length === 4 && typeof d[1] === 'number' && d[3] !== 1 && d[3] !== 2, false);
  const rename = new Map<string, string>([[input, 'input'], [y, 'y']]);
  if (feature) rename.set(feature, 'feature');
  if (refined) rename.set(refined, 'refined_link');
  if (new Set(rename.keys()).size !== rename.size || new Set(rename.values()).size !== rename.size) {
    fail('the same tensor is mapped to two roles');
  }
  // any other tensor already called like one of our names gets out of the way
  const targets = new Set(rename.values());
  const sources = new Set(rename.keys());
  const renameName = (n: string): string => {
    const r = rename.get(n);
    if (r !== undefined) return r;
    return targets.has(n) && !sources.has(n) ? `${n}__orig` : n;
  };
  const renameField = (f: Field, nameField: number, what: string): Field => {
    const sub = decode(f.value as Uint8Array, what);
    const m = new Message();
    for (const x of sub) {
      if (x.no === nameField && x.wire === 2) m.string(nameField, renameName(str(x)));
      else m.raw(x);
    }
    return { no: f.no, wire: 2, value: m.finish() };
  };
  const graph = new Message();
  for (const f of gf) {
    if (f.no === 1) { // NodeProto: inputs (1) and outputs (2)
      const sub = decode(f.value as Uint8Array, 'ONNX node');
      const m = new Message();
      for (const x of sub) {
        if ((x.no === 1 || x.no === 2) && x.wire === 2) m.string(x.no, str(x) === '' ? '' : renameName(str(x)));
        else m.raw(x);
      }
      graph.raw({ no: 1, wire: 2, value: m.finish() });
    } else if (f.no === 11 || f.no === 12 || f.no === 13) graph.raw(renameField(f, 1, 'ONNX ValueInfoProto'));
    else if (f.no === 5) graph.raw(renameField(f, 8, 'ONNX TensorProto'));
    else graph.raw(f);
  }
  const out = new Message();
  mf.forEach((f, i) => (i === gi ? out.message(7, graph) : out.raw(f)));
  const mapping: Record<string, string> = {};
  for (const [k, v] of rename) mapping[v] = k;
  return { onnx: out.finish(), mapping };
}
