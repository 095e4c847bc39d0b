import type { Architecture } from './architecture.ts';
import { attention, attentionWeights, decoderActivations, feedForward, ffnWeights, headWeights, outputHead, type AttentionOptions } from './blocks.ts';
import { moeFeedForward, moeWeights } from './moe.ts';
import { readTransformerHParams, type TransformerHParams } from './hparams.ts';

/**
 * Llama (llama.cpp LLM_ARCH_LLAMA, llm_build_llama): pre-norm decoder with RMSNorm, RoPE on
 * adjacent pairs (with Llama-3 rope_freqs factors when present), grouped-query attention, SwiGLU —
 * or a Mixtral-style mixture of experts when llama.expert_count is set.
 * The same graph runs qwen2 (biases), qwen3 / qwen3moe (q/k norms), phi3 (fused tensors), smollm3
 * (layers without RoPE) and mistral3 (YaRN, query temperature): see those modules. `layer(l)`: the
 * attention options of layer l (sliding window, its RoPE).
 */
export async function decoderForward(f: Parameters<Architecture['forward']>[0], h: TransformerHParams, layer: (l: number) => AttentionOptions = () => ({})): Promise<void> {
  const { a, k } = f;
  await f.embed(a.x); //                                                     x [T, n_embd]
  for (let l = 0; l < h.nLayers; l++) {
    const p = `blk.${l}.`;
    k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps); // xn [T, n_embd]
    await attention(f, h, l, layer(l)); //                                  att [T, n_head·hd]
    await f.matmul(a.x, `${p}attn_output.weight`, a.att, { accumulate: true }); // x += Wo · att
    k.rmsNorm(a.xn, a.x, await f.vector(`${p}ffn_norm.weight`), h.nEmbd, h.eps);
    if (h.nExpert > 0) await moeFeedForward(f, h, l); //                    x += Σ experts
    else await feedForward(f, h, l, a.x, { accumulate: true }); //          x += FFN(xn)
  }
  await outputHead(f, h); //                                                 logits [headT, n_vocab]
}

export const llama: Architecture<TransformerHParams> = {
  name: 'llama',
  hparams: (md, gguf) => readTransformerHParams(md, gguf, 'llama', 0),
  weights: (h) => [
    ...Array.from({ length: h.nLayers }, (_, l) => [...attentionWeights(l, h), ...(h.nExpert > 0 ? moeWeights(l, h) : ffnWeights(l, h))]).flat(),
    ...headWeights(h),
  ],
  activations: decoderActivations,
  forward: (f, h) => decoderForward(f, h),
};
