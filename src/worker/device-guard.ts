import type { EngineCore } from '../engine/engine.ts';
import { LayerstreamError } from '../errors.ts';
import type { ByteSource } from '../storage/byte-source.ts';

/**
 * Surviving a lost GPUDevice (driver reset, GPU process crash, out of memory: `GPUDevice.lost`
 * resolving with a reason other than 'destroyed'). The work in flight ends with
 * LayerstreamError('device_lost') instead of the raw DOMException its mapAsync rejects with; then
 * a new adapter and device are requested and the engine is built again from the same byte source
 * (pipelines, buffers, resident weights re-uploaded from the RAM tier / OPFS / HTTP as any load).
 * The new engine's K/V cache is empty, so the next generate prefills its whole prompt again: the
 * conversation's context is rebuilt and greedy output is what it was before the loss. Losses that
 * repeat back off (recoveryDelay) and finally make device_lost permanent. No browser runtime
 * (WebLLM, transformers.js) recovers from this; WebGPU's explainer says a lost device is replaced
 * by requesting a new one, which is what this does.
 */

/** How repeated device losses back off. Times in milliseconds. */
export interface RecoveryPolicy {
  /** losses within `windowMs` that are still recovered from; one more is permanent */
  maxLosses: number;
  windowMs: number;
  /** wait before rebuilding after the first loss in the window; doubles with each further one */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RECOVERY: RecoveryPolicy = { maxLosses: 3, windowMs: 5 * 60_000, baseDelayMs: 250, maxDelayMs: 8_000 };

/**
 * How long to wait before rebuilding after losses at `times` (ms timestamps, any order), or null
 * to give up: more than maxLosses of them lie within windowMs before `now`. With n losses in the
 * window the wait is baseDelayMs · 2^(n−1), at most maxDelayMs.
 */
export function recoveryDelay(times: readonly number[], now: number, p: RecoveryPolicy): number | null {
  const n = times.filter((t) => now - t < p.windowMs).length;
  if (n > p.maxLosses) return null;
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, n - 1));
}

/**
 * A ByteSource that forwards reads to `s` but has no close(): EngineCore.dispose closes its source,
 * and a rebuilt engine still reads the same one. The owner closes `s` itself.
 */
export function sharedSource(s: ByteSource): ByteSource {
  return { name: s.name, size: s.size, read: (o, l, sig) => s.read(o, l, sig), readInto: (o, d, sig) => s.readInto(o, d, sig) };
}

/** after a raw (non-LayerstreamError) failure, how long to wait for device.lost to explain it */
const LOST_GRACE_MS = 1_500;
/** how long a rebuild waits for the calls in flight on the lost device to settle */
const SETTLE_MS = 3_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Owns the engine of one loaded model and the GPUDevice under it, and rebuilds both when the device
 * is lost. `build(device)` loads the engine onto a device (the same model and options every time);
 * `requestDevice()` gets a new one (throws LayerstreamError('webgpu_unavailable') when none).
 */
export class DeviceGuard {
  /** GPUDevice.lost events of this guard's devices (reason other than 'destroyed') */
  losses = 0;
  /** engines rebuilt after a loss */
  recoveries = 0;
  private core: EngineCore | null = null;
  /** the last engine built, kept for what needs no GPU (tokenizer, chat template, info) */
  private latest: EngineCore | null = null;
  private device: GPUDevice | null = null;
  private readonly lost = new WeakMap<GPUDevice, { info: GPUDeviceLostInfo; error: LayerstreamError; signal: AbortController }>();
  private readonly signals = new WeakMap<GPUDevice, AbortController>();
  private lossTimes: number[] = [];
  private rebuilding: Promise<void> | null = null;
  private permanent: LayerstreamError | null = null;
  /** a rebuild that failed for a reason other than the GPU (storage, network): retried by the next call */
  private failure: unknown = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private disposed = false;

  constructor(
    private readonly build: (device: GPUDevice) => Promise<EngineCore>,
    private readonly requestDevice: () => Promise<GPUDevice>,
    private readonly policy: RecoveryPolicy = DEFAULT_RECOVERY,
  ) {}

  /** The first load. Throws what build/requestDevice throw; the device is destroyed then. */
  async start(): Promise<EngineCore> {
    const device = await this.requestDevice();
    try {
      this.watch(device);
      this.core = this.latest = await this.build(device);
      this.device = device;
      return this.core;
    } catch (e) {
      device.destroy();
      throw await this.explain(e, device);
    }
  }

  /** The last engine built, for CPU-side parts (tokenizer, template, info); null before start. */
  get last(): EngineCore | null {
    return this.latest;
  }

  /**
   * Runs `fn` on the live engine (waiting for a rebuild in progress). `lost` fires when that
   * engine's device is lost, for loops to stop at. Errors caused by the loss become
   * LayerstreamError('device_lost'), with the browser's reason and message. Throws device_lost
   * (permanent) after too many losses, or the error of a rebuild that failed for another reason.
   */
  async use<R>(fn: (core: EngineCore, lost: AbortSignal) => Promise<R>): Promise<R> {
    const core = await this.current();
    const device = this.device!;
    const run = fn(core, this.signals.get(device)!.signal);
    this.inflight.add(run);
    try {
      return await run;
    } catch (e) {
      throw await this.explain(e, device);
    } finally {
      this.inflight.delete(run);
    }
  }

  /** Throws the device_lost error if `lost` (a signal from use) has fired. */
  static check(lost: AbortSignal): void {
    if (lost.aborted) throw lost.reason;
  }

  private async current(): Promise<EngineCore> {
    for (let retried = false; ; ) {
      if (this.rebuilding) await this.rebuilding;
      if (this.disposed) throw new LayerstreamError('disposed', 'engine was disposed');
      if (this.permanent) throw this.permanent;
      // (a device lost just as its rebuild finished has not started another one)
      if (this.core && !this.lost.has(this.device!)) return this.core;
      if (this.core) {
        this.rebuilding = this.rebuild(true).finally(() => (this.rebuilding = null));
        continue;
      }
      if (!this.failure) throw new LayerstreamError('disposed', 'no model loaded');
      // the last rebuild failed for a reason that may pass (network, storage): try once more now
      if (retried) throw this.failure;
      retried = true;
      this.failure = null;
      this.rebuilding = this.rebuild(false).finally(() => (this.rebuilding = null));
    }
  }

  private watch(device: GPUDevice): void {
    const ac = new AbortController();
    this.signals.set(device, ac);
    void device.lost.then((info) => {
      if (info.reason === 'destroyed' || this.disposed) return; // our own dispose or rebuild
      this.losses++;
      this.lossTimes.push(performance.now());
      const what = `the GPU device was lost (${info.reason || 'unknown'}: ${info.message || 'the browser gave no message'})`;
      const gaveUp = recoveryDelay(this.lossTimes, performance.now(), this.policy) === null;
      const error = gaveUp
        ? this.giveUp(what)
        : new LayerstreamError('device_lost', `${what}; the engine is being rebuilt on a new device — the next call processes its context again`);
      this.lost.set(device, { info, error, signal: ac });
      ac.abort(error);
      if (device === this.device && !this.rebuilding) this.rebuilding = this.rebuild(true).finally(() => (this.rebuilding = null));
    });
  }

  private giveUp(what: string): LayerstreamError {
    const n = this.lossTimes.filter((t) => performance.now() - t < this.policy.windowMs).length;
    this.permanent ??= new LayerstreamError(
      'device_lost',
      `${what}; the GPU device was lost ${n} times within ${Math.round(this.policy.windowMs / 1000)} s, so the engine is not rebuilt again (permanent): reload the page or create a new engine`,
    );
    return this.permanent;
  }

  /**
   * Replaces the engine: waits for the calls on the lost device to settle and the backoff to pass,
   * disposes the old engine (its source stays open: build reads it again), requests a new device
   * and builds. A device lost again or refused during the rebuild counts against the policy and is
   * retried after the next backoff; any other failure is kept for the next call to retry.
   */
  private async rebuild(afterLoss: boolean): Promise<void> {
    await Promise.race([Promise.allSettled([...this.inflight]), sleep(SETTLE_MS)]);
    for (let attempt = 0; ; attempt++) {
      if (this.disposed) return;
      const delay = recoveryDelay(this.lossTimes, performance.now(), this.policy);
      if (delay === null || this.permanent) {
        this.giveUp('the GPU device could not be replaced');
        this.drop();
        return;
      }
      if (afterLoss || attempt > 0) await sleep(delay);
      if (this.disposed) return;
      this.drop();
      let device: GPUDevice | null = null;
      try {
        device = await this.requestDevice();
        this.watch(device);
        this.device = device;
        const core = await this.build(device);
        if (this.lost.has(device)) throw this.lost.get(device)!.error; // lost while building
        if (this.disposed) {
          core.dispose();
          return;
        }
        this.core = this.latest = core;
        this.recoveries++;
        return;
      } catch (e) {
        const gpu = (device && this.lost.has(device)) || (e as LayerstreamError).code === 'webgpu_unavailable' || (e as LayerstreamError).code === 'device_lost';
        device?.destroy();
        this.device = null;
        if (!gpu) {
          this.failure = e;
            return;
        }
        // the browser refused a device, or the new one died too: that is another loss to back off from
        if (!(device && this.lost.has(device))) this.lossTimes.push(performance.now());
      }
    }
  }

  /** Disposes the current engine (its device is lost or about to be replaced). */
  private drop(): void {
    this.core?.dispose();
    this.core = null;
  }

  /**
   * A failure of work on `device`, explained: when the device was lost (or is, within a short
   * grace: the DOMException of a mapAsync may come before device.lost resolves), the device_lost
   * error (its cause the original failure); otherwise the failure as it is.
   */
  private async explain(e: unknown, device: GPUDevice): Promise<unknown> {
    if (!this.lost.has(device) && !(e instanceof LayerstreamError)) await Promise.race([device.lost, sleep(LOST_GRACE_MS)]);
    await Promise.resolve(); // let the lost handler (attached first) record the loss
    const l = this.lost.get(device);
    if (!l) return e;
    const err = new LayerstreamError('device_lost', l.error.message, { cause: e });
    return err;
  }

  /** Disposes the engine and its device; pending and later calls get 'disposed'. */
  dispose(): void {
    this.disposed = true;
    this.drop();
    this.device?.destroy();
    this.device = null;
  }
}
