import type { Architecture } from './architecture.ts';
import { attentionWeights, decoderActivations, ffnWeights, headWeights } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';
import { decoderForward } from './llama.ts';

/** Qwen2 (llama.cpp llm_build_qwen2): the llama graph with q/k/v biases and NEOX RoPE. */
export const qwen2: Architecture<TransformerHParams> = {
  name: 'qwen2',
  hparams: (md, gguf) => readTransformerHParams(md, gguf, 'qwen2', 2),
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h, { bias: true }), ...ffnWeights(l, h)]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h),
};
