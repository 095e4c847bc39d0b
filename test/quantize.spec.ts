import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readGGUF, type GGUFFile } from '../src/gguf/gguf.ts';
import { MemorySource } from '../src/storage/byte-source.ts';
import { dequantize, fp16ToFp32, fp32ToFp16, quantize, requantizeModel, type QuantType } from './support/quantize.ts';

// Node-side quantizers (test/support/quantize.ts) against llama.cpp's own output: q-T.gguf is
// `llama-quantize --pure` of q-F32.gguf, q-T.<tensor>.dequant.f32 gguf-py's dequantization of it
// (../shared/quant/README.md). For all four types llama-quantize runs the _ref quantizer
// (ggml.c ggml_quantize_chunk → quantize_T → quantize_row_T_ref, importance matrix unused).

const shared = new URL('../../shared/', import.meta.url);
const file = (p: string) => new Uint8Array(readFileSync(new URL(p, shared)));
const TYPES: QuantType[] = ['TQ1_0', 'TQ2_0', 'MXFP4', 'NVFP4'];
const TENSORS = ['blk.0.ffn_up.weight', 'blk.0.attn_q.weight'];

const parse = (bytes: Uint8Array, name: string) => readGGUF(new MemorySource(bytes, name));
const dataOf = (bytes: Uint8Array, g: GGUFFile, name: string) => {
  const t = g.tensorByName.get(name)!;
  return bytes.subarray(t.offset, t.offset + t.nBytes);
};
const asBytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** Index of the first differing byte (or length mismatch), -1 when equal: a failing test says where. */
const firstDiff = (a: Uint8Array, b: Uint8Array) => {
  if (a.byteLength !== b.byteLength) return Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return i;
  return -1;
};
const nElems = (ne: readonly number[]) => ne.reduce((a, b) => a * b, 1);
const relL2 = (x: Float32Array, ref: Float32Array) => {
  let e = 0, r = 0;
  for (let i = 0; i < x.length; i++) (e += (x[i] - ref[i]) ** 2), (r += ref[i] ** 2);
  return Math.sqrt(e / r);
};

test('fp32ToFp16 rounds to nearest even and round-trips every half', () => {
  const bad: number[] = [];
  for (let h = 0; h < 0x10000; h++) {
    const nan = (h & 0x7c00) === 0x7c00 && h & 0x3ff;
    if (!nan && fp32ToFp16(fp16ToFp32(h)) !== h) bad.push(h);
  }
  expect(bad).toEqual([]);
  expect(fp32ToFp16(1 + 2 ** -11)).toBe(0x3c00); // halfway: to even (down)
  expect(fp32ToFp16(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway: to even (up)
  expect(fp32ToFp16(65520)).toBe(0x7c00); // rounds past the largest half: infinity
  expect(fp32ToFp16(2 ** -25)).toBe(0); // halfway to the smallest subnormal: to even (zero)
});

test('dequantize Q8_0 (what requantizeModel reads) matches gguf-py bit for bit', async () => {
  const bytes = file('quant/q-Q8_0.gguf');
  const g = await parse(bytes, 'q-Q8_0');
  for (const name of TENSORS) {
    const y = dequantize('Q8_0', dataOf(bytes, g, name), nElems(g.tensorByName.get(name)!.ne));
    expect(firstDiff(asBytes(y), file(`quant/q-Q8_0.${name}.dequant.f32`)), name).toBe(-1);
  }
});

for (const type of TYPES) {
  test(`${type}: dequantize matches gguf-py and quantize matches llama-quantize, bit for bit`, async () => {
    const src = file('quant/q-F32.gguf');
    const srcG = await parse(src, 'q-F32');
    const bytes = file(`quant/q-${type}.gguf`);
    const g = await parse(bytes, `q-${type}`);
    for (const name of TENSORS) {
      const t = g.tensorByName.get(name)!;
      expect(t.type.name).toBe(type);
      const n = nElems(t.ne);
      const stored = dataOf(bytes, g, name);
      const y = dequantize(type, stored, n);
      expect(firstDiff(asBytes(y), file(`quant/q-${type}.${name}.dequant.f32`)), `${type} ${name} dequant`).toBe(-1);
      const x = dequantize('F32', dataOf(src, srcG, name), n);
      expect(firstDiff(quantize(type, x), stored), `${type} ${name} quantize`).toBe(-1);
    }
  });
}

// Corner cases the fixtures do not reach; expected bytes are from ggml-quants.c's _ref functions built
// with gcc on x86-64 (glibc log2f).
test('quantize corner cases match ggml: float32 log2f, UE4M3 saturation / subnormal / carry, infinite 1/absmax', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  // MXFP4: log2(2^-4·(1−2^-24)) = −4 − 8.6e-8 rounds to −4 in float32, so e = −4 − 2 + 127 = 121 (not 120).
  const mx = new Float32Array(32);
  mx[0] = 2 ** -4 * (1 - 2 ** -24);
  expect(hex(quantize('MXFP4', mx))).toBe('7906' + '00'.repeat(15));
  // NVFP4 sub-blocks: absmax/6 > 448 saturates to 0x7E; 3·2^-9 is UE4M3 subnormal 3; all zeros; 1.9375 carries to 2.0 (0x40).
  const nv = new Float32Array(64);
  [nv[0], nv[1], nv[8]] = [6000, -3000, 100];
  [nv[16], nv[17]] = [6 * 3 * 2 ** -9, -6 * 2 ** -9];
  [nv[48], nv[49], nv[56]] = [1.9375 * 6, -3, 0.75];
  expect(hex(quantize('NVFP4', nv))).toBe('7e030040' + '070f' + '00'.repeat(6) + '070c' + '00'.repeat(14) + '170b' + '00'.repeat(6));
  // TQ: absmax 1e-40 makes 1/d infinite; every digit is then 1 (value 0), as x86-64's lroundf gives, and d rounds to half 0.
  const tq = new Float32Array(256);
  [tq[0], tq[1]] = [1e-40, -3e-41];
  expect(hex(quantize('TQ1_0', tq))).toBe('80'.repeat(48) + '7f'.repeat(4) + '0000');
  expect(hex(quantize('TQ2_0', tq))).toBe('55'.repeat(64) + '0000');
});

test('quantize rejects a length that is not a whole number of blocks', () => {
  expect(() => quantize('MXFP4', new Float32Array(48))).toThrow(/multiple of MXFP4's block of 32/);
  expect(() => quantize('TQ1_0', new Float32Array(128))).toThrow(/block of 256/);
});

test.describe('requantizeModel on synth-llama-Q8_0', () => {
  // Per-tensor relative L2 error of the re-quantized weights against the Q8_0 ones. Ternary with
  // d = absmax never errs by more than |x| per value (so < 1 overall); the FP4 types are 4-bit floats.
  const MAX_REL_ERR: Record<QuantType, number> = { TQ1_0: 1, TQ2_0: 1, MXFP4: 0.2, NVFP4: 0.15 };
  for (const type of TYPES) {
    test(`${type}: readable files, expected types and sizes, twin = dequantize(quantized)`, async () => {
      const src = file('models/synth-llama-Q8_0.gguf');
      const sg = await parse(src, 'src');
      const { quantized, twin } = await requantizeModel(src, type);
      const qg = await parse(quantized, `quantized ${type}`);
      const tg = await parse(twin, `twin ${type}`);
      const block = qg.tensors.find((t) => t.type.name === type)!.type;

      for (const g of [qg, tg]) {
        const want = g === qg ? { TQ1_0: 36, TQ2_0: 37, MXFP4: 38, NVFP4: 39 }[type] : 0;
        expect(g.metadata.get('general.file_type')).toBe(want);
        expect([...g.metadata.keys()]).toEqual([...sg.metadata.keys()]);
        for (const [k, v] of sg.metadata) if (k !== 'general.file_type') expect(g.metadata.get(k), k).toEqual(v);
        expect(g.tensors.map((t) => [t.name, t.ne])).toEqual(sg.tensors.map((t) => [t.name, t.ne]));
      }
      const counts: Record<string, number> = {};
      for (const t of qg.tensors) counts[t.type.name] = (counts[t.type.name] ?? 0) + 1;
      expect(counts).toEqual({ [type]: 29, F32: 9 });
      expect(tg.tensors.every((t) => t.type.name === 'F32')).toBe(true);

      for (const s of sg.tensors) {
        const q = qg.tensorByName.get(s.name)!, tw = tg.tensorByName.get(s.name)!;
        const n = nElems(s.ne);
        expect(tw.nBytes).toBe(4 * n);
        if (s.type.name === 'F32') {
          expect(q.type.name).toBe('F32');
          expect(firstDiff(dataOf(quantized, qg, s.name), dataOf(src, sg, s.name)), s.name).toBe(-1);
          expect(firstDiff(dataOf(twin, tg, s.name), dataOf(src, sg, s.name)), s.name).toBe(-1);
          continue;
        }
        expect(q.nBytes).toBe((n / block.blockSize) * block.typeSize);
        const deq = dequantize(type, dataOf(quantized, qg, s.name), n);
        expect(firstDiff(dataOf(twin, tg, s.name), asBytes(deq)), `twin ${s.name}`).toBe(-1);
        const err = relL2(deq, dequantize('Q8_0', dataOf(src, sg, s.name), n));
        expect(err, `${s.name} relative error`).toBeLessThan(MAX_REL_ERR[type]);
      }
    });
  }
});
