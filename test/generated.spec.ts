import { test, expect } from '@playwright/test';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain-JS generator script (bench and tests share it); its API is documented there
import { generateLlamaModel, TEST_PRESET } from '../scripts/generate-model.mjs';
import { GENERATED_DIR, GENERATED_URL } from './support/browser.ts';
import { budgetFor, openHarness } from './support/engine-page.ts';

// A seeded synthetic llama with 8 layers (scripts/generate-model.mjs, the benchmark's generator):
// greedy tokens identical at several budgets and with the RAM tier on or off, the budget holding at
// every token, no GPU buffer created while generating.

const FILE = 'gen/llama8-Q4_0.gguf';
const url = `${GENERATED_URL}/${FILE}`;

test.describe.configure({ mode: 'serial' }); // one worker writes the generated files

test.beforeAll(async () => {
  await generateLlamaModel(fileURLToPath(new URL(FILE, GENERATED_DIR)), { ...TEST_PRESET, type: 'Q4_0', seed: 3, ctx: 256 });
});

test.beforeEach(async ({ page }) => openHarness(page));

async function run(page: import('@playwright/test').Page, opts: Record<string, unknown>) {
  return page.evaluate(async ({ url, opts }) => {
    const e = await (window as any).ls.createEngine({ model: url, contextLength: 64, ...opts });
    const tokens: number[] = [];
    const perToken: any[] = [];
    for await (const t of e.generate({ prompt: 'the cat sat', maxTokens: 10, temperature: 0 })) {
      tokens.push(t.token);
      perToken.push(await e.stats());
    }
    await e.dispose();
    return { tokens, perToken };
  }, { url, opts });
}

test('generated 8-layer llama: identical greedy tokens at every budget, RAM tier on and off', async ({ page }) => {
  const resident = await run(page, {});
  expect(resident.perToken[0].layersResident).toBe(8);
  expect(resident.tokens.length).toBe(10);
  expect(new Set(resident.tokens).size, 'the random model does not just repeat one token').toBeGreaterThan(1);
  for (const fraction of [0.5, 0.25, 0.1]) {
    const budget = await budgetFor(page, url, fraction, { contextLength: 64 });
    for (const ramBudgetBytes of [0, 8 << 20]) {
      const r = await run(page, { gpuBudgetBytes: budget, ramBudgetBytes });
      const what = `${fraction} of the weights, RAM tier ${ramBudgetBytes}`;
      expect(r.tokens, what).toEqual(resident.tokens);
      const first = r.perToken[0];
      expect(first.layersStreamed, what).toBeGreaterThan(0);
      for (const s of r.perToken) {
        expect(s.weightBytesOnGpu + s.kvCacheBytes + s.scratchBytes, what).toBeLessThanOrEqual(budget);
        expect(s.gpuBuffersCreated, `${what}: no GPU buffer after the first token`).toBe(first.gpuBuffersCreated);
      }
      const last = r.perToken.at(-1);
      if (ramBudgetBytes) expect(last.bytesReadLastToken, `${what}: streamed from RAM`).toBe(0);
      else expect(last.bytesReadLastToken, what).toBeGreaterThan(0);
    }
  }
});

test('q8_0 K/V cache is refused, naming the width, when a K/V row is not a multiple of 32', async ({ page }) => {
  const file = 'gen/kv48.gguf'; // 4 heads of 24, 2 KV heads: K/V rows of 48
  await generateLlamaModel(fileURLToPath(new URL(file, GENERATED_DIR)), { ...TEST_PRESET, layers: 2, embd: 96, heads: 4, kvHeads: 2, seed: 4 });
  const e = await page.evaluate(async (url) => {
    try {
      await (window as any).ls.createEngine({ model: url, kvCacheType: 'q8_0' });
      return null;
    } catch (err: any) {
      return { code: err.code, message: err.message };
    }
  }, `${GENERATED_URL}/${file}`);
  expect(e).toEqual({ code: 'invalid_request', message: "kvCacheType 'q8_0' needs a K/V row width (n_head_kv · head_dim) that is a multiple of 32; this model's is 48" });
});
