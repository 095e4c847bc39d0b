// Element-wise kernels over [T, n] activations; one thread per element.
// Dispatch: (ceil(T * n / 64 / rows_per_dim), ...) as 2-D when large.

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
// act 0: SiLU, 1: GELU (tanh), 2: gpt-oss's clamped SwiGLU (alpha, limit), 3: sigmoid; c: the soft-cap or scale;
// a_off: first element of A (add_row: a bias row inside a [rows, n] tensor); head: rows are the head's.
struct Params { n: u32, act: u32, a_off: u32, c: f32, alpha: f32, limit: f32, head: u32, _p: u32 }

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<uniform> S: Step;

fn act(x: f32) -> f32 {
  if (P.act == 1u) {
    // ggml_gelu (tanh approximation)
    return 0.5 * x * (1.0 + tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x)));
  }
  if (P.act == 3u) {
    return 1.0 / (1.0 + exp(-x)); // ggml_sigmoid
  }
  return x / (1.0 + exp(-x)); // ggml_silu
}

fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

// Rows of this dispatch: the step's tokens, or the head's rows.
fn n_rows() -> u32 { return select(S.n_tokens, S.head_tokens, P.head != 0u); }

// Y = act(A) * B  (SwiGLU / GeGLU: A = gate, B = up), elements of [T, n]. act 2 (ggml swiglu_oai):
// x = min(A, limit), Y = x · sigmoid(alpha · x) · (clamp(B, -limit, limit) + 1).
@compute @workgroup_size(64)
fn glu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  if (P.act == 2u) {
    let x = min(A[i], P.limit);
    Y[i] = x / (1.0 + exp(P.alpha * (-x))) * (clamp(B[i], -P.limit, P.limit) + 1.0);
    return;
  }
  Y[i] = act(A[i]) * B[i];
}

// Y[row t] += A[a_off ..] (a bias of n elements), rows t < T.
@compute @workgroup_size(64)
fn add_row(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  Y[i] = Y[i] + A[P.a_off + i % P.n];
}

// Y = c * tanh(Y / c), over head_tokens rows (final logit soft-capping).
@compute @workgroup_size(64)
fn softcap(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.head_tokens * P.n) { return; }
  Y[i] = P.c * tanh(Y[i] / P.c);
}

// Y *= c (granite's logit and embedding multipliers).
@compute @workgroup_size(64)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= n_rows() * P.n) { return; }
  Y[i] = Y[i] * P.c;
}

// Y += c * A (a residual add of a scaled block output: granite's residual multiplier).
@compute @workgroup_size(64)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  Y[i] = Y[i] + P.c * A[i];
}

// Y[t, :] += B[t] · A[t, :]: a mixture-of-experts expert's output, weighted per token by the router;
// act 3: by sigmoid(B[t]) (qwen35moe's gated shared expert, ffn_gate_inp_shexp).
@compute @workgroup_size(64)
fn add_scaled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  var w = B[i / P.n];
  if (P.act == 3u) { w = act(w); }
  Y[i] = Y[i] + w * A[i];
}

// Y = act(A) * Y in place, elements of [T, n] (act 3 sigmoid: qwen35's attention output gate;
// act 0 SiLU: the gated RMSNorm of its DeltaNet layers, norm(o) · silu(z)).
@compute @workgroup_size(64)
fn gate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  Y[i] = act(A[i]) * Y[i];
}
