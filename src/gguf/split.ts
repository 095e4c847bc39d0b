import { LayerstreamError } from '../errors.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import { ConcatSource } from '../storage/concat-source.ts';
import { readGGUF, type GGUFFile, type GGUFTensorInfo, type GGUFValue } from './gguf.ts';

/**
 * Split GGUF models, as written by llama.cpp's gguf-split (examples/gguf-split/gguf-split.cpp,
 * now tools/gguf-split) and read by llama.cpp's src/llama-model-loader.cpp:
 *
 * - a model is written as M complete GGUF files named `<prefix>-NNNNN-of-MMMMM.gguf`
 *   (`llama_split_path`: `"%s-%05d-of-%05d.gguf"`, N counted from 1);
 * - every part carries `split.no` (u16, 0-based index of the part), `split.count` (u16, M) and
 *   `split.tensors.count` (i32, the model's total tensor count) (`LLM_KV_SPLIT_*`);
 * - the first part carries all other metadata as well; later parts carry only the split keys;
 * - the tensors are divided among the parts in file order; each part's tensor offsets are relative
 *   to that part's own data section.
 */

/** Metadata keys of split GGUFs (llama.cpp llama-arch.cpp `LLM_KV_SPLIT_NO`, `_COUNT`, `_TENSORS_COUNT`). */
export const SPLIT_NO = 'split.no';
export const SPLIT_COUNT = 'split.count';
export const SPLIT_TENSORS_COUNT = 'split.tensors.count';

/** llama.cpp `llama_split_path`'s `%05d`: at least five digits, zero-padded. */
const pad5 = (n: number): string => String(n).padStart(5, '0');

/**
 * The URLs (or file names) of all parts of a split GGUF, given any one of them.
 *
 * `url` is a URL or file name whose path ends in `-NNNNN-of-MMMMM.gguf` (llama.cpp gguf-split.cpp
 * naming, `llama_split_path`: `"%s-%05d-of-%05d.gguf"`, part numbers 1-based, zero-padded to at
 * least 5 digits, with a non-empty prefix). Returns the M names `<prefix>-00001-of-MMMMM.gguf` …
 * `<prefix>-MMMMM-of-MMMMM.gguf` in order, each keeping `url`'s query string and fragment.
 * Returns null for any other name, and where the numbers are not what `%05d` writes or are
 * impossible (M < 1, N < 1 or N > M).
 */
export function splitPartUrls(url: string): string[] | null {
  const cut = url.search(/[?#]/);
  const path = cut < 0 ? url : url.slice(0, cut);
  const tail = cut < 0 ? '' : url.slice(cut);
  const m = /^(.+)-(\d{5,})-of-(\d{5,})\.gguf$/.exec(path);
  if (!m) return null;
  const [, prefix, nStr, mStr] = m;
  const n = Number(nStr);
  const count = Number(mStr);
  if (pad5(n) !== nStr || pad5(count) !== mStr) return null; // e.g. "000001": not what llama.cpp writes
  if (!(count >= 1) || !(n >= 1) || n > count) return null;
  const out: string[] = [];
  for (let i = 1; i <= count; i++) out.push(`${prefix}-${pad5(i)}-of-${pad5(count)}.gguf${tail}`);
  return out;
}

function intValue(v: GGUFValue | undefined): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/**
 * Reads a split GGUF model (llama.cpp gguf-split.cpp format; the checks are llama-model-loader.cpp's)
 * as one file.
 *
 * `parts` are the model's files in order (part 1 first; see `splitPartUrls`). Reads each part's
 * header (only the header bytes) and checks that every part's `split.no` is its 0-based index, that
 * `split.count` equals the number of parts, that no tensor name occurs twice, and that the first
 * part's `split.tensors.count` equals the number of tensors found in all parts.
 *
 * Returns `source`, a ConcatSource over the parts (`size` = the sum of the part sizes in bytes), and
 * `gguf`, ONE GGUFFile describing it: the first part's metadata (split.* keys included), version,
 * `dataOffset`, `headerBytes` and `alignment`; all parts' tensors in order, each `offset` shifted by
 * its part's start so it is an absolute byte offset in `source`; `fileSize` = `source.size`.
 * Read tensor data through `source`, never through a single part.
 *
 * A single part without split keys (an ordinary GGUF) passes through: `source` is that part and
 * `gguf` its header. Throws LayerstreamError: 'malformed' naming the problem and the part (e.g.
 * "split GGUF: part 2 of 3 (name) says split.no = 0"), and whatever readGGUF throws for a part
 * ('not_gguf', 'truncated', 'malformed', 'fetch_failed', 'aborted').
 */
export async function readSplitGGUF(parts: ByteSource[], signal?: AbortSignal): Promise<{ source: ByteSource; gguf: GGUFFile }> {
  const n = parts.length;
  if (n === 0) throw new LayerstreamError('malformed', 'split GGUF: no parts given');
  const headers = await Promise.all(parts.map((p) => readGGUF(p, signal)));
  const first = headers[0];
  const hasSplitKeys = first.metadata.has(SPLIT_COUNT) || first.metadata.has(SPLIT_NO);
  if (n === 1 && !hasSplitKeys) return { source: parts[0], gguf: first };

  const part = (k: number) => `part ${k + 1} of ${n} (${parts[k].name})`;
  const count = intValue(first.metadata.get(SPLIT_COUNT));
  if (count === undefined) {
    throw new LayerstreamError('malformed', `split GGUF: ${part(0)} has no ${SPLIT_COUNT}, so it is not the first part of a split model`);
  }
  if (count !== n) {
    const given = new Set(headers.map((h) => intValue(h.metadata.get(SPLIT_NO))));
    const missing: number[] = [];
    for (let i = 0; i < count && missing.length <= 5; i++) if (!given.has(i)) missing.push(i + 1);
    const list = missing.slice(0, 5).map((i) => `part ${i} of ${count}`).join(', ') + (missing.length > 5 ? ', ...' : '');
    throw new LayerstreamError(
      'malformed',
      `split GGUF: ${part(0)} says ${SPLIT_COUNT} = ${count}, but ${n} part${n === 1 ? ' was' : 's were'} given` +
        (missing.length > 0 ? `; missing ${list}` : ''),
    );
  }
  headers.forEach((h, k) => {
    const no = intValue(h.metadata.get(SPLIT_NO));
    if (no === undefined) throw new LayerstreamError('malformed', `split GGUF: ${part(k)} has no ${SPLIT_NO}`);
    if (no !== k) throw new LayerstreamError('malformed', `split GGUF: ${part(k)} says ${SPLIT_NO} = ${no}, expected ${k}`);
    const c = intValue(h.metadata.get(SPLIT_COUNT));
    if (c !== undefined && c !== n) throw new LayerstreamError('malformed', `split GGUF: ${part(k)} says ${SPLIT_COUNT} = ${c}, but part 1 says ${n}`);
  });

  const source = n === 1 ? parts[0] : new ConcatSource(parts);
  const tensors: GGUFTensorInfo[] = [];
  const tensorByName = new Map<string, GGUFTensorInfo>();
  const partOf = new Map<string, number>();
  let start = 0;
  headers.forEach((h, k) => {
    for (const t of h.tensors) {
      const prev = partOf.get(t.name);
      if (prev !== undefined) {
        throw new LayerstreamError('malformed', `split GGUF: tensor ${t.name} is in ${part(prev)} and again in ${part(k)}`);
      }
      const shifted: GGUFTensorInfo = { ...t, offset: t.offset + start };
      tensors.push(shifted);
      tensorByName.set(t.name, shifted);
      partOf.set(t.name, k);
    }
    start += parts[k].size;
  });
  const expected = intValue(first.metadata.get(SPLIT_TENSORS_COUNT));
  if (expected === undefined) throw new LayerstreamError('malformed', `split GGUF: ${part(0)} has no ${SPLIT_TENSORS_COUNT}`);
  if (expected !== tensors.length) {
    throw new LayerstreamError('malformed', `split GGUF: ${part(0)} says ${SPLIT_TENSORS_COUNT} = ${expected}, but the ${n} parts hold ${tensors.length} tensors`);
  }
  const gguf: GGUFFile = {
    version: first.version,
    metadata: first.metadata,
    tensors,
    tensorByName,
    dataOffset: first.dataOffset,
    alignment: first.alignment,
    fileSize: source.size,
    headerBytes: first.headerBytes,
  };
  return { source, gguf };
}
