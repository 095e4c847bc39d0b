import { LayerstreamError } from '../errors.ts';
import { checkRange, HttpRangeSource, readFresh, type ByteSource } from './byte-source.ts';
import { deleteRecord, doneBytes, getRecord, idForUrl, markChunkDone, putRecord, withFileLock, type FileRecord } from './manifest.ts';
import { fileHolds, openSyncFile, quotaExceeded, removeFile, storageError } from './opfs.ts';

/** Bytes per chunk: the unit of download, resume and bookkeeping. */
export const CHUNK_BYTES = 4 << 20;

/**
 * A model file in OPFS, filled chunk by chunk from its server on demand. Reads of complete chunks
 * come from disk; a missing chunk is fetched whole with one Range request, written at its offset,
 * flushed, and only then marked done — so a crash never leaves a chunk marked that was not stored,
 * and every later session resumes from the chunks already there. Worker only (sync OPFS handles).
 */
export class CachedFile implements ByteSource {
  readonly name: string;
  readonly size: number;
  private inflight = new Map<number, Promise<void>>();
  private spare: Uint8Array[] = [];

  private constructor(
    private rec: FileRecord,
    private handle: FileSystemSyncAccessHandle,
    private readonly remote: HttpRangeSource | null,
  ) {
    this.name = rec.url ?? rec.name;
    this.size = rec.size;
  }

  get record(): FileRecord {
    return this.rec;
  }

  /**
   * The cached copy of `url`: a complete one is used without touching the network; otherwise the
   * server is asked (one Range request) and a copy whose size or validators (ETag, Last-Modified)
   * no longer match is discarded, never mixed with new bytes.
   * Throws LayerstreamError: fetch_failed, no_range_support (from HttpRangeSource.open).
   */
  static async open(url: string, o: { remote?: HttpRangeSource; group?: string; part?: number; parts?: number; signal?: AbortSignal } = {}): Promise<CachedFile> {
    const id = idForUrl(url);
    const existing = await getRecord(id);
    if (existing?.complete) return CachedFile.fromRecord(existing, null);
    const remote = o.remote ?? (await HttpRangeSource.open(url, o.signal));
    const rec = await withFileLock(id, async () => {
      let r = await getRecord(id);
      const changed = r && (r.size !== remote.size || differs(r.etag, remote.etag) || (!r.etag && differs(r.lastModified, remote.lastModified)));
      if (r && changed) {
        await removeFile(fileName(id));
        await deleteRecord(id);
        r = undefined;
      }
      if (!r) {
        const now = Date.now();
        r = {
          id, url, name: decodeURIComponent(new URL(url).pathname.split('/').pop() || url), size: remote.size,
          etag: remote.etag, lastModified: remote.lastModified, chunkSize: CHUNK_BYTES,
          done: new Uint8Array(Math.ceil(remote.size / CHUNK_BYTES)), complete: remote.size === 0, sha256: null,
          group: o.group ?? id, part: o.part ?? 0, parts: o.parts ?? 1, createdAt: now, lastUsed: now,
        };
        await putRecord(r);
      }
      return r;
    });
    return CachedFile.fromRecord(rec, remote);
  }

  /** A cached file by id; it must be complete (imported files have no server to fill from). */
  static async openById(id: string): Promise<CachedFile> {
    const r = await getRecord(id);
    if (!r) throw new LayerstreamError('not_found', `no cached model with id ${id}`);
    if (!r.complete) throw new LayerstreamError('not_found', `cached model ${r.name} is incomplete: download it again to resume`);
    return CachedFile.fromRecord(r, null);
  }

  private static async fromRecord(r: FileRecord, remote: HttpRangeSource | null): Promise<CachedFile> {
    const handle = await openSyncFile(fileName(r.id));
    if (r.complete) {
      r.lastUsed = Date.now();
      await withFileLock(r.id, async () => {
        const fresh = await getRecord(r.id);
        if (fresh) await putRecord({ ...fresh, lastUsed: r.lastUsed });
      });
    }
    return new CachedFile(r, handle, remote);
  }

  /** Indices of chunks not stored yet. */
  missingChunks(): number[] {
    const out: number[] = [];
    this.rec.done.forEach((d, i) => d || out.push(i));
    return out;
  }

  chunkLength(c: number): number {
    return Math.min(this.rec.chunkSize, this.size - c * this.rec.chunkSize);
  }

  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    return readFresh(this, offset, length, signal);
  }

  /** Fetches the chunks the range needs (if any are missing), then reads them from OPFS into `dest`. */
  async readInto(offset: number, dest: Uint8Array, signal?: AbortSignal): Promise<void> {
    const length = dest.byteLength;
    checkRange(this, offset, length);
    if (length === 0) return;
    const cs = this.rec.chunkSize;
    const chunks: Promise<void>[] = [];
    for (let c = Math.floor(offset / cs); c <= Math.floor((offset + length - 1) / cs); c++) chunks.push(this.ensureChunk(c, signal));
    await Promise.all(chunks);
    const failure = this.readStored(offset, dest);
    if (!failure) return;
    // The copy this handle reads may be gone (site data cleared, eviction) or stored anew since (a
    // new download of the same file): reopen on the current copy and read once more, else say it is lost.
    if (!(await this.reopen())) throw this.lost();
    if (this.readStored(offset, dest)) throw failure;
  }

  /** Reads stored bytes into dest; the failure (an exception, or a short read), or null. */
  private readStored(offset: number, dest: Uint8Array): unknown {
    try {
      const n = this.handle.read(dest, { at: offset });
      return n === dest.byteLength ? null : new LayerstreamError('integrity', `OPFS copy of ${this.name} is short: read ${n} of ${dest.byteLength} bytes at ${offset}`);
    } catch (e) {
      return e;
    }
  }

  /**
   * After a failed read: whether the stored copy is there (its manifest record, and an OPFS file
   * holding every chunk the record says is stored) — then the handle is opened on it afresh.
   */
  private async reopen(): Promise<boolean> {
    const rec = await getRecord(this.rec.id).catch(() => undefined);
    if (!rec || rec.size !== this.size || !(await fileHolds(fileName(rec.id), doneEnd(rec)))) return false;
    try {
      this.handle.close();
    } catch {
      // a handle on a removed file may refuse even that
    }
    this.handle = await openSyncFile(fileName(rec.id));
    this.rec = rec;
    return true;
  }

  private lost(): LayerstreamError {
    const from = this.rec.url ? ` (from ${this.rec.url})` : '';
    return new LayerstreamError(
      'storage_lost',
      `the browser's stored copy of ${this.rec.name}${from} is gone — the site's data was cleared or the browser evicted it under storage pressure: download it again`,
    );
  }

  /** Makes chunk c present (fetching it if needed); concurrent callers share one fetch. */
  ensureChunk(c: number, signal?: AbortSignal): Promise<void> {
    if (this.rec.done[c]) return Promise.resolve();
    let p = this.inflight.get(c);
    if (!p) {
      p = this.fill(c, signal).finally(() => this.inflight.delete(c));
      this.inflight.set(c, p);
    }
    return p;
  }

  private async fill(c: number, signal?: AbortSignal): Promise<void> {
    const fresh = await getRecord(this.rec.id); // another worker may have stored it meanwhile
    if (!fresh) throw this.lost();
    if (fresh.done[c]) {
      this.rec = fresh;
      return;
    }
    if (!this.remote) throw new LayerstreamError('not_found', `chunk ${c} of ${this.name} is missing and there is no server to fetch it from`);
    const start = c * this.rec.chunkSize;
    // chunk buffers are reused: the first pass over a model fetches every chunk once
    const buf = this.spare.pop() ?? new Uint8Array(this.rec.chunkSize);
    try {
      const bytes = buf.subarray(0, this.chunkLength(c));
      await this.remote.readInto(start, bytes, signal);
      await this.write(bytes, start);
    } finally {
      if (this.spare.length < 4) this.spare.push(buf);
    }
    this.rec = (await markChunkDone(this.rec.id, c)) ?? this.rec;
  }

  /**
   * Writes bytes at `offset` (and flushes them, unless `flush` is false). A refused write —
   * QuotaExceededError, or a short count (Chromium's sync handle returns one instead of throwing
   * when the quota is exceeded) — is LayerstreamError('quota_exceeded') with the numbers, or
   * 'storage_lost' when the stored copy was removed meanwhile; nothing is marked stored.
   */
  private async write(bytes: Uint8Array, offset: number, flush = true): Promise<void> {
    let short: string | null = null;
    try {
      const n = this.handle.write(bytes, { at: offset });
      if (flush) this.handle.flush();
      if (n !== bytes.byteLength) short = `wrote ${n} of ${bytes.byteLength} bytes at ${offset}`;
    } catch (e) {
      if ((e as DOMException)?.name === 'QuotaExceededError') throw await quotaExceeded(this.rec.name, this.size - doneBytes(this.rec), e);
      storageError(e, this.name);
    }
    if (short && !(await getRecord(this.rec.id).catch(() => undefined))) throw this.lost(); // the copy was removed meanwhile
    if (short) throw await quotaExceeded(this.rec.name, this.size - doneBytes(this.rec), new Error(`OPFS ${short}`));
  }

  /** Writes bytes that arrive in order (import, servers without Range); marks chunks done as they fill. */
  async writeSequential(offset: number, bytes: Uint8Array): Promise<void> {
    await this.write(bytes, offset, false); // flushed as each chunk completes
    const cs = this.rec.chunkSize;
    const end = offset + bytes.byteLength;
    for (let c = Math.floor(offset / cs); c * cs < end; c++) {
      if (Math.min((c + 1) * cs, this.size) <= end && !this.rec.done[c]) {
        this.handle.flush();
        this.rec = (await markChunkDone(this.rec.id, c)) ?? this.rec;
      }
    }
  }

  /** Creates an empty cached file (imports, non-Range servers) that writeSequential fills. */
  static async create(r: Omit<FileRecord, 'done' | 'complete' | 'chunkSize' | 'createdAt' | 'lastUsed' | 'sha256'>): Promise<CachedFile> {
    await removeFile(fileName(r.id));
    const now = Date.now();
    const rec: FileRecord = { ...r, chunkSize: CHUNK_BYTES, done: new Uint8Array(Math.ceil(r.size / CHUNK_BYTES)), complete: r.size === 0, sha256: null, createdAt: now, lastUsed: now };
    await putRecord(rec);
    return new CachedFile(rec, await openSyncFile(fileName(r.id)), null);
  }

  close(): void {
    this.handle.close();
  }
}

export const fileName = (id: string) => `${id}.gguf`;

/** End of the last stored chunk: the least the OPFS file must hold. */
function doneEnd(r: FileRecord): number {
  for (let c = r.done.length - 1; c >= 0; c--) if (r.done[c]) return Math.min(r.size, (c + 1) * r.chunkSize);
  return 0;
}

const differs = (a: string | null, b: string | null) => !!a && !!b && a !== b;

/** Deletes a cached file and its record. */
export async function deleteCachedFile(id: string): Promise<void> {
  await withFileLock(id, async () => {
    await removeFile(fileName(id));
    await deleteRecord(id);
  });
}
