import { test, expect } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { advise, ramTierAvailable, type Calibration, type DeviceFigures } from '../src/advisor/advise.ts';
import { modelShape, type ModelShape } from '../src/advisor/model-shape.ts';
import { readGGUF } from '../src/gguf/gguf.ts';
import { MemorySource } from '../src/storage/byte-source.ts';
import { fitSummary, predictionCheck, quickFit } from '../src/ui/fit-summary.ts';
import { modelBase } from '../src/ui/advisor-state.ts';
import { GENERATED_DIR, GENERATED_URL, SHARED_URL } from './support/browser.ts';
import { parseForWrite, writeGGUF } from './support/gguf-writer.ts';
import { openHarness } from './support/engine-page.ts';
import { scaledHeader } from './support/scaled-header.ts';

// The memory-fit advisor (src/advisor): pure planning over generated headers of real model shapes
// in Node, and in the browser its plans against what the engine then really allocates and does.

const shared = new URL('../../shared/models/', import.meta.url);
const MiB = 1 << 20;
const GiB = 1024 * MiB;
const allTypes = () => true;

/** A discrete-GPU-like device: 16 GiB RAM reported, 2 GiB bindings. */
const GPU: DeviceFigures = {
  maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 2 * GiB - 4, minStorageBufferOffsetAlignment: 256, cpuFallback: false,
  deviceMemoryGiB: 16, storage: { quotaBytes: 100 * GiB, usageBytes: 0 },
};
const CAL: Calibration = {
  measuredAt: '2026-12-02T00:00:00.000Z', adapter: 'test', uploadBytesPerSec: 8e9, matvecBytesPerSec: { Q8_0: 200e9, Q4_K: 150e9 },
  dispatchMs: 0.01, roundTripMs: 0.2, storageReadBytesPerSec: 2e9,
};

/** Shapes of well-known models, generated from a shared model of the same architecture (tokenizer and tensor types kept). */
const SHAPES: Record<string, { base: string; o: Record<string, number> }> = {
  'llama 1B (Llama-3.2-1B shape)': { base: 'synth-llama3-Q4_K_M.gguf', o: { 'llama.block_count': 16, 'llama.embedding_length': 2048, 'llama.feed_forward_length': 8192, 'llama.attention.head_count': 32, 'llama.attention.head_count_kv': 8, 'llama.rope.dimension_count': 64, 'llama.context_length': 131072 } },
  'llama 8B (Llama-3.1-8B shape)': { base: 'synth-llama3-Q4_K_M.gguf', o: { 'llama.block_count': 32, 'llama.embedding_length': 4096, 'llama.feed_forward_length': 14336, 'llama.attention.head_count': 32, 'llama.attention.head_count_kv': 8, 'llama.rope.dimension_count': 128, 'llama.context_length': 131072 } },
  'llama 70B (Llama-3.1-70B shape)': { base: 'synth-llama3-Q4_K_M.gguf', o: { 'llama.block_count': 80, 'llama.embedding_length': 8192, 'llama.feed_forward_length': 28672, 'llama.attention.head_count': 64, 'llama.attention.head_count_kv': 8, 'llama.rope.dimension_count': 128, 'llama.context_length': 131072 } },
  'qwen3moe 30B-A3B shape': { base: 'synth-qwen3moe-Q4_K_M.gguf', o: { 'qwen3moe.block_count': 48, 'qwen3moe.embedding_length': 2048, 'qwen3moe.feed_forward_length': 6144, 'qwen3moe.attention.head_count': 32, 'qwen3moe.attention.head_count_kv': 4, 'qwen3moe.expert_count': 128, 'qwen3moe.expert_used_count': 8, 'qwen3moe.expert_feed_forward_length': 768, 'qwen3moe.context_length': 40960 } },
  'qwen35 hybrid 9B-like shape': { base: 'synth-qwen35-Q4_K_M.gguf', o: { 'qwen35.block_count': 32, 'qwen35.embedding_length': 4096, 'qwen35.feed_forward_length': 12288, 'qwen35.attention.head_count': 16, 'qwen35.attention.head_count_kv': 4, 'qwen35.attention.key_length': 256, 'qwen35.attention.value_length': 256, 'qwen35.rope.dimension_count': 64, 'qwen35.ssm.state_size': 128, 'qwen35.ssm.group_count': 16, 'qwen35.ssm.time_step_rank': 32, 'qwen35.ssm.inner_size': 4096, 'qwen35.context_length': 262144 } },
};

const shapes = new Map<string, ModelShape>();
async function shapeOf(name: string): Promise<ModelShape> {
  if (!shapes.has(name)) {
    const s = SHAPES[name];
    const { gguf, fileBytes } = await scaledHeader(new URL(s.base, shared), s.o);
    shapes.set(name, modelShape(gguf, allTypes, fileBytes));
  }
  return shapes.get(name)!;
}

test.describe('advisor on generated headers (Node)', () => {
  test('shapes read from generated headers have the parameter counts of the real models', async () => {
    // vocab stays the shared model's (50257 / 32256 tokens), so counts sit a little under the real models'
    const expected: Record<string, [number, number]> = {
      'llama 1B (Llama-3.2-1B shape)': [0.9e9, 1.5e9],
      'llama 8B (Llama-3.1-8B shape)': [6.5e9, 8.1e9],
      'llama 70B (Llama-3.1-70B shape)': [65e9, 71e9],
      'qwen3moe 30B-A3B shape': [28e9, 31.5e9],
      'qwen35 hybrid 9B-like shape': [5e9, 12e9],
    };
    for (const [name, [lo, hi]] of Object.entries(expected)) {
      const s = await shapeOf(name);
      expect(s.nParams, name).toBeGreaterThan(lo);
      expect(s.nParams, name).toBeLessThan(hi);
      expect(s.weightBytes, name).toBeLessThan(s.fileBytes);
    }
  });

  test('K/V cache and state: the formulas of the architecture (f32 and q8_0, hybrid layers only)', async () => {
    const l8 = await shapeOf('llama 8B (Llama-3.1-8B shape)');
    const p = advise(l8, GPU, { gpuBudgetBytes: 64 * GiB, contextLength: 8192 });
    // 2 (K, V) × 32 layers × 8192 tokens × 8 kv heads × 128 × 4 bytes
    expect(p.kvCacheBytes.f32).toBe(2 * 32 * 8192 * 8 * 128 * 4);
    expect(p.kvCacheBytes.q8_0).toBe(2 * 32 * 8192 * ((8 * 128) / 32) * 36);
    expect(p.stateBytes).toBe(0);
    const hy = await shapeOf('qwen35 hybrid 9B-like shape');
    const ph = advise(hy, GPU, { gpuBudgetBytes: 64 * GiB, contextLength: 4096 });
    // full attention every 4th layer: 8 of 32 layers keep K and V
    expect(ph.kvCacheBytes.f32).toBe(2 * 8 * 4096 * 4 * 256 * 4);
    expect(ph.stateBytes).toBeGreaterThan(0);
    // the state does not grow with the context
    expect(advise(hy, GPU, { gpuBudgetBytes: 64 * GiB, contextLength: 32768 }).stateBytes).toBe(ph.stateBytes);
  });

  test('1B resident on a 4 GiB budget; 70B streams, with the RAM tier and a slower prediction', async () => {
    const dev = { ...GPU, calibration: CAL };
    const small = advise(await shapeOf('llama 1B (Llama-3.2-1B shape)'), dev, { gpuBudgetBytes: 4 * GiB });
    expect(small.asked.streamedBytesPerToken).toBe(0);
    expect(small.asked.residentShare).toBe(1);
    expect(small.recommendation.kind).toBe('resident');
    const big = advise(await shapeOf('llama 70B (Llama-3.1-70B shape)'), dev, { gpuBudgetBytes: 8 * GiB });
    expect(big.asked.error).toBeUndefined();
    expect(big.asked.streamedBytesPerToken).toBeGreaterThan(30 * GiB);
    expect(big.asked.residentShare).toBeLessThan(0.2);
    expect(big.recommendation.kind).toBe('streaming');
    // 16 GiB × 0.75 − 8 GiB − 1 GiB = 3 GiB of RAM tier
    expect(big.ramAvailableBytes).toBe(ramTierAvailable(dev, 8 * GiB));
    expect(big.ramAvailableBytes).toBe(3 * GiB);
    expect(big.asked.ramTierBytes).toBe(3 * GiB);
    expect(big.asked.prediction!.tokensPerSecond).toBeLessThan(small.asked.prediction!.tokensPerSecond / 20);
    // streaming dominates: time ≥ streamed bytes / upload rate
    expect(big.asked.prediction!.msPerToken).toBeGreaterThanOrEqual((big.asked.streamedBytesPerToken / CAL.uploadBytesPerSec) * 1000);
  });

  test('the recommendation follows the hierarchy: larger quant resident, then q8_0 K/V, then shorter context, then streaming', async () => {
    const l8 = await shapeOf('llama 8B (Llama-3.1-8B shape)');
    const dev = { ...GPU, calibration: CAL };
    const resident = advise(l8, dev, { gpuBudgetBytes: 64 * GiB, contextLength: 2048 });
    const need = resident.asked.residentBytes + resident.asked.reservedBytes;
    // a larger sibling that fits is recommended over this file
    const sibs = [{ model: 'https://x/Q8_0.gguf', label: 'Q8_0', quant: 'Q8_0', bytes: l8.fileBytes + 2 * GiB }, { model: 'https://x/Q2_K.gguf', label: 'Q2_K', quant: 'Q2_K', bytes: l8.fileBytes - 2 * GiB }];
    const larger = advise(l8, dev, { gpuBudgetBytes: need + 3 * GiB, contextLength: 2048, siblings: sibs });
    expect(larger.recommendation.kind).toBe('larger-quant');
    expect(larger.recommendation.model).toBe('https://x/Q8_0.gguf');
    // just short of fitting with an f32 cache at 16K, but fits with q8_0
    const at16k = advise(l8, dev, { gpuBudgetBytes: 64 * GiB, contextLength: 16384 });
    const f32Need = at16k.asked.residentBytes + at16k.asked.reservedBytes;
    const q8 = advise(l8, dev, { gpuBudgetBytes: f32Need - 256 * MiB, contextLength: 16384 });
    expect(q8.asked.streamedBytesPerToken).toBeGreaterThan(0);
    expect(q8.recommendation.kind).toBe('q8_0-kv');
    expect(q8.recommendation.kvCacheType).toBe('q8_0');
    expect(q8.recommendation.contextLength).toBe(16384);
    // q8_0 at 16K not enough either: a shorter context (with q8_0)
    const q8Need = f32Need - at16k.kvCacheBytes.f32 + at16k.kvCacheBytes.q8_0!;
    const shorter = advise(l8, dev, { gpuBudgetBytes: q8Need - 64 * MiB, contextLength: 16384 });
    expect(shorter.recommendation.kind).toBe('shorter-context');
    expect(shorter.recommendation.contextLength).toBe(8192);
    // nothing resident at any context ≥ 512: streaming, the smaller sibling when its streamed part fits RAM
    const stream = advise(l8, dev, { gpuBudgetBytes: 2 * GiB, contextLength: 2048, siblings: sibs });
    expect(stream.recommendation.kind).toBe('streaming');
    const summary = fitSummary(stream, CAL);
    expect(summary.verdict).toBe('streams');
    expect(summary.rows.map((r) => r.label)).toContain('RAM tier');
    expect(summary.recommendationDiffers).toBe(true);
  });

  test('MoE: a token reads only n_expert_used / n_expert of the expert weights; every MoE layer is a round trip', async () => {
    const moe = await shapeOf('qwen3moe 30B-A3B shape');
    expect(moe.nExpert).toBe(128);
    expect(moe.nExpertUsed).toBe(8);
    expect(moe.moeLayers).toBe(48);
    const p = advise(moe, { ...GPU, calibration: CAL }, { gpuBudgetBytes: 64 * GiB });
    const pred = p.asked.prediction!;
    expect(pred.roundTrips).toBe(1 + 48);
    // matvec time ≈ active weights / rate: far below the whole file's
    const wholeMs = (moe.weightBytes / CAL.matvecBytesPerSec.Q4_K) * 1000;
    expect(pred.matvecMs).toBeLessThan(wholeMs / 5);
    expect(pred.matvecMs).toBeGreaterThan(wholeMs / 40);
  });

  test('storage: a file the quota cannot hold is flagged; a cached part needs no quota', async () => {
    const l8 = await shapeOf('llama 8B (Llama-3.1-8B shape)');
    const tight = advise(l8, { ...GPU, storage: { quotaBytes: 6 * GiB, usageBytes: 2 * GiB } });
    expect(tight.storage.fits).toBe(false);
    const cached = advise(l8, { ...GPU, storage: { quotaBytes: 6 * GiB, usageBytes: 2 * GiB } }, { storedBytes: l8.fileBytes - GiB });
    expect(cached.storage.neededBytes).toBe(GiB);
    expect(cached.storage.fits).toBe(true);
    expect(advise(l8, { ...GPU, storage: null }).storage.fits).toBeNull();
  });

  test('a budget below the minimum is a plan with the engine\'s budget_too_small message, not a throw', async () => {
    const l70 = await shapeOf('llama 70B (Llama-3.1-70B shape)');
    const p = advise(l70, GPU, { gpuBudgetBytes: 64 * MiB });
    expect(p.asked.error).toMatch(/too small/);
    expect(p.recommendation.kind).toBe('raise-budget');
    expect(p.recommendation.text).toMatch(/needs at least \d+ bytes/);
    const summary = fitSummary(p, null);
    expect(summary.verdict).toBe('too-small');
    expect(summary.recommendationDiffers).toBe(false);
  });

  test('siblings of a Hugging Face file: the same model without its quant label', () => {
    expect(modelBase({ name: 'Qwen3-4B-Q4_K_M', quant: 'Q4_K_M' })).toBe('qwen3-4b');
    expect(modelBase({ name: 'Qwen3-4B-Q8_0', quant: 'Q8_0' })).toBe('qwen3-4b');
    expect(modelBase({ name: 'Q8_0/synth-llama-Q8_0', quant: 'Q8_0' })).toBe('synth-llama');
    expect(modelBase({ name: 'stories260K', quant: null })).toBe('stories260k');
    expect(modelBase({ name: 'stories260K-Q4_K_M', quant: 'Q4_K_M' })).toBe('stories260k');
    expect(modelBase({ name: 'gpt-oss-20b-UD-Q4_K_XL', quant: 'UD-Q4_K_XL' })).toBe('gpt-oss-20b');
  });

  test('fit summary helpers', () => {
    expect(predictionCheck(6.37, 7.54)).toBe('measured 7.54 tok/s · predicted 6.37 tok/s (0.84×)');
    expect(predictionCheck(null, 7.54)).toBe('measured 7.54 tok/s');
    expect(predictionCheck(5, 0)).toBeNull();
    expect(quickFit(1 * GiB, 4 * GiB)).toBe('fits');
    expect(quickFit(4 * GiB, 4 * GiB)).toBe('streams');
  });

  test('shared models: the shape of the real header (file type, layers, MoE)', async () => {
    const read = async (f: string) => {
      const bytes = new Uint8Array(readFileSync(new URL(f, shared)));
      return modelShape(await readGGUF(new MemorySource(bytes, f)), allTypes, bytes.length);
    };
    const moe = await read('synth-qwen3moe-Q4_K_M.gguf');
    expect(moe.fileType).toBe('Q4_K_M');
    expect([moe.nLayers, moe.nExpert, moe.nExpertUsed, moe.moeLayers]).toEqual([3, 8, 2, 3]);
    const oss = await read('synth-gpt-oss-MXFP4.gguf');
    expect(oss.architecture).toBe('gpt-oss');
    expect(oss.nExpertUsed).toBe(4);
  });
});

/** One model of each architecture: what the advisor plans is what the engine allocates and does. */
const PER_ARCH = [
  'stories260K.gguf', 'synth-llama-Q8_0.gguf', 'synth-qwen2-Q4_K_M.gguf', 'synth-qwen3-Q4_K_M.gguf', 'synth-phi3-Q4_K_M.gguf',
  'synth-gemma2-Q4_K_M.gguf', 'synth-gemma3-Q4_K_M.gguf', 'synth-moe-Q4_K_M.gguf', 'synth-qwen3moe-Q4_K_M.gguf',
  'synth-gpt-oss-MXFP4.gguf', 'synth-qwen35-Q4_K_M.gguf', 'synth-qwen35moe-Q4_K_M.gguf', 'synth-deepseek2-Q4_K_M.gguf',
  'synth-granite-Q4_K_M.gguf', 'synth-olmo2-Q4_K_M.gguf', 'synth-mistral3-Q4_K_M.gguf', 'synth-smollm3-Q4_K_M.gguf',
];

test('browser: calibration, and for one model of every architecture the plan equals what the engine allocates (resident and at 1/3)', async ({ page }) => {
  test.setTimeout(600_000);
  await openHarness(page);
  const rows = await page.evaluate(async ({ models, base }) => {
    const a = new (window as any).ls.AdvisorClient();
    const cal = await a.calibrate(`${base}/models/stories260K.gguf`);
    const out: any[] = [];
    for (const m of models) {
      for (const third of [false, true]) {
        // two tokens: the prefill, then one decode pass whose stats (dispatches, round trips, uploads) the plan is held to;
        // predicted against measured speed is the bench's (bench/advisor.mjs)
        const { shape, plan, stats: st } = await (window as any).advisorRun(a, `${base}/models/${m}`, { third, warmup: 2, tokens: 0 });
        out.push({
          m, third, cal,
          plan: { scratch: plan.scratchBytes, kv: plan.kvCacheBytes.f32, state: plan.stateBytes, resident: plan.asked.residentBytes, streamed: plan.asked.streamedBytesPerToken, layersStreamed: plan.asked.layersStreamed, dispatches: plan.asked.prediction.dispatches, roundTrips: plan.asked.prediction.roundTrips, tps: plan.asked.prediction.tokensPerSecond },
          engine: { scratch: st.scratchBytes, kv: st.kvCacheBytes, state: st.recurrentStateBytes + st.stateSnapshotBytes, resident: st.weightBytesOnGpu - st.poolSlots * st.poolSlotBytes, layersStreamed: st.layersStreamed, streamedDense: shape.nExpert > 0 ? null : st.bytesUploadedLastToken, dispatches: st.dispatchesLastPass, roundTrips: st.readbacksLastPass, tps: st.decodeTokensPerSecond },
        });
      }
    }
    return out;
  }, { models: PER_ARCH, base: SHARED_URL });
  const cal = rows[0].cal;
  expect(cal.uploadBytesPerSec).toBeGreaterThan(0);
  expect(cal.matvecBytesPerSec.Q8_0).toBeGreaterThan(0);
  expect(cal.matvecBytesPerSec.Q4_K).toBeGreaterThan(0);
  expect(cal.dispatchMs).toBeGreaterThan(0);
  expect(cal.roundTripMs).toBeGreaterThan(0);
  expect(cal.streamGroupMs).toBeGreaterThanOrEqual(0);
  for (const r of rows) {
    const what = `${r.m}${r.third ? ' at 1/3' : ''}`;
    console.log(`${what}: predicted ${r.plan.tps.toFixed(2)} tok/s, measured ${r.engine.tps.toFixed(2)}; dispatches ${r.plan.dispatches}/${r.engine.dispatches}`);
    expect(r.plan.scratch, what).toBe(r.engine.scratch);
    expect(r.plan.kv, what).toBe(r.engine.kv);
    expect(r.plan.state, what).toBe(r.engine.state);
    expect(r.plan.layersStreamed, what).toBe(r.engine.layersStreamed);
    if (!r.third) {
      expect(r.plan.streamed, what).toBe(0);
      // the plan counts each resident group padded to the binding alignment (256 B here), the engine its buffer sizes
      expect(Math.abs(r.plan.resident - r.engine.resident), what).toBeLessThanOrEqual(256 * 64);
    } else {
      expect(r.plan.streamed, what).toBeGreaterThan(0);
      if (r.engine.streamedDense !== null) expect(r.plan.streamed, what).toBe(r.engine.streamedDense);
    }
    expect(r.plan.roundTrips, what).toBe(r.engine.roundTrips);
    expect(Math.abs(r.plan.dispatches - r.engine.dispatches) / r.engine.dispatches, `${what} dispatches`).toBeLessThan(0.25);
    expect(r.plan.tps, what).toBeGreaterThan(0);
  }
});

test('browser: a model whose tokenizer the engine cannot read is refused from its header, naming the tokenizer', async ({ page }) => {
  // stories260K with tokenizer.ggml.model "rwkv" (a tokenizer llama.cpp has and layerstream does not)
  const bytes = new Uint8Array(readFileSync(new URL('stories260K.gguf', shared)));
  const { metadata, tensors } = await parseForWrite(bytes);
  const out = writeGGUF({ metadata: metadata.map(([k, t, v]) => (k === 'tokenizer.ggml.model' ? [k, t, 'rwkv'] : [k, t, v])), tensors });
  mkdirSync(new URL('advisor/', GENERATED_DIR), { recursive: true });
  writeFileSync(new URL('advisor/rwkv-tokenizer.gguf', GENERATED_DIR), out);
  await openHarness(page);
  const err = await page.evaluate(async (url) => {
    const a = new (window as any).ls.AdvisorClient();
    try {
      await a.inspect(url);
      return null;
    } catch (e) {
      return { code: (e as any).code, message: (e as Error).message };
    }
  }, `${GENERATED_URL}/advisor/rwkv-tokenizer.gguf`);
  expect(err?.code).toBe('unsupported_architecture');
  expect(err?.message).toMatch(/rwkv/);
});
