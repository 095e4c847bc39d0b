// The in-browser half of the benchmark. Functions passed to page.evaluate are serialized, so they
// must be self-contained (no closures over module scope) and return plain data.

/** Opens the test harness (the real engine API on window.ls) and forwards browser problems to stderr. */
export async function openHarness(context, baseUrl, label) {
  const page = await context.newPage();
  // Worker console messages (e.g. the engine's 'WebGPU error: …') arrive on the page too.
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    if (m.location()?.url?.endsWith('/favicon.ico')) return; // the harness has none; not an engine problem
    const where = m.location()?.url ? ` (${m.location().url})` : '';
    process.stderr.write(`[browser ${m.type()}] ${label}: ${m.text()}${where}\n`);
  });
  page.on('pageerror', (e) => process.stderr.write(`[browser pageerror] ${label}: ${e.message}\n`));
  page.on('crash', () => process.stderr.write(`[browser crash] ${label}: the page crashed\n`));
  await page.goto(`${baseUrl}/test/harness.html`);
  await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 60_000 });
  return page;
}

/** The WebGPU adapter the engine would get (same request options as src/gpu/device.ts). */
export function adapterInfo(page) {
  return page.evaluate(async () => {
    if (!navigator.gpu) return { error: 'navigator.gpu is missing' };
    const a = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) return { error: 'no adapter' };
    // GPUAdapterInfo's fields are getters, not own properties: copy them by name.
    const i = a.info ?? {};
    return {
      vendor: i.vendor,
      architecture: i.architecture,
      device: i.device,
      description: i.description,
      isFallbackAdapter: i.isFallbackAdapter ?? a.isFallbackAdapter,
      maxBufferSize: a.limits.maxBufferSize,
      maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
      shaderF16: a.features.has('shader-f16'),
    };
  });
}

/**
 * One benchmark run in the page: load, warm-up generate (shader compilation, first uploads), then
 * the measured greedy generate, then stats(). Never throws for engine errors: returns
 * { ok: false, phase, code, message } so the caller can tell "can't load" from "broke while running".
 */
export function benchInPage(page, args) {
  return page.evaluate(async (a) => {
    const ls = window.ls;
    const now = () => performance.now();
    const fail = (phase, e, extra = {}) => ({ ok: false, phase, code: e?.code ?? null, message: String(e?.message ?? e), ...extra });

    let engine;
    const tLoad = now();
    try {
      engine = await ls.createEngine({ model: a.url, ...(a.budgetBytes ? { gpuBudgetBytes: a.budgetBytes } : {}) });
    } catch (e) {
      // The engine gives no ModelInfo on failure; read the architecture from the header ourselves.
      let headerArch = null;
      try {
        headerArch = (await ls.readGGUF(await ls.openByteSource(a.url))).metadata.get('general.architecture') ?? null;
      } catch {
        // header unreadable too: the load error says why
      }
      return fail('load', e, { headerArch });
    }
    const loadMs = now() - tLoad;

    const gen = async (maxTokens) => {
      const t0 = now();
      let firstMs = null;
      const ids = [];
      let text = '';
      for await (const t of engine.generate({ prompt: a.prompt, maxTokens, temperature: 0 })) {
        if (firstMs === null) firstMs = now() - t0;
        ids.push(t.token);
        text += t.text;
      }
      return { ids, text, firstMs, ms: now() - t0 };
    };

    let phase = 'tokenize';
    try {
      const promptTokens = await engine.tokenize(a.prompt, { addSpecial: true });
      phase = 'warmup';
      const warm = await gen(a.warmupTokens);
      const before = await engine.stats();
      phase = 'generate';
      const run = await gen(a.tokens);
      phase = 'stats';
      const stats = await engine.stats();
      return {
        ok: true,
        info: engine.info,
        promptTokens: promptTokens.length,
        tokens: run.ids,
        text: run.text,
        loadMs,
        warmupMs: warm.ms,
        generateMs: run.ms,
        firstTokenMs: run.firstMs,
        bytesUploadedDuringGenerate: stats.bytesUploadedTotal - before.bytesUploadedTotal,
        stats,
      };
    } catch (e) {
      return fail(phase, e, { info: engine.info, loadMs });
    } finally {
      await engine.dispose().catch(() => {});
    }
  }, args);
}
