import { LayerstreamError } from '../errors.ts';
import { readGGUF, type GGUFFile } from '../gguf/gguf.ts';
import { readSplitGGUF, splitPartUrls } from '../gguf/split.ts';
import { BlobSource, HttpRangeSource, type ByteSource } from './byte-source.ts';
import { CachedFile } from './cached-file.ts';
import { getRecord, idForUrl } from './manifest.ts';
import { CACHE_SCHEME } from './scheme.ts';


export interface OpenedModel {
  source: ByteSource;
  gguf: GGUFFile;
}

/**
 * Opens a model for the engine (worker only): a URL through the OPFS cache (from disk when it is
 * complete, else from the server with every chunk read kept on disk, when storage allows), all
 * parts of a split GGUF as one model, an `opfs:<id>` cached model, or a Blob read by slices.
 * Throws LayerstreamError (fetch_failed, no_range_support, not_gguf, truncated, malformed, not_found).
 */
export async function openModel(model: string | Blob, signal?: AbortSignal): Promise<OpenedModel> {
  if (typeof Blob !== 'undefined' && model instanceof Blob) {
    const source = new BlobSource(model);
    return { source, gguf: await readGGUF(source, signal) };
  }
  const s = String(model);
  if (s.startsWith(CACHE_SCHEME)) {
    const source = await CachedFile.openById(s.slice(CACHE_SCHEME.length));
    return withClose(source, () => readGGUF(source, signal));
  }
  const urls = splitPartUrls(s) ?? [s];
  const parts = await Promise.all(urls.map((u, i) => openCached(u, { group: idForUrl(urls[0]), part: i, parts: urls.length }, signal)));
  if (parts.length === 1) return withClose(parts[0], () => readGGUF(parts[0], signal));
  try {
    return await readSplitGGUF(parts, signal);
  } catch (e) {
    for (const p of parts) p.close?.();
    throw e;
  }
}

async function withClose(source: ByteSource, read: () => Promise<GGUFFile>): Promise<OpenedModel> {
  try {
    return { source, gguf: await read() };
  } catch (e) {
    source.close?.();
    throw e;
  }
}

/** The cached copy of url, or the plain HTTP source when OPFS is missing or too full to hold it. */
async function openCached(url: string, meta: { group: string; part: number; parts: number }, signal?: AbortSignal): Promise<ByteSource> {
  const rec = await getRecord(idForUrl(url)).catch(() => undefined);
  if (rec?.complete) return CachedFile.open(url, meta);
  const remote = await HttpRangeSource.open(url, signal);
  if (!(await fitsInStorage(remote.size))) return remote;
  try {
    return await CachedFile.open(url, { ...meta, remote, signal });
  } catch (e) {
    if (e instanceof LayerstreamError) throw e;
    console.warn(`layerstream: not caching ${url} (${(e as Error).message})`);
    return remote;
  }
}

async function fitsInStorage(bytes: number): Promise<boolean> {
  try {
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    return quota - usage > bytes;
  } catch {
    return false;
  }
}
