import type { Architecture } from './architecture.ts';
import { decoderActivations } from './blocks.ts';
import { gemmaForward, gemmaWeights } from './gemma2.ts';
import { readTransformerHParams, slidingLayers, type TransformerHParams } from './hparams.ts';

export interface Gemma3HParams extends TransformerHParams {
  /** per layer: sliding-window attention (window slidingWindow, RoPE base ropeBaseSwa, no scaling) */
  sliding: boolean[];
  ropeBaseSwa: number;
}

/**
 * Gemma 3 (llama.cpp src/models/gemma3.cpp): the Gemma 2 graph with per-head q/k RMSNorm, sliding
 * window on 5 of every 6 layers (attention.sliding_window_pattern, il % 6 < 5), sliding layers on
 * their own RoPE base (rope.freq_base_swa, default 10000) without frequency scaling while global
 * layers use rope.freq_base with the model's scaling; head_dim from attention.key_length; query
 * scale 1/√head_dim (1/√(n_embd/n_head) for the 62-layer 27B); no attention soft-cap, the final
 * soft-cap only when final_logit_softcapping is present.
 */
export const gemma3: Architecture<Gemma3HParams> = {
  name: 'gemma3',
  hparams(md, gguf) {
    const h = readTransformerHParams(md, gguf, 'gemma3', 2);
    const window = md.number('gemma3.attention.sliding_window', 0);
    return {
      ...h,
      embedScale: Math.sqrt(h.nEmbd),
      ffnAct: 'gelu',
      attnScale: 1 / Math.sqrt(h.nLayers === 62 ? h.nEmbd / h.nHead : h.headDim),
      finalSoftcap: md.number('gemma3.final_logit_softcapping', 0),
      slidingWindow: window,
      sliding: slidingLayers(md, 'gemma3', h.nLayers, window, 6),
      ropeBaseSwa: md.number('gemma3.rope.freq_base_swa', 10000),
    };
  },
  weights: (h) => gemmaWeights(h, { qkNorm: true }),
  activations: decoderActivations,
  forward: (f, h) => gemmaForward(f, h, (l) => (h.sliding[l] ? { window: h.slidingWindow, rope: { base: h.ropeBaseSwa, freqScale: 1 } } : {})),
};
