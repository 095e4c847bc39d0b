import type { KvCacheType } from '../gpu/kernels.ts';
import type { ActivationSpec, BaseHParams } from '../models/architecture.ts';
import { kernelFixedBytes } from '../gpu/fixed-sizes.ts';
import { pickerBytes } from './token-picker.ts';

/**
 * Every GPU byte a loaded model holds besides its weights, computed from the header alone: the
 * K/V cache, the recurrent state and its snapshots, and the scratch (activations, attention scores,
 * logits readback, sampling buffers, uniforms). EngineCore.load allocates exactly these sizes and the
 * memory-fit advisor (src/advisor) plans with them before anything is downloaded, so "will it fit"
 * and what the engine then does are one computation. Pure: no GPU, no DOM.
 */

/** A GPU buffer's size for `bytes` of content: a multiple of 4, at least 16 (as EngineCore allocates). */
export const gpuSize = (bytes: number): number => Math.max(16, Math.ceil(bytes / 4) * 4);

/** Bytes of `width` cache values of one position: f32, or q8_0 blocks (32 values in 9 words, shaders/kv_cache.wgsl). */
export function kvCacheRowBytes(width: number, kvType: KvCacheType): number {
  return kvType === 'q8_0' ? (width / 32) * 36 : width * 4;
}

/** Where each recurrent layer's state lives in the one state buffer (bytes), or null without recurrent layers. */
export interface RecurrentLayout {
  bytes: number;
  conv: ({ offset: number; size: number } | null)[];
  ssm: ({ offset: number; size: number } | null)[];
}

/**
 * Conv state, then delta-rule state, per layer in order, each at an `align`-byte offset (a binding's
 * offset alignment). null for models without recurrent layers.
 */
export function recurrentLayout(h: Pick<BaseHParams, 'nLayers' | 'recurrentState'>, align: number): RecurrentLayout | null {
  const r = h.recurrentState;
  if (!r || !r.conv.some((n, l) => n > 0 || r.ssm[l] > 0)) return null;
  let at = 0;
  const place = (floats: number) => {
    if (!(floats > 0)) return null;
    const v = { offset: at, size: floats * 4 };
    at += Math.ceil(v.size / align) * align;
    return v;
  };
  const conv: RecurrentLayout['conv'] = [];
  const ssm: RecurrentLayout['ssm'] = [];
  for (let l = 0; l < h.nLayers; l++) {
    conv.push(place(r.conv[l] ?? 0));
    ssm.push(place(r.ssm[l] ?? 0));
  }
  return { bytes: at, conv, ssm };
}

/** What sizes the non-weight memory: the hyperparameters that matter and the load options. */
export interface MemoryPlanInput {
  h: Pick<BaseHParams, 'nLayers' | 'nVocab' | 'contextLength' | 'kvWidth' | 'kvLatent' | 'kvLayers' | 'recurrentState' | 'nExpert'> & { nHead?: number };
  /** the architecture's activation buffers: float32 per token of a batch (Architecture.activations) */
  activations: ActivationSpec;
  /** bytes of one token_embd row (the embedding lookup's staging rows) */
  embdRowBytes: number;
  /** tokens of K/V cache wanted; default min(2048, n_ctx_train) */
  contextLength?: number;
  kvCacheType?: KvCacheType;
  /** prompt tokens per batch (default 32) */
  maxBatch?: number;
  /** recurrent models: state snapshots (default 4) */
  stateSnapshots?: number;
  /** device limits (bytes) */
  maxStorageBufferBindingSize: number;
  minStorageBufferOffsetAlignment: number;
}

export interface MemoryPlan {
  /** tokens of K/V cache, and prompt tokens per batch */
  ctx: number;
  tMax: number;
  kvType: KvCacheType;
  /** bytes of one position's K (or V) row, and which layers keep a cache */
  kvRowBytes: number;
  kvLayers: boolean[];
  /** K/V cache, all layers, bytes; and per token */
  kvBytes: number;
  kvBytesPerToken: number;
  recurrent: RecurrentLayout | null;
  nSnapshots: number;
  /** GPU buffer sizes (bytes) of the scratch: activations by name, and the rest */
  activationBytes: Record<string, number>;
  scoresBytes: number;
  embRowsBytes: number;
  onesBytes: number;
  tokenWeightStride: number;
  tokenWeightsBytes: number;
  readbackBytes: number;
  /** all scratch bytes: activations + scores + embedding rows + ones + token weights + kernels + readback + picker */
  scratchBytes: number;
  /** what planResidency takes off the budget before weights, by what for (bytes) */
  reserved: Record<string, number>;
}

/**
 * The GPU memory of one model besides its weights (see the module comment). K/V: 2 (K and V; 1 for a
 * latent cache) × cache layers × ctx × row bytes. Attention scores: [n_head, tMax, ctx] f32, with
 * tMax cut so they fit one binding at long contexts.
 */
export function memoryPlan(o: MemoryPlanInput): MemoryPlan {
  const h = o.h;
  const ctx = Math.max(1, Math.min(o.contextLength ?? 2048, h.contextLength));
  const kvType = o.kvCacheType ?? 'f32';
  const nHead = h.nHead ?? 1;
  const scoreRows = Math.floor(o.maxStorageBufferBindingSize / (nHead * ctx * 4));
  const tMax = Math.max(1, Math.min(o.maxBatch ?? 32, ctx, scoreRows));
  const kvRowBytes = kvCacheRowBytes(h.kvWidth, kvType);
  const kvLayers = Array.from({ length: h.nLayers }, (_, l) => h.kvLayers?.[l] ?? true);
  const nKvLayers = kvLayers.filter(Boolean).length;
  const caches = h.kvLatent ? 1 : 2;
  const kvBytes = caches * nKvLayers * gpuSize(ctx * kvRowBytes);
  const recurrent = recurrentLayout(h, o.minStorageBufferOffsetAlignment);
  const nSnapshots = recurrent ? Math.max(0, Math.floor(o.stateSnapshots ?? 4)) : 0;
  const activationBytes: Record<string, number> = {};
  for (const [name, width] of Object.entries(o.activations)) activationBytes[name] = gpuSize(tMax * width * 4);
  const align = o.minStorageBufferOffsetAlignment;
  const tokenWeightStride = Math.ceil((tMax * 4) / align) * align;
  const scoresBytes = gpuSize(nHead * tMax * ctx * 4);
  const embRowsBytes = gpuSize(tMax * o.embdRowBytes);
  const onesBytes = gpuSize(4096 * 4);
  const tokenWeightsBytes = gpuSize(Math.max(1, h.nExpert) * tokenWeightStride);
  const readbackBytes = Math.ceil((tMax * h.nVocab * 4) / 4) * 4;
  const scratchBytes =
    Object.values(activationBytes).reduce((s, v) => s + v, 0) + scoresBytes + embRowsBytes + onesBytes + tokenWeightsBytes + kernelFixedBytes() + readbackBytes + pickerBytes(h.nVocab);
  const reserved: Record<string, number> = {
    [`${h.kvLatent ? 'latent ' : ''}K/V cache (${ctx} tokens, ${kvType})`]: kvBytes,
    scratch: scratchBytes,
    ...(recurrent ? { 'recurrent state': recurrent.bytes, [`state snapshots (${nSnapshots})`]: nSnapshots * recurrent.bytes } : {}),
  };
  return {
    ctx, tMax, kvType, kvRowBytes, kvLayers, kvBytes, kvBytesPerToken: caches * nKvLayers * kvRowBytes,
    recurrent, nSnapshots, activationBytes, scoresBytes, embRowsBytes, onesBytes, tokenWeightStride, tokenWeightsBytes, readbackBytes, scratchBytes, reserved,
  };
}
