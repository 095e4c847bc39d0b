import { test, expect, type Locator, type Page } from '@playwright/test';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The model manager in the web UI (<ls-model-manager> and the storage tier of the memory panel),
// driven like a person would, against the real OPFS cache of a fresh browser context per test.
//
// Downloads are slowed down and faulted with Playwright request routing (page.route also sees the
// storage worker's fetches), not with the model server's /flaky paths + /control: that fault state
// and its byte counter are global to the server, and test/storage.spec.ts sets and reads them while
// it runs in the other worker (even a /control/reset from here would clear its faults mid-test).
// So this file never touches /flaky or /control. Its tests still run one after another.
test.describe.configure({ mode: 'serial' });

const SERVER = 'http://127.0.0.1:5174';
const MODEL = 'synth-llama-Q8_0.gguf';
const MODEL_URL = `${SERVER}/shared/models/${MODEL}`;
const SIZE = statSync(new URL(`../../shared/models/${MODEL}`, import.meta.url)).size;
const STORIES_PATH = fileURLToPath(new URL('../../shared/models/stories260K.gguf', import.meta.url));
/** the OPFS cache's unit of download and resume (src/storage/cached-file.ts) */
const CHUNK = 4 << 20;
const PROMPT = 'Once upon a time';
const GREEDY_START = ', there was a little girl';

const shot = (name: string) => path.join(test.info().project.outputDir, name);

/** Opens the app and waits until the default model is loaded (and so cached and listed). */
async function openApp(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  // the default model went through the OPFS cache as it was read: it is listed, complete
  await expect(cachedRows(page)).toHaveCount(1);
  await expect(cachedRows(page).first()).toHaveAttribute('data-complete', 'true');
  return errors;
}

const manager = (page: Page) => page.getByTestId('model-manager');
const cachedRows = (page: Page) => manager(page).getByTestId('cached-model');
const cachedRow = (page: Page, name: string) => manager(page).locator(`[data-testid="cached-model"][data-name="${name}"]`);

interface ChunkGate {
  /** lets the held chunk requests (and all later ones) through */
  open(): void;
  /** chunk requests by their first byte, in the order they arrived */
  starts: number[];
}

/**
 * Routes the model's Range requests: chunk 0 arrives after a short delay (so a rate is measured),
 * later chunks wait until `open()`. `fail(start)` true: that request gets a connection reset instead.
 * `holdSizeProbe`: the one-byte request that sizes the file waits for it (the row stays "connecting…").
 */
async function gateChunks(page: Page, url: string, o: { fail?: (start: number) => boolean; holdSizeProbe?: Promise<void> } = {}): Promise<ChunkGate> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const starts: number[] = [];
  await page.route(url, async (route) => {
    const m = /bytes=(\d+)-(\d+)/.exec(route.request().headers()['range'] ?? '');
    const start = m ? Number(m[1]) : 0;
    const length = m ? Number(m[2]) - start + 1 : SIZE;
    // a chunk, not the size probe (bytes=0-0) nor the header probe (the first MiB)
    const isChunk = start % CHUNK === 0 && (length === CHUNK || start + length === SIZE);
    if (isChunk) starts.push(start);
    try {
      if (length === 1 && o.holdSizeProbe) await o.holdSizeProbe;
      if (isChunk && o.fail?.(start)) return await route.abort('connectionreset');
      if (start >= CHUNK) await opened;
      else if (isChunk) await new Promise((r) => setTimeout(r, 600));
      await route.continue();
    } catch {
      // the page aborted this request meanwhile (Pause, Cancel)
    }
  });
  return { open, starts };
}

async function generate(page: Page, prompt: string, maxTokens: number): Promise<string> {
  await page.getByTestId('tab-complete').click(); // the raw-completion view (Chat is the default tab)
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('max-tokens').fill(String(maxTokens));
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('output')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('token-count')).toHaveText(String(maxTokens));
  return (await page.getByTestId('output').textContent()) ?? '';
}

async function startDownload(page: Page, url: string): Promise<Locator> {
  await manager(page).getByTestId('download-url').fill(url);
  await manager(page).getByTestId('download-start').click();
  return manager(page).getByTestId('download-progress');
}

test('downloads a model by URL with progress, lists it complete, loads it, generates, deletes it', async ({ page }) => {
  expect(SIZE).toBe(12_642_464);
  const gate = await gateChunks(page, MODEL_URL);
  const errors = await openApp(page);

  const row = await startDownload(page, MODEL_URL);
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-kind', 'download');
  // chunk 0 is stored, the rest are held by the gate: bytes done/total, a rate and an ETA
  await expect(row.getByTestId('download-bytes')).toHaveText('4.00 MiB / 12.1 MiB · 33%');
  await expect(row.getByTestId('download-status')).toHaveText('downloading');
  await expect(row.getByTestId('download-rate')).toHaveText(/^\d+(\.\d+)? (KiB|MiB|GiB)\/s$/);
  await expect(row.getByTestId('download-eta')).toHaveText(/^(<1 s|\d+ s|\d+ min( \d+ s)?) left$/);
  await expect(row.getByTestId('download-pause')).toBeEnabled();
  await expect(row.getByTestId('download-cancel')).toBeEnabled();
  // the partial model is listed while it downloads
  await expect(cachedRow(page, MODEL)).toHaveAttribute('data-complete', 'false');
  await expect(cachedRow(page, MODEL).getByTestId('cached-model-state')).toHaveText('downloading');
  await page.screenshot({ path: shot('manager-downloading.png'), fullPage: true });

  gate.open();
  await expect(row).toHaveCount(0, { timeout: 60_000 });
  const item = cachedRow(page, MODEL);
  await expect(item).toHaveAttribute('data-complete', 'true');
  await expect(item.getByTestId('cached-model-state')).toHaveText('complete');
  await expect(item.getByTestId('cached-model-size')).toHaveText('12.1 MiB');
  await expect(item.getByTestId('cached-model-source')).toHaveText('127.0.0.1:5174/shared/models/synth-llama-Q8_0.gguf');
  await expect(item.getByTestId('cached-model-used')).toHaveText('used just now');
  expect(gate.starts.filter((s) => s === 0)).toHaveLength(1); // every chunk fetched once
  // storage: both models' bytes, and the origin's usage and quota
  const storage = manager(page).getByTestId('storage-estimate');
  await expect(storage.getByTestId('storage-models')).toHaveText('13.2 MiB'); // 12,642,464 + 1,185,376 bytes
  await expect(storage.getByTestId('storage-quota')).toHaveText(/\d.*(MiB|GiB|TiB)$/);
  await expect(storage.getByTestId('storage-persisted')).toHaveText(/^(yes|no)$/);

  // Load it: the engine reads the complete cached copy
  await item.getByTestId('cached-model-load').click();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  await expect(item.getByTestId('cached-model-load')).toHaveText('Loaded');
  await expect(item.getByTestId('cached-model-load')).toBeDisabled();
  await expect(page.getByTestId('model-info')).toContainText('llama');
  // the memory panel's storage tier: the model's bytes come from OPFS
  const tier = page.getByTestId('memory-panel').getByTestId('mem-storage');
  await expect(tier.getByTestId('mem-storage-source')).toHaveText('OPFS, no network');
  await expect(tier.getByTestId('mem-storage-stored')).toHaveText('12.1 MiB / 12.1 MiB');
  await expect(tier.getByTestId('mem-storage-quota')).toHaveText(/ \/ .*%$/);
  await generate(page, PROMPT, 5);
  await page.screenshot({ path: shot('manager-list.png'), fullPage: true });

  // Delete, with the confirm step; the loaded model is unloaded first
  await item.getByTestId('cached-model-delete').click();
  const confirm = item.getByTestId('cached-model-delete-confirm');
  await expect(confirm).toBeVisible();
  await expect(item.getByRole('alertdialog')).toContainText('It is loaded and will be unloaded.');
  // backing out keeps it
  await item.getByTestId('cached-model-delete-cancel').click();
  await expect(confirm).toHaveCount(0);
  await expect(item).toHaveCount(1);
  await item.getByTestId('cached-model-delete').click();
  await confirm.click();
  await expect(item).toHaveCount(0);
  await expect(cachedRows(page)).toHaveCount(1); // the default model stays
  await expect(page.getByTestId('model-info')).toHaveText('No model loaded.');
  await expect(page.getByTestId('generate')).toBeDisabled();
  await expect(storage.getByTestId('storage-models')).toHaveText('1.13 MiB');
  await expect(manager(page).getByTestId('manager-error')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('Pause keeps the stored chunks (partial, "paused"), Resume fetches only the rest and completes', async ({ page }) => {
  const gate = await gateChunks(page, MODEL_URL);
  await openApp(page);

  const row = await startDownload(page, MODEL_URL);
  await expect(row.getByTestId('download-bytes')).toHaveText('4.00 MiB / 12.1 MiB · 33%');
  await row.getByTestId('download-pause').click();
  await expect(row).toHaveAttribute('data-status', 'paused');
  await expect(row.getByTestId('download-status')).toHaveText('paused');
  await expect(row.getByTestId('download-pause')).toHaveCount(0);
  await expect(row.getByTestId('download-resume')).toBeVisible();
  await expect(row.getByTestId('download-error')).toHaveCount(0);
  const item = cachedRow(page, MODEL);
  await expect(item).toHaveAttribute('data-complete', 'false');
  await expect(item.getByTestId('cached-model-state')).toHaveText('paused');
  await expect(item.getByTestId('cached-model-stored')).toHaveText('4.00 MiB / 12.1 MiB');
  await expect(item.getByTestId('cached-model-load')).toHaveCount(0); // partial: no Load
  // it stays paused
  await page.waitForTimeout(500);
  await expect(row).toHaveAttribute('data-status', 'paused');

  gate.open();
  const before = gate.starts.length;
  await row.getByTestId('download-resume').click();
  await expect(row).toHaveCount(0, { timeout: 60_000 });
  await expect(item).toHaveAttribute('data-complete', 'true');
  await expect(item.getByTestId('cached-model-size')).toHaveText('12.1 MiB');
  // resumed, not restarted: chunk 0 was not fetched again, the three missing chunks were
  expect(gate.starts.slice(before).sort((a, b) => a - b)).toEqual([CHUNK, 2 * CHUNK, 3 * CHUNK]);

  // and a partial can be resumed from its list row too (after a reload, say): pause, reload, Resume
  await item.getByTestId('cached-model-delete').click();
  await item.getByTestId('cached-model-delete-confirm').click();
  await expect(item).toHaveCount(0);
  const gate3 = await gateChunks(page, MODEL_URL); // the newest route handler answers first
  const row2 = await startDownload(page, MODEL_URL);
  await expect(row2.getByTestId('download-bytes')).toHaveText('4.00 MiB / 12.1 MiB · 33%');
  await row2.getByTestId('download-pause').click();
  await expect(row2).toHaveAttribute('data-status', 'paused');
  await page.reload();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  await expect(manager(page).getByTestId('download-progress')).toHaveCount(0);
  await expect(item.getByTestId('cached-model-state')).toHaveText('partial');
  await expect(item.getByTestId('cached-model-stored')).toHaveText('4.00 MiB / 12.1 MiB');
  gate3.open();
  await item.getByTestId('cached-model-resume').click();
  await expect(item).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  await expect(manager(page).getByTestId('download-progress')).toHaveCount(0);
});

test('errors show inline: quota refusal with its numbers; a dropped connection keeps the partial and Resume completes it; Cancel deletes it', async ({ page }) => {
  let failing = true;
  await gateChunks(page, MODEL_URL, { fail: (start) => failing && start >= 2 * CHUNK }).then((g) => g.open());
  await openApp(page);

  // Not enough quota: refused up front, nothing stored, the numbers shown
  await page.evaluate(() => {
    const real = navigator.storage.estimate.bind(navigator.storage);
    (window as any).__realEstimate = real;
    navigator.storage.estimate = async () => ({ usage: 1000, quota: 5000 });
  });
  let row = await startDownload(page, MODEL_URL);
  await expect(row).toHaveAttribute('data-status', 'failed');
  const quota = row.getByTestId('download-error');
  await expect(quota).toHaveAttribute('data-code', 'quota_exceeded');
  await expect(quota).toContainText(`needs ${SIZE} more bytes`);
  await expect(quota.getByTestId('quota-numbers')).toHaveText("Needs 12.1 MiB more, but only 3.91 KiB of this site's 4.88 KiB quota is free.");
  await expect(cachedRow(page, MODEL)).toHaveCount(0);
  await page.evaluate(() => (navigator.storage.estimate = (window as any).__realEstimate));
  await row.getByTestId('download-cancel').click();
  await expect(row).toHaveCount(0);

  // The connection drops on chunks 2 and 3: fetch_failed inline, chunks 0 and 1 kept
  row = await startDownload(page, MODEL_URL);
  await expect(row).toHaveAttribute('data-status', 'failed', { timeout: 60_000 });
  const error = row.getByTestId('download-error');
  await expect(error).toHaveAttribute('data-code', 'fetch_failed');
  await expect(error).toContainText(MODEL_URL);
  await expect(row.getByTestId('download-resume')).toBeVisible();
  const item = cachedRow(page, MODEL);
  await expect(item).toHaveAttribute('data-complete', 'false');
  await expect(item.getByTestId('cached-model-state')).toHaveText('partial');
  await expect(item.getByTestId('cached-model-stored')).toHaveText('8.00 MiB / 12.1 MiB');

  failing = false;
  await row.getByTestId('download-resume').click();
  await expect(row).toHaveCount(0, { timeout: 60_000 });
  await expect(item).toHaveAttribute('data-complete', 'true');

  // Cancel during a download aborts it and deletes the partial model
  await item.getByTestId('cached-model-delete').click();
  await item.getByTestId('cached-model-delete-confirm').click();
  await expect(item).toHaveCount(0);
  await page.unroute(MODEL_URL);
  const gate = await gateChunks(page, MODEL_URL);
  row = await startDownload(page, MODEL_URL);
  await expect(row.getByTestId('download-bytes')).toHaveText('4.00 MiB / 12.1 MiB · 33%');
  await expect(item).toHaveAttribute('data-complete', 'false');
  await row.getByTestId('download-cancel').click();
  await expect(row).toHaveCount(0);
  await expect(item).toHaveCount(0);
  gate.open();
  await expect(manager(page).getByTestId('storage-models')).toHaveText('1.13 MiB');

  // Cancel while still connecting (the file not sized yet) also stops it: nothing is downloaded
  let releaseProbe!: () => void;
  const early = await gateChunks(page, MODEL_URL, { holdSizeProbe: new Promise<void>((r) => (releaseProbe = r)) });
  early.open();
  row = await startDownload(page, MODEL_URL);
  await expect(row.getByTestId('download-status')).toHaveText('connecting…');
  await row.getByTestId('download-cancel').click();
  await expect(row.getByTestId('download-status')).toHaveText('cancelling…');
  releaseProbe();
  await expect(row).toHaveCount(0);
  await expect(item).toHaveCount(0);
  expect(early.starts.filter((s) => s >= CHUNK)).toEqual([]); // only chunk 0 may have started
  await expect(manager(page).getByTestId('storage-models')).toHaveText('1.13 MiB');
});

test('a local file from the picker is imported into OPFS, listed as "local file", loaded, and generates', async ({ page }) => {
  expect(statSync(STORIES_PATH).size).toBe(1_185_376);
  const errors = await openApp(page);
  await page.getByTestId('file-input').setInputFiles(STORIES_PATH);
  await expect(page.getByTestId('source-file')).toBeChecked();
  await page.getByTestId('load').click();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });

  const local = cachedRows(page).filter({ has: page.getByTestId('cached-model-source').getByText('local file', { exact: true }) });
  await expect(local).toHaveCount(1);
  await expect(local).toHaveAttribute('data-name', 'stories260K.gguf');
  await expect(local).toHaveAttribute('data-complete', 'true');
  await expect(local.getByTestId('cached-model-size')).toHaveText('1.13 MiB');
  await expect(local.getByTestId('cached-model-load')).toHaveText('Loaded');
  await expect(cachedRows(page)).toHaveCount(2); // and the default model, cached from its URL
  const tier = page.getByTestId('memory-panel').getByTestId('mem-storage');
  await expect(tier.getByTestId('mem-storage-source')).toHaveText('OPFS, no network');
  await expect(tier.getByTestId('mem-storage-stored')).toHaveText('1.13 MiB / 1.13 MiB');

  const text = await generate(page, PROMPT, 24);
  expect(text.startsWith(PROMPT + GREEDY_START)).toBe(true);

  // After a reload the imported file is still there and loads from storage without picking it again
  await page.reload();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  await expect(local).toHaveCount(1);
  await local.getByTestId('cached-model-load').click();
  await expect(local.getByTestId('cached-model-load')).toHaveText('Loaded', { timeout: 60_000 });
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  expect((await generate(page, PROMPT, 8)).startsWith(PROMPT + GREEDY_START)).toBe(true);
  expect(errors).toEqual([]);
});

test('dropping a .gguf file on the page shows a drop zone, imports and loads it; other files are refused', async ({ page }) => {
  await openApp(page);
  const dropped = await page.evaluateHandle(async (url) => {
    const bytes = await (await fetch(url)).arrayBuffer();
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped-stories.gguf'));
    return dt;
  }, `${SERVER}/shared/models/stories260K.gguf`);

  await expect(page.getByTestId('drop-zone')).toHaveCount(0);
  await page.dispatchEvent('body', 'dragenter', { dataTransfer: dropped });
  await page.dispatchEvent('body', 'dragover', { dataTransfer: dropped });
  await expect(page.getByTestId('drop-zone')).toBeVisible();
  await expect(page.getByTestId('drop-zone')).toContainText('Drop a .gguf file');
  await page.screenshot({ path: shot('manager-drop.png') });
  // leaving the page hides it again
  await page.dispatchEvent('body', 'dragleave', { dataTransfer: dropped });
  await expect(page.getByTestId('drop-zone')).toHaveCount(0);

  await page.dispatchEvent('body', 'dragenter', { dataTransfer: dropped });
  await page.dispatchEvent('body', 'drop', { dataTransfer: dropped });
  await expect(page.getByTestId('drop-zone')).toHaveCount(0);
  const item = cachedRow(page, 'dropped-stories.gguf');
  await expect(item).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  await expect(item.getByTestId('cached-model-source')).toHaveText('local file');
  await expect(item.getByTestId('cached-model-load')).toHaveText('Loaded', { timeout: 60_000 });
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  expect((await generate(page, PROMPT, 8)).startsWith(PROMPT + GREEDY_START)).toBe(true);

  // a file that is not a model: an error, nothing imported, the loaded model stays
  const text = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    return dt;
  });
  await page.dispatchEvent('body', 'drop', { dataTransfer: text });
  await expect(page.getByTestId('error-banner')).toContainText('notes.txt');
  await expect(cachedRows(page)).toHaveCount(2);
  await expect(page.getByTestId('generate')).toBeEnabled();
});

test('phone width: the manager fits 390 px with a paused download, a partial and complete models', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const gate = await gateChunks(page, MODEL_URL);
  await openApp(page);
  const row = await startDownload(page, MODEL_URL);
  await expect(row.getByTestId('download-bytes')).toHaveText('4.00 MiB / 12.1 MiB · 33%');
  await row.getByTestId('download-pause').click();
  await expect(row).toHaveAttribute('data-status', 'paused');
  await cachedRow(page, MODEL).getByTestId('cached-model-delete').click(); // with the confirm open
  await expect(cachedRow(page, MODEL).getByTestId('cached-model-delete-confirm')).toBeVisible();

  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  for (const id of ['download-url', 'download-start', 'download-resume', 'download-cancel', 'cached-model-delete-confirm', 'storage-estimate']) {
    const box = await manager(page).getByTestId(id).first().boundingBox();
    expect(box, id).not.toBeNull();
    expect(box!.x, id).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
  }
  await page.locator('section[aria-label="Stored models"]').screenshot({ path: shot('manager-phone.png') });
  await page.screenshot({ path: shot('manager-phone-page.png'), fullPage: true });
  gate.open();

  // the card collapses, and stays collapsed after a reload
  const toggle = manager(page).getByTestId('manager-toggle');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(manager(page).getByTestId('download-url')).toBeHidden();
  await expect(manager(page).getByTestId('manager-summary')).toHaveText('2 models · 5.13 MiB');
  await page.reload();
  await expect(manager(page).getByTestId('manager-toggle')).toHaveAttribute('aria-expanded', 'false');
  await manager(page).getByTestId('manager-toggle').click();
  await expect(manager(page).getByTestId('download-url')).toBeVisible();
});
