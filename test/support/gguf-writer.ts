// Node-side test helper (not shipped): writes GGUF v3 files and splits them like llama.cpp's
// gguf-split. Format: ggml/docs/gguf.md and ggml/src/gguf.cpp (`gguf_write_to_buf`); splitting:
// llama.cpp examples/gguf-split/gguf-split.cpp (`split_strategy`, --split-max-tensors).
import { readGGUF, type GGUFValue } from '../../src/gguf/gguf.ts';
import { ggmlTypeById } from '../../src/gguf/ggml-types.ts';
import { MemorySource } from '../../src/storage/byte-source.ts';

/** GGUF metadata value types (gguf.h `enum gguf_type`), by name. */
export type GGUFScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'bool' | 'string' | 'u64' | 'i64' | 'f64';
/** A scalar type, or an array of a scalar type (`array<string>`, `array<f32>`, ...). */
export type GGUFKVType = GGUFScalarType | `array<${GGUFScalarType}>`;
/** One metadata entry: key, value type, value (numbers or bigints for 64-bit integers; arrays or typed arrays for arrays). */
export type GGUFKV = [key: string, type: GGUFKVType, value: GGUFValue];

export interface WriterTensor {
  name: string;
  /** ggml dims, ne[0] first, as written in the tensor info. */
  ne: readonly number[];
  /** ggml type id (ggml.h `enum ggml_type`). */
  typeId: number;
  /** The tensor's bytes: exactly ne-product / blockSize × typeSize. */
  data: Uint8Array;
}

const TYPE_IDS: Record<GGUFScalarType, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, u64: 10, i64: 11, f64: 12 };
const ARRAY_ID = 9;
const TYPE_NAMES = new Map(Object.entries(TYPE_IDS).map(([k, v]) => [v, k as GGUFScalarType]));

/** Little-endian byte sink that grows as needed. */
class Out {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  len = 0;
  private enc = new TextEncoder();
  /** Reserves n bytes and returns their offset; may replace this.buf/this.dv, so call it before using them. */
  private room(n: number): number {
    if (this.len + n > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < this.len + n) cap *= 2;
      const b = new Uint8Array(cap);
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
      this.dv = new DataView(b.buffer);
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  u8(v: number) { const at = this.room(1); this.dv.setUint8(at, v); }
  i8(v: number) { const at = this.room(1); this.dv.setInt8(at, v); }
  u16(v: number) { const at = this.room(2); this.dv.setUint16(at, v, true); }
  i16(v: number) { const at = this.room(2); this.dv.setInt16(at, v, true); }
  u32(v: number) { const at = this.room(4); this.dv.setUint32(at, v, true); }
  i32(v: number) { const at = this.room(4); this.dv.setInt32(at, v, true); }
  f32(v: number) { const at = this.room(4); this.dv.setFloat32(at, v, true); }
  f64(v: number) { const at = this.room(8); this.dv.setFloat64(at, v, true); }
  u64(v: number | bigint) { const at = this.room(8); this.dv.setBigUint64(at, BigInt(v), true); }
  i64(v: number | bigint) { const at = this.room(8); this.dv.setBigInt64(at, BigInt(v), true); }
  bytes(b: Uint8Array) { const at = this.room(b.byteLength); this.buf.set(b, at); }
  str(s: string) {
    const b = this.enc.encode(s);
    this.u64(b.byteLength);
    this.bytes(b);
  }
  /** Zeros up to the next multiple of `align` bytes. */
  pad(align: number) {
    const n = (align - (this.len % align)) % align;
    const at = this.room(n);
    this.buf.fill(0, at, this.len);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function num(v: GGUFValue, key: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new Error(`gguf-writer: ${key} value ${String(v)} is not a number`);
}

/** Integer range of each integer type: [min, max]. */
const INT_RANGE: Partial<Record<GGUFScalarType, [bigint, bigint]>> = {
  u8: [0n, 255n], i8: [-128n, 127n], u16: [0n, 65535n], i16: [-32768n, 32767n],
  u32: [0n, 2n ** 32n - 1n], i32: [-(2n ** 31n), 2n ** 31n - 1n], u64: [0n, 2n ** 64n - 1n], i64: [-(2n ** 63n), 2n ** 63n - 1n],
};

function int(v: GGUFValue, t: GGUFScalarType, key: string): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(num(v, key)); // BigInt() throws on fractions
  const [lo, hi] = INT_RANGE[t]!;
  if (b < lo || b > hi) throw new Error(`gguf-writer: ${key} value ${b} does not fit ${t}`);
  return b;
}

function writeScalar(o: Out, t: GGUFScalarType, v: GGUFValue, key: string): void {
  switch (t) {
    case 'u8': return o.u8(Number(int(v, t, key)));
    case 'i8': return o.i8(Number(int(v, t, key)));
    case 'u16': return o.u16(Number(int(v, t, key)));
    case 'i16': return o.i16(Number(int(v, t, key)));
    case 'u32': return o.u32(Number(int(v, t, key)));
    case 'i32': return o.i32(Number(int(v, t, key)));
    case 'f32': return o.f32(num(v, key));
    case 'f64': return o.f64(num(v, key));
    case 'u64': return o.u64(int(v, t, key));
    case 'i64': return o.i64(int(v, t, key));
    case 'bool': return o.u8(v === true || v === 1 ? 1 : 0);
    case 'string':
      if (typeof v !== 'string') throw new Error(`gguf-writer: ${key} value is not a string`);
      return o.str(v);
  }
}

/**
 * Writes a GGUF v3 file (ggml/docs/gguf.md; byte layout of ggml gguf.cpp `gguf_write_to_buf` and
 * gguf-py's GGUFWriter): magic, version 3, u64 tensor count, u64 kv count, the metadata in the
 * given order, the tensor infos (name, n_dims, ne, type, offset relative to the data section), zero
 * padding to the alignment, then each tensor's data followed by zero padding to the alignment.
 *
 * `alignment` (bytes) defaults to the metadata's `general.alignment`, else 32 (GGUF_DEFAULT_ALIGNMENT);
 * giving both with different values, or an alignment other than 32 without `general.alignment`, is
 * an error. Throws Error on values that do not fit their type
 * and on tensor data whose length does not match its shape and type.
 */
export function writeGGUF(a: { metadata: readonly GGUFKV[]; tensors: readonly WriterTensor[]; alignment?: number }): Uint8Array {
  return encode(a, true).bytes;
}

/**
 * The header writeGGUF would write for these tensors (data not given, not written) and the size of
 * the whole file it heads, bytes: generated headers of models too big to write (70B shapes), read
 * through a ByteSource that claims the full size (HeaderOnlySource).
 */
export function writeGGUFHeader(a: { metadata: readonly GGUFKV[]; tensors: readonly Omit<WriterTensor, 'data'>[]; alignment?: number }): { header: Uint8Array; fileBytes: number } {
  const { bytes, fileBytes } = encode(a, false);
  return { header: bytes, fileBytes };
}

function encode(a: { metadata: readonly GGUFKV[]; tensors: readonly (Omit<WriterTensor, 'data'> & { data?: Uint8Array })[]; alignment?: number }, withData: boolean): { bytes: Uint8Array; fileBytes: number } {
  const mdAlign = a.metadata.find(([k]) => k === 'general.alignment');
  const align = a.alignment ?? (mdAlign ? num(mdAlign[2], 'general.alignment') : 32);
  if (mdAlign && num(mdAlign[2], 'general.alignment') !== align) throw new Error(`gguf-writer: alignment ${align} but general.alignment ${mdAlign[2]}`);
  if (!(align > 0 && (align & (align - 1)) === 0)) throw new Error(`gguf-writer: alignment ${align} is not a power of two`);
  if (!mdAlign && align !== 32) throw new Error(`gguf-writer: alignment ${align} needs general.alignment in the metadata (readers assume 32 without it)`);
  const o = new Out();
  o.u32(0x46554747); // "GGUF"
  o.u32(3);
  o.u64(a.tensors.length);
  o.u64(a.metadata.length);
  for (const [key, type, value] of a.metadata) {
    o.str(key);
    const m = /^array<(\w+)>$/.exec(type);
    if (!m) {
      o.u32(TYPE_IDS[type as GGUFScalarType]);
      writeScalar(o, type as GGUFScalarType, value, key);
      continue;
    }
    const et = m[1] as GGUFScalarType;
    if (!(et in TYPE_IDS)) throw new Error(`gguf-writer: ${key} has unknown array element type ${et}`);
    if (typeof value !== 'object' || value === null || !('length' in value)) throw new Error(`gguf-writer: ${key} value is not an array`);
    const arr = value as ArrayLike<GGUFValue>;
    o.u32(ARRAY_ID);
    o.u32(TYPE_IDS[et]);
    o.u64(arr.length);
    for (let i = 0; i < arr.length; i++) writeScalar(o, et, arr[i], key);
  }
  let rel = 0;
  for (const t of a.tensors) {
    const type = ggmlTypeById(t.typeId);
    if (!type) throw new Error(`gguf-writer: tensor ${t.name} has unknown type id ${t.typeId}`);
    const nBytes = (t.ne.reduce((x, y) => x * y, 1) / type.blockSize) * type.typeSize;
    if (withData && nBytes !== t.data?.byteLength) throw new Error(`gguf-writer: tensor ${t.name} has ${t.data?.byteLength} bytes of data, its shape needs ${nBytes}`);
    o.str(t.name);
    o.u32(t.ne.length);
    for (const d of t.ne) o.u64(d);
    o.u32(t.typeId);
    o.u64(rel);
    rel += Math.ceil(nBytes / align) * align;
  }
  o.pad(align);
  if (!withData) return { bytes: o.result(), fileBytes: o.len + rel };
  for (const t of a.tensors) {
    o.bytes(t.data!);
    o.pad(align);
  }
  const bytes = o.result();
  return { bytes, fileBytes: bytes.byteLength };
}

/** One metadata entry's key and GGUF value type, and for strings the exact decoded text. */
export interface RawKV {
  key: string;
  type: GGUFKVType;
  /** For `string` and `array<string>`: the value decoded keeping a leading U+FEFF (readGGUF's TextDecoder drops it). */
  strings?: string | string[];
}

/**
 * Reads the metadata key names and value types of a GGUF (v2/v3) from its bytes, in file order,
 * and the exact values of string entries (readGGUF keeps values but not their GGUF types, which a
 * faithful rewrite needs). Nested arrays are not supported (ggml's gguf.cpp refuses them too).
 */
export function readKVTypes(bytes: Uint8Array): RawKV[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { ignoreBOM: true });
  let pos = 0;
  const u32 = () => { const v = dv.getUint32(pos, true); pos += 4; return v; };
  const u64 = () => { const v = Number(dv.getBigUint64(pos, true)); pos += 8; return v; };
  const str = () => { const n = u64(); const s = dec.decode(bytes.subarray(pos, pos + n)); pos += n; return s; };
  const size: Record<GGUFScalarType, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8, string: 0 };
  if (u32() !== 0x46554747) throw new Error('readKVTypes: not a GGUF');
  const version = u32();
  if (version !== 2 && version !== 3) throw new Error(`readKVTypes: GGUF version ${version}`);
  u64(); // tensor count
  const nKV = u64();
  const out: RawKV[] = [];
  for (let i = 0; i < nKV; i++) {
    const key = str();
    const tid = u32();
    if (tid === ARRAY_ID) {
      const et = TYPE_NAMES.get(u32());
      if (!et) throw new Error(`readKVTypes: ${key} has an unsupported array element type`);
      const n = u64();
      if (et === 'string') {
        const strings: string[] = [];
        for (let j = 0; j < n; j++) strings.push(str());
        out.push({ key, type: 'array<string>', strings });
      } else {
        pos += n * size[et];
        out.push({ key, type: `array<${et}>` });
      }
    } else {
      const t = TYPE_NAMES.get(tid);
      if (!t) throw new Error(`readKVTypes: ${key} has unknown value type ${tid}`);
      if (t === 'string') out.push({ key, type: t, strings: str() });
      else {
        pos += size[t];
        out.push({ key, type: t });
      }
    }
  }
  return out;
}

/**
 * Parses a GGUF's bytes into what writeGGUF takes: metadata in file order with the original value
 * types (values from readGGUF, strings from readKVTypes), tensors in file order, and the alignment.
 */
export async function parseForWrite(bytes: Uint8Array): Promise<{ metadata: GGUFKV[]; tensors: WriterTensor[]; alignment: number }> {
  const g = await readGGUF(new MemorySource(bytes, 'parseForWrite'));
  const metadata = readKVTypes(bytes).map(({ key, type, strings }): GGUFKV => [key, type, strings ?? g.metadata.get(key)!]);
  const tensors = g.tensors.map((t) => ({ name: t.name, ne: t.ne, typeId: t.type.id, data: bytes.subarray(t.offset, t.offset + t.nBytes) }));
  return { metadata, tensors, alignment: g.alignment };
}

/**
 * Splits a GGUF like llama.cpp's `gguf-split --split --split-max-tensors K` (gguf-split.cpp
 * `split_strategy`), with K = ceil(tensor count / nParts) so that there are exactly `nParts` parts:
 * tensors are divided, in file order, into runs of K (the last run shorter). Part 0 keeps all the
 * original metadata, in order, followed by the split keys; later parts carry only the split keys:
 * `split.no` (u16, the part's 0-based index), `split.count` (u16, nParts), `split.tensors.count`
 * (i32, total tensors). Split keys already in the input are replaced (gguf.cpp's set_val removes
 * the key and appends it). Each part is a complete GGUF v3 file (see writeGGUF); part 0 uses the
 * input's alignment, later parts the default 32 bytes.
 * Save part k as `<prefix>-${k+1 as %05d}-of-${nParts as %05d}.gguf` (llama_split_path).
 * Throws Error if the tensors cannot be divided into exactly nParts non-empty runs this way.
 */
export async function splitGGUF(bytes: Uint8Array, nParts: number): Promise<Uint8Array[]> {
  const { metadata, tensors } = await parseForWrite(bytes);
  const n = tensors.length;
  if (!(Number.isInteger(nParts) && nParts >= 1 && nParts <= n)) throw new Error(`splitGGUF: cannot split ${n} tensors into ${nParts} parts`);
  const perPart = Math.ceil(n / nParts);
  const made = Math.ceil(n / perPart);
  if (made !== nParts) throw new Error(`splitGGUF: --split-max-tensors ${perPart} splits ${n} tensors into ${made} parts, not ${nParts}`);
  const isSplitKey = (k: string) => k === 'split.no' || k === 'split.count' || k === 'split.tensors.count';
  const kept = metadata.filter(([k]) => !isSplitKey(k));
  const out: Uint8Array[] = [];
  for (let p = 0; p < nParts; p++) {
    const splitKeys: GGUFKV[] = [
      ['split.no', 'u16', p],
      ['split.count', 'u16', nParts],
      ['split.tensors.count', 'i32', n],
    ];
    out.push(
      writeGGUF({
        metadata: p === 0 ? [...kept, ...splitKeys] : splitKeys,
        tensors: tensors.slice(p * perPart, (p + 1) * perPart),
      }),
    );
  }
  return out;
}
