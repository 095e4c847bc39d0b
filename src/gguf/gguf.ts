import { LayerstreamError } from '../errors.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import { ggmlTypeById, type GGMLTypeInfo } from './ggml-types.ts';

/**
 * GGUF header reader. Format: ggml/docs/gguf.md — magic "GGUF", u32 version (2 or 3),
 * u64 tensor_count, u64 kv_count, kv pairs, tensor infos, padding to `general.alignment`
 * (default 32), then tensor data. All little-endian.
 */
export type GGUFValue = number | bigint | boolean | string | GGUFValue[] | ArrayLike<number>;

export interface GGUFTensorInfo {
  readonly name: string;
  /** ggml dims, ne[0] first (ne[0] = row width / input features for weight matrices). */
  readonly ne: readonly number[];
  readonly type: GGMLTypeInfo;
  /** Absolute byte offset of the tensor data in the file. */
  readonly offset: number;
  /** Byte size of the tensor data. */
  readonly nBytes: number;
}

export interface GGUFFile {
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GGUFValue>;
  readonly tensors: readonly GGUFTensorInfo[];
  readonly tensorByName: ReadonlyMap<string, GGUFTensorInfo>;
  /** Absolute offset of the tensor data section. */
  readonly dataOffset: number;
  readonly alignment: number;
  readonly fileSize: number;
  /** Bytes of the header (everything before dataOffset). */
  readonly headerBytes: number;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian

class NeedMore extends Error {}

enum VT { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 }

class Reader {
  pos = 0;
  private dv: DataView;
  // ignoreBOM: a vocabulary can hold the token "\uFEFF", which the default decoder would strip
  private dec = new TextDecoder('utf-8', { ignoreBOM: true });
  constructor(private buf: Uint8Array, private readonly complete: boolean, private readonly what: string) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.byteLength) {
      if (this.complete) throw new LayerstreamError('truncated', `truncated GGUF: header of ${this.what} ends at byte ${this.buf.byteLength}, needs ${this.pos + n}`);
      throw new NeedMore();
    }
  }
  u8() { this.need(1); return this.dv.getUint8(this.pos++); }
  i8() { this.need(1); return this.dv.getInt8(this.pos++); }
  u16() { this.need(2); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v; }
  i16() { this.need(2); const v = this.dv.getInt16(this.pos, true); this.pos += 2; return v; }
  u32() { this.need(4); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  i32() { this.need(4); const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
  f32() { this.need(4); const v = this.dv.getFloat32(this.pos, true); this.pos += 4; return v; }
  f64() { this.need(8); const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
  u64(): number | bigint {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  i64(): number | bigint {
    this.need(8);
    const v = this.dv.getBigInt64(this.pos, true);
    this.pos += 8;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  count(what: string): number {
    const n = this.u64();
    if (typeof n !== 'number' || n > 1e9) throw new LayerstreamError('malformed', `malformed GGUF: impossible ${what} ${n}`);
    return n;
  }
  str(): string {
    const n = this.count('string length');
    this.need(n);
    const s = this.dec.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  typedArray<T>(n: number, bytes: number, make: (buf: ArrayBuffer) => T): T {
    this.need(n * bytes);
    const copy = this.buf.slice(this.pos, this.pos + n * bytes); // aligned copy
    this.pos += n * bytes;
    return make(copy.buffer);
  }
  value(t: number, key: string): GGUFValue {
    switch (t) {
      case VT.U8: return this.u8();
      case VT.I8: return this.i8();
      case VT.U16: return this.u16();
      case VT.I16: return this.i16();
      case VT.U32: return this.u32();
      case VT.I32: return this.i32();
      case VT.F32: return this.f32();
      case VT.BOOL: return this.u8() !== 0;
      case VT.STRING: return this.str();
      case VT.U64: return this.u64();
      case VT.I64: return this.i64();
      case VT.F64: return this.f64();
      case VT.ARRAY: {
        const et = this.u32();
        const n = this.count(`array length of ${key}`);
        switch (et) {
          case VT.F32: return this.typedArray(n, 4, (b) => new Float32Array(b));
          case VT.I32: return this.typedArray(n, 4, (b) => new Int32Array(b));
          case VT.U32: return this.typedArray(n, 4, (b) => new Uint32Array(b));
          case VT.U8: return this.typedArray(n, 1, (b) => new Uint8Array(b));
          case VT.I8: return this.typedArray(n, 1, (b) => new Int8Array(b));
          default: {
            const out: GGUFValue[] = new Array(n);
            for (let i = 0; i < n; i++) out[i] = this.value(et, key);
            return out;
          }
        }
      }
      default:
        throw new LayerstreamError('malformed', `malformed GGUF: metadata key ${key} has unknown value type ${t}`);
    }
  }
}

function parseHeader(buf: Uint8Array, complete: boolean, fileSize: number, name: string): GGUFFile {
  const r = new Reader(buf, complete, name);
  if (buf.byteLength < 4 && complete) throw new LayerstreamError('not_gguf', `not a GGUF file: ${name} is only ${buf.byteLength} bytes`);
  const magic = r.u32();
  if (magic !== GGUF_MAGIC) throw new LayerstreamError('not_gguf', `not a GGUF file: bad magic in ${name}`);
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new LayerstreamError('not_gguf', `unsupported GGUF version ${version} in ${name} (supported: 2, 3)`);
  const nTensors = r.count('tensor count');
  const nKV = r.count('metadata count');
  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < nKV; i++) {
    const key = r.str();
    const t = r.u32();
    metadata.set(key, r.value(t, key));
  }
  const alignment = Number(metadata.get('general.alignment') ?? 32);
  if (!(alignment > 0 && (alignment & (alignment - 1)) === 0)) throw new LayerstreamError('malformed', `malformed GGUF: general.alignment ${alignment} is not a power of two`);
  const raw: { name: string; ne: number[]; typeId: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const tname = r.str();
    const nDims = r.u32();
    if (nDims < 1 || nDims > 4) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} has ${nDims} dims`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const v = r.u64();
      if (typeof v !== 'number' || v < 1) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} has dimension ${v}`);
      ne.push(v);
    }
    const typeId = r.u32();
    const rel = r.u64();
    if (typeof rel !== 'number') throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} offset ${rel} too large`);
    raw.push({ name: tname, ne, typeId, rel });
  }
  const headerEnd = r.pos;
  const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
  const tensors: GGUFTensorInfo[] = raw.map(({ name: tname, ne, typeId, rel }) => {
    const type = ggmlTypeById(typeId);
    if (!type) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} has unknown ggml type id ${typeId}`);
    if (ne[0] % type.blockSize !== 0) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} row width ${ne[0]} is not a multiple of the ${type.name} block size ${type.blockSize}`);
    const nElems = ne.reduce((a, b) => a * b, 1);
    const nBytes = (nElems / type.blockSize) * type.typeSize;
    const offset = dataOffset + rel;
    if (rel % alignment !== 0) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} data offset ${rel} is not ${alignment}-aligned`);
    if (offset + nBytes > fileSize) {
      throw new LayerstreamError('truncated', `truncated GGUF: tensor ${tname} data runs to byte ${offset + nBytes} but ${name} has ${fileSize} bytes`);
    }
    return { name: tname, ne, type, offset, nBytes };
  });
  const tensorByName = new Map(tensors.map((t) => [t.name, t]));
  if (tensorByName.size !== tensors.length) throw new LayerstreamError('malformed', 'malformed GGUF: duplicate tensor names');
  return { version, metadata, tensors, tensorByName, dataOffset, alignment, fileSize, headerBytes: headerEnd };
}

/**
 * Reads and parses the GGUF header of `source`, fetching more bytes as the header needs them
 * (starting at 1 MiB, doubling), so only the header is ever read.
 * Throws LayerstreamError: 'not_gguf' (bad magic/version), 'truncated', 'malformed'.
 */
export async function readGGUF(source: ByteSource, signal?: AbortSignal): Promise<GGUFFile> {
  let want = Math.min(source.size, 1 << 20);
  for (;;) {
    const buf = await source.read(0, want, signal);
    try {
      return parseHeader(buf, want >= source.size, source.size, source.name);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      want = Math.min(source.size, want * 2);
    }
  }
}

/** Typed metadata accessors; each throws LayerstreamError('malformed') naming the key. */
export class Metadata {
  constructor(private readonly map: ReadonlyMap<string, GGUFValue>) {}
  has(key: string): boolean {
    return this.map.has(key);
  }
  raw(key: string): GGUFValue | undefined {
    return this.map.get(key);
  }
  string(key: string): string;
  string(key: string, fallback: string): string;
  string(key: string, fallback?: string): string {
    const v = this.map.get(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') throw new LayerstreamError('malformed', `GGUF metadata ${key} is ${v === undefined ? 'missing' : 'not a string'}`);
    return v;
  }
  number(key: string): number;
  number(key: string, fallback: number): number;
  number(key: string, fallback?: number): number {
    const v = this.map.get(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v !== 'number') throw new LayerstreamError('malformed', `GGUF metadata ${key} is ${v === undefined ? 'missing' : 'not a number'}`);
    return v;
  }
  bool(key: string, fallback: boolean): boolean {
    const v = this.map.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new LayerstreamError('malformed', `GGUF metadata ${key} is not a bool`);
    return v;
  }
  strings(key: string): string[] | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || (v.length > 0 && typeof v[0] !== 'string')) throw new LayerstreamError('malformed', `GGUF metadata ${key} is not a string array`);
    return v as string[];
  }
  numbers(key: string): ArrayLike<number> | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'object' && v !== null && 'length' in v && (v.length === 0 || typeof (v as ArrayLike<unknown>)[0] === 'number')) return v as ArrayLike<number>;
    throw new LayerstreamError('malformed', `GGUF metadata ${key} is not a number array`);
  }
}
