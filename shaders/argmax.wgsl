// Index of the largest of n logits in row `row` of L (ties: the lowest index, like a CPU scan).
// One workgroup of 256. Dispatch: (1).

struct Params { n: u32, row: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

const WG: u32 = 256u;
var<workgroup> bv: array<f32, 256>;
var<workgroup> bi: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var best = -3.4e38;
  var besti = 0xffffffffu;
  let base = P.row * P.n;
  for (var i = tid; i < P.n; i += WG) {
    let v = L[base + i];
    if (v > best) { best = v; besti = i; }
  }
  bv[tid] = best;
  bi[tid] = besti;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      let v = bv[tid + s];
      let j = bi[tid + s];
      if (v > bv[tid] || (v == bv[tid] && j < bi[tid])) { bv[tid] = v; bi[tid] = j; }
    }
    workgroupBarrier();
  }
  if (tid == 0u) { OUT[0] = bi[0]; }
}
