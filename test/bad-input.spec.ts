import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { openHarness, STORIES_GREEDY_START, storiesGreedyStart } from './support/engine-page.ts';

// Bad input: createEngine rejects with a typed LayerstreamError whose message names the problem,
// and the page (and a new engine in it) stays usable afterwards.

test.beforeEach(async ({ page }) => openHarness(page));

/**
 * Edits of a GGUF header made in the page: a tensor's ggml type id or one of its dims, a metadata
 * key's u32 value, or a same-length rename of a string.
 */
type Edit =
  | { tensorType: string; type: number }
  | { tensorDim: string; dim: number; value: number }
  | { key: string; u32: number }
  | { rename: string; to: string };

/** createEngine in the page; returns {code, message, isLayerstreamError} of the rejection, or null. */
async function loadError(page: import('@playwright/test').Page, model: string | { blobOf: string; edits?: Edit[]; cut?: number }, opts: Record<string, unknown> = {}) {
  return page.evaluate(async ({ model, opts }) => {
    const { createEngine, LayerstreamError } = (window as any).ls;
    let m: string | Blob;
    if (typeof model === 'string') m = model;
    else {
      let bytes = new Uint8Array(await (await fetch(model.blobOf)).arrayBuffer());
      if (model.cut) bytes = bytes.slice(0, model.cut);
      const dv = new DataView(bytes.buffer);
      // GGUF strings are length-prefixed: find "<u64 len><text>" to hit a key or tensor name exactly
      const find = (text: string) => {
        const t = new TextEncoder().encode(text);
        const at = bytes.findIndex((_, i) => t.every((c, j) => bytes[i + j] === c) && dv.getUint32(i - 8, true) === t.length);
        if (at < 0) throw new Error(`${text} not found`);
        return at + t.length;
      };
      for (const e of (model.edits ?? []) as any[]) {
        if ('tensorType' in e) {
          const end = find(e.tensorType);
          dv.setUint32(end + 4 + 8 * dv.getUint32(end, true), e.type, true);
        } else if ('tensorDim' in e) {
          const end = find(e.tensorDim);
          dv.setUint32(end + 4 + 8 * e.dim, e.value, true);
        } else if ('key' in e) {
          const end = find(e.key);
          if (dv.getUint32(end, true) !== 4) throw new Error(`${e.key} is not a u32`);
          dv.setUint32(end + 4, e.u32, true);
        } else {
          bytes.set(new TextEncoder().encode(e.to), find(e.rename) - e.rename.length);
        }
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
  // F32 → I32: same size, no kernel
  const e = await loadError(page, { blobOf: stories, edits: [{ tensorType: 'blk.1.ffn_up.weight', type: 26 }] });
  expect(e).toMatchObject({ code: 'unsupported_tensor_type' });
  expect(e!.message).toContain('I32');
  expect(e!.message).toContain('blk.1.ffn_up.weight');
  // Q8_0 → Q1_0 (ggml's 1-bit type of 2026, no kernel yet; smaller, so the data still fits the file)
  const iq = await loadError(page, { blobOf: `${SHARED_URL}/models/synth-llama-Q8_0.gguf`, edits: [{ tensorType: 'blk.2.attn_q.weight', type: 41 }] });
  expect(iq).toMatchObject({ code: 'unsupported_tensor_type' });
  expect(iq!.message).toContain('Q1_0');
  expect(iq!.message).toContain('blk.2.attn_q.weight');
});

test('a tensor shape that contradicts the hyperparameters is named', async ({ page }) => {
  const e = await loadError(page, { blobOf: stories, edits: [{ tensorDim: 'blk.0.attn_q.weight', dim: 1, value: 32 }] });
  expect(e).toMatchObject({ code: 'malformed' });
  expect(e!.message).toMatch(/blk\.0\.attn_q\.weight has shape \[64, 32\] but the hyperparameters say \[64, 64\]/);
});

test('a missing tensor is named', async ({ page }) => {
  const e = await loadError(page, { blobOf: stories, edits: [{ rename: 'blk.2.ffn_down.weight', to: 'blk.2.ffn_dXwn.weight' }] });
  expect(e).toMatchObject({ code: 'missing_tensor' });
  expect(e!.message).toContain('blk.2.ffn_down.weight');
});

test('an expert count of 0 is named', async ({ page }) => {
  const e = await loadError(page, { blobOf: `${SHARED_URL}/models/synth-moe-Q4_K_M.gguf`, edits: [{ key: 'llama.expert_count', u32: 0 }] });
  expect(e).toMatchObject({ code: 'malformed' });
  expect(e!.message).toContain('llama.expert_count');
});

test('a BPE vocabulary without merges is named', async ({ page }) => {
  const e = await loadError(page, { blobOf: `${SHARED_URL}/models/synth-qwen2-Q4_K_M.gguf`, edits: [{ rename: 'tokenizer.ggml.merges', to: 'tokenizer.ggml.mergeX' }] });
  expect(e).toMatchObject({ code: 'malformed' });
  expect(e!.message).toContain('tokenizer.ggml.merges');
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

test('a budget too small for one layer plus the K/V cache is refused with the minimum, and the minimum works', async ({ page }) => {
  const e = await loadError(page, stories, { gpuBudgetBytes: 1000 });
  expect(e).toMatchObject({ code: 'budget_too_small' });
  expect(e!.message).toMatch(/needs at least \d+ bytes/);
  expect(e!.message).toMatch(/K\/V cache \(2048 tokens, f32\)/);
  const minimum = Number(/needs at least (\d+) bytes/.exec(e!.message)![1]);
  expect(await loadError(page, stories, { gpuBudgetBytes: minimum - 1 })).toMatchObject({ code: 'budget_too_small' });
  const r = await page.evaluate(async ({ url, minimum }) => {
    const eng = await (window as any).ls.createEngine({ model: url, gpuBudgetBytes: minimum });
    const out: number[] = [];
    for await (const t of eng.generate({ prompt: 'Once upon a time', maxTokens: 5, temperature: 0 })) out.push(t.token);
    const s = await eng.stats();
    await eng.dispose();
    return { out, s };
  }, { url: stories, minimum });
  expect(r.out).toEqual([432, 383, 286, 261, 376]); // llama.cpp's greedy start (shared/reference)
  expect(r.s.layersResident).toBe(0);
  expect(r.s.weightBytesOnGpu + r.s.kvCacheBytes + r.s.scratchBytes).toBeLessThanOrEqual(minimum);
});

test('after failed loads the page still loads and runs a model', async ({ page }) => {
  expect(await loadError(page, `${SHARED_URL}/README.md`)).not.toBeNull();
  expect(await loadError(page, { blobOf: stories, cut: 600_000 })).not.toBeNull();
  expect(await loadError(page, stories, { gpuBudgetBytes: 10 })).not.toBeNull();
  expect(await storiesGreedyStart(page)).toEqual(STORIES_GREEDY_START);
});

test('a connection lost in the middle of a Range response is fetch_failed naming the URL; the source reads again after', async ({ page }) => {
  // its own fault channel (/flaky-range, /control-range): storage tests use the default one in parallel
  const flaky = 'http://127.0.0.1:5174/flaky-range/shared/models/synth-llama-Q8_0.gguf';
  const control = async (q: string) => (await fetch(`http://127.0.0.1:5174/control-range${q}`, { method: 'POST' })).json();
  await control('/reset');
  const r = await page.evaluate(async ({ flaky, plain }) => {
    const ls = (window as any).ls;
    const src = await ls.openByteSource(flaky);
    const whole = new Uint8Array(await (await fetch(plain)).arrayBuffer());
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
    // readInto streams a response body straight into the caller's buffer, here past the 1 MiB head
    const dest = new Uint8Array(3 << 20);
    await src.readInto(1 << 20, dest);
    const first = same(dest, whole.subarray(1 << 20, 4 << 20));
    await fetch('http://127.0.0.1:5174/control-range?dropAfter=100000', { method: 'POST' });
    let error: any = null;
    try {
      await src.readInto(5 << 20, dest);
    } catch (e: any) {
      error = { code: e.code, message: e.message };
    }
    await fetch('http://127.0.0.1:5174/control-range/reset', { method: 'POST' });
    await src.readInto(5 << 20, dest);
    return { first, error, after: same(dest, whole.subarray(5 << 20, 8 << 20)) };
  }, { flaky, plain: `${SHARED_URL}/models/synth-llama-Q8_0.gguf` });
  expect(r.first).toBe(true);
  expect(r.error?.code).toBe('fetch_failed');
  expect(r.error?.message).toContain(flaky);
  expect(r.after).toBe(true);
  await control('/reset');
});

test('aborting createEngine ends the load at once: its worker stops reading, and the page loads again', async ({ page }) => {
  // a slow server (its own fault channel): every response 500 ms late, so the load takes seconds
  const control = (q: string) => fetch(`http://127.0.0.1:5174/control-abortload${q}`, { method: 'POST' }).then((r) => r.json());
  await control('/reset');
  await control('?delayMs=500');
  const slow = 'http://127.0.0.1:5174/flaky-abortload/shared/models/synth-llama-Q8_0.gguf';
  const r = await page.evaluate(async (model) => {
    const ac = new AbortController();
    const loading = (window as any).ls.createEngine({ model, signal: ac.signal });
    await new Promise((res) => setTimeout(res, 1200));
    const t0 = performance.now();
    ac.abort();
    try {
      await loading;
      return { code: 'loaded', ms: 0 };
    } catch (e: any) {
      return { code: e.code, ms: performance.now() - t0 };
    }
  }, slow);
  expect(r.code).toBe('aborted');
  expect(r.ms).toBeLessThan(500);
  // the worker is gone: no request reaches the server after the ones in flight
  await new Promise((res) => setTimeout(res, 700));
  const a = await control('');
  await new Promise((res) => setTimeout(res, 2000));
  const b = await control('');
  expect(b.requests).toBe(a.requests);
  await control('/reset');
  expect(await storiesGreedyStart(page)).toEqual(STORIES_GREEDY_START);
});
