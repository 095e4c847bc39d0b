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
// u16 / f16 at an even byte offset.
fn ld_u16(o: u32) -> u32 {
  return (W[o >> 2u] >> ((o & 2u) * 8u)) & 0xffffu;
}
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

// ---- FP4: MXFP4 and NVFP4 ----------------------------------------------------------------------

// e2m1 values, doubled (ggml-common.h kvalues_fp4, shared by MXFP4 and NVFP4).
var<private> KV_FP4: array<f32, 16> = array<f32, 16>(0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 0.0, -1.0, -2.0, -3.0, -4.0, -6.0, -8.0, -12.0);
fn kfp4(q: vec4<u32>) -> vec4<f32> { return vec4<f32>(KV_FP4[q.x], KV_FP4[q.y], KV_FP4[q.z], KV_FP4[q.w]); }

// block_mxfp4 { uint8 e; uint8 qs[16]; } (17 bytes), Q4_0's element order; y = d * kvalues_fp4[q] with
// d = 2^(e - 128), the E8M0 scale halved (ggml-impl.h ggml_e8m0_to_fp32_half: bit patterns, exact).
fn dq4_mxfp4(b: u32, j: u32) -> vec4<f32> {
  let x = ld_u8(b);
  let d = bitcast<f32>(select((x - 1u) << 23u, 0x00200000u << x, x < 2u));
  let w = ld_u32(b + 1u + 4u * (j & 3u));
  var q = nib_lo(w);
  if (j >= 4u) { q = nib_hi(w); }
  return d * kfp4(q);
}

// Unsigned FP8 E4M3 scale of NVFP4, halved as kvalues_fp4 are doubled (gguf-py NVFP4.ue4m3_to_fp32:
// 0x00 and 0x7F are 0; exponent 0 is subnormal m · 2^-9; else (1 + m/8) · 2^(e-7)).
fn ue4m3_half(x: u32) -> f32 {
  if (x == 0u || x == 0x7fu) { return 0.0; }
  let ex = (x >> 3u) & 15u;
  let m = x & 7u;
  if (ex == 0u) { return f32(m) * (1.0 / 1024.0); }
  return bitcast<f32>(((ex + 119u) << 23u) | (m << 20u));
}

// block_nvfp4 { uint8 d[4]; uint8 qs[32]; } (36 bytes), 64 elements in 4 sub-blocks of 16, each with
// its UE4M3 scale d[s] and Q4_0's element order over 8 bytes of qs; y = d[s] * kvalues_fp4[q].
fn dq4_nvfp4(b: u32, j: u32) -> vec4<f32> {
  let s = j >> 2u;
  let i = 4u * (j & 3u);
  let w = ld_u32(b + 4u + 8u * s + (i & 7u));
  var q = nib_lo(w);
  if (i >= 8u) { q = nib_hi(w); }
  return ue4m3_half(ld_u8(b + s)) * kfp4(q);
}

// ---- ternary: TQ1_0 and TQ2_0 ------------------------------------------------------------------

// block_tq1_0 { uint8 qs[48]; uint8 qh[4]; half d; } (54 bytes), 256 elements, base-3 digits packed
// five to a byte (qs) and four to a byte (qh) as fixed-point fractions: digit n of byte q is
// ((q · 3^n mod 256) · 3) >> 8. Elements 0..159: digit e/32 of qs[e%32]; 160..239: digit (e-160)/16
// of qs[32 + e%16]; 240..255: digit (e-240)/4 of qh[e%4] (ggml-quants.c dequantize_row_tq1_0).
// y = d * (digit - 1).
fn dq4_tq1_0(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  var o = 48u;
  var n = (e - 240u) >> 2u;
  if (e < 160u) { o = e & 31u; n = e >> 5u; } else if (e < 240u) { o = 32u + ((e - 160u) & 15u); n = (e - 160u) >> 4u; }
  var p = 1u;
  for (var i = 0u; i < n; i++) { p *= 3u; }
  let t = (((bytes4(ld_u32(b + o)) * p) & vec4<u32>(0xffu)) * 3u) >> vec4<u32>(8u);
  return ld_f16(b + 52u) * (vec4<f32>(t) - 1.0);
}

// block_tq2_0 { uint8 qs[64]; half d; } (66 bytes): 2-bit q in Q2_K's element order; y = d * (q - 1).
fn dq4_tq2_0(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let q = (bytes4(ld_u32(b + 32u * (e >> 7u) + (e & 31u))) >> vec4<u32>(2u * ((e >> 5u) & 3u))) & vec4<u32>(3u);
  return ld_f16(b + 64u) * (vec4<f32>(q) - 1.0);
}

// ---- i-quants: IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M -----------------------------
// Each 256-element super-block holds 8 sub-blocks of 32 (ib = e/32), each of 4 groups of 8 (l); a group
// is an index into a lattice grid of 8 (IQ2, IQ1) or two of 4 (IQ3) magnitudes, plus 8 sign bits
// (IQ2/IQ3; 7 stored, the 8th is parity: ksigns_iq2xs) or a ±1/8 shift (IQ1). A dq4 call is half a
// group (h = which half). Grids: GRIDS at binding 7, src/gpu/iq-grids.ts (generated from
// ggml-common.h), table offsets G_* in words. Formulas: ggml-quants.c dequantize_row_iq*, float
// order as gguf-py's quants.py.

@group(0) @binding(7) var<storage, read> GRIDS: array<u32>;

fn ksigns(i: u32) -> u32 { return (GRIDS[G_KSIGNS + (i >> 2u)] >> ((i & 3u) * 8u)) & 0xffu; }
// Half h of 8-byte grid entry `idx` of the table at word offset `t`: 4 bytes.
fn grid8(t: u32, idx: u32, h: u32) -> vec4<u32> { return bytes4(GRIDS[t + 2u * idx + h]); }
// (db · grid) with the sign of sign bit i applied to element i (bits 0..3 of s).
fn signed(db: f32, g: vec4<u32>, s: u32) -> vec4<f32> {
  let neg = (vec4<u32>(s) & vec4<u32>(1u, 2u, 4u, 8u)) != vec4<u32>(0u);
  return select(vec4<f32>(1.0), vec4<f32>(-1.0), neg) * (db * vec4<f32>(g));
}
// IQ2 sub-block scale: d · (0.5 + s) · 0.25 for a 4-bit s.
fn iq2_db(d: f32, s: u32) -> f32 { return d * (0.5 + f32(s)) * 0.25; }

// block_iq2_xxs { half d; uint16 qs[32]; } (66 bytes): per sub-block two u32, a0 = four 8-bit indices
// into iq2xxs_grid, a1 = four 7-bit sign indices and the 4-bit scale in bits 28..31.
fn dq4_iq2_xxs(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let h = (e >> 2u) & 1u;
  let a0 = ld_u32(b + 2u + 8u * ib);
  let a1 = ld_u32(b + 6u + 8u * ib);
  let s = ksigns((a1 >> (7u * l)) & 127u) >> (4u * h);
  return signed(iq2_db(ld_f16(b), a1 >> 28u), grid8(G_IQ2XXS, (a0 >> (8u * l)) & 0xffu, h), s);
}

// block_iq2_xs { half d; uint16 qs[32]; uint8 scales[8]; } (74 bytes): qs = 9-bit iq2xs_grid index |
// 7-bit sign index << 9; two 4-bit scales per sub-block (groups 0-1, 2-3).
fn dq4_iq2_xs(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let h = (e >> 2u) & 1u;
  let q = ld_u16(b + 2u + 8u * ib + 2u * l);
  let sc = (ld_u8(b + 66u + ib) >> (4u * (l >> 1u))) & 15u;
  return signed(iq2_db(ld_f16(b), sc), grid8(G_IQ2XS, q & 511u, h), ksigns(q >> 9u) >> (4u * h));
}

// block_iq2_s { half d; uint8 qs[32]; uint8 signs[32]; uint8 qh[8]; uint8 scales[8]; } (82 bytes):
// 10-bit iq2s_grid index = qs | 2 bits of qh << 8; 8 explicit sign bits per group.
fn dq4_iq2_s(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let h = (e >> 2u) & 1u;
  let idx = ld_u8(b + 2u + 4u * ib + l) | (((ld_u8(b + 66u + ib) >> (2u * l)) & 3u) << 8u);
  let sc = (ld_u8(b + 74u + ib) >> (4u * (l >> 1u))) & 15u;
  return signed(iq2_db(ld_f16(b), sc), grid8(G_IQ2S, idx, h), ld_u8(b + 34u + 4u * ib + l) >> (4u * h));
}

// block_iq3_xxs { half d; uint8 qs[64]; uint32 scales_signs[8]; } (98 bytes): two 8-bit iq3xxs_grid
// indices (4 magnitudes each) per group; per sub-block u32 = four 7-bit sign indices | scale << 28;
// db = d · (0.5 + scale) · 0.5.
fn dq4_iq3_xxs(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let h = (e >> 2u) & 1u;
  let a = ld_u32(b + 66u + 4u * ib);
  let db = ld_f16(b) * (0.5 + f32(a >> 28u)) * 0.5;
  let g = bytes4(GRIDS[G_IQ3XXS + ld_u8(b + 2u + 8u * ib + 2u * l + h)]);
  return signed(db, g, ksigns((a >> (7u * l)) & 127u) >> (4u * h));
}

// block_iq3_s { half d; uint8 qs[64]; uint8 qh[8]; uint8 signs[32]; uint8 scales[4]; } (110 bytes):
// 9-bit iq3s_grid index = qs | bit (2l + h) of qh[ib] << 8; 8 explicit sign bits per group;
// db = d · (1 + 2 · scale), a 4-bit scale per pair of sub-blocks.
fn dq4_iq3_s(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let h = (e >> 2u) & 1u;
  let idx = ld_u8(b + 2u + 8u * ib + 2u * l + h) | (((ld_u8(b + 66u + ib) >> (2u * l + h)) & 1u) << 8u);
  let sc = (ld_u8(b + 106u + (ib >> 1u)) >> (4u * (ib & 1u))) & 15u;
  let db = ld_f16(b) * f32(1u + 2u * sc);
  return signed(db, bytes4(GRIDS[G_IQ3S + idx]), ld_u8(b + 74u + 4u * ib + l) >> (4u * h));
}

// IQ1 value: dl · (grid + ±1/8), grid bytes are int8 −1, 0, 1 (iq1s_grid; IQ1S_DELTA = 0.125).
fn iq1(dl: f32, idx: u32, h: u32, neg: bool) -> vec4<f32> {
  return dl * (sext8(grid8(G_IQ1S, idx, h)) + select(0.125, -0.125, neg));
}

// block_iq1_s { half d; uint8 qs[32]; uint16 qh[8]; } (50 bytes): 11-bit iq1s_grid index = qs | 3 bits
// of qh[ib] << 8; qh bits 12..14 the scale (dl = d · (2s + 1)), bit 15 the delta's sign.
fn dq4_iq1_s(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let qh = ld_u16(b + 34u + 2u * ib);
  let dl = ld_f16(b) * f32(2u * ((qh >> 12u) & 7u) + 1u);
  return iq1(dl, ld_u8(b + 2u + 4u * ib + l) | (((qh >> (3u * l)) & 7u) << 8u), (e >> 2u) & 1u, (qh & 0x8000u) != 0u);
}

// block_iq1_m { uint8 qs[32]; uint8 qh[16]; uint8 scales[8]; } (56 bytes): the f16 super-block scale
// is the top nibbles of the four u16 of scales; 3-bit scales per half sub-block (dl = d · (2s + 1));
// a qh nibble per group: 3 index bits (<< 8) and the delta's sign.
fn dq4_iq1_m(b: u32, j: u32) -> vec4<f32> {
  let e = 4u * j;
  let ib = e >> 5u;
  let l = (e >> 3u) & 3u;
  let dbits = (ld_u16(b + 48u) >> 12u) | ((ld_u16(b + 50u) >> 8u) & 0xf0u) | ((ld_u16(b + 52u) >> 4u) & 0xf00u) | (ld_u16(b + 54u) & 0xf000u);
  let sc = ld_u16(b + 48u + 2u * (ib >> 1u));
  let dl = unpack2x16float(dbits).x * f32(2u * ((sc >> (6u * (ib & 1u) + 3u * (l >> 1u))) & 7u) + 1u);
  let qh = ld_u8(b + 32u + 2u * ib + (l >> 1u)) >> (4u * (l & 1u));
  return iq1(dl, ld_u8(b + 4u * ib + l) | ((qh & 7u) << 8u), (e >> 2u) & 1u, (qh & 8u) != 0u);
}
