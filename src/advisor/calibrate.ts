import { EngineCore } from '../engine/engine.ts';
import { memoryPlan } from '../engine/memory-plan.ts';
import { planResidency } from '../engine/residency.ts';
import { readGGUF } from '../gguf/gguf.ts';
import { isCpuAdapter, requestGPUDevice } from '../gpu/device.ts';
import { Kernels, type WeightRef } from '../gpu/kernels.ts';
import { Readback } from '../gpu/readback.ts';
import { GPU_TYPES } from '../gpu/shaders.ts';
import { MemorySource } from '../storage/byte-source.ts';
import { predictDecode, streamedPerToken, type Calibration } from './advise.ts';
import { modelShape } from './model-shape.ts';

/**
 * The short measurement the memory-fit advisor predicts speed from (advise.ts Calibration), on the
 * engine's own kernels (8.1 s on SwiftShader with the engine runs of measureEngineCosts:
 * bench/results-advisor.md; not yet measured on a GPU). Runs wherever a GPUDevice is (the advisor
 * worker); the UI caches the result in IndexedDB with its date.
 */

const MiB = 1 << 20;
/** ggml types whose decode matvec is timed: the common legacy and k-quant kernels (others map to these) */
export const CALIBRATED_TYPES = ['Q8_0', 'Q4_K'] as const;

/** Runs `work` (which records and submits GPU work) until `minMs` have passed or `maxReps` reps; returns ms per rep. */
async function timeReps(device: GPUDevice, work: () => void, minMs: number, maxReps: number): Promise<number> {
  work(); // warm-up: pipelines, bind groups
  await device.queue.onSubmittedWorkDone();
  let reps = 0;
  const t0 = performance.now();
  while (reps < maxReps && (reps === 0 || performance.now() - t0 < minMs)) {
    work();
    await device.queue.onSubmittedWorkDone();
    reps++;
  }
  return (performance.now() - t0) / reps;
}

/**
 * A weight matrix of `rows` × `cols` in ggml type `type` with valid block scales (f16 1.0 in every
 * block's first half-word, random quants), uploaded to a new buffer. Block layout: ggml-common.h
 * (block_q8_0: f16 d + 32 × int8; block_q4_K: f16 d, f16 dmin, 12 scale bytes, 128 quant bytes).
 */
function generatedMatrix(device: GPUDevice, type: string, rows: number, cols: number): WeightRef {
  const t = GPU_TYPES[type];
  const rowBytes = (cols / t.blockElems) * t.blockBytes;
  const bytes = new Uint8Array(rows * rowBytes);
  let s = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = s & 0xff;
  }
  const f16One = 0x3c00;
  for (let b = 0; b < bytes.length; b += t.blockBytes) {
    bytes[b] = f16One & 0xff;
    bytes[b + 1] = f16One >> 8;
    if (type === 'Q4_K') {
      bytes[b + 2] = f16One & 0xff;
      bytes[b + 3] = f16One >> 8;
    }
  }
  const buffer = device.createBuffer({ label: `calibration ${type}`, size: bytes.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, bytes);
  return { name: `calibration.${type}`, type, cols, rows, rowBytes, pieces: [{ view: { buffer }, row0: 0, rows }] };
}

/** Bytes per second of reading an OPFS file through a sync access handle (dedicated workers only), or null. */
async function storageReadRate(bytes: number): Promise<number | null> {
  const root = await navigator.storage?.getDirectory?.().catch(() => null);
  if (!root) return null;
  const name = 'layerstream-calibration.tmp';
  try {
    const file = await root.getFileHandle(name, { create: true });
    const h = await (file as FileSystemFileHandle & { createSyncAccessHandle(): Promise<FileSystemSyncAccessHandle> }).createSyncAccessHandle();
    try {
      const chunk = new Uint8Array(4 * MiB).fill(7);
      for (let at = 0; at < bytes; at += chunk.byteLength) h.write(chunk, { at });
      h.flush();
      const t0 = performance.now();
      for (let at = 0; at < bytes; at += chunk.byteLength) h.read(chunk, { at });
      return bytes / ((performance.now() - t0) / 1000);
    } finally {
      h.close();
    }
  } catch {
    return null;
  } finally {
    await root.removeEntry(name).catch(() => {});
  }
}

/**
 * Measures this device (see Calibration): upload rate (writeBuffer of 16 MiB chunks), decode matvec
 * rate per CALIBRATED_TYPES over a generated 4096-column matrix of ~16 MiB, the cost of one more
 * dispatch (256 matvecs of 4 × 32 in one pass), a GPU round trip (submit + map of 16 bytes, median of 9)
 * and the OPFS read rate. The caller owns `device` (the advisor worker makes one for this and destroys it after: the kernel library's buffers go with it).
 */
export async function calibrate(device: GPUDevice, adapterText: string): Promise<Calibration> {
  const cpu = isCpuAdapter(device);
  const k = new Kernels(device, cpu);
  const made: GPUBuffer[] = [];
  const buf = (bytes: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC) => {
    const b = device.createBuffer({ size: bytes, usage });
    made.push(b);
    return b;
  };
  try {
    // upload: 16 MiB chunks, 4 per rep
    const chunk = new Uint8Array(16 * MiB).fill(1);
    const target = buf(chunk.byteLength);
    const uploadMs = await timeReps(device, () => {
      for (let i = 0; i < 4; i++) device.queue.writeBuffer(target, 0, chunk);
    }, 300, 8);
    const uploadBytesPerSec = (4 * chunk.byteLength) / (uploadMs / 1000);

    const cols = 4096;
    const x = buf(cols * 4);
    device.queue.writeBuffer(x, 0, new Float32Array(cols).fill(0.01));
    const matvecBytesPerSec: Record<string, number> = {};
    for (const type of CALIBRATED_TYPES) {
      const t = GPU_TYPES[type];
      const rowBytes = (cols / t.blockElems) * t.blockBytes;
      const rows = Math.floor((16 * MiB) / rowBytes);
      const w = generatedMatrix(device, type, rows, cols);
      made.push(w.pieces[0].view.buffer);
      const y = buf(rows * 4);
      const ms = await timeReps(device, () => {
        k.setStep(1, 0, 0, 1);
        k.matmul({ buffer: y }, w, { buffer: x });
        k.recorder.flush();
      }, cpu ? 600 : 200, 16);
      matvecBytesPerSec[type] = (rows * rowBytes) / (ms / 1000);
    }

    // dispatch cost: many tiny matvecs (4 × 32, one Q8_0 block a row) in one pass, so the
    // per-dispatch overhead is what is timed
    const tiny = generatedMatrix(device, 'Q8_0', 4, 32);
    made.push(tiny.pieces[0].view.buffer);
    const ty = buf(4 * 4);
    const N = 256;
    const tinyMs = await timeReps(device, () => {
      k.setStep(1, 0, 0, 1);
      for (let i = 0; i < N; i++) k.matmul({ buffer: ty }, tiny, { buffer: x });
      k.recorder.flush();
    }, 200, 8);
    const dispatchMs = tinyMs / N;

    // round trip: submit + map, as the engine reads logits and routers back
    const rb = new Readback(device);
    rb.reserve(16);
    const small = buf(16);
    const trips: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await rb.read(small, 0, 16);
      if (i > 0) trips.push(performance.now() - t0);
    }
    trips.sort((a, b) => a - b);
    const roundTripMs = trips[Math.floor(trips.length / 2)];

    const storageReadBytesPerSec = await storageReadRate(32 * MiB);
    return { measuredAt: new Date().toISOString(), adapter: adapterText, uploadBytesPerSec, matvecBytesPerSec, dispatchMs, roundTripMs, storageReadBytesPerSec };
  } finally {
    for (const b of made) b.destroy();
  }
}

/** Decode tok/s of `bytes` (a small GGUF) loaded with `o`, over `tokens` greedy tokens after a warm-up. */
async function decodeRate(bytes: Uint8Array, o: { gpuBudgetBytes?: number; ramBudgetBytes?: number }, tokens: number): Promise<number> {
  const source = new MemorySource(bytes, 'calibration model');
  const device = await requestGPUDevice();
  const engine = await EngineCore.load({ source, gguf: await readGGUF(source) }, device, { ...o, contextLength: 64 });
  try {
    const prompt = engine.tokenizer.tokenize('Once upon a time', { addSpecial: true });
    for await (const _ of engine.generate({ tokens: prompt, maxTokens: 4, temperature: 0 })) { /* warm-up */ }
    for await (const _ of engine.generate({ tokens: prompt, maxTokens: tokens, temperature: 0, reuseCache: false })) { /* measured */ }
    return engine.stats().decodeTokensPerSecond;
  } finally {
    engine.dispose(); // destroys its device
  }
}

/**
 * Two figures measured with the real engine on a small model (the app's embedded stories260K, whose
 * decode is nearly all fixed cost): the cost of one dispatch on the engine's own code path (its
 * resident decode time less the predicted matvec and round-trip time, over the dispatches a token
 * runs — the generated-matrix figure of `c` is a lower bound that misses the recording and binding
 * work of a real pass), and the cost of streaming one weight group beyond its upload (the model with
 * a third of its weights resident and the rest streamed from the RAM tier, so no storage reads; the
 * difference over the groups a token streams). On a CPU adapter both are far above a GPU's: each
 * streamed group is a submit the device finishes before its pool slot is refilled.
 */
export async function measureEngineCosts(bytes: Uint8Array, adapter: { maxStorageBufferBindingSize: number; maxBufferSize: number; minStorageBufferOffsetAlignment: number; cpuFallback: boolean }, c: Calibration): Promise<{ dispatchMs: number; streamGroupMs: number }> {
  const source = new MemorySource(bytes, 'calibration model');
  const shape = modelShape(await readGGUF(source), () => true, bytes.byteLength);
  const maxBinding = Math.min(adapter.maxStorageBufferBindingSize, adapter.maxBufferSize);
  const planAt = (budget: number) => {
    const m = memoryPlan({ ...shape.memory, contextLength: 64, maxStorageBufferBindingSize: adapter.maxStorageBufferBindingSize, minStorageBufferOffsetAlignment: adapter.minStorageBufferOffsetAlignment });
    return { m, plan: planResidency(shape.uses, { budgetBytes: budget, reserved: m.reserved, maxBindingBytes: maxBinding, align: adapter.minStorageBufferOffsetAlignment, nUnits: shape.nLayers + 1 }) };
  };
  const all = planAt(Number.MAX_SAFE_INTEGER);
  const reservedBytes = Object.values(all.m.reserved).reduce((x, y) => x + y, 0);
  const budget = reservedBytes + Math.round(shape.weightBytes / 3);
  const third = planAt(budget).plan;
  const tokens = 12;
  const tResident = 1000 / (await decodeRate(bytes, {}, tokens));
  const p = predictDecode(shape, all.plan, 0, { ...c, dispatchMs: 0 }, maxBinding);
  const dispatchMs = Math.max(c.dispatchMs, (tResident - p.matvecMs - p.roundTripMs) / p.dispatches);
  const { bytes: streamed, groups } = streamedPerToken(shape, third);
  if (!groups) return { dispatchMs, streamGroupMs: 0 };
  const tStreamed = 1000 / (await decodeRate(bytes, { gpuBudgetBytes: budget, ramBudgetBytes: bytes.byteLength }, tokens));
  return { dispatchMs, streamGroupMs: Math.max(0, (tStreamed - tResident - (streamed / c.uploadBytesPerSec) * 1000) / groups) };
}
