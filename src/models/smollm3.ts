import type { Architecture } from './architecture.ts';
import { attentionWeights, decoderActivations, ffnWeights, headWeights } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';
import { decoderForward } from './llama.ts';

/** Every 4th layer ((il + 1) % 4 == 0) has no RoPE (llama.cpp smollm3.cpp: n_no_rope_layer_step = 4, hard-coded). */
const NO_ROPE_STEP = 4;

/** SmolLM3 (llama.cpp src/models/smollm3.cpp): the llama graph, with RoPE left out on every 4th layer. */
export const smollm3: Architecture<TransformerHParams> = {
  name: 'smollm3',
  hparams: (md, gguf) => readTransformerHParams(md, gguf, 'smollm3', 0),
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h), ...ffnWeights(l, h)]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h, (l) => ((l + 1) % NO_ROPE_STEP === 0 ? { rope: null } : {})),
};
