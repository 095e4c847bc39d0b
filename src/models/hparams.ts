import { LayerstreamError } from '../errors.ts';
import type { GGUFFile, Metadata } from '../gguf/gguf.ts';
import type { BaseHParams } from './architecture.ts';

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
  /** 0: adjacent pairs (llama); 2: NEOX halves (qwen2, qwen3, phi3, gemma2) */
  ropeMode: 0 | 2;
  /** experts chosen per token, and whether their weights are renormalized to sum to 1 */
  nExpertUsed: number;
  expertWeightsNorm: boolean;
  /** attention score scale (default 1/sqrt(head_dim)), soft-caps (0 = off), sliding window (0 = off) */
  attnScale: number;
  attnSoftcap: number;
  finalSoftcap: number;
  slidingWindow: number;
  ffnAct: 'silu' | 'gelu';
}

/** Reads the common keys. Throws LayerstreamError('malformed') naming a missing or inconsistent key. */
export function readTransformerHParams(md: Metadata, gguf: GGUFFile, arch: string, ropeMode: 0 | 2): TransformerHParams {
  const k = (s: string) => `${arch}.${s}`;
  const nEmbd = md.number(k('embedding_length'));
  const nHead = md.number(k('attention.head_count'));
  const nHeadKv = md.number(k('attention.head_count_kv'), nHead);
  const headDim = md.number(k('attention.key_length'), nEmbd / nHead);
  if (!(nHead > 0) || !Number.isInteger(headDim) || !(nHeadKv > 0) || nHead % nHeadKv !== 0) {
    throw new LayerstreamError('malformed', `inconsistent attention shape: ${k('embedding_length')} ${nEmbd}, ${k('attention.head_count')} ${nHead}, ${k('attention.head_count_kv')} ${nHeadKv}`);
  }
  const nExpert = md.number(k('expert_count'), 0);
  const nExpertUsed = md.number(k('expert_used_count'), 0);
  if (md.has(k('expert_count')) && nExpert < 1) throw new LayerstreamError('malformed', `${k('expert_count')} is ${nExpert}: a mixture of experts needs at least one expert`);
  if (nExpert > 0 && !(nExpertUsed >= 1 && nExpertUsed <= nExpert)) {
    throw new LayerstreamError('malformed', `${k('expert_used_count')} is ${nExpertUsed}, must be between 1 and ${k('expert_count')} ${nExpert}`);
  }
  const nVocab = gguf.tensorByName.get('token_embd.weight')?.ne[1] ?? md.strings('tokenizer.ggml.tokens')?.length ?? 0;
  const scaling = md.string(k('rope.scaling.type'), 'none');
  const factor = md.number(k('rope.scaling.factor'), 1);
  const nLayers = md.number(k('block_count'));
  if (!(nLayers > 0)) throw new LayerstreamError('malformed', `${k('block_count')} is ${nLayers}`);
  return {
    nLayers,
    nEmbd,
    nVocab,
    contextLength: md.number(k('context_length')),
    nHead,
    nHeadKv,
    headDim,
    kvWidth: nHeadKv * headDim,
    nFF: md.number(k(nExpert > 0 && md.has(k('expert_feed_forward_length')) ? 'expert_feed_forward_length' : 'feed_forward_length')),
    nRot: md.number(k('rope.dimension_count'), headDim),
    eps: md.number(k('attention.layer_norm_rms_epsilon'), 1e-5),
    ropeBase: md.number(k('rope.freq_base'), 10000),
    ropeFreqScale: scaling === 'linear' && factor > 0 ? 1 / factor : 1,
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
