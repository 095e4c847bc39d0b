import { test, expect } from '@playwright/test';
import { SHARED_URL } from './support/browser.ts';
import { openHarness } from './support/engine-page.ts';
import { loadReference } from './support/reference.ts';
import { preTokenize, preTokenizerFor } from '../src/tokenizer/pretokenize.ts';
import { byteEncode } from '../src/tokenizer/bytes.ts';

// Qwen3.5 / 3.6 (qwen35, qwen35moe) beyond the end-to-end references of engine.spec.ts: the `qwen35`
// pre-tokenizer, the recurrent state and its snapshots, and the memory panel.
//
// Models with recurrent state (qwen35's Gated DeltaNet layers): the state cannot be rolled back to
// an earlier position as the K/V cache can, so the engine keeps snapshots of it (end of each prompt
// but its last token, end of each generate) and resumes a later prompt from the latest snapshot at
// or before its common prefix with what was processed — or from the start. Every reuse path must
// give exactly the tokens of a cold run (a new engine) over the same token sequence.
//
// MODELS.md: synth-qwen35 has 6 DeltaNet layers of (d_conv − 1) · 320 conv + 6 · 32 · 32 state
// floats (170,496 bytes) and attention (K/V cache) on layers 3 and 7 only; synth-qwen35moe 3
// DeltaNet layers of 3 · 256 + 4 · 32 · 32 floats, attention on layers 1 and 3.
const MODELS = [
  { model: 'synth-qwen35-Q4_K_M', stateBytes: 170_496, kvLayers: 2, kvWidth: 2 * 64 },
  { model: 'synth-qwen35moe-Q4_K_M', stateBytes: 3 * (3 * 256 + 4 * 32 * 32) * 4, kvLayers: 2, kvWidth: 2 * 64 },
];

test.beforeEach(async ({ page }) => openHarness(page));

for (const m of MODELS) {
  test(`${m.model}: multi-turn reuse, regenerate and an edited continuation equal cold runs; stats count the state and its snapshots`, async ({ page }) => {
    const ref = loadReference(m.model, 'exact');
    const P = ref.prompt_tokens;
    const r = await page.evaluate(async ({ url, P }) => {
      const ls = (window as any).ls;
      const ctx = 256;
      const load = async () => {
        const source = await ls.openByteSource(url);
        return ls.EngineCore.load({ source, gguf: await ls.readGGUF(source) }, await ls.requestGPUDevice(), { contextLength: ctx });
      };
      const gen = async (core: any, tokens: number[], n: number) => {
        const out: number[] = [];
        for await (const t of core.generate({ tokens, maxTokens: n, temperature: 0 })) out.push(t.token);
        return { tokens: out, cached: core.lastCachedTokens as number, snapshots: core.stats().stateSnapshotPositions as number[] };
      };
      const cold = async (tokens: number[], n: number) => {
        const core = await load();
        try {
          return (await gen(core, tokens, n)).tokens;
        } finally {
          core.dispose();
        }
      };
      const warm = await load();
      try {
        const stats0 = warm.stats();
        // turn 1, then a follow-up that extends everything processed (the live state)
        const t1 = await gen(warm, P, 6);
        const turn2 = [...P, ...t1.tokens, 13, 198, 464];
        const t2 = await gen(warm, turn2, 6);
        // regenerate turn 2: the same prompt again (resumes from the snapshot before its last token)
        const t2again = await gen(warm, turn2, 6);
        // edit turn 2's last words: shares the prefix up to turn 1's end (the end-of-generate snapshot)
        const edited = [...P, ...t1.tokens, 13, 1318, 11, 257];
        const t2edit = await gen(warm, edited, 6);
        // an edit inside turn 1's prompt: no snapshot fits, recomputed from the start
        const early = [P[0], P[1], 1223, ...P.slice(3)];
        const t1edit = await gen(warm, early, 4);
        // a follow-up of the early edit: the live state again
        const t3 = await gen(warm, [...early, ...t1edit.tokens, 11], 4);
        const stats1 = warm.stats();
        return {
          stats0, stats1, t1, t2, t2again, t2edit, t1edit, t3, turn2, edited, early,
          cold: {
            t2: await cold(turn2, 6),
            t2edit: await cold(edited, 6),
            t1edit: await cold(early, 4),
            t3: await cold([...early, ...t1edit.tokens, 11], 4),
          },
        };
      } finally {
        warm.dispose();
      }
    }, { url: `${SHARED_URL}/models/${m.model}.gguf`, P });

    // every reuse path gives the cold run's tokens
    expect(r.t1.tokens).toEqual(ref.greedy_tokens.slice(0, 6));
    expect(r.t2.tokens).toEqual(r.cold.t2);
    expect(r.t2again.tokens).toEqual(r.cold.t2);
    expect(r.t2edit.tokens).toEqual(r.cold.t2edit);
    expect(r.t1edit.tokens).toEqual(r.cold.t1edit);
    expect(r.t3.tokens).toEqual(r.cold.t3);
    // ... and the reuse happened where it could: the follow-up resumed at the end of what was
    // processed (P + 5 of the 6 generated tokens: the last one was never run), the regenerate at
    // its prompt but the last token, the edit at turn 1's end, the early edit from the start
    expect(r.t2.cached).toBe(P.length + 5);
    expect(r.t2again.cached).toBe(r.turn2.length - 1);
    expect(r.t2edit.cached).toBe(P.length + 5);
    expect(r.t1edit.cached).toBe(0);
    expect(r.t3.cached).toBe(r.early.length + 3);

    // stats: the state (fixed, not per token) and 4 snapshots of it, K/V cache only for the attention layers
    expect(r.stats0.recurrentStateBytes).toBeGreaterThanOrEqual(m.stateBytes);
    expect(r.stats0.recurrentStateBytes).toBeLessThan(m.stateBytes + 12 * 256); // each layer's views 256-byte aligned
    expect(r.stats0.stateSnapshotBytes).toBe(4 * r.stats0.recurrentStateBytes);
    expect(r.stats0.stateSnapshotPositions).toEqual([]);
    expect(r.stats1.stateSnapshotPositions.length).toBe(4);
    expect(r.stats0.kvCacheBytes).toBe(2 * m.kvLayers * 256 * m.kvWidth * 4);
    expect(r.stats0.kvCacheBytesPerToken).toBe(2 * m.kvLayers * m.kvWidth * 4);
    expect(r.stats1.recurrentStateBytes).toBe(r.stats0.recurrentStateBytes);
    expect(r.stats1.gpuBuffersCreated).toBe(r.stats0.gpuBuffersCreated);
  });
}

test('synth-qwen35-Q4_K_M: the state and snapshots are taken off the GPU budget; stateSnapshots: 0 keeps none and still reuses the live state', async ({ page }) => {
  const ref = loadReference('synth-qwen35-Q4_K_M', 'exact');
  const r = await page.evaluate(async ({ url, P }) => {
    const { createEngine } = (window as any).ls;
    const out: any = {};
    for (const stateSnapshots of [4, 0]) {
      const e = await createEngine({ model: url, contextLength: 256, gpuBudgetBytes: 64 * 1024 * 1024, stateSnapshots });
      try {
        const a: number[] = [];
        for await (const t of e.generate({ prompt: P, maxTokens: 4, temperature: 0 })) a.push(t.token);
        const b: number[] = [];
        for await (const t of e.generate({ prompt: [...P, ...a], maxTokens: 4, temperature: 0 })) b.push(t.token);
        const c: number[] = [];
        for await (const t of e.generate({ prompt: [...P, ...a], maxTokens: 4, temperature: 0 })) c.push(t.token);
        out[stateSnapshots] = { stats: await e.stats(), a, b, c };
      } finally {
        await e.dispose();
      }
    }
    return out;
  }, { url: `${SHARED_URL}/models/synth-qwen35-Q4_K_M.gguf`, P: ref.prompt_tokens });
  for (const n of ['4', '0']) {
    const s = r[n].stats;
    expect(s.weightBudgetBytes).toBe(s.gpuBudgetBytes - s.kvCacheBytes - s.scratchBytes - s.recurrentStateBytes - s.stateSnapshotBytes);
    expect(r[n].c).toEqual(r[n].b); // regenerate (from a snapshot, or from the start without)
  }
  expect(r['0'].stats.stateSnapshotBytes).toBe(0);
  expect(r['0'].b).toEqual(r['4'].b);
  expect(r['4'].a).toEqual(ref.greedy_tokens.slice(0, 4));
});

test('the memory panel shows the recurrent state next to the K/V cache, fixed with the context', async ({ page }) => {
  const url = `${SHARED_URL}/models/synth-qwen35-Q4_K_M.gguf`;
  const r = await page.evaluate(async (url) => {
    const panelModule = '/src/ui/memory-panel.ts'; // served by Vite, as the app loads it
    await import(/* @vite-ignore */ panelModule);
    const e = await (window as any).ls.createEngine({ model: url, contextLength: 256 });
    try {
      const panel = document.createElement('ls-memory-panel') as any;
      panel.stats = await e.stats();
      document.body.append(panel);
      await panel.updateComplete;
      const state = panel.shadowRoot.querySelector('[data-testid="mem-state"]');
      const snapshots = panel.shadowRoot.querySelector('[data-testid="mem-snapshots"]');
      return { state: state?.textContent.trim(), snapshots: snapshots?.textContent.trim(), row: state?.parentElement.textContent.replace(/\s+/g, ' ').trim(), kv: panel.shadowRoot.querySelector('[data-testid="mem-kv"]').textContent.trim() };
    } finally {
      await e.dispose();
    }
  }, url);
  expect(r.state).toBe('167 KiB'); // 170,496 bytes
  expect(r.snapshots).toBe('666 KiB'); // 4 snapshots
  expect(r.row).toContain('Recurrent state (does not grow)');
  expect(r.kv).toBe('512 KiB'); // 2 attention layers × 256 tokens × (K + V) × 128 floats
});

test('the qwen35 pre-tokenizer keeps combining marks in letter runs (llama.cpp unicode_regex_split_custom_qwen35), qwen2 does not', () => {
  const text = "He's naïve: cafe\u0301 x123\n\n  ok";
  const words = (pre: string) => preTokenize(text, preTokenizerFor(pre).regexes);
  expect(preTokenizerFor('qwen35').type).toBe('QWEN35');
  expect(words('qwen35')).toEqual(['He', "'s", ' naïve', ':', ' cafe\u0301', ' x', '1', '2', '3', '\n\n', ' ', ' ok'].map(byteEncode));
  expect(words('qwen2')).toContain(byteEncode(' cafe'));
  expect(words('qwen2')).toContain(byteEncode('\u0301'));
});
