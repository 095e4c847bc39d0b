import { LayerstreamError } from '../errors.ts';
import type { GGUFFile, Metadata } from '../gguf/gguf.ts';
import type { BaseHParams } from './architecture.ts';

/** YaRN parameters for the rope kernel (llama.cpp cparams yarn_ext_factor, yarn_attn_factor, ggml_rope_yarn_corr_dims). */
export interface Yarn {
  extFactor: number;
  attnFactor: number;
  /** correction dims [lo, hi] (pair indices where the ramp from extrapolation to interpolation runs) */
  corr: [number, number];
}

/** One layer's RoPE: frequency base, linear frequency scale (1 / factor), and YaRN when the model uses it. */
export interface Rope {
  base: number;
  freqScale: number;
  yarn?: Yarn;
}

/**
 * YaRN from the `<arch>.rope.scaling.*` keys (llama-context.cpp llama_context(): ext_factor 1 for
 * 'yarn', attn_factor from get_mscale with yarn_log_multiplier, the 1 / (1 + 0.1 ln factor) that
 * cancels rope_yarn's own mscale, × rope.scaling.attn_factor; corr dims from ggml.c
 * ggml_rope_yarn_corr_dims with beta_fast 32 / beta_slow 1 over original_context_length).
 * `mscaleLikeAll`: DeepSeek-V2's special case (mscale = mscale_all_dims). Undefined without YaRN
 * and without an attn_factor.
 */
export function readYarn(md: Metadata, arch: string, o: { nRot: number; base: number; freqScale: number; nCtxTrain: number; logMul?: number; mscaleLikeAll?: boolean }): Yarn | undefined {
  const k = (s: string) => `${arch}.rope.scaling.${s}`;
  const type = md.string(k('type'), 'linear');
  let ext = md.number(k('yarn_ext_factor'), -1);
  if (ext < 0) ext = type === 'yarn' ? 1 : 0;
  let attn = md.number(k('yarn_attn_factor'), 1);
  if (ext !== 0) {
    const factor = 1 / o.freqScale;
    const mscale = (scale: number, m: number) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
    const logMul = o.logMul ?? md.number(k('yarn_log_multiplier'), 0);
    if (logMul !== 0) attn = mscale(factor, o.mscaleLikeAll && logMul !== 1 ? logMul : 1) / mscale(factor, logMul);
    else attn = mscale(factor, 1);
    attn *= 1 / (1 + 0.1 * Math.log(factor));
  }
  attn *= md.number(k('attn_factor'), 1);
  if (ext === 0 && attn === 1) return undefined;
  const nCtxOrig = md.number(k('original_context_length'), o.nCtxTrain);
  const corrDim = (beta: number) => (o.nRot * Math.log(nCtxOrig / (beta * 2 * Math.PI))) / (2 * Math.log(o.base));
  const lo = Math.max(0, Math.floor(corrDim(md.number(k('yarn_beta_fast'), 32))));
  const hi = Math.min(o.nRot - 1, Math.ceil(corrDim(md.number(k('yarn_beta_slow'), 1))));
  return { extFactor: ext, attnFactor: attn, corr: [lo, hi] };
}

/**
 * Hyperparameters of a decoder-only transformer, read from `<arch>.*` GGUF keys with llama.cpp's
 * defaults (llama-model.cpp load_hparams). Per-architecture knobs are set by the arch modules.
 */
export interface TransformerHParams extends BaseHParams {
  nHead: number;
  nHeadKv: number;
  headDim: number;
  /** feed-forward width (per expert for MoE) */
  nFF: number;
  /** rotated dims per head */
  nRot: number;
  eps: number;
  ropeBase: number;
  ropeFreqScale: number;
  /** YaRN for the (global) layers, when the model uses it */
  ropeYarn?: Yarn;
  /** 0: adjacent pairs (llama); 2: NEOX halves (qwen2, qwen3, phi3, gemma2); 40: imrope (qwen35: NEOX halves, multi-section) */
  ropeMode: 0 | 2 | 40;
  /** imrope (ropeMode 40): rotated pairs per section [t, h, w, e] (rope.dimension_sections) */
  ropeSections?: number[];
  /** experts chosen per token, and whether their weights are renormalized to sum to 1 */
  nExpertUsed: number;
  expertWeightsNorm: boolean;
  /** attention score scale (default 1/sqrt(head_dim)), soft-caps (0 = off), sliding window (0 = off) */
  attnScale: number;
  attnSoftcap: number;
  finalSoftcap: number;
  slidingWindow: number;
  /** query temperature 1 + scale · ln(⌊pos / floor⌋ + 1) (mistral3, llama4), or none */
  attnTemp?: { scale: number; floor: number };
  ffnAct: 'silu' | 'gelu' | 'swiglu_oai';
}

/**
 * An integer metadata value in [min, max] (llama.cpp reads these keys as u32 / i32). Throws
 * LayerstreamError('malformed') naming the key and the value.
 */
export function readInt(md: Metadata, key: string, o: { min?: number; max?: number; fallback?: number; why?: string } = {}): number {
  const v = o.fallback === undefined ? md.number(key) : md.number(key, o.fallback);
  const min = o.min ?? 0;
  const max = o.max ?? 2 ** 32 - 1;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new LayerstreamError('malformed', `${key} is ${v}: ${o.why ?? `must be an integer from ${min} to ${max}`}`);
  }
  return v;
}

const blocksCache = new WeakMap<GGUFFile, number>();

/** Blocks the file has tensors for: the highest N of a `blk.N.*` tensor, plus one (0 without any). */
export function blocksInFile(gguf: GGUFFile): number {
  let n = blocksCache.get(gguf);
  if (n === undefined) {
    n = 0;
    for (const t of gguf.tensors) {
      const m = /^blk\.(\d+)\./.exec(t.name);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    blocksCache.set(gguf, n);
  }
  return n;
}

/**
 * `<arch>.block_count` (and `nextn_predict_layers`, the multi-token-prediction blocks after the
 * trunk), checked against the blocks the file has tensors for before anything loops over the
 * layers: a header that claims 10^9 layers fails here, not after a billion iterations.
 */
export function readBlockCount(md: Metadata, gguf: GGUFFile, arch: string): number {
  const key = `${arch}.block_count`;
  const n = readInt(md, key, { min: 1 });
  const nextn = readInt(md, `${arch}.nextn_predict_layers`, { fallback: 0, max: n - 1 });
  const present = blocksInFile(gguf);
  if (n - nextn > present) {
    throw new LayerstreamError(
      'malformed',
      `${key} is ${n}${nextn ? ` (${nextn} of them multi-token prediction)` : ''}, but the file has tensors for ${present === 0 ? 'no blocks' : `${present} block${present === 1 ? '' : 's'} (blk.0 to blk.${present - 1})`}`,
    );
  }
  return n;
}

/** Reads the common keys. Throws LayerstreamError('malformed') naming a missing or inconsistent key and its value. */
export function readTransformerHParams(md: Metadata, gguf: GGUFFile, arch: string, ropeMode: 0 | 2): TransformerHParams {
  const k = (s: string) => `${arch}.${s}`;
  const nLayers = readBlockCount(md, gguf, arch);
  const nEmbd = readInt(md, k('embedding_length'), { min: 1 });
  const nHead = readInt(md, k('attention.head_count'), { min: 1 });
  const nHeadKv = readInt(md, k('attention.head_count_kv'), { min: 1, fallback: nHead });
  if (!md.has(k('attention.key_length')) && nEmbd % nHead !== 0) {
    throw new LayerstreamError('malformed', `${k('attention.head_count')} ${nHead} does not divide ${k('embedding_length')} ${nEmbd} (and there is no ${k('attention.key_length')})`);
  }
  const headDim = readInt(md, k('attention.key_length'), { min: 1, fallback: nEmbd / nHead });
  if (nHead % nHeadKv !== 0) {
    throw new LayerstreamError('malformed', `inconsistent attention shape: ${k('attention.head_count_kv')} ${nHeadKv} does not divide ${k('attention.head_count')} ${nHead} (${k('embedding_length')} ${nEmbd})`);
  }
  const nExpert = readInt(md, k('expert_count'), { fallback: 0 });
  const nExpertUsed = readInt(md, k('expert_used_count'), { fallback: 0 });
  if (md.has(k('expert_count')) && nExpert < 1) throw new LayerstreamError('malformed', `${k('expert_count')} is ${nExpert}: a mixture of experts needs at least one expert`);
  if (nExpert > 0 && !(nExpertUsed >= 1 && nExpertUsed <= nExpert)) {
    throw new LayerstreamError('malformed', `${k('expert_used_count')} is ${nExpertUsed}, must be between 1 and ${k('expert_count')} ${nExpert}`);
  }
  const nVocab = gguf.tensorByName.get('token_embd.weight')?.ne[1] ?? md.strings('tokenizer.ggml.tokens')?.length ?? 0;
  const scaling = md.string(k('rope.scaling.type'), 'linear'); // llama.cpp's default
  const factor = md.number(k('rope.scaling.factor'), 1);
  const ropeFreqScale = (scaling === 'linear' || scaling === 'yarn') && factor > 0 && Number.isFinite(factor) ? 1 / factor : 1;
  const nRot = readInt(md, k('rope.dimension_count'), { fallback: headDim, max: headDim, why: `must be an even number of rotated dims from 0 to the head width ${headDim}` });
  if (nRot % 2 !== 0) {
    const what = md.has(k('rope.dimension_count')) ? `${k('rope.dimension_count')} is ${nRot}` : `the head width ${nRot} (${md.has(k('attention.key_length')) ? k('attention.key_length') : `${k('embedding_length')} / ${k('attention.head_count')}`}) is odd and there is no ${k('rope.dimension_count')}`;
    throw new LayerstreamError('malformed', `${what}: RoPE rotates pairs, so it must be even`);
  }
  const ropeBase = md.number(k('rope.freq_base'), 10000);
  if (!(ropeBase > 0 && Number.isFinite(ropeBase))) throw new LayerstreamError('malformed', `${k('rope.freq_base')} is ${ropeBase}: must be a positive number`);
  const contextLength = readInt(md, k('context_length'), { min: 1, max: Number.MAX_SAFE_INTEGER, why: 'a model needs a context of at least one token' });
  const eps = md.number(k('attention.layer_norm_rms_epsilon'), 1e-5);
  if (!(eps >= 0 && Number.isFinite(eps))) throw new LayerstreamError('malformed', `${k('attention.layer_norm_rms_epsilon')} is ${eps}: must be a small non-negative number`);
  const nFF = readInt(md, k(nExpert > 0 && md.has(k('expert_feed_forward_length')) ? 'expert_feed_forward_length' : 'feed_forward_length'));
  return {
    nLayers,
    nEmbd,
    nVocab,
    contextLength,
    nHead,
    nHeadKv,
    headDim,
    kvWidth: nHeadKv * headDim,
    nFF,
    nRot,
    eps,
    ropeBase,
    ropeFreqScale,
    ropeYarn: readYarn(md, arch, { nRot, base: ropeBase, freqScale: ropeFreqScale, nCtxTrain: contextLength }),
    ropeMode,
    outputTensor: gguf.tensorByName.has('output.weight') ? 'output.weight' : 'token_embd.weight',
    embedScale: 1,
    nExpert,
    nExpertUsed,
    expertWeightsNorm: true,
    attnScale: 1 / Math.sqrt(headDim),
    attnSoftcap: 0,
    finalSoftcap: 0,
    slidingWindow: 0,
    ffnAct: 'silu',
  };
}

/**
 * Which layers use sliding-window attention: `<arch>.attention.sliding_window_pattern` is a period n
 * (layer il slides when il % n < n − 1: llama-hparams.cpp set_swa_pattern) or one bool per layer;
 * `period` is the architecture's default. No layer slides without a window.
 */
export function slidingLayers(md: Metadata, arch: string, nLayers: number, window: number, period: number): boolean[] {
  const key = `${arch}.attention.sliding_window_pattern`;
  const raw = md.raw(key);
  if (window <= 0) return Array<boolean>(nLayers).fill(false);
  if (raw !== undefined && typeof raw === 'object' && 'length' in raw) {
    const a = raw as ArrayLike<unknown>;
    if (a.length !== nLayers) throw new LayerstreamError('malformed', `${key} has ${a.length} entries for ${nLayers} layers`);
    return Array.from(a, (v) => v === true || v === 1);
  }
  const n = md.number(key, period);
  return Array.from({ length: nLayers }, (_, il) => n === 0 || il % n < n - 1);
}
