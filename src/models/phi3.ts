import type { Architecture } from './architecture.ts';
import { attentionWeights, decoderActivations, ffnWeights, headWeights } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';
import { decoderForward } from './llama.ts';

/**
 * Phi-3 (llama.cpp llm_build_phi3): the llama graph with fused attn_qkv and fused [gate | up] in
 * ffn_up, NEOX RoPE, and phi3.attention.sliding_window applied to every layer.
 */
export const phi3: Architecture<TransformerHParams> = {
  name: 'phi3',
  hparams: (md, gguf) => ({ ...readTransformerHParams(md, gguf, 'phi3', 2), slidingWindow: md.number('phi3.attention.sliding_window', 0) }),
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h, { fused: true }), ...ffnWeights(l, h, { fused: true })]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h, () => ({ window: h.slidingWindow })),
};
