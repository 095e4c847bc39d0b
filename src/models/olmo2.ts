import type { Architecture, WeightSpec } from './architecture.ts';
import { attention, attentionWeights, decoderActivations, feedForward, ffnWeights, headWeights, outputHead } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';

/**
 * OLMo 2 (llama.cpp src/models/olmo2.cpp): no pre-norms — attention and FFN read the residual x
 * itself — RMSNorm of q and k over their full widths before the head split, RMSNorm of each block's
 * output before its residual add (post_attention_norm, post_ffw_norm), NEOX RoPE, SwiGLU.
 */
export const olmo2: Architecture<TransformerHParams> = {
  name: 'olmo2',
  hparams: (md, gguf) => readTransformerHParams(md, gguf, 'olmo2', 2),
  weights: (h) => [
    ...Array.from({ length: h.nLayers }, (_, l): WeightSpec[] => [
      ...attentionWeights(l, h, { qkNorm: 'full', norm: false }),
      { name: `blk.${l}.post_attention_norm.weight`, unit: l, ne: [h.nEmbd] },
      ...ffnWeights(l, h, { norm: false }),
      { name: `blk.${l}.post_ffw_norm.weight`, unit: l, ne: [h.nEmbd] },
    ]).flat(),
    ...headWeights(h),
  ],
  activations: decoderActivations,
  async forward(f, h) {
    const { a, k } = f;
    await f.embed(a.x); //                                                     x [T, n_embd]
    for (let l = 0; l < h.nLayers; l++) {
      const p = `blk.${l}.`;
      await attention(f, h, l, { input: a.x }); //                             att [T, n_head·hd]
      await f.matmul(a.ffo, `${p}attn_output.weight`, a.att); //              o [T, n_embd]
      k.rmsNorm(a.x, a.ffo, await f.vector(`${p}post_attention_norm.weight`), h.nEmbd, h.eps, { accumulate: true }); // x += norm(o)
      await feedForward(f, h, l, a.ffo, { input: a.x }); //                    o = FFN(x)
      k.rmsNorm(a.x, a.ffo, await f.vector(`${p}post_ffw_norm.weight`), h.nEmbd, h.eps, { accumulate: true }); // x += norm(o)
    }
    await outputHead(f, h);
  },
};
