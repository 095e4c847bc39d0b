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
      timestampQuery: a.features.has('timestamp-query'),
    };
  });
}

/**
 * One benchmark run in the page: load with `engineOptions`, a warm-up generate (shader
 * compilation, first uploads, RAM tier filling), then the measured greedy generate, then stats().
 *
 * args: { url, prompt: string, tokens: decode tokens to generate, warmupTokens, engineOptions }.
 * The prompt is tokenized once (with BOS). The warm-up runs the same tokens rotated by one (so
 * the measured prefill cannot reuse the warm-up's K/V: the engine keeps a shared prefix from the
 * previous turn), and both calls pass reuseCache: false as well (a worker-side option; the page API
 * forwards unknown fields).
 *
 * Never throws for engine errors: returns { ok: false, phase, code, message } so the caller can
 * tell "can't load" from "broke while running".
 */
export function benchInPage(page, args) {
  return page.evaluate(async (a) => {
    const ls = window.ls;
    const now = () => performance.now();
    const fail = (phase, e, extra = {}) => ({ ok: false, phase, code: e?.code ?? null, message: String(e?.message ?? e), ...extra });

    let engine;
    const tLoad = now();
    try {
      engine = await ls.createEngine({ model: a.url, ...a.engineOptions });
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

    const gen = async (prompt, maxTokens) => {
      const t0 = now();
      let firstMs = null;
      const ids = [];
      let text = '';
      for await (const t of engine.generate({ prompt, maxTokens, temperature: 0, reuseCache: false })) {
        if (firstMs === null) firstMs = now() - t0;
        ids.push(t.token);
        text += t.text;
      }
      return { ids, text, firstMs, ms: now() - t0 };
    };

    let phase = 'tokenize';
    try {
      const prompt = await engine.tokenize(a.prompt, { addSpecial: true });
      // Same length, different tokens after BOS (if there is more than one token to rotate).
      const body = prompt.slice(1);
      const warmPrompt = body.length > 1 ? [prompt[0], ...body.slice(1), body[0]] : prompt;
      phase = 'warmup';
      const warm = await gen(warmPrompt, a.warmupTokens);
      const before = await engine.stats();
      phase = 'generate';
      const run = await gen(prompt, a.tokens);
      phase = 'stats';
      const stats = await engine.stats();
      return {
        ok: true,
        info: engine.info,
        promptTokens: prompt,
        tokens: run.ids,
        text: run.text,
        loadMs,
        warmupMs: warm.ms,
        generateMs: run.ms,
        firstTokenMs: run.firstMs,
        bytesUploadedDuringGenerate: stats.bytesUploadedTotal - before.bytesUploadedTotal,
        expertCacheHitsDuringGenerate: stats.expertCacheHits - before.expertCacheHits,
        expertCacheMissesDuringGenerate: stats.expertCacheMisses - before.expertCacheMisses,
        stats,
      };
    } catch (e) {
      return fail(phase, e, { info: engine.info, loadMs });
    } finally {
      await engine.dispose().catch(() => {});
    }
  }, args);
}

/**
 * K/V cache accuracy in the page: loads the model once per K/V type in `types` (first = the
 * reference) and reads logit rows at every position of `tokens`; returns per type the relative L2
 * error ‖row − ref‖ / ‖ref‖ of each row against the first type's, and whether the argmax agrees.
 *
 * args: { url, tokens: number[], types: ['f32', 'q8_0'], engineOptions }
 * Returns { ok: true, perType: { [type]: { relL2: number[], argmaxAgree: number, kvCacheBytes } } }
 * or { ok: false, phase, code, message }.
 */
export function kvAccuracyInPage(page, args) {
  return page.evaluate(async (a) => {
    const ls = window.ls;
    const rowsByType = {};
    const kvBytes = {};
    for (const type of a.types) {
      let engine;
      try {
        engine = await ls.createEngine({ model: a.url, ...a.engineOptions, kvCacheType: type });
      } catch (e) {
        return { ok: false, phase: `load ${type}`, code: e?.code ?? null, message: String(e?.message ?? e) };
      }
      try {
        rowsByType[type] = await engine.logits(a.tokens, { positions: a.tokens.map((_, i) => i) });
        kvBytes[type] = (await engine.stats()).kvCacheBytes;
      } catch (e) {
        return { ok: false, phase: `logits ${type}`, code: e?.code ?? null, message: String(e?.message ?? e) };
      } finally {
        await engine.dispose().catch(() => {});
      }
    }
    const argmax = (r) => {
      let best = 0;
      for (let i = 1; i < r.length; i++) if (r[i] > r[best]) best = i;
      return best;
    };
    const ref = rowsByType[a.types[0]];
    const perType = {};
    for (const type of a.types) {
      const relL2 = [];
      let agree = 0;
      rowsByType[type].forEach((row, p) => {
        let num = 0;
        let den = 0;
        for (let i = 0; i < row.length; i++) {
          const d = row[i] - ref[p][i];
          num += d * d;
          den += ref[p][i] * ref[p][i];
        }
        relL2.push(Math.sqrt(num / den));
        if (argmax(row) === argmax(ref[p])) agree++;
      });
      perType[type] = { relL2, argmaxAgree: agree, kvCacheBytes: kvBytes[type] };
    }
    return { ok: true, positions: a.tokens.length, perType };
  }, args);
}
