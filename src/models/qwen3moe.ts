import type { Architecture } from './architecture.ts';
import { attentionWeights, decoderActivations, headWeights } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';
import { decoderForward } from './llama.ts';
import { moeWeights } from './moe.ts';

/**
 * Qwen3-MoE (llama.cpp src/models/qwen3moe.cpp): qwen3 attention (per-head q/k RMSNorm before NEOX
 * RoPE) over a Mixtral-style mixture of experts (softmax router, top-k, renormalised weights).
 */
export const qwen3moe: Architecture<TransformerHParams> = {
  name: 'qwen3moe',
  hparams: (md, gguf) => readTransformerHParams(md, gguf, 'qwen3moe', 2),
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h, { qkNorm: true }), ...moeWeights(l, h)]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h),
};
