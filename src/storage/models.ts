import { sha256 } from '@noble/hashes/sha2.js';
import type { CachedModel } from '../api.ts';
import { LayerstreamError } from '../errors.ts';
import { splitPartUrls } from '../gguf/split.ts';
import { HttpRangeSource } from './byte-source.ts';
import { CachedFile, CHUNK_BYTES, deleteCachedFile } from './cached-file.ts';
import { allRecords, doneBytes, getRecord, idForFile, idForUrl, putRecord, withFileLock, type FileRecord } from './manifest.ts';

/**
 * The model manager behind listModels / downloadModel / importModel / deleteModel. Runs in a worker
 * (sync OPFS handles). A model is one file, or the parts of a split GGUF grouped under the id of
 * part 1.
 */

/** What a download will need: the parts' URLs and sizes, and the bytes already stored. */
export interface DownloadPlan {
  id: string;
  urls: string[];
  totalBytes: number;
  storedBytes: number;
}

/**
 * Sizes every part not stored yet (a one-byte Range request each; a server without Range support by
 * the Content-Length of a GET whose body is cancelled). Throws LayerstreamError('fetch_failed').
 */
export async function planDownload(url: string, signal?: AbortSignal): Promise<DownloadPlan> {
  const urls = splitPartUrls(url) ?? [url];
  let totalBytes = 0;
  let storedBytes = 0;
  for (const u of urls) {
    const rec = await getRecord(idForUrl(u));
    if (rec?.complete) {
      totalBytes += rec.size;
      storedBytes += rec.size;
      continue;
    }
    totalBytes += await remoteSize(u, signal);
    if (rec) storedBytes += doneBytes(rec);
  }
  return { id: idForUrl(urls[0]), urls, totalBytes, storedBytes };
}

async function remoteSize(url: string, signal?: AbortSignal): Promise<number> {
  try {
    return (await HttpRangeSource.open(url, signal, 1)).size;
  } catch (e) {
    if ((e as LayerstreamError).code !== 'no_range_support') throw e;
    const res = await fetch(url, { signal });
    await res.body?.cancel().catch(() => {});
    const n = Number(res.headers.get('Content-Length'));
    if (!(n > 0)) throw new LayerstreamError('fetch_failed', `server reports no size for ${url}`);
    return n;
  }
}

/**
 * Downloads every missing chunk of every part (parallel Range requests, `concurrency` at a time),
 * resuming from what is stored. Falls back to one streamed GET per part when the server ignores
 * Range. onBytes(n) is called as bytes are stored. With `expectSha256` the whole model is hashed at
 * the end; a mismatch deletes it. Aborting keeps completed chunks.
 * Throws LayerstreamError: fetch_failed, integrity, quota_exceeded, aborted.
 */
export async function downloadParts(plan: DownloadPlan, o: { signal?: AbortSignal; onBytes?: (n: number) => void; expectSha256?: string; concurrency?: number }): Promise<CachedModel> {
  for (let i = 0; i < plan.urls.length; i++) {
    const url = plan.urls[i];
    const meta = { group: plan.id, part: i, parts: plan.urls.length };
    let file: CachedFile;
    try {
      file = await CachedFile.open(url, { ...meta, signal: o.signal });
    } catch (e) {
      if ((e as LayerstreamError).code !== 'no_range_support') throw e;
      await streamWhole(url, meta, o);
      continue;
    }
    try {
      await fillChunks(file, o);
    } catch (e) {
      // the file changed on the server mid-way: its stored chunks are stale, start it over once
      if ((e as LayerstreamError).code !== 'integrity') throw e;
      file.close();
      await deleteCachedFile(file.record.id);
      file = await CachedFile.open(url, { ...meta, signal: o.signal });
      await fillChunks(file, o);
    } finally {
      file.close();
    }
  }
  if (o.expectSha256) await verifySha256(plan, o.expectSha256.toLowerCase());
  return (await listModels()).find((m) => m.id === plan.id)!;
}

async function fillChunks(file: CachedFile, o: { signal?: AbortSignal; onBytes?: (n: number) => void; concurrency?: number }): Promise<void> {
  const todo = file.missingChunks();
  let failure: unknown = null;
  // After a failure no new chunk starts, but the ones in flight finish: everything that arrives is kept.
  const worker = async () => {
    for (let c = todo.shift(); c !== undefined && !failure; c = todo.shift()) {
      if (o.signal?.aborted) throw new LayerstreamError('aborted', `download of ${file.name} aborted`);
      try {
        await file.ensureChunk(c, o.signal);
        o.onBytes?.(file.chunkLength(c));
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  if (failure) throw failure;
}

/** One GET written in order (servers without Range): not resumable, never held in memory. */
async function streamWhole(url: string, meta: { group: string; part: number; parts: number }, o: { signal?: AbortSignal; onBytes?: (n: number) => void }): Promise<void> {
  const res = await fetch(url, { signal: o.signal }).catch((e) => {
    throw new LayerstreamError(o.signal?.aborted ? 'aborted' : 'fetch_failed', `could not fetch ${url}: ${(e as Error).message}`);
  });
  if (!res.ok || !res.body) throw new LayerstreamError('fetch_failed', `HTTP ${res.status} for ${url}`);
  const size = Number(res.headers.get('Content-Length'));
  const id = idForUrl(url);
  const file = await CachedFile.create({ id, url, name: decodeURIComponent(new URL(url).pathname.split('/').pop() || url), size, etag: res.headers.get('ETag'), lastModified: res.headers.get('Last-Modified'), ...meta });
  let at = 0;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch((e) => {
        throw new LayerstreamError(o.signal?.aborted ? 'aborted' : 'fetch_failed', `connection lost while reading ${url}: ${(e as Error).message}`);
      });
      if (done) break;
      await file.writeSequential(at, value);
      at += value.byteLength;
      o.onBytes?.(value.byteLength);
    }
    if (at !== size) throw new LayerstreamError('integrity', `${url}: got ${at} bytes, Content-Length said ${size}`);
  } finally {
    file.close();
  }
}

/**
 * Imports a local file into OPFS by streaming it (Blob.stream(): never read whole into memory).
 * Throws LayerstreamError: quota_exceeded, aborted.
 */
export async function importBlob(blob: Blob, name: string, o: { signal?: AbortSignal; onBytes?: (n: number) => void }): Promise<CachedModel> {
  const id = idForFile(name, blob.size);
  const file = await CachedFile.create({ id, url: null, name, size: blob.size, etag: null, lastModified: null, group: id, part: 0, parts: 1 });
  let at = 0;
  try {
    const reader = blob.stream().getReader();
    for (;;) {
      if (o.signal?.aborted) throw new LayerstreamError('aborted', `import of ${name} aborted`);
      const { done, value } = await reader.read();
      if (done) break;
      await file.writeSequential(at, value);
      at += value.byteLength;
      o.onBytes?.(value.byteLength);
    }
  } catch (e) {
    file.close();
    await deleteCachedFile(id);
    throw e;
  }
  file.close();
  return (await listModels()).find((m) => m.id === id)!;
}

async function verifySha256(plan: DownloadPlan, want: string): Promise<void> {
  const h = sha256.create();
  for (const url of plan.urls) {
    const file = await CachedFile.open(url);
    try {
      for (let at = 0; at < file.size; at += CHUNK_BYTES) h.update(await file.read(at, Math.min(CHUNK_BYTES, file.size - at)));
    } finally {
      file.close();
    }
  }
  const got = Array.from(h.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
  if (got !== want) {
    await deleteModel(plan.id);
    throw new LayerstreamError('integrity', `sha256 mismatch for ${plan.urls[0]}: expected ${want}, got ${got}; the download was deleted`);
  }
  for (const url of plan.urls) {
    const id = idForUrl(url);
    await withFileLock(id, async () => {
      const r = await getRecord(id);
      if (r) await putRecord({ ...r, sha256: got });
    });
  }
}

/** Cached models (complete or partial), most recently used first. */
export async function listModels(): Promise<CachedModel[]> {
  const groups = new Map<string, FileRecord[]>();
  for (const r of await allRecords()) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  const out: CachedModel[] = [];
  for (const [id, recs] of groups) {
    recs.sort((a, b) => a.part - b.part);
    const first = recs[0];
    out.push({
      id,
      url: first.url,
      name: first.name,
      sizeBytes: recs.reduce((s, r) => s + r.size, 0),
      downloadedBytes: recs.reduce((s, r) => s + doneBytes(r), 0),
      complete: recs.length === first.parts && recs.every((r) => r.complete),
      parts: first.parts,
      etag: first.etag,
      lastModified: first.lastModified,
      sha256: first.sha256,
      createdAt: Math.min(...recs.map((r) => r.createdAt)),
      lastUsed: Math.max(...recs.map((r) => r.lastUsed)),
    });
  }
  return out.sort((a, b) => b.lastUsed - a.lastUsed);
}

/** Deletes a cached model (all parts). Throws LayerstreamError('not_found'). */
export async function deleteModel(id: string): Promise<void> {
  const recs = (await allRecords()).filter((r) => r.group === id);
  if (!recs.length) throw new LayerstreamError('not_found', `no cached model with id ${id}`);
  for (const r of recs) await deleteCachedFile(r.id);
}
