import type { RamTier } from './ram-tier.ts';
import type { Chunk, Staging } from './staging.ts';

/**
 * Bytes [offset, offset + n) of a streamed group's upload image, being read: into a staging chunk,
 * or (RAM tier) into the group's whole image, which may already be there.
 */
export interface Entry {
  group: number;
  offset: number;
  n: number;
  chunk?: Chunk;
  image?: Uint8Array;
  /** resolves when the bytes are in; rejects with the read's error */
  ready: Promise<void>;
}

/** What the read-ahead needs to know of the weight store. */
export interface StreamSource {
  /** streamed groups in forward order (the order the pass acquires them; it wraps to the next pass) */
  order: readonly number[];
  /** upload image size of group g, bytes (a multiple of 4) */
  bytesOf(g: number): number;
  /** true when group g need not be read now (it will still be in its pool slot when the pass gets there) */
  skip(g: number): boolean;
  /** reads image bytes [from, from + dest.byteLength) of group g into dest */
  fill(g: number, from: number, dest: Uint8Array): Promise<void>;
}

/**
 * Reads streamed weights ahead of the forward pass, in forward order, into the staging chunks —
 * the browser analogue of the readahead behind llama.cpp's mmap: while the GPU computes layer i,
 * the bytes of the next layers are already being read. At most `depth` entries are queued (chunks
 * beyond that stay free for direct reads); the pass takes the entries of each group in order.
 */
export class ReadAhead {
  private queue: Entry[] = [];
  /** next to read: position in `order`, byte offset in that group */
  private at = 0;
  private offset = 0;
  /** not reading ahead: before start(), during a restart, after stop() */
  private stopped = true;
  private started = false;

  constructor(
    private readonly src: StreamSource,
    private readonly staging: Staging,
    private readonly ram: RamTier,
    private readonly depth: number,
  ) {
    staging.onFree = () => this.pump();
  }

  /** Starts reads while chunks are free and fewer than `depth` entries are queued. */
  pump(): void {
    const order = this.src.order;
    for (let guard = 0; !this.stopped && order.length && this.queue.length < this.depth && guard < order.length; ) {
      const g = order[this.at];
      if (this.offset === 0 && this.src.skip(g)) {
        this.advance(this.src.bytesOf(g));
        guard++;
        continue;
      }
      const e = this.next(g);
      if (!e) return; // no free chunk: onFree calls again
      this.queue.push(e);
      this.advance(e.n);
    }
  }

  /**
   * The entries of group g, in offset order, to upload as they become ready (the caller awaits
   * `ready`, uploads, and asks for the next). If the read-ahead was elsewhere (the pass skipped a
   * group, or a read failed), it restarts at g.
   */
  async *entries(g: number): AsyncGenerator<Entry> {
    if (this.queue[0]?.group !== g || this.queue[0].offset !== 0) await this.restartAt(g);
    const size = this.src.bytesOf(g);
    for (let done = 0; done < size; ) {
      const e = await this.take(g, done);
      try {
        await e.ready;
      } catch (err) {
        if (e.chunk) this.staging.give(e.chunk);
        await this.restartAt(g); // leave nothing half-read behind; the next pass starts clean
        throw err;
      }
      done += e.n;
      yield e;
      this.pump();
    }
  }

  /**
   * The queued entry at (g, from) — the read-ahead's cursor is there whenever the queue is empty —
   * or, when no chunk is free to queue one, a direct read into the next chunk that comes back.
   */
  private async take(g: number, from: number): Promise<Entry> {
    for (;;) {
      const queued = this.queue.shift();
      if (queued && (queued.group !== g || queued.offset !== from)) throw new Error(`read-ahead out of order: has group ${queued.group} @${queued.offset}, pass wants ${g} @${from}`);
      if (queued) return queued;
      this.pump();
      if (this.queue.length) continue;
      const chunk = await this.staging.take();
      if (this.queue.length) {
        this.staging.give(chunk); // a chunk freed meanwhile was filled by pump(): use that entry
        continue;
      }
      const e = this.chunkEntry(g, from, chunk);
      this.advance(e.n);
      return e;
    }
  }

  /** Starts reading ahead (after the load's uploads, which need the chunks themselves). */
  start(): void {
    this.started = true;
    this.stopped = false;
    this.pump();
  }

  /** Stops reading ahead (the engine is going away). */
  stop(): void {
    this.started = false;
    this.stopped = true;
  }

  private advance(n: number): void {
    this.offset += n;
    if (this.offset >= this.src.bytesOf(this.src.order[this.at])) {
      this.offset = 0;
      this.at = (this.at + 1) % this.src.order.length;
    }
  }

  /** An entry for group g from this.offset (or `from`): a RAM image, or a free chunk being filled; null when no chunk is free. */
  private next(g: number, from = this.offset): Entry | null {
    const size = this.src.bytesOf(g);
    if (from === 0) {
      const image = this.ram.get(g);
      if (image) return { group: g, offset: 0, n: size, image, ready: Promise.resolve() };
      const buf = this.ram.admit(size);
      if (buf) {
        const ready = this.src.fill(g, 0, buf).then(
          () => this.ram.put(g, buf),
          (e) => {
            this.ram.cancel(buf);
            throw e;
          },
        );
        ready.catch(() => {}); // surfaced when taken
        return { group: g, offset: 0, n: size, image: buf, ready };
      }
    }
    const chunk = this.staging.tryTake();
    return chunk ? this.chunkEntry(g, from, chunk) : null;
  }

  private chunkEntry(g: number, from: number, chunk: Chunk): Entry {
    const n = Math.min(this.staging.chunkBytes, this.src.bytesOf(g) - from);
    const ready = this.src.fill(g, from, chunk.bytes.subarray(0, n));
    ready.catch(() => {}); // surfaced when taken
    return { group: g, offset: from, n, chunk, ready };
  }

  /** Drops what was read ahead (waiting for reads in flight, whose chunks must not be reused mid-read) and continues at group g. */
  private async restartAt(g: number): Promise<void> {
    const stale = this.queue;
    this.queue = [];
    this.at = Math.max(0, this.src.order.indexOf(g));
    this.offset = 0;
    this.stopped = true; // no new reads while the stale ones finish
    await Promise.allSettled(stale.map((e) => e.ready));
    for (const e of stale) if (e.chunk) this.staging.give(e.chunk);
    this.stopped = !this.started;
  }
}
