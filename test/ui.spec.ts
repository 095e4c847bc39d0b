import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_URL } from './support/browser.ts';

// The web UI against the real engine (stories260K on SwiftShader WebGPU). Locators pierce the
// components' open shadow roots, so `getByTestId` reaches inside <ls-app>.

const reference = JSON.parse(readFileSync(new URL('../../shared/reference/stories260K.llamacpp.json', import.meta.url), 'utf8')) as {
  prompt: string;
  greedy_text: string;
};
const PROMPT = 'Once upon a time';
const GREEDY_START = ', there was a little girl named Lily';

const shot = (name: string) => path.join(test.info().project.outputDir, name);

/** The default model loads on first open; Generate is enabled once it is ready. */
async function openWithDefaultModel(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'layerstream' })).toBeVisible();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  // the raw-completion view is the second tab (Chat is the default)
  await page.getByTestId('tab-complete').click();
  expect(errors).toEqual([]);
}

async function tokenCount(page: Page): Promise<number> {
  return Number((await page.getByTestId('token-count').textContent())?.replace(/[^\d]/g, ''));
}

async function setSettings(page: Page, s: { maxTokens: number; temperature: number }): Promise<void> {
  await page.getByTestId('prompt').fill(PROMPT);
  await page.getByTestId('max-tokens').fill(String(s.maxTokens));
  await page.getByTestId('temperature').fill(String(s.temperature));
}

test('loads the default model, generates greedily, shows memory and layers', async ({ page }) => {
  expect(reference.prompt).toBe(PROMPT);
  expect(reference.greedy_text.startsWith(GREEDY_START)).toBe(true);

  await openWithDefaultModel(page);
  await expect(page.getByTestId('model-info')).toContainText('llama');
  await expect(page.getByTestId('model-info')).toContainText('stories260K');
  await expect(page.getByTestId('prompt')).toHaveValue(PROMPT);

  // Memory panel filled from stats() after load: one cell per layer, byte figures.
  const memory = page.getByTestId('memory-panel');
  await expect(memory.getByTestId('layer-cell')).toHaveCount(5);
  await expect(memory.getByTestId('mem-budget')).toHaveText(/\d.*(B|KiB|MiB|GiB)$/);
  await expect(memory.getByTestId('mem-kv')).toHaveText(/\d.*(B|KiB|MiB|GiB)$/);

  await setSettings(page, { maxTokens: 24, temperature: 0 });
  await page.getByTestId('generate').click();
  const output = page.getByTestId('output');
  await expect(output).toHaveAttribute('data-status', 'done', { timeout: 120_000 });

  const text = (await output.textContent()) ?? '';
  expect(text.startsWith(PROMPT + GREEDY_START)).toBe(true);
  expect(text.length).toBeGreaterThan((PROMPT + GREEDY_START).length);
  expect(await tokenCount(page)).toBe(24);
  await expect(page.getByTestId('tokens-per-second')).toHaveText(/^\d+(\.\d+)? tok\/s$/);
  await expect(page.getByTestId('generate')).toBeEnabled();
  await expect(page.getByTestId('stop')).toBeDisabled();

  // Refreshed at the end of generation: the context holds prompt + generated tokens.
  await expect(memory.getByTestId('layer-cell')).toHaveCount(5);
  for (const cell of await memory.getByTestId('layer-cell').all()) {
    await expect(cell).toHaveAttribute('data-residency', /^(resident|streamed)$/);
  }
  await expect(memory.getByTestId('mem-decode')).toHaveText(/tok\/s$/);
  await expect(page.getByTestId('error-banner')).toHaveCount(0);

  await page.screenshot({ path: shot('ui-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('generate')).toBeVisible();
  // Nothing wider than the phone viewport.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: shot('ui-phone.png'), fullPage: true });
});

test('a bad URL shows an error banner, and the default model loads again afterwards', async ({ page }) => {
  await openWithDefaultModel(page);

  await page.getByTestId('url-input').fill(new URL('/html', SHARED_URL).href);
  await page.getByTestId('load').click();

  const banner = page.getByTestId('error-banner');
  await expect(banner).toBeVisible({ timeout: 30_000 });
  await expect(banner.getByTestId('error-message')).toHaveText(/\S/);
  await expect(banner).toHaveAttribute('data-code', /^(not_gguf|fetch_failed|no_range_support|truncated)$/);
  // The page is usable again: no model (Generate off), Load on, no progress left behind.
  await expect(page.getByTestId('generate')).toBeDisabled();
  await expect(page.getByTestId('load')).toBeEnabled();
  await expect(page.getByTestId('progress')).toHaveCount(0);

  await banner.getByTestId('error-dismiss').click();
  await expect(page.getByTestId('error-banner')).toHaveCount(0);

  await page.getByTestId('source-default').check();
  await page.getByTestId('load').click();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(page.getByTestId('memory-panel').getByTestId('layer-cell')).toHaveCount(5);

  // And it generates.
  await setSettings(page, { maxTokens: 4, temperature: 0 });
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('output')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  expect(await page.getByTestId('output').textContent()).toMatch(/^Once upon a time, there/);
});

test('Stop aborts a long generation', async ({ page }) => {
  await openWithDefaultModel(page);
  await setSettings(page, { maxTokens: 400, temperature: 0 });
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generate')).toBeDisabled();
  await expect(page.getByTestId('stop')).toBeEnabled();

  // Stop as soon as tokens are streaming.
  await page.getByTestId('token-count').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 60_000 });
  await page.getByTestId('stop').click();

  await expect(page.getByTestId('output')).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
  await expect(page.getByTestId('generate')).toBeEnabled();
  await expect(page.getByTestId('stop')).toBeDisabled();
  const n = await tokenCount(page);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThan(400);
  // It stays stopped.
  await page.waitForTimeout(1000);
  expect(await tokenCount(page)).toBe(n);
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
});
