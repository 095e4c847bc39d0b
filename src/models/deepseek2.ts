import { LayerstreamError } from '../errors.ts';
import type { Architecture } from './architecture.ts';
import { feedForward, ffnWeights, outputHead } from './blocks.ts';
import { readTransformerHParams, readYarn } from './hparams.ts';
import { mla, mlaActivations, mlaCacheShape, mlaWeights, type MlaHParams } from './mla.ts';
import { moeFeedForward, moeWeights, type Gating } from './moe.ts';

/**
 * DeepSeek-V2 / V3 and the models converted as `deepseek2` (GLM-4.7-Flash, Kimi K2, …): llama.cpp
 * src/models/deepseek2.cpp. Pre-norm decoder with RMSNorm; multi-head latent attention (src/models/mla.ts,
 * latent K/V cache); the first leading_dense_block_count layers have a SwiGLU FFN of
 * feed_forward_length, the others a DeepSeek MoE (router with softmax or sigmoid gating, optional
 * exp_probs_b selection bias, group-limited selection, normalised and scaled weights; experts of
 * expert_feed_forward_length) plus an always-on shared expert. Only the MLA files current
 * converters write (attention.key_length_mla, split attn_k_b / attn_v_b) are read; multi-token
 * prediction blocks (nextn_predict_layers) are not run.
 */
export interface Deepseek2HParams extends MlaHParams {
  /** n_layer_dense_lead: layers 0.. with a dense FFN */
  nLayerDenseLead: number;
  /** n_ff of the dense layers (feed_forward_length); nFF is the experts' (n_ff_exp) */
  nFFDense: number;
  /** shared expert width: n_ff_exp · n_expert_shared (deepseek2.cpp load_arch_tensors) */
  nFFShared: number;
  gating: Gating;
}

const ARCH = 'deepseek2';
const key = (s: string) => `${ARCH}.${s}`;

/** llama_expert_gating_func_type (llama-hparams.h) → moe.ts Gating.func. */
const GATING: Record<number, Gating['func']> = { 1: 'softmax', 2: 'sigmoid', 3: 'softmax_weight' };

export const deepseek2: Architecture<Deepseek2HParams> = {
  name: ARCH,
  hparams(md, gguf) {
    const t = readTransformerHParams(md, gguf, ARCH, 0); // LLAMA_ROPE_TYPE_NORM: GPT-J-style pairs
    if (!md.has(key('attention.key_length_mla')) || !md.has(key('attention.value_length_mla'))) {
      throw new LayerstreamError('malformed', `${key('attention.key_length_mla')} / ${key('attention.value_length_mla')} missing: only MLA files with split attn_k_b / attn_v_b are supported (re-convert with a current convert_hf_to_gguf.py)`);
    }
    // deepseek2.cpp load_arch_hparams; n_rot = rope.dimension_count is qk_rope
    const kMla = md.number(key('attention.key_length_mla')); //   n_embd_head_k_mla = qk_nope + qk_rope
    const vHeadDim = md.number(key('attention.value_length_mla'));
    const kvLoraRank = md.number(key('attention.kv_lora_rank'));
    const qLoraRank = md.number(key('attention.q_lora_rank'), 0); // absent in lite models: attn_q
    const qkNope = kMla - t.nRot;
    if (!(qkNope >= 1) || qkNope % 4 !== 0 || kvLoraRank % 4 !== 0 || t.nRot % 2 !== 0) {
      throw new LayerstreamError('malformed', `MLA shape not supported: ${key('attention.key_length_mla')} ${kMla}, ${key('rope.dimension_count')} ${t.nRot}, ${key('attention.kv_lora_rank')} ${kvLoraRank} (qk_nope and kv_lora_rank must be multiples of 4)`);
    }
    const shape = mlaCacheShape({ nHead: t.nHead, kvLoraRank, nRot: t.nRot, qkNope, vHeadDim });
    if (shape.kvWidth > 1024) throw new LayerstreamError('malformed', `MLA latent row kv_lora_rank + n_rot = ${shape.kvWidth} is over the attention kernel's 1024`);

    // MTP blocks follow the trunk: n_layer() = block_count − nextn_predict_layers (llama-hparams.cpp)
    const blockCount = t.nLayers;
    const nLayers = blockCount - md.number(key('nextn_predict_layers'), 0);

    // gating; unset in old DeepSeek V2 / V2.5 files: softmax, except GLM 4.7 Lite (block_count 47 or 48, vocab 154880)
    let func = md.number(key('expert_gating_func'), 0);
    if (func === 0) func = (blockCount === 47 || blockCount === 48) && t.nVocab === 154880 ? 2 : 1;
    if (!GATING[func]) throw new LayerstreamError('malformed', `${key('expert_gating_func')} ${func} is not supported (softmax 1, sigmoid 2, softmax_weight 3)`);
    const nGroups = md.number(key('expert_group_count'), 0);
    if (nGroups > 1) {
      const used = md.number(key('expert_group_used_count'));
      if (!Number.isInteger(nGroups) || t.nExpert % nGroups !== 0 || !(Number.isInteger(used) && used >= 1 && used <= nGroups) || t.nExpertUsed > used * (t.nExpert / nGroups)) {
        throw new LayerstreamError('malformed', `${key('expert_group_count')} ${nGroups} with ${key('expert_group_used_count')} ${used} does not fit ${key('expert_count')} ${t.nExpert} and ${key('expert_used_count')} ${t.nExpertUsed}`);
      }
    }
    const gating: Gating = {
      func: GATING[func],
      k: t.nExpertUsed,
      norm: md.bool(key('expert_weights_norm'), false),
      scale: md.number(key('expert_weights_scale'), 0) || 1, // llama.cpp scales only when ≠ 0 and ≠ 1
      groups: nGroups > 1 ? { n: nGroups, used: md.number(key('expert_group_used_count')) } : undefined,
    };
    const nFFExp = md.number(key('expert_feed_forward_length'));

    // YaRN [TAG_DEEPSEEK2_YARN_LOG_MUL_FIX]: load_arch_hparams divides yarn_log_multiplier by 0.1
    // (cancelling the converter's factor, in float32); llama-context.cpp then takes mscale =
    // mscale_all_dims = that value for DEEPSEEK2 when it is not 1 (readYarn's mscaleLikeAll).
    const logMulKey = key('rope.scaling.yarn_log_multiplier');
    const logMul = md.has(logMulKey) ? Math.fround(Math.fround(md.number(logMulKey)) / Math.fround(0.1)) : 0;
    const ropeYarn = readYarn(md, ARCH, { nRot: t.nRot, base: t.ropeBase, freqScale: t.ropeFreqScale, nCtxTrain: t.contextLength, logMul, mscaleLikeAll: true });
    // deepseek2.cpp graph: attn_factor_org = attn_factor · (1 + 0.1 ln(1 / freq_scale)) undoes the
    // cancelling factor; mscale = attn_factor_org · (1 + 0.1 · rope_yarn_log_mul · ln(1 / freq_scale));
    // kq_scale = mscale² / √n_embd_head_k_mla. The rope itself gets cparams' attn_factor.
    const lnInvFs = Math.log(1 / t.ropeFreqScale);
    const attnFactorOrg = (ropeYarn?.attnFactor ?? 1) * (1 + 0.1 * lnInvFs);
    const mscale = attnFactorOrg * (1 + 0.1 * logMul * lnInvFs);
    // optional query temperature (mistral-large), f_attn_temp_offset 0
    const tempScale = md.number(key('attention.temperature_scale'), 0);

    return {
      ...t,
      ...shape,
      nLayers,
      qLoraRank,
      kvLoraRank,
      qkNope,
      vHeadDim,
      ropeYarn,
      attnScale: (mscale * mscale) / Math.sqrt(kMla),
      attnTemp: tempScale !== 0 ? { scale: tempScale, floor: md.number(key('attention.temperature_length')) } : undefined,
      nLayerDenseLead: md.number(key('leading_dense_block_count'), 0),
      nFFDense: md.number(key('feed_forward_length')),
      nFF: nFFExp,
      nFFShared: nFFExp * md.number(key('expert_shared_count')),
      expertWeightsNorm: gating.norm,
      gating,
    };
  },
  weights: (h) => [
    ...Array.from({ length: h.nLayers }, (_, l) => [
      { name: `blk.${l}.attn_norm.weight`, unit: l, ne: [h.nEmbd] },
      ...mlaWeights(l, h),
      { name: `blk.${l}.attn_output.weight`, unit: l, ne: [h.nHead * h.vHeadDim, h.nEmbd] },
      ...(l < h.nLayerDenseLead ? ffnWeights(l, { ...h, nFF: h.nFFDense }) : moeWeights(l, h, { nFFShared: h.nFFShared })),
    ]).flat(),
    { name: 'output_norm.weight', unit: h.nLayers, ne: [h.nEmbd] },
    { name: h.outputTensor, unit: h.nLayers, ne: [h.nEmbd, h.nVocab] },
  ],
  activations: (h) => {
    const ff = Math.max(h.nFFDense, h.nFF, h.nFFShared); // dense, expert and shared-expert widths
    return { x: h.nEmbd, xn: h.nEmbd, ...mlaActivations(h), g: ff, u: ff, h: ff, ffo: h.nEmbd, router: Math.max(1, h.nExpert), logits: h.nVocab };
  },
  async forward(f, h) {
    const { a, k } = f;
    const dense = { ...h, nFF: h.nFFDense };
    await f.embed(a.x); //                                                     x [T, n_embd]
    for (let l = 0; l < h.nLayers; l++) {
      const p = `blk.${l}.`;
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}attn_norm.weight`), h.nEmbd, h.eps); // xn [T, n_embd]
      await mla(f, h, l); //                                                  att [T, n_head·v_head]
      await f.matmul(a.x, `${p}attn_output.weight`, a.att, { accumulate: true }); // x += Wo · att
      k.rmsNorm(a.xn, a.x, await f.vector(`${p}ffn_norm.weight`), h.nEmbd, h.eps);
      if (l < h.nLayerDenseLead) await feedForward(f, dense, l, a.x, { accumulate: true }); // x += FFN(xn)
      else await moeFeedForward(f, h, l, { gating: h.gating, nFFShared: h.nFFShared }); // x += Σ experts + shared
    }
    await outputHead(f, h); //                                                 logits [headT, n_vocab]
  },
};
