import type { Page } from '@playwright/test';
import { SHARED_URL } from './browser.ts';

/** Opens the test harness (the real src/ modules, served by Vite) in the page. */
export async function openHarness(page: Page): Promise<void> {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[browser ${m.type()}] ${m.text()}`);
  });
  await page.goto('/test/harness.html');
  await page.waitForFunction(() => (window as any).harnessReady === true);
}

export interface RunResult {
  promptTokens: number[];
  greedy: number[];
  text: string;
  logits: number[][];
  /** argmax of the logits at every position of prompt + greedy (when `top1` was asked) */
  top1: number[];
  stats: any;
}

/**
 * In the page: createEngine(model, opts), tokenize `prompt` with BOS, generate greedily from
 * `fromTokens`, read logit rows for `logitTokens` at `positions`, and return stats.
 */
export async function runModel(
  page: Page,
  a: { url: string; prompt: string; fromTokens: number[]; maxTokens: number; logitTokens?: number[]; positions?: number[]; top1?: boolean; opts?: Record<string, unknown> },
): Promise<RunResult> {
  return page.evaluate(async (a) => {
    const { createEngine } = (window as any).ls;
    const engine = await createEngine({ model: a.url, ...(a.opts ?? {}) });
    try {
      const promptTokens = await engine.tokenize(a.prompt, { addSpecial: true });
      const greedy: number[] = [];
      let text = '';
      for await (const t of engine.generate({ prompt: a.fromTokens, maxTokens: a.maxTokens, temperature: 0 })) {
        greedy.push(t.token);
        text += t.text;
      }
      const stats = await engine.stats();
      let logits: number[][] = [];
      if (a.logitTokens) {
        const rows: Float32Array[] = await engine.logits(a.logitTokens, { positions: a.positions });
        logits = rows.map((r) => Array.from(r));
      }
      const top1: number[] = [];
      if (a.top1) {
        const seq = [...a.fromTokens, ...greedy];
        const rows: Float32Array[] = await engine.logits(seq, { positions: seq.map((_, i) => i) });
        for (const r of rows) {
          let best = 0;
          for (let i = 1; i < r.length; i++) if (r[i] > r[best]) best = i;
          top1.push(best);
        }
      }
      return { promptTokens, greedy, text, logits, top1, stats };
    } finally {
      await engine.dispose();
    }
  }, a);
}

/**
 * A GPU budget (bytes) that leaves `fraction` of the model's weights for weights: loads the model
 * once fully resident with `opts` (same contextLength / kvCacheType / maxBatch, so the same K/V
 * cache and scratch) and returns kvCacheBytes + scratchBytes (+ recurrent state and its snapshots)
 * + fraction × weight bytes.
 */
export async function budgetFor(page: Page, url: string, fraction: number, opts: Record<string, unknown> = {}): Promise<number> {
  return page.evaluate(async ({ url, fraction, opts }) => {
    const e = await (window as any).ls.createEngine({ model: url, ...opts, gpuBudgetBytes: 2 ** 40 });
    try {
      const s = await e.stats();
      // recurrent models (qwen35) also reserve their state and its snapshots
      return s.kvCacheBytes + s.scratchBytes + (s.recurrentStateBytes ?? 0) + (s.stateSnapshotBytes ?? 0) + Math.floor(s.weightBytesOnGpu * fraction);
    } finally {
      await e.dispose();
    }
  }, { url, fraction, opts });
}

/** llama.cpp's greedy start for stories260K after "Once upon a time" (shared/reference). */
export const STORIES_GREEDY_START = [432, 383, 286, 261, 376];

/**
 * In the page: a fresh engine on stories260K generates 5 greedy tokens after "Once upon a time"
 * (to show the page still runs a good model after failures); the tokens.
 */
export function storiesGreedyStart(page: Page): Promise<number[]> {
  return page.evaluate(async (url) => {
    const e = await (window as any).ls.createEngine({ model: url });
    const out: number[] = [];
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 5, temperature: 0 })) out.push(t.token);
    await e.dispose();
    return out;
  }, `${SHARED_URL}/models/stories260K.gguf`);
}

/** Runs `fn` (the body of an async function of `engine` and `arg`) in the page with an engine on `url`, disposed after. */
export async function withEngine<T>(page: Page, url: string, fn: string, arg?: unknown): Promise<T> {
  return page.evaluate(async ({ url, fn, arg }) => {
    const engine = await (window as any).ls.createEngine({ model: url });
    try {
      return await new Function('engine', 'arg', `return (async () => { ${fn} })()`)(engine, arg);
    } finally {
      await engine.dispose();
    }
  }, { url, fn, arg });
}
