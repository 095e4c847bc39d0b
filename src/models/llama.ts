import { LayerstreamError } from '../errors.ts';
import type { Metadata } from '../gguf/gguf.ts';
import type { Architecture, BaseHParams, WeightSpec } from './architecture.ts';

/**
 * Llama (llama.cpp `LLM_ARCH_LLAMA`, graph: llm_build_llama in src/llama-model.cpp):
 * pre-norm transformer with RMSNorm, RoPE on adjacent pairs, grouped-query attention, SwiGLU FFN.
 */
export interface LlamaHParams extends BaseHParams {
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFF: number;
  nRot: number;
  eps: number;
  ropeBase: number;
  ropeFreqScale: number;
}

export function readLlamaHParams(md: Metadata, arch: string, nVocab: number, hasOutput: boolean): LlamaHParams {
  const k = (s: string) => `${arch}.${s}`;
  const nEmbd = md.number(k('embedding_length'));
  const nHead = md.number(k('attention.head_count'));
  const nHeadKv = md.number(k('attention.head_count_kv'), nHead);
  const headDim = md.number(k('attention.key_length'), nEmbd / nHead);
  if (!Number.isInteger(headDim) || nHead % nHeadKv !== 0) {
    throw new LayerstreamError('malformed', `inconsistent attention shape: n_embd ${nEmbd}, ${k('attention.head_count')} ${nHead}, head_count_kv ${nHeadKv}`);
  }
  const scaling = md.string(k('rope.scaling.type'), 'none');
  const factor = md.number(k('rope.scaling.factor'), 1);
  return {
    nLayers: md.number(k('block_count')),
    nEmbd,
    nVocab,
    contextLength: md.number(k('context_length')),
    nHead,
    nHeadKv,
    headDim,
    kvWidth: nHeadKv * headDim,
    nFF: md.number(k('feed_forward_length')),
    nRot: md.number(k('rope.dimension_count'), headDim),
    eps: md.number(k('attention.layer_norm_rms_epsilon'), 1e-5),
    ropeBase: md.number(k('rope.freq_base'), 10000),
    ropeFreqScale: scaling === 'linear' && factor > 0 ? 1 / factor : 1,
    outputTensor: hasOutput ? 'output.weight' : 'token_embd.weight',
    embedScale: 1,
  };
}

export const llama: Architecture<LlamaHParams> = {
  name: 'llama',

  hparams(md, gguf) {
    const nVocab = gguf.tensorByName.get('token_embd.weight')?.ne[1] ?? md.strings('tokenizer.ggml.tokens')?.length ?? 0;
    return readLlamaHParams(md, 'llama', nVocab, gguf.tensorByName.has('output.weight'));
  },

  weights(h) {
    const w: WeightSpec[] = [];
    const q = h.nHead * h.headDim;
    for (let l = 0; l < h.nLayers; l++) {
      const p = `blk.${l}.`;
      w.push(
        { name: `${p}attn_norm.weight`, unit: l, ne: [h.nEmbd] },
        { name: `${p}attn_q.weight`, unit: l, ne: [h.nEmbd, q] },
        { name: `${p}attn_k.weight`, unit: l, ne: [h.nEmbd, h.kvWidth] },
        { name: `${p}attn_v.weight`, unit: l, ne: [h.nEmbd, h.kvWidth] },
        { name: `${p}attn_output.weight`, unit: l, ne: [q, h.nEmbd] },
        { name: `${p}ffn_norm.weight`, unit: l, ne: [h.nEmbd] },
        { name: `${p}ffn_gate.weight`, unit: l, ne: [h.nEmbd, h.nFF] },
        { name: `${p}ffn_up.weight`, unit: l, ne: [h.nEmbd, h.nFF] },
        { name: `${p}ffn_down.weight`, unit: l, ne: [h.nFF, h.nEmbd] },
      );
    }
    w.push({ name: 'rope_freqs.weight', unit: h.nLayers, ne: [h.nRot / 2], optional: true });
    w.push({ name: 'output_norm.weight', unit: h.nLayers, ne: [h.nEmbd] });
    w.push({ name: h.outputTensor, unit: h.nLayers, ne: [h.nEmbd, h.nVocab] });
    return w;
  },

  activations(h) {
    const q = h.nHead * h.headDim;
    return { x: h.nEmbd, xn: h.nEmbd, q, att: q, g: h.nFF, u: h.nFF, h: h.nFF, logits: h.nVocab };
  },

  async forward(f, h) {
    const { a, k } = f;
    const rope = { headDim: h.headDim, nRot: h.nRot, mode: 0, base: h.ropeBase, freqScale: h.ropeFreqScale };
    const freqs = await f.optionalVector('rope_freqs.weight', h.nRot / 2);
    await f.embed(a.x); //                                              x [T, n_embd]
    for (let l = 0; l < h.nLayers; l++) {
      const p = `blk.${l}.`;
      const K = f.kCache(l);
      const V = f.vCache(l);
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps); // xn [T, n_embd]
      await f.matmul(a.q, `${p}attn_q.weight`, a.xn); //                 q [T, n_head·hd]
      await f.matmul(K, `${p}attn_k.weight`, a.xn, { atPos: true }); //   K[pos0+t] [n_kv·hd]
      await f.matmul(V, `${p}attn_v.weight`, a.xn, { atPos: true }); //   V[pos0+t] [n_kv·hd]
      k.rope(a.q, freqs, { ...rope, nHeads: h.nHead });
      k.rope(K, freqs, { ...rope, nHeads: h.nHeadKv, atPos: true });
      k.attention(a.att, a.q, K, V, f.scores, { //                       att [T, n_head·hd]
        nHead: h.nHead, nHeadKv: h.nHeadKv, headDim: h.headDim, ctx: f.ctx,
        scale: 1 / Math.sqrt(h.headDim), softcap: 0, window: 0, tMax: f.tMax,
      });
      await f.matmul(a.x, `${p}attn_output.weight`, a.att, { accumulate: true }); // x += Wo · att
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}ffn_norm.weight`), h.nEmbd, h.eps);
      await f.matmul(a.g, `${p}ffn_gate.weight`, a.xn); //               g [T, n_ff]
      await f.matmul(a.u, `${p}ffn_up.weight`, a.xn); //                 u [T, n_ff]
      k.glu(a.h, a.g, a.u, h.nFF, 'silu'); //                            h = silu(g) · u
      await f.matmul(a.x, `${p}ffn_down.weight`, a.h, { accumulate: true }); //   x += Wdown · h
    }
    if (!f.wantLogits) return;
    k.rmsNorm(a.xn, a.x, await f.vector('output_norm.weight'), h.nEmbd, h.eps);
    await f.matmul(a.logits, h.outputTensor, a.xn, { head: true }); //  logits [headT, n_vocab]
  },
};
