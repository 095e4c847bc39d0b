// Writes the step's keys or values X [T, width] into K/V cache rows pos0 .. pos0+T-1.
// Two cache formats, picked by the override constant KV_Q8:
//   f32  : [ctx, width] float32 (bit patterns in u32 words)
//   q8_0 : per row width/32 blocks of 9 u32 words: word 0 = d (f32), words 1..8 = 32 int8 q
//          (little-endian, 4 per word); x ≈ d · q. This is ggml's block_q8_0 (ggml-common.h;
//          quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d)) with d kept as f32 instead of
//          f16, so blocks stay word-aligned and no f16 support is needed: 36 bytes per 32 values.
// One thread per 32-value block of a row. Dispatch: (ceil(T * ceil(width / 32) / 64)).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params { width: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> X: array<f32>;        // [T, width]
@group(0) @binding(1) var<storage, read_write> C: array<u32>;  // the cache, [ctx, width] in its format
@group(0) @binding(2) var<uniform> P: Params;
@group(0) @binding(3) var<uniform> S: Step;

override KV_Q8: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let nb = (P.width + 31u) / 32u;
  let idx = gid.x;
  if (idx >= S.n_tokens * nb) { return; }
  let t = idx / nb;
  let b = idx % nb;
  let row = S.pos0 + t;
  let x0 = t * P.width + b * 32u;
  if (!KV_Q8) {
    for (var j = 0u; j < 32u && b * 32u + j < P.width; j++) { C[row * P.width + b * 32u + j] = bitcast<u32>(X[x0 + j]); }
    return;
  }
  // q8_0 needs width % 32 == 0 (checked at load)
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(X[x0 + j])); }
  let d = amax / 127.0;
  let id = select(0.0, 1.0 / d, d > 0.0);
  let o = (row * nb + b) * 9u;
  C[o] = bitcast<u32>(d);
  for (var w = 0u; w < 8u; w++) {
    var packed = 0u;
    for (var j = 0u; j < 4u; j++) {
      let v = X[x0 + w * 4u + j] * id;
      let q = i32(sign(v) * floor(abs(v) + 0.5)); // roundf: half away from zero, as ggml
      packed |= (u32(q) & 0xffu) << (8u * j);
    }
    C[o + 1u + w] = packed;
  }
}
