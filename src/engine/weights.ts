import type { GGUFTensorInfo } from '../gguf/gguf.ts';
import type { BufView, WeightRef } from '../gpu/kernels.ts';
import type { Recorder } from '../gpu/recorder.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import { RamTier } from './ram-tier.ts';
import { ReadAhead, type Entry } from './read-ahead.ts';
import type { Group, ResidencyPlan } from './residency.ts';
import { Staging, type UploadMethod } from './staging.ts';

const up4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Staging chunk size, bytes: reads and uploads go in pieces of at most this — the size of Dawn's
 * upload ring buffers (dawn/native/DynamicUploader.h kRingBufferSize), which writeBuffer copies into.
 */
export const STAGING_CHUNK_BYTES = 4 << 20;
/**
 * Staging chunks: a sixteenth of the GPU budget, 4 to 16 chunks (16–64 MiB at 4 MiB). All but one
 * read ahead of the pass; one is kept for direct reads (experts). Host memory grows with the budget
 * the user gave, like everything else.
 */
export function stagingChunks(budgetBytes: number, chunkBytes: number): number {
  return Math.max(4, Math.min(16, Math.floor(budgetBytes / 16 / chunkBytes)));
}

/**
 * The loader: owns the GPU weight memory — one buffer per resident group, plus the fixed ring of
 * pool slots and the expert cache — and gets bytes from the source into it. Resident groups are
 * uploaded once at load; streamed groups are uploaded into their slot when the forward pass
 * reaches them, from staging chunks the read-ahead filled while the GPU was busy, and a slot is
 * only overwritten after the GPU finished the work that used it. All host and GPU memory is
 * allocated here at load (the RAM tier fills up to its budget): nothing is allocated per token.
 */
export class WeightStore {
  private groupBuffers: (GPUBuffer | null)[];
  private slots: GPUBuffer[];
  private slotHolds: number[];
  private slotFree: Promise<unknown>[];
  /** per slot: how many streamed groups share it (a slot with one user keeps it once uploaded) */
  private slotUsers: number[];
  private lastStreamed = -1;
  private tensorGroups = new Map<string, number[]>();
  private readonly staging: Staging;
  private readonly ram: RamTier;
  private readonly ahead: ReadAhead;
  readonly ramBudgetBytes: number;
  readonly uploadMethod: UploadMethod;
  /** bytes written to the GPU in the current pass / since load */
  bytesThisPass = 0;
  /** bytes read from the byte source (disk or network) in the current pass */
  bytesReadThisPass = 0;
  /** the same counters for the last finished pass (what stats report: a pass may be running) */
  bytesLastPass = 0;
  bytesReadLastPass = 0;
  waitMsLastPass = 0;
  slotWaitMsLastPass = 0;
  passMsLast = 0;
  private passStart = 0;
  /**
   * The GPU expert cache: expert slices in slots, least recently used reused first (Map order is
   * the LRU order: group index → slot).
   */
  private expertSlots: GPUBuffer[];
  private expertLru = new Map<number, number>();
  expertHits = 0;
  expertMisses = 0;
  bytesTotal = 0;
  /** time (ms) the forward pass waited for streamed bytes (reads) / for the GPU to free a pool slot, this pass */
  waitMsThisPass = 0;
  slotWaitMsThisPass = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly source: ByteSource,
    private readonly tensors: ReadonlyMap<string, GGUFTensorInfo>,
    readonly plan: ResidencyPlan,
    o: {
      /** RAM tier budget, bytes (0 = off) */
      ramBudgetBytes?: number;
      /** how staged bytes reach the GPU (see staging.ts) */
      uploadMethod?: UploadMethod;
      /** bytes per staging chunk (a multiple of 4) */
      stagingChunkBytes?: number;
    } = {},
  ) {
    this.ramBudgetBytes = o.ramBudgetBytes ?? 0;
    this.uploadMethod = o.uploadMethod ?? 'writeBuffer';
    // COPY_SRC: a forward pass may read a small weight back (ForwardContext.read: MoE's exp_probs_b selection bias)
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.groupBuffers = plan.groups.map((g) => (g.resident ? device.createBuffer({ label: `weights group ${g.index}`, size: Math.max(g.bytes, 4), usage }) : null));
    this.slots = Array.from({ length: plan.slots }, (_, i) => device.createBuffer({ label: `pool slot ${i}`, size: plan.slotBytes, usage }));
    this.slotHolds = this.slots.map(() => -1);
    this.slotFree = this.slots.map(() => Promise.resolve());
    this.expertSlots = Array.from({ length: plan.expertSlots }, (_, i) => device.createBuffer({ label: `expert cache slot ${i}`, size: plan.expertSlotBytes, usage }));
    // read-ahead follows the ring; which experts come next is only known from the router
    const order = plan.groups.filter((g) => !g.resident && g.slot >= 0).map((g) => g.index);
    this.slotUsers = this.slots.map((_, s) => order.filter((i) => plan.groups[i].slot === s).length);
    for (const g of plan.groups) {
      for (const p of g.pieces) {
        const list = this.tensorGroups.get(p.tensor) ?? [];
        if (!list.includes(g.index)) list.push(g.index);
        this.tensorGroups.set(p.tensor, list);
      }
    }
    // chunks no bigger than the biggest group: a small model gets small staging
    const chunkBytes = Math.min(up4(o.stagingChunkBytes ?? STAGING_CHUNK_BYTES), Math.max(4, ...plan.groups.map((g) => up4(g.bytes))));
    const count = stagingChunks(plan.budgetBytes, chunkBytes);
    this.staging = new Staging(device, this.uploadMethod, count, chunkBytes);
    this.ram = new RamTier(this.ramBudgetBytes);
    const groups = plan.groups;
    this.ahead = new ReadAhead(
      {
        order,
        bytesOf: (i) => up4(groups[i].bytes),
        skip: (i) => this.slotUsers[groups[i].slot] === 1 && this.slotHolds[groups[i].slot] === i,
        fill: (i, from, dest) => this.fill(groups[i], from, dest),
      },
      this.staging,
      this.ram,
      count - 1,
    );
  }

  /** GPU bytes holding weights: resident groups + pool slots. */
  get gpuBytes(): number {
    const sum = (bufs: (GPUBuffer | null)[]) => bufs.reduce((s, b) => s + (b?.size ?? 0), 0);
    return sum(this.groupBuffers) + sum(this.slots) + sum(this.expertSlots);
  }

  /** Host memory of the upload staging chunks, bytes (fixed at load). */
  get stagingBytes(): number {
    return this.staging.bytes;
  }

  has(name: string): boolean {
    return this.tensorGroups.has(name);
  }

  /** Uploads every resident group (at load), reading up to all staging chunks ahead. `onBytes` reports progress in bytes. */
  async uploadResident(onBytes: (done: number, total: number) => void, signal?: AbortSignal): Promise<void> {
    const resident = this.plan.groups.filter((g) => g.resident);
    const total = resident.reduce((s, g) => s + g.bytes, 0);
    let done = 0;
    for (const g of resident) {
      await this.copyGroup(g, this.groupBuffers[g.index]!, this.staging.count, signal);
      // let the GPU take what was written before writing more: queued writes wait in the browser's
      // transfer buffers, and a whole resident model written at once would wait there together
      await this.device.queue.onSubmittedWorkDone();
      done += g.bytes;
      onBytes(done, total);
    }
    this.ahead.start(); // the first streamed groups are read while the first prompt is typed
  }

  /**
   * Reads group g chunk by chunk (up to `depth` chunks in flight) and uploads each into `dst` at its
   * offset. The direct path: resident groups at load, and experts on an expert-cache miss.
   */
  private async copyGroup(g: Group, dst: GPUBuffer, depth: number, signal?: AbortSignal): Promise<void> {
    const size = up4(g.bytes);
    const inflight: { offset: number; n: number; chunk: Awaited<ReturnType<Staging['take']>>; ready: Promise<void> }[] = [];
    let next = 0;
    try {
      while (next < size || inflight.length) {
        while (next < size && inflight.length < depth) {
          // wait for a chunk only with none in flight: they are only freed by the uploads below
          const chunk = inflight.length ? this.staging.tryTake() : await this.staging.take();
          if (!chunk) break;
          const n = Math.min(this.staging.chunkBytes, size - next);
          const ready = this.fill(g, next, chunk.bytes.subarray(0, n), signal);
          ready.catch(() => {}); // awaited in order below
          inflight.push({ offset: next, n, chunk, ready });
          next += n;
        }
        const e = inflight[0];
        await e.ready;
        inflight.shift();
        this.staging.upload(e.chunk, dst, e.offset, e.n);
      }
    } finally {
      // a failed read: wait for the others (their chunks must not be refilled mid-read), free them
      await Promise.allSettled(inflight.map((e) => e.ready));
      for (const e of inflight) this.staging.give(e.chunk);
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
    const image = this.ram.get(g.index);
    if (image) await this.staging.uploadBytes(image, this.expertSlots[slot], 0);
    else await this.copyGroup(g, this.expertSlots[slot], 1);
    this.waitMsThisPass += performance.now() - t0;
    this.expertLru.set(g.index, slot);
    this.countUpload(g);
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
    this.slotHolds[g.slot] = -1; // being overwritten: if a read fails now, the slot holds nothing whole
    await this.slotFree[g.slot];
    const t1 = performance.now();
    this.slotWaitMsThisPass += t1 - t0;
    const dst = this.slots[g.slot];
    let uploadMs = 0; // copying into the browser's transfer buffers is work, not waiting
    for await (const e of this.ahead.entries(g.index)) {
      const tu = performance.now();
      await this.upload(e, dst);
      uploadMs += performance.now() - tu;
    }
    this.waitMsThisPass += performance.now() - t1 - uploadMs;
    this.slotHolds[g.slot] = g.index;
    this.lastStreamed = g.index;
    this.countUpload(g);
  }

  /** Uploads a read-ahead entry into `dst` (its bytes: a staging chunk, or a RAM-tier image). */
  private async upload(e: Entry, dst: GPUBuffer): Promise<void> {
    if (e.chunk) this.staging.upload(e.chunk, dst, e.offset, e.n);
    else await this.staging.uploadBytes(e.image!, dst, e.offset);
  }

  private countUpload(g: Group): void {
    const n = g.pieces.reduce((s, p) => s + p.nBytes, 0);
    this.bytesThisPass += n;
    this.bytesTotal += n;
  }

  /** RAM tier bytes in use. */
  get ramBytesUsed(): number {
    return this.ram.bytesUsed;
  }

  /**
   * Fills `dest` with bytes [from, from + dest.byteLength) of group g's upload image: each piece at
   * its groupOffset, read straight from the source into place; the alignment gaps between pieces
   * are zeroed (dest is a reused staging chunk).
   */
  private async fill(g: Group, from: number, dest: Uint8Array, signal?: AbortSignal): Promise<void> {
    const to = from + dest.byteLength;
    const reads: Promise<void>[] = [];
    let cursor = from;
    for (const p of g.pieces) {
      const s = Math.max(from, p.groupOffset);
      const e = Math.min(to, p.groupOffset + p.nBytes);
      if (s >= e) continue;
      if (s > cursor) dest.fill(0, cursor - from, s - from);
      reads.push(this.source.readInto(p.fileOffset + (s - p.groupOffset), dest.subarray(s - from, e - from), signal));
      this.bytesReadThisPass += e - s;
      cursor = e;
    }
    if (cursor < to) dest.fill(0, cursor - from, to - from);
    await Promise.all(reads);
  }
  /** Starts a forward pass: resets per-pass counters. */
  beginPass(): void {
    this.bytesThisPass = 0;
    this.bytesReadThisPass = 0;
    this.waitMsThisPass = 0;
    this.slotWaitMsThisPass = 0;
    this.passStart = performance.now();
  }

  /** Ends a forward pass: publishes its counters. */
  endPass(): void {
    this.bytesLastPass = this.bytesThisPass;
    this.bytesReadLastPass = this.bytesReadThisPass;
    this.waitMsLastPass = this.waitMsThisPass;
    this.slotWaitMsLastPass = this.slotWaitMsThisPass;
    this.passMsLast = performance.now() - this.passStart;
  }

  tensorInfo(name: string): GGUFTensorInfo | undefined {
    return this.tensors.get(name);
  }

  destroy(): void {
    this.ahead.stop();
    this.staging.destroy();
    for (const b of this.groupBuffers) b?.destroy();
    for (const b of this.slots) b.destroy();
    for (const b of this.expertSlots) b.destroy();
  }
}
