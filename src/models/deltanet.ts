import { LayerstreamError } from '../errors.ts';
import type { Metadata } from '../gguf/gguf.ts';
import type { ActivationSpec, ForwardContext, WeightSpec } from './architecture.ts';
import type { TransformerHParams } from './hparams.ts';

/**
 * Gated DeltaNet linear attention (Qwen3.5 / 3.6 and Qwen3-Next's "linear_attention" layers), as
 * llama.cpp runs it: src/models/qwen35.cpp build_layer_attn_linear over src/models/delta-net-base.cpp
 * (build_conv_state, build_recurrent_attn) and ggml_gated_delta_net (ggml-cpu ops.cpp). Per token:
 *
 *   [q | k | v] = silu(conv1d(W_qkv · xn))      causal depthwise conv of d_conv taps per channel, the
 *                                               d_conv − 1 previous inputs carried in the conv state
 *   z          = W_gate · xn                    [d_inner]
 *   beta       = sigmoid(W_beta · xn)           [n_v], the delta rule's step size
 *   g          = softplus(W_alpha · xn + dt_bias) · ssm_a     [n_v], log-decay (ssm_a = −exp(A_log))
 *   q, k       = L2-normalised per head         n_k heads of d_state (value head h uses key head h % n_k)
 *   S_h        = exp(g_h) S_h + k (beta_h (v_h − S_hᵀ k))ᵀ    the delta rule, S_h [d_state, head_v]
 *   o_h        = S_hᵀ q / √d_state
 *   dn         = RMSNorm(o_h) · ssm_norm ⊙ silu(z_h)          the gated norm, per value head
 *
 * and the caller projects dn with ssm_out. Shapes: [T, width] float32 activations; tensor names
 * are llama.cpp's (attn_qkv, attn_gate, ssm_beta, ssm_alpha, ssm_dt.bias, ssm_a, ssm_conv1d,
 * ssm_norm, ssm_out). The conv state ((d_conv − 1) × conv channels floats) and the delta-rule state
 * (n_v × head_v × d_state floats) of each layer are ForwardContext.convState / ssmState.
 */

/** Gated DeltaNet hyperparameters (llama.cpp llama_hparams names in comments). */
export interface DeltaNetHParams extends TransformerHParams {
  /** per layer: Gated DeltaNet (true) or full attention (is_recr) */
  recurrent: boolean[];
  /** ssm_d_conv: conv taps per channel */
  dConv: number;
  /** ssm_d_state: key head width (head_k_dim) */
  dState: number;
  /** ssm_n_group: key heads (num_k_heads) */
  nKHeads: number;
  /** ssm_dt_rank: value heads (num_v_heads) */
  nVHeads: number;
  /** ssm_d_inner: value width, n_v · head_v */
  dInner: number;
}

/** Conv channels: [q (n_k · d_state) | k (n_k · d_state) | v (d_inner)]. */
export function convChannels(h: DeltaNetHParams): number {
  return 2 * h.nKHeads * h.dState + h.dInner;
}

/**
 * The DeltaNet keys `<arch>.ssm.*` (llama.cpp qwen35.cpp load_arch_hparams) and which of the nLayers
 * layers are recurrent: `attention.recurrent_layers` when present, else every layer but each
 * `full_attention_interval`-th (default 4): is_recr(il) = (il + 1) % interval != 0. Also the
 * per-layer state sizes (BaseHParams.recurrentState: n_embd_r = (d_conv − 1) · conv channels,
 * n_embd_s = d_state · d_inner) and the K/V layers (the attention ones).
 */
export function readDeltaNet(md: Metadata, arch: string, nLayers: number) {
  const k = (s: string) => `${arch}.${s}`;
  const dConv = md.number(k('ssm.conv_kernel'));
  const dState = md.number(k('ssm.state_size'));
  const nKHeads = md.number(k('ssm.group_count'));
  const nVHeads = md.number(k('ssm.time_step_rank'));
  const dInner = md.number(k('ssm.inner_size'));
  const headV = dInner / nVHeads;
  if (!(nKHeads > 0 && nVHeads % nKHeads === 0) || headV !== dState || !(dConv >= 2 && dConv <= 8) || dState > 128 || dState % 4 !== 0) {
    throw new LayerstreamError('malformed', `Gated DeltaNet shape not supported: ${k('ssm.conv_kernel')} ${dConv} (2..8), ${k('ssm.state_size')} ${dState} (≤ 128, = ${k('ssm.inner_size')} / ${k('ssm.time_step_rank')} = ${headV}), ${k('ssm.group_count')} ${nKHeads} dividing ${k('ssm.time_step_rank')} ${nVHeads}`);
  }
  const raw = md.raw(k('attention.recurrent_layers'));
  let recurrent: boolean[];
  if (raw !== undefined && typeof raw === 'object' && 'length' in raw) {
    recurrent = Array.from(raw as ArrayLike<unknown>, (v) => v === true || v === 1).slice(0, nLayers);
  } else {
    const interval = md.number(k('full_attention_interval'), 4);
    recurrent = Array.from({ length: nLayers }, (_, il) => (il + 1) % interval !== 0);
  }
  const channels = 2 * nKHeads * dState + dInner;
  return {
    recurrent,
    dConv,
    dState,
    nKHeads,
    nVHeads,
    dInner,
    kvLayers: recurrent.map((r) => !r),
    recurrentState: {
      conv: recurrent.map((r) => (r ? (dConv - 1) * channels : 0)),
      ssm: recurrent.map((r) => (r ? dState * dInner : 0)),
    },
  };
}

/** Activation buffers of deltaNet() (widths per token). */
export function deltaNetActivations(h: DeltaNetHParams): ActivationSpec {
  const c = convChannels(h);
  return {
    qkv: c, //                         W_qkv · xn
    conv: c, //                        silu(conv1d): [q | k | v]
    qkn: 2 * h.nKHeads * h.dState, //  L2-normalised [q | k]
    z: h.dInner,
    beta: h.nVHeads,
    alpha: h.nVHeads, //               then the log-decay g
    dout: h.dInner, //                 delta-rule output o
    dn: h.dInner, //                   gated norm: the input of ssm_out
  };
}

/**
 * DeltaNet weights of layer l in the order deltaNet() reads them, after the pre-norm, ssm_out last
 * (llama.cpp qwen35.cpp load_arch_tensors shapes).
 */
export function deltaNetWeights(l: number, h: DeltaNetHParams): WeightSpec[] {
  const p = `blk.${l}.`;
  const c = convChannels(h);
  return [
    { name: `${p}attn_qkv.weight`, unit: l, ne: [h.nEmbd, c] },
    { name: `${p}attn_gate.weight`, unit: l, ne: [h.nEmbd, h.dInner] },
    { name: `${p}ssm_beta.weight`, unit: l, ne: [h.nEmbd, h.nVHeads] },
    { name: `${p}ssm_alpha.weight`, unit: l, ne: [h.nEmbd, h.nVHeads] },
    { name: `${p}ssm_dt.bias`, unit: l, ne: [h.nVHeads] },
    { name: `${p}ssm_a`, unit: l, ne: [h.nVHeads] },
    { name: `${p}ssm_conv1d.weight`, unit: l, ne: [h.dConv, c] },
    { name: `${p}ssm_norm.weight`, unit: l, ne: [h.dState] },
    { name: `${p}ssm_out.weight`, unit: l, ne: [h.dInner, h.nEmbd] },
  ];
}

/**
 * dn [T, d_inner] = Gated DeltaNet of layer l over xn [T, n_embd], token by token, carrying the
 * layer's conv state and delta-rule state from the step before (see the module comment; llama.cpp
 * qwen35.cpp build_layer_attn_linear). The caller adds W_out · dn (ssm_out) to the residual.
 */
export async function deltaNet(f: ForwardContext, h: DeltaNetHParams, l: number): Promise<void> {
  const { a, k } = f;
  const p = `blk.${l}.`;
  const c = convChannels(h);
  const qk = 2 * h.nKHeads * h.dState; // [q | k] columns of the conv output
  const headV = h.dInner / h.nVHeads;
  await f.matmul(a.qkv, `${p}attn_qkv.weight`, a.xn); //                           qkv [T, conv_ch]
  await f.matmul(a.z, `${p}attn_gate.weight`, a.xn); //                            z [T, d_inner]
  await f.matmul(a.beta, `${p}ssm_beta.weight`, a.xn); //                          beta [T, n_v]
  await f.matmul(a.alpha, `${p}ssm_alpha.weight`, a.xn); //                        alpha [T, n_v]
  const dt = (await f.vector(`${p}ssm_dt.bias`)).pieces[0].view;
  const ssmA = (await f.vector(`${p}ssm_a`)).pieces[0].view;
  k.deltaGates(a.alpha, a.beta, dt, ssmA, h.nVHeads); //                           g = softplus(alpha + dt)·a, beta = σ(beta)
  const cw = await f.vector(`${p}ssm_conv1d.weight`);
  if (cw.type !== 'F32' || cw.pieces.length !== 1) throw new LayerstreamError('unsupported_tensor_type', `${p}ssm_conv1d.weight must be one F32 tensor, is ${cw.type}`);
  k.deltaConv(a.conv, a.qkv, cw.pieces[0].view, f.convState(l), { channels: c, dConv: h.dConv, xStride: c, yStride: c }); // conv [T, conv_ch]
  k.l2Norm(a.qkn, a.conv, f.ones(h.dState), h.dState, h.eps, { groups: 2 * h.nKHeads, xStride: c, yStride: qk }); // [q | k] / ‖·‖₂ per head
  k.deltaRule(a.dout, a.qkn, a.conv, a.alpha, a.beta, f.ssmState(l), {
    nV: h.nVHeads, nK: h.nKHeads, dK: h.dState, dV: headV, qkStride: qk, vStride: c, vCol0: qk,
  }); //                                                                            o [T, n_v·head_v]
  k.rmsNorm(a.dn, a.dout, await f.vector(`${p}ssm_norm.weight`), headV, h.eps, { groups: h.nVHeads }); // dn = RMSNorm(o) per head
  k.gate(a.dn, a.z, h.dInner, 'silu'); //                                          dn ⊙= silu(z)
}
