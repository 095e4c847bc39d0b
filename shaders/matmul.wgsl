// Y = W · X for `rows` rows (from row w_row0) of a weight piece of k columns stored in a ggml type (quant.wgsl
// supplies dequant4, BLOCK_ELEMS, BLOCK_BYTES), against up to n_tokens input rows: columns
// x_col0 .. x_col0+k of X [T, x_stride] (a column slice, e.g. one head of q for MLA's per-head products).
// One workgroup per output row and tile of TT tokens: each thread takes 4-element groups of the
// row, dequantizes them once and applies them to all TT tokens (that is what makes prefill batched).
// Dispatch: (min(rows, 32768), ceil(rows / 32768), ceil(T / TT)).

struct Step { n_tokens: u32, pos0: u32, head_row0: u32, head_tokens: u32 }
struct Params {
  rows: u32,       // rows to compute, starting at row w_row0 of the piece
  k: u32,          // input width, elements (multiple of 4)
  row_bytes: u32,  // bytes per row of W
  y_col0: u32,     // output column of the first computed row
  y_stride: u32,   // output row stride, elements
  x_stride: u32,   // input row stride, elements (multiple of 4)
  flags: u32,      // bit 0: accumulate (Y += W·X); bit 1: head (tokens head_row0.. of X)
  w_row0: u32,     // first row of the piece to use (row ranges: fused QKV, one expert of a 3-D tensor)
  x_col0: u32,     // first input column, elements (multiple of 4; 0 = the whole row)
}

@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<uniform> S: Step;

const WG: u32 = 64u;
const TT: u32 = 4u;
var<workgroup> red: array<f32, 256>; // WG * TT

// Tokens this dispatch covers: the step's tokens, or the head rows of X (flag bit 1).
fn n_tokens() -> u32 { return select(S.n_tokens, S.head_tokens, (P.flags & 2u) != 0u); }

// Partial dot products of W row `row` with X rows t0 .. t0+TT-1, over the row's 4-element groups
// g0, g0 + step, ...: each group is dequantized once and used for every token of the tile.
fn partial_dots(row: u32, t0: u32, g0: u32, step: u32) -> array<f32, 4> {
  let nt = n_tokens();
  let t_first = select(0u, S.head_row0, (P.flags & 2u) != 0u);
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  let groups = P.k / 4u;
  let gpb = BLOCK_ELEMS / 4u;
  let rbase = (P.w_row0 + row) * P.row_bytes;
  let xs = P.x_stride / 4u;
  let xc = P.x_col0 / 4u;
  for (var g = g0; g < groups; g += step) {
    let w = dequant4(rbase + (g / gpb) * BLOCK_BYTES, g % gpb);
    for (var t = 0u; t < TT; t++) {
      if (t0 + t < nt) {
        acc[t] += dot(w, X[(t_first + t0 + t) * xs + xc + g]);
      }
    }
  }
  return acc;
}

// Writes (or adds, flag bit 0) the result for token t of row `row`.
fn store(row: u32, t: u32, v: f32) {
  let yo = t * P.y_stride + P.y_col0 + row;
  if ((P.flags & 1u) != 0u) { Y[yo] = Y[yo] + v; } else { Y[yo] = v; }
}

// GPUs: a workgroup per (row, token tile) splits the row across 64 invocations and reduces.
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= P.rows) { return; }
  let t0 = wg.z * TT;
  let acc = partial_dots(row, t0, tid, WG);
  for (var t = 0u; t < TT; t++) { red[t * WG + tid] = acc[t]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      for (var t = 0u; t < TT; t++) { red[t * WG + tid] += red[t * WG + tid + s]; }
    }
    workgroupBarrier();
  }
  if (tid < TT && t0 + tid < n_tokens()) { store(row, t0 + tid, red[tid * WG]); }
}

// CPU WebGPU (SwiftShader) runs workgroup barriers as coroutine switches, which cost more than the
// math there: one invocation per (row, token tile) walks the whole row instead.
// Dispatch: (ceil(rows / 64) capped at 32768, .., ceil(T / TT)).
@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(workgroup_id) wg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= P.rows) { return; }
  let t0 = wg.z * TT;
  let acc = partial_dots(row, t0, 0u, 1u);
  for (var t = 0u; t < TT; t++) {
    if (t0 + t < n_tokens()) { store(row, t0 + t, acc[t]); }
  }
}
