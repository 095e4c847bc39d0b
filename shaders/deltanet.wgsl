// Gated DeltaNet linear attention (Qwen3.5 / Qwen3-Next, llama.cpp src/models/qwen35.cpp
// build_layer_attn_linear and src/models/delta-net-base.cpp), for the T tokens of a step, token by
// token, against a per-layer recurrent state carried across steps. Three entry points:
//
// conv: causal depthwise conv1d over the projected [q | k | v] channels with a carried conv state
//   (ggml_ssm_conv on concat(conv_state, x), then ggml_silu; delta-net-base.cpp build_conv_state):
//     Y[t, c] = silu( sum_{i < d_conv} w[c, i] * win_t[c, i] ),  win_t[c] = (the d_conv - 1 previous
//     inputs of channel c, then X[t, c])
//   conv state [channels, d_conv - 1] (llama.cpp's [d_conv - 1, channels] ggml layout: the d_conv - 1
//   latest inputs of channel c at c * (d_conv - 1) ..), updated to the last d_conv - 1 inputs.
//   W = ssm_conv1d [channels, d_conv] (ggml ne [d_conv, channels]). One thread per channel.
//   Dispatch: (ceil(channels / 64)).
//
// gates: per token and value head h (ggml_softplus, ggml_sigmoid in build_layer_attn_linear):
//     G[t, h] = softplus(G[t, h] + dt_bias[h]) * ssm_a[h]   (ssm_a = -exp(A_log): a log-decay <= 0)
//     B[t, h] = sigmoid(B[t, h])                            (beta, the delta rule's step size)
//   softplus(x) = x > 20 ? x : log(1 + exp(x)) (ggml-cpu unary-ops.cpp op_softplus). In place.
//   Dispatch: (ceil(T * n_v / 64)).
//
// delta: the gated delta rule (ggml-cpu ops.cpp ggml_compute_forward_gated_delta_net, K = 1), per
//   value head h (key head h % n_k, ggml's tiled broadcast) and token t in order, with S the head's
//   state [d_k, d_v] stored column-major as llama.cpp does (S_h[j * d_k + i] = S[i][j]):
//     S      *= exp(G[t, h])
//     delta_j = (v_j - sum_i S[i][j] k_i) * B[t, h]
//     S[i][j] += k_i * delta_j
//     O[t, h, j] = (sum_i S[i][j] q_i) / sqrt(d_k)
//   q and k are the L2-normalised ones (ggml_l2_norm, done before this kernel). Each column j is
//   independent of the others, so one thread owns column j of one head and keeps it in registers for
//   the whole step (d_k <= MAX_DK). Dispatch: (ceil(n_v * d_v / 64)).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
// conv: n = channels, d_conv, x_stride / y_stride = row widths of X / Y.
// gates / delta: n_v value heads, n_k key heads, d_k (= d_state), d_v; QK rows [q (n_k*d_k) | k (n_k*d_k)]
// of qk_stride floats, V rows of v_stride floats starting at column v_col0, G and B rows of n_v floats.
struct Params {
  n: u32, d_conv: u32, x_stride: u32, y_stride: u32,
  n_v: u32, n_k: u32, d_k: u32, d_v: u32,
  qk_stride: u32, v_stride: u32, v_col0: u32, _p0: u32,
}

const MAX_DK: u32 = 128u; // d_state of the largest model read (Qwen3.5: 128; Kernels.deltaRule checks)
const MAX_CONV: u32 = 8u; //    d_conv (Qwen3.5: 4)

// ---- conv -------------------------------------------------------------------------------------

@group(0) @binding(0) var<storage, read> X: array<f32>;              // [T, x_stride], channels 0..n
@group(0) @binding(1) var<storage, read> CW: array<f32>;             // [n, d_conv]
@group(0) @binding(2) var<storage, read_write> CS: array<f32>;       // [n, d_conv - 1] conv state
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;        // [T, y_stride]
@group(0) @binding(4) var<uniform> P: Params;
@group(0) @binding(5) var<uniform> S: Step;

@compute @workgroup_size(64)
fn conv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= P.n) { return; }
  let m = P.d_conv - 1u;
  var win: array<f32, MAX_CONV>;
  for (var i = 0u; i < m; i++) { win[i] = CS[c * m + i]; }
  for (var t = 0u; t < S.n_tokens; t++) {
    win[m] = X[t * P.x_stride + c];
    var acc = 0.0;
    for (var i = 0u; i < P.d_conv; i++) { acc += win[i] * CW[c * P.d_conv + i]; }
    Y[t * P.y_stride + c] = acc / (1.0 + exp(-acc)); // ggml_silu
    for (var i = 0u; i < m; i++) { win[i] = win[i + 1u]; }
  }
  for (var i = 0u; i < m; i++) { CS[c * m + i] = win[i]; }
}

// ---- gates ------------------------------------------------------------------------------------

@group(0) @binding(0) var<storage, read_write> GA: array<f32>;       // [T, n_v] alpha → log-decay
@group(0) @binding(1) var<storage, read_write> GB: array<f32>;       // [T, n_v] beta logits → beta
@group(0) @binding(2) var<storage, read> DT: array<f32>;             // [n_v] ssm_dt.bias
@group(0) @binding(3) var<storage, read> SA: array<f32>;             // [n_v] ssm_a = -exp(A_log)
@group(0) @binding(4) var<uniform> PG: Params;
@group(0) @binding(5) var<uniform> SG: Step;

@compute @workgroup_size(64)
fn gates(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= SG.n_tokens * PG.n_v) { return; }
  let h = i % PG.n_v;
  let a = GA[i] + DT[h];
  var sp = a;
  if (a <= 20.0) { sp = log(1.0 + exp(a)); }
  GA[i] = sp * SA[h];
  GB[i] = 1.0 / (1.0 + exp(-GB[i]));
}

// ---- delta ------------------------------------------------------------------------------------

@group(0) @binding(0) var<storage, read> QK: array<f32>;             // [T, qk_stride]: q heads, then k heads
@group(0) @binding(1) var<storage, read> VV: array<f32>;             // [T, v_stride], v at v_col0..
@group(0) @binding(2) var<storage, read> DG: array<f32>;             // [T, n_v] log-decay (gates)
@group(0) @binding(3) var<storage, read> DB: array<f32>;             // [T, n_v] beta (gates)
@group(0) @binding(4) var<storage, read_write> ST: array<f32>;       // [n_v, d_v, d_k] state
@group(0) @binding(5) var<storage, read_write> O: array<f32>;        // [T, n_v * d_v]
@group(0) @binding(6) var<uniform> PD: Params;
@group(0) @binding(7) var<uniform> SD: Step;

@compute @workgroup_size(64)
fn delta(@builtin(global_invocation_id) gid: vec3<u32>) {
  let idx = gid.x;
  if (idx >= PD.n_v * PD.d_v) { return; }
  let j = idx % PD.d_v;
  let h = idx / PD.d_v;
  let dk = PD.d_k;
  let kh = h % PD.n_k;
  let scale = 1.0 / sqrt(f32(dk));
  let so = (h * PD.d_v + j) * dk;
  var s: array<f32, MAX_DK>;
  for (var i = 0u; i < dk; i++) { s[i] = ST[so + i]; }
  for (var t = 0u; t < SD.n_tokens; t++) {
    let qo = t * PD.qk_stride + kh * dk;
    let ko = qo + PD.n_k * dk;
    let decay = exp(DG[t * PD.n_v + h]);
    var sk = 0.0;
    for (var i = 0u; i < dk; i++) {
      s[i] *= decay;
      sk += s[i] * QK[ko + i];
    }
    let d = (VV[t * PD.v_stride + PD.v_col0 + h * PD.d_v + j] - sk) * DB[t * PD.n_v + h];
    var o = 0.0;
    for (var i = 0u; i < dk; i++) {
      s[i] += QK[ko + i] * d;
      o += s[i] * QK[qo + i];
    }
    O[(t * PD.n_v + h) * PD.d_v + j] = o * scale;
  }
  for (var i = 0u; i < dk; i++) { ST[so + i] = s[i]; }
}
