// RMSNorm (llama.cpp ggml_rms_norm followed by ggml_mul with the weight):
//   Y[t, i] = X[t, i] / sqrt(mean_i(X[t, :]^2) + eps) * w[i]
// over `groups` groups of n elements per row (groups > 1: per-head norm, as qwen3's q/k norm).
// Override L2 (ggml_l2_norm, ggml-cpu ops.cpp ggml_compute_forward_l2_norm_f32):
//   Y[t, i] = X[t, i] / max(sqrt(sum_i X[t, :]^2), eps) * w[i]   (w = ones for a plain L2 norm)
// Rows of X and Y are x_stride / y_stride floats apart (0 = groups * n): a column slice of a wider row.
// One workgroup per (token, group). Dispatch: (T * groups).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
// flags: bit 0 accumulate (Y += norm(X)·w: gemma2's post-norms into the residual).
struct Params { n: u32, groups: u32, eps: f32, flags: u32, x_stride: u32, y_stride: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> Wn: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<uniform> S: Step;

override L2: bool = false;

const WG: u32 = 64u;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = wg.x / P.groups;
  let grp = wg.x % P.groups;
  if (t >= S.n_tokens) { return; }
  let xs = select(P.groups * P.n, P.x_stride, P.x_stride != 0u);
  let ys = select(P.groups * P.n, P.y_stride, P.y_stride != 0u);
  let xb = t * xs + grp * P.n;
  let yb = t * ys + grp * P.n;
  var ss = 0.0;
  for (var i = tid; i < P.n; i += WG) { let v = X[xb + i]; ss += v * v; }
  red[tid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  var scale = 1.0 / sqrt(red[0] / f32(P.n) + P.eps);
  if (L2) { scale = 1.0 / max(sqrt(red[0]), P.eps); }
  let acc = (P.flags & 1u) != 0u;
  for (var i = tid; i < P.n; i += WG) {
    var v = (X[xb + i] * scale) * Wn[i];
    if (acc) { v += Y[yb + i]; }
    Y[yb + i] = v;
  }
}
