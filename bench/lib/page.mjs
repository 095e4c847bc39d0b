// The in-browser half of the benchmark, and a minimal browser driver for the measured runs.
// Functions passed to evaluate are serialized, so they must be self-contained (no closures over
// module scope) and return plain data. Every function here that takes a `page` accepts either a
// Playwright Page or a PlainPage (below): both have evaluate(fn, arg).
//
// Why a second driver: Playwright enables the DevTools Network domain in every page and worker, and
// Chromium then keeps copies of response bodies for the inspector (up to ~100 MB per page or
// worker). The engine reads the model in 4 MiB Range responses, so under Playwright the renderer
// holds up to a few hundred MiB of copies that a user's browser would not — which the memory
// figures would count. PlainPage speaks the DevTools protocol over --remote-debugging-pipe with only
// Target, Page and Runtime: no Network domain, no body copies.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Playwright: opens the test harness (the real engine API on window.ls) and forwards browser problems to stderr. */
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
 * The prompt is tokenized once (with BOS). The warm-up runs a short prompt that is not a prefix of
 * the measured one (so the measured prefill cannot reuse the warm-up's K/V: the engine keeps a
 * shared prefix from the previous turn), and both calls pass reuseCache: false as well (a
 * worker-side option; the page API forwards unknown fields).
 *
 * Never throws for engine errors: returns { ok: false, phase, code, message } so the caller can
 * tell "can't load" from "broke while running".
 */
export function benchInPage(page, args) {
  return page.evaluate(benchMain, args);
}

async function benchMain(a) {
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
    // Warm-up: at most 4 tokens (one batch: compiles the batched kernels at the cost of a single
    // weight pass), and not a prefix of the measured prompt (the engine would reuse its K/V).
    const body = prompt.slice(1);
    const warmPrompt = body.length > 1 ? [prompt[0], ...body.slice(1, 3), body[0]] : prompt;
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
  return page.evaluate(kvAccuracyMain, args);
}

async function kvAccuracyMain(a) {
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
}

/**
 * Upload bandwidth of each upload method, nothing else running: `totalBytes` pushed through the
 * engine's Staging (count chunks of chunkBytes) into a GPU buffer of dstBytes (wrapping), timed
 * from the first upload to onSubmittedWorkDone. Chunks are filled once, so no reads are measured.
 * The methods take turns for `rounds` rounds (so drifting machine load hits both alike); each
 * reports its median round. args: { methods, totalBytes, chunkBytes, count, dstBytes, rounds }.
 * Returns { ok, perMethod: { method: { bytes, ms (median), roundsMs } } }.
 */
export function uploadBandwidthInPage(page, args) {
  return page.evaluate(uploadBandwidthMain, args);
}

async function uploadBandwidthMain(a) {
  const ls = window.ls;
  const perMethod = {};
  try {
    const device = await ls.requestGPUDevice();
    const dst = device.createBuffer({ size: a.dstBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const stagings = Object.fromEntries(a.methods.map((m) => [m, new ls.Staging(device, m, a.count, a.chunkBytes)]));
    const run = async (staging, bytes) => {
      const t0 = performance.now();
      for (let at = 0; at < bytes; at += a.chunkBytes) {
        const c = await staging.take();
        staging.upload(c, dst, at % a.dstBytes, a.chunkBytes);
      }
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };
    for (const m of a.methods) await run(stagings[m], a.dstBytes); // warm-up: first touch of every buffer
    const rounds = Object.fromEntries(a.methods.map((m) => [m, []]));
    for (let r = 0; r < (a.rounds ?? 3); r++) for (const m of a.methods) rounds[m].push(await run(stagings[m], a.totalBytes));
    for (const m of a.methods) {
      const sorted = [...rounds[m]].sort((x, y) => x - y);
      perMethod[m] = { bytes: a.totalBytes, ms: sorted[Math.floor(sorted.length / 2)], roundsMs: rounds[m] };
      stagings[m].destroy();
    }
    dst.destroy();
    device.destroy();
    return { ok: true, perMethod };
  } catch (e) {
    return { ok: false, phase: 'upload', code: e?.code ?? null, message: String(e?.message ?? e) };
  }
}

// ---- PlainBrowser: Chromium driven over --remote-debugging-pipe, without Playwright ------------

/** Flags Playwright adds that matter for a benchmark in a headless page (no throttling of "background" work). */
const PLAIN_FLAGS = [
  '--headless',
  '--remote-debugging-pipe',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
  '--disable-hang-monitor',
  '--disable-breakpad',
  '--disable-dev-shm-usage',
  '--mute-audio',
  '--hide-scrollbars',
];

/**
 * A Chromium started by us and driven over the DevTools protocol pipe (fd 3: commands to the
 * browser, fd 4: replies and events, JSON messages ending in NUL). `pid` is the browser process.
 */
export class PlainBrowser {
  /** @param {{ executablePath: string, args: string[], label?: string }} o */
  static async launch({ executablePath, args, label = 'chromium' }) {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'layerstream-bench-'));
    const child = spawn(executablePath, [...args, ...PLAIN_FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    const b = new PlainBrowser(child, profile, label);
    await b.send('Browser.getVersion'); // answers once the browser is up
    return b;
  }

  constructor(child, profile, label) {
    this.child = child;
    this.pid = child.pid;
    this.profile = profile;
    this.label = label;
    this.nextId = 1;
    this.pending = new Map();
    this.sessions = new Map(); // sessionId → PlainPage (pages and their workers)
    this.exited = false;
    /** newPage has taken the tab the browser started with */
    this.usedStartTab = false;
    this.stderr = [];
    let buf = '';
    child.stdio[4].on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let end;
      while ((end = buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(buf.slice(0, end));
        buf = buf.slice(end + 1);
        this.onMessage(msg);
      }
    });
    child.stderr.on('data', (c) => {
      this.stderr.push(String(c));
      if (this.stderr.length > 50) this.stderr.shift();
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      const err = new Error(`Chromium exited (${signal ?? code}): ${this.stderr.join('').split('\n').slice(-5).join(' | ')}`);
      for (const { reject } of this.pending.values()) reject(err);
      this.pending.clear();
    });
    child.stdio[3].on('error', () => {}); // EPIPE after an exit: reported through 'exit'
  }

  /** Sends one DevTools command (to a page/worker session when sessionId is given); resolves with its result. */
  send(method, params = {}, sessionId) {
    if (this.exited) return Promise.reject(new Error('Chromium has exited'));
    const id = this.nextId++;
    const msg = { id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  onMessage(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
      return;
    }
    const page = msg.sessionId ? this.sessions.get(msg.sessionId) : null;
    if (msg.method === 'Target.attachedToTarget' && page) {
      // A worker of the page (the engine runs in one): only Runtime, for its console errors.
      const sid = msg.params.sessionId;
      this.sessions.set(sid, page);
      this.send('Runtime.enable', {}, sid).catch(() => {});
      this.send('Runtime.runIfWaitingForDebugger', {}, sid).catch(() => {});
      return;
    }
    page?.onEvent(msg.method, msg.params);
  }

  /**
   * Opens `url` in the tab the browser started with (the first call), else in a new tab; resolves
   * once it has loaded. Reusing the start tab keeps an idle about:blank renderer out of the memory
   * figures: the browser then holds what a user's browser would when opening the app.
   */
  async newPage(url) {
    const { targetInfos } = await this.send('Target.getTargets');
    const start = this.usedStartTab ? null : targetInfos.find((t) => t.type === 'page' && t.url === 'about:blank');
    this.usedStartTab = true;
    const { targetId } = start ?? (await this.send('Target.createTarget', { url: 'about:blank' }));
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new PlainPage(this, sessionId);
    this.sessions.set(sessionId, page);
    await this.send('Page.enable', {}, sessionId);
    await this.send('Runtime.enable', {}, sessionId);
    await this.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, sessionId);
    const loaded = page.waitEvent('Page.loadEventFired');
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    return page;
  }

  /** Closes the browser (kills it if it does not exit within 10 s) and removes its profile. */
  async close() {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.send('Browser.close').catch(() => {});
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** A tab of a PlainBrowser: evaluate(fn, arg) like Playwright's page.evaluate. */
export class PlainPage {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.waiters = [];
    this.crashed = null;
  }

  onEvent(method, params) {
    const label = this.browser.label;
    if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'warning')) {
      const text = params.args.map((a) => a.value ?? a.description ?? '').join(' ');
      process.stderr.write(`[browser ${params.type}] ${label}: ${text}\n`);
    } else if (method === 'Runtime.exceptionThrown') {
      process.stderr.write(`[browser pageerror] ${label}: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}\n`);
    } else if (method === 'Inspector.targetCrashed') {
      this.crashed = new Error('the page crashed');
      process.stderr.write(`[browser crash] ${label}: the page crashed\n`);
    }
    for (const w of this.waiters.filter((x) => x.method === method)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(params);
    }
  }

  waitEvent(method) {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }

  /** Runs fn(arg) in the page (fn serialized with toString, arg as JSON); resolves with its (JSON) value. */
  async evaluate(fn, arg) {
    if (this.crashed) throw this.crashed;
    const expression = `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`;
    const r = await this.browser.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, this.sessionId);
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value;
  }
}

/** PlainBrowser: opens the test harness in a new tab and waits until window.ls is there. */
export async function openPlainHarness(browser, baseUrl) {
  const page = await browser.newPage(`${baseUrl}/test/harness.html`);
  const deadline = Date.now() + 60_000;
  while (!(await page.evaluate(() => window.harnessReady === true))) {
    if (Date.now() > deadline) throw new Error('the harness page did not become ready within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return page;
}
