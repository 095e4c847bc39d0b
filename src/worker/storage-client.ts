import * as Comlink from 'comlink';
import type { CachedModel, DownloadOptions, DownloadProgress, StorageEstimate } from '../api.ts';
import { LayerstreamError, reviveError } from '../errors.ts';
import { installErrorTransfer } from './protocol.ts';
import type { StorageWorkerApi } from './storage-worker.ts';

installErrorTransfer();

let remote: Comlink.Remote<StorageWorkerApi> | null = null;
const storage = () => (remote ??= Comlink.wrap<StorageWorkerApi>(new Worker(new URL('./storage-worker.ts', import.meta.url), { type: 'module', name: 'layerstream-storage' })));
let nextId = 1;

async function call<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (e) {
    throw reviveError(e);
  }
}

/** Models in the browser's storage (OPFS), complete or partial, most recently used first. */
export function listModels(): Promise<CachedModel[]> {
  return call(() => storage().listModels());
}

/** Deletes a cached model and all its parts. Throws LayerstreamError('not_found'). */
export function deleteModel(id: string): Promise<void> {
  return call(() => storage().deleteModel(id));
}

/** This origin's storage use and quota (navigator.storage), and the bytes models take. */
export async function storageEstimate(): Promise<StorageEstimate> {
  const [{ usage = 0, quota = 0 }, persisted, models] = await Promise.all([
    navigator.storage.estimate(),
    navigator.storage.persisted?.() ?? Promise.resolve(false),
    listModels(),
  ]);
  return { usageBytes: usage, quotaBytes: quota, persisted, modelBytes: models.reduce((s, m) => s + m.downloadedBytes, 0) };
}

/** Refuses up front when the bytes still to store exceed the free quota, and asks the browser to keep our data. */
async function reserve(what: string, bytes: number): Promise<void> {
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  if (bytes > quota - usage) {
    throw new LayerstreamError('quota_exceeded', `${what} needs ${bytes} more bytes of storage, but only ${Math.max(0, quota - usage)} of this site's ${quota}-byte quota are free`);
  }
  await navigator.storage.persist?.().catch(() => false);
}

/** Progress with a rate (exponential moving average over ~2 s) and an ETA. */
function progressTracker(id: string, loaded: number, total: number, cb?: (p: DownloadProgress) => void) {
  let rate = 0;
  let last = performance.now();
  let pending = 0;
  return (n: number) => {
    loaded += n;
    pending += n;
    const now = performance.now();
    const dt = (now - last) / 1000;
    if (dt >= 0.25 || loaded >= total) {
      const inst = pending / Math.max(dt, 1e-3);
      rate = rate === 0 ? inst : rate + (1 - Math.exp(-dt / 2)) * (inst - rate);
      last = now;
      pending = 0;
    }
    cb?.({ id, loadedBytes: loaded, totalBytes: total, bytesPerSecond: rate, etaSeconds: rate > 0 ? (total - loaded) / rate : Infinity });
  };
}

/**
 * Downloads a model into OPFS with parallel Range requests, resuming from the chunks already stored
 * (after a reload, a dropped connection, or an abort). All parts of a split GGUF come along when
 * `url` names one of them. Refused up front when it cannot fit the storage quota.
 * Throws LayerstreamError: quota_exceeded, fetch_failed, integrity (sha256 / server file changed), aborted.
 */
export async function downloadModel(url: string, o: DownloadOptions = {}): Promise<CachedModel> {
  const abs = new URL(url, globalThis.location?.href).href;
  const plan = await call(() => storage().planDownload(abs));
  await reserve(`downloading ${abs}`, plan.totalBytes - plan.storedBytes);
  const onBytes = progressTracker(plan.id, plan.storedBytes, plan.totalBytes, o.onProgress);
  onBytes(0);
  return inWorker(o.signal, `download of ${abs}`, (id) => storage().download(id, plan, o.sha256, Comlink.proxy(onBytes)));
}

/**
 * Runs a cancellable worker call: an abort before the call is a LayerstreamError('aborted'), one
 * during it reaches the worker (the abort message follows the call on the same port).
 */
async function inWorker<R>(signal: AbortSignal | undefined, what: string, start: (id: number) => Promise<R>): Promise<R> {
  if (signal?.aborted) throw new LayerstreamError('aborted', `${what} aborted`);
  const id = nextId++;
  const pending = call(() => start(id));
  const onAbort = () => void storage().abort(id);
  signal?.addEventListener('abort', onAbort);
  try {
    return await pending;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Imports a local file (file picker, drag-and-drop) into OPFS by streaming it — never read whole
 * into memory. Load it afterwards with createEngine({ model: 'opfs:' + model.id }).
 * Throws LayerstreamError: quota_exceeded, aborted.
 */
export async function importModel(file: Blob, o: { name?: string; onProgress?: (p: DownloadProgress) => void; signal?: AbortSignal } = {}): Promise<CachedModel> {
  const name = o.name ?? (file instanceof File ? file.name : 'model.gguf');
  await reserve(`importing ${name}`, file.size);
  return inWorker(o.signal, `import of ${name}`, (id) => storage().importBlob(id, file, name, Comlink.proxy(progressTracker(name, 0, file.size, o.onProgress))));
}
