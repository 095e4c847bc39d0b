import { chromium, test, expect, type Browser, type Page } from '@playwright/test';
import { chromiumPath, SHARED_URL, webgpuArgs } from './support/browser.ts';
import { openHarness } from './support/engine-page.ts';
import { loadReference } from './support/reference.ts';
import { GPU_RESET_NOTICE, isRecoverableDeviceLoss } from '../src/ui/chat-session.ts';

// A lost GPU device, as a driver reset or a GPU process crash causes it: the test kills Chromium's
// GPU process (found through the DevTools protocol, SystemInfo.getProcessInfo) while a generation
// runs. The call in flight must end with LayerstreamError('device_lost'); the engine rebuilds itself
// on a new device (src/worker/device-guard.ts) and the next call gives the tokens it gave before.
//
// Each test has a browser of its own: Chromium stops restarting its GPU process after a few crashes
// in one session, and by default it blocks 3D APIs for a site whose page was active when the GPU
// process died (--disable-domain-blocking-for-3d-apis lifts that; without it a real browser may
// refuse a new adapter, and the engine then reports the loss as permanent after its backoff).

const BASE = 'http://127.0.0.1:5173';

async function launch(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...webgpuArgs, '--disable-domain-blocking-for-3d-apis'] });
  const page = await browser.newPage({ baseURL: BASE });
  return { browser, page };
}

/** Kills the browser's GPU process (SIGKILL, as a crash): every GPUDevice of its pages is lost. */
async function killGpuProcess(browser: Browser): Promise<void> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
  const gpu = processInfo.find((p) => p.type === 'GPU');
  expect(gpu, 'the browser runs a GPU process').toBeTruthy();
  process.kill(gpu!.id, 'SIGKILL');
  await cdp.detach();
}

interface Outcome { tokens: number[]; error: { code: string; message: string } | null }

/** In the page: loads window.eng (createEngine(opts)) and returns its stats. */
const load = (page: Page, opts: Record<string, unknown>) =>
  page.evaluate(async (opts) => {
    const w = window as any;
    w.eng = await w.ls.createEngine(opts);
    return w.eng.stats();
  }, opts);

/** In the page: one generate on window.eng; its tokens, and the error it ended with (if any). */
const generate = (page: Page, req: Record<string, unknown>): Promise<Outcome> =>
  page.evaluate(async (req) => {
    const w = window as any;
    const tokens: number[] = [];
    try {
      for await (const t of w.eng.generate(req)) tokens.push(t.token);
      return { tokens, error: null };
    } catch (e: any) {
      return { tokens, error: { code: e.code ?? `untyped ${e.name}`, message: String(e.message) } };
    }
  }, req);

/** Starts a generate on window.eng without waiting; window.got fills with its tokens. */
const start = (page: Page, req: Record<string, unknown>) =>
  page.evaluate((req) => {
    const w = window as any;
    w.got = [];
    w.job = (async () => {
      try {
        for await (const t of w.eng.generate(req)) w.got.push(t.token);
        return { tokens: w.got, error: null };
      } catch (e: any) {
        return { tokens: w.got, error: { code: e.code ?? `untyped ${e.name}`, message: String(e.message) } };
      }
    })();
  }, req);

/** Kills the GPU process once the running generate has produced `after` tokens; its outcome. */
async function crashMidGeneration(browser: Browser, page: Page, after: number): Promise<Outcome> {
  await page.waitForFunction((n) => (window as any).got.length >= n, after, { timeout: 60_000 });
  await killGpuProcess(browser);
  return page.evaluate(() => (window as any).job);
}

const model = `${SHARED_URL}/models/synth-llama-Q8_0.gguf`;
const ref = loadReference('synth-llama-Q8_0', 'exact');
const req = { prompt: ref.prompt_tokens, maxTokens: 16, temperature: 0 };
const long = { ...req, maxTokens: 200 };

for (const kind of ['resident', 'streamed at 1/3'] as const) {
  test(`${kind}: a GPU process crash mid-generation ends it with device_lost; the next generate rebuilds and gives the same tokens`, async () => {
    test.setTimeout(240_000);
    const { browser, page } = await launch();
    try {
      await openHarness(page);
      let stats = await load(page, { model, contextLength: 256 });
      if (kind !== 'resident') {
        const budget = stats.kvCacheBytes + stats.scratchBytes + Math.floor(stats.weightBytesOnGpu / 3);
        await page.evaluate(() => (window as any).eng.dispose());
        stats = await load(page, { model, contextLength: 256, gpuBudgetBytes: budget });
        expect(stats.layersStreamed).toBeGreaterThan(0);
      }
      const before = await generate(page, req);
      expect(before.error).toBeNull();
      expect(before.tokens.length).toBe(16);

      await start(page, long);
      const crashed = await crashMidGeneration(browser, page, 3);
      expect(crashed.error?.code, crashed.error?.message).toBe('device_lost');
      // the browser's own words, and what happens next
      expect(crashed.error?.message).toMatch(/GPU device was lost \(unknown: .+\)/);
      expect(crashed.error?.message).toMatch(/rebuilt on a new device/);
      expect(crashed.tokens.length).toBeGreaterThanOrEqual(3);
      expect(crashed.tokens.length).toBeLessThan(200);

      // same engine, no createEngine: the K/V cache is rebuilt by prefilling the prompt again
      const after = await generate(page, req);
      expect(after.error).toBeNull();
      expect(after.tokens).toEqual(before.tokens);
      const s = await page.evaluate(() => (window as any).eng.stats());
      expect(s.deviceLosses).toBe(1);
      expect(s.deviceRecoveries).toBe(1);
      expect(s.layersStreamed).toBe(stats.layersStreamed);
      // and it keeps working: a follow-up that reuses the rebuilt K/V cache
      const again = await generate(page, req);
      expect(again.tokens).toEqual(before.tokens);
      await page.evaluate(() => (window as any).eng.dispose());
    } finally {
      await browser.close();
    }
  });
}

test('a loss beyond the recovery policy is permanent: device_lost says so, and a new engine works', async () => {
  test.setTimeout(240_000);
  const { browser, page } = await launch();
  try {
    await openHarness(page);
    await load(page, { model, contextLength: 256, deviceRecovery: { maxLosses: 0 } });
    await start(page, long);
    const crashed = await crashMidGeneration(browser, page, 2);
    expect(crashed.error?.code).toBe('device_lost');
    expect(crashed.error?.message).toMatch(/permanent/);
    const next = await generate(page, req);
    expect(next.error?.code).toBe('device_lost');
    expect(next.error?.message).toMatch(/permanent/);
    await page.evaluate(() => (window as any).eng.dispose());
    // the page is fine: a new engine on a new device
    await load(page, { model, contextLength: 256 });
    const fresh = await generate(page, req);
    expect(fresh.error).toBeNull();
    expect(fresh.tokens.length).toBe(16);
    await page.evaluate(() => (window as any).eng.dispose());
  } finally {
    await browser.close();
  }
});

test('isRecoverableDeviceLoss: a device_lost the engine rebuilds from, not a permanent one or another error', () => {
  expect(isRecoverableDeviceLoss({ code: 'device_lost', message: 'the GPU device was lost (unknown: x); the engine is being rebuilt on a new device' })).toBe(true);
  expect(isRecoverableDeviceLoss({ code: 'device_lost', message: 'lost 4 times within 300 s, so the engine is not rebuilt again (permanent)' })).toBe(false);
  expect(isRecoverableDeviceLoss({ code: 'aborted', message: 'aborted' })).toBe(false);
  expect(isRecoverableDeviceLoss(undefined)).toBe(false);
});

test('the chat: a reply cut by a GPU crash shows device_lost; Regenerate says the context is rebuilt and replies', async () => {
  test.setTimeout(240_000);
  const { browser, page } = await launch();
  try {
    await page.goto('/');
    await expect(page.getByTestId('chat-send')).toBeEnabled({ timeout: 60_000 });
    // record every placeholder text a reply shows (the notice lasts only until the first token)
    await page.evaluate(() => {
      const w = window as any;
      w.placeholders = new Set<string>();
      const scan = (root: Document | ShadowRoot) => {
        root.querySelectorAll('.placeholder').forEach((e) => w.placeholders.add(e.textContent));
        root.querySelectorAll('*').forEach((e) => e.shadowRoot && scan(e.shadowRoot));
      };
      setInterval(() => scan(document), 5);
    });
    const toggle = page.getByTestId('chat-settings-toggle');
    if ((await page.getByTestId('chat-settings').getAttribute('open')) === null) await toggle.click();
    await page.getByTestId('chat-max-tokens').fill('400');
    await page.getByTestId('chat-temperature').fill('0');
    await page.getByTestId('chat-input').fill('Tell me a long story about a cat.');
    await page.getByTestId('chat-send').click();
    const reply = page.getByTestId('chat-message').last();
    await expect(reply.getByTestId('message-content')).not.toHaveText(/^(Thinking…)?$/, { timeout: 60_000 });
    await killGpuProcess(browser);
    await expect(reply).toHaveAttribute('data-status', 'error', { timeout: 60_000 });
    await expect(reply.getByTestId('message-error')).toHaveAttribute('data-code', 'device_lost');
    await page.getByTestId('chat-max-tokens').fill('8');
    await reply.getByTestId('message-regenerate').click();
    const again = page.getByTestId('chat-message').last();
    await expect(again).toHaveAttribute('data-status', /^(done|length)$/, { timeout: 120_000 });
    expect(((await again.getByTestId('message-content').textContent()) ?? '').trim().length).toBeGreaterThan(0);
    expect(await page.evaluate(() => [...(window as any).placeholders])).toContain(GPU_RESET_NOTICE);
  } finally {
    await browser.close();
  }
});
