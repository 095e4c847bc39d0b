import type { Architecture } from './architecture.ts';
import { attention, attentionWeights, decoderActivations, headWeights, outputHead } from './blocks.ts';
import { readTransformerHParams, slidingLayers, type TransformerHParams } from './hparams.ts';
import { moeFeedForward, moeWeights, type Gating } from './moe.ts';

export interface GptOssHParams extends TransformerHParams {
  /** per layer: sliding-window attention (even layers: sliding_window_pattern 2) */
  sliding: boolean[];
  gating: Gating;
}

/**
 * gpt-oss (llama.cpp src/models/openai-moe.cpp, LLM_ARCH_OPENAI_MOE): attention with q/k/v/o biases
 * and a learned sink logit per head, sliding window on alternating layers, NEOX RoPE with YaRN
 * (every layer), scores scaled by 1/√n_rot; a mixture of experts after post_attention_norm with a
 * router bias, top-k of the raw router logits and a softmax over the chosen k
 * (LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT, no renormalisation), per-expert biases, and the
 * clamped SwiGLU (swiglu_oai: α 1.702, limit 7, up + 1). Experts ship in MXFP4.
 */
export const gptOss: Architecture<GptOssHParams> = {
  name: 'gpt-oss',
  hparams(md, gguf) {
    const h = readTransformerHParams(md, gguf, 'gpt-oss', 2);
    const window = md.number('gpt-oss.attention.sliding_window');
    return {
      ...h,
      attnScale: 1 / Math.sqrt(h.nRot),
      slidingWindow: window,
      sliding: slidingLayers(md, 'gpt-oss', h.nLayers, window, 2),
      ffnAct: 'swiglu_oai',
      gating: { func: 'softmax_weight', k: h.nExpertUsed, norm: false, scale: md.number('gpt-oss.expert_weights_scale', 0) || 1 },
    };
  },
  weights: (h) => [
    ...Array.from({ length: h.nLayers }, (_, l) => [
      ...attentionWeights(l, h, { bias: true, sinks: true, outBias: true }),
      ...moeWeights(l, h, { norm: 'post_attention_norm' }),
    ]).flat(),
    ...headWeights(h),
  ],
  activations: decoderActivations,
  async forward(f, h) {
    const { a, k } = f;
    await f.embed(a.x); //                                                     x [T, n_embd]
    for (let l = 0; l < h.nLayers; l++) {
      const p = `blk.${l}.`;
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps);
      await attention(f, h, l, { window: h.sliding[l] ? h.slidingWindow : 0 }); // att [T, n_head·hd], with sinks
      await f.matmul(a.x, `${p}attn_output.weight`, a.att, { accumulate: true }); // x += Wo · att
      k.addRow(a.x, await f.vector(`${p}attn_output.bias`), h.nEmbd); //        x += bo
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}post_attention_norm.weight`), h.nEmbd, h.eps);
      await moeFeedForward(f, h, l, { gating: h.gating }); //                  x += Σ w_e · expert_e(xn)
    }
    await outputHead(f, h);
  },
};
