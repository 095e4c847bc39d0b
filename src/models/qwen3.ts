import type { Architecture } from './architecture.ts';
import { attentionWeights, decoderActivations, ffnWeights, headWeights } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';
import { decoderForward } from './llama.ts';

/** Qwen3 (llama.cpp llm_build_qwen3): the llama graph with per-head RMSNorm of q and k before NEOX RoPE. */
export const qwen3: Architecture<TransformerHParams> = {
  name: 'qwen3',
  hparams: (md, gguf) => readTransformerHParams(md, gguf, 'qwen3', 2),
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h, { qkNorm: true }), ...ffnWeights(l, h)]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h),
};
