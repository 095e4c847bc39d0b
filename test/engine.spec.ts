import { test, expect } from '@playwright/test';
import { statSync } from 'node:fs';
import { SHARED_URL } from './support/browser.ts';
import { openHarness, runModel } from './support/engine-page.ts';
import { greedyMismatch, loadF64Logits, loadReference, relL2 } from './support/reference.ts';

// End-to-end correctness in headless Chromium (SwiftShader WebGPU) against ../shared/reference:
// prompt tokenization, greedy continuation (f64 reference, near-tie rule), logit rows within 1e-3
// relative L2, and the same greedy tokens when the GPU budget forces layers to stream.
const MODELS = [
  { ref: 'stories260K', file: 'stories260K.gguf', llamacpp: true },
  { ref: 'stories260K.park', file: 'stories260K.gguf', llamacpp: true },
  { ref: 'stories260K-Q4_K_M', file: 'stories260K-Q4_K_M.gguf', llamacpp: true },
  { ref: 'synth-llama-Q8_0', file: 'synth-llama-Q8_0.gguf', llamacpp: false },
  { ref: 'synth-llama-Q4_0', file: 'synth-llama-Q4_0.gguf', llamacpp: false },
];

test.beforeEach(async ({ page }) => openHarness(page));

for (const m of MODELS) {
  test(`${m.ref}: tokens, greedy continuation and logits match the references`, async ({ page }) => {
    const f64 = loadReference(m.ref, 'f64');
    const rows = loadF64Logits(m.ref, f64.n_vocab);
    const P = f64.prompt_tokens.length;
    const logitTokens = [...f64.prompt_tokens, ...f64.greedy_tokens.slice(0, rows.length - 1)];
    const positions = rows.map((_, i) => P - 1 + i);
    const r = await runModel(page, {
      url: `${SHARED_URL}/models/${m.file}`,
      prompt: f64.prompt,
      fromTokens: f64.prompt_tokens,
      maxTokens: f64.greedy_tokens.length,
      logitTokens,
      positions,
    });
    expect(r.promptTokens).toEqual(f64.prompt_tokens);
    expect(greedyMismatch(r.greedy, f64), `greedy ${r.greedy.join(' ')}`).toBe(-1);
    if (m.llamacpp) {
      const lc = loadReference(m.ref, 'llamacpp');
      expect(r.greedy).toEqual(lc.greedy_tokens);
      expect(r.text).toBe(lc.greedy_text);
    }
    expect(r.logits.length).toBe(rows.length);
    r.logits.forEach((row, i) => expect(relL2(row, rows[i]), `row ${i}`).toBeLessThan(1e-3));
    expect(r.stats.layersStreamed).toBe(0);
  });
}

for (const m of MODELS.filter((x) => x.ref !== 'stories260K.park')) {
  test(`${m.ref}: streaming with a budget of a third of the file gives the same tokens`, async ({ page }) => {
    const f64 = loadReference(m.ref, 'f64');
    const budget = Math.floor(statSync(new URL(`../../shared/models/${m.file}`, import.meta.url)).size / 3);
    const r = await runModel(page, {
      url: `${SHARED_URL}/models/${m.file}`,
      prompt: f64.prompt,
      fromTokens: f64.prompt_tokens,
      maxTokens: Math.min(16, f64.greedy_tokens.length),
      opts: { gpuBudgetBytes: budget },
    });
    expect(greedyMismatch(r.greedy, f64, 16), `greedy ${r.greedy.join(' ')}`).toBe(-1);
    expect(r.stats.gpuBudgetBytes).toBe(budget);
    expect(r.stats.weightBytesOnGpu).toBeLessThanOrEqual(budget);
    expect(r.stats.layersStreamed).toBeGreaterThan(0);
    expect(r.stats.bytesUploadedLastToken).toBeGreaterThan(0);
  });
}
