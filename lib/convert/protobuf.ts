/*! craft-text | MIT */
// Minimal protobuf wire-format encoder/decoder for the handful of ONNX messages the converter writes or rewrites.
// Hand-written instead of protobufjs: ~150 lines, no runtime dependency and no .proto to ship, and large tensors go
// to the output with a single copy (a message is a list of chunks until the final concat).
import { ConvertError } from './errors';

const te = new TextEncoder();

/** An encoded message under construction: chunks + total length. */
export class Message {
  readonly parts: Uint8Array[] = [];
  length = 0;

  private push(b: Uint8Array): this { this.parts.push(b); this.length += b.length; return this; }

  private tag(field: number, wire: number): this { return this.push(varint(BigInt((field << 3) | wire))); }

  /** int32/int64/enum/bool field (negative numbers as 10-byte two's complement, like protobuf). */
  int(field: number, v: number | bigint | boolean): this {
    const b = typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v);
    return this.tag(field, 0).push(varint(b < 0n ? b + (1n << 64n) : b));
  }

  /** float (fixed32). */
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).push(b);
  }

  bytes(field: number, b: Uint8Array): this { return this.tag(field, 2).push(varint(BigInt(b.length))).push(b); }

  string(field: number, s: string): this { return this.bytes(field, te.encode(s)); }

  message(field: number, m: Message): this {
    this.tag(field, 2).push(varint(BigInt(m.length)));
    for (const p of m.parts) this.push(p);
    return this;
  }

  /** A field copied as-is (from a decoded message). */
  raw(f: Field): this {
    this.tag(f.no, f.wire);
    if (f.wire === 2) this.push(varint(BigInt((f.value as Uint8Array).length)));
    if (f.wire === 0) return this.push(varint(f.value as bigint));
    return this.push(f.value as Uint8Array);
  }

  /** The whole message as one buffer. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

function varint(v: bigint): Uint8Array {
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

/** A decoded field: varints as bigint, length-delimited and fixed as the raw bytes (views into the input). */
export interface Field { no: number; wire: number; value: bigint | Uint8Array }

/** Decodes one message level (no schema): the fields in order. Throws ConvertError on malformed input. */
export function decode(buf: Uint8Array, what = 'protobuf message'): Field[] {
  const fields: Field[] = [];
  let p = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= buf.length || shift > 63n) throw new ConvertError(`malformed ${what} (bad varint)`);
      const b = buf[p++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (p < buf.length) {
    const key = readVarint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw new ConvertError(`malformed ${what} (field number 0)`);
    let value: bigint | Uint8Array;
    if (wire === 0) value = readVarint();
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (p + n > buf.length) throw new ConvertError(`malformed ${what} (truncated)`);
      value = buf.subarray(p, p + n); p += n;
    } else if (wire === 2) {
      const n = Number(readVarint());
      if (p + n > buf.length) throw new ConvertError(`malformed ${what} (truncated)`);
      value = buf.subarray(p, p + n); p += n;
    } else throw new ConvertError(`malformed ${what} (wire type ${wire})`);
    fields.push({ no, wire, value });
  }
  return fields;
}

const td = new TextDecoder();
export const str = (f: Field): string => td.decode(f.value as Uint8Array);
