#!/usr/bin/env node
// layerstream benchmark (issue #5): runs the engine in headless Chromium — the same WebGPU set-up
// as the tests, through the real engine API (test/harness.html → window.ls) — and writes
// bench/results.json, bench/results.md and bench/chart.svg.
//
// Suites (default: all but `shared`):
//   budgets  a generated ~1 GiB llama model (Q8_0, scripts/generate-model.mjs, seeded) resident and
//            at GPU budgets of 50 %, 25 %, 10 % of its file and at 256 MiB: prefill/decode tok/s,
//            bytes uploaded per token, upload bandwidth, peak memory of the browser's processes
//            (read from /proc, see lib/procmem.mjs), greedy tokens compared with the resident run
//   layers   GPU time per layer (profileLayers: timestamp queries), resident and at the 25 % budget
//   ram      the 25 % budget with the RAM tier on (ramBudgetBytes ≥ the streamed bytes) vs off
//   upload   the 25 % budget with uploadMethod 'writeBuffer' (queue.writeBuffer from host chunks)
//            vs 'mapped' (reads into mapped MAP_WRITE staging buffers + copyBufferToBuffer)
//   moe      each MoE model (MOE_MODELS) at a third of its file, expertStreaming on vs off (and resident)
//   recurrent  qwen35 / qwen35moe resident and at a third: tok/s, recurrent state vs a full-attention K/V cache at 4K / 32K
//   speculative  speculative decoding off / ngram drafts / a draft model, on the generated model resident and at a
//            25 % budget and on shared models, with a prompt that repeats (SPEC_PROMPT): tokens per forward pass,
//            decode tok/s, bytes uploaded per generated token, draft acceptance, same greedy tokens
//   kv       kvCacheType 'q8_0' vs 'f32': logit rows' relative L2 error and decode tok/s on
//            stories260K and synth-llama-Q8_0 (tokens: ../shared/reference/<model>.f64.json)
//   peer     wllama (bench/lib/wllama.mjs) on the generated model and synth-llama-Q8_0, next to our
//            resident runs of the same files
//   shared   (only with --only shared) every model in ../shared/models, default budget and a
//            third of the file — the benchmark's earlier mode; positional arguments filter names
//   advisor  (only with --only advisor) the memory-fit advisor's predicted decode tok/s vs the engine's measured
//            tok/s on every shared model, resident and at a third (bench/advisor.mjs → bench/results-advisor.{json,md})
//   grammar  (only with --only grammar; Node, no browser) CPU ms per allowed-token mask of constrained
//            generation (xgrammar + UTF-8 filter) on the shared vocabularies and a 152k one
//            (bench/grammar/grammar.bench.ts → bench/results-grammar.{json,md})
//
//   node bench/run.mjs [--quick] [--only budgets,layers,ram,upload,moe,recurrent,kv,speculative,peer,shared,grammar,advisor] [--tokens 8 (quick: 16)] [--warmup 2]
//                      [--prompt TEXT] [--timeout SECONDS] [--profile] [--verbose] [--report-only]
//                      [shared-model-filter ...]
//   npm run bench -- --quick
//
// --quick uses a ~131 MiB generated model instead of ~1 GiB (a smoke run of a few minutes); its
// memory target is then checked at the 25 % budget instead of 256 MiB.
// Every run gets a fresh browser (so one run's memory, crash or hang stays with it). Exit status:
// 0 when every run of our engine produced numbers (targets may still FAIL: see results.md), 1 when
// one failed or timed out, 2 when the benchmark itself broke.
import { execSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { chromiumPath, webgpuArgs } from '../scripts/browser.mjs';
import { PRESETS, expectedModelBytes, generateLlamaModel } from '../scripts/generate-model.mjs';
import { PlainBrowser, adapterInfo, benchInPage, kvAccuracyInPage, openHarness, openPlainHarness, uploadBandwidthInPage } from './lib/page.mjs';
import { MemorySampler, browserPids } from './lib/procmem.mjs';
import { formatBandwidth, formatBytes, formatRate, headerLine, writeOutputs, evaluateTargets } from './lib/report.mjs';
import { MODEL_URL, VITE_URL, killServersNow, startServers, stopServers } from './lib/servers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '../shared');
const OUT_DIR = path.join(ROOT, 'bench');
const GEN_DIR = path.join(ROOT, '.test-models/bench'); // gitignored; served as /generated/bench/
const MiB = 1024 ** 2;
const DEFAULT_SUITES = ['budgets', 'layers', 'ram', 'upload', 'moe', 'recurrent', 'speculative', 'kv', 'peer'];
const ALL_SUITES = [...DEFAULT_SUITES, 'shared', 'grammar', 'advisor'];
/** K/V cache length for every run: small, so the budget is nearly all weights. */
const CONTEXT = 256;
/** Headroom over the file size for the "resident" runs: K/V cache (CONTEXT tokens) and scratch. */
const RESIDENT_HEADROOM = 64 * MiB;
/** RAM tier budget for the `ram` suite: more than the 25 % run streams (≤ the file). */
const RAM_TIER_BYTES = 1.5 * 1024 * MiB;
const KV_MODELS = ['stories260K', 'synth-llama-Q8_0'];
const PEER_SHARED_MODEL = 'synth-llama-Q8_0';
/** Mixture-of-experts models of the `moe` suite: Mixtral-style, Qwen3-MoE, gpt-oss (MXFP4 experts), DeepSeek (MLA, shared expert). */
const MOE_MODELS = ['synth-moe-Q4_K_M', 'synth-qwen3moe-Q4_K_M', 'synth-gpt-oss-MXFP4', 'synth-deepseek2-Q4_K_M'];
/** Hybrid recurrent models of the `recurrent` suite (Gated DeltaNet + attention: qwen35, qwen35moe). */
const RECURRENT_MODELS = ['synth-qwen35-Q4_K_M', 'synth-qwen35moe-Q4_K_M'];
/**
 * The `speculative` suite's prompt: text that quotes itself, where prompt lookup (ngram drafts)
 * applies — as in editing code or summarising a document.
 */
const SPEC_PROMPT = 'The little dog ran to the park. He saw a big red ball. The little dog ran to the park. He saw a big';
/** Tokens the `speculative` suite generates on the small shared models. */
const SPEC_TOKENS = 32;
/** Shared models of the `speculative` suite, and the draft model each gets (same vocabulary). */
const SPEC_MODELS = [
  { name: 'stories260K', draft: 'stories260K-Q4_K_M' },
  { name: 'synth-llama-Q8_0', draft: 'synth-llama-Q4_0' },
];
/** Load errors that mean "this engine can't run this file (yet)", not "the engine broke". */
const UNLOADABLE = new Set(['unsupported_architecture', 'unsupported_tensor_type', 'budget_too_small']);

function parseCli(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      tokens: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      prompt: { type: 'string', default: 'Once upon a time' },
      timeout: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return n;
  };
  const suites = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_SUITES;
  for (const s of suites) if (!ALL_SUITES.includes(s)) throw new Error(`--only: unknown suite ${s} (${ALL_SUITES.join(', ')})`);
  return {
    quick: values.quick,
    suites,
    filters: positionals.map((f) => f.toLowerCase()),
    // SwiftShader runs the ~1 GiB model at tens of seconds per token: 8 tokens keep a full run near
    // half an hour on a 2-core machine; the quick run's small model affords 16.
    tokens: values.tokens === undefined ? (values.quick ? 16 : 8) : int('tokens', 2),
    warmupTokens: int('warmup', 1),
    prompt: values.prompt,
    timeoutS: values.timeout === undefined ? null : int('timeout', 1),
    profile: values.profile,
    verbose: values.verbose,
    reportOnly: values['report-only'],
    help: values.help,
  };
}

// ---- models ----------------------------------------------------------------------------------

function sharedModel(name) {
  const file = `${name}.gguf`;
  const p = path.join(SHARED, 'models', file);
  return { file, label: name, path: p, bytes: statSync(p).size, url: `${MODEL_URL}/shared/models/${encodeURIComponent(file)}` };
}

function sha256File(p) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(p).on('data', (b) => h.update(b)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/**
 * The generated benchmark model: generated once into .test-models/bench/ and reused while its size
 * and sha256 match the sidecar .json written with it (same generator options).
 */
async function ensureGeneratedModel(quick) {
  const preset = quick ? 'bench-128m' : 'bench-1g';
  const options = { ...PRESETS[preset], type: 'Q8_0', seed: 1, name: `synth-llama-${preset}` };
  const file = `synth-llama-${preset}-Q8_0.gguf`;
  const p = path.join(GEN_DIR, file);
  const side = `${p}.json`;
  const expected = expectedModelBytes(options);
  let meta = null;
  if (existsSync(p) && existsSync(side) && statSync(p).size === expected) {
    try {
      const s = JSON.parse(readFileSync(side, 'utf8'));
      if (JSON.stringify(s.options) === JSON.stringify(options)) {
        process.stderr.write(`checking ${path.relative(ROOT, p)} (sha256)…\n`);
        if ((await sha256File(p)) === s.sha256) meta = s;
      }
    } catch {
      // unreadable sidecar: regenerate
    }
  }
  if (!meta) {
    process.stderr.write(`generating ${path.relative(ROOT, p)} (${formatBytes(expected)}, preset ${preset})…\n`);
    const t0 = performance.now();
    const r = await generateLlamaModel(p, options);
    meta = { options, bytes: r.bytes, sha256: r.sha256, weightBytes: r.weightBytes, generatedInS: Math.round((performance.now() - t0) / 1000) };
    writeFileSync(side, JSON.stringify(meta, null, 2) + '\n');
  }
  return {
    file,
    label: `synth-llama-${preset.slice(6)}-Q8_0`,
    path: p,
    bytes: meta.bytes,
    url: `${MODEL_URL}/generated/bench/${encodeURIComponent(file)}`,
    generated: { preset, options, sha256: meta.sha256, weightBytes: meta.weightBytes },
  };
}

// ---- run plan --------------------------------------------------------------------------------

/**
 * Run specs. kind 'ours' (benchInPage), 'kv' (kvAccuracyInPage), 'wllama' (the peer). Runs with the
 * same `key` are executed once and their record shared between suites (e.g. the resident run is
 * the budgets suite's reference and the peer suite's "ours").
 */
function planRuns(opts, gen) {
  const runs = [];
  const ours = (suite, model, label, engineOptions, extra = {}) => {
    const o = { contextLength: CONTEXT, ...(opts.profile ? { profileLayers: true } : {}), ...engineOptions };
    runs.push({ kind: 'ours', suite, model, label, engineOptions: o, ...extra });
  };
  const resident = (m) => ({ gpuBudgetBytes: m.bytes + RESIDENT_HEADROOM });
  // A fraction of the file for weights; the K/V cache and scratch (taken from the reference run's
  // stats) are added when the run starts — see resolveBudget.
  const frac = (p) => ({ weightFraction: p });
  const genRef = `${gen?.file}:resident`;
  if (gen && ['budgets', 'layers', 'peer', 'ram', 'upload'].some((s) => opts.suites.includes(s))) {
    ours('budgets', gen, '100 %', resident(gen), { ref: genRef, budgetPct: 100, isReference: true });
  }
  if (gen && opts.suites.includes('budgets')) {
    ours('budgets', gen, '50 %', {}, { ref: genRef, budgetPct: 50, ...frac(0.5) });
    ours('budgets', gen, '25 %', {}, { ref: genRef, budgetPct: 25, ...frac(0.25) });
    // The memory target is stated for a 256 MiB budget: the whole budget, K/V cache and scratch included.
    if (!opts.quick) ours('budgets', gen, '256 MiB', { gpuBudgetBytes: 256 * MiB }, { ref: genRef, budgetPct: (100 * 256 * MiB) / gen.bytes });
    ours('budgets', gen, '10 %', {}, { ref: genRef, budgetPct: 10, ...frac(0.1) });
  }
  if (gen && opts.suites.includes('layers')) {
    // Timed apart from the budgets runs: timestamp queries end a compute pass at every layer, which
    // costs SwiftShader time (the report sets these runs' decode tok/s beside the untimed ones).
    ours('layers', gen, '100 %, timed', { ...resident(gen), profileLayers: true }, { ref: genRef, budgetPct: 100 });
    ours('layers', gen, '25 %, timed', { profileLayers: true }, { ref: genRef, budgetPct: 25, ...frac(0.25) });
  }
  if (gen && opts.suites.includes('ram')) {
    ours('ram', gen, '25 %, RAM tier off', {}, { ref: genRef, budgetPct: 25, ...frac(0.25) });
    ours('ram', gen, '25 %, RAM tier on', { ramBudgetBytes: RAM_TIER_BYTES }, { ref: genRef, budgetPct: 25, ...frac(0.25) });
  }
  if (opts.suites.includes('upload')) {
    // pure upload bandwidth (no model: the label names the sizes), then both methods in the engine
    const bytes = opts.quick ? 256 * MiB : 1024 * MiB;
    runs.push({ kind: 'upload-bw', suite: 'upload', model: { label: 'staging → GPU buffer', file: '-', bytes }, label: `${formatBytes(bytes)} in 4 MiB chunks` });
  }
  if (gen && opts.suites.includes('upload')) {
    ours('upload', gen, '25 %, writeBuffer', {}, { ref: genRef, budgetPct: 25, ...frac(0.25) });
    ours('upload', gen, '25 %, mapped', { uploadMethod: 'mapped' }, { ref: genRef, budgetPct: 25, ...frac(0.25) });
  }
  if (opts.suites.includes('moe')) {
    for (const name of MOE_MODELS) {
      const m = sharedModel(name);
      const ref = `${m.file}:resident`;
      ours('moe', m, 'resident', resident(m), { ref, isReference: true });
      ours('moe', m, '1/3, expert streaming on', { expertStreaming: true }, { ref, ...frac(1 / 3) });
      ours('moe', m, '1/3, expert streaming off', { expertStreaming: false }, { ref, ...frac(1 / 3) });
    }
  }
  if (opts.suites.includes('recurrent')) {
    for (const name of RECURRENT_MODELS) {
      const m = sharedModel(name);
      const ref = `${m.file}:resident`;
      ours('recurrent', m, 'resident', resident(m), { ref, isReference: true });
      ours('recurrent', m, '1/3', {}, { ref, ...frac(1 / 3) });
    }
  }
  if (opts.suites.includes('speculative')) {
    const spec = (draft) => ({ speculative: { draft } });
    // a warm-up long enough to draft (so the batched kernels and a draft model's are compiled);
    // the small shared models generate SPEC_TOKENS, the generated one --tokens
    const prompt = { prompt: SPEC_PROMPT, warmupTokens: 8 };
    if (gen) {
      const ref = `${gen.file}:spec-resident`;
      ours('speculative', gen, 'resident, off', { ...resident(gen), ...spec('off') }, { ref, isReference: true, ...prompt });
      ours('speculative', gen, 'resident, ngram', { ...resident(gen), ...spec('ngram') }, { ref, ...prompt });
      ours('speculative', gen, '25 %, off', spec('off'), { ref, ...prompt, budgetPct: 25, ...frac(0.25) });
      ours('speculative', gen, '25 %, ngram', spec('ngram'), { ref, ...prompt, budgetPct: 25, ...frac(0.25) });
    }
    for (const { name, draft } of SPEC_MODELS) {
      const m = sharedModel(name);
      const d = sharedModel(draft);
      const ref = `${m.file}:spec-resident`;
      const small = { ...prompt, tokens: SPEC_TOKENS };
      ours('speculative', m, 'resident, off', { ...resident(m), ...spec('off') }, { ref, isReference: true, ...small });
      ours('speculative', m, 'resident, ngram', { ...resident(m), ...spec('ngram') }, { ref, ...small });
      ours('speculative', m, `resident, draft ${draft}`, { gpuBudgetBytes: m.bytes + d.bytes + 2 * RESIDENT_HEADROOM, draftModel: d.url, ...spec('model') }, { ref, ...small });
      ours('speculative', m, '25 %, off', spec('off'), { ref, ...small, ...frac(0.25) });
      ours('speculative', m, '25 %, ngram', spec('ngram'), { ref, ...small, ...frac(0.25) });
      ours('speculative', m, `25 %, draft ${draft}`, { draftModel: d.url, ...spec('model') }, { ref, ...small, ...frac(0.25), draftBytes: d.bytes + RESIDENT_HEADROOM });
    }
  }
  if (opts.suites.includes('kv')) {
    for (const name of KV_MODELS) {
      const m = sharedModel(name);
      const refFile = path.join(SHARED, 'reference', `${name}.f64.json`);
      const r = JSON.parse(readFileSync(refFile, 'utf8'));
      const tokens = [...r.prompt_tokens, ...r.greedy_tokens].slice(0, CONTEXT);
      runs.push({
        kind: 'kv',
        suite: 'kv',
        model: m,
        label: 'q8_0 vs f32 logits',
        tokens,
        engineOptions: { contextLength: CONTEXT, ...resident(m) },
      });
      const ref = `${m.file}:resident`;
      ours('kv', m, 'K/V f32', { ...resident(m), kvCacheType: 'f32' }, { ref, isReference: true });
      ours('kv', m, 'K/V q8_0', { ...resident(m), kvCacheType: 'q8_0' }, { ref });
    }
  }
  if (opts.suites.includes('peer')) {
    const models = [...(gen ? [gen] : []), sharedModel(PEER_SHARED_MODEL)];
    for (const m of models) {
      const ref = `${m.file}:resident`;
      // Ours first (deduplicated with the budgets / kv runs of identical options), then wllama.
      ours('peer', m, 'layerstream, resident', { ...resident(m), ...(m === gen ? {} : { kvCacheType: 'f32' }) }, { ref, isReference: true });
      runs.push({ kind: 'wllama', suite: 'peer', model: m, label: 'wllama', ref });
    }
  }
  if (opts.suites.includes('shared')) {
    for (const m of listSharedModels(opts.filters)) {
      const ref = `${m.file}:full`;
      ours('shared', m, 'full', {}, { ref, isReference: true });
      ours('shared', m, '1/3', {}, { ref, ...frac(1 / 3) });
    }
  }
  return runs;
}

/** *.gguf in ../shared/models, smallest first, keeping names that contain any filter. */
function listSharedModels(filters) {
  return readdirSync(path.join(SHARED, 'models'))
    .filter((f) => f.endsWith('.gguf'))
    .filter((f) => !filters.length || filters.some((x) => f.toLowerCase().includes(x)))
    .map((f) => sharedModel(f.replace(/\.gguf$/, '')))
    .sort((a, b) => a.bytes - b.bytes || a.file.localeCompare(b.file));
}

/**
 * Runs given as a fraction of the file for weights (weightFraction): gpuBudgetBytes = fraction ×
 * file size + the K/V cache and scratch bytes of the reference run (same context length and K/V
 * type), so the weights really get that fraction. Without a reference run: the fraction alone.
 */
function resolveBudget(spec, ref) {
  if (spec.weightFraction == null) return;
  const overhead = ref?.status === 'ok' ? ref.kvCacheBytes + ref.scratchBytes : 0;
  // a draft model (speculative suite) is resident on top of the target's fraction
  spec.engineOptions = { ...spec.engineOptions, gpuBudgetBytes: Math.floor(spec.model.bytes * spec.weightFraction) + overhead + (spec.draftBytes ?? 0) };
}

function sortKeys(o) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

// ---- running ---------------------------------------------------------------------------------

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms / 1000}s`), { code: 'timeout' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Per-run limit: generous, SwiftShader is slow (a 1 GiB model takes minutes per run). */
function timeoutMsFor(spec, opts) {
  if (opts.timeoutS) return opts.timeoutS * 1000;
  return (spec.model.bytes > 256 * MiB ? 1500 : spec.model.bytes > 64 * MiB ? 600 : 300) * 1000;
}

let wllamaModule; // undefined: not tried; { fn } or { error }

async function loadWllama() {
  if (wllamaModule) return wllamaModule;
  const file = path.join(ROOT, 'bench/lib/wllama.mjs');
  if (!existsSync(file)) return (wllamaModule = { error: 'bench/lib/wllama.mjs is missing' });
  try {
    const mod = await import(pathToFileURL(file).href);
    if (typeof mod.wllamaBench !== 'function') return (wllamaModule = { error: 'bench/lib/wllama.mjs exports no wllamaBench function' });
    return (wllamaModule = { fn: mod.wllamaBench });
  } catch (e) {
    return (wllamaModule = { error: `importing bench/lib/wllama.mjs failed: ${e?.message ?? e}` });
  }
}

/**
 * One run in its own browser: launch Chromium, sample the memory of its process tree while the
 * page works, close it. `driver`: 'plain' (PlainBrowser, no DevTools Network domain: the memory
 * figures are a user's browser's) or 'playwright' (a BrowserContext, for the wllama peer's API).
 * work(browserOrContext, label, startSampling) returns the page's answer. Resolves (never rejects)
 * with { res, memory, wallMs }; res is { ok: false, phase: 'harness', … } on a timeout or a crash.
 */
async function inFreshBrowser(spec, opts, driver, work) {
  const label = `${spec.model.label} @ ${spec.label}`;
  let browser;
  let roots;
  let sampler = null;
  const t0 = performance.now();
  try {
    if (driver === 'plain') {
      browser = await PlainBrowser.launch({ executablePath: chromiumPath(), args: webgpuArgs, label });
      roots = [browser.pid];
    } else {
      const before = new Set(browserPids());
      browser = await chromium.launch({ executablePath: chromiumPath(), args: webgpuArgs });
      roots = browserPids().filter((p) => !before.has(p));
    }
    const target = driver === 'plain' ? browser : await browser.newContext();
    const res = await withTimeout(
      work(target, label, () => (sampler = new MemorySampler({ roots: () => roots }).start())),
      timeoutMsFor(spec, opts),
      label,
    );
    return { res, memory: sampler?.stop() ?? null, wallMs: performance.now() - t0 };
  } catch (e) {
    // Timeout, page crash, harness not loading: the page's own error handling never got to answer.
    const res = { ok: false, phase: 'harness', code: e?.code ?? null, message: String(e?.message ?? e).split('\n')[0] };
    return { res, memory: sampler?.stop() ?? null, wallMs: performance.now() - t0 };
  } finally {
    // A wedged GPU process can make close() hang: give it 20 s, then kill what we launched.
    await withTimeout(browser?.close() ?? Promise.resolve(), 20_000, 'closing the browser').catch(() => {
      for (const pid of roots ?? []) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }
}

async function runSpec(spec, opts) {
  if (spec.kind === 'ours') {
    const args = { url: spec.model.url, prompt: spec.prompt ?? opts.prompt, tokens: spec.tokens ?? opts.tokens, warmupTokens: spec.warmupTokens ?? opts.warmupTokens, engineOptions: spec.engineOptions };
    const { res, memory, wallMs } = await inFreshBrowser(spec, opts, 'plain', async (browser, label, startSampling) => {
      const page = await openPlainHarness(browser, VITE_URL);
      startSampling(); // baseline: the browser with the harness page open, no engine yet
      return benchInPage(page, args);
    });
    return oursRecord(spec, res, memory, wallMs);
  }
  if (spec.kind === 'kv') {
    const args = { url: spec.model.url, tokens: spec.tokens, types: ['f32', 'q8_0'], engineOptions: spec.engineOptions };
    const { res, wallMs } = await inFreshBrowser(spec, opts, 'plain', async (browser) => kvAccuracyInPage(await openPlainHarness(browser, VITE_URL), args));
    return kvRecord(spec, res, wallMs);
  }
  if (spec.kind === 'upload-bw') {
    const args = { methods: ['writeBuffer', 'mapped'], totalBytes: spec.model.bytes, chunkBytes: 4 * MiB, count: 4, dstBytes: 64 * MiB, rounds: 5 };
    const { res, wallMs } = await inFreshBrowser(spec, opts, 'plain', async (browser) => uploadBandwidthInPage(await openPlainHarness(browser, VITE_URL), args));
    const base = { ...baseRecord(spec), engine: 'layerstream', kind: 'upload-bandwidth', wallMs: Math.round(wallMs) };
    if (!res.ok) return { ...base, status: 'failed', error: { phase: res.phase, code: res.code, message: res.message } };
    const perMethod = Object.fromEntries(Object.entries(res.perMethod).map(([m, v]) => [m, { ...v, bytesPerSecond: v.bytes / (v.ms / 1000) }]));
    return { ...base, status: 'ok', chunkBytes: args.chunkBytes, stagingChunks: args.count, perMethod };
  }
  if (spec.kind === 'wllama') {
    const w = await loadWllama();
    if (w.error) return { ...baseRecord(spec), engine: 'wllama', status: 'failed', error: { phase: 'import', code: null, message: w.error } };
    const args = { url: spec.model.url, prompt: opts.prompt, tokens: opts.tokens, warmupTokens: opts.warmupTokens };
    const { res, memory, wallMs } = await inFreshBrowser(spec, opts, 'playwright', async (context, _label, startSampling) => {
      startSampling();
      try {
        return await w.fn(context, args);
      } catch (e) {
        return { ok: false, error: String(e?.message ?? e) };
      }
    });
    return wllamaRecord(spec, res, memory, wallMs);
  }
  throw new Error(`unknown run kind ${spec.kind}`);
}

function baseRecord(spec) {
  return {
    suite: spec.suite,
    label: spec.label,
    model: spec.model.label,
    file: spec.model.file,
    fileBytes: spec.model.bytes,
    ...(spec.budgetPct !== undefined ? { budgetPct: spec.budgetPct } : {}),
  };
}

/** Flattens what the page returned into one result record (the shape of results.json's records). */
function oursRecord(spec, res, memory, wallMs) {
  const base = { ...baseRecord(spec), engine: 'layerstream', options: spec.engineOptions, wallMs: Math.round(wallMs), memory };
  if (!res.ok) {
    const unloadable = res.phase === 'load' && UNLOADABLE.has(res.code);
    return { ...base, status: unloadable ? 'unloadable' : 'failed', error: { phase: res.phase, code: res.code, message: res.message } };
  }
  const s = res.stats;
  return {
    ...base,
    status: 'ok',
    architecture: res.info.architecture,
    promptTokens: res.promptTokens.length,
    generatedTokens: res.tokens.length,
    prefillTokensPerSecond: s.prefillTokensPerSecond,
    // With < 2 tokens the engine measured no decode step.
    decodeTokensPerSecond: res.tokens.length >= 2 ? s.decodeTokensPerSecond : null,
    bytesUploadedLastToken: s.bytesUploadedLastToken,
    bytesUploadedDuringGenerate: res.bytesUploadedDuringGenerate,
    streamBytesPerSecond: s.streamBytesPerSecond,
    streamWaitMsLastToken: s.streamWaitMsLastToken,
    slotWaitMsLastToken: s.slotWaitMsLastToken,
    bytesReadLastToken: s.bytesReadLastToken,
    layerGpuMs: s.layerGpuMs?.length ? s.layerGpuMs : null,
    layerResidency: s.layerResidency,
    headGpuMs: s.layerGpuMs?.length ? s.headGpuMs : null,
    gpuBudgetBytes: s.gpuBudgetBytes,
    weightBudgetBytes: s.weightBudgetBytes,
    weightBytesOnGpu: s.weightBytesOnGpu,
    kvCacheBytes: s.kvCacheBytes,
    kvCacheType: s.kvCacheType,
    kvCacheLayers: s.kvCacheLayers,
    kvCacheBytesPerToken: s.kvCacheBytesPerToken,
    kvCacheBytesPerTokenUncompressed: s.kvCacheBytesPerTokenUncompressed,
    recurrentStateBytes: s.recurrentStateBytes,
    stateSnapshotBytes: s.stateSnapshotBytes,
    scratchBytes: s.scratchBytes,
    layersResident: s.layersResident,
    layersStreamed: s.layersStreamed,
    poolSlots: s.poolSlots,
    poolSlotBytes: s.poolSlotBytes,
    ramBudgetBytes: s.ramBudgetBytes,
    ramBytesUsed: s.ramBytesUsed,
    stagingBytes: s.stagingBytes,
    uploadMethod: s.uploadMethod,
    expertCacheSlots: s.expertCacheSlots,
    expertCacheHits: res.expertCacheHitsDuringGenerate,
    expertCacheMisses: res.expertCacheMissesDuringGenerate,
    gpuBuffersCreated: s.gpuBuffersCreated,
    speculativeDraft: s.speculativeDraft,
    draftTokensProposed: s.draftTokensProposed,
    draftTokensAccepted: s.draftTokensAccepted,
    forwardPasses: s.forwardPassesLastGenerate,
    bytesUploadedDecode: s.bytesUploadedLastGenerate,
    draftModel: s.draftModel,
    prompt: spec.prompt ?? null,
    loadMs: Math.round(res.loadMs),
    warmupMs: Math.round(res.warmupMs),
    generateMs: Math.round(res.generateMs),
    firstTokenMs: Math.round(res.firstTokenMs ?? NaN),
    tokens: res.tokens,
    text: res.text,
  };
}

function kvRecord(spec, res, wallMs) {
  const base = { ...baseRecord(spec), engine: 'layerstream', kind: 'kv-accuracy', positions: spec.tokens.length, wallMs: Math.round(wallMs) };
  if (!res.ok) return { ...base, status: 'failed', error: { phase: res.phase, code: res.code, message: res.message } };
  const q = res.perType.q8_0;
  const mean = q.relL2.reduce((s, v) => s + v, 0) / q.relL2.length;
  return {
    ...base,
    status: 'ok',
    relL2Max: Math.max(...q.relL2),
    relL2Mean: mean,
    relL2: q.relL2,
    argmaxAgree: q.argmaxAgree,
    kvCacheBytesF32: res.perType.f32.kvCacheBytes,
    kvCacheBytesQ8: q.kvCacheBytes,
  };
}

function wllamaRecord(spec, res, memory, wallMs) {
  const base = { ...baseRecord(spec), engine: 'wllama', wallMs: Math.round(wallMs), memory };
  if (!res?.ok) {
    const message = String(res?.error ?? res?.message ?? 'no answer');
    return { ...base, status: 'failed', error: { phase: res?.phase ?? 'wllama', code: res?.code ?? null, message } };
  }
  return {
    ...base,
    status: 'ok',
    prefillTokensPerSecond: res.prefillTokensPerSecond ?? null,
    decodeTokensPerSecond: res.decodeTokensPerSecond ?? null,
    promptTokens: res.promptTokens ?? null,
    generatedTokens: res.tokens?.length ?? null,
    loadMs: res.loadMs != null ? Math.round(res.loadMs) : null,
    tokens: res.tokens ?? null,
    text: res.text ?? null,
    ...(res.threads !== undefined ? { threads: res.threads } : {}),
    ...(res.version !== undefined ? { version: res.version } : {}),
  };
}

/** Greedy output must not depend on the budget or the options: compare with the run's reference. */
function compareTokens(r, refRecord) {
  if (!refRecord || refRecord === r || r.status !== 'ok' || refRecord.status !== 'ok' || !r.tokens || !refRecord.tokens) return;
  r.reference = `${refRecord.model} @ ${refRecord.label}`;
  r.sameTokensAsReference = r.tokens.length === refRecord.tokens.length && r.tokens.every((t, i) => t === refRecord.tokens[i]);
  if (r.engine === 'layerstream' && !r.sameTokensAsReference) {
    process.stderr.write(`  warning: ${r.model} @ ${r.label} generated different tokens than @ ${refRecord.label}\n`);
  }
}

let interrupted = false;

function progress(r) {
  if (interrupted) return; // runs cut short by Ctrl-C are not failures worth a line
  let what;
  if (r.status !== 'ok') what = `${r.status}: ${r.error.code ?? r.error.phase} — ${r.error.message}`;
  else if (r.kind === 'upload-bandwidth') what = Object.entries(r.perMethod).map(([m, v]) => `${m} ${formatBandwidth(v.bytesPerSecond)}`).join(', ');
  else if (r.kind === 'kv-accuracy') what = `q8_0 vs f32 logits: relative L2 max ${r.relL2Max.toExponential(2)}, mean ${r.relL2Mean.toExponential(2)}, argmax agrees ${r.argmaxAgree}/${r.positions}`;
  else {
    what = `prefill ${formatRate(r.prefillTokensPerSecond)} tok/s, decode ${formatRate(r.decodeTokensPerSecond)} tok/s`;
    if (r.engine === 'layerstream') what += `, ${r.layersResident}/${r.layersStreamed} resident/streamed, ${formatBytes(r.bytesUploadedLastToken)}/token`;
    if (r.memory?.peakPssBytes) what += `, peak PSS ${formatBytes(r.memory.peakPssBytes)}`;
    if (r.sameTokensAsReference === false) what += ', TOKENS DIFFER';
  }
  process.stderr.write(`  [${r.suite}] ${r.model} @ ${r.label}: ${what} (${(r.wallMs / 1000).toFixed(1)} s)\n`);
}

function gitCommit() {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

async function collectMeta(opts, loadAvg, gen) {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: webgpuArgs });
  try {
    const page = await openHarness(await browser.newContext(), VITE_URL, 'adapter');
    return {
      date: new Date().toISOString(),
      chromium: browser.version(),
      adapter: await adapterInfo(page),
      commit: gitCommit(),
      node: process.version,
      cpus: `${os.cpus().length}× ${os.cpus()[0]?.model?.trim() ?? 'cpu'}`,
      memTotalBytes: os.totalmem(),
      loadAvg, // 1/5/15-minute load before the bench started: other work skews SwiftShader numbers
      quick: opts.quick,
      suites: opts.suites,
      prompt: opts.prompt,
      tokens: opts.tokens,
      warmupTokens: opts.warmupTokens,
      contextLength: CONTEXT,
      residentHeadroomBytes: RESIDENT_HEADROOM,
      generatedModel: gen ? { file: gen.file, bytes: gen.bytes, ...gen.generated } : null,
      webgpuArgs,
    };
  } finally {
    await browser.close();
  }
}

async function bench(opts) {
  // Sampled before our own servers and browser add to it.
  const loadAvg = os.loadavg().map((x) => Math.round(x * 100) / 100);
  if (loadAvg[0] > os.cpus().length / 2) {
    process.stderr.write(`warning: load average ${loadAvg[0]} on ${os.cpus().length} cores — is something else (npm test?) running? Numbers will be noisy.\n`);
  }
  if (!chromiumPath()) throw new Error('no Chromium found (run `node scripts/ensure-chromium.mjs`, or set CHROMIUM_PATH)');
  const needsGen = opts.suites.some((s) => ['budgets', 'layers', 'ram', 'upload', 'peer', 'speculative'].includes(s));
  const gen = needsGen ? await ensureGeneratedModel(opts.quick) : null;
  const specs = planRuns(opts, gen);
  process.stderr.write(`starting Vite (${VITE_URL}) and the model server (${MODEL_URL})…\n`);
  await startServers({ root: ROOT, verbose: opts.verbose });
  try {
    const meta = await collectMeta(opts, loadAvg, gen);
    process.stderr.write(`${headerLine(meta)}\n${specs.length} runs planned\n`);
    const records = [];
    const byKey = new Map(); // run key → record (runs shared between suites execute once)
    const refs = new Map(); // reference id → record
    for (const spec of specs) {
      resolveBudget(spec, refs.get(spec.ref));
      spec.key = JSON.stringify([spec.kind, spec.model.file, sortKeys(spec.engineOptions ?? {}), spec.prompt ?? null, spec.tokens ?? null, spec.warmupTokens ?? null]);
      let r;
      if (byKey.has(spec.key)) {
        r = { ...byKey.get(spec.key), suite: spec.suite, label: spec.label, sharedWith: `${byKey.get(spec.key).suite}: ${byKey.get(spec.key).label}` };
      } else {
        r = await runSpec(spec, opts);
        byKey.set(spec.key, r);
      }
      if (spec.isReference && !refs.has(spec.ref)) refs.set(spec.ref, r);
      if (spec.ref && !spec.isReference) compareTokens(r, refs.get(spec.ref));
      records.push(r);
      if (!r.sharedWith) progress(r);
      writeOutputs(OUT_DIR, meta, records); // partial results survive an interrupted run
    }
    const targets = evaluateTargets(meta, records);
    writeOutputs(OUT_DIR, meta, records);
    for (const t of targets) process.stderr.write(`target: ${t.status} — ${t.name}: ${t.detail}\n`);
    process.stderr.write(`wrote bench/results.json, bench/results.md and bench/chart.svg\n`);
    return records;
  } finally {
    await stopServers();
  }
}

function installCleanup() {
  const onSignal = (sig, code) => async () => {
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping servers…\n`);
    await stopServers();
    process.exit(code);
  };
  process.once('SIGINT', onSignal('SIGINT', 130));
  process.once('SIGTERM', onSignal('SIGTERM', 143));
  process.once('exit', killServersNow); // anything still running if we die some other way
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  if (opts.help) {
    console.log(
      'usage: node bench/run.mjs [--quick] [--only budgets,layers,ram,upload,moe,recurrent,kv,speculative,peer,shared,grammar,advisor] [--tokens N (8; quick: 16)] [--warmup N=2]\n' +
        '                          [--prompt TEXT] [--timeout SECONDS] [--profile] [--verbose] [--report-only] [shared-model-filter ...]',
    );
    return 0;
  }
  if (opts.reportOnly) {
    // Re-renders results.md and chart.svg from results.json (after a change to the report code).
    const { meta, records } = JSON.parse(readFileSync(path.join(OUT_DIR, 'results.json'), 'utf8'));
    for (const t of writeOutputs(OUT_DIR, meta, records)) process.stderr.write(`target: ${t.status} — ${t.name}: ${t.detail}\n`);
    return 0;
  }
  if (opts.suites.includes('advisor')) {
    // the memory-fit advisor's predicted vs measured decode speed → bench/results-advisor.{json,md}
    const r = spawnSync(process.execPath, ['bench/advisor.mjs', '--tokens', String(opts.tokens ?? 16)], { stdio: 'inherit', cwd: ROOT });
    if (r.status !== 0) return 1;
    opts.suites = opts.suites.filter((s) => s !== 'advisor');
    if (!opts.suites.length) return 0;
  }
  if (opts.suites.includes('grammar')) {
    // Node only (no browser): grammar mask cost per token on the shared vocabularies → bench/results-grammar.{json,md}
    const r = spawnSync('npx', ['playwright', 'test', '-c', 'bench/grammar/grammar.config.ts'], { stdio: 'inherit', cwd: ROOT });
    if (r.status !== 0) return 1;
    opts.suites = opts.suites.filter((s) => s !== 'grammar');
    if (!opts.suites.length) return 0;
  }
  installCleanup();
  const records = await bench(opts);
  const failed = records.filter((r) => r.engine === 'layerstream' && r.status === 'failed' && !r.sharedWith);
  if (failed.length) process.stderr.write(`${failed.length} run(s) of our engine failed\n`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
    process.exitCode = 2;
  },
);
