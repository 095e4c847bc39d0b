import { test, expect, type Page } from '@playwright/test';
import path from 'node:path';
import { CATALOG, catalogModels } from '../src/catalog/catalog.ts';

// "Choose a model" and "Will it fit?" in the app, against the Hugging Face imitation
// (test/support/hf-server.mjs, hub on 5175): the app takes its Hugging Face endpoint from ?hf=.

const HUB = 'http://127.0.0.1:5175';
const shot = (name: string) => path.join(test.info().project.outputDir, name);

async function openApp(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?hf=${encodeURIComponent(HUB)}`);
  await expect(page.getByRole('heading', { name: 'layerstream' })).toBeVisible();
  await expect(page.getByTestId('chat-send')).toBeEnabled({ timeout: 60_000 }); // the default model is loaded
  expect(errors).toEqual([]);
}

test('the catalog lists every model and file, filters, and a pick asks the Hugging Face endpoint for that file', async ({ page }) => {
  await openApp(page);
  const groups = catalogModels();
  await expect(page.getByTestId('catalog-model')).toHaveCount(groups.length);
  await expect(page.getByTestId('catalog-file')).toHaveCount(CATALOG.length);
  // filter by text
  const first = groups[0];
  await page.getByTestId('browse-input').fill(first.model);
  await expect(page.getByTestId('catalog-model').first()).toContainText(first.model);
  await page.getByTestId('browse-input').fill('no such model zzz');
  await expect(page.getByTestId('catalog-model')).toHaveCount(0);
  await page.getByTestId('browse-input').fill('');
  // the imitation has none of the catalog's repos: the pick reaches it, and its anonymous 401 is a clear error before any download
  await fetch(`${HUB}/control/reset`, { method: 'POST' });
  const entry = first.entries[0];
  await page.locator(`[data-testid="catalog-file"][data-id="${entry.id}"]`).click();
  await expect(page.getByTestId('fit-error')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('fit-error')).toContainText(entry.repo);
  const counters = await (await fetch(`${HUB}/control?repo=${encodeURIComponent(entry.repo)}`)).json();
  expect(counters.resolve).toBeGreaterThan(0);
  expect(counters.cdnBytes ?? 0).toBe(0);
});

test('hf.co/owner/repo lists the repo\'s GGUF files; a pick shows whether it fits and the predicted speed; Load runs it and the measured speed is set beside the prediction', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page);
  await page.getByTestId('browse-input').fill('hf.co/layerstream-test/tiny-GGUF');
  await page.getByTestId('browse-input').press('Enter');
  const listing = page.getByTestId('hf-listing');
  await expect(listing).toBeVisible({ timeout: 30_000 });
  await expect(listing.getByTestId('hf-file')).toHaveCount(3);
  await expect(listing).toContainText('stories260K-Q4_K_M');
  await expect(listing).toContainText('synth-llama-Q8_0');
  // pick the Q4_K_M stories file: header read by Range, device calibrated once, then the plan
  await listing.getByTestId('hf-file').filter({ hasText: 'stories260K-Q4_K_M' }).click();
  await expect(page.getByTestId('fit-headline')).toHaveText(/Runs resident/, { timeout: 120_000 });
  const rows = page.getByTestId('fit-rows');
  await expect(rows).toContainText('K/V cache (2048 tokens)'); // the picker's default context
  await expect(rows).toContainText(/Predicted decode.*tok\/s/s);
  await expect(rows).toContainText('calibrated');
  // a larger quant of the same model that also runs resident is recommended
  await expect(page.getByTestId('fit-recommendation')).toContainText('stories260K');
  await page.screenshot({ path: shot('choose-model-fit.png'), fullPage: true });
  // load the file as asked, then chat: the memory panel shows measured against predicted
  await page.getByTestId('fit-load').click();
  await expect(page.getByTestId('model-info')).toContainText('stories260K', { timeout: 120_000 });
  await expect(page.getByTestId('mem-predicted')).toContainText('tok/s', { timeout: 60_000 });
  await page.getByTestId('tab-complete').click();
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('max-tokens').fill('16');
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('output')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('mem-predicted')).toContainText(/measured .* tok\/s · predicted .* tok\/s \(\d+\.\d+×\)/, { timeout: 30_000 });
  await page.screenshot({ path: shot('choose-model-measured.png'), fullPage: true });
});

test('Hugging Face errors in the app: a missing repo\'s listing, a gated file, a rate-limited repo — each named before any download', async ({ page }) => {
  await openApp(page);
  await fetch(`${HUB}/control/reset`, { method: 'POST' });
  const list = async (repo: string) => {
    await page.getByTestId('browse-input').fill(`https://huggingface.co/${repo}`);
    await page.getByTestId('hf-list').click();
  };
  await list('layerstream-test/deleted-GGUF');
  await expect(page.getByTestId('hf-error')).toContainText('layerstream-test/deleted-GGUF');
  await list('layerstream-test/ratelimited-GGUF');
  await expect(page.getByTestId('hf-error')).toContainText(/rate|try again/i);
  // gated: the listing is public, the file is refused with what to do
  await list('layerstream-test/gated-GGUF');
  await expect(page.getByTestId('hf-listing')).toBeVisible();
  await page.getByTestId('hf-file').first().click();
  await expect(page.getByTestId('fit-error')).toContainText(/gated|accept/i, { timeout: 30_000 });
  const c = await (await fetch(`${HUB}/control?repo=${encodeURIComponent('layerstream-test/gated-GGUF')}`)).json();
  expect(c.cdnRequests ?? 0).toBe(0);
  // the page is still usable: the default model still answers
  await expect(page.getByTestId('chat-send')).toBeEnabled();
});
