// Element-wise kernels over [T, n] activations; one thread per element.
// Dispatch: (ceil(T * n / 64 / rows_per_dim), ...) as 2-D when large.

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params { n: u32, act: u32, _p: u32, cap: f32 } // act 0: SiLU, 1: GELU (tanh)

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
  return x / (1.0 + exp(-x)); // ggml_silu
}

fn index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

// Y = act(A) * B  (SwiGLU / GeGLU: A = gate, B = up), elements of [T, n].
@compute @workgroup_size(64)
fn glu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  Y[i] = act(A[i]) * B[i];
}

// Y[row t] += A (a bias of n elements), rows t < T.
@compute @workgroup_size(64)
fn add_row(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  Y[i] = Y[i] + A[i % P.n];
}

// Y = cap * tanh(Y / cap), over head_tokens rows (final logit soft-capping).
@compute @workgroup_size(64)
fn softcap(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.head_tokens * P.n) { return; }
  Y[i] = P.cap * tanh(Y[i] / P.cap);
}

// Y[t, :] += B[t] · A[t, :]: a mixture-of-experts expert's output, weighted per token by the router.
@compute @workgroup_size(64)
fn add_scaled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = index(gid, nwg);
  if (i >= S.n_tokens * P.n) { return; }
  Y[i] = Y[i] + B[i / P.n] * A[i];
}
