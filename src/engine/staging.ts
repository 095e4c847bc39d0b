/**
 * Upload staging: a fixed set of equal-size host buffers ("chunks") that weight bytes are read
 * into and uploaded from. Allocated once at load, so streaming a model through the GPU every
 * token allocates nothing (no per-token ArrayBuffers, no GPU buffers) and the memory it holds is
 * `count × chunkBytes`, however large a layer is.
 *
 * Two ways to get a chunk's bytes to the GPU (EngineOptions.uploadMethod; the benchmark measures both):
 *  - 'writeBuffer': chunks are plain Uint8Arrays; GPUQueue.writeBuffer copies them (the browser
 *    copies into a transfer buffer of its own, so the chunk is free again at once);
 *  - 'mapped': chunks are MAP_WRITE | COPY_SRC GPUBuffers kept mapped; bytes are read straight into
 *    the mapped range, then the chunk is unmapped, copied with copyBufferToBuffer and re-mapped —
 *    free again once the GPU has done the copy (mapAsync resolves). One CPU copy fewer.
 * Either way the upload is ordered after the GPU work submitted before it (queue order).
 */

export type UploadMethod = 'writeBuffer' | 'mapped';

/** One staging chunk. `bytes` is what to read into (its length is the chunk size). */
export interface Chunk {
  bytes: Uint8Array;
  /** 'mapped' only: the staging GPUBuffer behind `bytes` */
  readonly gpu?: GPUBuffer;
}

export class Staging {
  private readonly all: Chunk[];
  private free: Chunk[];
  private waiters: ((c: Chunk) => void)[] = [];
  private destroyed = false;
  /** called whenever a chunk becomes free (the read-ahead refills it) */
  onFree: () => void = () => {};

  /**
   * @param count number of chunks (≥ 2: one for the read-ahead, one for direct reads)
   * @param chunkBytes bytes per chunk, a multiple of 4
   */
  constructor(
    private readonly device: GPUDevice,
    readonly method: UploadMethod,
    readonly count: number,
    readonly chunkBytes: number,
  ) {
    this.all = Array.from({ length: count }, (_, i): Chunk => {
      if (method === 'writeBuffer') return { bytes: new Uint8Array(chunkBytes) };
      const gpu = device.createBuffer({ label: `upload staging ${i}`, size: chunkBytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
      return { gpu, bytes: new Uint8Array(gpu.getMappedRange()) };
    });
    this.free = [...this.all];
  }

  /** Host memory the chunks hold, bytes. */
  get bytes(): number {
    return this.count * this.chunkBytes;
  }

  /** Chunks free right now. */
  get freeCount(): number {
    return this.free.length;
  }

  /** A free chunk, or null (never waits). */
  tryTake(): Chunk | null {
    return this.free.pop() ?? null;
  }

  /** A free chunk, waiting for one to come back if none is. */
  take(): Promise<Chunk> {
    const c = this.free.pop();
    return c ? Promise.resolve(c) : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Returns a chunk unused (a read that was not needed after all). */
  give(c: Chunk): void {
    if (this.destroyed) return;
    const w = this.waiters.shift();
    if (w) w(c);
    else {
      this.free.push(c);
      this.onFree();
    }
  }

  /**
   * Uploads chunk bytes [0, n) to `dst` at `dstOffset` (both multiples of 4) and frees the chunk —
   * at once for 'writeBuffer', once the GPU copied it for 'mapped'.
   */
  upload(c: Chunk, dst: GPUBuffer, dstOffset: number, n: number): void {
    if (!c.gpu) {
      this.device.queue.writeBuffer(dst, dstOffset, c.bytes, 0, n);
      this.give(c);
      return;
    }
    const gpu = c.gpu;
    gpu.unmap();
    const enc = this.device.createCommandEncoder({ label: 'weight upload' });
    enc.copyBufferToBuffer(gpu, 0, dst, dstOffset, n);
    this.device.queue.submit([enc.finish()]);
    gpu.mapAsync(GPUMapMode.WRITE).then(
      () => {
        if (this.destroyed) return;
        c.bytes = new Uint8Array(gpu.getMappedRange());
        this.give(c);
      },
      () => {}, // destroyed while mapping: the engine is gone
    );
  }

  /**
   * Uploads bytes that are already in memory (the RAM tier's copies) in chunk-size pieces, so the
   * browser's transfer buffers stay chunk-sized. 'mapped' copies each piece through a chunk.
   */
  async uploadBytes(src: Uint8Array, dst: GPUBuffer, dstOffset: number): Promise<void> {
    for (let at = 0; at < src.byteLength; at += this.chunkBytes) {
      const n = Math.min(this.chunkBytes, src.byteLength - at);
      if (this.method === 'writeBuffer') {
        this.device.queue.writeBuffer(dst, dstOffset + at, src, at, n);
        continue;
      }
      const c = await this.take();
      c.bytes.set(src.subarray(at, at + n));
      this.upload(c, dst, dstOffset + at, n);
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const c of this.all) c.gpu?.destroy();
    this.free = [];
    this.waiters = [];
  }
}
