import { test, expect, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { SHARED_URL } from './support/browser.ts';
import { openHarness } from './support/engine-page.ts';
import { loadReference } from './support/reference.ts';

// The OPFS model cache: resumable downloads (a server that drops connections), changed files on the
// server, quota refusal, local-file import, loading without the network, servers without Range.
// Fault injection lives in the model server (/flaky/ paths, /control), shared by this file's tests,
// so they run one after another.
test.describe.configure({ mode: 'serial' });

const SERVER = 'http://127.0.0.1:5174';
const MODEL = 'synth-llama-Q8_0.gguf';
const modelPath = new URL(`../../shared/models/${MODEL}`, import.meta.url);
const SIZE = statSync(modelPath).size;
const SHA256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
const FLAKY = `${SERVER}/flaky/shared/models/${MODEL}`;

const control = async (query: string) => (await fetch(`${SERVER}/control${query}`, { method: 'POST' })).json();
const served = async (): Promise<number> => (await (await fetch(`${SERVER}/control`)).json()).served;

/** Runs downloadModel in the page; returns the model or the error's {code, message}. */
async function download(page: Page, url: string, sha256?: string) {
  return page.evaluate(async ({ url, sha256 }) => {
    try {
      const m = await (window as any).ls.downloadModel(url, { sha256 });
      return { ok: true as const, model: m };
    } catch (e: any) {
      return { ok: false as const, code: e.code as string, message: String(e.message) };
    }
  }, { url, sha256 });
}
const list = (page: Page) => page.evaluate(() => (window as any).ls.listModels());

test.beforeEach(async ({ page }) => {
  await control('/reset');
  await openHarness(page);
});

test('an interrupted download resumes after a reload and the stored file is byte-identical', async ({ page }) => {
  await control('?dropAfter=9000000');
  const first = await download(page, FLAKY);
  expect(first).toMatchObject({ ok: false, code: 'fetch_failed' });
  const [partial] = await list(page);
  expect(partial.complete).toBe(false);
  expect(partial.downloadedBytes).toBeGreaterThan(0);
  expect(partial.downloadedBytes).toBeLessThan(SIZE);

  await page.reload();
  await page.waitForFunction(() => (window as any).harnessReady === true);
  await control('/reset');
  const progress: number[] = [];
  await page.exposeFunction('onProgressBytes', (n: number) => progress.push(n));
  const second = await page.evaluate(async ({ url, sha256 }) => {
    const m = await (window as any).ls.downloadModel(url, { sha256, onProgress: (p: any) => (window as any).onProgressBytes(p.loadedBytes) });
    return m;
  }, { url: FLAKY, sha256: SHA256 });
  expect(second).toMatchObject({ complete: true, sizeBytes: SIZE, downloadedBytes: SIZE, sha256: SHA256 });
  // resumed, not restarted: only the missing chunks (plus the first-megabyte header probe) came again
  expect(await served()).toBeLessThanOrEqual(SIZE - partial.downloadedBytes + (1 << 20) + 1);
  expect(progress[0]).toBe(partial.downloadedBytes);
  expect(progress.at(-1)).toBe(SIZE);
});

test('a changed ETag discards the partial file instead of mixing versions', async ({ page }) => {
  await control('?dropAfter=9000000');
  expect(await download(page, FLAKY)).toMatchObject({ ok: false });
  const [partial] = await list(page);
  expect(partial.downloadedBytes).toBeGreaterThan(0);
  await control('/reset');
  await control('?etagSalt=v2');
  const again = await download(page, FLAKY, SHA256);
  expect(again).toMatchObject({ ok: true, model: { complete: true, sha256: SHA256 } });
  expect(again.ok && again.model.etag).toContain('v2');
  expect(await served()).toBeGreaterThanOrEqual(SIZE); // every chunk fetched again
});

test('a wrong sha256 deletes the download and says so', async ({ page }) => {
  const r = await download(page, `${SHARED_URL}/models/stories260K.gguf`, '0'.repeat(64));
  expect(r).toMatchObject({ ok: false, code: 'integrity' });
  expect(r.ok || r.message).toMatch(/sha256 mismatch/);
  expect(await list(page)).toEqual([]);
});

test('a model that cannot fit the storage quota is refused up front with the numbers', async ({ page }) => {
  const r = await page.evaluate(async (url) => {
    navigator.storage.estimate = async () => ({ usage: 1000, quota: 5000 });
    try {
      await (window as any).ls.downloadModel(url);
      return null;
    } catch (e: any) {
      return { code: e.code, message: String(e.message) };
    }
  }, FLAKY);
  expect(r).toMatchObject({ code: 'quota_exceeded' });
  expect(r!.message).toContain(`needs ${SIZE} more bytes`);
  expect(r!.message).toContain('only 4000 of');
  expect(await list(page)).toEqual([]);
  expect(await served()).toBeLessThanOrEqual(1 << 20); // only the size probe
});

test('a cached model loads and generates with the server gone; delete frees it', async ({ page }) => {
  const ref = loadReference('synth-llama-Q8_0', 'f64');
  expect(await download(page, FLAKY)).toMatchObject({ ok: true });
  await control('?dropAfter=0'); // every request to the server now fails
  const r = await page.evaluate(async ({ url, prompt }) => {
    const ls = (window as any).ls;
    const e = await ls.createEngine({ model: url });
    const out: number[] = [];
    for await (const t of e.generate({ prompt, maxTokens: 6, temperature: 0 })) out.push(t.token);
    await e.dispose();
    const before = await ls.storageEstimate();
    const [m] = await ls.listModels();
    await ls.deleteModel(m.id);
    const after = await ls.storageEstimate();
    let missing = '';
    try { await ls.deleteModel(m.id); } catch (err: any) { missing = err.code; }
    return { out, before: before.modelBytes, after: after.modelBytes, left: await ls.listModels(), missing };
  }, { url: FLAKY, prompt: ref.prompt_tokens });
  expect(r.out).toEqual(ref.greedy_tokens.slice(0, 6));
  expect(r.before).toBe(SIZE);
  expect(r.after).toBe(0);
  expect(r.left).toEqual([]);
  expect(r.missing).toBe('not_found');
});

test('an engine load fills the cache as it reads, so the next load needs no server', async ({ page }) => {
  const r = await page.evaluate(async (url) => {
    const ls = (window as any).ls;
    const e = await ls.createEngine({ model: url });
    const a: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 4, temperature: 0 })) a.push(t.token);
    await e.dispose();
    return { a, models: await ls.listModels() };
  }, `${SERVER}/flaky/shared/models/stories260K.gguf`);
  expect(r.a).toEqual([432, 383, 286, 261]);
  expect(r.models).toMatchObject([{ complete: true, sizeBytes: 1185376 }]);
  await control('?dropAfter=0');
  const again = await page.evaluate(async (url) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const a: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 4, temperature: 0 })) a.push(t.token);
    await e.dispose();
    return a;
  }, `${SERVER}/flaky/shared/models/stories260K.gguf`);
  expect(again).toEqual([432, 383, 286, 261]);
});

test('a local file is imported into OPFS by streaming and gives the same tokens', async ({ page }) => {
  const ref = loadReference('stories260K', 'llamacpp');
  const r = await page.evaluate(async (url) => {
    const ls = (window as any).ls;
    const bytes = await (await fetch(url)).arrayBuffer();
    const file = new File([bytes], 'my-stories.gguf');
    const m = await ls.importModel(file);
    const e = await ls.createEngine({ model: ls.CACHE_SCHEME + m.id });
    let text = '';
    const out: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 64, temperature: 0 })) {
      out.push(t.token);
      text += t.text;
    }
    await e.dispose();
    return { m, out, text };
  }, `${SHARED_URL}/models/stories260K.gguf`);
  expect(r.m).toMatchObject({ url: null, name: 'my-stories.gguf', complete: true, sizeBytes: 1185376 });
  expect(r.out).toEqual(ref.greedy_tokens);
  expect(r.text).toBe(ref.greedy_text);
});

test('a server without Range support is downloaded with one streamed GET', async ({ page }) => {
  const url = `${SERVER}/norange/shared/models/stories260K.gguf`;
  const r = await download(page, url);
  expect(r).toMatchObject({ ok: true, model: { complete: true, sizeBytes: 1185376 } });
  const out = await page.evaluate(async (url) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const a: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 4, temperature: 0 })) a.push(t.token);
    await e.dispose();
    return a;
  }, url);
  expect(out).toEqual([432, 383, 286, 261]);
});
