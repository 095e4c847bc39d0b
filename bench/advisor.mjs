#!/usr/bin/env node
// The memory-fit advisor's predictions against the engine's measurements (issue 17): in headless
// Chromium (the tests' WebGPU set-up), calibrate this device (src/advisor/calibrate.ts), then for
// every model in ../shared/models, resident and with its weights at a third of the budget: the
// advisor's plan and predicted decode tok/s (advise.ts) beside what the engine allocates and
// measures (a 4-token warm-up generate, then a measured one of --tokens tokens).
// Writes bench/results-advisor.{json,md}.
//
//   node bench/advisor.mjs [--tokens 16] [model-filter ...]      (or: node bench/run.mjs --only advisor)
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { chromiumPath, webgpuArgs } from '../scripts/browser.mjs';
import { openHarness } from './lib/page.mjs';
import { MODEL_URL, VITE_URL, startServers, stopServers } from './lib/servers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({ options: { tokens: { type: 'string', default: '16' } }, allowPositionals: true });
const TOKENS = Number(values.tokens);
const models = readdirSync(path.resolve(ROOT, '../shared/models')).filter((f) => f.endsWith('.gguf')).filter((f) => !positionals.length || positionals.some((p) => f.includes(p))).sort();

await startServers({ root: ROOT });
let browser;
try {
  browser = await chromium.launch({ executablePath: chromiumPath(), args: webgpuArgs });
  const page = await openHarness(await browser.newContext(), VITE_URL, 'advisor');
  const result = await page.evaluate(async ({ models, base, tokens }) => {
    const a = new window.ls.AdvisorClient();
    const t0 = performance.now();
    const calibration = await a.calibrate(`${base}/shared/models/stories260K.gguf`);
    const calibrationMs = performance.now() - t0;
    const rows = [];
    for (const m of models) {
      for (const third of [false, true]) {
        const { plan, stats: st } = await window.advisorRun(a, `${base}/shared/models/${m}`, { third, warmup: 4, tokens });
        const p = plan.asked.prediction;
        rows.push({
          model: m, budget: third ? '1/3' : 'resident', gpuBudgetBytes: st.gpuBudgetBytes,
          predicted: p.tokensPerSecond, measured: st.decodeTokensPerSecond,
          predictedMs: { matvec: p.matvecMs, dispatch: p.dispatchMs, roundTrip: p.roundTripMs, stream: p.streamMs },
          dispatches: [p.dispatches, st.dispatchesLastPass], roundTrips: [p.roundTrips, st.readbacksLastPass],
          streamedBytes: [plan.asked.streamedBytesPerToken, st.bytesUploadedLastToken],
          scratchEqual: plan.scratchBytes === st.scratchBytes, kvEqual: plan.kvCacheBytes.f32 === st.kvCacheBytes,
        });
      }
    }
    return { calibration, calibrationMs, rows };
  }, { models, base: MODEL_URL, tokens: TOKENS });
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let commit = 'unknown';
  try { commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(); } catch { /* not a checkout */ }
  const meta = { date: new Date().toISOString(), commit, machine: `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`, adapter: result.calibration.adapter, tokens: TOKENS };
  writeFileSync(path.join(ROOT, 'bench/results-advisor.json'), JSON.stringify({ meta, ...result }, null, 2) + '\n');
  const c = result.calibration;
  const f = (x, d = 2) => (x == null ? '–' : x.toFixed(d));
  const ratios = result.rows.map((r) => r.predicted / r.measured);
  const within = (k) => ratios.filter((x) => x >= 1 / k && x <= k).length;
  const md = [
    '# Memory-fit advisor: predicted vs measured decode speed',
    '',
    `\`node bench/run.mjs --only advisor\` at ${meta.commit}, ${meta.date.slice(0, 10)}; ${meta.machine}; adapter ${meta.adapter}; ${TOKENS} measured decode tokens after a 4-token warm-up.`,
    '',
    `Calibration (${f(result.calibrationMs / 1000, 1)} s): upload ${f(c.uploadBytesPerSec / 2 ** 20, 0)} MiB/s · matvec ${Object.entries(c.matvecBytesPerSec).map(([t, v]) => `${t} ${f(v / 2 ** 20, 0)} MiB/s`).join(', ')} · ${f(c.dispatchMs, 3)} ms/dispatch · ${f(c.roundTripMs, 2)} ms/round trip · OPFS read ${c.storageReadBytesPerSec ? f(c.storageReadBytesPerSec / 2 ** 20, 0) + ' MiB/s' : '–'} · ${f(c.streamGroupMs ?? null, 2)} ms per streamed group`,
    '',
    `Predicted / measured within 1.25×: ${within(1.25)} of ${ratios.length} runs; within 1.5×: ${within(1.5)}; within 2×: ${within(2)}.`,
    '',
    '| model | budget | predicted tok/s | measured tok/s | predicted / measured | dispatches (est. / engine) | streamed bytes/token (plan / engine) |',
    '|---|---|---|---|---|---|---|',
    ...result.rows.map((r) => `| ${r.model.replace(/\.gguf$/, '')} | ${r.budget} | ${f(r.predicted)} | ${f(r.measured)} | ${f(r.predicted / r.measured)}× | ${r.dispatches[0]} / ${r.dispatches[1]} | ${r.streamedBytes[0]} / ${r.streamedBytes[1]} |`),
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'bench/results-advisor.md'), md);
  console.log(md);
} finally {
  await browser?.close();
  await stopServers();
}
