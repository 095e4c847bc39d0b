import type { GGUFTensorInfo } from '../gguf/gguf.ts';
import type { BufView, WeightRef } from '../gpu/kernels.ts';
import type { Recorder } from '../gpu/recorder.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import type { Group, ResidencyPlan } from './residency.ts';

const up4 = (n: number) => Math.ceil(n / 4) * 4;
/** pieces closer than this in the file are read with one request */
const MAX_GAP = 64 << 10;

/**
 * The loader: owns the GPU weight memory — one buffer per resident group, plus the fixed ring of
 * pool slots — and gets bytes from the source into it. Resident groups are uploaded once at load;
 * streamed groups are uploaded into their slot when the forward pass reaches them, while the
 * reads of the next groups are already in flight (prefetch), and a slot is only overwritten after
 * the GPU finished the work that used it (so queued uploads never pile up in memory).
 */
export class WeightStore {
  private groupBuffers: (GPUBuffer | null)[];
  private slots: GPUBuffer[];
  private slotHolds: number[];
  private slotFree: Promise<unknown>[];
  private readonly streamOrder: number[];
  private prefetched = new Map<number, Promise<Uint8Array>>();
  private tensorGroups = new Map<string, number[]>();
  /** bytes written to the GPU in the current pass / since load */
  bytesThisPass = 0;
  /** bytes read from the byte source (disk or network) in the current pass */
  bytesReadThisPass = 0;
  /** the same counters for the last finished pass (what stats report: a pass may be running) */
  bytesLastPass = 0;
  bytesReadLastPass = 0;
  waitMsLastPass = 0;
  passMsLast = 0;
  private passStart = 0;
  /**
   * The RAM tier: bytes of streamed groups kept in memory, least recently used evicted first, up to
   * ramBudgetBytes — the page cache of llama.cpp's mmap design, between the disk and the GPU.
   */
  private ram = new Map<number, Uint8Array>();
  private ramBytes = 0;
  /**
   * The GPU expert cache: expert slices in slots, least recently used reused first (Map order is
   * the LRU order: group index → slot).
   */
  private expertSlots: GPUBuffer[];
  private expertLru = new Map<number, number>();
  expertHits = 0;
  expertMisses = 0;
  bytesTotal = 0;
  /** time (ms) the forward pass waited for bytes or for a slot, this pass */
  waitMsThisPass = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly source: ByteSource,
    private readonly tensors: ReadonlyMap<string, GGUFTensorInfo>,
    readonly plan: ResidencyPlan,
    /** RAM tier budget, bytes (0 = off) */
    readonly ramBudgetBytes = 0,
  ) {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.groupBuffers = plan.groups.map((g) => (g.resident ? device.createBuffer({ label: `weights group ${g.index}`, size: Math.max(g.bytes, 4), usage }) : null));
    this.slots = Array.from({ length: plan.slots }, (_, i) => device.createBuffer({ label: `pool slot ${i}`, size: plan.slotBytes, usage }));
    this.slotHolds = this.slots.map(() => -1);
    this.slotFree = this.slots.map(() => Promise.resolve());
    this.expertSlots = Array.from({ length: plan.expertSlots }, (_, i) => device.createBuffer({ label: `expert cache slot ${i}`, size: plan.expertSlotBytes, usage }));
    // read-ahead follows the ring; which experts come next is only known from the router
    this.streamOrder = plan.groups.filter((g) => !g.resident && g.slot >= 0).map((g) => g.index);
    for (const g of plan.groups) {
      for (const p of g.pieces) {
        const list = this.tensorGroups.get(p.tensor) ?? [];
        if (!list.includes(g.index)) list.push(g.index);
        this.tensorGroups.set(p.tensor, list);
      }
    }
  }

  /** GPU bytes holding weights: resident groups + pool slots. */
  get gpuBytes(): number {
    const sum = (bufs: (GPUBuffer | null)[]) => bufs.reduce((s, b) => s + (b?.size ?? 0), 0);
    return sum(this.groupBuffers) + sum(this.slots) + sum(this.expertSlots);
  }

  has(name: string): boolean {
    return this.tensorGroups.has(name);
  }

  /** Uploads every resident group (at load). `onBytes` reports progress in bytes. */
  async uploadResident(onBytes: (done: number, total: number) => void, signal?: AbortSignal): Promise<void> {
    const resident = this.plan.groups.filter((g) => g.resident);
    const total = resident.reduce((s, g) => s + g.bytes, 0);
    let done = 0;
    for (const g of resident) {
      this.device.queue.writeBuffer(this.groupBuffers[g.index]!, 0, await this.readGroup(g, signal));
      done += g.bytes;
      onBytes(done, total);
    }
  }

  /** The groups holding tensor `name`, in row order. */
  groupsOf(name: string): Group[] {
    return (this.tensorGroups.get(name) ?? []).map((i) => this.plan.groups[i]);
  }

  /**
   * Makes group `g` available on the GPU and returns the views of its pieces of tensor `name`.
   * For a streamed group this may flush `recorder` and await the bytes and the slot.
   */
  async acquire(g: Group, name: string, recorder: Recorder): Promise<WeightRef['pieces']> {
    let buffer: GPUBuffer;
    if (g.resident) {
      buffer = this.groupBuffers[g.index]!;
    } else if (g.slot < 0) {
      buffer = this.expertSlots[await this.cachedExpert(g, recorder)];
    } else {
      buffer = this.slots[g.slot];
      if (this.slotHolds[g.slot] !== g.index) await this.stream(g, recorder);
    }
    return g.pieces
      .filter((p) => p.tensor === name)
      .map((p) => ({ view: { buffer, offset: p.groupOffset, size: up4(p.nBytes) } as BufView, row0: p.row0, rows: p.rows }));
  }

  /** The expert cache slot holding group g, uploading it into the least recently used slot on a miss. */
  private async cachedExpert(g: Group, recorder: Recorder): Promise<number> {
    const hit = this.expertLru.get(g.index);
    if (hit !== undefined) {
      this.expertLru.delete(g.index);
      this.expertLru.set(g.index, hit);
      this.expertHits++;
      return hit;
    }
    this.expertMisses++;
    let slot = this.expertLru.size;
    if (slot >= this.expertSlots.length) {
      const [oldest, s] = this.expertLru.entries().next().value!;
      this.expertLru.delete(oldest);
      slot = s;
    }
    recorder.flush(); // work recorded so far may read the slot's old expert
    const t0 = performance.now();
    const image = await this.readGroup(g);
    this.waitMsThisPass += performance.now() - t0;
    this.device.queue.writeBuffer(this.expertSlots[slot], 0, image);
    this.expertLru.set(g.index, slot);
    const n = g.pieces.reduce((s, p) => s + p.nBytes, 0);
    this.bytesThisPass += n;
    this.bytesTotal += n;
    return slot;
  }

  private async stream(g: Group, recorder: Recorder): Promise<void> {
    const t0 = performance.now();
    // Everything recorded so far may read the slot's old contents: submit it, then note when the
    // GPU is done with it; wait for this slot's previous user to finish before refilling it.
    // (A group's tensors are all used before the next group is acquired, so after this flush the
    // previously streamed group's work is complete on the queue.)
    recorder.flush();
    if (this.lastStreamed >= 0) this.slotFree[this.plan.groups[this.lastStreamed].slot] = this.device.queue.onSubmittedWorkDone();
    const [image] = await Promise.all([this.take(g), this.slotFree[g.slot]]);
    this.waitMsThisPass += performance.now() - t0;
    this.device.queue.writeBuffer(this.slots[g.slot], 0, image);
    this.slotHolds[g.slot] = g.index;
    this.lastStreamed = g.index;
    const n = g.pieces.reduce((s, p) => s + p.nBytes, 0);
    this.bytesThisPass += n;
    this.bytesTotal += n;
    this.prefetchAfter(g.index);
  }
  private lastStreamed = -1;

  /** Starts reading the next streamed groups (wrapping into the next pass) so bytes are ready. */
  private prefetchAfter(index: number): void {
    const order = this.streamOrder;
    const at = order.indexOf(index);
    for (let i = 1; i <= this.slots.length; i++) {
      const next = order[(at + i) % order.length];
      if (next === index || this.prefetched.has(next) || this.slotHolds.includes(next)) continue;
      const g = this.plan.groups[next];
      const p = this.readGroup(g);
      p.catch(() => {}); // surfaced when taken
      this.prefetched.set(next, p);
    }
  }

  private take(g: Group): Promise<Uint8Array> {
    const p = this.prefetched.get(g.index) ?? this.readGroup(g);
    this.prefetched.delete(g.index);
    return p;
  }

  /** RAM tier bytes in use. */
  get ramBytesUsed(): number {
    return this.ramBytes;
  }

  /**
   * The group's upload image: each piece at its groupOffset, `up4(bytes)` long, from the RAM tier when
   * it holds it. Pieces are read from the source in runs (one request per run of pieces less than
   * 64 KiB apart in the file: a layer's tensors are often, but not always, stored together).
   * Streamed groups read from the source are kept in the RAM tier while its budget lasts.
   */
  private async readGroup(g: Group, signal?: AbortSignal): Promise<Uint8Array> {
    const hit = this.ram.get(g.index);
    if (hit) {
      this.ram.delete(g.index); // re-insert: Map order is the LRU order
      this.ram.set(g.index, hit);
      return hit;
    }
    const image = new Uint8Array(up4(g.bytes));
    const pieces = [...g.pieces].sort((a, b) => a.fileOffset - b.fileOffset);
    const runs: (typeof pieces)[] = [];
    for (const p of pieces) {
      const run = runs.at(-1);
      const last = run?.at(-1);
      if (run && last && p.fileOffset - (last.fileOffset + last.nBytes) <= MAX_GAP) run.push(p);
      else runs.push([p]);
    }
    await Promise.all(
      runs.map(async (run) => {
        const start = run[0].fileOffset;
        const end = Math.max(...run.map((p) => p.fileOffset + p.nBytes));
        const bytes = await this.source.read(start, end - start, signal);
        this.bytesReadThisPass += bytes.byteLength;
        for (const p of run) image.set(bytes.subarray(p.fileOffset - start, p.fileOffset - start + p.nBytes), p.groupOffset);
      }),
    );
    if (!g.resident && image.byteLength <= this.ramBudgetBytes) {
      for (const [i, b] of this.ram) {
        if (this.ramBytes + image.byteLength <= this.ramBudgetBytes) break;
        this.ram.delete(i);
        this.ramBytes -= b.byteLength;
      }
      this.ram.set(g.index, image);
      this.ramBytes += image.byteLength;
    }
    return image;
  }

  /** Starts a forward pass: resets per-pass counters. */
  beginPass(): void {
    this.bytesThisPass = 0;
    this.bytesReadThisPass = 0;
    this.waitMsThisPass = 0;
    this.passStart = performance.now();
  }

  /** Ends a forward pass: publishes its counters. */
  endPass(): void {
    this.bytesLastPass = this.bytesThisPass;
    this.bytesReadLastPass = this.bytesReadThisPass;
    this.waitMsLastPass = this.waitMsThisPass;
    this.passMsLast = performance.now() - this.passStart;
  }

  tensorInfo(name: string): GGUFTensorInfo | undefined {
    return this.tensors.get(name);
  }

  destroy(): void {
    for (const b of this.groupBuffers) b?.destroy();
    for (const b of this.slots) b.destroy();
    for (const b of this.expertSlots) b.destroy();
  }
}
