// Rotary position embedding, in place on X [T, n_heads * head_dim] (ggml_rope_ext).
// Pair i (i < n_rot/2) of each head is rotated by theta = freq_scale * pos * base^(-2i/n_rot) / ff[i]
// (ff = Llama-3 rope_freqs factors, or ones). mode 0 (llama, "NORM"): pairs (2i, 2i+1);
// mode 2 (NEOX: qwen2, phi3, gemma2): pairs (i, i + n_rot/2). Dims past n_rot are untouched.
// One thread per (token, head, pair). Dispatch: (ceil(T * n_heads * n_rot/2 / 64)).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params { n_heads: u32, head_dim: u32, n_rot: u32, mode: u32, base: f32, freq_scale: f32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<storage, read> FF: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;
@group(0) @binding(3) var<uniform> S: Step;

const TWO_PI: f32 = 6.283185307179586;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = P.n_rot / 2u;
  let idx = gid.x;
  if (idx >= S.n_tokens * P.n_heads * half) { return; }
  let i = idx % half;
  let h = (idx / half) % P.n_heads;
  let t = idx / (half * P.n_heads);
  let pos = S.pos0 + t;
  var theta = P.freq_scale * f32(pos) * pow(P.base, -2.0 * f32(i) / f32(P.n_rot)) / FF[i];
  theta -= TWO_PI * round(theta / TWO_PI); // keep sin/cos arguments in [-pi, pi], where WGSL bounds their error
  let c = cos(theta);
  let s = sin(theta);
  let base = (t * P.n_heads + h) * P.head_dim;
  var a = base + 2u * i;
  var b = a + 1u;
  if (P.mode == 2u) { a = base + i; b = a + half; }
  let x0 = X[a];
  let x1 = X[b];
  X[a] = x0 * c - x1 * s;
  X[b] = x0 * s + x1 * c;
}
