// Y[r, :] = dequantized row r of W (rows × k, ggml type from quant.wgsl), times `scale`.
// Used for the token embedding lookup (W = the prompt tokens' rows, read from the file) and to
// dequantize whole tensors in tests. One thread per 4 elements.
// Dispatch: (min(n4 / 64, 32768), ceil(..)), n4 = rows * k / 4.

struct Params { rows: u32, k: u32, row_bytes: u32, scale: f32 }

@group(0) @binding(1) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * 64u;
  let groups = P.k / 4u;
  let row = idx / groups;
  if (row >= P.rows) { return; }
  let g = idx % groups;
  let gpb = BLOCK_ELEMS / 4u;
  Y[idx] = dequant4(row * P.row_bytes + (g / gpb) * BLOCK_BYTES, g % gpb) * P.scale;
}
