/**
 * The RAM tier: upload images of streamed groups kept in memory between the disk (or network) and
 * the GPU, least recently used evicted first, up to `budgetBytes` — the page cache of llama.cpp's
 * mmap design. A model that fits RAM but not the GPU budget then streams from memory.
 *
 * Evicted images are dropped, not recycled: a read-ahead may still be about to upload one.
 */
export class RamTier {
  /** group index → image; Map order is the LRU order (oldest first) */
  private images = new Map<number, Uint8Array>();
  private used = 0;

  /** @param budgetBytes bytes of images to hold (0 = off) */
  constructor(readonly budgetBytes: number) {}

  /** Bytes of images held. */
  get bytesUsed(): number {
    return this.used;
  }

  /** The image of group `g` (marking it most recently used), or undefined. */
  get(g: number): Uint8Array | undefined {
    const img = this.images.get(g);
    if (img) {
      this.images.delete(g);
      this.images.set(g, img);
    }
    return img;
  }

  /** Whether group `g` is held (without touching the LRU order). */
  has(g: number): boolean {
    return this.images.has(g);
  }

  /**
   * Room for an image of `bytes`: evicts least recently used images until it fits and returns a
   * buffer to fill (then `put` it), or null when the tier is off or `bytes` exceeds its budget.
   */
  admit(bytes: number): Uint8Array | null {
    if (bytes > this.budgetBytes) return null;
    for (const [g, img] of this.images) {
      if (this.used + bytes <= this.budgetBytes) break;
      this.images.delete(g);
      this.used -= img.byteLength;
    }
    this.used += bytes; // reserved now, so a second admit before put cannot overshoot
    return new Uint8Array(bytes);
  }

  /** Stores a filled image from `admit` as group `g`'s. */
  put(g: number, img: Uint8Array): void {
    this.images.set(g, img);
  }

  /** Gives back an admitted buffer that was not filled (its read failed). */
  cancel(img: Uint8Array): void {
    this.used -= img.byteLength;
  }
}
