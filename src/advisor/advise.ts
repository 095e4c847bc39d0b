import { formatBytes } from '../format-bytes.ts';
import type { KvCacheType } from '../gpu/kernels.ts';
import { memoryPlan, type MemoryPlan } from '../engine/memory-plan.ts';
import { defaultGpuBudget, planResidency, type ResidencyPlan } from '../engine/residency.ts';
import { LayerstreamError } from '../errors.ts';
import type { ModelShape } from './model-shape.ts';

/**
 * The memory-fit advisor: for a model (its header's shape, model-shape.ts), this device and a
 * budget, what loading it would do — resident or streamed share, K/V cache, RAM tier, storage — and
 * how fast it would decode, predicted from measured device figures (calibrate.ts). Then a
 * recommendation that degrades in the order llama.cpp users do by hand: the largest quant of the
 * model that runs resident; else an 8-bit K/V cache; else a shorter context; else streaming with
 * the RAM tier holding what the GPU cannot. Pure: the UI only draws what this returns.
 */

/** Figures measured on this device by calibrate.ts (all rates in bytes per second, times in ms). */
export interface Calibration {
  /** when measured (ISO 8601) and on what adapter (GPUAdapterInfo, as text) */
  measuredAt: string;
  adapter: string;
  /** host → GPU: queue.writeBuffer of large chunks, to completion */
  uploadBytesPerSec: number;
  /** decode matvec (one token) over a generated weight matrix, weight bytes read per second, by ggml type */
  matvecBytesPerSec: Record<string, number>;
  /** one more compute dispatch in a decode pass, ms (with a probe model: measured on the engine's own pass, calibrate.ts measureEngineCosts) */
  dispatchMs: number;
  /** one GPU round trip: submit, then map a small buffer for reading, ms */
  roundTripMs: number;
  /** reading an OPFS file through a sync access handle, or null where OPFS is unavailable */
  storageReadBytesPerSec: number | null;
  /**
   * streaming one weight group beyond its upload (a submit the device finishes before the pool slot
   * is refilled), ms: measured with the engine on a small model (calibrate.ts measureStreamGroupMs);
   * absent: one round trip is assumed
   */
  streamGroupMs?: number;
}

/** What the browser tells of this device. */
export interface DeviceFigures {
  /** GPUAdapter limits, bytes */
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  minStorageBufferOffsetAlignment: number;
  /** a CPU fallback adapter (SwiftShader): its "GPU" memory is the browser's RAM */
  cpuFallback: boolean;
  /** navigator.deviceMemory: GiB of RAM, rounded down to a power of two and capped by the browser; undefined when not exposed */
  deviceMemoryGiB?: number;
  /** navigator.storage.estimate(), bytes; null when unknown */
  storage?: { quotaBytes: number; usageBytes: number } | null;
  calibration?: Calibration | null;
}

/** Another file of the same model (another quant), as the catalog or a Hugging Face listing gives it. */
export interface SiblingFile {
  /** what loading it takes: a URL (first part of a split model) */
  model: string;
  label: string;
  quant: string | null;
  /** bytes of the file (all parts) */
  bytes: number;
}

export interface AdviceOptions {
  /** the GPU budget in force, bytes; default defaultGpuBudget(deviceMemory, adapter) as the engine takes it */
  gpuBudgetBytes?: number;
  /** tokens of context wanted; default 2048 (the engine's default), at most n_ctx_train */
  contextLength?: number;
  /** K/V cache format asked for; default f32 */
  kvCacheType?: KvCacheType;
  /** other quants of this model, to recommend the largest that runs resident */
  siblings?: SiblingFile[];
  /** bytes of this file already in browser storage (a cached download needs no more quota) */
  storedBytes?: number;
  /** the RAM tier in force, bytes (a loaded engine's EngineStats.ramBudgetBytes); default: what ramTierAvailable allows */
  ramBudgetBytes?: number;
}

/** The cost of one decode token, ms, by what it is spent on. */
export interface Prediction {
  tokensPerSecond: number;
  msPerToken: number;
  /** matvecs over the weights the token reads */
  matvecMs: number;
  /** fixed costs: dispatches × dispatch cost, round trips (logits, MoE routers) × round-trip cost */
  dispatchMs: number;
  roundTripMs: number;
  /** streamed weights: upload, storage reads, and a round trip per streamed group; overlapped with compute */
  streamMs: number;
  /** counts the prediction used */
  dispatches: number;
  roundTrips: number;
  /** Calibration.measuredAt */
  calibratedAt: string;
}

/** One way of loading the model, as the engine would plan it. */
export interface LoadVariant {
  contextLength: number;
  kvCacheType: KvCacheType;
  /** K/V cache bytes at this context and format */
  kvBytes: number;
  /** K/V + state + scratch, bytes (taken off the budget before weights) */
  reservedBytes: number;
  /**
   * weights on the GPU for the session (bytes), weight bytes uploaded per decode token (MoE: the
   * expected share of the experts, see streamedPerToken), and the resident share of the weights (0..1)
   */
  residentBytes: number;
  streamedBytesPerToken: number;
  residentShare: number;
  layersResident: number;
  layersStreamed: number;
  /** RAM tier: bytes it would need to hold every streamed weight, and what it gets (bytes) */
  ramTierWantedBytes: number;
  ramTierBytes: number;
  prediction: Prediction | null;
  /** LayerstreamError message when the budget cannot hold this variant at all */
  error?: string;
}

export type RecommendationKind = 'resident' | 'larger-quant' | 'smaller-quant' | 'q8_0-kv' | 'shorter-context' | 'streaming' | 'raise-budget';

export interface Recommendation {
  kind: RecommendationKind;
  /** the file to load (the candidate's own URL unless another quant is recommended) */
  model: string | null;
  label: string;
  quant: string | null;
  contextLength: number;
  kvCacheType: KvCacheType;
  gpuBudgetBytes: number;
  ramBudgetBytes: number;
  /** one sentence for the UI */
  text: string;
}

export interface FitPlan {
  model: { name: string; architecture: string; fileType: string | null; fileBytes: number; weightBytes: number; nParams: number; contextLength: number };
  gpuBudgetBytes: number;
  /** what the browser told of the device: RAM in GiB (navigator.deviceMemory, null when not exposed) and a CPU fallback adapter */
  device: { deviceMemoryGiB: number | null; cpuFallback: boolean };
  /** RAM the tab may use for the RAM tier, bytes (see ramTierAvailable) */
  ramAvailableBytes: number;
  /** K/V cache bytes at the asked context: f32, and q8_0 (null when the K/V row width is not a multiple of 32) */
  kvCacheBytes: { f32: number; q8_0: number | null };
  /** recurrent state + snapshots (hybrid models), bytes; they do not grow with the context */
  stateBytes: number;
  scratchBytes: number;
  /** the load as asked (context, K/V format, budget) */
  asked: LoadVariant;
  storage: { fileBytes: number; neededBytes: number; availableBytes: number | null; fits: boolean | null };
  recommendation: Recommendation;
}

/** Engine's default context (engine.ts CoreOptions.contextLength). */
const DEFAULT_CONTEXT = 2048;
/** The shortest context a recommendation goes down to, tokens. */
const MIN_CONTEXT = 512;
const GiB = 1024 ** 3;

/**
 * Compute dispatches per layer besides the weight matmuls (norms, RoPE, K/V store, attention,
 * activations, residual adds), and per pass besides the layers (final norm, token picking). Fitted
 * to the dispatch counts the engine reports (EngineStats.dispatchesLastPass) over the shared
 * models: test/advisor.spec.ts holds the estimate to them.
 */
const OTHER_DISPATCHES_PER_LAYER = 9;
const OTHER_DISPATCHES_PER_PASS = 3;

/**
 * RAM the RAM tier may take, bytes: 75 % of navigator.deviceMemory (4 GiB when the browser does not
 * say) minus the GPU budget — browsers do not tell whether GPU memory is separate, so it is counted
 * as shared (integrated GPUs, Apple silicon, CPU fallback: the conservative case) — minus 1 GiB for
 * the page and the browser.
 */
export function ramTierAvailable(device: Pick<DeviceFigures, 'deviceMemoryGiB'>, gpuBudgetBytes: number): number {
  const ram = (device.deviceMemoryGiB && device.deviceMemoryGiB > 0 ? device.deviceMemoryGiB : 4) * GiB;
  return Math.max(0, Math.floor(0.75 * ram - gpuBudgetBytes - GiB));
}

/** Matvec rate for a ggml type: measured, else the measured type of its family (k-/i-quants → Q4_K, others → Q8_0). */
function matvecRate(c: Calibration, type: string): number {
  const r = c.matvecBytesPerSec;
  if (r[type]) return r[type];
  const family = /_K$|^IQ|^TQ/.test(type) ? 'Q4_K' : 'Q8_0';
  return r[family] ?? Object.values(r)[0] ?? 1;
}

/**
 * Weight bytes one decode token uploads under `plan`, and the streamed groups they come in: every
 * streamed group, but of expert groups only the share a token picks (n_expert_used / n_expert) that
 * the expert cache misses (taken as its share of the experts: the slots over all expert slices).
 */
export function streamedPerToken(shape: ModelShape, plan: ResidencyPlan): { bytes: number; groups: number } {
  const expertShare = shape.nExpert > 0 ? shape.nExpertUsed / shape.nExpert : 1;
  const expertGroups = plan.groups.filter((g) => g.expert).length;
  const expertHit = plan.expertSlots && expertGroups ? Math.min(1, plan.expertSlots / expertGroups) : 0;
  let bytes = 0;
  let groups = 0;
  for (const g of plan.groups) {
    if (g.resident) continue;
    const share = g.expert ? expertShare * (1 - expertHit) : 1;
    bytes += g.pieces.reduce((s, p) => s + p.nBytes, 0) * share;
    groups += share;
  }
  return { bytes, groups };
}

/**
 * Predicted decode cost of one token under `plan` (see Prediction). Weight bytes a token reads: every
 * matrix the pass uses, but of expert tensors only n_expert_used / n_expert. Streamed bytes move
 * through the pool while the GPU computes, so the token takes the longer of the two, plus the cost
 * of each streamed group (Calibration.streamGroupMs: each upload waits for its slot's previous use).
 */
export function predictDecode(shape: ModelShape, plan: ResidencyPlan, ramTierBytes: number, c: Calibration, maxBindingBytes: number): Prediction {
  const expertShare = shape.nExpert > 0 ? shape.nExpertUsed / shape.nExpert : 1;
  let matvec = 0;
  let dispatches = OTHER_DISPATCHES_PER_PASS + OTHER_DISPATCHES_PER_LAYER * shape.nLayers + shape.moeLayers * shape.nExpertUsed; // + each expert's GLU
  // a matmul is one dispatch per piece its tensor is bound in (streamed tensors split to fit a slot)
  const pieces = new Map<string, number>();
  for (const g of plan.groups) if (!g.expert) for (const p of g.pieces) pieces.set(p.tensor, (pieces.get(p.tensor) ?? 0) + 1);
  shape.uses.forEach((u, i) => {
    const bytes = u.rows * u.rowBytes;
    if (/_exps\.bias$/.test(u.name)) {
      dispatches += shape.nExpertUsed; // one bias add per expert run
      return;
    }
    if (u.rows === 1) return; // vectors (norm weights, biases): bound into other kernels
    if (u.rowsPerExpert) {
      matvec += (bytes * expertShare) / matvecRate(c, shape.useTypes[i]);
      dispatches += shape.nExpertUsed;
      return;
    }
    matvec += bytes / matvecRate(c, shape.useTypes[i]);
    // MLA's per-head attn_k_b / attn_v_b run one product per head (src/models/mla.ts)
    const perHead = /attn_[kv]_b\.weight$/.test(u.name) ? (shape.memory.h.nHead ?? 1) : 1;
    dispatches += perHead * Math.max(1, pieces.get(u.name) ?? Math.ceil(bytes / maxBindingBytes));
  });
  const roundTrips = 1 + shape.moeLayers;
  const { bytes: streamed, groups: streamedGroups } = streamedPerToken(shape, plan);
  const fromStorage = Math.max(0, streamed - ramTierBytes);
  const uploadMs = (streamed / c.uploadBytesPerSec) * 1000;
  const readMs = fromStorage > 0 ? (fromStorage / (c.storageReadBytesPerSec ?? c.uploadBytesPerSec)) * 1000 : 0;
  const matvecMs = matvec * 1000;
  const dispatchMs = dispatches * c.dispatchMs;
  const roundTripMs = roundTrips * c.roundTripMs;
  const compute = matvecMs + dispatchMs + roundTripMs;
  const slotWaitMs = streamedGroups * (c.streamGroupMs ?? c.roundTripMs);
  const streamMs = uploadMs + readMs + slotWaitMs;
  const msPerToken = streamed > 0 ? Math.max(compute, uploadMs + readMs) + slotWaitMs : compute;
  return { tokensPerSecond: 1000 / msPerToken, msPerToken, matvecMs, dispatchMs, roundTripMs, streamMs, dispatches, roundTrips, calibratedAt: c.measuredAt };
}

/** The engine's memory plan for `shape` at a context and K/V format on this device. */
function memoryFor(shape: ModelShape, device: DeviceFigures, contextLength: number, kvCacheType: KvCacheType): MemoryPlan {
  return memoryPlan({ ...shape.memory, contextLength, kvCacheType, maxStorageBufferBindingSize: device.maxStorageBufferBindingSize, minStorageBufferOffsetAlignment: device.minStorageBufferOffsetAlignment });
}

/** One load variant: the engine's own residency plan for it (planResidency, as EngineCore.load calls it). */
export function planVariant(shape: ModelShape, device: DeviceFigures, budget: number, ramAvailable: number, contextLength: number, kvCacheType: KvCacheType): LoadVariant {
  const m = memoryFor(shape, device, contextLength, kvCacheType);
  const reservedBytes = Object.values(m.reserved).reduce((s, v) => s + v, 0);
  const maxBinding = Math.min(device.maxStorageBufferBindingSize, device.maxBufferSize);
  const base = { contextLength: m.ctx, kvCacheType, kvBytes: m.kvBytes, reservedBytes };
  let plan: ResidencyPlan;
  try {
    plan = planResidency(shape.uses, {
      budgetBytes: budget, reserved: m.reserved, maxBindingBytes: maxBinding, align: device.minStorageBufferOffsetAlignment, nUnits: shape.nLayers + 1,
      expertWorkingSet: 3 * shape.nExpertUsed * shape.nLayers,
    });
  } catch (e) {
    if (!(e instanceof LayerstreamError)) throw e;
    return { ...base, residentBytes: 0, streamedBytesPerToken: 0, residentShare: 0, layersResident: 0, layersStreamed: shape.nLayers, ramTierWantedBytes: 0, ramTierBytes: 0, prediction: null, error: e.message };
  }
  const layers = plan.unitResident.slice(0, shape.nLayers);
  // the RAM tier holds every streamed slice (a token's experts vary); a token uploads its share of them
  const ramTierWantedBytes = plan.streamedBytes;
  const ramTierBytes = Math.min(ramTierWantedBytes, ramAvailable);
  const prediction = device.calibration ? predictDecode(shape, plan, ramTierBytes, device.calibration, maxBinding) : null;
  return {
    ...base,
    residentBytes: plan.residentBytes,
    streamedBytesPerToken: Math.round(streamedPerToken(shape, plan).bytes),
    residentShare: shape.weightBytes > 0 ? Math.min(1, 1 - plan.streamedBytes / shape.weightBytes) : 1,
    layersResident: layers.filter(Boolean).length,
    layersStreamed: layers.filter((r) => !r).length,
    ramTierWantedBytes,
    ramTierBytes,
    prediction,
  };
}

/**
 * Whether a sibling quant of the model runs resident: its weight bytes estimated as its file size
 * less what this file holds besides weights (header, tokenizer, the embedding rows read from
 * storage), plus this file's binding-alignment overhead.
 */
function siblingResident(shape: ModelShape, sib: SiblingFile, budget: number, reservedBytes: number, alignOverhead: number): boolean {
  const weights = sib.bytes - (shape.fileBytes - shape.weightBytes);
  return weights + alignOverhead + reservedBytes <= budget;
}

/**
 * The advisor (see the module comment). `shape` from modelShape(); `device` from the browser and
 * calibrate.ts. The asked variant is what loading with `o` would do; the recommendation follows
 * the hierarchy above, each step checked with the engine's own memory and residency plans.
 */
export function advise(shape: ModelShape, device: DeviceFigures, o: AdviceOptions = {}): FitPlan {
  const budget = o.gpuBudgetBytes ?? defaultGpuBudget(device.deviceMemoryGiB, { maxBufferSize: device.maxBufferSize, cpuFallback: device.cpuFallback });
  const ctx = Math.max(1, Math.min(o.contextLength ?? DEFAULT_CONTEXT, shape.contextLength));
  const kvType = o.kvCacheType ?? 'f32';
  const q8ok = shape.kvWidth % 32 === 0;
  const ramAvailable = o.ramBudgetBytes ?? ramTierAvailable(device, budget);
  const variant = (c: number, k: KvCacheType) => planVariant(shape, device, budget, ramAvailable, c, k);
  const asked = variant(ctx, kvType);
  const mF32 = memoryFor(shape, device, ctx, 'f32');
  const stateBytes = (mF32.recurrent?.bytes ?? 0) * (1 + mF32.nSnapshots);
  // binding alignment padding of a fully resident plan (group offsets rounded up)
  const natural = planVariant(shape, device, Number.MAX_SAFE_INTEGER, 0, ctx, 'f32');
  const alignOverhead = Math.max(0, natural.residentBytes - shape.weightBytes);

  const self: SiblingFile = { model: '', label: shape.name, quant: shape.fileType, bytes: shape.fileBytes };
  const siblings = [...(o.siblings ?? []).filter((s) => s.bytes !== shape.fileBytes), self].sort((a, b) => b.bytes - a.bytes);
  const rec = (kind: RecommendationKind, sib: SiblingFile, v: LoadVariant, text: string): Recommendation => ({
    kind, model: sib === self ? null : sib.model, label: sib.label, quant: sib.quant, contextLength: v.contextLength, kvCacheType: v.kvCacheType,
    gpuBudgetBytes: budget, ramBudgetBytes: v.ramTierBytes, text,
  });
  const fits = (sib: SiblingFile, v: LoadVariant) => (sib === self ? !v.error && v.streamedBytesPerToken === 0 : siblingResident(shape, sib, budget, v.reservedBytes, alignOverhead));
  const name = (sib: SiblingFile) => (sib.quant ? `${sib.quant} (${formatBytes(sib.bytes)})` : `${sib.label} (${formatBytes(sib.bytes)})`);

  let recommendation: Recommendation | null = null;
  const steps: { v: LoadVariant; kind: RecommendationKind; why: string }[] = [{ v: variant(ctx, 'f32'), kind: 'resident', why: '' }];
  if (q8ok) steps.push({ v: variant(ctx, 'q8_0'), kind: 'q8_0-kv', why: ' with an 8-bit (q8_0) K/V cache' });
  for (let c = Math.floor(ctx / 2); c >= MIN_CONTEXT; c = Math.floor(c / 2)) {
    steps.push({ v: variant(c, q8ok ? 'q8_0' : 'f32'), kind: 'shorter-context', why: ` with the context cut to ${c} tokens${q8ok ? ' and an 8-bit K/V cache' : ''}` });
  }
  for (const step of steps) {
    const best = siblings.find((s) => fits(s, step.v));
    if (!best) continue;
    const kind: RecommendationKind = step.kind === 'resident' ? (best === self ? 'resident' : best.bytes > self.bytes ? 'larger-quant' : 'smaller-quant') : step.kind;
    const what = best === self ? 'This file' : `The ${name(best)} file of this model`;
    recommendation = rec(kind, best, step.v, `${what} runs resident${step.why}: every weight stays on the GPU, nothing streams per token.`);
    break;
  }
  if (!recommendation) {
    // streaming, at the asked context if the budget holds its fixed part, else the longest that fits
    const kv: KvCacheType = q8ok ? 'q8_0' : 'f32';
    let v = variant(ctx, kv);
    for (let c = Math.floor(ctx / 2); v.error && c >= MIN_CONTEXT; c = Math.floor(c / 2)) v = variant(c, kv);
    if (v.error) {
      recommendation = { ...rec('raise-budget', self, v, `Nothing loads with this GPU budget: ${v.error}.`), model: null };
    } else {
      // the largest quant whose streamed part the RAM tier can hold (no disk reads per token), else the smallest
      const streamedOf = (s: SiblingFile) => Math.max(0, s.bytes - (shape.fileBytes - shape.weightBytes) + alignOverhead + v.reservedBytes - budget);
      const inRam = siblings.find((s) => streamedOf(s) <= ramAvailable);
      const pick = inRam ?? siblings[siblings.length - 1];
      const pv = pick === self ? v : { ...v, ramTierBytes: Math.min(streamedOf(pick), ramAvailable) };
      const where = inRam ? 'the RAM tier holds the streamed part, so each token uploads it from memory' : 'the streamed part does not fit the RAM tier and is read from storage every token';
      const shorter = v.contextLength < ctx ? ` with the context cut to ${v.contextLength} tokens` : '';
      recommendation = rec('streaming', pick, pv, `${pick === self ? 'This file' : `The ${name(pick)} file`} streams the layers the GPU budget cannot hold${shorter}; ${where}.`);
    }
  }

  const available = device.storage ? Math.max(0, device.storage.quotaBytes - device.storage.usageBytes) : null;
  const needed = Math.max(0, shape.fileBytes - (o.storedBytes ?? 0));
  return {
    model: { name: shape.name, architecture: shape.architecture, fileType: shape.fileType, fileBytes: shape.fileBytes, weightBytes: shape.weightBytes, nParams: shape.nParams, contextLength: shape.contextLength },
    gpuBudgetBytes: budget,
    device: { deviceMemoryGiB: device.deviceMemoryGiB ?? null, cpuFallback: device.cpuFallback },
    ramAvailableBytes: ramAvailable,
    kvCacheBytes: { f32: mF32.kvBytes, q8_0: q8ok ? memoryFor(shape, device, ctx, 'q8_0').kvBytes : null },
    stateBytes,
    scratchBytes: mF32.scratchBytes,
    asked,
    storage: { fileBytes: shape.fileBytes, neededBytes: needed, availableBytes: available, fits: available === null ? null : needed <= available },
    recommendation,
  };
}
