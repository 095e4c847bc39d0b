import type { BufView } from '../gpu/kernels.ts';
import type { ActivationSpec, ForwardContext, WeightSpec } from './architecture.ts';
import type { TransformerHParams } from './hparams.ts';

/**
 * Building blocks shared by the decoder architectures: the weights each block reads (in the order
 * it reads them, which is the streaming order) and the block itself as kernel calls.
 * Shapes: [T, width] float32 activations, T = tokens in the step. llama.cpp tensor names.
 */

type H = TransformerHParams;

/** Activation buffers every decoder uses (widths per token). */
export function decoderActivations(h: H): ActivationSpec {
  const q = h.nHead * h.headDim;
  return { x: h.nEmbd, xn: h.nEmbd, q, k: h.kvWidth, v: h.kvWidth, att: q, g: h.nFF, u: h.nFF, h: h.nFF, ffo: h.nEmbd, router: Math.max(1, h.nExpert), logits: h.nVocab };
}

// ---- weights -------------------------------------------------------------------------------------

/**
 * Attention weights of layer l, in the order attention() reads them: q, k (with optional biases),
 * per-head q/k norms, v (or one fused qkv), output.
 */
export function attentionWeights(l: number, h: H, o: { fused?: boolean; bias?: boolean; qkNorm?: boolean } = {}): WeightSpec[] {
  const p = `blk.${l}.`;
  const q = h.nHead * h.headDim;
  // llama.cpp treats q/k/v biases as optional for llama-style models and requires them for qwen2
  const optional = !o.bias;
  const proj = (n: 'q' | 'k' | 'v', rows: number): WeightSpec[] =>
    o.fused ? [] : [{ name: `${p}attn_${n}.weight`, unit: l, ne: [h.nEmbd, rows] }, { name: `${p}attn_${n}.bias`, unit: l, ne: [rows], optional }];
  const w: WeightSpec[] = [{ name: `${p}attn_norm.weight`, unit: l, ne: [h.nEmbd] }];
  if (o.fused) w.push({ name: `${p}attn_qkv.weight`, unit: l, ne: [h.nEmbd, q + 2 * h.kvWidth] });
  w.push(...proj('q', q), ...proj('k', h.kvWidth));
  if (o.qkNorm) {
    w.push({ name: `${p}attn_q_norm.weight`, unit: l, ne: [h.headDim] }, { name: `${p}attn_k_norm.weight`, unit: l, ne: [h.headDim] });
  }
  w.push(...proj('v', h.kvWidth), { name: `${p}attn_output.weight`, unit: l, ne: [q, h.nEmbd] });
  return w;
}

/** Feed-forward weights of layer l: norm, gate and up (or phi3's fused [gate | up]), down. */
export function ffnWeights(l: number, h: H, o: { fused?: boolean } = {}): WeightSpec[] {
  const p = `blk.${l}.`;
  const w: WeightSpec[] = [{ name: `${p}ffn_norm.weight`, unit: l, ne: [h.nEmbd] }];
  if (o.fused) w.push({ name: `${p}ffn_up.weight`, unit: l, ne: [h.nEmbd, 2 * h.nFF] });
  else w.push({ name: `${p}ffn_gate.weight`, unit: l, ne: [h.nEmbd, h.nFF] }, { name: `${p}ffn_up.weight`, unit: l, ne: [h.nEmbd, h.nFF] });
  w.push({ name: `${p}ffn_down.weight`, unit: l, ne: [h.nFF, h.nEmbd] });
  return w;
}

/** Mixture-of-experts weights of layer l: norm, router, and the 3-D expert tensors. */
export function moeWeights(l: number, h: H): WeightSpec[] {
  const p = `blk.${l}.`;
  return [
    { name: `${p}ffn_norm.weight`, unit: l, ne: [h.nEmbd] },
    { name: `${p}ffn_gate_inp.weight`, unit: l, ne: [h.nEmbd, h.nExpert] },
    { name: `${p}ffn_gate_exps.weight`, unit: l, ne: [h.nEmbd, h.nFF, h.nExpert] },
    { name: `${p}ffn_up_exps.weight`, unit: l, ne: [h.nEmbd, h.nFF, h.nExpert] },
    { name: `${p}ffn_down_exps.weight`, unit: l, ne: [h.nFF, h.nEmbd, h.nExpert] },
  ];
}

/** Final norm and output head (token_embd when tied), plus Llama-3 RoPE frequency factors. */
export function headWeights(h: H): WeightSpec[] {
  return [
    { name: 'rope_freqs.weight', unit: -1, ne: [h.nRot / 2], optional: true },
    { name: 'output_norm.weight', unit: h.nLayers, ne: [h.nEmbd] },
    { name: h.outputTensor, unit: h.nLayers, ne: [h.nEmbd, h.nVocab] },
  ];
}

// ---- blocks --------------------------------------------------------------------------------------

/**
 * att [T, n_head·hd] = causal self-attention of layer l over xn [T, n_embd]; the new tokens' keys
 * and values go to the K/V cache rows pos0.. (llama.cpp build_attn), f32 or q8_0.
 */
export async function attention(f: ForwardContext, h: H, l: number, o: { window?: number } = {}): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  const K = f.kCache(l);
  const V = f.vCache(l);
  const nq = h.nHead * h.headDim;
  const nkv = h.kvWidth;
  const fused = f.has(`${p}attn_qkv.weight`); // phi3: one [q | k | v] matrix
  const w = (n: string) => (fused ? `${p}attn_qkv.weight` : `${p}attn_${n}.weight`);
  const rows = (i: number, n: number): [number, number] | undefined => (fused ? [i, i + n] : undefined);
  const qkNorm = f.has(`${p}attn_q_norm.weight`); // qwen3: RMSNorm per head before RoPE
  const qRaw = qkNorm ? a.att : a.q; //                              (a.att is free until attention)
  const kRaw = qkNorm ? a.v : a.k; //                                (a.v is free until the v projection)
  await f.matmul(qRaw, w('q'), a.xn, { rows: rows(0, nq) }); //                        q [T, n_head·hd]
  if (f.has(`${p}attn_q.bias`)) k.addRow(qRaw, await f.vector(`${p}attn_q.bias`), nq);
  await f.matmul(kRaw, w('k'), a.xn, { rows: rows(nq, nkv) }); //                      k [T, n_kv·hd]
  if (f.has(`${p}attn_k.bias`)) k.addRow(kRaw, await f.vector(`${p}attn_k.bias`), nkv);
  if (qkNorm) {
    k.rmsNorm(a.q, a.att, await f.vector(`${p}attn_q_norm.weight`), h.headDim, h.eps, { groups: h.nHead });
    k.rmsNorm(a.k, a.v, await f.vector(`${p}attn_k_norm.weight`), h.headDim, h.eps, { groups: h.nHeadKv });
  }
  await f.matmul(a.v, w('v'), a.xn, { rows: rows(nq + nkv, nkv) }); //                 v [T, n_kv·hd]
  if (f.has(`${p}attn_v.bias`)) k.addRow(a.v, await f.vector(`${p}attn_v.bias`), nkv);
  const freqs = await f.optionalVector('rope_freqs.weight', h.nRot / 2);
  const rope = { headDim: h.headDim, nRot: h.nRot, mode: h.ropeMode, base: h.ropeBase, freqScale: h.ropeFreqScale };
  k.rope(a.q, freqs, { ...rope, nHeads: h.nHead });
  k.rope(a.k, freqs, { ...rope, nHeads: h.nHeadKv });
  k.kvStore(K, a.k, nkv, f.kvType); //                                      K[pos0+t] = k (f32 or q8_0)
  k.kvStore(V, a.v, nkv, f.kvType); //                                      V[pos0+t] = v
  k.attention(a.att, a.q, K, V, f.scores, {
    nHead: h.nHead, nHeadKv: h.nHeadKv, headDim: h.headDim, ctx: f.ctx, tMax: f.tMax,
    scale: h.attnScale, softcap: h.attnSoftcap, window: o.window ?? 0, kvType: f.kvType,
  });
}

/**
 * y (+)= FFN(xn): down(act(gate · xn) ⊙ (up · xn)) with SwiGLU or GeGLU; phi3 stores gate and up
 * as one [gate | up] matrix in ffn_up.
 */
export async function feedForward(f: ForwardContext, h: H, l: number, y: BufView, o: { accumulate?: boolean } = {}): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  if (f.has(`${p}ffn_gate.weight`)) {
    await f.matmul(a.g, `${p}ffn_gate.weight`, a.xn); //                  g [T, n_ff]
    await f.matmul(a.u, `${p}ffn_up.weight`, a.xn); //                    u [T, n_ff]
  } else {
    await f.matmul(a.g, `${p}ffn_up.weight`, a.xn, { rows: [0, h.nFF] });
    await f.matmul(a.u, `${p}ffn_up.weight`, a.xn, { rows: [h.nFF, 2 * h.nFF] });
  }
  k.glu(a.h, a.g, a.u, h.nFF, h.ffnAct); //                                h = act(g) ⊙ u
  await f.matmul(y, `${p}ffn_down.weight`, a.h, o); //                     y [T, n_embd]
}

/**
 * Per token: softmax over the router logits, the top-k experts, their probabilities renormalized
 * to sum to 1 when `norm` (llama.cpp build_moe_ffn with softmax gating). Returns weights[e][t]
 * (0 where token t does not use expert e). logits: [T, nExpert].
 */
export function routeTopK(logits: Float32Array, T: number, nExpert: number, k: number, norm: boolean): Float32Array[] {
  const w = Array.from({ length: nExpert }, () => new Float32Array(T));
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * nExpert, (t + 1) * nExpert);
    const mx = Math.max(...row);
    const p = Array.from(row, (v) => Math.exp(v - mx));
    const z = p.reduce((s, v) => s + v, 0);
    const top = p.map((v, e) => [v / z, e]).sort((x, y) => y[0] - x[0] || x[1] - y[1]).slice(0, k);
    const sum = norm ? top.reduce((s, [v]) => s + v, 0) : 1;
    for (const [v, e] of top) w[e][t] = v / sum;
  }
  return w;
}

/**
 * x += Σ_e w[e] · expert_e(xn) over the experts the router picks (mixture of experts). The router
 * logits are read back so only the chosen experts run (and, when streamed, are uploaded).
 */
export async function moeFeedForward(f: ForwardContext, h: H, l: number): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  await f.matmul(a.router, `${p}ffn_gate_inp.weight`, a.xn); //             router [T, n_expert]
  const weights = routeTopK(await f.read(a.router, f.T * h.nExpert), f.T, h.nExpert, h.nExpertUsed, h.expertWeightsNorm);
  for (let e = 0; e < h.nExpert; e++) {
    if (f.sparseExperts && !weights[e].some((v) => v > 0)) continue; // dense baseline: x += 0 · expert_e
    const ff: [number, number] = [e * h.nFF, (e + 1) * h.nFF];
    await f.matmul(a.g, `${p}ffn_gate_exps.weight`, a.xn, { rows: ff });
    await f.matmul(a.u, `${p}ffn_up_exps.weight`, a.xn, { rows: ff });
    k.glu(a.h, a.g, a.u, h.nFF, h.ffnAct);
    await f.matmul(a.ffo, `${p}ffn_down_exps.weight`, a.h, { rows: [e * h.nEmbd, (e + 1) * h.nEmbd] });
    k.addScaled(a.x, a.ffo, f.tokenWeights(e, weights[e]), h.nEmbd); //     x += w_e ⊙ expert_e
  }
}

/** logits [headT, n_vocab] = output · RMSNorm(x) (soft-capped when the model says so). */
export async function outputHead(f: ForwardContext, h: H): Promise<void> {
  if (!f.wantLogits) return;
  const { a, k } = f;
  k.rmsNorm(a.xn, a.x, await f.vector('output_norm.weight'), h.nEmbd, h.eps);
  await f.matmul(a.logits, h.outputTensor, a.xn, { head: true });
  if (h.finalSoftcap > 0) k.softcap(a.logits, h.nVocab, h.finalSoftcap);
}
