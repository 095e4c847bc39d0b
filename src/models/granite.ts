import type { Architecture } from './architecture.ts';
import { attention, attentionWeights, decoderActivations, feedForward, ffnWeights, headWeights, outputHead } from './blocks.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';

/** Granite's multipliers (granite.embedding_scale, residual_scale, attention.scale, logit_scale). */
export interface GraniteHParams extends TransformerHParams {
  /** block outputs are multiplied by this before each residual add (0 = absent: plain add) */
  residualScale: number;
  /** logits are divided by this */
  logitScale: number;
}

/**
 * Granite 3 (llama.cpp src/models/granite.cpp): the llama graph with embeddings × embedding_scale,
 * attention scores × attention.scale, each block's output × residual_scale before its residual add,
 * and logits ÷ logit_scale.
 */
export const granite: Architecture<GraniteHParams> = {
  name: 'granite',
  hparams(md, gguf) {
    const h = readTransformerHParams(md, gguf, 'granite', 0);
    return {
      ...h,
      embedScale: md.number('granite.embedding_scale', 0) || 1,
      attnScale: md.number('granite.attention.scale', 0) || h.attnScale,
      residualScale: md.number('granite.residual_scale', 0),
      logitScale: md.number('granite.logit_scale'),
    };
  },
  weights: (h) => [...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h), ...ffnWeights(l, h)]).flat(), ...headWeights(h)],
  activations: decoderActivations,
  async forward(f, h) {
    const { a, k } = f;
    const rs = h.residualScale || 1;
    await f.embed(a.x); //                                                     x [T, n_embd] × embedding_scale
    for (let l = 0; l < h.nLayers; l++) {
      const p = `blk.${l}.`;
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps);
      await attention(f, h, l); //                                             att [T, n_head·hd]
      await f.matmul(a.ffo, `${p}attn_output.weight`, a.att); //              o [T, n_embd]
      k.axpy(a.x, a.ffo, h.nEmbd, rs); //                                      x += residual_scale · o
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}ffn_norm.weight`), h.nEmbd, h.eps);
      await feedForward(f, h, l, a.ffo); //                                    o = FFN(xn)
      k.axpy(a.x, a.ffo, h.nEmbd, rs); //                                      x += residual_scale · o
    }
    await outputHead(f, h, { scale: 1 / h.logitScale }); //                    logits ÷ logit_scale
  },
};
