/*! craft-text | MIT */
// A pickle virtual machine for the subset torch.save uses (protocols 2-4). It never imports or runs anything: a
// GLOBAL becomes a PyGlobal descriptor, and REDUCE/NEWOBJ/BUILD only do something for the handful of callables a
// checkpoint needs (OrderedDict, torch._utils._rebuild_*, set/frozenset, codecs.encode); every other call becomes
// an inert PyObject that the state-dict extraction then reports.
import { ConvertError } from './errors';

/** A `module.name` reference produced by GLOBAL / STACK_GLOBAL. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualname(): string { return `${this.module}.${this.name}`; }
}

/** The result of calling / instantiating something we do not model. */
export class PyObject {
  state: unknown = undefined;
  constructor(readonly cls: PyGlobal, readonly args: unknown[]) {}
}

/** Python tuples are JS arrays tagged with this marker (lists are plain arrays). */
export const TUPLE = Symbol('tuple');
export type PyTuple = unknown[] & { [TUPLE]?: true };

function tuple(items: unknown[]): PyTuple {
  const t = items as PyTuple;
  t[TUPLE] = true;
  return t;
}

export interface UnpickleHooks {
  /** persistent_load(pid) (BINPERSID / PERSID). */
  persistentLoad(pid: unknown): unknown;
  /** Called for REDUCE(callable, args) before the generic handling; return undefined to fall through. */
  reduce?(fn: PyGlobal, args: unknown[]): unknown;
}

const MARK = Symbol('mark');
const td = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');

/**
 * Runs one pickle starting at `offset` of `data`, returns the object and the offset just past its STOP opcode
 * (the legacy torch format is several pickles back to back).
 */
export function unpickle(data: Uint8Array, offset: number, hooks: UnpickleHooks): { value: unknown; end: number } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let p = offset;
  const stack: unknown[] = [];
  const metastack: unknown[][] = [];
  let current = stack;
  const memo = new Map<number, unknown>();

  const need = (n: number) => {
    if (p + n > data.length) throw new ConvertError(`truncated pickle at byte ${p} (needs ${n} more bytes)`);
  };
  const u8 = () => { need(1); return data[p++]; };
  const u16 = () => { need(2); const v = dv.getUint16(p, true); p += 2; return v; };
  const u32 = () => { need(4); const v = dv.getUint32(p, true); p += 4; return v; };
  const i32 = () => { need(4); const v = dv.getInt32(p, true); p += 4; return v; };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(p, true); p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConvertError(`pickle length ${v} too large`);
    return Number(v);
  };
  const bytes = (n: number) => { need(n); const b = data.subarray(p, p + n); p += n; return b; };
  const line = () => {
    const start = p;
    while (p < data.length && data[p] !== 0x0a) p++;
    if (p >= data.length) throw new ConvertError('truncated pickle (unterminated text argument)');
    return latin1.decode(data.subarray(start, p++));
  };
  const pop = () => {
    if (current.length === 0) throw new ConvertError(`malformed pickle: stack underflow at byte ${p - 1}`);
    return current.pop();
  };
  const top = () => {
    if (current.length === 0) throw new ConvertError(`malformed pickle: empty stack at byte ${p - 1}`);
    return current[current.length - 1];
  };
  const popMark = () => {
    const items = current;
    const prev = metastack.pop();
    if (!prev) throw new ConvertError(`malformed pickle: no MARK at byte ${p - 1}`);
    current = prev;
    return items;
  };
  const push = (v: unknown) => { current.push(v); };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (target instanceof Map) {
      for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
    } else if (target instanceof PyObject) {
      // dict subclass we do not model: keep the items on the object
      const m = (target.state instanceof Map ? target.state : new Map()) as Map<unknown, unknown>;
      for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
      target.state = m;
    } else {
      throw new ConvertError('malformed pickle: SETITEM(S) on a non-dict');
    }
  };
  const call = (fn: unknown, args: unknown[]): unknown => {
    if (!(fn instanceof PyGlobal)) throw new ConvertError('unsupported pickle: REDUCE on a non-global callable');
    const hooked = hooks.reduce?.(fn, args);
    if (hooked !== undefined) return hooked;
    switch (fn.qualname) {
      case 'collections.OrderedDict':
      case 'builtins.dict':
      case '__builtin__.dict': {
        const m = new Map<unknown, unknown>();
        const src = args[0];
        if (Array.isArray(src)) for (const kv of src) if (Array.isArray(kv)) m.set(kv[0], kv[1]);
        return m;
      }
      case 'builtins.set': case 'builtins.frozenset': case '__builtin__.set': case '__builtin__.frozenset':
        return new Set(Array.isArray(args[0]) ? args[0] : []);
      case 'builtins.list': case '__builtin__.list':
        return Array.isArray(args[0]) ? [...args[0]] : [];
      case 'builtins.tuple': case '__builtin__.tuple':
        return tuple(Array.isArray(args[0]) ? [...args[0]] : []);
      case '_codecs.encode': // python 2 str pickled under python 3: encode(str, 'latin1')
        return typeof args[0] === 'string' ? Uint8Array.from(args[0], (c) => c.charCodeAt(0) & 0xff) : args[0];
      default:
        return new PyObject(fn, args);
    }
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: p };
      }
      case 0x28: metastack.push(current); current = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4a: push(i32()); break; // BININT
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x8a: push(longFromBytes(bytes(u8()))); break; // LONG1
      case 0x8b: push(longFromBytes(bytes(u32()))); break; // LONG4
      case 0x49: { // INT (text)
        const s = line();
        push(s === '01' ? true : s === '00' ? false : Number(s));
        break;
      }
      case 0x4c: { // LONG (text)
        const s = line().replace(/L$/, '');
        const v = BigInt(s);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x46: push(Number(line())); break; // FLOAT (text)
      case 0x47: { need(8); push(dv.getFloat64(p, false)); p += 8; break; } // BINFLOAT (big-endian)
      case 0x58: push(td.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: push(td.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: push(td.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x56: push(line()); break; // UNICODE (raw-unicode-escape; ASCII in practice)
      case 0x54: push(latin1.decode(bytes(i32()))); break; // BINSTRING
      case 0x55: push(latin1.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x53: { // STRING (repr)
        const s = line();
        push(s.length >= 2 && (s[0] === "'" || s[0] === '"') ? s.slice(1, -1) : s);
        break;
      }
      case 0x42: push(bytes(u32())); break; // BINBYTES
      case 0x43: push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x8e: push(bytes(u64())); break; // BINBYTES8
      case 0x29: push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: push(tuple(popMark())); break; // TUPLE
      case 0x85: push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); push(tuple([a, b, c])); break; } // TUPLE3
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x6c: push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) throw new ConvertError('malformed pickle: APPEND on a non-list'); l.push(v); break; }
      case 0x65: { // APPENDS
        const items = popMark(); const l = top();
        if (Array.isArray(l)) l.push(...items);
        else if (l instanceof Set) for (const i of items) l.add(i);
        else throw new ConvertError('malformed pickle: APPENDS on a non-list');
        break;
      }
      case 0x7d: push(new Map()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); const m = new Map(); setItems(m, items); push(m); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: push(new Set()); break; // EMPTY_SET
      case 0x90: { const items = popMark(); const s = top(); if (s instanceof Set) for (const i of items) s.add(i); break; } // ADDITEMS
      case 0x91: push(new Set(popMark())); break; // FROZENSET
      case 0x63: { const mod = line(); const name = line(); push(new PyGlobal(mod, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(); const mod = pop();
        if (typeof mod !== 'string' || typeof name !== 'string') throw new ConvertError('malformed pickle: STACK_GLOBAL');
        push(new PyGlobal(mod, name));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); push(call(fn, Array.isArray(args) ? args : [])); break; } // REDUCE
      case 0x81: { // NEWOBJ
        const args = pop(); const cls = pop();
        push(cls instanceof PyGlobal && cls.qualname === 'collections.OrderedDict' ? new Map()
          : new PyObject(cls instanceof PyGlobal ? cls : new PyGlobal('?', '?'), Array.isArray(args) ? args : []));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); const args = pop(); const cls = pop();
        push(new PyObject(cls instanceof PyGlobal ? cls : new PyGlobal('?', '?'), Array.isArray(args) ? args : []));
        break;
      }
      case 0x62: { // BUILD
        const state = pop(); const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        // an OrderedDict state dict gets {'_metadata': ...}: not needed
        break;
      }
      case 0x51: push(hooks.persistentLoad(pop())); break; // BINPERSID
      case 0x50: push(hooks.persistentLoad(line())); break; // PERSID
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(idx)) throw new ConvertError(`malformed pickle: memo ${idx} not set`);
        push(memo.get(idx));
        break;
      }
      default:
        throw new ConvertError(
          `unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${p - 1} (not a torch checkpoint?)`);
    }
  }
}
