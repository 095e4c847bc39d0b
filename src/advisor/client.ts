import * as Comlink from 'comlink';
import { get, set } from 'idb-keyval';
import { reviveError } from '../errors.ts';
import type { AdvisorWorkerApi } from '../worker/advisor-worker.ts';
import { installErrorTransfer } from '../worker/protocol.ts';
import type { Calibration, DeviceFigures } from './advise.ts';
import type { ModelShape } from './model-shape.ts';

/** IndexedDB key of the calibrations, one per adapter (Calibration.adapter) */
const CALIBRATION_KEY = 'layerstream.calibration';

/**
 * The page's side of the memory-fit advisor: one worker (advisor-worker.ts) for header reads and the
 * calibration, the calibration cached in IndexedDB per adapter (with the date it was measured), and
 * model shapes cached per URL for the session. Errors are LayerstreamErrors rebuilt from the worker.
 */
export class AdvisorClient {
  private remote: Comlink.Remote<AdvisorWorkerApi> | null = null;
  private shapes = new Map<string, Promise<ModelShape>>();
  private figuresP: Promise<Omit<DeviceFigures, 'calibration'> & { adapter: string }> | null = null;

  private api(): Comlink.Remote<AdvisorWorkerApi> {
    if (!this.remote) {
      installErrorTransfer();
      this.remote = Comlink.wrap<AdvisorWorkerApi>(new Worker(new URL('../worker/advisor-worker.ts', import.meta.url), { type: 'module', name: 'layerstream-advisor' }));
    }
    return this.remote;
  }

  private async call<R>(f: () => Promise<R>): Promise<R> {
    try {
      return await f();
    } catch (e) {
      throw reviveError(e);
    }
  }

  /** Device figures with the cached calibration of this adapter (null when never measured). Storage is estimated anew each call. */
  async figures(): Promise<DeviceFigures & { adapter: string }> {
    this.figuresP ??= this.call(() => this.api().figures());
    const f = await this.figuresP;
    const est = await navigator.storage?.estimate?.().catch(() => null);
    const all = ((await get(CALIBRATION_KEY).catch(() => undefined)) ?? {}) as Record<string, Calibration>;
    return { ...f, storage: est ? { quotaBytes: est.quota ?? 0, usageBytes: est.usage ?? 0 } : f.storage, calibration: all[f.adapter] ?? null };
  }

  /**
   * Runs the calibration (a few seconds on a CPU adapter) and stores it for this adapter.
   * `probeModel`: URL of a small GGUF to measure streaming with (the app's embedded model).
   */
  async calibrate(probeModel?: string): Promise<Calibration> {
    const c = await this.call(() => this.api().calibrate(probeModel));
    const { adapter } = await this.figures();
    const all = ((await get(CALIBRATION_KEY).catch(() => undefined)) ?? {}) as Record<string, Calibration>;
    await set(CALIBRATION_KEY, { ...all, [adapter]: c }).catch(() => {});
    return c;
  }

  /** The model's shape from its header (cached per URL; a failed read is not cached). */
  inspect(model: string | Blob): Promise<ModelShape> {
    if (typeof model !== 'string') return this.call(() => this.api().inspect(model));
    let p = this.shapes.get(model);
    if (!p) {
      p = this.call(() => this.api().inspect(model));
      this.shapes.set(model, p);
      p.catch(() => this.shapes.delete(model));
    }
    return p;
  }
}
