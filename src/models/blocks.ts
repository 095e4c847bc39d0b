import type { BufView } from '../gpu/kernels.ts';
import type { ActivationSpec, ForwardContext, WeightSpec } from './architecture.ts';
import type { Rope, TransformerHParams } from './hparams.ts';

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
 * Attention weights of layer l, in the order attention() reads them: the pre-norm (norm: false for
 * none), q (gate: qwen35's per-head [q | gate], twice as many rows), k (with optional biases), q/k
 * norms (per head, or 'full' width: olmo2), v (or one fused qkv), attention sinks, output (+ bias).
 */
export function attentionWeights(l: number, h: H, o: { fused?: boolean; bias?: boolean; qkNorm?: boolean | 'full'; sinks?: boolean; outBias?: boolean; norm?: boolean; gate?: boolean } = {}): WeightSpec[] {
  const p = `blk.${l}.`;
  const q = h.nHead * h.headDim;
  const qRows = o.gate ? 2 * q : q;
  // llama.cpp treats q/k/v biases as optional for llama-style models and requires them for qwen2
  const optional = !o.bias;
  const proj = (n: 'q' | 'k' | 'v', rows: number): WeightSpec[] =>
    o.fused ? [] : [{ name: `${p}attn_${n}.weight`, unit: l, ne: [h.nEmbd, rows] }, { name: `${p}attn_${n}.bias`, unit: l, ne: [rows], optional }];
  const w: WeightSpec[] = o.norm === false ? [] : [{ name: `${p}attn_norm.weight`, unit: l, ne: [h.nEmbd] }];
  if (o.fused) w.push({ name: `${p}attn_qkv.weight`, unit: l, ne: [h.nEmbd, q + 2 * h.kvWidth] });
  w.push(...proj('q', qRows), ...proj('k', h.kvWidth));
  if (o.qkNorm) {
    const full = o.qkNorm === 'full';
    w.push({ name: `${p}attn_q_norm.weight`, unit: l, ne: [full ? q : h.headDim] }, { name: `${p}attn_k_norm.weight`, unit: l, ne: [full ? h.kvWidth : h.headDim] });
  }
  w.push(...proj('v', h.kvWidth));
  if (o.sinks) w.push({ name: `${p}attn_sinks.weight`, unit: l, ne: [h.nHead] });
  w.push({ name: `${p}attn_output.weight`, unit: l, ne: [q, h.nEmbd] });
  if (o.outBias) w.push({ name: `${p}attn_output.bias`, unit: l, ne: [h.nEmbd] });
  return w;
}

/** Feed-forward weights of layer l: norm (norm: false for none), gate and up (or phi3's fused [gate | up]), down. */
export function ffnWeights(l: number, h: H, o: { fused?: boolean; norm?: boolean } = {}): WeightSpec[] {
  const p = `blk.${l}.`;
  const w: WeightSpec[] = o.norm === false ? [] : [{ name: `${p}ffn_norm.weight`, unit: l, ne: [h.nEmbd] }];
  if (o.fused) w.push({ name: `${p}ffn_up.weight`, unit: l, ne: [h.nEmbd, 2 * h.nFF] });
  else w.push({ name: `${p}ffn_gate.weight`, unit: l, ne: [h.nEmbd, h.nFF] }, { name: `${p}ffn_up.weight`, unit: l, ne: [h.nEmbd, h.nFF] });
  w.push({ name: `${p}ffn_down.weight`, unit: l, ne: [h.nFF, h.nEmbd] });
  return w;
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

/** Per-layer choices of attention(): sliding window (0 = full), and the layer's RoPE (null = none). */
export interface AttentionOptions {
  window?: number;
  /** the normalised input [T, n_embd] (default a.xn; olmo2 has no pre-norm and reads a.x) */
  input?: BufView;
  /** default: the model's (h.ropeBase, h.ropeFreqScale, h.ropeYarn) */
  rope?: Rope | null;
  /**
   * qwen35 (llama.cpp qwen35.cpp build_layer_attn): attn_q yields per head [q | gate] (activations
   * qg [2·n_head·hd] and gate [n_head·hd]), and the attention output is multiplied by sigmoid(gate)
   */
  gate?: boolean;
}

/** The model's RoPE (its global layers'). */
export function modelRope(h: H): Rope {
  return { base: h.ropeBase, freqScale: h.ropeFreqScale, yarn: h.ropeYarn };
}

/**
 * att [T, n_head·hd] = causal self-attention of layer l over xn [T, n_embd]; the new tokens' keys
 * and values go to the K/V cache rows pos0.. (llama.cpp build_attn), f32 or q8_0. Optional parts
 * follow the tensors the file has: q/k/v biases, q/k RMSNorm (per head when the norm is head_dim
 * wide, qwen3 / gemma3; over the whole q or k when it is that wide, olmo2), attention sinks
 * (gpt-oss), and the model's query temperature (h.attnTemp).
 */
export async function attention(f: ForwardContext, h: H, l: number, o: AttentionOptions = {}): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  const K = f.kCache(l);
  const V = f.vCache(l);
  const nq = h.nHead * h.headDim;
  const nkv = h.kvWidth;
  const fused = f.has(`${p}attn_qkv.weight`); // phi3: one [q | k | v] matrix
  const w = (n: string) => (fused ? `${p}attn_qkv.weight` : `${p}attn_${n}.weight`);
  const rows = (i: number, n: number): [number, number] | undefined => (fused ? [i, i + n] : undefined);
  const qkNorm = f.has(`${p}attn_q_norm.weight`); // RMSNorm of q and k before RoPE
  const qRaw = qkNorm ? a.att : a.q; //                              (a.att is free until attention)
  const kRaw = qkNorm ? a.v : a.k; //                                (a.v is free until the v projection)
  const xn = o.input ?? a.xn;
  if (o.gate) {
    const hd = h.headDim;
    await f.matmul(a.qg, w('q'), xn); //                                             qg [T, n_head·2·hd]
    k.copy(qRaw, a.qg, { n: hd, groups: h.nHead, xStride: 2 * nq, xGroup: 2 * hd }); //     q [T, n_head·hd]
    k.copy(a.gate, a.qg, { n: hd, groups: h.nHead, xStride: 2 * nq, xCol0: hd, xGroup: 2 * hd }); // gate [T, n_head·hd]
  } else {
    await f.matmul(qRaw, w('q'), xn, { rows: rows(0, nq) }); //                      q [T, n_head·hd]
  }
  if (f.has(`${p}attn_q.bias`)) k.addRow(qRaw, await f.vector(`${p}attn_q.bias`), nq);
  await f.matmul(kRaw, w('k'), xn, { rows: rows(nq, nkv) }); //                      k [T, n_kv·hd]
  if (f.has(`${p}attn_k.bias`)) k.addRow(kRaw, await f.vector(`${p}attn_k.bias`), nkv);
  if (qkNorm) {
    const qn = await f.vector(`${p}attn_q_norm.weight`);
    const kn = await f.vector(`${p}attn_k_norm.weight`);
    k.rmsNorm(a.q, a.att, qn, qn.cols, h.eps, { groups: nq / qn.cols });
    k.rmsNorm(a.k, a.v, kn, kn.cols, h.eps, { groups: nkv / kn.cols });
  }
  await f.matmul(a.v, w('v'), xn, { rows: rows(nq + nkv, nkv) }); //                 v [T, n_kv·hd]
  if (f.has(`${p}attn_v.bias`)) k.addRow(a.v, await f.vector(`${p}attn_v.bias`), nkv);
  const rope = o.rope === undefined ? modelRope(h) : o.rope;
  if (rope) {
    const freqs = await f.optionalVector('rope_freqs.weight', h.nRot / 2);
    const r = { headDim: h.headDim, nRot: h.nRot, mode: h.ropeMode, base: rope.base, freqScale: rope.freqScale, yarn: rope.yarn, sections: h.ropeSections };
    k.rope(a.q, freqs, { ...r, nHeads: h.nHead });
    k.rope(a.k, freqs, { ...r, nHeads: h.nHeadKv });
  }
  k.kvStore(K, a.k, nkv, f.kvType); //                                      K[pos0+t] = k (f32 or q8_0)
  k.kvStore(V, a.v, nkv, f.kvType); //                                      V[pos0+t] = v
  const sinks = f.has(`${p}attn_sinks.weight`) ? (await f.vector(`${p}attn_sinks.weight`)).pieces[0].view : undefined;
  k.attention(a.att, a.q, K, V, f.scores, {
    nHead: h.nHead, nHeadKv: h.nHeadKv, headDim: h.headDim, ctx: f.ctx, tMax: f.tMax,
    scale: h.attnScale, softcap: h.attnSoftcap, window: o.window ?? 0, kvType: f.kvType, sinks, temp: h.attnTemp,
  });
  if (o.gate) k.gate(a.att, a.gate, nq, 'sigmoid'); //                          att ⊙= sigmoid(gate)
}

/**
 * y (+)= FFN(xn): down(act(gate · xn) ⊙ (up · xn)) with SwiGLU or GeGLU; phi3 stores gate and up
 * as one [gate | up] matrix in ffn_up.
 */
export async function feedForward(f: ForwardContext, h: H, l: number, y: BufView, o: { accumulate?: boolean; input?: BufView } = {}): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  const xn = o.input ?? a.xn;
  if (f.has(`${p}ffn_gate.weight`)) {
    await f.matmul(a.g, `${p}ffn_gate.weight`, xn); //                    g [T, n_ff]
    await f.matmul(a.u, `${p}ffn_up.weight`, xn); //                      u [T, n_ff]
  } else {
    await f.matmul(a.g, `${p}ffn_up.weight`, xn, { rows: [0, h.nFF] });
    await f.matmul(a.u, `${p}ffn_up.weight`, xn, { rows: [h.nFF, 2 * h.nFF] });
  }
  k.glu(a.h, a.g, a.u, h.nFF, h.ffnAct); //                                h = act(g) ⊙ u
  await f.matmul(y, `${p}ffn_down.weight`, a.h, { accumulate: o.accumulate }); // y [T, n_embd]
}

/**
 * logits [headT, n_vocab] = output · RMSNorm(x) (soft-capped when the model says so), × `scale`
 * (granite's 1 / logit_scale).
 */
export async function outputHead(f: ForwardContext, h: H, o: { scale?: number } = {}): Promise<void> {
  if (!f.wantLogits) return;
  const { a, k } = f;
  k.rmsNorm(a.xn, a.x, await f.vector('output_norm.weight'), h.nEmbd, h.eps);
  await f.matmul(a.logits, h.outputTensor, a.xn, { head: true });
  if (h.finalSoftcap > 0) k.softcap(a.logits, h.nVocab, h.finalSoftcap);
  if (o.scale !== undefined && o.scale !== 1) k.scale(a.logits, h.nVocab, o.scale, { head: true });
}
