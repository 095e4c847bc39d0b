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
      expect(s.slotWaitMsLastToken).toBeGreaterThanOrEqual(0);
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

test('mapped staging buffers upload the same bytes as writeBuffer: same tokens, with and without the RAM tier', async ({ page }) => {
  const ref = loadReference('synth-llama-Q4_K_M', 'f64');
  const ctx = { contextLength: 64 };
  const budget = await budgetFor(page, url('synth-llama-Q4_K_M.gguf'), 1 / 4, ctx);
  const opts = { ...ctx, gpuBudgetBytes: budget, uploadMethod: 'mapped' };
  const mapped = await run(page, 'synth-llama-Q4_K_M.gguf', ref.prompt_tokens, 6, opts);
  const ram = await run(page, 'synth-llama-Q4_K_M.gguf', ref.prompt_tokens, 6, { ...opts, ramBudgetBytes: 64 << 20 });
  expect(mapped.tokens).toEqual(ref.greedy_tokens.slice(0, 6));
  expect(ram.tokens).toEqual(mapped.tokens);
  const first = mapped.perToken[0];
  expect(first.uploadMethod).toBe('mapped');
  expect(first.layersStreamed).toBeGreaterThan(0);
  expect(first.stagingBytes).toBeGreaterThan(0);
  for (const s of mapped.perToken) {
    expect(s.bytesUploadedLastToken).toBeGreaterThan(0);
    expect(s.stagingBytes, 'staging is allocated once').toBe(first.stagingBytes);
    expect(s.gpuBuffersCreated, 'no GPU buffer (staging included) created after the first token').toBe(first.gpuBuffersCreated);
  }
  expect(ram.perToken.at(-1).bytesReadLastToken).toBe(0);
});

for (const uploadMethod of ['writeBuffer', 'mapped']) {
  test(`a read that fails mid-pass (${uploadMethod}) fails that generate with its error; the next one streams again and gives the reference tokens`, async ({ page }) => {
    const ref = loadReference('synth-llama-Q8_0', 'f64');
    const budget = await budgetFor(page, url('synth-llama-Q8_0.gguf'), 1 / 4, { contextLength: 64 });
    const r = await page.evaluate(async ({ url, prompt, budget, uploadMethod }) => {
      const ls = (window as any).ls;
      // The engine core over a byte source whose reads can be made to fail (a dropped connection).
      const inner = await ls.openByteSource(url);
      let failAfter = Infinity;
      const check = () => {
        if (failAfter-- <= 0) throw new ls.LayerstreamError('fetch_failed', 'injected: connection lost');
      };
      const source = {
        name: inner.name,
        size: inner.size,
        read: async (o: number, n: number, s?: AbortSignal) => (check(), inner.read(o, n, s)),
        readInto: async (o: number, d: Uint8Array, s?: AbortSignal) => (check(), inner.readInto(o, d, s)),
      };
      const core = await ls.EngineCore.load({ source, gguf: await ls.readGGUF(source) }, await ls.requestGPUDevice(), { gpuBudgetBytes: budget, contextLength: 64, uploadMethod });
      const gen = async () => {
        const out: number[] = [];
        for await (const t of core.generate({ tokens: prompt, maxTokens: 6, temperature: 0 })) out.push(t.token);
        return out;
      };
      const before = core.stats();
      failAfter = 5; // a few reads into the first pass: in the middle of a streamed layer
      let error: any = null;
      try {
        await gen();
      } catch (e: any) {
        error = { code: e.code, message: e.message };
      }
      failAfter = Infinity;
      const again = await gen();
      const after = core.stats();
      core.dispose();
      return { error, again, before, after };
    }, { url: url('synth-llama-Q8_0.gguf'), prompt: ref.prompt_tokens, budget, uploadMethod });
    expect(r.before.layersStreamed).toBeGreaterThan(0);
    expect(r.error).toEqual({ code: 'fetch_failed', message: 'injected: connection lost' });
    expect(r.again).toEqual(ref.greedy_tokens.slice(0, 6));
    expect(r.after.gpuBuffersCreated).toBe(r.before.gpuBuffersCreated);
  });
}

test('groups spanning many staging chunks (64 KiB): resident load, streaming and the RAM tier give the reference tokens with either upload method', async ({ page }) => {
  const ref = loadReference('synth-llama-Q8_0', 'f64');
  const ctx = { contextLength: 64, stagingChunkBytes: 64 << 10 };
  const budget = await budgetFor(page, url('synth-llama-Q8_0.gguf'), 1 / 4, { contextLength: 64 });
  const want = ref.greedy_tokens.slice(0, 4);
  for (const uploadMethod of ['writeBuffer', 'mapped']) {
    const resident = await run(page, 'synth-llama-Q8_0.gguf', ref.prompt_tokens, 4, { ...ctx, uploadMethod });
    const streamed = await run(page, 'synth-llama-Q8_0.gguf', ref.prompt_tokens, 4, { ...ctx, uploadMethod, gpuBudgetBytes: budget });
    const ram = await run(page, 'synth-llama-Q8_0.gguf', ref.prompt_tokens, 4, { ...ctx, uploadMethod, gpuBudgetBytes: budget, ramBudgetBytes: 32 << 20 });
    expect(resident.tokens, uploadMethod).toEqual(want);
    expect(streamed.tokens, uploadMethod).toEqual(want);
    expect(ram.tokens, uploadMethod).toEqual(want);
    const s = streamed.perToken.at(-1);
    // 4–16 chunks of 64 KiB (a sixteenth of the budget)
    expect(s.stagingBytes % (64 << 10)).toBe(0);
    expect(s.stagingBytes / (64 << 10)).toBeGreaterThanOrEqual(4);
    expect(s.stagingBytes / (64 << 10)).toBeLessThanOrEqual(16);
    expect(s.poolSlotBytes, 'a slot holds many chunks').toBeGreaterThan(4 * (64 << 10));
    expect(s.layersStreamed).toBeGreaterThan(0);
  }
});
