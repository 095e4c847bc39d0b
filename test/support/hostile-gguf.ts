// Node-side test helper (not shipped): a generator of corrupted GGUF files for test/hostile.spec.ts.
// It walks a real GGUF header on its own (ggml/docs/gguf.md; independent of src/gguf/gguf.ts, so a
// reader bug does not hide itself) into its fields, and derives cases from them: truncations at
// every structural boundary, count and length fields set to 0 / just over the limit / 2^32−1 /
// 2^63 / 2^64−1, wrong value and element types, bad UTF-8, overflowing dims, unknown and removed
// ggml type ids, bad offsets, and seeded random byte flips. A case is the original bytes with a few
// patches and an optional cut, so the browser can rebuild it from the model's URL cheaply.
import type { ByteSource } from '../../src/storage/byte-source.ts';
import { LayerstreamError } from '../../src/errors.ts';
import { ggmlTypeById } from '../../src/gguf/ggml-types.ts';

export type FieldKind =
  | 'magic' | 'version' | 'tensor_count' | 'kv_count'
  | 'key_len' | 'key' | 'value_type' | 'value' | 'array_type' | 'array_len' | 'str_len' | 'str'
  | 'tname_len' | 'tname' | 'n_dims' | 'dim' | 'tensor_type' | 'tensor_offset';

/** One field of a GGUF header: where it is, how long, and what it belongs to. */
export interface Field {
  kind: FieldKind;
  at: number;
  size: number;
  /** the metadata key or tensor name it belongs to (`#i` for counts) */
  owner: string;
  /** value type id (value fields, and the elements of arrays) */
  vt?: number;
  /** element index inside an array */
  elem?: number;
}

export interface HeaderMap {
  fields: Field[];
  /** end of the tensor infos */
  headerEnd: number;
  alignment: number;
  dataOffset: number;
  /** per tensor: its name, data offset (absolute) and byte size (from the reader's type table) */
  tensors: { name: string; dataAt: number; nBytes: number; typeId: number; ne: number[] }[];
}

const VT_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8]; // string (8) and array (9): variable

/** Walks a GGUF v2/v3 header into its fields. Arrays of more than `keepElems` elements keep the fields of their first and last elements only. */
export function headerFields(bytes: Uint8Array, keepElems = 3): HeaderMap {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const fields: Field[] = [];
  let pos = 0;
  const field = (kind: FieldKind, size: number, owner: string, extra: Partial<Field> = {}) => {
    fields.push({ kind, at: pos, size, owner, ...extra });
    pos += size;
  };
  const u32 = () => dv.getUint32(pos, true);
  const u64 = () => Number(dv.getBigUint64(pos, true));
  const string = (lenKind: FieldKind, kind: FieldKind, owner: string, keep: boolean, extra: Partial<Field> = {}): string => {
    const n = u64();
    if (keep) field(lenKind, 8, owner, extra);
    else pos += 8;
    const s = dec.decode(bytes.subarray(pos, pos + n));
    if (keep) field(kind, n, owner, extra);
    else pos += n;
    return s;
  };
  field('magic', 4, 'header');
  field('version', 4, 'header');
  const nTensors = u64();
  field('tensor_count', 8, 'header');
  const nKV = u64();
  field('kv_count', 8, 'header');
  let alignment = 32;
  for (let i = 0; i < nKV; i++) {
    const key = string('key_len', 'key', `#${i}`, true);
    fields[fields.length - 1].owner = fields[fields.length - 2].owner = key;
    const vt = u32();
    field('value_type', 4, key, { vt });
    if (vt === 9) {
      const et = u32();
      field('array_type', 4, key, { vt: et });
      const n = u64();
      field('array_len', 8, key, { vt: et });
      for (let j = 0; j < n; j++) {
        const keep = j < keepElems || j === n - 1;
        if (et === 8) string('str_len', 'str', key, keep, { elem: j });
        else if (keep) field('value', VT_BYTES[et], key, { vt: et, elem: j });
        else pos += VT_BYTES[et];
      }
    } else if (vt === 8) {
      string('str_len', 'str', key, true);
    } else {
      if (key === 'general.alignment') alignment = u32();
      field('value', VT_BYTES[vt], key, { vt });
    }
  }
  const infos: { name: string; ne: number[]; typeId: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = string('tname_len', 'tname', `#${i}`, true);
    fields[fields.length - 1].owner = fields[fields.length - 2].owner = name;
    const nDims = u32();
    field('n_dims', 4, name);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) {
      ne.push(u64());
      field('dim', 8, name, { elem: d });
    }
    const typeId = u32();
    field('tensor_type', 4, name);
    const rel = u64();
    field('tensor_offset', 8, name);
    infos.push({ name, ne, typeId, rel });
  }
  const headerEnd = pos;
  const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
  const tensors = infos.map((t) => {
    const type = ggmlTypeById(t.typeId);
    const [bs, ts] = type ? [type.blockSize, type.typeSize] : [1, 0];
    return { name: t.name, dataAt: dataOffset + t.rel, nBytes: (t.ne.reduce((a, b) => a * b, 1) / bs) * ts, typeId: t.typeId, ne: t.ne };
  });
  return { fields, headerEnd, alignment, dataOffset, tensors };
}

/** Bytes written over the original at `at`. */
export interface Patch {
  at: number;
  bytes: number[];
}

/** A corrupted file: the original with patches applied and, when `cut` is set, only its first `cut` bytes. */
export interface HostileCase {
  name: string;
  patches: Patch[];
  cut?: number;
  /** when the outcome is known: the error code (or 'ok') and a pattern its message must match */
  expect?: { code: string; message?: RegExp };
}

export const u32le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const u64le = (v: number | bigint): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  return [...b];
};

/** The original bytes with the case applied (a copy). */
export function applyCase(bytes: Uint8Array, c: HostileCase): Uint8Array {
  const out = bytes.slice(0, c.cut ?? bytes.length);
  for (const p of c.patches) for (let i = 0; i < p.bytes.length; i++) if (p.at + i < out.length) out[p.at + i] = p.bytes[i];
  return out;
}

/**
 * A ByteSource over `bytes` with `c` applied, without copying the file: reads copy only the range
 * asked for. `bytesRead` counts what the reader asked for.
 */
export class CaseSource implements ByteSource {
  readonly size: number;
  bytesRead = 0;
  constructor(private readonly bytes: Uint8Array, private readonly c: HostileCase, readonly name = c.name) {
    this.size = c.cut ?? bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new LayerstreamError('truncated', `read ${offset}+${length} past ${this.size}`);
    this.bytesRead += length;
    const out = this.bytes.slice(offset, offset + length);
    for (const p of this.c.patches) {
      for (let i = 0; i < p.bytes.length; i++) {
        const at = p.at + i - offset;
        if (at >= 0 && at < length) out[at] = p.bytes[i];
      }
    }
    return out;
  }
  async readInto(offset: number, dest: Uint8Array): Promise<void> {
    dest.set(await this.read(offset, dest.byteLength));
  }
}

/** Seeded PRNG: the sampler's mulberry32 (one implementation for the project). */
import { rng } from '../../src/engine/sampler.ts';
export { rng };

const ALL_VALUE_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xffffffff];
/** ggml type ids: removed from ggml (4, 5, 31–33, 36–38), unknown (43, 255, 2^32−1), and valid ones of other sizes. */
export const HOSTILE_TYPE_IDS = [4, 5, 31, 32, 33, 36, 37, 38, 43, 255, 0xffffffff, 3, 26, 41];

/** The cases derived from one model's header (see the file comment). */
export function hostileCases(bytes: Uint8Array, o: { flips?: number; seed?: number } = {}): HostileCase[] {
  const map = headerFields(bytes);
  const { fields, headerEnd } = map;
  const size = bytes.length;
  const cases: HostileCase[] = [];
  const label = (f: Field) => `${f.kind}${f.elem !== undefined ? `[${f.elem}]` : ''} of ${f.owner} @${f.at}`;

  // truncations at every structural boundary: each field's start and end, the data section, each tensor's data
  const cuts = new Set<number>([0, 1, 3, 4, 7, 8]);
  for (const f of fields) {
    cuts.add(f.at);
    cuts.add(f.at + f.size);
    if (f.size > 1) cuts.add(f.at + f.size - 1);
  }
  cuts.add(headerEnd);
  cuts.add(map.dataOffset);
  map.tensors.forEach((t, i) => {
    if (i < 4 || i === map.tensors.length - 1) {
      cuts.add(t.dataAt);
      cuts.add(t.dataAt + t.nBytes - 1);
    }
  });
  cuts.add(size - 1);
  for (const cut of [...cuts].sort((a, b) => a - b)) if (cut < size) cases.push({ name: `cut at ${cut}`, patches: [], cut });

  // count and length fields: 0, just over the limit, 2^32−1, 2^63, 2^64−1
  for (const f of fields) {
    if (!['tensor_count', 'kv_count', 'key_len', 'array_len', 'str_len', 'tname_len', 'dim', 'tensor_offset'].includes(f.kind)) continue;
    const orig = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(f.at, true));
    const over = f.kind === 'tensor_offset' ? size : f.kind === 'dim' ? orig + 1 : size - f.at; // lengths: one more than the rest of the file
    for (const v of [0, orig + 1, over, 2 ** 32 - 1, 2n ** 63n, 2n ** 64n - 1n]) {
      cases.push({ name: `${label(f)} = ${v}`, patches: [{ at: f.at, bytes: u64le(v) }] });
    }
  }
  // n_dims and value / element types
  for (const f of fields) {
    if (f.kind === 'n_dims') for (const v of [0, 5, 2 ** 32 - 1]) cases.push({ name: `${label(f)} = ${v}`, patches: [{ at: f.at, bytes: u32le(v) }] });
    if (f.kind === 'value_type' || f.kind === 'array_type') {
      for (const v of ALL_VALUE_TYPES) if (v !== f.vt) cases.push({ name: `${label(f)} = ${v}`, patches: [{ at: f.at, bytes: u32le(v) }] });
    }
  }
  // bad UTF-8 in keys, string values, token texts, tensor names: a stray continuation byte, an overlong NUL, a surrogate
  for (const f of fields) {
    if ((f.kind !== 'key' && f.kind !== 'str' && f.kind !== 'tname') || f.size < 3 || (f.elem !== undefined && f.elem > 1)) continue;
    for (const seq of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80]]) cases.push({ name: `bad UTF-8 ${seq.map((b) => b.toString(16)).join(' ')} in ${label(f)}`, patches: [{ at: f.at, bytes: seq }] });
  }
  // tensor types, dims that overflow, offsets beyond the file, misaligned, overlapping
  const tinfo = (name: string, kind: FieldKind, elem?: number) => fields.find((f) => f.owner === name && f.kind === kind && (elem === undefined || f.elem === elem))!;
  const someTensors = [map.tensors[0], map.tensors[1], map.tensors[Math.floor(map.tensors.length / 2)], map.tensors[map.tensors.length - 1]];
  for (const t of someTensors) {
    for (const id of HOSTILE_TYPE_IDS) if (id !== t.typeId) cases.push({ name: `tensor ${t.name} type ${id}`, patches: [{ at: tinfo(t.name, 'tensor_type').at, bytes: u32le(id) }] });
    const off = tinfo(t.name, 'tensor_offset');
    const rel = t.dataAt - map.dataOffset;
    cases.push({ name: `tensor ${t.name} offset to the end of the file`, patches: [{ at: off.at, bytes: u64le(size - map.dataOffset) }], expect: { code: 'truncated', message: /data runs to byte/ } });
    cases.push({ name: `tensor ${t.name} offset misaligned`, patches: [{ at: off.at, bytes: u64le(rel + 1) }], expect: { code: 'malformed', message: /not 32-aligned/ } });
    if (t !== map.tensors[0]) cases.push({ name: `tensor ${t.name} overlaps tensor 0`, patches: [{ at: off.at, bytes: u64le(map.tensors[0].dataAt - map.dataOffset) }], expect: { code: 'malformed', message: /overlap/ } });
    const d0 = tinfo(t.name, 'dim', 0);
    if (t.ne.length >= 2) {
      const d1 = tinfo(t.name, 'dim', 1);
      cases.push({ name: `tensor ${t.name} dims 2^32 x 2^32`, patches: [{ at: d0.at, bytes: u64le(2 ** 32) }, { at: d1.at, bytes: u64le(2 ** 32) }], expect: { code: 'malformed', message: /impossible/ } });
      cases.push({ name: `tensor ${t.name} dims 2^52 x 2^52`, patches: [{ at: d0.at, bytes: u64le(2 ** 52) }, { at: d1.at, bytes: u64le(2 ** 52) }], expect: { code: 'malformed', message: /impossible/ } });
    }
    cases.push({ name: `tensor ${t.name} dim 2^53 + 256`, patches: [{ at: d0.at, bytes: u64le(2n ** 53n + 256n) }], expect: { code: 'malformed' } });
  }

  // seeded random byte flips: half anywhere in the header, half in its numeric fields
  const random = rng(o.seed ?? 1);
  const numeric = fields.filter((f) => f.kind !== 'key' && f.kind !== 'str' && f.kind !== 'tname');
  for (let i = 0; i < (o.flips ?? 200); i++) {
    const patches: Patch[] = [];
    const n = 1 + Math.floor(random() * 4);
    for (let j = 0; j < n; j++) {
      let at: number;
      if (random() < 0.5) at = Math.floor(random() * headerEnd);
      else {
        const f = numeric[Math.floor(random() * numeric.length)];
        at = f.at + Math.floor(random() * f.size);
      }
      patches.push({ at, bytes: [bytes[at] ^ (1 << Math.floor(random() * 8))] });
    }
    cases.push({ name: `random flips #${i} (seed ${o.seed ?? 1}) at ${patches.map((p) => p.at).join(',')}`, patches });
  }
  return cases;
}

/** A patch that sets the u32 value of metadata key `key` (which must be a u32) to `v`. */
export function setU32(map: HeaderMap, key: string, v: number): Patch {
  const f = map.fields.find((x) => x.owner === key && x.kind === 'value');
  if (!f || f.vt !== 4) throw new Error(`${key} is not a u32 in this file`);
  return { at: f.at, bytes: u32le(v) };
}
