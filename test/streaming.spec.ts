import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { budgetFor, openHarness } from './support/engine-page.ts';
import { loadReference } from './support/reference.ts';

// Streaming below the GPU budget: identical tokens at every budget and with the RAM tier on or off,
// the budget respected at every token, and no GPU buffer created once generation runs.

test.beforeEach(async ({ page }) => openHarness(page));

/** Greedy run with `opts`, reading stats() after every token. */
async function run(page: import('@playwright/test').Page, model: string, prompt: number[], maxTokens: number, opts: Record<string, unknown>) {
  return page.evaluate(async ({ url, prompt, maxTokens, opts }) => {
    const e = await (window as any).ls.createEngine({ model: url, ...opts });
    const tokens: number[] = [];
    const perToken: any[] = [];
    for await (const t of e.generate({ prompt, maxTokens, temperature: 0 })) {
      tokens.push(t.token);
      perToken.push(await e.stats());
    }
    await e.dispose();
    return { tokens, perToken };
  }, { url: `${SHARED_URL}/models/${model}`, prompt, maxTokens, opts });
}

const url = (model: string) => `${SHARED_URL}/models/${model}`;

test('synth-gemma2 (26 layers): the same tokens at every budget; budget and buffer count hold at every token', async ({ page }) => {
  const ref = loadReference('synth-gemma2-Q4_K_M', 'f64');
  const prompt = ref.prompt_tokens.slice(0, 10);
  const ctx = { contextLength: 64 };
  const full = await run(page, 'synth-gemma2-Q4_K_M.gguf', prompt, 8, ctx);
  for (const fraction of [0.5, 0.25, 0.12]) {
    const budget = await budgetFor(page, url('synth-gemma2-Q4_K_M.gguf'), fraction, ctx);
    const r = await run(page, 'synth-gemma2-Q4_K_M.gguf', prompt, 8, { ...ctx, gpuBudgetBytes: budget });
    expect(r.tokens, `budget ${fraction}`).toEqual(full.tokens);
    const first = r.perToken[0];
    expect(first.layersStreamed).toBeGreaterThan(0);
    for (const s of r.perToken) {
      // the budget covers weights, the K/V cache and scratch together
      expect(s.weightBytesOnGpu + s.kvCacheBytes + s.scratchBytes).toBeLessThanOrEqual(budget);
      expect(s.bytesUploadedLastToken).toBeGreaterThan(0);
      expect(s.streamBytesPerSecond).toBeGreaterThan(0);
      expect(s.streamWaitMsLastToken).toBeGreaterThanOrEqual(0);
      expect(s.gpuBuffersCreated, 'no GPU buffer created after the first token').toBe(first.gpuBuffersCreated);
    }
  }
});

test('the RAM tier gives the same tokens and stops reading streamed weights from storage', async ({ page }) => {
  const ref = loadReference('synth-llama-Q4_K_M', 'f64');
  const opts = { contextLength: 64, gpuBudgetBytes: await budgetFor(page, url('synth-llama-Q4_K_M.gguf'), 1 / 4, { contextLength: 64 }) };
  const off = await run(page, 'synth-llama-Q4_K_M.gguf', ref.prompt_tokens, 6, opts);
  const on = await run(page, 'synth-llama-Q4_K_M.gguf', ref.prompt_tokens, 6, { ...opts, ramBudgetBytes: 64 << 20 });
  expect(on.tokens).toEqual(off.tokens);
  expect(on.tokens).toEqual(ref.greedy_tokens.slice(0, 6));
  expect(off.perToken.at(-1).bytesReadLastToken).toBeGreaterThan(0);
  expect(on.perToken.at(-1).bytesReadLastToken).toBe(0);
  expect(on.perToken.at(-1).ramBytesUsed).toBeGreaterThan(0);
  expect(on.perToken.at(-1).ramBytesUsed).toBeLessThanOrEqual(64 << 20);
  expect(on.perToken.at(-1).bytesUploadedLastToken).toBe(off.perToken.at(-1).bytesUploadedLastToken);
});

test('mixture of experts: streaming uploads only the experts the router picks, through an LRU expert cache', async ({ page }) => {
  const ref = loadReference('synth-moe-Q4_K_M', 'f64');
  const ctx = { contextLength: 64 };
  const resident = await run(page, 'synth-moe-Q4_K_M.gguf', ref.prompt_tokens, 6, ctx);
  const budget = await budgetFor(page, url('synth-moe-Q4_K_M.gguf'), 1 / 2, ctx); // room for the expert cache
  const streamed = await run(page, 'synth-moe-Q4_K_M.gguf', ref.prompt_tokens, 6, { ...ctx, gpuBudgetBytes: budget });
  const dense = await run(page, 'synth-moe-Q4_K_M.gguf', ref.prompt_tokens, 6, { ...ctx, gpuBudgetBytes: budget, expertStreaming: false });
  expect(streamed.tokens).toEqual(resident.tokens);
  expect(dense.tokens).toEqual(resident.tokens);
  expect(streamed.tokens).toEqual(ref.greedy_tokens.slice(0, 6));
  const all = resident.perToken[0].weightBytesOnGpu;
  const s = streamed.perToken.at(-1);
  // pinned + uploaded per token stays below the whole model: 2 of 8 experts per layer travel
  expect(s.weightBytesOnGpu + s.bytesUploadedLastToken).toBeLessThan(all);
  expect(s.layersStreamed).toBeGreaterThan(0);
  // an LRU expert cache inside the budget serves the experts tokens keep choosing
  expect(s.expertCacheSlots).toBeGreaterThan(0);
  expect(s.expertCacheHits).toBeGreaterThan(0);
  expect(s.expertCacheMisses).toBeGreaterThan(0);
  // expertStreaming: false uploads every expert of the streamed layers: more bytes per token, no cache
  const d = dense.perToken.at(-1);
  expect(d.expertCacheSlots).toBe(0);
  expect(d.bytesUploadedLastToken).toBeGreaterThan(s.bytesUploadedLastToken);
});
