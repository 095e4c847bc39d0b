import { LayerstreamError } from '../errors.ts';
import { readFresh, type ByteSource } from './byte-source.ts';

/**
 * The byte-wise concatenation of several ByteSources, read as one file: byte `i` of the
 * concatenation is byte `i - start(k)` of part `k`, where `start(k)` is the sum of the sizes of the
 * parts before it. Used for split GGUF models (llama.cpp gguf-split.cpp writes a model as several
 * complete GGUF files; see src/gguf/split.ts), whose tensor offsets are then shifted into this
 * concatenated address space. Reads may span part boundaries; each part is only asked for the bytes
 * that lie in it, so nothing is read twice and no part is read whole.
 *
 * All offsets and sizes are in bytes.
 */
export class ConcatSource implements ByteSource {
  /** The first part's name (a split model is named by its first file). */
  readonly name: string;
  /** Total size in bytes: the sum of the parts' sizes. */
  readonly size: number;
  /** Byte offset of each part's first byte in the concatenation (`starts[0] = 0`). */
  readonly starts: readonly number[];

  /** Throws LayerstreamError('malformed') if `parts` is empty. */
  constructor(readonly parts: readonly ByteSource[]) {
    if (parts.length === 0) throw new LayerstreamError('malformed', 'ConcatSource: no parts to concatenate');
    this.name = parts[0].name;
    const starts: number[] = [];
    let at = 0;
    for (const p of parts) {
      starts.push(at);
      at += p.size;
    }
    this.starts = starts;
    this.size = at;
  }

  /** Closes every part that has file handles to release (ByteSource.close); errors of one part do not stop the others. */
  close(): void {
    let first: unknown;
    for (const p of this.parts) {
      try {
        p.close?.();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  /** Index of the part that holds byte `offset` (0 ≤ offset < size); empty parts are skipped. */
  partAt(offset: number): number {
    let lo = 0;
    let hi = this.parts.length - 1;
    // last part whose start ≤ offset (binary search); an empty part shares its start with the next
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Reads bytes [offset, offset + length) of the concatenation. Throws LayerstreamError('truncated')
   * if that runs past the end (of the last part); errors of the parts' reads ('fetch_failed',
   * 'aborted', ...) pass through.
   */
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const pieces = this.piecesOf(offset, length);
    if (pieces.length === 1) return this.parts[pieces[0].k].read(pieces[0].at, pieces[0].len, signal);
    return readFresh(this, offset, length, signal);
  }

  /** Fills `dest` from the parts that hold [offset, offset + dest.byteLength); errors as read. */
  async readInto(offset: number, dest: Uint8Array, signal?: AbortSignal): Promise<void> {
    const pieces = this.piecesOf(offset, dest.byteLength);
    await Promise.all(pieces.map((p) => this.parts[p.k].readInto(p.at, dest.subarray(p.dst, p.dst + p.len), signal)));
  }

  /** The parts' byte ranges that make up [offset, offset + length): part k, its offset, length, and where they go. */
  private piecesOf(offset: number, length: number): { k: number; at: number; len: number; dst: number }[] {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new LayerstreamError(
        'truncated',
        `read past end of ${this.name}: bytes ${offset}..${offset + length} of ${this.parts.length} parts totalling ${this.size} bytes (truncated file?)`,
      );
    }
    const pieces: { k: number; at: number; len: number; dst: number }[] = [];
    if (length === 0) return pieces;
    let k = this.partAt(offset);
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const partEnd = this.starts[k] + this.parts[k].size;
      const len = Math.min(end, partEnd) - pos;
      if (len > 0) pieces.push({ k, at: pos - this.starts[k], len, dst: pos - offset });
      pos += len;
      k++;
    }
    return pieces;
  }
}
