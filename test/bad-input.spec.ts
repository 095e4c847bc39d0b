import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { openHarness } from './support/engine-page.ts';

// Bad input: createEngine rejects with a typed LayerstreamError whose message names the problem,
// and the page (and a new engine in it) stays usable afterwards.

test.beforeEach(async ({ page }) => openHarness(page));

/** createEngine in the page; returns {code, message, isLayerstreamError} of the rejection, or null. */
async function loadError(page: import('@playwright/test').Page, model: string | { blobOf: string; patch?: string; cut?: number }, opts: Record<string, unknown> = {}) {
  return page.evaluate(async ({ model, opts }) => {
    const { createEngine, LayerstreamError } = (window as any).ls;
    let m: string | Blob;
    if (typeof model === 'string') m = model;
    else {
      let bytes = new Uint8Array(await (await fetch(model.blobOf)).arrayBuffer());
      if (model.cut) bytes = bytes.slice(0, model.cut);
      if (model.patch) {
        // change the ggml type of tensor `patch` from F32 (0) to I32 (26): same size, no kernel
        const name = new TextEncoder().encode(model.patch);
        const at = bytes.findIndex((_, i) => name.every((c, j) => bytes[i + j] === c));
        const dv = new DataView(bytes.buffer);
        const nDims = dv.getUint32(at + name.length, true);
        const typeAt = at + name.length + 4 + 8 * nDims;
        if (dv.getUint32(typeAt, true) !== 0) throw new Error('expected an F32 tensor');
        dv.setUint32(typeAt, 26, true);
      }
      m = new Blob([bytes]);
    }
    try {
      const e = await createEngine({ model: m, ...opts });
      await e.dispose();
      return null;
    } catch (e: any) {
      return { code: e.code, message: String(e.message), isLayerstreamError: e instanceof LayerstreamError };
    }
  }, { model, opts });
}

const stories = `${SHARED_URL}/models/stories260K.gguf`;

test('not a GGUF file', async ({ page }) => {
  const e = await loadError(page, `${SHARED_URL}/README.md`);
  expect(e).toMatchObject({ code: 'not_gguf', isLayerstreamError: true });
  expect(e!.message).toMatch(/not a GGUF file: bad magic/);
});

test('truncated GGUF (header complete, tensor data cut off)', async ({ page }) => {
  const e = await loadError(page, { blobOf: stories, cut: 600_000 });
  expect(e).toMatchObject({ code: 'truncated' });
  expect(e!.message).toMatch(/tensor \S+ data runs to byte \d+/);
});

test('truncated GGUF (inside the header)', async ({ page }) => {
  const e = await loadError(page, { blobOf: stories, cut: 3000 });
  expect(e).toMatchObject({ code: 'truncated' });
});

test('unsupported architecture is named', async ({ page }) => {
  const e = await loadError(page, `${SHARED_URL}/tokenizer/ggml-vocab-bert-bge.gguf`);
  expect(e).toMatchObject({ code: 'unsupported_architecture' });
  expect(e!.message).toContain('"bert"');
});

test('unsupported tensor type is refused at load, naming type and tensor', async ({ page }) => {
  const e = await loadError(page, { blobOf: stories, patch: 'blk.1.ffn_up.weight' });
  expect(e).toMatchObject({ code: 'unsupported_tensor_type' });
  expect(e!.message).toContain('I32');
  expect(e!.message).toContain('blk.1.ffn_up.weight');
});

test('unreachable URL, HTTP 404, and a server without Range support', async ({ page }) => {
  const unreachable = await loadError(page, 'http://127.0.0.1:9/model.gguf');
  expect(unreachable).toMatchObject({ code: 'fetch_failed' });
  expect(unreachable!.message).toContain('127.0.0.1:9/model.gguf');
  const missing = await loadError(page, `${SHARED_URL}/models/nope.gguf`);
  expect(missing).toMatchObject({ code: 'fetch_failed' });
  expect(missing!.message).toContain('HTTP 404');
  const norange = await loadError(page, 'http://127.0.0.1:5174/norange/shared/models/stories260K.gguf');
  expect(norange).toMatchObject({ code: 'no_range_support' });
  expect(norange!.message).toMatch(/Range/);
});

test('a budget too small for streaming names the minimum', async ({ page }) => {
  const e = await loadError(page, stories, { gpuBudgetBytes: 1000 });
  expect(e).toMatchObject({ code: 'budget_too_small' });
  expect(e!.message).toMatch(/needs at least \d+ bytes/);
});

test('after failed loads the page still loads and runs a model', async ({ page }) => {
  expect(await loadError(page, `${SHARED_URL}/README.md`)).not.toBeNull();
  expect(await loadError(page, { blobOf: stories, cut: 600_000 })).not.toBeNull();
  const tokens = await page.evaluate(async (url) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const out: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 5, temperature: 0 })) out.push(t.token);
    await e.dispose();
    return out;
  }, stories);
  expect(tokens).toEqual([432, 383, 286, 261, 376]); // llama.cpp's greedy start (shared/reference)
});
