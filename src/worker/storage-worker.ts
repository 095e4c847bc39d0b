/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { deleteModel, downloadParts, importBlob, listModels, planDownload, type DownloadPlan } from '../storage/models.ts';
import { installErrorTransfer } from './protocol.ts';

// The model manager's worker: downloads and imports write OPFS through sync handles, which only
// dedicated workers have. One per page, shared by every call.
installErrorTransfer();

const aborts = new Map<number, AbortController>();

/** Runs `fn` with an AbortSignal that `abort(id)` fires. */
async function abortable<R>(id: number, fn: (signal: AbortSignal) => Promise<R>): Promise<R> {
  const ac = new AbortController();
  aborts.set(id, ac);
  try {
    return await fn(ac.signal);
  } finally {
    aborts.delete(id);
  }
}

const api = {
  listModels,
  deleteModel,
  planDownload: (url: string) => planDownload(url),
  download: (id: number, plan: DownloadPlan, expectSha256: string | undefined, onBytes: (n: number) => void) =>
    abortable(id, (signal) => downloadParts(plan, { signal, expectSha256, onBytes: (n) => void onBytes(n) })),
  importBlob: (id: number, blob: Blob, name: string, onBytes: (n: number) => void) =>
    abortable(id, (signal) => importBlob(blob, name, { signal, onBytes: (n) => void onBytes(n) })),
  abort: (id: number) => aborts.get(id)?.abort(),
};

export type StorageWorkerApi = typeof api;
Comlink.expose(api);
