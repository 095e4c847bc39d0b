import { LayerstreamError } from '../errors.ts';
import type { GGUFFile, Metadata } from '../gguf/gguf.ts';
import type { Architecture, ForwardContext, WeightSpec } from './architecture.ts';
import { attention, attentionWeights, decoderActivations, feedForward, ffnWeights, headWeights, outputHead } from './blocks.ts';
import { deltaNet, deltaNetActivations, deltaNetWeights, readDeltaNet, type DeltaNetHParams } from './deltanet.ts';
import { readTransformerHParams } from './hparams.ts';
import { moeFeedForward, moeWeights } from './moe.ts';

/**
 * Qwen3.5 / 3.6 (llama.cpp src/models/qwen35.cpp, qwen35moe.cpp): a hybrid of Gated DeltaNet linear
 * attention (src/models/deltanet.ts, recurrent state per layer) on most layers and full attention
 * on every full_attention_interval-th: per-head [q | gate] in attn_q with a sigmoid output gate,
 * per-head q/k RMSNorm, interleaved multi-section RoPE (imrope, partial rotary over
 * rope.dimension_count dims, sections rope.dimension_sections), kq_scale 1/√head_dim. Every layer:
 * x += mixer(RMSNorm(x)); x += FFN(RMSNorm_post_attention(x)), with a SwiGLU FFN (qwen35) or a
 * softmax top-k renormalised MoE plus a sigmoid-gated shared expert (qwen35moe). The
 * multi-token-prediction block (nextn_predict_layers, after the trunk) is neither run nor uploaded.
 */
export interface Qwen35HParams extends DeltaNetHParams {
  /** qwen35moe: the shared expert's width (expert_shared_feed_forward_length); 0 = dense qwen35 */
  nFFShared: number;
}

function readQwen35(md: Metadata, gguf: GGUFFile, arch: string): Qwen35HParams {
  const t = readTransformerHParams(md, gguf, arch, 2);
  const k = (s: string) => `${arch}.${s}`;
  // MTP blocks follow the trunk: n_layer() = block_count − nextn_predict_layers (llama-hparams.cpp)
  const nLayers = t.nLayers - md.number(k('nextn_predict_layers'), 0);
  const raw = md.raw(k('rope.dimension_sections'));
  const sections = raw !== undefined && typeof raw === 'object' && 'length' in raw ? Array.from(raw as ArrayLike<number>, Number).slice(0, 4) : [];
  while (sections.length < 4) sections.push(0);
  const pairs = sections.reduce((s, v) => s + v, 0);
  if (!(pairs > 0) || t.nRot % 2 !== 0 || pairs > t.headDim / 2) {
    throw new LayerstreamError('malformed', `${k('rope.dimension_sections')} [${sections.join(', ')}] must give between 1 and head_dim / 2 = ${t.headDim / 2} rotated pairs`);
  }
  const dn = readDeltaNet(md, arch, nLayers);
  const moe = t.nExpert > 0;
  return {
    ...t,
    ...dn,
    nLayers,
    ropeMode: 40, // LLAMA_ROPE_TYPE_IMROPE (llama-model.cpp llama_model_rope_type for QWEN35 / QWEN35MOE)
    ropeSections: sections,
    nFFShared: moe ? md.number(k('expert_shared_feed_forward_length'), t.nFF) : 0,
  };
}

function qwen35Weights(h: Qwen35HParams): WeightSpec[] {
  const moe = h.nExpert > 0;
  return [
    ...Array.from({ length: h.nLayers }, (_, l): WeightSpec[] => [
      ...(h.recurrent[l]
        ? [{ name: `blk.${l}.attn_norm.weight`, unit: l, ne: [h.nEmbd] }, ...deltaNetWeights(l, h)]
        : attentionWeights(l, h, { qkNorm: true, gate: true })),
      ...(moe
        ? moeWeights(l, h, { norm: 'post_attention_norm', nFFShared: h.nFFShared, shexpGate: true })
        : [{ name: `blk.${l}.post_attention_norm.weight`, unit: l, ne: [h.nEmbd] }, ...ffnWeights(l, h, { norm: false })]),
    ]).flat(),
    ...headWeights(h),
  ];
}

function qwen35Activations(h: Qwen35HParams) {
  const ff = Math.max(h.nFF, h.nFFShared);
  const nq = h.nHead * h.headDim;
  return { ...decoderActivations(h), g: ff, u: ff, h: ff, qg: 2 * nq, gate: nq, ...deltaNetActivations(h) };
}

/** The qwen35 / qwen35moe graph (qwen35.cpp graph::graph), one layer at a time. */
async function qwen35Forward(f: ForwardContext, h: Qwen35HParams): Promise<void> {
  const { a, k } = f;
  await f.embed(a.x); //                                                           x [T, n_embd]
  for (let l = 0; l < h.nLayers; l++) {
    const p = `blk.${l}.`;
    k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps); // xn [T, n_embd]
    if (h.recurrent[l]) {
      await deltaNet(f, h, l); //                                                  dn [T, d_inner]
      await f.matmul(a.x, `${p}ssm_out.weight`, a.dn, { accumulate: true }); //   x += W_out · dn
    } else {
      await attention(f, h, l, { gate: true }); //                                 att [T, n_head·hd], gated
      await f.matmul(a.x, `${p}attn_output.weight`, a.att, { accumulate: true }); // x += Wo · att
    }
    k.rmsNorm(a.xn, a.x, await f.vector(`${p}post_attention_norm.weight`), h.nEmbd, h.eps); // xn = post-norm(x)
    if (h.nExpert > 0) await moeFeedForward(f, h, l, { nFFShared: h.nFFShared }); // x += Σ experts + σ(g)·shexp
    else await feedForward(f, h, l, a.x, { accumulate: true }); //                x += FFN(xn)
  }
  await outputHead(f, h); //                                                       logits [headT, n_vocab]
}

export const qwen35: Architecture<Qwen35HParams> = {
  name: 'qwen35',
  hparams: (md, gguf) => readQwen35(md, gguf, 'qwen35'),
  weights: qwen35Weights,
  activations: qwen35Activations,
  forward: qwen35Forward,
};

export const qwen35moe: Architecture<Qwen35HParams> = {
  name: 'qwen35moe',
  hparams: (md, gguf) => readQwen35(md, gguf, 'qwen35moe'),
  weights: qwen35Weights,
  activations: qwen35Activations,
  forward: qwen35Forward,
};
