import { test, expect } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIR, GENERATED_URL } from './support/browser.ts';
import { budgetFor, openHarness, runModel } from './support/engine-page.ts';
import { loadReference, relL2 } from './support/reference.ts';
import { requantizeModel, type QuantType } from './support/quantize.ts';

// Models made purely of one ggml type whose reference quantizer is simple (TQ1_0, TQ2_0, MXFP4,
// NVFP4): synth-llama-Q8_0's matrices re-quantized by test/support/quantize.ts (bit-exact with
// llama-quantize, test/quantize.spec.ts). The exact reference of such a model is its F32 twin — the
// same file with every re-quantized tensor stored as its float32 dequantization — run through the
// F32 path, which the float64 references check elsewhere. The quantized model must give the twin's
// greedy tokens and logit rows (within 1e-3 relative L2, the references' tolerance), resident and
// streamed at a third of its weights' budget. (test/quantize.spec.ts checks the files' tensor types.)
const TYPES: QuantType[] = ['TQ1_0', 'TQ2_0', 'MXFP4', 'NVFP4'];
const SOURCE = new URL('../../shared/models/synth-llama-Q8_0.gguf', import.meta.url);

test.describe.configure({ mode: 'serial' }); // one worker writes the generated files
test.beforeAll(async () => {
  const src = new Uint8Array(readFileSync(SOURCE));
  mkdirSync(fileURLToPath(new URL('gen/', GENERATED_DIR)), { recursive: true });
  for (const type of TYPES) {
    const { quantized, twin } = await requantizeModel(src, type);
    writeFileSync(fileURLToPath(new URL(`gen/llama-${type}.gguf`, GENERATED_DIR)), quantized);
    writeFileSync(fileURLToPath(new URL(`gen/llama-${type}-twin.gguf`, GENERATED_DIR)), twin);
  }
});
test.beforeEach(async ({ page }) => openHarness(page));

const ref = loadReference('synth-llama-Q8_0', 'f64'); // for its prompt tokens
const P = ref.prompt_tokens.length;
const N = 16; // greedy tokens
const ROWS = 4; // logit rows: after the prompt and after each of the next 3 tokens

for (const type of TYPES) {
  test(`pure ${type} model: the F32 twin's greedy tokens and logits, resident and streamed`, async ({ page }) => {
    const url = `${GENERATED_URL}/gen/llama-${type}.gguf`;
    const run = (u: string, opts: Record<string, unknown>, greedyFrom?: number[]) =>
      runModel(page, {
        url: u, prompt: ref.prompt, fromTokens: ref.prompt_tokens, maxTokens: N, opts: { contextLength: 128, ...opts },
        logitTokens: greedyFrom ? [...ref.prompt_tokens, ...greedyFrom.slice(0, ROWS - 1)] : undefined,
        positions: greedyFrom ? Array.from({ length: ROWS }, (_, i) => P - 1 + i) : undefined,
      });
    const twin = await run(`${GENERATED_URL}/gen/llama-${type}-twin.gguf`, {});
    const exact = await run(`${GENERATED_URL}/gen/llama-${type}-twin.gguf`, {}, twin.greedy);
    expect(new Set(twin.greedy).size, 'the model does not just repeat one token').toBeGreaterThan(1);
    const budget = await budgetFor(page, url, 1 / 3, { contextLength: 128 });
    for (const opts of [{}, { gpuBudgetBytes: budget }]) {
      const r = await run(url, opts, twin.greedy);
      const what = opts.gpuBudgetBytes ? 'streamed' : 'resident';
      expect(r.stats.layersStreamed > 0, what).toBe(!!opts.gpuBudgetBytes);
      expect(r.greedy, what).toEqual(twin.greedy);
      r.logits.forEach((row, i) => expect(relL2(row, exact.logits[i]), `${what}: logit row ${i}`).toBeLessThan(1e-3));
    }
  });
}
