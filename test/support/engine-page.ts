import type { Page } from '@playwright/test';

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
  stats: any;
}

/**
 * In the page: createEngine(model, opts), tokenize `prompt` with BOS, generate greedily from
 * `fromTokens`, read logit rows for `logitTokens` at `positions`, and return stats.
 */
export async function runModel(
  page: Page,
  a: { url: string; prompt: string; fromTokens: number[]; maxTokens: number; logitTokens?: number[]; positions?: number[]; opts?: Record<string, unknown> },
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
      return { promptTokens, greedy, text, logits, stats };
    } finally {
      await engine.dispose();
    }
  }, a);
}
