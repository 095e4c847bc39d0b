import type { Architecture, ForwardContext, WeightSpec } from './architecture.ts';
import { attention, attentionWeights, decoderActivations, feedForward, ffnWeights, headWeights, outputHead, type AttentionOptions } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';

/** Gemma 2 / 3 weights: attention (with q/k norms for gemma3), post-attention norm, FFN, post-FFN norm. */
export function gemmaWeights(h: TransformerHParams, o: { qkNorm?: boolean } = {}): WeightSpec[] {
  return [
    ...Array.from({ length: h.nLayers }, (_, l): WeightSpec[] => [
      ...attentionWeights(l, h, { qkNorm: o.qkNorm }),
      { name: `blk.${l}.post_attention_norm.weight`, unit: l, ne: [h.nEmbd] },
      ...ffnWeights(l, h),
      { name: `blk.${l}.post_ffw_norm.weight`, unit: l, ne: [h.nEmbd] },
    ]).flat(),
    ...headWeights(h),
  ];
}

/**
 * The Gemma 2 / 3 graph: embeddings × √n_embd, RMSNorm before and after both attention and FFN
 * (the post-norms go into the residual), GeGLU, the output head. `layer(l)`: attention options.
 */
export async function gemmaForward(f: ForwardContext, h: TransformerHParams, layer: (l: number) => AttentionOptions): Promise<void> {
  const { a, k } = f;
  await f.embed(a.x); //                                                   x [T, n_embd] × √n_embd
  for (let l = 0; l < h.nLayers; l++) {
    const p = `blk.${l}.`;
    k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps);
    await attention(f, h, l, layer(l)); //                                  att [T, n_head·hd]
    await f.matmul(a.ffo, `${p}attn_output.weight`, a.att); //            o [T, n_embd]
    k.rmsNorm(a.x, a.ffo, await f.vector(`${p}post_attention_norm.weight`), h.nEmbd, h.eps, { accumulate: true }); // x += norm(o)
    k.rmsNorm(a.xn, a.x, await f.vector(`${p}ffn_norm.weight`), h.nEmbd, h.eps);
    await feedForward(f, h, l, a.ffo); //                                  o = FFN(xn)
    k.rmsNorm(a.x, a.ffo, await f.vector(`${p}post_ffw_norm.weight`), h.nEmbd, h.eps, { accumulate: true }); // x += norm(o)
  }
  await outputHead(f, h); //                                               logits (soft-capped if the model says so)
}

/**
 * Gemma 2 (llama.cpp llm_build_gemma2): embeddings × √n_embd, RMSNorm before and after both
 * attention and FFN, GeGLU (tanh GELU), attention scores soft-capped, sliding-window attention on
 * even layers, final logits soft-capped. Norm weights already include Gemma's +1 (the converter adds it).
 */
export const gemma2: Architecture<TransformerHParams> = {
  name: 'gemma2',
  hparams(md, gguf) {
    const h = readTransformerHParams(md, gguf, 'gemma2', 2);
    return {
      ...h,
      embedScale: Math.sqrt(h.nEmbd),
      ffnAct: 'gelu',
      // query_pre_attn_scalar: head_dim for 2B/9B, n_embd / n_head for 27B (46 layers)
      attnScale: 1 / Math.sqrt(h.nLayers === 46 ? h.nEmbd / h.nHead : h.headDim),
      attnSoftcap: md.number('gemma2.attn_logit_softcapping', 50),
      finalSoftcap: md.number('gemma2.final_logit_softcapping', 30),
      slidingWindow: md.number('gemma2.attention.sliding_window', 4096),
    };
  },
  weights: (h) => gemmaWeights(h),
  activations: decoderActivations,
  forward: (f, h) => gemmaForward(f, h, (l) => ({ window: l % 2 === 0 ? h.slidingWindow : 0 })),
};
