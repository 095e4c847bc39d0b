import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { budgetFor, openHarness } from './support/engine-page.ts';
import { loadReference, relL2 } from './support/reference.ts';

// Batched prefill must equal token-by-token processing, and splitting weights into pieces that
// fit a small binding limit must not change anything.

test.beforeEach(async ({ page }) => openHarness(page));

/** Greedy tokens and logit rows at every prompt position, for engine options `opts`. */
async function run(page: import('@playwright/test').Page, model: string, prompt: number[], opts: Record<string, unknown>) {
  return page.evaluate(async ({ url, prompt, opts }) => {
    const e = await (window as any).ls.createEngine({ model: url, ...opts });
    const greedy: number[] = [];
    for await (const t of e.generate({ prompt, maxTokens: 12, temperature: 0 })) greedy.push(t.token);
    const rows: Float32Array[] = await e.logits(prompt, { positions: prompt.map((_: number, i: number) => i) });
    const stats = await e.stats();
    await e.dispose();
    return { greedy, rows: rows.map((r) => Array.from(r)), stats };
  }, { url: `${SHARED_URL}/models/${model}`, prompt, opts });
}

for (const model of ['synth-llama-Q4_K_M', 'synth-gemma2-Q4_K_M']) {
  test(`${model}: batched prefill equals one token at a time`, async ({ page }) => {
    const prompt = loadReference(model, 'f64').prompt_tokens.slice(0, 14);
    const batched = await run(page, `${model}.gguf`, prompt, { maxBatch: 8 }); // batches of 8 + 6
    const single = await run(page, `${model}.gguf`, prompt, { maxBatch: 1 });
    expect(batched.greedy).toEqual(single.greedy);
    expect(batched.rows.length).toBe(prompt.length);
    batched.rows.forEach((row, i) => expect(relL2(row, single.rows[i]), `position ${i}`).toBeLessThan(1e-4));
    expect(batched.stats.prefillTokensPerSecond).toBeGreaterThan(0);
  });
}

test('a 1 MiB binding limit splits big tensors into pieces and changes nothing', async ({ page }) => {
  const ref = loadReference('synth-llama-Q8_0', 'f64');
  const whole = await run(page, 'synth-llama-Q8_0.gguf', ref.prompt_tokens.slice(0, 8), {});
  const split = await run(page, 'synth-llama-Q8_0.gguf', ref.prompt_tokens.slice(0, 8), { maxBindingBytes: 1 << 20 });
  const small = { maxBindingBytes: 1 << 20, contextLength: 64 };
  const budget = await budgetFor(page, `${SHARED_URL}/models/synth-llama-Q8_0.gguf`, 1 / 2, small);
  const splitStreamed = await run(page, 'synth-llama-Q8_0.gguf', ref.prompt_tokens.slice(0, 8), { ...small, gpuBudgetBytes: budget });
  expect(split.greedy).toEqual(whole.greedy);
  expect(splitStreamed.greedy).toEqual(whole.greedy);
  split.rows.forEach((row, i) => expect(relL2(row, whole.rows[i]), `position ${i}`).toBeLessThan(1e-5));
  expect(splitStreamed.stats.layersStreamed).toBeGreaterThan(0);
  expect(splitStreamed.stats.poolSlotBytes).toBeLessThanOrEqual(1 << 20);
});
