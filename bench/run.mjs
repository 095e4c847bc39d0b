#!/usr/bin/env node
// layerstream benchmark: every GGUF in ../shared/models (smallest first) × two GPU budgets (the
// default, and a third of the file so layers must stream), measured in headless Chromium on the
// same WebGPU set-up as the tests, through the real engine API (test/harness.html → window.ls).
//
//   node bench/run.mjs [name-filter ...] [--tokens N] [--warmup N] [--timeout SECONDS] [--verbose]
//   npm run bench -- stories
//
// Prints a Markdown table; writes bench/out/results.{json,md}. Exit status: 0 when every loadable
// model ran, 1 when one that loads failed or timed out, 2 when the benchmark itself broke.
import { execSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { chromiumPath, webgpuArgs } from '../scripts/browser.mjs';
import { adapterInfo, benchInPage, openHarness } from './lib/page.mjs';
import { formatRate, headerLine, markdownTable, errorNotes, writeOutputs } from './lib/report.mjs';
import { MODEL_URL, VITE_URL, killServersNow, startServers, stopServers } from './lib/servers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODELS_DIR = path.resolve(ROOT, '../shared/models'); // served by the model server as /shared/models
const OUT_DIR = path.join(ROOT, 'bench/out');
const PROMPT = 'Once upon a time';

/** Load errors that mean "this engine can't run this file (yet)", not "the engine broke". */
const UNLOADABLE = new Set(['unsupported_architecture', 'unsupported_tensor_type', 'budget_too_small']);

function parseCli(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tokens: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '4' },
      timeout: { type: 'string', default: '300' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return n;
  };
  return {
    filters: positionals.map((f) => f.toLowerCase()),
    tokens: int('tokens', 1),
    warmupTokens: int('warmup', 1),
    timeoutMs: int('timeout', 1) * 1000,
    verbose: values.verbose,
    help: values.help,
  };
}

/** *.gguf files, smallest first, keeping those whose name contains any filter (case-insensitive). */
function listModels(filters) {
  return readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith('.gguf'))
    .filter((f) => !filters.length || filters.some((x) => f.toLowerCase().includes(x)))
    .map((file) => ({ file, bytes: statSync(path.join(MODELS_DIR, file)).size, url: `${MODEL_URL}/shared/models/${encodeURIComponent(file)}` }))
    .sort((a, b) => a.bytes - b.bytes || a.file.localeCompare(b.file));
}

function budgetsFor(model) {
  return [
    { label: 'full', bytes: undefined }, // no gpuBudgetBytes: the engine's default from adapter limits
    { label: '1/3', bytes: Math.floor(model.bytes / 3) }, // same "third of the file" as the streaming tests
  ];
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

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms / 1000}s`), { code: 'timeout' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Flattens what the page returned into one result record (the shape of results.json). */
function toRecord(model, budget, res, wallMs) {
  const base = { model: model.file, fileBytes: model.bytes, budget: budget.label, budgetBytes: budget.bytes ?? null, wallMs: Math.round(wallMs) };
  if (!res.ok) {
    const unloadable = res.phase === 'load' && UNLOADABLE.has(res.code);
    return {
      ...base,
      architecture: res.info?.architecture ?? res.headerArch ?? null,
      status: unloadable ? 'unloadable' : 'failed',
      error: { phase: res.phase, code: res.code, message: res.message },
    };
  }
  const s = res.stats;
  return {
    ...base,
    budgetBytes: s.gpuBudgetBytes, // the budget in force (the default is only known after load)
    architecture: res.info.architecture,
    status: 'ok',
    promptTokens: res.promptTokens,
    generatedTokens: res.tokens.length,
    prefillTokensPerSecond: s.prefillTokensPerSecond,
    // With < 2 tokens the engine measured no decode step and still reports the warm-up's rate.
    decodeTokensPerSecond: res.tokens.length >= 2 ? s.decodeTokensPerSecond : null,
    bytesUploadedLastToken: s.bytesUploadedLastToken,
    bytesUploadedDuringGenerate: res.bytesUploadedDuringGenerate,
    bytesUploadedTotal: s.bytesUploadedTotal,
    layersResident: s.layersResident,
    layersStreamed: s.layersStreamed,
    weightBytesOnGpu: s.weightBytesOnGpu,
    poolSlots: s.poolSlots,
    poolSlotBytes: s.poolSlotBytes,
    kvCacheBytes: s.kvCacheBytes,
    loadMs: Math.round(res.loadMs),
    warmupMs: Math.round(res.warmupMs),
    generateMs: Math.round(res.generateMs),
    firstTokenMs: Math.round(res.firstTokenMs ?? NaN),
    tokens: res.tokens,
    text: res.text,
    info: res.info,
  };
}

/** One (model, budget) run in a fresh browser context, so a crash or a hang stays with that run. */
async function runOne(browser, model, budget, opts) {
  const label = `${model.file} @ ${budget.label}`;
  const args = { url: model.url, prompt: PROMPT, tokens: opts.tokens, warmupTokens: opts.warmupTokens, budgetBytes: budget.bytes };
  const context = await browser.newContext();
  const t0 = performance.now();
  try {
    const res = await withTimeout(
      openHarness(context, VITE_URL, label).then((page) => benchInPage(page, args)),
      opts.timeoutMs,
      label,
    );
    return toRecord(model, budget, res, performance.now() - t0);
  } catch (e) {
    // Timeout, page crash, harness not loading: the page's own error handling never got to answer.
    const failure = { ok: false, phase: 'harness', code: e?.code ?? null, message: String(e?.message ?? e).split('\n')[0] };
    return toRecord(model, budget, failure, performance.now() - t0);
  } finally {
    // Closing kills the page and its engine worker; don't let a wedged page hang the whole bench.
    await withTimeout(context.close(), 15_000, 'closing the browser context').catch(() => {});
  }
}

/** Greedy output must not depend on the budget (README: "identical at every budget"): check it. */
function checkSameAsFull(r, results) {
  const full = results.find((x) => x.model === r.model && x.budget === 'full');
  if (r.status !== 'ok' || r.budget === 'full' || full?.status !== 'ok') return;
  r.sameTokensAsFull = r.tokens.length === full.tokens.length && r.tokens.every((t, i) => t === full.tokens[i]);
  if (!r.sameTokensAsFull) process.stderr.write(`  warning: ${r.model} @ ${r.budget} generated different tokens than @ full\n`);
}

let interrupted = false;

function progress(r) {
  if (interrupted) return; // runs cut short by Ctrl-C are not failures worth a line
  const what =
    r.status === 'ok'
      ? `prefill ${formatRate(r.prefillTokensPerSecond)} tok/s, decode ${formatRate(r.decodeTokensPerSecond)} tok/s, ${r.layersResident}/${r.layersStreamed} resident/streamed`
      : `${r.status}: ${r.error.code ?? r.error.phase} — ${r.error.message}`;
  process.stderr.write(`  ${r.model} @ ${r.budget}: ${what} (${(r.wallMs / 1000).toFixed(1)} s)\n`);
}

async function collectMeta(browser, opts, loadAvg) {
  const context = await browser.newContext();
  try {
    const page = await openHarness(context, VITE_URL, 'adapter');
    return {
      date: new Date().toISOString(),
      chromium: browser.version(),
      adapter: await adapterInfo(page),
      commit: gitCommit(),
      node: process.version,
      cpus: `${os.cpus().length}× ${os.cpus()[0]?.model?.trim() ?? 'cpu'}`,
      loadAvg, // 1/5/15-minute load before the bench started: other work skews SwiftShader numbers
      prompt: PROMPT,
      tokens: opts.tokens,
      warmupTokens: opts.warmupTokens,
      timeoutS: opts.timeoutMs / 1000,
      filters: opts.filters,
      webgpuArgs,
    };
  } finally {
    await context.close();
  }
}

async function bench(opts, models) {
  // Sampled before our own servers and browser add to it.
  const loadAvg = os.loadavg().map((x) => Math.round(x * 100) / 100);
  if (loadAvg[0] > os.cpus().length / 2) {
    process.stderr.write(`warning: load average ${loadAvg[0]} on ${os.cpus().length} cores — is something else (npm test?) running? Numbers will be noisy.\n`);
  }
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium found (run `node scripts/ensure-chromium.mjs`, or set CHROMIUM_PATH)');
  process.stderr.write(`starting Vite (${VITE_URL}) and the model server (${MODEL_URL})…\n`);
  await startServers({ root: ROOT, verbose: opts.verbose });
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: webgpuArgs });
    const meta = await collectMeta(browser, opts, loadAvg);
    process.stderr.write(`${headerLine(meta)}\n`);
    const results = [];
    for (const model of models) {
      for (const budget of budgetsFor(model)) {
        const r = await runOne(browser, model, budget, opts);
        checkSameAsFull(r, results);
        results.push(r);
        progress(r);
        writeOutputs(OUT_DIR, meta, results); // partial results survive an interrupted run
        if (!browser.isConnected()) throw new Error('Chromium exited during the run');
        // A file the engine can't read at the default budget won't load at a smaller one either.
        if (r.status === 'unloadable' && r.error.code !== 'budget_too_small') break;
      }
    }
    console.log(`${headerLine(meta)}\n\n${markdownTable(results)}\n${errorNotes(results)}`);
    process.stderr.write(`wrote ${path.relative(process.cwd(), OUT_DIR)}/results.json and results.md\n`);
    return results;
  } finally {
    await browser?.close().catch(() => {});
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
    console.log('usage: node bench/run.mjs [name-filter ...] [--tokens N=32] [--warmup N=4] [--timeout SECONDS=300] [--verbose]');
    return 0;
  }
  const models = listModels(opts.filters);
  if (!models.length) throw new Error(`no model in ${MODELS_DIR} matches ${opts.filters.join(', ') || '*.gguf'}`);
  installCleanup();
  const results = await bench(opts, models);
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length) process.stderr.write(`${failed.length} run(s) of loadable models failed\n`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
    process.exitCode = 2;
  },
);
