/**
 * One engine per browser profile and origin: a tab holds the Web Lock `layerstream-engine` while it
 * has a model loaded, so a second tab of the app does not silently double the GPU memory. That tab
 * sees the model is in use elsewhere and may take it over: it asks on a BroadcastChannel, the
 * holder unloads its engine and releases the lock (and says so), and the lock passes to the asker.
 * Browsers without `navigator.locks` (or BroadcastChannel) behave as one tab: the lock is always granted.
 * Web Locks: https://w3c.github.io/web-locks/ (LockManager.request, ifAvailable).
 */

const LOCK_NAME = 'layerstream-engine';
const CHANNEL_NAME = 'layerstream-engine';

/** What a tab knows about the shared engine: it holds it, another tab does, or it gave it up to one. */
export type TabLockState = 'free' | 'held' | 'elsewhere' | 'taken-over';

/** The banner the app shows for a lock state (null: none). Pure, so it is tested without two tabs. */
export function tabLockBanner(state: TabLockState): { message: string; action: string } | null {
  if (state === 'elsewhere') return { message: 'The model is in use in another tab of layerstream. Using it here unloads it there.', action: 'Use it here' };
  if (state === 'taken-over') return { message: 'Another tab took over the model: it was unloaded here to free the GPU memory.', action: 'Take it back' };
  return null;
}

type LockManagerLike = {
  request(name: string, options: { ifAvailable?: boolean }, cb: (lock: unknown) => Promise<void> | void): Promise<unknown>;
};

export class TabLock extends EventTarget {
  state: TabLockState = 'free';
  private release: (() => void) | null = null;
  private readonly locks: LockManagerLike | undefined = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  private readonly channel: BroadcastChannel | null = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : null;

  /**
   * @param onTakeover called in the holding tab when another tab takes the engine over: it must
   *   unload the engine; the lock is released when it resolves.
   */
  constructor(private readonly onTakeover: () => Promise<void>) {
    super();
    this.channel?.addEventListener('message', (e: MessageEvent) => {
      if ((e.data as { type?: string } | null)?.type === 'takeover' && this.state === 'held') void this.handOver();
    });
  }

  /**
   * Takes the lock: `wait` false answers at once (false when another tab holds it: state
   * 'elsewhere'); `wait` true queues until the holder releases. Resolves true once held.
   */
  async acquire(o: { wait: boolean }): Promise<boolean> {
    if (this.state === 'held') return true;
    if (!this.locks) return this.set('held'), true;
    const granted = await new Promise<boolean>((resolve) => {
      void this.locks!.request(LOCK_NAME, o.wait ? {} : { ifAvailable: true }, (lock) => {
        if (!lock) return resolve(false);
        resolve(true);
        return new Promise<void>((r) => (this.release = r)); // held until release()
      });
    });
    this.set(granted ? 'held' : 'elsewhere');
    return granted;
  }

  /** Asks the tab that holds the lock to unload, then waits for the lock (resolves true when held). */
  async takeOver(): Promise<boolean> {
    this.channel?.postMessage({ type: 'takeover' });
    return this.acquire({ wait: true });
  }

  /** Gives the lock up (the model was unloaded here by the user). */
  free(): void {
    this.release?.();
    this.release = null;
    if (this.state === 'held') this.set('free');
  }

  private async handOver(): Promise<void> {
    try {
      await this.onTakeover();
    } finally {
      this.release?.();
      this.release = null;
      this.set('taken-over');
    }
  }

  private set(s: TabLockState): void {
    this.state = s;
    this.dispatchEvent(new Event('change'));
  }
}
