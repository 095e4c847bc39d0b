import { LayerstreamError } from '../errors.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import { GGML_REMOVED_TYPES, ggmlTypeById, type GGMLTypeInfo } from './ggml-types.ts';

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

/**
 * The largest header readGGUF accepts, bytes. The biggest real ones (vocabularies of 250k tokens
 * with their merges) are about 15 MiB; every count and length in a header is checked against the
 * bytes left before this limit (or the end of the file), so a hostile header costs at most this
 * much reading and time proportional to the bytes it really has.
 */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;

/** Largest element count or byte size a tensor may have (2^53: exact in a double, and far more than any file). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class NeedMore extends Error {}

enum VT { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 }

/** Bytes of one value of each GGUF value type (strings: at least their u64 length; arrays: type + length). */
const VT_BYTES: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];
const VT_NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'];

/** Bytes of the smallest tensor info: name length (u64), n_dims (u32), one dim (u64), type (u32), offset (u64). */
const MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8;
/** Bytes of the smallest metadata pair: key length (u64), value type (u32), a 1-byte value. */
const MIN_KV = 8 + 4 + 1;

class Reader {
  pos = 0;
  private dv: DataView;
  // ignoreBOM: a vocabulary can hold the token "\uFEFF", which the default decoder would strip
  private dec = new TextDecoder('utf-8', { ignoreBOM: true });
  /**
   * `limit`: the bytes the header may span (the file size, or MAX_HEADER_BYTES when the file is
   * bigger); `complete`: `buf` holds all of them, so running past its end is an error, not a reason
   * to read more.
   */
  constructor(private buf: Uint8Array, private readonly complete: boolean, private readonly what: string, readonly limit: number, private readonly fileSize: number) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  /** The error for a header that needs bytes up to `end`. */
  private beyond(end: number | bigint, why: string): LayerstreamError {
    if (this.limit < this.fileSize) {
      return new LayerstreamError('malformed', `malformed GGUF: ${why} in ${this.what}: the header would run past ${MAX_HEADER_BYTES} bytes (to byte ${end})`);
    }
    return new LayerstreamError('truncated', `truncated GGUF: ${why}: header of ${this.what} ends at byte ${this.fileSize}, needs ${end}`);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.byteLength) {
      if (this.complete) throw this.beyond(this.pos + n, `reading ${n} bytes at byte ${this.pos}`);
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
    return v <= MAX_SAFE ? Number(v) : v;
  }
  i64(): number | bigint {
    this.need(8);
    const v = this.dv.getBigInt64(this.pos, true);
    this.pos += 8;
    return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
  }
  /**
   * A u64 count of items that take at least `each` bytes apiece (plus `more` bytes after them),
   * checked against the bytes left in the header before anything is allocated or looped over:
   * 'truncated' when the file ends first, 'malformed' when no file could hold it.
   */
  count(what: () => string, each: number, more = 0): number {
    const at = this.pos;
    const n = this.u64();
    const left = this.limit - this.pos;
    if (typeof n !== 'number') throw new LayerstreamError('malformed', `malformed GGUF: ${what()} is ${n} (at byte ${at} of ${this.what}): impossible`);
    if (n * each + more > left) throw this.beyond(this.pos + n * each + more, `${what()} is ${n} (at byte ${at}), which needs at least ${n * each + more} more bytes`);
    return n;
  }
  str(what: () => string): string {
    const n = this.count(what, 1);
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
      case VT.STRING: return this.str(() => `length of the string ${key}`);
      case VT.U64: return this.u64();
      case VT.I64: return this.i64();
      case VT.F64: return this.f64();
      case VT.ARRAY: {
        const et = this.u32();
        // gguf.cpp refuses arrays of arrays too (and they would nest without bound)
        if (et === VT.ARRAY) throw new LayerstreamError('malformed', `malformed GGUF: metadata key ${key} is an array of arrays`);
        if (!(et < VT_BYTES.length)) throw new LayerstreamError('malformed', `malformed GGUF: metadata key ${key} is an array of unknown value type ${et}`);
        const n = this.count(() => `array length of ${key} (array<${VT_NAMES[et]}>)`, VT_BYTES[et]);
        switch (et) {
          case VT.F32: return this.typedArray(n, 4, (b) => new Float32Array(b));
          case VT.I32: return this.typedArray(n, 4, (b) => new Int32Array(b));
          case VT.U32: return this.typedArray(n, 4, (b) => new Uint32Array(b));
          case VT.U8: return this.typedArray(n, 1, (b) => new Uint8Array(b));
          case VT.I8: return this.typedArray(n, 1, (b) => new Int8Array(b));
          default: {
            const out: GGUFValue[] = [];
            for (let i = 0; i < n; i++) out.push(this.value(et, key));
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
  const r = new Reader(buf, complete, name, Math.min(fileSize, MAX_HEADER_BYTES), fileSize);
  if (buf.byteLength < 4 && complete) throw new LayerstreamError('not_gguf', `not a GGUF file: ${name} is only ${buf.byteLength} bytes`);
  const magic = r.u32();
  if (magic !== GGUF_MAGIC) throw new LayerstreamError('not_gguf', `not a GGUF file: bad magic in ${name}`);
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new LayerstreamError('not_gguf', `unsupported GGUF version ${version} in ${name} (supported: 2, 3)`);
  const nTensors = r.count(() => 'tensor count', MIN_TENSOR_INFO, 8);
  const nKV = r.count(() => 'metadata count', MIN_KV, nTensors * MIN_TENSOR_INFO);
  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < nKV; i++) {
    const key = r.str(() => `length of metadata key #${i}`);
    const t = r.u32();
    if (metadata.has(key)) throw new LayerstreamError('malformed', `malformed GGUF: duplicate metadata key ${key}`);
    metadata.set(key, r.value(t, key));
  }
  const alignment = readAlignment(metadata.get('general.alignment'));
  const raw: { name: string; ne: number[]; typeId: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const tname = r.str(() => `name length of tensor #${i}`);
    const nDims = r.u32();
    if (nDims < 1 || nDims > 4) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} has ${nDims} dims (1 to 4)`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const v = r.u64();
      if (typeof v !== 'number' || v < 1) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} has dimension ne[${d}] = ${v}`);
      ne.push(v);
    }
    const typeId = r.u32();
    const rel = r.u64();
    if (typeof rel !== 'number') throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} data offset ${rel} is beyond any file`);
    raw.push({ name: tname, ne, typeId, rel });
  }
  const headerEnd = r.pos;
  const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
  const tensors: GGUFTensorInfo[] = raw.map(({ name: tname, ne, typeId, rel }) => {
    const type = ggmlTypeById(typeId);
    if (!type) {
      const removed = GGML_REMOVED_TYPES.get(typeId);
      if (removed) throw new LayerstreamError('unsupported_tensor_type', `unsupported tensor type ${removed} (ggml type id ${typeId}, removed from ggml) in tensor ${tname}: re-quantize the model with a current llama.cpp`);
      throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} has unknown ggml type id ${typeId}`);
    }
    if (ne[0] % type.blockSize !== 0) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} row width ${ne[0]} is not a multiple of the ${type.name} block size ${type.blockSize}`);
    // exact sizes: dims up to 2^53 each could overflow a double's integers
    const elems = ne.reduce((a, b) => a * BigInt(b), 1n);
    const bytes = (elems / BigInt(type.blockSize)) * BigInt(type.typeSize);
    if (elems > MAX_SAFE || bytes > MAX_SAFE) {
      throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} of shape [${ne.join(', ')}] has ${elems} elements (${bytes} bytes of ${type.name}): impossible`);
    }
    const nBytes = Number(bytes);
    if (rel % alignment !== 0) throw new LayerstreamError('malformed', `malformed GGUF: tensor ${tname} data offset ${rel} is not ${alignment}-aligned`);
    const end = BigInt(dataOffset) + BigInt(rel) + bytes;
    if (end > BigInt(fileSize)) {
      throw new LayerstreamError('truncated', `truncated GGUF: tensor ${tname} data runs to byte ${end} but ${name} has ${fileSize} bytes`);
    }
    return { name: tname, ne, type, offset: dataOffset + rel, nBytes };
  });
  const tensorByName = new Map(tensors.map((t) => [t.name, t]));
  if (tensorByName.size !== tensors.length) {
    const seen = new Set<string>();
    const dup = tensors.find((t) => seen.has(t.name) || !seen.add(t.name));
    throw new LayerstreamError('malformed', `malformed GGUF: duplicate tensor name ${dup?.name}`);
  }
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const [a, b] = [byOffset[i - 1], byOffset[i]];
    if (b.offset < a.offset + a.nBytes) {
      throw new LayerstreamError('malformed', `malformed GGUF: the data of tensors ${a.name} (bytes ${a.offset}..${a.offset + a.nBytes}) and ${b.name} (from byte ${b.offset}) overlap`);
    }
  }
  return { version, metadata, tensors, tensorByName, dataOffset, alignment, fileSize, headerBytes: headerEnd };
}

/** general.alignment (gguf.cpp: a u32 power of two; default 32). */
function readAlignment(v: GGUFValue | undefined): number {
  if (v === undefined) return 32;
  const a = typeof v === 'bigint' ? Number(v) : v;
  if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 2 ** 31 || !Number.isInteger(Math.log2(a))) {
    const shown = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? 'an array' : String(v);
    throw new LayerstreamError('malformed', `malformed GGUF: general.alignment ${shown} is not a power of two`);
  }
  return a;
}

/**
 * Reads and parses the GGUF header of `source`, fetching more bytes as the header needs them
 * (starting at 1 MiB, doubling, up to MAX_HEADER_BYTES), so only the header is ever read. Every
 * count and length is checked against the bytes the file can hold before it is used, so a hostile
 * header fails in time proportional to its size.
 * Throws LayerstreamError: 'not_gguf' (bad magic/version), 'truncated', 'malformed' (naming the
 * field and its value), 'unsupported_tensor_type' (a type id ggml has removed).
 */
export async function readGGUF(source: ByteSource, signal?: AbortSignal): Promise<GGUFFile> {
  const limit = Math.min(source.size, MAX_HEADER_BYTES);
  let want = Math.min(limit, 1 << 20);
  for (;;) {
    const buf = await source.read(0, want, signal);
    try {
      return parseHeader(buf, want >= limit, source.size, source.name);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      want = Math.min(limit, want * 2);
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
