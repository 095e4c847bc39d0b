import type { EngineStats, GenerateRequest, GeneratedToken, ModelInfo, SpeculativeOptions } from '../api.ts';
import { LayerstreamError } from '../errors.ts';
import type { GGUFFile, Metadata } from '../gguf/gguf.ts';
import { countBufferCreation, isCpuAdapter } from '../gpu/device.ts';
import { Kernels, type BufView, type KvCacheType } from '../gpu/kernels.ts';
import { PassTimer } from '../gpu/pass-timer.ts';
import { Readback } from '../gpu/readback.ts';
import { isGpuType } from '../gpu/shaders.ts';
import type { Architecture, BaseHParams } from '../models/architecture.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import type { GGUFTokenizer } from '../tokenizer/index.ts';
import { checkModel } from './check-model.ts';
import type { TokenConstraint } from './constraint.ts';
import { Forward, type Activations } from './forward.ts';
import { gpuSize, kvCacheRowBytes, memoryPlan } from './memory-plan.ts';
import { defaultGpuBudget, planResidency } from './residency.ts';
import { drawFrom, rng, type TokenDist } from './sampler.ts';
import { acceptDraft, DraftLength, draftVocabularyMismatch, ngramDraft } from './speculative.ts';
import { TokenPicker, type PickOptions } from './token-picker.ts';
import type { UploadMethod } from './staging.ts';
import { WeightStore } from './weights.ts';

export interface CoreOptions {
  /** GPU budget, bytes: K/V cache + scratch + weights (resident + pool slots). Default: defaultGpuBudget() (residency.ts). */
  gpuBudgetBytes?: number;
  /** tokens of K/V cache. Default min(model context, 2048). */
  contextLength?: number;
  /** K/V cache format: 'f32' (default) or 'q8_0' (3.6× smaller; needs n_head_kv·head_dim % 32 == 0). */
  kvCacheType?: KvCacheType;
  /** mixture of experts: upload only the experts the router picks (default true); false streams and runs them all */
  expertStreaming?: boolean;
  /** time each layer's GPU work with timestamp queries (stats().layerGpuMs); default false */
  profileLayers?: boolean;
  /** prompt tokens processed per batch (activation memory grows with it). Default 32. */
  maxBatch?: number;
  /** cap on one weight binding, bytes (testing the splitting of big tensors). Default: device limit. */
  maxBindingBytes?: number;
  /** bytes per upload staging chunk, a multiple of 4. Default STAGING_CHUNK_BYTES (4 MiB). */
  stagingChunkBytes?: number;
  /** recurrent models: state snapshots kept on the GPU (EngineOptions.stateSnapshots). Default 4. */
  stateSnapshots?: number;
  /** GPU bytes of the budget another model on the device holds (the draft model): reserved, not planned. Default 0. */
  draftBytes?: number;
  /** RAM tier for streamed weights, bytes (0 = off). Default 0. */
  ramBudgetBytes?: number;
  /** how staged weight bytes reach the GPU (engine/staging.ts). Default 'writeBuffer'. */
  uploadMethod?: UploadMethod;
  onProgress?: (phase: string, loaded: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * GenerateRequest with the prompt already tokenized; reuseCache (default true) keeps a shared
 * prefix's K/V; constraint: a grammar / JSON schema cursor every generated token must pass.
 */
export type CoreGenerateRequest = Omit<GenerateRequest, 'prompt'> & { tokens: number[]; reuseCache?: boolean; constraint?: TokenConstraint };

/** Draft tokens per pass unless set (api.ts SpeculativeOptions.maxDraftTokens): bench 'speculative' */
const DEFAULT_MAX_DRAFT_TOKENS = 4;

function commonPrefix(a: number[], b: number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** A copy of every layer's recurrent state, taken after `tokens` (null: empty); `used` orders replacement. */
interface StateSnapshot {
  buffer: GPUBuffer;
  tokens: number[] | null;
  used: number;
}

/**
 * One loaded model on one GPUDevice: the data flow source → GGUF header → architecture plan →
 * residency plan → weight store → kernels → sampler. DOM-free: runs in a worker, or anywhere with
 * a GPUDevice. Calls are serialized (one forward pass at a time).
 */
export class EngineCore {
  private lock: Promise<void> = Promise.resolve();
  /** the tokens whose keys and values are in the K/V cache, at positions 0.. */
  private kvTokens: number[] = [];
  /** prompt tokens the last generate() took from the cache instead of computing */
  lastCachedTokens = 0;
  /** why the last generate() ended: an end-of-generation token, maxTokens / a full context, or abort */
  lastFinish: 'stop' | 'length' | 'abort' = 'stop';
  private lastPrefillTps = 0;
  private lastDecodeTps = 0;
  /** dispatches and GPU round trips (readbacks) per decode pass, token picking included: the advisor's fixed costs */
  private lastPassCounts = { dispatches: 0, readbacks: 0 };
  private disposed = false;
  /** profileLayers: GPU ms per unit (layers, then the output head) of the last forward pass */
  private unitGpuMs: number[] = [];
  /**
   * Recurrent models: whether the live state (bufs.recurrent) is the state after kvTokens; false
   * after a pass that failed part way (some batches ran).
   */
  private stateValid = true;
  private snapshotClock = 0;
  /** speculative decoding: the draft model (attachDraft), the engine-wide default, the last generate's counts */
  private draft: EngineCore | null = null;
  private defaultSpeculative: Partial<SpeculativeOptions> = {};
  /** recurrent models: the snapshot the current generate's speculative passes return to (decodeStep) */
  private passSnapshot: StateSnapshot | null = null;
  private lastSpec = { draft: 'off' as 'off' | 'ngram' | 'model', proposed: 0, accepted: 0, passes: 0, bytes: 0 };

  private constructor(
    readonly info: ModelInfo,
    readonly tokenizer: GGUFTokenizer,
    /** tokenizer.chat_template, or null */
    readonly chatTemplate: string | null,
    private readonly device: GPUDevice,
    private readonly arch: Architecture<BaseHParams>,
    private readonly h: BaseHParams,
    private readonly k: Kernels,
    private readonly store: WeightStore,
    private readonly f: Forward,
    private readonly bufs: Activations,
    private readonly readback: Readback,
    private readonly picker: TokenPicker,
    /** GPU bytes besides weights and the K/V cache */
    private readonly scratchBytes: number,
    private readonly source: ByteSource,
    private readonly buffersCreated: () => number,
    /** recurrent models: the state snapshots (allocated at load, empty until taken) */
    private readonly snapshots: StateSnapshot[],
  ) {}

  /**
   * Loads a model (its byte source and parsed header: see storage/open-model.ts): checks every tensor the architecture needs (presence, shape,
   * type), plans residency under the budget, uploads resident weights, allocates the K/V cache.
   * Throws LayerstreamError: not_gguf, truncated, malformed, unsupported_architecture,
   * unsupported_tensor_type, missing_tensor, budget_too_small, fetch_failed.
   */
  static async load(model: { source: ByteSource; gguf: GGUFFile }, device: GPUDevice, o: CoreOptions = {}): Promise<EngineCore> {
    const { source, gguf } = model;
    const buffersCreated = countBufferCreation(device);
    const progress = o.onProgress ?? (() => {});
    // every count in the header checked against the tensors present before anything is allocated
    const { md, arch, tokenizer, h, uses, embd } = checkModel(gguf, isGpuType);
    progress('plan', 0, source.size);

    const kvType = o.kvCacheType ?? 'f32';
    if (kvType !== 'f32' && kvType !== 'q8_0') throw new LayerstreamError('invalid_request', `kvCacheType must be 'f32' or 'q8_0', got ${String(kvType)}`);
    if (kvType === 'q8_0' && h.kvWidth % 32 !== 0) {
      throw new LayerstreamError('invalid_request', `kvCacheType 'q8_0' needs a K/V row width (n_head_kv · head_dim) that is a multiple of 32; this model's is ${h.kvWidth}`);
    }
    const uploadMethod = o.uploadMethod ?? 'writeBuffer';
    if (uploadMethod !== 'writeBuffer' && uploadMethod !== 'mapped') throw new LayerstreamError('invalid_request', `uploadMethod must be 'writeBuffer' or 'mapped', got ${String(uploadMethod)}`);
    const limits = device.limits;
    // Everything besides weights is sized from the header (memory-plan.ts, shared with the
    // memory-fit advisor), allocated first and taken off the budget: the K/V cache, the recurrent
    // state and its snapshots, and the scratch (activations, scores, logits readback).
    const m = memoryPlan({
      h, activations: arch.activations(h), embdRowBytes: embd.nBytes / embd.ne[1],
      contextLength: o.contextLength, kvCacheType: kvType, maxBatch: o.maxBatch, stateSnapshots: o.stateSnapshots,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
    });
    const { ctx, tMax, kvRowBytes, recurrent: rec, nSnapshots } = m;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buf = (label: string, bytes: number) => device.createBuffer({ label, size: gpuSize(bytes), usage });
    const deviceMemory = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
    const budgetBytes = o.gpuBudgetBytes ?? defaultGpuBudget(deviceMemory, { maxBufferSize: device.limits.maxBufferSize, cpuFallback: isCpuAdapter(device) });
    const a: Record<string, BufView> = {};
    for (const [name, bytes] of Object.entries(m.activationBytes)) a[name] = { buffer: buf(name, bytes) };
    const ones = buf('ones', m.onesBytes);
    device.queue.writeBuffer(ones, 0, new Float32Array(4096).fill(1));
    const recurrentBuffer = rec ? buf('recurrent state', rec.bytes) : null;
    const bufs: Activations = {
      a,
      kCache: m.kvLayers.map((has, l) => (has ? buf(`k cache ${l}`, ctx * kvRowBytes) : null)),
      vCache: h.kvLatent ? [] : m.kvLayers.map((has, l) => (has ? buf(`v cache ${l}`, ctx * kvRowBytes) : null)),
      recurrent: rec && recurrentBuffer
        ? {
            buffer: recurrentBuffer,
            conv: rec.conv.map((v) => (v ? { buffer: recurrentBuffer, ...v } : null)),
            ssm: rec.ssm.map((v) => (v ? { buffer: recurrentBuffer, ...v } : null)),
          }
        : null,
      kvType,
      scores: buf('attention scores', m.scoresBytes),
      embRows: buf('embedding rows', m.embRowsBytes),
      ones,
      tokenWeights: buf('token weights', m.tokenWeightsBytes),
      tokenWeightStride: m.tokenWeightStride,
      tMax,
      ctx,
    };
    const timer = o.profileLayers && PassTimer.supported(device) ? new PassTimer(device) : null;
    const k = new Kernels(device, isCpuAdapter(device), timer);
    const readback = new Readback(device);
    readback.reserve(m.readbackBytes);
    const picker = new TokenPicker(k, readback, a.logits, h.nVocab);
    const scratchBytes = scratchBytesOf(bufs) + k.bytes + readback.bytes + picker.bytes;

    const plan = planResidency(uses, {
      budgetBytes,
      // the scratch as allocated (equal to m.scratchBytes, plus layer timing buffers when profiling)
      reserved: { ...m.reserved, scratch: scratchBytes, ...(o.draftBytes ? { 'draft model': o.draftBytes } : {}) },
      maxBindingBytes: Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, o.maxBindingBytes ?? Infinity),
      align: limits.minStorageBufferOffsetAlignment,
      nUnits: h.nLayers + 1,
      expertWorkingSet: 3 * ((h as BaseHParams & { nExpertUsed?: number }).nExpertUsed ?? 0) * h.nLayers,
      expertStreaming: o.expertStreaming,
    });
    const snapshots: StateSnapshot[] = rec ? Array.from({ length: nSnapshots }, (_, i) => ({ buffer: buf(`state snapshot ${i}`, rec.bytes), tokens: null, used: 0 })) : [];
    const store = new WeightStore(device, source, gguf.tensorByName, plan, { ramBudgetBytes: o.ramBudgetBytes ?? 0, uploadMethod, stagingChunkBytes: o.stagingChunkBytes });
    await store.uploadResident((d, t) => progress('upload', d, t), o.signal);
    const f = new Forward(k, store, source, embd, h.embedScale, bufs, readback, o.expertStreaming !== false);
    const tensorTypes: Record<string, number> = {};
    for (const t of gguf.tensors) tensorTypes[t.type.name] = (tensorTypes[t.type.name] ?? 0) + 1;
    const info: ModelInfo = {
      architecture: arch.name,
      name: modelName(md, arch.name, source.name),
      nLayers: h.nLayers,
      nVocab: h.nVocab,
      contextLength: h.contextLength,
      fileBytes: source.size,
      tensorTypes,
    };
    progress('ready', source.size, source.size);
    const chatTemplate = md.has('tokenizer.chat_template') ? md.string('tokenizer.chat_template') : null;
    return new EngineCore(info, tokenizer, chatTemplate, device, arch, h, k, store, f, bufs, readback, picker, scratchBytes, source, buffersCreated, snapshots);
  }

  /**
   * Makes `draft` (an EngineCore on the same GPUDevice) this model's draft model for speculative
   * decoding ('model' / 'auto'); it is disposed with this one. Throws
   * LayerstreamError('vocab_mismatch') naming both models when its token ids do not mean this
   * model's (speculative.ts draftVocabularyMismatch).
   */
  attachDraft(draft: EngineCore): void {
    const why = draftVocabularyMismatch(this.tokenizer, draft.tokenizer);
    if (why) throw new LayerstreamError('vocab_mismatch', `draft model ${draft.info.name} cannot draft for ${this.info.name}: ${why}`);
    this.draft = draft;
  }

  /** Sets the speculative decoding a generate gets when its request sets none (EngineOptions.speculative). */
  setDefaultSpeculative(o: SpeculativeOptions | undefined): void {
    this.defaultSpeculative = { ...(o ?? {}) };
    this.speculation(undefined); // validates now, at load
  }

  /** GPU bytes this model holds: weights, K/V cache, recurrent state and snapshots, scratch. */
  get gpuBytes(): number {
    const st = this.stats();
    return st.weightBytesOnGpu + st.kvCacheBytes + st.recurrentStateBytes + st.stateSnapshotBytes + st.scratchBytes;
  }

  /** Waits for every earlier call to finish (one forward pass at a time); returns the release. */
  private async acquire(): Promise<() => void> {
    if (this.disposed) throw new LayerstreamError('disposed', 'engine was disposed');
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => (release = r));
    await prev;
    return release;
  }

  private async exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Runs tokens [T] at positions pos0.. in batches of tMax. `head`: for which batch rows the output
   * head runs in the last batch ('last' row, 'all' rows), or per batch via a callback.
   */
  private async run(tokens: number[], pos0: number, headFor: (start: number, n: number) => 'none' | 'last' | 'all', onBatch?: (start: number, n: number) => Promise<void>): Promise<void> {
    if (pos0 + tokens.length > this.bufs.ctx) {
      throw new LayerstreamError('budget_too_small', `context full: ${pos0 + tokens.length} tokens exceed the context length ${this.bufs.ctx}`);
    }
    this.kvTokens.length = Math.min(this.kvTokens.length, pos0); // what follows pos0 is about to be overwritten
    if (this.bufs.recurrent && (pos0 !== this.kvTokens.length || !this.stateValid)) throw new Error(`recurrent state is not at position ${pos0}`);
    this.stateValid = false; // until every batch has run
    for (let s = 0; s < tokens.length; s += this.bufs.tMax) {
      const chunk = tokens.slice(s, s + this.bufs.tMax);
      const head = headFor(s, chunk.length);
      this.k.setStep(chunk.length, pos0 + s, head === 'all' ? 0 : chunk.length - 1, head === 'all' ? chunk.length : 1);
      this.f.begin(chunk, pos0 + s, head !== 'none');
      this.store.beginPass();
      await this.arch.forward(this.f, this.h);
      this.store.endPass();
      if (this.k.recorder.timer) {
        this.k.recorder.flush();
        const ms = await this.k.recorder.timer.collect();
        this.unitGpuMs = Array.from({ length: this.h.nLayers + 1 }, (_, u) => ms.get(u) ?? 0);
      }
      if (onBatch) await onBatch(s, chunk.length);
    }
    this.kvTokens = this.kvTokens.slice(0, pos0).concat(tokens);
    this.stateValid = true;
  }

  // ---- recurrent state (hybrid models: BaseHParams.recurrentState) -----------------------------

  /**
   * Makes the K/V cache and the recurrent state hold `tokens`[0..p) for the largest p ≤ `want` this
   * is possible for, and returns p. `want` must not exceed the common prefix of `tokens` with
   * kvTokens (so the K/V rows below it are right). Without recurrent layers p = want. With them
   * the live state serves when it is at `want`; otherwise the latest snapshot taken after a prefix
   * of `tokens` no longer than `want` is copied in; otherwise the state is zeroed and p = 0 (a
   * recurrent state cannot be rolled back).
   */
  private resumeAt(tokens: number[], want: number): number {
    const rec = this.bufs.recurrent;
    if (!rec) return want;
    if (want > 0 && want === this.kvTokens.length && this.stateValid) return want;
    let best: StateSnapshot | null = null;
    for (const s of this.snapshots) {
      if (!s.tokens || s.tokens.length > want || (best?.tokens && best.tokens.length >= s.tokens.length)) continue;
      if (s.tokens.every((t, i) => t === tokens[i])) best = s;
    }
    const enc = this.k.recorder.commandEncoder(); // ordered with the recorded passes
    if (best && best.tokens!.length > 0) {
      enc.copyBufferToBuffer(best.buffer, 0, rec.buffer, 0, rec.buffer.size);
      best.used = ++this.snapshotClock;
      this.kvTokens.length = best.tokens!.length;
    } else {
      enc.clearBuffer(rec.buffer);
      this.kvTokens.length = 0;
    }
    this.stateValid = true;
    return this.kvTokens.length;
  }

  /**
   * Copies the live recurrent state (after kvTokens) into a snapshot: `into`, else the least
   * recently used one, unless one holds these tokens already. Returns that snapshot, or null when
   * none was taken (no recurrent state, no snapshots, an invalid or empty state).
   */
  private snapshot(into?: StateSnapshot): StateSnapshot | null {
    const rec = this.bufs.recurrent;
    if (!rec || !this.stateValid || this.kvTokens.length === 0 || this.snapshots.length === 0) return null;
    const n = this.kvTokens.length;
    const same = this.snapshots.find((s) => s.tokens?.length === n && s.tokens.every((t, i) => t === this.kvTokens[i]));
    if (same) {
      same.used = ++this.snapshotClock;
      return same;
    }
    const slot = into ?? this.snapshots.reduce((a, b) => (b.used < a.used ? b : a));
    this.k.recorder.commandEncoder().copyBufferToBuffer(rec.buffer, 0, slot.buffer, 0, rec.buffer.size);
    slot.tokens = this.kvTokens.slice();
    slot.used = ++this.snapshotClock;
    return slot;
  }

  /** Reads `rows` logit rows [n_vocab] starting at row `row0` of the head output. */
  private async readLogits(row0: number, rows: number): Promise<Float32Array[]> {
    const n = this.h.nVocab;
    this.k.recorder.flush();
    const data = await this.readback.read(this.f.a.logits.buffer, row0 * n * 4, rows * n * 4);
    return Array.from({ length: rows }, (_, i) => new Float32Array(data, i * n * 4, n));
  }

  /**
   * Logit rows [n_vocab] after each requested position of `tokens` (indices; default the last),
   * computed from an empty context.
   */
  logits(tokens: number[], positions: number[] = [tokens.length - 1]): Promise<Float32Array[]> {
    return this.exclusive(async () => {
      const want = new Set(positions);
      const out = new Map<number, Float32Array>();
      for (const p of positions) if (!(p >= 0 && p < tokens.length)) throw new RangeError(`position ${p} outside 0..${tokens.length - 1}`);
      this.resumeAt(tokens, 0);
      await this.run(
        tokens,
        0,
        (s, n) => (positions.some((p) => p >= s && p < s + n) ? 'all' : 'none'),
        async (s, n) => {
          if (!positions.some((p) => p >= s && p < s + n)) return;
          const rows = await this.readLogits(0, n);
          for (let i = 0; i < n; i++) if (want.has(s + i)) out.set(s + i, rows[i].slice());
        },
      );
      return positions.map((p) => out.get(p)!);
    });
  }

  /**
   * Generates up to maxTokens tokens after `tokens` (greedy when temperature is 0). Stops early at an
   * end-of-generation token (not yielded), a full context, `signal` (checked before each token), or
   * a constraint's complete value. With speculative decoding (req.speculative, else the engine's
   * default) each decode pass may yield several tokens (decodeStep).
   */
  async *generate(req: CoreGenerateRequest): AsyncGenerator<GeneratedToken> {
    const release = await this.acquire();
    try {
      if (req.tokens.length === 0) throw new LayerstreamError('malformed', 'empty prompt');
      const random = rng(req.seed ?? 0);
      this.lastPrefillTps = 0;
      this.lastDecodeTps = 0;
      const decoder = new TextDecoder('utf-8');
      const t0 = performance.now();
      // Multi-turn: keys and values of a prefix shared with what the cache holds are reused; at least
      // the last prompt token is run again, for its logits.
      // Recurrent layers resume from the live state or a snapshot at or before that prefix (resumeAt).
      const reuse = this.resumeAt(req.tokens, req.reuseCache === false ? 0 : Math.min(commonPrefix(this.kvTokens, req.tokens), req.tokens.length - 1));
      this.lastCachedTokens = reuse;
      const fresh = req.tokens.slice(reuse);
      if (this.bufs.recurrent && fresh.length > 1) {
        // the prompt but its last token first, then a snapshot there: what a regenerate resumes from
        const head = fresh.slice(0, -1);
        await this.run(head, reuse, () => 'none');
        this.snapshot();
        await this.run(fresh.slice(-1), reuse + head.length, () => 'last');
      } else {
        await this.run(fresh, reuse, (s, n) => (s + n === fresh.length ? 'last' : 'none'));
        if (fresh.length === 1) this.snapshot();
      }
      const history = [...req.tokens];
      const generated: number[] = [];
      const spec = this.speculation(req.speculative);
      if (spec.draft === 'model') await this.draft!.prefill(req.tokens); // the draft reads the prompt too, as part of prefill
      const draftLength = new DraftLength(spec.maxDraftTokens);
      this.lastSpec = { draft: spec.draft, proposed: 0, accepted: 0, passes: 0, bytes: 0 };
      this.passSnapshot = null;
      // tokens picked but not yet emitted; all but the last have been run through the model
      await req.constraint?.prepare?.();
      let pending = [await this.picker.pick(req, random, history, generated, req.constraint?.nextMask() ?? null)];
      this.lastPrefillTps = fresh.length / ((performance.now() - t0) / 1000);
      const tDecode = performance.now();
      let emitted = 0;
      let decoded = 0;
      this.lastFinish = 'length';
      decode: for (;;) {
        for (const tok of pending) {
          if (req.signal?.aborted) this.lastFinish = 'abort';
          if (this.tokenizer.eogIds.has(tok)) this.lastFinish = 'stop';
          if (req.signal?.aborted || this.tokenizer.eogIds.has(tok)) break decode;
          yield { token: tok, text: decoder.decode(this.tokenizer.tokenBytes(tok), { stream: true }) };
          emitted++;
          if (req.constraint && (!req.constraint.accept(tok) || req.constraint.isTerminated())) {
            this.lastFinish = 'stop'; // a complete value (or, defensively, a token the grammar refused)
            break decode;
          }
          if (req.signal?.aborted) this.lastFinish = 'abort';
          if (emitted >= req.maxTokens || req.signal?.aborted) break decode;
          history.push(tok);
          generated.push(tok);
        }
        if (this.kvTokens.length >= this.bufs.ctx) break; // no position left for the last token
        const uploaded = this.store.bytesTotal;
        const [dispatches, reads, passes] = [this.k.recorder.dispatches, this.readback.reads, this.lastSpec.passes];
        pending = await this.decodeStep(req, spec.draft, draftLength, random, history, generated, req.maxTokens - emitted);
        this.lastSpec.bytes += this.store.bytesTotal - uploaded;
        const n = Math.max(1, this.lastSpec.passes - passes);
        this.lastPassCounts = { dispatches: (this.k.recorder.dispatches - dispatches) / n, readbacks: (this.readback.reads - reads) / n };
        decoded += pending.length;
        this.lastDecodeTps = decoded / ((performance.now() - tDecode) / 1000);
      }
      this.snapshot(); // what a follow-up turn or an edit of it resumes from
    } finally {
      release();
    }
  }

  /**
   * One decode pass. history ends with the last picked token, not yet run. Without a draft: runs
   * it and picks one token. With one: proposes up to `draftLength` tokens (fewer when `remaining`
   * — tokens still to emit — or the context would not hold them), runs [last, draft…] in one batch
   * with the head on every row, and walks the rows: greedy keeps a draft token while it is the
   * row's argmax, sampling accepts by speculative.ts acceptDraft; the first rejected row gives the
   * corrected token, a fully accepted draft gets the last row's token besides. Returns the tokens
   * to emit (accepted drafts, then the model's token); the K/V cache keeps the accepted positions.
   */
  private async decodeStep(
    req: CoreGenerateRequest, draft: 'off' | 'ngram' | 'model', draftLength: DraftLength,
    random: () => number, history: number[], generated: number[], remaining: number,
  ): Promise<number[]> {
    const last = history[history.length - 1];
    const pos = this.kvTokens.length;
    const k = Math.min(draftLength.value, remaining - 1, this.bufs.ctx - pos - 1, this.bufs.tMax - 1);
    let drafts: number[] = [];
    let q: TokenDist[] | null = null;
    if (k > 0 && draft === 'ngram') drafts = ngramDraft(history, k);
    if (k > 0 && draft === 'model' && this.draft) ({ tokens: drafts, dists: q } = await this.draft.propose(history, k, req, random));
    drafts = drafts.filter((t, i, all) => t < this.h.nVocab && all.slice(0, i).every((u) => u < this.h.nVocab)); // a draft's padding ids end it
    // the allowed set after each draft prefix; a draft token the constraint refuses ends the draft
    const c = req.constraint;
    await c?.prepare?.();
    const masks = [c?.nextMask() ?? null];
    if (c) {
      let n = 0;
      while (n < drafts.length && c.accept(drafts[n])) await c.prepare?.(), masks.push(c.nextMask()), n++;
      c.rollback(n); // the emit loop accepts what is kept
      drafts.length = n;
    }
    // A recurrent state cannot be rolled back: it is snapshotted first (a snapshot of the tokens
    // so far, as useful as any), to return to if drafts are rejected. Without snapshots, no drafts.
    const rec = this.bufs.recurrent;
    // One slot serves every pass of a generate, so the turn-boundary snapshots survive it.
    const before = rec && drafts.length ? this.snapshot(this.passSnapshot ?? undefined) : null;
    if (before) this.passSnapshot = before;
    if (rec && !before) drafts.length = 0;
    await this.run([last, ...drafts], pos, () => (drafts.length ? 'all' : 'last'));
    this.lastSpec.passes++;
    const greedy = (req.temperature ?? 0) <= 0;
    const out: number[] = [];
    const h = history.slice();
    const g = generated.slice();
    for (let j = 0; j <= drafts.length; j++) {
      const d = drafts[j];
      const mask = masks[j] ?? null;
      let tok: number;
      let accepted: boolean;
      if (greedy) {
        tok = await this.picker.pick(req, random, h, g, mask, j);
        accepted = j < drafts.length && tok === d;
      } else {
        const p = await this.picker.distribution(req, h, g, mask, j);
        ({ token: tok, accepted } = j < drafts.length ? acceptDraft(p, d, q?.[j] ?? null, random) : { token: drawFrom(p, random), accepted: false });
      }
      out.push(tok);
      if (!accepted) break;
      h.push(tok);
      g.push(tok);
    }
    this.kvTokens.length = pos + out.length; // last + the accepted drafts; the rest is overwritten later
    if (rec && before && out.length - 1 < drafts.length) {
      // the state went on over rejected tokens: back to before the pass, then the kept ones again
      this.k.recorder.commandEncoder().copyBufferToBuffer(before.buffer, 0, rec.buffer, 0, rec.buffer.size);
      this.kvTokens.length = pos;
      await this.run([last, ...drafts.slice(0, out.length - 1)], pos, () => 'none');
      this.lastSpec.passes++;
    }
    this.lastSpec.proposed += drafts.length;
    this.lastSpec.accepted += out.length - 1;
    draftLength.update(drafts.length, out.length - 1);
    return out;
  }

  /**
   * Which draft a generate uses and how long its drafts may be (api.ts SpeculativeOptions).
   */
  private speculation(o: SpeculativeOptions | undefined): { draft: 'off' | 'ngram' | 'model'; maxDraftTokens: number } {
    const want = o?.draft ?? this.defaultSpeculative.draft ?? 'auto';
    if (!['auto', 'ngram', 'model', 'off'].includes(want)) throw new LayerstreamError('invalid_request', `speculative.draft must be 'auto', 'ngram', 'model' or 'off', got ${String(want)}`);
    const max = o?.maxDraftTokens ?? this.defaultSpeculative.maxDraftTokens ?? DEFAULT_MAX_DRAFT_TOKENS;
    if (!(Number.isInteger(max) && max >= 1)) throw new LayerstreamError('invalid_request', `speculative.maxDraftTokens must be an integer ≥ 1, got ${String(max)}`);
    if (want === 'model' && !this.draft) throw new LayerstreamError('invalid_request', "speculative.draft 'model' needs a draft model (createEngine({ draftModel }))");
    const draft: 'off' | 'ngram' | 'model' = want === 'auto' ? (this.draft ? 'model' : this.store.plan.unitResident.some((r) => !r) ? 'ngram' : 'off') : want;
    return { draft, maxDraftTokens: Math.min(max, this.bufs.tMax - 1) };
  }

  /**
   * Makes the K/V cache (and recurrent state) hold `context`, computing only what differs from
   * what it holds (at least the last token, whose head runs when `head` is 'last').
   */
  private async runUpTo(context: number[], head: 'none' | 'last'): Promise<void> {
    const reuse = this.resumeAt(context, Math.min(commonPrefix(this.kvTokens, context), context.length - 1));
    const fresh = context.slice(reuse);
    await this.run(fresh, reuse, (s, n) => (s + n === fresh.length ? head : 'none'));
  }

  /** Draft model side: reads a prompt into its K/V cache ahead of the first propose() (fewer tokens than its context: else nothing). */
  async prefill(tokens: number[]): Promise<void> {
    if (tokens.length >= this.bufs.ctx) return;
    await this.exclusive(() => this.runUpTo(tokens, 'none'));
  }

  /**
   * Draft model side: runs ahead `k` tokens after `context` (greedy, or drawn from its own sampling
   * distribution with the request's temperature / top-k / top-p / min-p; no penalties), reusing its
   * K/V cache for the prefix it shares with the last call (rejected tokens roll back). Returns the
   * tokens and, when sampling, the distribution each was drawn from (speculative sampling's q).
   * Fewer than k when an end-of-generation token is drafted or its context is full.
   */
  async propose(context: number[], k: number, o: PickOptions, random: () => number): Promise<{ tokens: number[]; dists: TokenDist[] | null }> {
    return this.exclusive(async () => {
      const p: PickOptions = { temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP };
      if (context.length + k > this.bufs.ctx) return { tokens: [], dists: null };
      await this.runUpTo(context, 'last');
      const tokens: number[] = [];
      const dists: TokenDist[] = [];
      const greedy = (p.temperature ?? 0) <= 0;
      for (let i = 0; i < k; i++) {
        const d = await this.picker.distribution(p, [], [], null, 0);
        const t = greedy ? d.ids[0] : drawFrom(d, random);
        tokens.push(t);
        dists.push(d);
        if (this.tokenizer.eogIds.has(t) || i + 1 === k) break;
        await this.run([t], this.kvTokens.length, () => 'last');
      }
      return { tokens, dists: greedy ? null : dists };
    });
  }

  /** This engine's figures; deviceLosses / deviceRecoveries are the worker's (src/worker/device-guard.ts). */
  stats(): Omit<EngineStats, 'deviceLosses' | 'deviceRecoveries'> {
    const p = this.store.plan;
    const layerResidency = p.unitResident.slice(0, this.h.nLayers).map((r): 'resident' | 'streamed' => (r ? 'resident' : 'streamed'));
    const b = this.bufs;
    const nKv = b.kCache.filter((x) => x).length;
    return {
      gpuBudgetBytes: p.budgetBytes,
      weightBudgetBytes: p.weightBudgetBytes,
      weightBytesOnGpu: this.store.gpuBytes,
      kvCacheBytes: b.kCache.reduce((s, x) => s + (x?.size ?? 0), 0) + b.vCache.reduce((s, x) => s + (x?.size ?? 0), 0),
      kvCacheType: b.kvType,
      kvCacheLayers: nKv,
      kvCacheBytesPerToken: (this.h.kvLatent ? 1 : 2) * nKv * kvCacheRowBytes(this.h.kvWidth, b.kvType),
      kvCacheBytesPerTokenUncompressed: nKv * kvCacheRowBytes(this.h.kvWidthUncompressed ?? 2 * this.h.kvWidth, b.kvType),
      recurrentStateBytes: b.recurrent?.buffer.size ?? 0,
      stateSnapshotBytes: this.snapshots.reduce((s, x) => s + x.buffer.size, 0),
      stateSnapshotPositions: this.snapshots.filter((x) => x.tokens).map((x) => x.tokens!.length).sort((x, y) => x - y),
      scratchBytes: this.scratchBytes,
      layerGpuMs: this.unitGpuMs.slice(0, this.h.nLayers),
      headGpuMs: this.unitGpuMs[this.h.nLayers] ?? 0,
      layersResident: layerResidency.filter((r) => r === 'resident').length,
      layersStreamed: layerResidency.filter((r) => r === 'streamed').length,
      bytesUploadedLastToken: this.store.bytesLastPass,
      bytesUploadedTotal: this.store.bytesTotal,
      prefillTokensPerSecond: this.lastPrefillTps,
      decodeTokensPerSecond: this.lastDecodeTps,
      dispatchesLastPass: this.lastPassCounts.dispatches,
      readbacksLastPass: this.lastPassCounts.readbacks,
      poolSlots: p.slots,
      poolSlotBytes: p.slotBytes,
      layerResidency,
      contextTokens: this.kvTokens.length,
      ramBudgetBytes: this.store.ramBudgetBytes,
      ramBytesUsed: this.store.ramBytesUsed,
      stagingBytes: this.store.stagingBytes,
      uploadMethod: this.store.uploadMethod,
      bytesReadLastToken: this.store.bytesReadLastPass,
      streamWaitMsLastToken: this.store.waitMsLastPass,
      slotWaitMsLastToken: this.store.slotWaitMsLastPass,
      streamBytesPerSecond: this.store.passMsLast > 0 ? this.store.bytesLastPass / (this.store.passMsLast / 1000) : 0,
      gpuBuffersCreated: this.buffersCreated(),
      expertCacheSlots: p.expertSlots,
      expertCacheHits: this.store.expertHits,
      expertCacheMisses: this.store.expertMisses,
      contextLength: b.ctx,
      speculativeDraft: this.lastSpec.draft,
      draftTokensProposed: this.lastSpec.proposed,
      draftTokensAccepted: this.lastSpec.accepted,
      forwardPassesLastGenerate: this.lastSpec.passes,
      bytesUploadedLastGenerate: this.lastSpec.bytes,
      draftModel: this.draft ? { name: this.draft.info.name, gpuBytes: this.draft.gpuBytes } : null,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.draft?.dispose(); // shares the device, destroyed below
    this.store.destroy();
    this.device.destroy();
    this.source.close?.();
  }
}

/** general.name, unless missing or just the architecture (as in llama2.c conversions): then the file name. */
function modelName(md: Metadata, arch: string, sourceName: string): string {
  const name = md.string('general.name', '');
  if (name && name !== arch) return name;
  let path = sourceName;
  try {
    path = new URL(sourceName).pathname;
  } catch {
    // a file name, not a URL
  }
  const file = decodeURIComponent(path.split('/').filter(Boolean).pop() ?? sourceName);
  return file.replace(/\.gguf$/i, '');
}

/** GPU bytes of the activation and scratch buffers (everything in Activations but the K/V cache). */
function scratchBytesOf(b: Activations): number {
  return Object.values(b.a).reduce((s, v) => s + v.buffer.size, 0) + b.scores.size + b.embRows.size + b.ones.size + b.tokenWeights.size;
}
