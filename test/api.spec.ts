import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { openHarness } from './support/engine-page.ts';
import { loadReference } from './support/reference.ts';

// The public API in the page: createEngine → tokenize/detokenize/generate/logits/stats/dispose,
// loadTokenizer on a vocab-only file, seeded sampling, and abort.

test.beforeEach(async ({ page }) => openHarness(page));
const stories = `${SHARED_URL}/models/stories260K.gguf`;

test('info, tokenize/detokenize, default logits row, stats', async ({ page }) => {
  const ref = loadReference('stories260K', 'llamacpp');
  const r = await page.evaluate(async ({ url, prompt }) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const ids = await e.tokenize(prompt);
    const noBos = await e.tokenize(prompt, { addSpecial: false });
    const text = await e.detokenize(ids);
    const [row] = await e.logits(ids);
    const stats = await e.stats();
    await e.dispose();
    let afterDispose = '';
    try { await e.stats(); } catch (err: any) { afterDispose = err.code; }
    return { info: e.info, ids, noBos, text, rowLen: row.length, top: Array.from(row as Float32Array).indexOf(Math.max(...row)), stats, afterDispose };
  }, { url: stories, prompt: ref.prompt });
  expect(r.info).toMatchObject({ architecture: 'llama', nLayers: 5, nVocab: 512, fileBytes: 1185376, tensorTypes: { F32: 48 } });
  expect(r.ids).toEqual(ref.prompt_tokens);
  expect(r.noBos).toEqual(ref.prompt_tokens.slice(1));
  expect(r.text).toBe(ref.prompt);
  expect(r.rowLen).toBe(512);
  expect(r.top).toBe(ref.greedy_tokens[0]);
  expect(r.stats).toMatchObject({ layersResident: 5, layersStreamed: 0, bytesUploadedLastToken: 0, poolSlots: 0 });
  expect(r.stats.weightBytesOnGpu).toBeGreaterThan(1_000_000);
  expect(r.stats.weightBytesOnGpu).toBeLessThanOrEqual(r.stats.gpuBudgetBytes);
  expect(r.stats.kvCacheBytes).toBe(2 * 5 * r.stats.contextLength * 32 * 4); // K and V, 5 layers, 4 kv heads × 8
  expect(r.afterDispose).toBe('disposed');
});

test('loadTokenizer reads a vocab-only GGUF', async ({ page }) => {
  const ids = await page.evaluate(async (url) => {
    const tok = await (window as any).ls.loadTokenizer(url);
    return tok.tokenize(' Hello world', { addSpecial: false });
  }, `${SHARED_URL}/tokenizer/ggml-vocab-gpt-2.gguf`);
  expect(ids).toEqual([18435, 995]); // GPT-2: " Hello", " world"
});

test('seeded sampling is reproducible; top-k 1 is greedy', async ({ page }) => {
  const r = await page.evaluate(async (url) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const run = async (req: object) => {
      const out: number[] = [];
      for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 32, ...req })) out.push(t.token);
      return out;
    };
    const a = await run({ temperature: 1, seed: 42 });
    const b = await run({ temperature: 1, seed: 42 });
    const c = await run({ temperature: 1, seed: 43 });
    const k1 = await run({ temperature: 1, topK: 1, seed: 5 });
    const greedy = await run({ temperature: 0 });
    const k40a = await run({ temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, seed: 9 }); // GPU top-k path
    const k40b = await run({ temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, seed: 9 });
    const biased = await run({ temperature: 0, logitBias: { 300: 100 } });
    const penalized = await run({ temperature: 0, repetitionPenalty: 1.5, frequencyPenalty: 1 });
    await e.dispose();
    return { a, b, c, k1, greedy, k40a, k40b, biased, penalized };
  }, stories);
  expect(r.a).toEqual(r.b);
  expect(r.a).not.toEqual(r.c);
  expect(r.k1).toEqual(r.greedy);
  expect(r.greedy.length).toBe(32);
  expect(r.k40a).toEqual(r.k40b);
  expect(r.k40a).not.toEqual(r.greedy);
  expect(r.biased).toEqual(new Array(32).fill(300));
  // greedy repeats "She"/"Lily"/"." often; penalties must steer away from repeats
  const repeats = (t: number[]) => t.length - new Set(t).size;
  expect(r.penalized).not.toEqual(r.greedy);
  expect(repeats(r.penalized)).toBeLessThan(repeats(r.greedy));
});

test('abort stops generation within a token and leaves the engine usable', async ({ page }) => {
  const r = await page.evaluate(async (url) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const ac = new AbortController();
    const got: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 200, temperature: 0, signal: ac.signal })) {
      got.push(t.token);
      if (got.length === 3) ac.abort();
    }
    const again: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 3, temperature: 0 })) again.push(t.token);
    await e.dispose();
    return { got, again };
  }, stories);
  expect(r.got.length).toBe(3);
  expect(r.again).toEqual(r.got);
});
