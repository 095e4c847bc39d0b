import { CACHE_SCHEME, deleteModel, downloadModel, importModel, listModels, storageEstimate } from '../index.ts';
import type { CachedModel, DownloadProgress, StorageEstimate } from '../api.ts';
import { LayerstreamError, reviveError } from '../errors.ts';

/**
 * The page's view of the browser's model storage (OPFS), and the transfers that fill it: the list of
 * cached models, the storage estimate, downloads (with pause = abort that keeps chunks, resume =
 * download again, cancel = abort and delete) and imports of local files. No UI: <ls-app> owns one,
 * re-renders on its `change` event and passes the data to <ls-model-manager> and <ls-memory-panel>.
 */

/** An error as the UI shows it. */
export interface ShownError {
  code: string;
  message: string;
}

export function toShownError(e: unknown): ShownError {
  const err = reviveError(e);
  return { code: err instanceof LayerstreamError ? err.code : '', message: err.message || String(e) };
}

/**
 * starting: sizing the file (no bytes yet) · running · pausing / cancelling: abort sent, waiting for
 * the chunks in flight · paused: stopped by the user or because storage ran out (quota_exceeded, with the numbers), chunks kept · failed: stopped by an error
 */
export type TransferStatus = 'starting' | 'running' | 'pausing' | 'paused' | 'cancelling' | 'failed';

export interface Transfer {
  readonly key: number;
  readonly kind: 'download' | 'import';
  /** absolute URL of a download; null for an import */
  readonly url: string | null;
  readonly name: string;
  /** the CachedModel id, once known */
  readonly modelId: string | null;
  readonly status: TransferStatus;
  readonly loadedBytes: number;
  readonly totalBytes: number;
  readonly bytesPerSecond: number;
  readonly etaSeconds: number;
  readonly error: ShownError | null;
}

/** What <ls-model-manager> asks for (detail of its `ls-model-action` event). */
export type ModelAction =
  | { type: 'download'; url: string }
  | { type: 'pause' | 'resume' | 'cancel' | 'dismiss'; key: number }
  | { type: 'resume-model'; id: string }
  | { type: 'delete'; id: string }
  | { type: 'persist' }
  | { type: 'dismiss-notice' };

/** The cached model a `createEngine({ model })` string reads from: `opfs:<id>`, or by URL. */
export function findCachedModel(models: readonly CachedModel[], model: string | null): CachedModel | null {
  if (!model) return null;
  if (model.startsWith(CACHE_SCHEME)) return models.find((m) => m.id === model.slice(CACHE_SCHEME.length)) ?? null;
  const abs = absoluteUrl(model);
  return models.find((m) => m.url === abs) ?? null;
}

/** A LayerstreamError('quota_exceeded'), as it crosses the worker boundary too. */
export function isQuotaError(e: unknown): boolean {
  const err = reviveError(e);
  return err instanceof LayerstreamError && err.code === 'quota_exceeded';
}

/**
 * The loaded model when browser storage no longer lists it (the site's data was cleared, or the
 * browser evicted it): its last listing, so the manager can show it as missing and offer to
 * download it again; null when it is still stored, was never stored, or nothing is loaded.
 * @param seen every model listed since the page opened, by id
 */
export function missingLoadedModel(models: readonly CachedModel[], seen: ReadonlyMap<string, CachedModel>, loadedModel: string | null): CachedModel | null {
  if (!loadedModel || findCachedModel(models, loadedModel)) return null;
  return findCachedModel([...seen.values()], loadedModel);
}

export function absoluteUrl(url: string): string {
  try {
    return new URL(url, location.href).href;
  } catch {
    return url;
  }
}

/** The file name at the end of a URL's path (decoded), else its host. */
export function nameFromUrl(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '') || u.host;
  } catch {
    return url;
  }
}

const GGUF_MAGIC = 'GGUF';
/** progress re-renders at most this often; status changes are immediate */
const PROGRESS_RENDER_MS = 100;

export class ModelStore extends EventTarget {
  /** cached models, most recently used first */
  models: readonly CachedModel[] = [];
  estimate: StorageEstimate | null = null;
  /** downloads and imports in progress, paused or failed */
  transfers: readonly Transfer[] = [];
  /** the last failed action that has no transfer row to show it (delete, listing) */
  notice: ShownError | null = null;
  /** the first listing has arrived */
  listed = false;
  /** every model listed since the page opened, by id (to name one that storage lost: missingLoadedModel) */
  readonly seen = new Map<string, CachedModel>();
  /**
   * Called before a model's files are deleted: the app unloads the engine if it reads that model
   * (an open OPFS file cannot be removed).
   */
  beforeDelete: ((id: string) => Promise<void>) | null = null;

  private nextKey = 1;
  private refreshSeq = 0;
  private readonly controllers = new Map<number, AbortController>();
  /** aborts a running transfer: at once, or at its first progress if it has not reached the worker yet */
  private readonly aborters = new Map<number, () => void>();
  private readonly runs = new Map<number, Promise<unknown>>();
  /** transfers of models that were complete before they started: Cancel must not delete those */
  private readonly keepOnCancel = new Set<number>();
  private renderTimer: ReturnType<typeof setTimeout> | null = null;

  /** Re-reads the model list and the storage estimate. */
  async refresh(): Promise<void> {
    const seq = ++this.refreshSeq;
    try {
      const [models, estimate] = await Promise.all([listModels(), storageEstimate()]);
      if (seq !== this.refreshSeq) return;
      this.models = models;
      for (const m of models) this.seen.set(m.id, m);
      this.estimate = estimate;
      this.listed = true;
    } catch (e) {
      if (seq !== this.refreshSeq) return;
      this.notice = toShownError(e);
      this.listed = true;
    }
    this.changed();
  }

  perform(a: ModelAction): void {
    switch (a.type) {
      case 'download':
        this.download(a.url);
        break;
      case 'resume-model': {
        const m = this.models.find((x) => x.id === a.id);
        if (m?.url) this.download(m.url);
        break;
      }
      case 'pause':
        this.pause(a.key);
        break;
      case 'resume':
        this.resume(a.key);
        break;
      case 'cancel':
        void this.cancel(a.key);
        break;
      case 'dismiss':
        this.remove(a.key);
        break;
      case 'delete':
        void this.delete(a.id);
        break;
      case 'persist':
        void this.persist();
        break;
      case 'dismiss-notice':
        this.notice = null;
        this.changed();
        break;
    }
  }

  /** Starts (or resumes) downloading `url` into OPFS; progress and errors land in `transfers`. */
  download(url: string): void {
    const abs = absoluteUrl(url);
    const existing = this.transfers.find((t) => t.kind === 'download' && t.url === abs);
    if (existing) {
      this.resume(existing.key);
      return;
    }
    const cached = this.models.find((m) => m.url === abs);
    const t: Transfer = {
      key: this.nextKey++, kind: 'download', url: abs, name: cached?.name ?? nameFromUrl(abs), modelId: cached?.id ?? null, status: 'starting',
      loadedBytes: cached?.downloadedBytes ?? 0, totalBytes: cached?.sizeBytes ?? 0, bytesPerSecond: 0, etaSeconds: Infinity, error: null,
    };
    if (cached?.complete) this.keepOnCancel.add(t.key);
    this.transfers = [...this.transfers, t];
    this.changed();
    void this.runDownload(t.key);
  }

  pause(key: number): void {
    const t = this.get(key);
    if (!t || t.kind !== 'download' || (t.status !== 'running' && t.status !== 'starting')) return;
    this.patch(key, { status: 'pausing' });
    this.aborters.get(key)?.();
  }

  resume(key: number): void {
    const t = this.get(key);
    if (!t || t.kind !== 'download' || (t.status !== 'paused' && t.status !== 'failed')) return;
    void this.runDownload(key);
  }

  /** Stops a transfer and deletes what it stored (unless the model was complete before it began). */
  async cancel(key: number): Promise<void> {
    const t = this.get(key);
    if (!t || t.status === 'cancelling') return;
    this.patch(key, { status: 'cancelling' });
    const stored = await this.stop(key);
    const keep = this.keepOnCancel.has(key);
    this.remove(key);
    if (stored && !keep && t.kind === 'download') await this.deleteFiles(stored.id);
    await this.refresh();
  }

  /** Deletes a cached model (stopping a transfer of it first). */
  async delete(id: string): Promise<void> {
    const model = this.models.find((m) => m.id === id);
    for (const t of this.transfers.filter((t) => t.modelId === id || (model?.url && t.url === model.url))) {
      this.patch(t.key, { status: 'cancelling' });
      await this.stop(t.key);
      this.remove(t.key);
    }
    await this.deleteFiles(id);
    await this.refresh();
  }

  /**
   * Imports a local GGUF file into OPFS (streamed, never read whole) and returns its cached model.
   * Shown as a transfer while it runs; Cancel aborts it (the partial file is removed). Throws
   * LayerstreamError: not_gguf (checked before anything is stored), quota_exceeded, aborted.
   */
  async importFile(file: File, o: { onProgress?: (p: DownloadProgress) => void; signal?: AbortSignal } = {}): Promise<CachedModel> {
    const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
    const magic = String.fromCharCode(...head);
    if (magic !== GGUF_MAGIC) {
      const shown = Array.from(head, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      throw new LayerstreamError('not_gguf', `${file.name} is not a GGUF file: it starts with "${shown}", not "${GGUF_MAGIC}"`);
    }
    const key = this.nextKey++;
    const ac = new AbortController();
    const abort = this.deferredAbort(key, ac);
    const onOuterAbort = () => abort.request();
    o.signal?.addEventListener('abort', onOuterAbort);
    this.controllers.set(key, ac);
    this.transfers = [
      ...this.transfers,
      { key, kind: 'import', url: null, name: file.name, modelId: null, status: 'running', loadedBytes: 0, totalBytes: file.size, bytesPerSecond: 0, etaSeconds: Infinity, error: null },
    ];
    this.changed();
    const run = importModel(file, {
      name: file.name,
      signal: ac.signal,
      onProgress: (p) => {
        if (abort.reached()) return;
        this.progress(key, p);
        o.onProgress?.(p);
      },
    });
    this.runs.set(key, run);
    try {
      const model = await run;
      if (this.get(key)?.status === 'cancelling') {
        // Cancel came as it finished: honour it
        await deleteModel(model.id).catch(() => {});
        throw new LayerstreamError('aborted', `import of ${file.name} cancelled`);
      }
      return model;
    } catch (e) {
      throw ac.signal.aborted ? new LayerstreamError('aborted', `import of ${file.name} cancelled`) : e;
    } finally {
      o.signal?.removeEventListener('abort', onOuterAbort);
      this.controllers.delete(key);
      this.aborters.delete(key);
      this.runs.delete(key);
      this.remove(key);
      void this.refresh();
    }
  }

  private async runDownload(key: number): Promise<void> {
    const t = this.get(key);
    if (!t?.url) return;
    const ac = new AbortController();
    const abort = this.deferredAbort(key, ac);
    this.controllers.set(key, ac);
    this.patch(key, { status: 'starting', error: null, bytesPerSecond: 0, etaSeconds: Infinity });
    let listing = false;
    const run = downloadModel(t.url, {
      signal: ac.signal,
      onProgress: (p) => {
        if (abort.reached() || ac.signal.aborted) return;
        this.progress(key, p);
        // a new download enters the manifest as its first chunks arrive: list it (as partial) then
        if (!listing && !this.models.some((m) => m.id === p.id)) {
          listing = true;
          void this.refresh().finally(() => (listing = false));
        }
      },
    });
    this.runs.set(key, run);
    let failure: unknown = null;
    let ok = false;
    try {
      await run;
      ok = true;
    } catch (e) {
      failure = e;
    }
    if (this.controllers.get(key) === ac) {
      this.controllers.delete(key);
      this.aborters.delete(key);
      this.runs.delete(key);
    }
    const cur = this.get(key);
    if (cur && cur.status !== 'cancelling') {
      // Finished (also when an abort came too late to stop it): the list shows it complete.
      if (ok) this.remove(key);
      else if (cur.status === 'pausing' || ac.signal.aborted) this.patch(key, { status: 'paused', bytesPerSecond: 0, etaSeconds: Infinity });
      // storage ran out mid-download (the quota may shrink): paused with the numbers, resumable once
      // space is freed (a refusal up front, nothing stored, stays a failure)
      else if (isQuotaError(failure) && cur.loadedBytes > 0) this.patch(key, { status: 'paused', error: toShownError(failure), bytesPerSecond: 0, etaSeconds: Infinity });
      else this.patch(key, { status: 'failed', error: toShownError(failure), bytesPerSecond: 0, etaSeconds: Infinity });
    }
    void this.refresh();
  }

  /** Aborts a transfer and waits until it has settled; returns the model it stored into, if any. */
  private async stop(key: number): Promise<CachedModel | null> {
    this.aborters.get(key)?.();
    await this.runs.get(key)?.catch(() => {});
    const t = this.get(key);
    if (!t) return null;
    const models = await listModels().catch(() => [] as CachedModel[]);
    return models.find((m) => (t.modelId && m.id === t.modelId) || (t.url && m.url === t.url)) ?? null;
  }

  /**
   * downloadModel / importModel listen to their signal only once the file is sized and the quota
   * checked, and their worker knows the job only from the first progress on: an abort before that
   * would be lost. So an early request waits for the first progress and fires just after it.
   */
  private deferredAbort(key: number, ac: AbortController): { request(): void; reached(): boolean } {
    let started = false;
    let wanted = false;
    const fire = () => setTimeout(() => ac.abort(), 0);
    this.aborters.set(key, () => {
      wanted = true;
      if (started) ac.abort();
    });
    return {
      request: () => this.aborters.get(key)?.(),
      /** called on every progress: marks the job started; true when an abort is (now) on its way */
      reached: () => {
        if (!started) {
          started = true;
          if (wanted) fire();
        }
        return wanted;
      },
    };
  }

  private async deleteFiles(id: string): Promise<void> {
    try {
      await this.beforeDelete?.(id);
      await deleteModel(id);
    } catch (e) {
      if ((e as LayerstreamError).code !== 'not_found') {
        this.notice = toShownError(e);
        this.changed();
      }
    }
  }

  private async persist(): Promise<void> {
    try {
      await navigator.storage.persist?.();
    } catch (e) {
      this.notice = toShownError(e);
    }
    await this.refresh();
  }

  private progress(key: number, p: DownloadProgress): void {
    const t = this.get(key);
    if (!t || t.status === 'pausing' || t.status === 'cancelling') return;
    const status = t.status === 'starting' ? 'running' : t.status;
    this.patch(key, { status, modelId: t.kind === 'download' ? p.id : t.modelId, loadedBytes: p.loadedBytes, totalBytes: p.totalBytes, bytesPerSecond: p.bytesPerSecond, etaSeconds: p.etaSeconds }, status === t.status);
  }

  private get(key: number): Transfer | undefined {
    return this.transfers.find((t) => t.key === key);
  }

  private patch(key: number, p: Partial<Omit<Transfer, 'key' | 'kind'>>, throttled = false): void {
    if (!this.get(key)) return;
    this.transfers = this.transfers.map((t) => (t.key === key ? { ...t, ...p } : t));
    this.changed(throttled);
  }

  private remove(key: number): void {
    if (this.controllers.has(key) && this.get(key)?.status !== 'cancelling') return; // still running: dismiss only settled rows
    this.keepOnCancel.delete(key);
    const before = this.transfers.length;
    this.transfers = this.transfers.filter((t) => t.key !== key);
    if (this.transfers.length !== before) this.changed();
  }

  /** Tells listeners to re-render; progress ticks are batched to one render per PROGRESS_RENDER_MS. */
  private changed(throttled = false): void {
    if (throttled) {
      this.renderTimer ??= setTimeout(() => {
        this.renderTimer = null;
        this.dispatchEvent(new Event('change'));
      }, PROGRESS_RENDER_MS);
      return;
    }
    if (this.renderTimer) clearTimeout(this.renderTimer);
    this.renderTimer = null;
    this.dispatchEvent(new Event('change'));
  }
}
