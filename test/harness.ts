// Loaded by test/harness.html in headless Chromium: exposes the engine's modules to Playwright's
// page.evaluate, so browser tests call the real code (no bundling differences from the app).
import * as api from '../src/index.ts';
import { Kernels } from '../src/gpu/kernels.ts';
import { requestGPUDevice } from '../src/gpu/device.ts';
import { readGGUF } from '../src/gguf/gguf.ts';
import { openByteSource } from '../src/storage/byte-source.ts';
import { chatPromptTokens } from '../src/chat/openai.ts';
import { EngineCore } from '../src/engine/engine.ts';
import { Staging } from '../src/engine/staging.ts';

const w = window as unknown as Record<string, unknown>;
w.ls = { ...api, Kernels, requestGPUDevice, readGGUF, openByteSource, chatPromptTokens, EngineCore, Staging };
/**
 * The advisor against the engine, for test/advisor.spec.ts and bench/advisor.mjs: `url` loaded
 * resident, or (third) with a third of its weights resident; the advisor's plan for that load (its
 * actual budget, context and RAM tier) and the engine's stats after a `warmup`-token generate and,
 * when `tokens` > 0, a measured one.
 */
async function advisorRun(a: InstanceType<typeof api.AdvisorClient>, url: string, o: { third: boolean; warmup: number; tokens: number }) {
  const fig = await a.figures();
  const shape = await a.inspect(url);
  const first = api.advise(shape, fig, { ramBudgetBytes: 0 });
  const budget = o.third ? Math.round(shape.weightBytes / 3) + first.asked.reservedBytes : undefined;
  const engine = await api.createEngine({ model: url, gpuBudgetBytes: budget });
  try {
    const st0 = await engine.stats();
    const plan = api.advise(shape, fig, { gpuBudgetBytes: st0.gpuBudgetBytes, contextLength: st0.contextLength, ramBudgetBytes: st0.ramBudgetBytes });
    const ids = await engine.tokenize('Once upon a time', { addSpecial: true });
    for await (const _ of engine.generate({ prompt: ids, maxTokens: o.warmup, temperature: 0 })) { /* warm-up */ }
    if (o.tokens > 0) for await (const _ of engine.generate({ prompt: ids, maxTokens: o.tokens, temperature: 0 })) { /* measured */ }
    return { shape, plan, stats: await engine.stats() };
  } finally {
    await engine.dispose();
  }
}
w.advisorRun = advisorRun;
w.harnessReady = true;
