import { test, expect, type Page } from '@playwright/test';
import path from 'node:path';

// The installable, offline-capable app: the production build (`vite build`) served by
// `vite preview` (the third webServer in playwright.config.ts). Each test has its own browser
// context, so it starts with no service worker, no Cache Storage and no OPFS.

const APP = 'http://127.0.0.1:4173/';
const PROMPT = 'Once upon a time';

const shot = (name: string) => path.join(test.info().project.outputDir, name);

interface WebManifest {
  name?: string;
  short_name?: string;
  start_url?: string;
  scope?: string;
  display?: string;
  icons?: { src: string; sizes?: string; type?: string; purpose?: string }[];
}

/** Opens the built app and collects uncaught page errors. */
async function openApp(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Echoed for diagnosis: e.g. a failed service worker registration is only a console warning.
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[${test.info().title.slice(0, 32)}] ${m.type()}: ${m.text()}`);
  });
  await page.goto(APP);
  await expect(page.getByRole('heading', { name: 'layerstream' })).toBeVisible();
  return errors;
}

/** Waits until the service worker is installed (precache filled) and active; returns its script URL. */
async function serviceWorkerReady(page: Page): Promise<string> {
  const state = () =>
    page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      if (!reg) return 'no registration';
      return reg.active?.state === 'activated' ? 'activated' : `installing: ${reg.installing?.state}, waiting: ${reg.waiting?.state}, active: ${reg.active?.state}`;
    });
  await expect.poll(state, { timeout: 60_000 }).toBe('activated');
  return page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r!.active!.scriptURL));
}

/** Every URL in Cache Storage, by cache name. */
function cachedUrls(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) out[name] = (await (await caches.open(name)).keys()).map((r) => r.url);
    return out;
  });
}

async function generateGreedy(page: Page, maxTokens: number): Promise<string> {
  await page.getByTestId('tab-complete').click(); // the raw-completion view (Chat is the default tab)
  await page.getByTestId('prompt').fill(PROMPT);
  await page.getByTestId('max-tokens').fill(String(maxTokens));
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('generate').click();
  const output = page.getByTestId('output');
  await expect(output).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  expect(Number((await page.getByTestId('token-count').textContent())?.replace(/[^\d]/g, ''))).toBe(maxTokens);
  return (await output.textContent()) ?? '';
}

test('the built app has a valid web app manifest and a service worker that controls the page', async ({ page }) => {
  const errors = await openApp(page);

  // Manifest, from the <link rel=manifest> the plugin injects.
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBeTruthy();
  const manifestUrl = new URL(href!, APP).href;
  const res = await page.request.get(manifestUrl);
  expect(res.ok()).toBe(true);
  const manifest = (await res.json()) as WebManifest;
  expect(manifest.name).toBe('layerstream');
  expect(manifest.short_name).toBeTruthy();
  expect(manifest.display).toBe('standalone');
  expect(manifest.start_url).toBe('.');
  expect(new URL(manifest.start_url!, manifestUrl).href).toBe(APP);
  expect(new URL(manifest.scope ?? '.', manifestUrl).href).toBe(APP);

  // Icons 192 and 512 (purpose "any"), PNG, loadable at their declared size.
  for (const size of [192, 512]) {
    const icon = manifest.icons?.find((i) => i.sizes === `${size}x${size}` && i.type === 'image/png' && (i.purpose ?? 'any').split(' ').includes('any'));
    expect(icon, `a ${size}x${size} PNG icon`).toBeTruthy();
    const iconUrl = new URL(icon!.src, manifestUrl).href;
    const png = await page.request.get(iconUrl);
    expect(png.ok()).toBe(true);
    expect(png.headers()['content-type']).toContain('image/png');
    const dims = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    }, iconUrl);
    expect(dims).toEqual([size, size]);
  }
  const maskable = manifest.icons?.find((i) => (i.purpose ?? '').split(' ').includes('maskable'));
  expect(maskable, 'a maskable icon').toBeTruthy();
  expect((await page.request.get(new URL(maskable!.src, manifestUrl).href)).ok()).toBe(true);

  // Service worker: registered by the app, and in control after a reload.
  const scriptURL = await serviceWorkerReady(page);
  expect(scriptURL).toBe(new URL('sw.js', APP).href);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'layerstream' })).toBeVisible();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null)).toBe(scriptURL);
  expect(errors).toEqual([]);
});

test('the precache holds the app shell and the engine worker, and no model (.gguf)', async ({ page }) => {
  const errors = await openApp(page);
  await serviceWorkerReady(page);
  // Let the default model load (through the service worker's scope) before looking at the caches.
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });

  const byCache = await cachedUrls(page);
  const precacheName = Object.keys(byCache).find((n) => n.startsWith('workbox-precache'));
  expect(precacheName, `a Workbox precache among ${Object.keys(byCache).join(', ')}`).toBeTruthy();
  const precached = byCache[precacheName!].map((u) => new URL(u).pathname);
  expect(precached).toContain('/index.html');
  expect(precached).toContain('/manifest.webmanifest');
  expect(precached).toContain('/icons/icon-192.png');
  expect(precached).toContain('/icons/icon-512.png');
  expect(precached.some((p) => /^\/assets\/index-[\w-]+\.js$/.test(p))).toBe(true);
  expect(precached.some((p) => /^\/assets\/engine-worker-[\w-]+\.js$/.test(p)), `engine worker bundle in ${precached.join(', ')}`).toBe(true);
  // No model bytes anywhere in Cache Storage (they belong in OPFS), precache or otherwise.
  const all = Object.values(byCache).flat();
  expect(all.filter((u) => /\.gguf(\?|#|$)/i.test(u))).toEqual([]);

  // The same in the built service worker's precache manifest.
  const sw = await (await page.request.get(new URL('sw.js', APP).href)).text();
  const listed = [...sw.matchAll(/\{\s*url:\s*"([^"]+)"/g)].map((m) => m[1]);
  expect(listed.length).toBeGreaterThan(5);
  expect(listed).toContain('index.html');
  expect(listed.filter((u) => /\.gguf/i.test(u))).toEqual([]);
  expect(sw).not.toMatch(/\.gguf/i);
  expect(errors).toEqual([]);
});

// Needs the engine to keep the model bytes in OPFS (src/storage): offline, the .gguf cannot be
// fetched and the service worker deliberately does not cache it.
test('offline: the installed app reopens, loads the default model from OPFS and generates the same text', async ({ page, context }) => {
  const errors = await openApp(page);
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  await serviceWorkerReady(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  const online = await generateGreedy(page, 8);
  expect(online.startsWith(PROMPT + ', there')).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'layerstream' })).toBeVisible();
  // Really offline: the model URL cannot be fetched from the network.
  const probe = await page.evaluate((url) => fetch(url, { cache: 'no-store', headers: { Range: 'bytes=0-3' } }).then(() => 'online', () => 'offline'), new URL('models/stories260K.gguf', APP).href);
  expect(probe).toBe('offline');
  await expect(page.getByTestId('generate')).toBeEnabled({ timeout: 60_000 });
  await expect(page.getByTestId('error-banner')).toHaveCount(0);

  const offline = await generateGreedy(page, 8);
  expect(offline).toBe(online);
  await page.screenshot({ path: shot('pwa-offline.png'), fullPage: true });
  expect(errors).toEqual([]);
});
