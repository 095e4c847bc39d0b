import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { SHARED_URL } from './support/browser.ts';

// Kernel tests against ../shared/quant: for each ggml type, the GPU dequantization (get_rows) must
// reproduce gguf-py's values bit for bit, and the matrix-vector product must land within 1e-5
// relative L2 of the float64 product.
const fixtures = JSON.parse(readFileSync(new URL('../../shared/quant/fixtures.json', import.meta.url), 'utf8')) as Record<
  string, Record<string, { ggml_type: string; rows: number; cols: number; dequant_file: string; matvec_file: string }>
>;
const TYPES = [
  'F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'IQ4_XS',
  'IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ3_XXS', 'IQ3_S', 'TQ1_0', 'TQ2_0', 'MXFP4', 'NVFP4',
];

test.beforeEach(async ({ page }) => {
  await page.goto('/test/harness.html');
  await page.waitForFunction(() => (window as any).harnessReady === true);
});

for (const type of TYPES) {
  test(`${type}: exact dequantization and matvec within 1e-5`, async ({ page }) => {
    // q-F32.gguf is the source the others were quantized from: no fixture files; its exact values
    // are its own bytes and its reference product is computed here in float64.
    const tensors = type === 'F32'
      ? Object.entries(fixtures['q-F16']).map(([n, f]) => [n, { ...f, ggml_type: 'F32', dequant_file: '', matvec_file: '' }] as const)
      : Object.entries(fixtures[`q-${type}`]);
    const result = await page.evaluate(
      async ({ shared, type, tensors }) => {
        const { requestGPUDevice, readGGUF, openByteSource, Kernels } = (window as any).ls;
        const device: GPUDevice = await requestGPUDevice();
        const src = await openByteSource(`${shared}/quant/q-${type}.gguf`);
        const gguf = await readGGUF(src);
        const fetchF32 = async (f: string) => new Float32Array(await (await fetch(`${shared}/quant/${f}`)).arrayBuffer());
        const out: any[] = [];
        for (const [name, fx] of tensors as any[]) {
          const info = gguf.tensorByName.get(name);
          const bytes: Uint8Array = await src.read(info.offset, info.nBytes);
          const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
          padded.set(bytes);
          const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
          const wbuf = device.createBuffer({ size: padded.length, usage });
          device.queue.writeBuffer(wbuf, 0, padded);
          const n = fx.rows * fx.cols;
          const dq = device.createBuffer({ size: n * 4, usage });
          const k = new Kernels(device);
          const rowBytes = info.nBytes / fx.rows;
          k.getRows({ buffer: dq }, { buffer: wbuf }, info.type.name, fx.rows, fx.cols, rowBytes);
          const x = await fetchF32(fx.cols === 512 ? 'x512.f32' : 'x256.f32');
          const xbuf = device.createBuffer({ size: x.byteLength, usage });
          device.queue.writeBuffer(xbuf, 0, x);
          // both matmul variants: workgroup reduction (GPUs) and row per invocation (CPU WebGPU)
          const ybuf = device.createBuffer({ size: fx.rows * 4, usage });
          const ybuf2 = device.createBuffer({ size: fx.rows * 4, usage });
          const weight = { name, type: info.type.name, cols: fx.cols, rows: fx.rows, rowBytes, pieces: [{ view: { buffer: wbuf }, row0: 0, rows: fx.rows }] };
          k.setStep(1, 0, 0, 1);
          k.matmul({ buffer: ybuf }, weight, { buffer: xbuf });
          k.recorder.flush();
          const k2 = new Kernels(device, true);
          k2.setStep(1, 0, 0, 1);
          k2.matmul({ buffer: ybuf2 }, weight, { buffer: xbuf });
          k2.recorder.flush();
          const read = async (b: GPUBuffer, size: number) => {
            const s = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
            const e = device.createCommandEncoder();
            e.copyBufferToBuffer(b, 0, s, 0, size);
            device.queue.submit([e.finish()]);
            await s.mapAsync(GPUMapMode.READ);
            return new Float32Array(s.getMappedRange().slice(0));
          };
          const got = await read(dq, n * 4);
          const want = fx.dequant_file ? await fetchF32(fx.dequant_file) : new Float32Array(bytes.slice().buffer);
          const gotU = new Uint32Array(got.buffer);
          const wantU = new Uint32Array(want.buffer);
          let mismatches = 0;
          let firstBad = -1;
          for (let i = 0; i < n; i++) if (gotU[i] !== wantU[i] && !(got[i] === 0 && want[i] === 0)) { mismatches++; if (firstBad < 0) firstBad = i; }
          const ys = [await read(ybuf, fx.rows * 4), await read(ybuf2, fx.rows * 4)];
          const ref = fx.matvec_file ? await fetchF32(fx.matvec_file) : new Float32Array(fx.rows).map((_, r) => {
            let acc = 0;
            for (let c = 0; c < fx.cols; c++) acc += want[r * fx.cols + c] * x[c];
            return acc;
          });
          const relL2 = ys.map((y) => {
            let num = 0, den = 0;
            for (let i = 0; i < fx.rows; i++) { num += (y[i] - ref[i]) ** 2; den += ref[i] ** 2; }
            return Math.sqrt(num / den);
          });
          out.push({ name, n, mismatches, firstBad, got: got[firstBad], want: want[firstBad], relL2 });
        }
        return out;
      },
      { shared: SHARED_URL, type, tensors },
    );
    expect(result.length).toBe(2);
    for (const r of result) {
      expect(r.mismatches, `${r.name}: first mismatch at ${r.firstBad}: got ${r.got}, want ${r.want}`).toBe(0);
      expect(r.relL2[0], `${r.name} (workgroup reduction)`).toBeLessThan(1e-5);
      expect(r.relL2[1], `${r.name} (row per invocation)`).toBeLessThan(1e-5);
    }
  });
}

test('kvStore: f32 rows copied exactly; q8_0 blocks as ggml quantize_row_q8_0_ref (d = amax/127, q = roundf(x/d))', async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { requestGPUDevice, Kernels } = (window as any).ls;
    const device: GPUDevice = await requestGPUDevice();
    const T = 3, width = 64, ctx = 8, pos0 = 2;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const x = new Float32Array(T * width).map((_, i) => rand() * (i % 32 === 5 ? 9 : 1)); // an outlier per block
    x.fill(0, 32, 64); // an all-zero block: d = 0, q = 0
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const xbuf = device.createBuffer({ size: x.byteLength, usage });
    device.queue.writeBuffer(xbuf, 0, x);
    const f32Cache = device.createBuffer({ size: ctx * width * 4, usage });
    const q8Cache = device.createBuffer({ size: ctx * (width / 32) * 36, usage });
    const k = new Kernels(device);
    k.setStep(T, pos0, 0, 1);
    k.kvStore({ buffer: f32Cache }, { buffer: xbuf }, width, 'f32');
    k.kvStore({ buffer: q8Cache }, { buffer: xbuf }, width, 'q8_0');
    k.recorder.flush();
    const read = async (b: GPUBuffer) => {
      const s = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const e = device.createCommandEncoder();
      e.copyBufferToBuffer(b, 0, s, 0, b.size);
      device.queue.submit([e.finish()]);
      await s.mapAsync(GPUMapMode.READ);
      return s.getMappedRange().slice(0);
    };
    const f = new Float32Array(await read(f32Cache));
    const q = await read(q8Cache);
    const copyExact = Array.from(x).every((v, i) => Object.is(f[pos0 * width + i], v)) && f.slice(0, pos0 * width).every((v) => v === 0);
    let dBad = 0, qOff = 0, qFar = 0;
    const nb = width / 32;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < nb; b++) {
        const o = ((pos0 + t) * nb + b) * 36;
        const d = new Float32Array(q, o, 1)[0];
        const qs = new Int8Array(q, o + 4, 32);
        const xs = x.subarray(t * width + b * 32, t * width + b * 32 + 32);
        const amax = Math.max(...Array.from(xs, Math.abs));
        const dRef = Math.fround(amax / 127);
        if (Math.abs(d - dRef) > 1e-6 * dRef) dBad++;
        for (let j = 0; j < 32; j++) {
          const v = dRef ? xs[j] / dRef : 0;
          const qRef = Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
          if (qs[j] !== qRef) qOff++;
          if (Math.abs(qs[j] - qRef) > 1) qFar++;
        }
      }
    }
    return { copyExact, dBad, qOff, qFar, n: T * width };
  });
  expect(r.copyExact).toBe(true);
  expect(r.dBad).toBe(0);
  expect(r.qFar).toBe(0);
  // WGSL division is not correctly rounded (2.5 ULP), so a value on a .5 boundary may round the other way
  expect(r.qOff).toBeLessThanOrEqual(2);
});
