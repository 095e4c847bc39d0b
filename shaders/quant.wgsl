// ggml block formats, dequantized 4 elements at a time: dq4_<type>(b, j) returns elements
// 4j .. 4j+3 of the block that starts at byte `b` of W. Block layouts: ggml-common.h (block_q4_0,
// block_q5_0, block_q8_0, block_q6_K, ...); element order and the order of float operations follow
// ggml-quants.c dequantize_row_* and gguf-py's quants.py, so results are bit-exact.
// W holds the raw GGUF bytes of whole rows; blocks are not 4-byte aligned (Q4_0 is 18 bytes), so
// everything is read through byte-addressed helpers. f16 is unpacked with unpack2x16float: no
// shader-f16 needed.

@group(0) @binding(0) var<storage, read> W: array<u32>;

fn ld_u8(o: u32) -> u32 {
  return (W[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu;
}
// 4 bytes starting at any byte offset, little-endian.
fn ld_u32(o: u32) -> u32 {
  let s = (o & 3u) * 8u;
  let lo = W[o >> 2u];
  if (s == 0u) { return lo; }
  return (lo >> s) | (W[(o >> 2u) + 1u] << (32u - s));
}
// f16 at an even byte offset.
fn ld_f16(o: u32) -> f32 {
  return unpack2x16float(W[o >> 2u] >> ((o & 2u) * 8u)).x;
}
fn nib_lo(w: u32) -> vec4<u32> { return vec4<u32>(w & 0xfu, (w >> 8u) & 0xfu, (w >> 16u) & 0xfu, (w >> 24u) & 0xfu); }
fn nib_hi(w: u32) -> vec4<u32> { return vec4<u32>((w >> 4u) & 0xfu, (w >> 12u) & 0xfu, (w >> 20u) & 0xfu, (w >> 28u) & 0xfu); }
fn bytes4(w: u32) -> vec4<u32> { return vec4<u32>(w & 0xffu, (w >> 8u) & 0xffu, (w >> 16u) & 0xffu, w >> 24u); }
fn sext8(v: vec4<u32>) -> vec4<f32> { return vec4<f32>(vec4<i32>(v << vec4<u32>(24u)) >> vec4<u32>(24u)); }

// F32 / F16 / BF16: a "block" is 4 elements.
fn dq4_f32(b: u32, j: u32) -> vec4<f32> {
  let w = b >> 2u;
  return vec4<f32>(bitcast<f32>(W[w]), bitcast<f32>(W[w + 1u]), bitcast<f32>(W[w + 2u]), bitcast<f32>(W[w + 3u]));
}
fn dq4_f16(b: u32, j: u32) -> vec4<f32> {
  let a = ld_u32(b);
  let c = ld_u32(b + 4u);
  return vec4<f32>(unpack2x16float(a), unpack2x16float(c));
}
fn dq4_bf16(b: u32, j: u32) -> vec4<f32> {
  let a = ld_u32(b);
  let c = ld_u32(b + 4u);
  return vec4<f32>(bitcast<f32>(a << 16u), bitcast<f32>(a & 0xffff0000u), bitcast<f32>(c << 16u), bitcast<f32>(c & 0xffff0000u));
}

// block_q8_0 { half d; int8 qs[32]; } (34 bytes): y = d * q
fn dq4_q8_0(b: u32, j: u32) -> vec4<f32> {
  let d = ld_f16(b);
  return d * sext8(bytes4(ld_u32(b + 2u + 4u * j)));
}

// block_q4_0 { half d; uint8 qs[16]; } (18 bytes): y[i] = d * ((qs[i] & 15) - 8), y[i+16] = d * ((qs[i] >> 4) - 8)
fn dq4_q4_0(b: u32, j: u32) -> vec4<f32> {
  let d = ld_f16(b);
  let w = ld_u32(b + 2u + 4u * (j & 3u));
  var q = nib_lo(w);
  if (j >= 4u) { q = nib_hi(w); }
  return d * (vec4<f32>(q) - 8.0);
}

// block_q4_1 { half d; half m; uint8 qs[16]; } (20 bytes): y = d * q + m
fn dq4_q4_1(b: u32, j: u32) -> vec4<f32> {
  let d = ld_f16(b);
  let m = ld_f16(b + 2u);
  let w = ld_u32(b + 4u + 4u * (j & 3u));
  var q = nib_lo(w);
  if (j >= 4u) { q = nib_hi(w); }
  return d * vec4<f32>(q) + m;
}

// 5th bits of elements e..e+3 from the 32-bit qh field.
fn qh_bits(qh: u32, e: u32) -> vec4<u32> {
  return (vec4<u32>(qh) >> (vec4<u32>(e) + vec4<u32>(0u, 1u, 2u, 3u))) & vec4<u32>(1u);
}

// block_q5_0 { half d; uint8 qh[4]; uint8 qs[16]; } (22 bytes): y = d * (q5 - 16)
fn dq4_q5_0(b: u32, j: u32) -> vec4<f32> {
  let d = ld_f16(b);
  let qh = ld_u32(b + 2u);
  let w = ld_u32(b + 6u + 4u * (j & 3u));
  var q = nib_lo(w);
  if (j >= 4u) { q = nib_hi(w); }
  let q5 = q | (qh_bits(qh, 4u * j) << vec4<u32>(4u));
  return d * (vec4<f32>(q5) - 16.0);
}

// block_q5_1 { half d; half m; uint8 qh[4]; uint8 qs[16]; } (24 bytes): y = d * q5 + m
fn dq4_q5_1(b: u32, j: u32) -> vec4<f32> {
  let d = ld_f16(b);
  let m = ld_f16(b + 2u);
  let qh = ld_u32(b + 4u);
  let w = ld_u32(b + 8u + 4u * (j & 3u));
  var q = nib_lo(w);
  if (j >= 4u) { q = nib_hi(w); }
  let q5 = q | (qh_bits(qh, 4u * j) << vec4<u32>(4u));
  return d * vec4<f32>(q5) + m;
}

// block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; } (210 bytes), 256 elements.
// Element e: half n = e/128, quarter q = (e%128)/32, l = e%32; low 4 bits from ql[64n + 32(q&1) + l]
// (>> 4 when q >= 2), high 2 bits from qh[32n + l] >> 2q; scale scales[8n + 2q + l/16].
// y = (d * scale) * (q6 - 32), in that order (gguf-py).
fn dq4_q6_k(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let n = e >> 7u;
  let qq = (e >> 5u) & 3u;
  let l = e & 31u;
  let lw = ld_u32(b + 64u * n + 32u * (qq & 1u) + l);
  var lo = nib_lo(lw);
  if (qq >= 2u) { lo = nib_hi(lw); }
  let hi = (bytes4(ld_u32(b + 128u + 32u * n + l)) >> vec4<u32>(2u * qq)) & vec4<u32>(3u);
  let q6 = vec4<i32>(lo | (hi << vec4<u32>(4u))) - vec4<i32>(32);
  let sc = f32(i32(ld_u8(b + 192u + 8u * n + 2u * qq + (l >> 4u)) << 24u) >> 24u);
  let d = ld_f16(b + 208u);
  return (d * sc) * vec4<f32>(q6);
}

// block_q2_K { uint8 scales[16]; uint8 qs[64]; half d; half dmin; } (84 bytes), 256 elements.
// Element e: q = (qs[32(e/128) + e%32] >> 2((e/32)%4)) & 3; sub-block s = e/16;
// y = (d * (scales[s] & 15)) * q - dmin * (scales[s] >> 4).
fn dq4_q2_k(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let q = (bytes4(ld_u32(b + 16u + 32u * (e >> 7u) + (e & 31u))) >> vec4<u32>(2u * ((e >> 5u) & 3u))) & vec4<u32>(3u);
  let sc = ld_u8(b + (e >> 4u));
  let dl = ld_f16(b + 80u) * f32(sc & 15u);
  let ml = ld_f16(b + 82u) * f32(sc >> 4u);
  return dl * vec4<f32>(q) - ml;
}

// block_q3_K { uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d; } (110 bytes).
// Element e: low 2 bits (qs[32(e/128) + e%32] >> 2((e/32)%4)) & 3, minus 4 unless hmask[e%32]
// bit e/32 is set; 6-bit signed scale s = e/16 packed as gguf-py's Q3_K describes.
fn dq4_q3_k(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let l = e & 31u;
  let ql = (bytes4(ld_u32(b + 32u + 32u * (e >> 7u) + l)) >> vec4<u32>(2u * ((e >> 5u) & 3u))) & vec4<u32>(3u);
  let hm = (bytes4(ld_u32(b + l)) >> vec4<u32>(e >> 5u)) & vec4<u32>(1u);
  let q = vec4<i32>(ql) - vec4<i32>((vec4<u32>(1u) - hm) << vec4<u32>(2u));
  let s = e >> 4u;
  let lo = (ld_u8(b + 96u + (s & 7u)) >> (4u * (s >> 3u))) & 15u;
  let hi = (ld_u8(b + 104u + (s & 3u)) >> (2u * (s >> 2u))) & 3u;
  let dl = ld_f16(b + 108u) * f32(i32(lo | (hi << 4u)) - 32);
  return dl * vec4<f32>(q);
}

// 6-bit scale and min of sub-block i (0..7) of Q4_K / Q5_K, packed in 12 bytes at `o`
// (ggml-quants.c get_scale_min_k4).
fn scale_min_k4(o: u32, i: u32) -> vec2<f32> {
  if (i < 4u) {
    return vec2<f32>(f32(ld_u8(o + i) & 63u), f32(ld_u8(o + 4u + i) & 63u));
  }
  let md = ld_u8(o + 4u + i);
  return vec2<f32>(f32((md & 15u) | ((ld_u8(o + i - 4u) >> 2u) & 48u)), f32((md >> 4u) | ((ld_u8(o + i) >> 2u) & 48u)));
}

// block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; } (144 bytes).
// Element e: q = (qs[32(e/64) + e%32] >> 4((e/32)%2)) & 15; y = (d*sc) * q - dmin*m, sub-block e/32.
fn dq4_q4_k(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let w = ld_u32(b + 16u + 32u * (e >> 6u) + (e & 31u));
  var q = nib_lo(w);
  if (((e >> 5u) & 1u) == 1u) { q = nib_hi(w); }
  let sm = scale_min_k4(b + 4u, e >> 5u);
  return (ld_f16(b) * sm.x) * vec4<f32>(q) - ld_f16(b + 2u) * sm.y;
}

// block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; } (176 bytes).
// As Q4_K with a 5th bit (qh[e%32] >> e/32) & 1.
fn dq4_q5_k(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let w = ld_u32(b + 48u + 32u * (e >> 6u) + (e & 31u));
  var q = nib_lo(w);
  if (((e >> 5u) & 1u) == 1u) { q = nib_hi(w); }
  let h = (bytes4(ld_u32(b + 16u + (e & 31u))) >> vec4<u32>(e >> 5u)) & vec4<u32>(1u);
  let sm = scale_min_k4(b + 4u, e >> 5u);
  return (ld_f16(b) * sm.x) * vec4<f32>(q | (h << vec4<u32>(4u))) - ld_f16(b + 2u) * sm.y;
}

// Non-linear 4-bit code book of IQ4_NL / IQ4_XS (ggml-common.h kvalues_iq4nl).
var<private> KV_IQ4: array<f32, 16> = array<f32, 16>(-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0, 1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
fn kv4(q: vec4<u32>) -> vec4<f32> { return vec4<f32>(KV_IQ4[q.x], KV_IQ4[q.y], KV_IQ4[q.z], KV_IQ4[q.w]); }

// block_iq4_nl { half d; uint8 qs[16]; } (18 bytes), 32 elements laid out as Q4_0; y = d * kvalues[q].
fn dq4_iq4_nl(b: u32, j: u32) -> vec4<f32> {
  let w = ld_u32(b + 2u + 4u * (j & 3u));
  var q = nib_lo(w);
  if (j >= 4u) { q = nib_hi(w); }
  return ld_f16(b) * kv4(q);
}

// block_iq4_xs { half d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]; } (136 bytes).
// Sub-block ib = e/32 (16 bytes of qs, Q4_0 order inside); 6-bit signed scale from scales_l/h.
fn dq4_iq4_xs(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let i = e & 31u;
  let w = ld_u32(b + 8u + 16u * ib + (i & 15u));
  var q = nib_lo(w);
  if (i >= 16u) { q = nib_hi(w); }
  let lo = (ld_u8(b + 4u + (ib >> 1u)) >> (4u * (ib & 1u))) & 15u;
  let hi = ((ld_u8(b + 2u) | (ld_u8(b + 3u) << 8u)) >> (2u * ib)) & 3u;
  let dl = ld_f16(b) * f32(i32(lo | (hi << 4u)) - 32);
  return dl * kv4(q);
}
