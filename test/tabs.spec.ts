import { test, expect, type Page } from '@playwright/test';
import { tabLockBanner } from '../src/ui/tab-lock.ts';

// Two tabs of the app in one browser profile share one engine (Web Locks, src/ui/tab-lock.ts): the
// second tab does not load a second copy of the model; it says the model is in use in the other tab
// and offers to take it over, which unloads it there (and says so) and loads it here.

async function ready(page: Page): Promise<void> {
  await page.getByTestId('tab-complete').click();
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
}

async function generates(page: Page): Promise<string> {
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('max-tokens').fill('4');
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('output')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  return (await page.getByTestId('output').textContent()) ?? '';
}

test('a second tab finds the model in use, takes it over, and the first tab can take it back', async ({ context }) => {
  const a = await context.newPage();
  await a.goto('/');
  await ready(a);
  await expect(a.getByTestId('tab-lock-banner')).toHaveCount(0);

  const b = await context.newPage();
  await b.goto('/');
  const banner = b.getByTestId('tab-lock-banner');
  await expect(banner).toContainText('in use in another tab');
  await b.getByTestId('tab-complete').click();
  await expect(b.getByTestId('generate')).toBeDisabled(); // no second engine
  await expect(b.getByTestId('memory-panel').getByTestId('layer-cell')).toHaveCount(0);

  await b.getByTestId('tab-lock-action').click(); // "Use it here"
  await ready(b);
  await expect(b.getByTestId('tab-lock-banner')).toHaveCount(0);
  await expect(a.getByTestId('tab-lock-banner')).toContainText('Another tab took over the model');
  await expect(a.getByTestId('generate')).toBeDisabled();
  const textB = await generates(b);
  expect(textB).toMatch(/^Once upon a time, there/); // stories260K's greedy continuation

  await a.getByTestId('tab-lock-action').click(); // "Take it back"
  await ready(a);
  await expect(b.getByTestId('tab-lock-banner')).toContainText('Another tab took over the model');
  expect(await generates(a)).toBe(textB); // the same model, greedy: the same text
});

test('tab lock banners: in use elsewhere and taken over say what happened and what the button does', () => {
  expect(tabLockBanner('free')).toBeNull();
  expect(tabLockBanner('held')).toBeNull();
  expect(tabLockBanner('elsewhere')).toEqual({ message: 'The model is in use in another tab of layerstream. Using it here unloads it there.', action: 'Use it here' });
  expect(tabLockBanner('taken-over')?.action).toBe('Take it back');
});
