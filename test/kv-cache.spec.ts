import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { openHarness, runModel } from './support/engine-page.ts';
import { loadF64Logits, loadReference, relL2 } from './support/reference.ts';

// The 8-bit K/V cache (kvCacheType 'q8_0': ggml block_q8_0 with an f32 scale, 36 bytes per 32
// values) against the f32 cache and the float64 reference, and per-layer GPU timing.

test.beforeEach(async ({ page }) => openHarness(page));

for (const model of ['stories260K', 'synth-llama-Q8_0', 'synth-qwen2-Q4_K_M']) {
  test(`${model}: q8_0 K/V cache stays close to f32 and is 3.6× smaller`, async ({ page }) => {
    const f64 = loadReference(model, 'f64');
    const rows = loadF64Logits(model, f64.n_vocab);
    const P = f64.prompt_tokens.length;
    const args = {
      url: `${SHARED_URL}/models/${model}.gguf`,
      prompt: f64.prompt,
      fromTokens: f64.prompt_tokens,
      maxTokens: 8,
      logitTokens: [...f64.prompt_tokens, ...f64.greedy_tokens.slice(0, rows.length - 1)],
      positions: rows.map((_, i) => P - 1 + i),
    };
    const f32 = await runModel(page, { ...args, opts: { contextLength: 256 } });
    const q8 = await runModel(page, { ...args, opts: { contextLength: 256, kvCacheType: 'q8_0' } });
    expect(q8.stats.kvCacheType).toBe('q8_0');
    expect(q8.stats.kvCacheBytes / f32.stats.kvCacheBytes).toBeCloseTo(36 / 128, 3);
    // Quantizing keys and values costs accuracy (these random-weight models amplify any perturbation
    // through their layers; measured 2–2.6 %), bounded: within 5 % relative L2 of the f32 cache and
    // of the float64 reference, row by row.
    q8.logits.forEach((row, i) => {
      expect(relL2(row, f32.logits[i]), `vs f32, row ${i}`).toBeLessThan(0.05);
      expect(relL2(row, rows[i]), `vs f64, row ${i}`).toBeLessThan(0.05);
    });
    // and it is not a no-op: the rows differ from the f32 cache's
    expect(Math.max(...q8.logits.map((row, i) => relL2(row, f32.logits[i])))).toBeGreaterThan(1e-6);
    expect(q8.greedy.slice(0, 4)).toEqual(f32.greedy.slice(0, 4));
  });
}

test('an unknown kvCacheType is refused at load, naming the value', async ({ page }) => {
  const e = await page.evaluate(async (url) => {
    try {
      await (window as any).ls.createEngine({ model: url, kvCacheType: 'q4_0' });
      return null;
    } catch (err: any) {
      return { code: err.code, message: err.message };
    }
  }, `${SHARED_URL}/models/stories260K.gguf`);
  expect(e).toEqual({ code: 'invalid_request', message: "kvCacheType must be 'f32' or 'q8_0', got q4_0" });
});

test('profileLayers: GPU time per layer from timestamp queries, same tokens', async ({ page }) => {
  const ref = loadReference('synth-llama-Q4_0', 'f64');
  const base = { url: `${SHARED_URL}/models/synth-llama-Q4_0.gguf`, prompt: ref.prompt, fromTokens: ref.prompt_tokens, maxTokens: 4 };
  const plain = await runModel(page, base);
  const timed = await runModel(page, { ...base, opts: { profileLayers: true } });
  expect(timed.greedy).toEqual(plain.greedy);
  expect(plain.stats.layerGpuMs).toEqual([]);
  expect(timed.stats.layerGpuMs.length).toBe(timed.stats.layersResident + timed.stats.layersStreamed);
  expect(timed.stats.layerGpuMs.every((ms: number) => ms >= 0 && ms < 60_000)).toBe(true);
  expect(timed.stats.layerGpuMs.reduce((s: number, ms: number) => s + ms, 0)).toBeGreaterThan(0);
  expect(timed.stats.headGpuMs).toBeGreaterThan(0);
});
