/*! craft-text | MIT */
// Reader for torch.save() files: the zip container (PyTorch >= 1.6) and the legacy stream format (magic number,
// protocol, sys_info, pickled object, storage keys, raw storages) of older releases such as the 2019 CRAFT files.
import { unzipSync } from 'fflate';
import { ConvertError } from './errors';
import { PyGlobal, PyObject, unpickle } from './pickle';


export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', UntypedStorage: 'uint8',
};
const TORCH_DTYPES: Record<string, DType> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};
const ELEMENT_SIZE: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** A storage as referenced by persistent ids; `bytes` is filled in once the storage data is located. */
class Storage {
  bytes: Uint8Array | undefined;
  constructor(readonly key: string, readonly dtype: DType, readonly numel: number) {}
  get nbytes(): number { return this.numel * ELEMENT_SIZE[this.dtype]; }
}

/** A byte range of a storage: a whole storage, or a legacy storage view (view_metadata). */
class StorageRange {
  constructor(readonly storage: Storage, readonly byteOffset: number, readonly byteLength: number) {}
  static whole(s: Storage): StorageRange { return new StorageRange(s, 0, s.nbytes); }
}

/** A tensor of a checkpoint: shape, dtype and a lazy float32 view of its data. */
export class Tensor {
  /** @private */
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    private readonly range: StorageRange,
    private readonly offset: number,
    private readonly stride: number[],
    private readonly bigEndian: boolean,
  ) {}

  get numel(): number { return this.shape.reduce((a, b) => a * b, 1); }

  /** The data as float32 (contiguous, row-major). Shares memory with the file when it can. */
  toFloat32(name = '?'): Float32Array {
    const { storage, byteOffset, byteLength } = this.range;
    const bytes = storage.bytes;
    if (!bytes) throw new ConvertError(`tensor '${name}': storage ${storage.key} has no data in the file`, name);
    if (bytes.length < storage.nbytes || byteOffset + byteLength > storage.nbytes) {
      throw new ConvertError(`tensor '${name}': storage ${storage.key} is truncated (${bytes.length} bytes, ` +
        `needs ${Math.max(storage.nbytes, byteOffset + byteLength)})`, name);
    }
    const es = ELEMENT_SIZE[this.dtype];
    const n = this.numel;
    // bounds: the largest element index must stay inside the storage range
    let maxIndex = this.offset;
    for (let d = 0; d < this.shape.length; d++) if (this.shape[d] > 0) maxIndex += (this.shape[d] - 1) * this.stride[d];
    if (n > 0 && (this.offset < 0 || this.stride.some((x) => x < 0) || (maxIndex + 1) * es > byteLength)) {
      throw new ConvertError(`tensor '${name}': shape/stride/offset exceed its storage (corrupt checkpoint)`, name);
    }
    const contiguous = isContiguous(this.shape, this.stride);
    const start = byteOffset + this.offset * es;
    if (this.dtype === 'float32' && contiguous && !this.bigEndian && (bytes.byteOffset + start) % 4 === 0) {
      return new Float32Array(bytes.buffer, bytes.byteOffset + start, n);
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const read = elementReader(this.dtype, dv, !this.bigEndian, name);
    const out = new Float32Array(n);
    if (contiguous) {
      for (let i = 0; i < n; i++) out[i] = read(start + i * es);
    } else {
      const idx = new Array<number>(this.shape.length).fill(0);
      for (let i = 0; i < n; i++) {
        let off = this.offset;
        for (let d = 0; d < idx.length; d++) off += idx[d] * this.stride[d];
        out[i] = read(byteOffset + off * es);
        for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < this.shape[d]) break; idx[d] = 0; }
      }
    }
    return out;
  }
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

function elementReader(dtype: DType, dv: DataView, le: boolean, name: string): (byte: number) => number {
  switch (dtype) {
    case 'float32': return (b) => dv.getFloat32(b, le);
    case 'float64': return (b) => dv.getFloat64(b, le);
    case 'float16': return (b) => halfToFloat(dv.getUint16(b, le));
    case 'bfloat16': {
      const f = new Float32Array(1); const u = new Uint32Array(f.buffer);
      return (b) => { u[0] = dv.getUint16(b, le) << 16; return f[0]; };
    }
    case 'int64': return (b) => Number(dv.getBigInt64(b, le));
    case 'int32': return (b) => dv.getInt32(b, le);
    case 'int16': return (b) => dv.getInt16(b, le);
    case 'int8': return (b) => dv.getInt8(b);
    case 'uint8': case 'bool': return (b) => dv.getUint8(b);
    default: throw new ConvertError(`tensor '${name}': unsupported dtype ${dtype as string}`, name);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** What a checkpoint file holds: the unpickled object, its state dict (if one is found) and the format. */
export interface Checkpoint {
  format: 'zip' | 'legacy';
  /** The unpickled top-level object (Maps for dicts, Tensor for tensors). */
  object: unknown;
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);
}

/** Hooks shared by both formats: persistent storages and tensor rebuild functions. */
function torchHooks(storages: Map<string, Storage>, bigEndian: () => boolean) {
  const storageFromPid = (pid: unknown): StorageRange => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') {
      throw new ConvertError(`unsupported persistent id in pickle (${describe(pid)}); not a torch checkpoint?`);
    }
    const [, type, key, , numelRaw, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
    const typeName = type instanceof PyGlobal ? type.name : String(type);
    const dtype = STORAGE_DTYPES[typeName];
    if (!dtype) throw new ConvertError(`unsupported storage type ${type instanceof PyGlobal ? type.qualname : typeName}`);
    const k = String(key);
    let s = storages.get(k);
    if (!s) { s = new Storage(k, dtype, Number(numelRaw)); storages.set(k, s); }
    if (Array.isArray(view) && view.length === 3) {
      // legacy storage view: (view_key, offset, view_size) in elements of the root storage
      const es = ELEMENT_SIZE[dtype];
      return new StorageRange(s, Number(view[1]) * es, Number(view[2]) * es);
    }
    return StorageRange.whole(s);
  };
  const rebuild = (range: unknown, offset: unknown, size: unknown, stride: unknown, dtype?: DType): Tensor => {
    if (!(range instanceof StorageRange)) {
      throw new ConvertError('unsupported tensor in pickle: its storage is not a persistent storage');
    }
    const shape = (Array.isArray(size) ? size : []).map(Number);
    const strides = Array.isArray(stride) ? stride.map(Number) : contiguousStrides(shape);
    // v3 (untyped storage): the tensor's dtype decides the element size
    return new Tensor(dtype ?? range.storage.dtype, shape, range, Number(offset), strides, bigEndian());
  };
  return {
    persistentLoad: storageFromPid,
    reduce(fn: PyGlobal, args: unknown[]): unknown {
      switch (fn.qualname) {
        case 'torch._utils._rebuild_tensor_v2':
        case 'torch._utils._rebuild_tensor':
          return rebuild(args[0], args[1], args[2], args[3]);
        case 'torch._utils._rebuild_tensor_v3': {
          const dt = args[6];
          const d = dt instanceof PyGlobal ? TORCH_DTYPES[dt.name] : undefined;
          if (!d) throw new ConvertError(`unsupported tensor dtype ${describe(dt)}`);
          return rebuild(args[0], args[1], args[2], args[3], d);
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          return args[0];
        case 'torch.Size':
          return Array.isArray(args[0]) ? [...args[0]] : [];
        default:
          return undefined;
      }
    },
  };
}

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
}

/** A short description of a pickled value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof Map) return `dict with ${v.size} keys`;
  if (v instanceof Tensor) return `tensor ${JSON.stringify(v.shape)}`;
  if (v instanceof PyObject) return `object of class ${v.cls.qualname}`;
  if (v instanceof PyGlobal) return v.qualname;
  if (Array.isArray(v)) return `sequence of ${v.length}`;
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v);
}

function readZip(data: Uint8Array): Checkpoint {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(data);
  } catch (err) {
    throw new ConvertError(`not a torch checkpoint: unreadable zip archive (${(err as Error).message})`);
  }
  const names = Object.keys(files);
  const pkl = names.find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkl === undefined) {
    throw new ConvertError(`not a torch checkpoint: the zip archive has no data.pkl (entries: ${names.slice(0, 5).join(', ')}` +
      `${names.length > 5 ? ', ...' : ''})`);
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const bo = files[`${prefix}byteorder`];
  const bigEndian = bo !== undefined && new TextDecoder().decode(bo).trim() === 'big';
  const storages = new Map<string, Storage>();
  const { value } = unpickle(files[pkl], 0, torchHooks(storages, () => bigEndian));
  for (const s of storages.values()) s.bytes = files[`${prefix}data/${s.key}`];
  return { format: 'zip', object: value };
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readLegacy(data: Uint8Array): Checkpoint {
  let pos = 0;
  let magic: unknown;
  try {
    ({ value: magic, end: pos } = unpickle(data, 0, { persistentLoad: () => { throw new Error('pid'); } }));
  } catch {
    magic = undefined;
  }
  if (magic !== LEGACY_MAGIC) {
    throw new ConvertError('not a torch checkpoint: neither a zip archive nor a legacy torch.save stream ' +
      '(expected the torch magic number at the start of the file)');
  }
  const proto = unpickle(data, pos, noPid);
  pos = proto.end;
  if (proto.value !== 1001) throw new ConvertError(`unsupported legacy torch.save protocol ${describe(proto.value)}`);
  const sys = unpickle(data, pos, noPid);
  pos = sys.end;
  const sysInfo = sys.value instanceof Map ? sys.value : new Map();
  const bigEndian = sysInfo.get('little_endian') === false;
  const storages = new Map<string, Storage>();
  const obj = unpickle(data, pos, torchHooks(storages, () => bigEndian));
  pos = obj.end;
  const keysRes = unpickle(data, pos, noPid);
  pos = keysRes.end;
  if (!Array.isArray(keysRes.value)) throw new ConvertError('corrupt legacy checkpoint: storage key list missing');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const key of keysRes.value as unknown[]) {
    const k = String(key);
    if (pos + 8 > data.length) throw new ConvertError(`corrupt legacy checkpoint: truncated before storage ${k}`);
    const numel = Number(dv.getBigInt64(pos, !bigEndian));
    pos += 8;
    const s = storages.get(k);
    if (!s) throw new ConvertError(`corrupt legacy checkpoint: unknown storage key ${k}`);
    const nbytes = numel * ELEMENT_SIZE[s.dtype];
    if (numel < 0 || pos + nbytes > data.length) {
      throw new ConvertError(`corrupt legacy checkpoint: storage ${k} (${nbytes} bytes) runs past the end of the file`);
    }
    s.bytes = data.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  return { format: 'legacy', object: obj.value };
}

const noPid = { persistentLoad: (): never => { throw new ConvertError('corrupt legacy checkpoint header'); } };

/** Parses a torch.save() file (zip or legacy). Tensors reference `data` without copying. */
export function readCheckpoint(data: Uint8Array): Checkpoint {
  if (data.length < 8) throw new ConvertError(`not a torch checkpoint: only ${data.length} bytes`);
  return isZip(data) ? readZip(data) : readLegacy(data);
}

const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'craft', 'refiner', 'module', 'params'];

/**
 * Finds the state dict in a checkpoint: the top-level dict of tensors, or one under a usual wrapper key
 * ({'state_dict': ...}, {'model': ...}, ...). Strips DataParallel's `module.` prefix. Keys map to Tensors;
 * non-tensor entries are an error naming the key.
 */
export function stateDict(ckpt: Checkpoint): Map<string, Tensor> {
  let obj = ckpt.object;
  if (obj instanceof PyObject) {
    throw new ConvertError(`the checkpoint holds a pickled ${obj.cls.qualname} object, not a state dict; ` +
      're-save it with torch.save(model.state_dict(), path)');
  }
  if (!(obj instanceof Map)) throw new ConvertError(`the checkpoint holds ${describe(obj)}, not a state dict`);
  const hasTensor = (m: Map<unknown, unknown>) => [...m.values()].some((v) => v instanceof Tensor);
  if (!hasTensor(obj)) {
    const wrapped = WRAPPER_KEYS.map((k) => (obj as Map<unknown, unknown>).get(k))
      .find((v) => v instanceof Map && hasTensor(v));
    if (!wrapped) {
      const keys = [...obj.keys()].slice(0, 8).map(String);
      throw new ConvertError(`the checkpoint is a dict without tensors (keys: ${keys.join(', ')}); not a state dict`);
    }
    obj = wrapped;
  }
  const out = new Map<string, Tensor>();
  for (const [k, v] of obj as Map<unknown, unknown>) {
    const key = String(k);
    if (!(v instanceof Tensor)) throw new ConvertError(`state-dict entry '${key}' is ${describe(v)}, not a tensor`, key);
    const name = key.startsWith('module.') ? key.slice('module.'.length) : key;
    if (out.has(name)) throw new ConvertError(`duplicate key '${name}' (with and without the 'module.' prefix)`, key);
    out.set(name, v);
  }
  return out;
}
