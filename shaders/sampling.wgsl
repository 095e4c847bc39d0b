// Sampling kernels on one row of logits L [*, n], so that a large vocabulary never has to be copied
// to the CPU per token: penalties/bias applied in place, then either the argmax (greedy) or the K
// best (value, index) pairs for a CPU draw among them.

struct Params { n: u32, row: u32, k: u32, n_adjust: u32 }
struct Adjust { token: u32, rep: f32, sub: f32, add: f32 }

@group(0) @binding(0) var<storage, read_write> L: array<f32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>; // argmax: [idx]; topk: [idx, bits(val)] × k
@group(0) @binding(2) var<uniform> P: Params;
@group(0) @binding(3) var<storage, read> ADJ: array<Adjust>;
@group(0) @binding(4) var<storage, read> MASK: array<u32>; // allowed tokens: bit t % 32 of word t / 32

const WG: u32 = 256u;
var<workgroup> bv: array<f32, 256>;
var<workgroup> bi: array<u32, 256>;

// Largest value of the row among this workgroup (ties: lowest index), left in bv[0] / bi[0].
fn row_max(tid: u32) {
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
}

// OUT[0] = argmax of the row. Dispatch: (1).
@compute @workgroup_size(256)
fn argmax(@builtin(local_invocation_index) tid: u32) {
  row_max(tid);
  if (tid == 0u) { OUT[0] = bi[0]; }
}

// The k largest, best first, as (index, f32 bits) pairs; each pick is then removed from the row
// (set to -inf). k rounds of a parallel max: cheap next to the output projection. Dispatch: (1).
@compute @workgroup_size(256)
fn topk(@builtin(local_invocation_index) tid: u32) {
  for (var r = 0u; r < P.k; r++) {
    row_max(tid);
    if (tid == 0u) {
      OUT[2u * r] = bi[0];
      OUT[2u * r + 1u] = bitcast<u32>(bv[0]);
      if (bi[0] < P.n) { L[P.row * P.n + bi[0]] = -3.4e38; }
    }
    workgroupBarrier();
    storageBarrier();
  }
}

// llama.cpp's penalties and OpenAI's logit_bias, for listed tokens only:
// v = (v > 0 ? v / rep : v · rep) - sub + add. One invocation per entry. Dispatch: (ceil(n_adjust / 64)).
@compute @workgroup_size(64)
fn adjust(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.n_adjust) { return; }
  let a = ADJ[gid.x];
  if (a.token >= P.n) { return; }
  let o = P.row * P.n + a.token;
  var v = L[o];
  if (a.rep != 1.0) { v = select(v * a.rep, v / a.rep, v > 0.0); }
  L[o] = v - a.sub + a.add;
}

// Constrained generation (a grammar's allowed tokens): every token whose bit in MASK is clear gets
// the lowest logit, which row_max never picks (it keeps only values > -3.4e38), so argmax and topk
// skip it. One invocation per token. Dispatch: (ceil(n / 256)).
@compute @workgroup_size(256)
fn mask(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  if (((MASK[i >> 5u] >> (i & 31u)) & 1u) == 0u) { L[P.row * P.n + i] = -3.4e38; }
}
