import { test, expect, type Page } from '@playwright/test';
import { statSync } from 'node:fs';
import { SHARED_URL } from './support/browser.ts';
import { openHarness } from './support/engine-page.ts';

// Browser storage taken away while a model uses it, as a person clearing the site's data or the
// browser evicting it does (DevTools protocol Storage.clearDataForOrigin), and a quota that shrinks
// while a download runs (Storage.overrideQuotaForOrigin).

const ORIGIN = 'http://127.0.0.1:5173';
const MODEL = 'synth-llama-Q8_0.gguf';
const MODEL_URL = `${SHARED_URL}/models/${MODEL}`;
const SIZE = statSync(new URL(`../../shared/models/${MODEL}`, import.meta.url)).size;
const CHUNK = 4 << 20;

async function clearSiteStorage(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.clearDataForOrigin', { origin: ORIGIN, storageTypes: 'file_systems,indexeddb' });
  await cdp.detach();
}

test('site data cleared under a streamed model: the next read is storage_lost naming it; a new download resumes cleanly and gives the same tokens', async ({ page }) => {
  await openHarness(page);
  const first = await page.evaluate(async (url) => {
    const w = window as any;
    const m = await w.ls.downloadModel(url);
    // 12 MiB of GPU memory for a 20 MiB plan: layers stream from OPFS on every token
    w.eng = await w.ls.createEngine({ model: w.ls.CACHE_SCHEME + m.id, gpuBudgetBytes: 12 << 20, contextLength: 64 });
    const tokens: number[] = [];
    for await (const t of w.eng.generate({ prompt: [1, 450, 4996], maxTokens: 6, temperature: 0 })) tokens.push(t.token);
    return { id: m.id, tokens, streamed: (await w.eng.stats()).layersStreamed };
  }, MODEL_URL);
  expect(first.streamed).toBeGreaterThan(0);
  expect(first.tokens.length).toBe(6);

  await clearSiteStorage(page);
  const lost = await page.evaluate(async () => {
    const w = window as any;
    const t0 = performance.now();
    try {
      for await (const _ of w.eng.generate({ prompt: [1, 450, 4996], maxTokens: 6, temperature: 0 }));
      return { code: 'none', message: '', ms: 0, listed: [] as string[] };
    } catch (e: any) {
      const ms = performance.now() - t0;
      // a second call fails the same way (nothing half-done is left behind)
      let again = '';
      try {
        for await (const _ of w.eng.generate({ prompt: [1, 450, 4996], maxTokens: 2, temperature: 0 }));
      } catch (e2: any) {
        again = e2.code;
      }
      await w.eng.dispose();
      return { code: e.code, again, message: e.message, ms, listed: (await w.ls.listModels()).map((m: any) => m.id) };
    }
  });
  expect(lost.code, lost.message).toBe('storage_lost');
  expect((lost as any).again).toBe('storage_lost');
  expect(lost.message).toContain(MODEL);
  expect(lost.message).toMatch(/download it again/);
  expect(lost.ms).toBeLessThan(5_000);
  expect(lost.listed).toEqual([]);

  const second = await page.evaluate(async (url) => {
    const w = window as any;
    const m = await w.ls.downloadModel(url);
    const e = await w.ls.createEngine({ model: w.ls.CACHE_SCHEME + m.id, gpuBudgetBytes: 12 << 20, contextLength: 64 });
    const tokens: number[] = [];
    for await (const t of e.generate({ prompt: [1, 450, 4996], maxTokens: 6, temperature: 0 })) tokens.push(t.token);
    await e.dispose();
    return { id: m.id, complete: m.complete, bytes: m.downloadedBytes, tokens };
  }, MODEL_URL);
  expect(second.id).toBe(first.id);
  expect(second.complete).toBe(true);
  expect(second.bytes).toBe(SIZE);
  expect(second.tokens).toEqual(first.tokens);
});

test('the app: the loaded model cleared from storage is shown missing, and Download again stores it back', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  const manager = page.getByTestId('model-manager');
  await expect(manager.getByTestId('cached-model')).toHaveCount(1);
  const name = await manager.getByTestId('cached-model').getAttribute('data-name');
  await clearSiteStorage(page);
  // the app re-reads storage when its window gains focus (and after every generation)
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  const missing = manager.getByTestId('missing-model');
  await expect(missing).toBeVisible({ timeout: 30_000 });
  await expect(missing).toHaveAttribute('data-name', name!);
  await expect(missing.getByTestId('missing-model-state')).toHaveText('missing');
  await expect(manager.getByTestId('cached-model')).toHaveCount(0);
  // the next read (an embedding row: they are read from the file as tokens need them) fails, typed and named
  await page.getByTestId('tab-complete').click();
  await page.getByTestId('prompt').fill('A brand new prompt, with words unseen');
  await page.getByTestId('max-tokens').fill('4');
  await page.getByTestId('generate').click();
  const banner = page.getByTestId('error-banner');
  await expect(banner).toHaveAttribute('data-code', 'storage_lost', { timeout: 60_000 });
  await expect(banner.getByTestId('error-message')).toContainText(name!);
  await page.screenshot({ path: test.info().outputPath('storage-lost.png'), fullPage: true });
  await missing.getByTestId('missing-model-download').click();
  await expect(manager.getByTestId('cached-model')).toHaveCount(1, { timeout: 60_000 });
  await expect(manager.getByTestId('cached-model').first()).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  await expect(missing).toHaveCount(0);
  // the loaded engine reads the new copy: generation works again without reloading the model
  await page.getByTestId('error-banner').getByRole('button').first().click().catch(() => {});
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('output')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
});

test('a quota that shrinks mid-download pauses it with the numbers; once space is back, Resume completes it', async ({ page }) => {
  // chunk 0 passes; later chunks wait until the quota has been cut
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await page.route(MODEL_URL, async (route) => {
    const m = /bytes=(\d+)-(\d+)/.exec(route.request().headers()['range'] ?? '');
    try {
      if (m && Number(m[1]) >= CHUNK) await released;
      await route.continue();
    } catch {
      // aborted by the page meanwhile
    }
  });
  await page.goto('/');
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  const manager = page.getByTestId('model-manager');
  await manager.getByTestId('download-url').fill(MODEL_URL);
  await manager.getByTestId('download-start').click();
  const row = manager.getByTestId('download-progress');
  await expect(row.getByTestId('download-bytes')).toHaveText(/^4\.00 MiB \/ 12\.1 MiB/, { timeout: 30_000 });
  const cdp = await page.context().newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN, quotaSize: usage + (1 << 20) });
  release();
  await expect(row).toHaveAttribute('data-status', 'paused', { timeout: 60_000 });
  const error = row.getByTestId('download-error');
  await expect(error).toHaveAttribute('data-code', 'quota_exceeded');
  await expect(error.getByTestId('quota-numbers')).toHaveText(/^\s*Needs 8\.\d+ MiB more, but only .+ of this site's .+ quota is free\.\s*$/);
  await expect(row.getByTestId('download-bytes')).toHaveText(/^4\.00 MiB \/ 12\.1 MiB/);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN });
  await row.getByTestId('download-resume').click();
  await expect(row).toHaveCount(0, { timeout: 60_000 });
  const item = manager.locator(`[data-testid="cached-model"][data-name="${MODEL}"]`);
  await expect(item).toHaveAttribute('data-complete', 'true');
  await cdp.detach();
});
