// Causal grouped-query attention for T new tokens at positions pos0 .. pos0+T-1 against the
// layer's K/V cache (which already holds those tokens' keys and values):
//   O[t, h] = softmax_p( scale * temp(pos) * q[t,h] · K[p, h/g] ) · V[p, h/g],  p in [lo, pos0 + t]
// g = n_head / n_head_kv (GQA), lo = 0 or pos - window + 1 (sliding window), optional soft-cap
// cap * tanh(s / cap) on the scores (gemma2), optional per-head sink logit that joins the softmax
// denominator only (gpt-oss, ggml_soft_max_add_sinks), optional query temperature
// temp(pos) = 1 + temp_scale * ln(floor(pos / temp_floor) + 1) (llama.cpp llm_graph_input_attn_temp).
// K rows have k_stride elements with head_dim per KV head, V rows v_stride with v_dim per KV head:
// V may be the K buffer itself (MLA's latent cache, v_dim < head_dim). Scores go to a scratch row in
// global memory, so the context length is not limited by workgroup memory. One workgroup per (head,
// token). The cache is f32 or q8_0 blocks (override KV_Q8; format in kv_cache.wgsl, which writes it).
// Dispatch: (n_head, T).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params {
  n_head: u32, n_head_kv: u32, head_dim: u32, ctx: u32,
  scale: f32, softcap: f32, window: u32, t_max: u32,
  v_dim: u32, k_stride: u32, v_stride: u32, flags: u32, // flags bit 0: sinks
  temp_scale: f32, temp_floor: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<storage, read> Q: array<f32>;     // [T, n_head * head_dim]
@group(0) @binding(1) var<storage, read> K: array<u32>;     // [ctx, n_head_kv * head_dim], cache format
@group(0) @binding(2) var<storage, read> V: array<u32>;     // [ctx, n_head_kv * head_dim], cache format
@group(0) @binding(3) var<storage, read_write> O: array<f32>; // [T, n_head * v_dim]
@group(0) @binding(4) var<storage, read_write> SC: array<f32>; // [n_head, t_max, ctx] scratch
@group(0) @binding(5) var<uniform> P: Params;
@group(0) @binding(6) var<uniform> S: Step;
@group(0) @binding(7) var<storage, read> SINKS: array<f32>; // [n_head] (flags bit 0)

override KV_Q8: bool = false;

// element i of a cache row-major [ctx, width] array: f32 bits, or q8_0 block i/32 (9 words: d, 8×4 int8)
fn k_at(i: u32) -> f32 {
  if (KV_Q8) { return bitcast<f32>(K[i / 32u * 9u]) * f32(extractBits(i32(K[i / 32u * 9u + 1u + i % 32u / 4u]), 8u * (i % 4u), 8u)); }
  return bitcast<f32>(K[i]);
}
fn v_at(i: u32) -> f32 {
  if (KV_Q8) { return bitcast<f32>(V[i / 32u * 9u]) * f32(extractBits(i32(V[i / 32u * 9u + 1u + i % 32u / 4u]), 8u * (i % 4u), 8u)); }
  return bitcast<f32>(V[i]);
}

const WG: u32 = 64u;
var<workgroup> red: array<f32, 64>;
var<workgroup> qs: array<f32, 1024>; // head_dim <= 1024 (MLA's absorbed heads: kv_lora_rank + n_rot = 576 for DeepSeek-V3)

fn reduce_max(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let h = wg.x;
  let t = wg.y;
  if (t >= S.n_tokens) { return; }
  let hd = P.head_dim;
  let kvh = h / (P.n_head / P.n_head_kv);
  let pos = S.pos0 + t;
  var lo = 0u;
  if (P.window > 0u && pos + 1u > P.window) { lo = pos + 1u - P.window; }
  let qo = (t * P.n_head + h) * hd;
  for (var d = tid; d < hd; d += WG) { qs[d] = Q[qo + d]; }
  workgroupBarrier();
  var scale = P.scale;
  if (P.temp_floor > 0u) { scale *= 1.0 + P.temp_scale * log(f32(pos / P.temp_floor) + 1.0); }

  let sbase = (h * P.t_max + t) * P.ctx;
  var mx = -3.0e38;
  for (var p = lo + tid; p <= pos; p += WG) {
    let ko = p * P.k_stride + kvh * hd;
    var s = 0.0;
    for (var d = 0u; d < hd; d++) { s += qs[d] * k_at(ko + d); }
    s *= scale;
    if (P.softcap > 0.0) { s = P.softcap * tanh(s / P.softcap); }
    SC[sbase + p] = s;
    mx = max(mx, s);
  }
  mx = reduce_max(mx, tid);
  let sinks = (P.flags & 1u) != 0u;
  if (sinks) { mx = max(mx, SINKS[h]); }
  var sum = 0.0;
  for (var p = lo + tid; p <= pos; p += WG) {
    let e = exp(SC[sbase + p] - mx);
    SC[sbase + p] = e;
    sum += e;
  }
  sum = reduce_sum(sum, tid);
  if (sinks) { sum += exp(SINKS[h] - mx); }
  storageBarrier();
  let inv = 1.0 / sum;
  let vd = P.v_dim;
  let oo = (t * P.n_head + h) * vd;
  for (var d = tid; d < vd; d += WG) {
    var acc = 0.0;
    for (var p = lo; p <= pos; p++) { acc += SC[sbase + p] * v_at(p * P.v_stride + kvh * vd + d); }
    O[oo + d] = acc * inv;
  }
}
