// Strided column copy for the step's tokens t < T, groups g < groups, elements i < n:
//   Y[t * y_stride + y_col0 + g * y_group + i] = X[t * x_stride + x_col0 + g * x_group + i]
// (ggml_view_3d + ggml_concat / ggml_cpy along dim 0): assembles rows from column slices, e.g.
// MLA's roped q_pe of each head into the absorbed query, the normalised latent into the cache row.
// X and Y are different buffers. One thread per element.
// Dispatch: (min(ceil(T * groups * n / 64), 32768), ..) as 2-D when large.

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params {
  n: u32, groups: u32, x_stride: u32, x_col0: u32,
  x_group: u32, y_stride: u32, y_col0: u32, y_group: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;
@group(0) @binding(3) var<uniform> S: Step;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= S.n_tokens * P.groups * P.n) { return; }
  let i = idx % P.n;
  let g = (idx / P.n) % P.groups;
  let t = idx / (P.n * P.groups);
  Y[t * P.y_stride + P.y_col0 + g * P.y_group + i] = X[t * P.x_stride + P.x_col0 + g * P.x_group + i];
}
