import type { ActivationSpec, ForwardContext, WeightSpec } from './architecture.ts';
import type { TransformerHParams } from './hparams.ts';

/**
 * Multi-head latent attention (DeepSeek-V2/V3, llama.cpp src/models/deepseek2.cpp with the split
 * attn_k_b / attn_v_b tensors: hparams.is_mla()), in the "absorbed" form llama.cpp runs:
 *
 *   q          = W_q_b · RMSNorm(W_q_a · xn)  (or W_q · xn)    per head [q_nope (qk_nope) | q_pe (n_rot)]
 *   [c_kv|k_pe] = W_kv_a_mqa · xn                            c_kv: kv_lora_rank, k_pe: n_rot (one "head")
 *   cache row  = [RMSNorm(c_kv) | RoPE(k_pe)]                kv_lora_rank + n_rot floats per token and layer
 *   Q_h        = [W_k_b[h] · q_nope_h | RoPE(q_pe_h)]         kv_lora_rank + n_rot per head
 *   o_h        = softmax(kq_scale · Q_h · rowsᵀ) · c_kv       attention with n_head_kv = 1, V = the
 *                                                             first kv_lora_rank columns of each row
 *   att_h      = W_v_b[h] · o_h                               v_head per head (build_attn_mha's v_mla)
 *
 * so the K/V cache holds only the latent row (no V cache: BaseHParams.kvLatent), as llama.cpp's
 * build_attn_inp_k cache does. Shapes: [T, width] float32 activations, llama.cpp tensor names.
 */

/** MLA hyperparameters (llama.cpp llama_hparams names in comments); n_rot = qk_rope. */
export interface MlaHParams extends TransformerHParams {
  /** n_lora_q: rank of the q LoRA (attn_q_a / attn_q_a_norm / attn_q_b); 0 = one attn_q matrix (lite models) */
  qLoraRank: number;
  /** n_lora_kv: width of the compressed latent c_kv */
  kvLoraRank: number;
  /** n_embd_head_k_mla − n_rot: the per-head query/key dims without RoPE */
  qkNope: number;
  /** n_embd_head_v_mla: per-head value width after attn_v_b */
  vHeadDim: number;
}

/**
 * The K/V cache geometry of MLA: kvWidth = kv_lora_rank + n_rot (one latent row, n_head_kv = 1,
 * head_dim = that row), no V cache, and kvWidthUncompressed = what llama.cpp's non-absorbed graph
 * stores per token and layer: n_head · (qk_nope + qk_rope) keys + n_head · v_head values.
 */
export function mlaCacheShape(h: Pick<MlaHParams, 'nHead' | 'kvLoraRank' | 'nRot' | 'qkNope' | 'vHeadDim'>) {
  const row = h.kvLoraRank + h.nRot;
  return { kvWidth: row, headDim: row, nHeadKv: 1, kvLatent: true, kvWidthUncompressed: h.nHead * (h.qkNope + h.nRot) + h.nHead * h.vHeadDim };
}

/** Activation buffers of mla() (widths per token). */
export function mlaActivations(h: MlaHParams): ActivationSpec {
  const row = h.kvLoraRank + h.nRot;
  return {
    qa: Math.max(1, h.qLoraRank), //     q_a, then its norm
    qan: Math.max(1, h.qLoraRank),
    q: h.nHead * (h.qkNope + h.nRot), // [q_nope | q_pe] per head
    lat: h.kvLoraRank, //                c_kv, then its norm
    latn: h.kvLoraRank,
    kv: row, //                          the cache row [norm(c_kv) | k_pe]
    qk: h.nHead * row, //                absorbed query per head [W_k_b · q_nope | q_pe]
    attl: h.nHead * h.kvLoraRank, //     attention output in latent space
    att: h.nHead * h.vHeadDim, //        after W_v_b: the input of attn_output
  };
}

/**
 * MLA weights of layer l in the order mla() reads them, after the pre-norm and before attn_output
 * (llama-model.cpp / deepseek2.cpp load_arch_tensors shapes): q LoRA or attn_q, attn_kv_a_mqa,
 * attn_kv_a_norm, attn_k_b [qk_nope, kv_lora, n_head], attn_v_b [kv_lora, v_head, n_head].
 */
export function mlaWeights(l: number, h: MlaHParams): WeightSpec[] {
  const p = `blk.${l}.`;
  const q = h.nHead * (h.qkNope + h.nRot);
  const w: WeightSpec[] = h.qLoraRank > 0
    ? [
        { name: `${p}attn_q_a.weight`, unit: l, ne: [h.nEmbd, h.qLoraRank] },
        { name: `${p}attn_q_a_norm.weight`, unit: l, ne: [h.qLoraRank] },
        { name: `${p}attn_q_b.weight`, unit: l, ne: [h.qLoraRank, q] },
      ]
    : [{ name: `${p}attn_q.weight`, unit: l, ne: [h.nEmbd, q] }];
  w.push(
    { name: `${p}attn_kv_a_mqa.weight`, unit: l, ne: [h.nEmbd, h.kvLoraRank + h.nRot] },
    { name: `${p}attn_kv_a_norm.weight`, unit: l, ne: [h.kvLoraRank] },
    { name: `${p}attn_k_b.weight`, unit: l, ne: [h.qkNope, h.kvLoraRank, h.nHead] },
    { name: `${p}attn_v_b.weight`, unit: l, ne: [h.kvLoraRank, h.vHeadDim, h.nHead] },
  );
  return w;
}

/**
 * att [T, n_head·v_head] = multi-head latent attention of layer l over xn [T, n_embd] (llama.cpp
 * deepseek2.cpp graph, is_mla branch, and llama-graph.cpp build_attn_mha with v_mla); the new
 * tokens' latent rows go to the K cache rows pos0.. (f32 or q8_0). RoPE: GPT-J-style pairs
 * (h.ropeMode) on the n_rot dims of q_pe and k_pe, YaRN from h.ropeYarn, no frequency factors
 * (deepseek2.cpp passes none). Scores are scaled by h.attnScale (deepseek2's kq_scale, with YaRN's
 * mscale²) and the query temperature h.attnTemp when the model has one.
 */
export async function mla(f: ForwardContext, h: MlaHParams, l: number): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  const K = f.kCache(l);
  const H = h.nHead;
  const r = h.kvLoraRank;
  const nope = h.qkNope;
  const nRot = h.nRot;
  const qHead = nope + nRot; // q per head: [q_nope | q_pe]
  const row = r + nRot; //      cache row, and absorbed query per head: [latent | rope]
  const vh = h.vHeadDim;

  if (h.qLoraRank > 0) {
    await f.matmul(a.qa, `${p}attn_q_a.weight`, a.xn); //                            q_a [T, q_lora]
    k.rmsNorm(a.qan, a.qa, await f.vector(`${p}attn_q_a_norm.weight`), h.qLoraRank, h.eps);
    await f.matmul(a.q, `${p}attn_q_b.weight`, a.qan); //                            q [T, H·(nope+rope)]
  } else {
    await f.matmul(a.q, `${p}attn_q.weight`, a.xn); //                               q [T, H·(nope+rope)]
  }
  // kv_cmpr_pe = W_kv_a_mqa · xn, split into c_kv (rows 0..r) and k_pe (rows r..r+rope), k_pe
  // written straight to its place in the cache row
  await f.matmul(a.lat, `${p}attn_kv_a_mqa.weight`, a.xn, { rows: [0, r] }); //      c_kv [T, kv_lora]
  await f.matmul(a.kv, `${p}attn_kv_a_mqa.weight`, a.xn, { rows: [r, row], yCol0: r, yStride: row }); // kv[:, r..] = k_pe
  k.rmsNorm(a.latn, a.lat, await f.vector(`${p}attn_kv_a_norm.weight`), r, h.eps); // kv_a_norm
  k.copy(a.kv, a.latn, { n: r, yStride: row }); //                                    kv[:, 0..r) = norm(c_kv)

  // frequency factors: ones (deepseek2.cpp passes none; rope_freqs is not among its weights)
  const ones = await f.optionalVector('rope_freqs.weight', nRot / 2);
  const rope = { nRot, mode: h.ropeMode, base: h.ropeBase, freqScale: h.ropeFreqScale, yarn: h.ropeYarn };
  k.rope(a.q, ones, { ...rope, nHeads: H, headDim: qHead, rotOffset: nope }); //     q_pe of every head
  k.rope(a.kv, ones, { ...rope, nHeads: 1, headDim: row, rotOffset: r }); //          k_pe
  k.kvStore(K, a.kv, row, f.kvType); //                                              K[pos0+t] = [norm(c_kv) | k_pe]

  // absorbed query: Q_h = [W_k_b[h] · q_nope_h | q_pe_h]; attn_k_b rows h·r.. are head h's [kv_lora, qk_nope]
  for (let i = 0; i < H; i++) {
    await f.matmul(a.qk, `${p}attn_k_b.weight`, a.q, { rows: [i * r, (i + 1) * r], xCol0: i * qHead, xStride: H * qHead, yCol0: i * row, yStride: H * row });
  }
  k.copy(a.qk, a.q, { n: nRot, groups: H, xStride: H * qHead, xCol0: nope, xGroup: qHead, yStride: H * row, yCol0: r, yGroup: row }); // qk [T, H·(r+rope)]

  // MQA over the latent rows (n_head_kv = 1): scores over all row dims, values = the latent part
  k.attention(a.attl, a.qk, K, K, f.scores, {
    nHead: H, nHeadKv: 1, headDim: row, vDim: r, kStride: row, vStride: row, ctx: f.ctx, tMax: f.tMax,
    scale: h.attnScale, softcap: 0, window: 0, kvType: f.kvType, temp: h.attnTemp,
  }); //                                                                              attl [T, H·kv_lora]

  // decompress: att_h = W_v_b[h] · o_h; attn_v_b rows h·v_head.. are head h's [v_head, kv_lora]
  for (let i = 0; i < H; i++) {
    await f.matmul(a.att, `${p}attn_v_b.weight`, a.attl, { rows: [i * vh, (i + 1) * vh], xCol0: i * r, xStride: H * r, yCol0: i * vh, yStride: H * vh });
  } //                                                                                att [T, H·v_head]
}
