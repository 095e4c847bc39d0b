import type { Architecture } from './architecture.ts';
import { attentionWeights, decoderActivations, ffnWeights, headWeights } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';
import { decoderForward } from './llama.ts';

/**
 * Mistral 3 / Ministral 3 / Devstral (llama.cpp src/models/mistral3.cpp): the llama graph with YaRN
 * (yarn_log_multiplier in the attention factor: hparams.ts readYarn) and Llama-4-style query
 * temperature 1 + attention.temperature_scale · ln(⌊pos / n_ctx_orig⌋ + 1), n_ctx_orig =
 * rope.scaling.original_context_length (llama-graph.cpp llm_graph_input_attn_temp).
 */
export const mistral3: Architecture<TransformerHParams> = {
  name: 'mistral3',
  hparams(md, gguf) {
    const h = readTransformerHParams(md, gguf, 'mistral3', 0);
    const scale = md.number('mistral3.attention.temperature_scale', 0);
    const floor = md.number('mistral3.rope.scaling.original_context_length', h.contextLength);
    return { ...h, attnScale: md.number('mistral3.attention.scale', 0) || h.attnScale, attnTemp: scale !== 0 ? { scale, floor } : undefined };
  },
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h), ...ffnWeights(l, h)]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h),
};
