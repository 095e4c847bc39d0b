import type { BufView, Kernels, KvCacheType, WeightRef } from '../gpu/kernels.ts';
import type { GGUFTensorInfo } from '../gguf/gguf.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import type { ForwardContext, MatmulOptions } from '../models/architecture.ts';
import type { Readback } from '../gpu/readback.ts';
import type { Group } from './residency.ts';
import type { WeightStore } from './weights.ts';

const up4 = (n: number) => Math.ceil(n / 4) * 4;

/** GPU buffers of a loaded model besides the weights (activations, K/V cache, scratch). */
export interface Activations {
  a: Record<string, BufView>;
  /** per layer; null for a layer without a K/V cache (the recurrent layers of a hybrid model: BaseHParams.kvLayers) */
  kCache: (GPUBuffer | null)[];
  /** empty for a latent cache (BaseHParams.kvLatent) */
  vCache: (GPUBuffer | null)[];
  /**
   * recurrent layers (BaseHParams.recurrentState): every layer's conv and recurrent state in one
   * buffer (so a snapshot is one copy), and each layer's views of it (null for other layers)
   */
  recurrent: { buffer: GPUBuffer; conv: (BufView | null)[]; ssm: (BufView | null)[] } | null;
  kvType: KvCacheType;
  scores: GPUBuffer;
  embRows: GPUBuffer;
  ones: GPUBuffer;
  /** per-token weights (MoE router), one 256-byte-aligned slot of tMax floats per expert */
  tokenWeights: GPUBuffer;
  tokenWeightStride: number;
  tMax: number;
  ctx: number;
}

/**
 * The ForwardContext the architectures run against: binds weight names to the WeightStore
 * (streaming them on demand) and the step's tokens to the embedding lookup.
 */
export class Forward implements ForwardContext {
  T = 1;
  pos0 = 0;
  wantLogits = true;
  private tokens: number[] = [];
  private rowCache = new Map<number, Uint8Array>();
  private embStaging: Uint8Array;

  constructor(
    readonly k: Kernels,
    private readonly store: WeightStore,
    private readonly source: ByteSource,
    private readonly embd: GGUFTensorInfo,
    private readonly embedScale: number,
    private readonly bufs: Activations,
    private readonly readback: Readback,
    /** mixture of experts: run only the experts the router picks (false: all, see EngineOptions.expertStreaming) */
    readonly sparseExperts = true,
  ) {
    this.embStaging = new Uint8Array(bufs.embRows.size);
  }

  get a() { return this.bufs.a; }
  get scores(): BufView { return { buffer: this.bufs.scores }; }
  get tMax() { return this.bufs.tMax; }
  get ctx() { return this.bufs.ctx; }
  get kvType() { return this.bufs.kvType; }
  kCache(l: number): BufView { return { buffer: this.cacheOf(this.bufs.kCache[l], l) }; }
  /** a latent cache (no V cache: kvLatent) serves as its own V */
  vCache(l: number): BufView { return { buffer: this.cacheOf(this.bufs.vCache[l] ?? this.bufs.kCache[l], l) }; }
  convState(l: number): BufView { return this.stateOf(this.bufs.recurrent?.conv[l], l); }
  ssmState(l: number): BufView { return this.stateOf(this.bufs.recurrent?.ssm[l], l); }
  ones(length: number): BufView {
    if (length > this.bufs.ones.size / 4) throw new Error(`ones(${length}): only ${this.bufs.ones.size / 4} allocated`);
    return { buffer: this.bufs.ones, size: length * 4 };
  }
  private cacheOf(b: GPUBuffer | null | undefined, l: number): GPUBuffer {
    if (!b) throw new Error(`layer ${l} has no K/V cache`);
    return b;
  }
  private stateOf(v: BufView | null | undefined, l: number): BufView {
    if (!v) throw new Error(`layer ${l} has no recurrent state`);
    return v;
  }
  has(name: string) { return this.store.has(name); }

  /** Sets the step: tokens at positions pos0.., and whether the head runs. */
  begin(tokens: number[], pos0: number, wantLogits: boolean): void {
    this.tokens = tokens;
    this.T = tokens.length;
    this.pos0 = pos0;
    this.wantLogits = wantLogits;
    this.k.recorder.setUnit(-1); // the embedding lookup belongs to no layer
  }

  async embed(y: BufView): Promise<void> {
    const rb = this.embd.nBytes / this.embd.ne[1];
    const rows = await Promise.all(this.tokens.map((t) => this.embeddingRow(t, rb)));
    rows.forEach((r, i) => this.embStaging.set(r, i * rb));
    this.k.device.queue.writeBuffer(this.bufs.embRows, 0, this.embStaging, 0, up4(rows.length * rb));
    this.k.getRows(y, { buffer: this.bufs.embRows }, this.embd.type.name, this.T, this.embd.ne[0], rb, this.embedScale);
  }

  /** Raw bytes of one token_embd row, read from the source (the embedding never needs the GPU). */
  private async embeddingRow(token: number, rowBytes: number): Promise<Uint8Array> {
    let r = this.rowCache.get(token);
    if (!r) {
      r = (await this.source.read(this.embd.offset + token * rowBytes, rowBytes)).slice();
      if (this.rowCache.size >= 4096) this.rowCache.delete(this.rowCache.keys().next().value!);
      this.rowCache.set(token, r);
    }
    return r;
  }

  async matmul(y: BufView, name: string, x: BufView, o: MatmulOptions = {}): Promise<void> {
    const info = this.store.tensorInfo(name)!;
    const rows = info.ne.slice(1).reduce((s, v) => s * v, 1);
    const [r0, r1] = o.rows ?? [0, rows];
    for (const g of this.store.groupsOf(name)) {
      // only the groups holding rows of the range (one expert need not upload the others)
      if (!g.pieces.some((p) => p.tensor === name && p.row0 < r1 && p.row0 + p.rows > r0)) continue;
      const pieces = await this.acquire(g, name);
      this.k.matmul(y, { name, type: info.type.name, cols: info.ne[0], rows, rowBytes: info.nBytes / rows, pieces }, x, o);
    }
  }

  async read(view: BufView, floats: number): Promise<Float32Array> {
    this.k.recorder.flush();
    return new Float32Array(await this.readback.read(view.buffer, view.offset ?? 0, floats * 4));
  }

  tokenWeights(slot: number, w: Float32Array): BufView {
    const offset = slot * this.bufs.tokenWeightStride;
    this.k.device.queue.writeBuffer(this.bufs.tokenWeights, offset, w);
    return { buffer: this.bufs.tokenWeights, offset, size: this.bufs.tokenWeightStride };
  }

  async vector(name: string): Promise<WeightRef> {
    const info = this.store.tensorInfo(name)!;
    const [g] = this.store.groupsOf(name);
    const pieces = await this.acquire(g, name);
    return { name, type: info.type.name, cols: info.ne[0], rows: 1, rowBytes: info.nBytes, pieces };
  }

  async optionalVector(name: string): Promise<BufView> {
    return this.store.has(name) ? (await this.vector(name)).pieces[0].view : { buffer: this.bufs.ones };
  }

  /** The group's pieces of `name`, streamed in if needed; work recorded from here on is its layer's. */
  private async acquire(g: Group, name: string): Promise<WeightRef['pieces']> {
    const pieces = await this.store.acquire(g, name, this.k.recorder);
    if (g.unit >= 0) this.k.recorder.setUnit(g.unit);
    return pieces;
  }
}
