import { createStore, del, get, set, values, type UseStore } from 'idb-keyval';

/**
 * The small manifest of cached model files, in IndexedDB (idb-keyval): one record per file (a split
 * model has one per part, grouped by the first part's id). A chunk is marked done only after its
 * bytes are written and flushed, so the record never claims bytes the file does not hold.
 * Read-modify-write goes through a Web Lock per file, because the engine worker and the storage
 * worker may both fill chunks of the same file.
 */
export interface FileRecord {
  id: string;
  /** source URL; null for an imported local file */
  url: string | null;
  name: string;
  size: number;
  etag: string | null;
  lastModified: string | null;
  /** bytes per chunk, and one flag per chunk (1 = written and flushed) */
  chunkSize: number;
  done: Uint8Array;
  complete: boolean;
  sha256: string | null;
  /** split GGUF: id of part 1, this file's index, and the number of parts */
  group: string;
  part: number;
  parts: number;
  createdAt: number;
  lastUsed: number;
}

let store: UseStore | null = null;
const db = () => (store ??= createStore('layerstream', 'files'));

export const getRecord = (id: string): Promise<FileRecord | undefined> => get(id, db());
export const putRecord = (r: FileRecord): Promise<void> => set(r.id, r, db());
export const deleteRecord = (id: string): Promise<void> => del(id, db());
export const allRecords = (): Promise<FileRecord[]> => values(db());

/** Runs `fn` holding this file's manifest lock (Web Locks API; falls back to no lock where absent). */
export async function withFileLock<R>(id: string, fn: () => Promise<R>): Promise<R> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return fn();
  return locks.request(`layerstream-file-${id}`, fn) as Promise<R>;
}

/** Marks chunk `c` of file `id` done; returns the updated record. */
export function markChunkDone(id: string, c: number): Promise<FileRecord | undefined> {
  return withFileLock(id, async () => {
    const r = await getRecord(id);
    if (!r || r.done[c]) return r;
    r.done[c] = 1;
    r.complete = r.done.every((d) => d === 1);
    await putRecord(r);
    return r;
  });
}

export function doneBytes(r: FileRecord): number {
  let n = 0;
  for (let c = 0; c < r.done.length; c++) if (r.done[c]) n += Math.min(r.chunkSize, r.size - c * r.chunkSize);
  return n;
}

/** Stable id for a URL: hex of a 64-bit FNV-1a hash of the URL without its fragment. */
export function idForUrl(url: string): string {
  return 'u' + fnv64(url.split('#')[0]);
}

/** Stable id for an imported file: from its name and size. */
export function idForFile(name: string, size: number): string {
  return 'f' + fnv64(`${name}\u0000${size}`);
}

function fnv64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}
