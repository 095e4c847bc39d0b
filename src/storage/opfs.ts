import { LayerstreamError } from '../errors.ts';

/**
 * The Origin Private File System: the browser's own disk for this origin. Model files live in
 * /layerstream/models/<id>.gguf and are read and written through FileSystemSyncAccessHandle, which
 * exists only in dedicated workers. Handles are opened in 'readwrite-unsafe' mode so the engine
 * worker can read a file while the storage worker is still filling other chunks of it; chunk
 * bookkeeping (manifest.ts) decides which bytes are valid.
 */

interface SyncHandleOptions {
  mode?: 'readwrite' | 'read-only' | 'readwrite-unsafe';
}

async function modelsDir(): Promise<FileSystemDirectoryHandle> {
  if (!globalThis.navigator?.storage?.getDirectory) throw new LayerstreamError('fetch_failed', 'this browser has no Origin Private File System (navigator.storage.getDirectory)');
  const root = await navigator.storage.getDirectory();
  const app = await root.getDirectoryHandle('layerstream', { create: true });
  return app.getDirectoryHandle('models', { create: true });
}

/** Opens (creating if needed) the OPFS file `name` for synchronous reads and writes. Worker only. */
export async function openSyncFile(name: string): Promise<FileSystemSyncAccessHandle> {
  const file = await (await modelsDir()).getFileHandle(name, { create: true });
  const open = file.createSyncAccessHandle as unknown as (o?: SyncHandleOptions) => Promise<FileSystemSyncAccessHandle>;
  return open.call(file, { mode: 'readwrite-unsafe' });
}

/** Whether the OPFS file `name` exists and holds at least `bytes` bytes (site data cleared or evicted: it does not). */
export async function fileHolds(name: string, bytes: number): Promise<boolean> {
  try {
    const file = await (await modelsDir()).getFileHandle(name);
    return (await file.getFile()).size >= bytes;
  } catch {
    return false;
  }
}

/** Deletes the OPFS file `name` (no error if it is not there). */
export async function removeFile(name: string): Promise<void> {
  try {
    await (await modelsDir()).removeEntry(name);
  } catch (e) {
    if ((e as DOMException).name !== 'NotFoundError') throw e;
  }
}

/**
 * The error for a write the browser refused for lack of quota (it may shrink while a download
 * runs): quota_exceeded with the numbers, in the wording of the up-front check
 * (storage-client.ts), so the UI shows them and pauses instead of failing.
 * @param needBytes bytes the download still has to store
 */
export async function quotaExceeded(what: string, needBytes: number, cause: unknown): Promise<LayerstreamError> {
  const { usage = 0, quota = 0 } = await navigator.storage.estimate().catch(() => ({ usage: 0, quota: 0 }));
  return new LayerstreamError(
    'quota_exceeded',
    `${what} needs ${needBytes} more bytes of storage, but only ${Math.max(0, quota - usage)} of this site's ${quota}-byte quota are free (the browser refused a write); the chunks stored are kept: free space, then resume`,
    { cause },
  );
}

/** Maps a DOMException from an OPFS write to a typed error (quota) or rethrows. */
export function storageError(e: unknown, what: string): never {
  if ((e as DOMException)?.name === 'QuotaExceededError') {
    throw new LayerstreamError('quota_exceeded', `browser storage is full while writing ${what}; completed chunks are kept, free space and resume`, { cause: e });
  }
  throw e;
}
