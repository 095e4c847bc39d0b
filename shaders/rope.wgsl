// Rotary position embedding, in place on X [T, n_heads * head_dim] (ggml_rope_ext, with YaRN).
// Pair i (i < n_rot/2) of each head, in the n_rot dims starting at rot_off, is rotated by
//   theta_extrap = pos * base^(-2i/n_rot) / ff[i]        (ff = rope_freqs factors, or ones)
//   theta = freq_scale * theta_extrap, or with YaRN (ext_factor != 0) the blend
//   theta_interp * (1 - r) + theta_extrap * r, r = ext_factor * ramp(corr_lo, corr_hi, i)
// and the rotation is scaled by mscale = attn_factor (× (1 + 0.1 ln(1/freq_scale)) with YaRN).
// Formulas: ggml-cpu ops.cpp rope_yarn / rope_yarn_ramp; corr_lo/hi from ggml_rope_yarn_corr_dims
// (computed on the CPU). mode 0 (llama, "NORM"): pairs (2i, 2i+1); mode 2 (NEOX): pairs (i, i + n_rot/2).
// mode 40 (GGML_ROPE_TYPE_IMROPE, Qwen3-VL / Qwen3.5 interleaved multi-section RoPE; ggml-cpu ops.cpp
// ggml_mrope_cache_init with is_imrope): NEOX pairs, and pair i takes the position of section
// (i % sum(sections)) % 3 (t, h, w) while that section lasts, else the 4th (e). For text every t/h/w
// position is the token's and e is 0 (llama-graph.cpp llm_graph_input_pos::set_input), so pairs in
// the e section are not rotated (theta 0); the frequency index i is the plain one (not reset per section).
// Dims outside the rotated span are untouched. One thread per (token, head, pair).
// Dispatch: (ceil(T * n_heads * n_rot/2 / 64)).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params {
  n_heads: u32, head_dim: u32, n_rot: u32, mode: u32,
  base: f32, freq_scale: f32, rot_off: u32, _p0: u32,
  ext_factor: f32, attn_factor: f32, corr_lo: f32, corr_hi: f32,
  sect0: u32, sect1: u32, sect2: u32, sect3: u32, // mode 40: pairs per section (t, h, w, e)
}

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<storage, read> FF: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;
@group(0) @binding(3) var<uniform> S: Step;

// π/2 split in three parts (Cody–Waite), so k · π/2 is subtracted without rounding error for the
// angles RoPE produces (|theta| up to ~1e5).
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 4.83751296997070312500e-04;
const PIO2_3: f32 = 7.54978995489188216e-08;

// (cos x, sin x) to about 1 ulp: WGSL's built-ins only promise an absolute error of 2^-11 (and
// SwiftShader's come close to it), which a 128-wide head amplifies past 1e-3 in the logits.
// Range-reduced to |r| <= π/4, then Taylor polynomials (error < 2e-9 there).
fn cos_sin(x: f32) -> vec2<f32> {
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
  let r2 = r * r;
  let s = r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  let q = i32(k) & 3;
  if (q == 0) { return vec2<f32>(c, s); }
  if (q == 1) { return vec2<f32>(-s, c); }
  if (q == 2) { return vec2<f32>(-c, -s); }
  return vec2<f32>(s, -c);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = P.n_rot / 2u;
  let idx = gid.x;
  if (idx >= S.n_tokens * P.n_heads * half) { return; }
  let i = idx % half;
  let h = (idx / half) % P.n_heads;
  let t = idx / (half * P.n_heads);
  var pos = S.pos0 + t;
  if (P.mode == 40u) {
    let sector = i % (P.sect0 + P.sect1 + P.sect2 + P.sect3);
    let thw = (sector % 3u == 1u && sector < 3u * P.sect1) || (sector % 3u == 2u && sector < 3u * P.sect2) || (sector % 3u == 0u && sector < 3u * P.sect0);
    if (!thw) { pos = 0u; }
  }
  let extrap = f32(pos) * pow(P.base, -2.0 * f32(i) / f32(P.n_rot)) / FF[i];
  var theta = P.freq_scale * extrap;
  var mscale = P.attn_factor;
  if (P.ext_factor != 0.0) {
    let ramp = 1.0 - clamp((f32(i) - P.corr_lo) / max(0.001, P.corr_hi - P.corr_lo), 0.0, 1.0);
    let mix = ramp * P.ext_factor;
    theta = theta * (1.0 - mix) + extrap * mix;
    mscale *= 1.0 + 0.1 * log(1.0 / P.freq_scale);
  }
  let cs = cos_sin(theta) * mscale;
  let c = cs.x;
  let s = cs.y;
  let base = (t * P.n_heads + h) * P.head_dim + P.rot_off;
  var a = base + 2u * i;
  var b = a + 1u;
  if (P.mode == 2u || P.mode == 40u) { a = base + i; b = a + half; }
  let x0 = X[a];
  let x1 = X[b];
  X[a] = x0 * c - x1 * s;
  X[b] = x0 * s + x1 * c;
}
