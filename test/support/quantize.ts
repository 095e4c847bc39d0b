// Node-side test helper (not shipped): ggml quantizers for TQ1_0, TQ2_0, MXFP4 and NVFP4, the
// matching dequantizers (plus Q8_0 and F32), and a model re-quantizer that writes a quantized GGUF
// and its "F32 twin". Written from llama.cpp (2026-08):
//   quantizers   ggml/src/ggml-quants.c quantize_row_{tq1_0,tq2_0,mxfp4,nvfp4}_ref (which is what
//                llama-quantize runs: ggml.c ggml_quantize_chunk → quantize_T → the _ref function;
//                none of the four uses the importance matrix)
//   helpers      ggml/src/ggml-impl.h ggml_compute_fp32_to_fp16 / ggml_compute_fp16_to_fp32,
//                ggml_e8m0_to_fp32_half, ggml_fp32_to_ue4m3 / ggml_ue4m3_to_fp32
//   layouts      ggml/src/ggml-common.h block_tq1_0, block_tq2_0, block_mxfp4, block_nvfp4
//   dequantizers gguf-py/gguf/quants.py {Q8_0,TQ1_0,TQ2_0,MXFP4,NVFP4}.dequantize_blocks
// C computes in float32; every float operation here is rounded with Math.fround where that matters.
import { ggmlTypeByName } from '../../src/gguf/ggml-types.ts';
import { parseForWrite, writeGGUF, type GGUFKV, type WriterTensor } from './gguf-writer.ts';

/** The types `quantize` writes. */
export type QuantType = 'TQ1_0' | 'TQ2_0' | 'MXFP4' | 'NVFP4';
/** The types `dequantize` reads. */
export type DequantType = QuantType | 'Q8_0' | 'F32';

const fround = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (f: number) => ((f32[0] = f), u32[0]);
const fromBits = (b: number) => ((u32[0] = b >>> 0), f32[0]);

/** float32 → IEEE half bits, round to nearest even (ggml-impl.h ggml_compute_fp32_to_fp16, same bit trick). */
export function fp32ToFp16(f: number): number {
  let base = fround(fround(Math.abs(f) * 2 ** 112) * 2 ** -110);
  const w = bitsOf(f);
  const shl1w = (w << 1) >>> 0;
  const sign = w & 0x80000000;
  const bias = Math.max((shl1w & 0xff000000) >>> 0, 0x71000000);
  base = fround(fromBits((bias >>> 1) + 0x07800000) + base);
  const bits = bitsOf(base);
  const nonsign = ((bits >>> 13) & 0x7c00) + (bits & 0x0fff);
  return (sign >>> 16) | (shl1w > 0xff000000 ? 0x7e00 : nonsign);
}

/** IEEE half bits → its (exact) value. */
export function fp16ToFp32(h: number): number {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (e ? (1 + m / 1024) * 2 ** (e - 15) : m * 2 ** -24);
}

/** E8M0 scale byte → 2^(x-127) / 2 (ggml-impl.h ggml_e8m0_to_fp32_half; MXFP4's kvalues are doubled). */
const e8m0Half = (x: number) => fromBits(x < 2 ? 0x00200000 << x : (x - 1) << 23);

/** UE4M3 (unsigned FP8, 4 exponent bits with bias 7, 3 mantissa bits) → value / 2 (ggml-impl.h ggml_ue4m3_to_fp32). */
function ue4m3ToFp32(x: number): number {
  if (x === 0 || x === 0x7f) return 0;
  const exp = (x >> 3) & 0xf, man = x & 7;
  return (exp === 0 ? man * 2 ** -9 : (1 + man / 8) * 2 ** (exp - 7)) * 0.5;
}

/** float32 → UE4M3 byte: mantissa rounded half up on the first dropped bit, saturating at 0x7E = 448 (ggml-impl.h ggml_fp32_to_ue4m3). */
function fp32ToUe4m3(x: number): number {
  if (!(x > 0)) return 0;
  if (x > 448) x = 448;
  const bits = bitsOf(x);
  let exp = ((bits >>> 23) & 0xff) - 127 + 7;
  if (exp <= 0) {
    const man = Math.min(Math.trunc(fround(fround(x * 512) + 0.5)), 7); // subnormal: man · 2^-9
    return man < 1 ? 0 : man;
  }
  if (exp >= 15) return 0x7e;
  let man = ((bits >>> 20) & 7) + ((bits >>> 19) & 1);
  if (man > 7) {
    man = 0;
    if (++exp >= 15) return 0x7e;
  }
  return (exp << 3) | man;
}

/** The 16 E2M1 values, doubled (ggml-common.h kvalues_fp4 a.k.a. kvalues_mxfp4); index = the 4-bit code. */
const KVALUES_FP4 = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

/** Code of the nearest kvalue·d to x, first one on ties (ggml-quants.c best_index_mxfp4). */
function bestIndexFp4(x: number, d: number): number {
  let best = 0, bestErr = fround(Math.abs(fround(KVALUES_FP4[0] * d) - x));
  for (let i = 1; i < 16; i++) {
    const err = fround(Math.abs(fround(KVALUES_FP4[i] * d) - x));
    if (err < bestErr) (best = i), (bestErr = err);
  }
  return best;
}

/**
 * Ternary digit of x·id, `lroundf(x*id) + 1` in ggml: round half away from zero (exact in double for a
 * float32 product), +1. When absmax < ~2^-128, id = 1/absmax overflows to infinity; x86-64's lroundf
 * then returns LONG_MIN, whose +1 truncated to int is digit 1 (value 0), which is what we return too.
 */
function tritOf(x: number, id: number): number {
  const v = fround(x * id);
  if (!Number.isFinite(v)) return 1;
  return (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5)) + 1;
}

function absMax(x: Float32Array, from: number, n: number): number {
  let amax = 0;
  for (let j = 0; j < n; j++) amax = Math.max(amax, Math.abs(x[from + j]));
  return amax;
}

/** Writes a float32 block scale as half, little-endian. */
const putHalf = (y: Uint8Array, at: number, v: number) => {
  const h = fp32ToFp16(v);
  y[at] = h & 0xff;
  y[at + 1] = h >> 8;
};
const getHalf = (b: Uint8Array, at: number) => fp16ToFp32(b[at] | (b[at + 1] << 8));

/**
 * TQ1_0 block, 256 values → 54 bytes: qs[48] (240 ternary digits, 5 per byte), qh[4] (16 digits, 4 per
 * byte), half d. Digits are round(x/d)+1 ∈ {0,1,2} with d = absmax; a byte holds its base-3 number
 * (first digit most significant) scaled to ceil(q·256/243), so digit n is (byte·3^n mod 256)·3 >> 8.
 * Byte m of qs[0..32) holds values m + 32n, of qs[32..48) values 160 + (m−32) + 16n, qh[j] values 240 + j + 4n.
 */
function quantizeTQ1(x: Float32Array, xo: number, y: Uint8Array, yo: number): void {
  const d = absMax(x, xo, 256);
  const id = d ? fround(1 / d) : 0;
  const trit = (i: number) => tritOf(x[xo + i], id);
  const pack = (q: number) => Math.floor((q * 256 + 242) / 243); // ceiling division, 243 = 3^5
  for (let m = 0; m < 32; m++) {
    let q = 0;
    for (let n = 0; n < 5; n++) q = q * 3 + trit(m + n * 32);
    y[yo + m] = pack(q);
  }
  for (let m = 0; m < 16; m++) {
    let q = 0;
    for (let n = 0; n < 5; n++) q = q * 3 + trit(160 + m + n * 16);
    y[yo + 32 + m] = pack(q);
  }
  for (let j = 0; j < 4; j++) {
    let q = 0;
    for (let n = 0; n < 4; n++) q = q * 3 + trit(240 + j + n * 4);
    y[yo + 48 + j] = pack(q * 3); // the first digit goes to the most significant of 5 places
  }
  putHalf(y, yo + 52, d);
}

/** TQ2_0 block, 256 values → 66 bytes: qs[64] (2 bits per value, round(x/d)+1), half d = absmax. Byte 32h + m, bits 2n: value 128h + 32n + m. */
function quantizeTQ2(x: Float32Array, xo: number, y: Uint8Array, yo: number): void {
  const d = absMax(x, xo, 256);
  const id = d ? fround(1 / d) : 0;
  for (let h = 0; h < 2; h++)
    for (let m = 0; m < 32; m++) {
      let q = 0;
      for (let n = 0; n < 4; n++) q |= (tritOf(x[xo + 128 * h + 32 * n + m], id) & 3) << (2 * n);
      y[yo + 32 * h + m] = q;
    }
  putHalf(y, yo + 64, d);
}

/**
 * MXFP4 block, 32 values → 17 bytes: E8M0 exponent e = floor(log2 absmax) − 2 + 127, then qs[16] of
 * E2M1 codes (value j low nibble, value j + 16 high nibble of byte j); value = kvalue · 2^(e−128).
 */
function quantizeMXFP4(x: Float32Array, xo: number, y: Uint8Array, yo: number): void {
  const amax = absMax(x, xo, 32);
  // log2f rounded to float32 (Math.log2 is within an ulp of double; the float rounding is what matters at powers of 2)
  const e = amax > 0 ? (Math.floor(fround(Math.log2(amax))) - 2 + 127) & 0xff : 0;
  const d = e8m0Half(e);
  y[yo] = e;
  for (let j = 0; j < 16; j++) y[yo + 1 + j] = bestIndexFp4(x[xo + j], d) | (bestIndexFp4(x[xo + 16 + j], d) << 4);
}

/**
 * NVFP4 block, 64 values → 36 bytes: d[4] UE4M3 scales (one per 16 values, ≈ absmax/6), then qs[32]:
 * sub-block s uses bytes 8s..8s+8, value j low nibble, value j + 8 high nibble; value = kvalue · ue4m3(d)/2.
 */
function quantizeNVFP4(x: Float32Array, xo: number, y: Uint8Array, yo: number): void {
  for (let s = 0; s < 4; s++) {
    const xb = xo + 16 * s;
    const ue = fp32ToUe4m3(fround(absMax(x, xb, 16) / 6));
    y[yo + s] = ue;
    const d = ue4m3ToFp32(ue);
    for (let j = 0; j < 8; j++) y[yo + 4 + 8 * s + j] = bestIndexFp4(x[xb + j], d) | (bestIndexFp4(x[xb + 8 + j], d) << 4);
  }
}

const QUANTIZERS: Record<QuantType, (x: Float32Array, xo: number, y: Uint8Array, yo: number) => void> = {
  TQ1_0: quantizeTQ1,
  TQ2_0: quantizeTQ2,
  MXFP4: quantizeMXFP4,
  NVFP4: quantizeNVFP4,
};

function typeInfo(type: string) {
  const t = ggmlTypeByName(type);
  if (!t) throw new Error(`quantize: unknown ggml type ${type}`);
  return t;
}

/**
 * Quantizes float32 values to ggml blocks of `type`, bit-exact with ggml-quants.c
 * quantize_row_<type>_ref (what llama-quantize runs for these types).
 * `x`: values in row-major order, length a multiple of the block size (256 for TQ1_0/TQ2_0, 32 for
 * MXFP4, 64 for NVFP4; blocks run along rows, so each row's length must be a multiple too).
 * Returns x.length / blockSize blocks of typeSize bytes (54, 66, 17, 36). Throws on a bad length.
 */
export function quantize(type: QuantType, x: Float32Array): Uint8Array {
  const t = typeInfo(type);
  if (x.length % t.blockSize) throw new Error(`quantize: ${x.length} values is not a multiple of ${type}'s block of ${t.blockSize}`);
  const nb = x.length / t.blockSize;
  const y = new Uint8Array(nb * t.typeSize);
  for (let i = 0; i < nb; i++) QUANTIZERS[type](x, i * t.blockSize, y, i * t.typeSize);
  return y;
}

/**
 * Dequantizes the first `n` values (a multiple of the block size) of `bytes`, stored as ggml `type`,
 * bit-exact with gguf-py quants.py dequantize_blocks (every product there is exact in float32 anyway).
 * Returns n float32 values in storage order (row-major for a weight matrix).
 */
export function dequantize(type: DequantType, bytes: Uint8Array, n: number): Float32Array {
  const t = typeInfo(type);
  const nb = n / t.blockSize;
  if (!Number.isInteger(nb) || bytes.byteLength < nb * t.typeSize) throw new Error(`dequantize: ${n} ${type} values need ${Math.ceil(nb) * t.typeSize} bytes, have ${bytes.byteLength}`);
  const y = new Float32Array(n);
  if (type === 'F32') {
    new Uint8Array(y.buffer).set(bytes.subarray(0, 4 * n));
    return y;
  }
  for (let i = 0; i < nb; i++) {
    const b = bytes.subarray(i * t.typeSize, (i + 1) * t.typeSize);
    const o = i * t.blockSize;
    switch (type) {
      case 'Q8_0': { // half d, int8 qs[32]
        const d = getHalf(b, 0);
        for (let j = 0; j < 32; j++) y[o + j] = ((b[2 + j] << 24) >> 24) * d;
        break;
      }
      case 'TQ1_0': { // see quantizeTQ1 for the digit order
        const d = getHalf(b, 52);
        const trit = (byte: number, pow3: number) => ((((byte * pow3) & 0xff) * 3) >> 8) - 1;
        let k = o;
        for (let n5 = 0, p = 1; n5 < 5; n5++, p *= 3) for (let m = 0; m < 32; m++) y[k++] = d * trit(b[m], p);
        for (let n5 = 0, p = 1; n5 < 5; n5++, p *= 3) for (let m = 0; m < 16; m++) y[k++] = d * trit(b[32 + m], p);
        for (let n4 = 0, p = 1; n4 < 4; n4++, p *= 3) for (let j = 0; j < 4; j++) y[k++] = d * trit(b[48 + j], p);
        break;
      }
      case 'TQ2_0': {
        const d = getHalf(b, 64);
        for (let h = 0; h < 2; h++) for (let n4 = 0; n4 < 4; n4++) for (let m = 0; m < 32; m++) y[o + 128 * h + 32 * n4 + m] = d * (((b[32 * h + m] >> (2 * n4)) & 3) - 1);
        break;
      }
      case 'MXFP4': {
        const d = e8m0Half(b[0]);
        for (let j = 0; j < 16; j++) {
          y[o + j] = d * KVALUES_FP4[b[1 + j] & 15];
          y[o + 16 + j] = d * KVALUES_FP4[b[1 + j] >> 4];
        }
        break;
      }
      case 'NVFP4':
        for (let s = 0; s < 4; s++) {
          const d = ue4m3ToFp32(b[s]);
          for (let j = 0; j < 8; j++) {
            y[o + 16 * s + j] = d * KVALUES_FP4[b[4 + 8 * s + j] & 15];
            y[o + 16 * s + 8 + j] = d * KVALUES_FP4[b[4 + 8 * s + j] >> 4];
          }
        }
        break;
    }
  }
  return y;
}

/** llama.h `enum llama_ftype` value written as general.file_type for a model mostly of `type` (MXFP4 has only MOSTLY_MXFP4_MOE). */
const FILE_TYPE: Record<QuantType, number> = { TQ1_0: 36, TQ2_0: 37, MXFP4: 38, NVFP4: 39 };
const Q8_0_ID = 8;
const F32_ID = 0;

/**
 * Re-quantizes a GGUF model: every Q8_0 tensor is dequantized and quantized to `type`; all other
 * tensors (in practice F32 norms) and every metadata entry are kept as they are, in order, except
 * `general.file_type` (when present), which becomes the llama_ftype of `type` (36 TQ1_0, 37 TQ2_0,
 * 38 MOSTLY_MXFP4_MOE, 39 NVFP4) in `quantized` and 0 (ALL_F32) in `twin`.
 * `twin` is the same model with each re-quantized tensor stored as F32 holding exactly
 * dequantize(type, quantized tensor): running it is the exact reference for running `quantized`.
 * Throws Error if a Q8_0 tensor's rows (ne[0]) are not a multiple of `type`'s block size.
 */
export async function requantizeModel(src: Uint8Array, type: QuantType): Promise<{ quantized: Uint8Array; twin: Uint8Array }> {
  const { metadata, tensors, alignment } = await parseForWrite(src);
  const t = typeInfo(type);
  const qTensors: WriterTensor[] = [];
  const twinTensors: WriterTensor[] = [];
  for (const w of tensors) {
    if (w.typeId !== Q8_0_ID) {
      qTensors.push(w);
      twinTensors.push(w);
      continue;
    }
    if (w.ne[0] % t.blockSize) throw new Error(`requantizeModel: ${w.name} rows of ${w.ne[0]} are not a multiple of ${type}'s block of ${t.blockSize}`);
    const n = w.ne.reduce((a, b) => a * b, 1);
    const q = quantize(type, dequantize('Q8_0', w.data, n));
    qTensors.push({ ...w, typeId: t.id, data: q });
    twinTensors.push({ ...w, typeId: F32_ID, data: new Uint8Array(dequantize(type, q, n).buffer) });
  }
  const withFileType = (ft: number) => metadata.map((kv): GGUFKV => (kv[0] === 'general.file_type' ? [kv[0], kv[1], ft] : kv));
  return {
    quantized: writeGGUF({ metadata: withFileType(FILE_TYPE[type]), tensors: qTensors, alignment }),
    twin: writeGGUF({ metadata: withFileType(0), tensors: twinTensors, alignment }),
  };
}
