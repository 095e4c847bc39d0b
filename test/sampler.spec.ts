import { test, expect } from '@playwright/test';
import { logitAdjustments, rng, sample } from '../src/engine/sampler.ts';

const logits = new Float32Array([2.0, 1.0, 0.5, -1.0, 3.0, 0.0]);
const softmax = (l: Float32Array, temp: number) => {
  const m = Math.max(...l);
  const e = Array.from(l, (v) => Math.exp((v - m) / temp));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
};

test('rng: same seed same sequence, in [0, 1)', () => {
  const a = rng(7), b = rng(7), c = rng(8);
  const sa = Array.from({ length: 100 }, a), sb = Array.from({ length: 100 }, b), sc = Array.from({ length: 100 }, c);
  expect(sa).toEqual(sb);
  expect(sa).not.toEqual(sc);
  expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
});

test('temperature sampling follows softmax(logits / T)', () => {
  const r = rng(1);
  const n = 20000;
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sample(logits, { temperature: 0.7, topK: 0, topP: 1 }, r)]++;
  const p = softmax(logits, 0.7);
  counts.forEach((c, i) => expect(Math.abs(c / n - p[i]), `token ${i}`).toBeLessThan(0.015));
});

test('top-k keeps the k best; top-p keeps the smallest set reaching p', () => {
  const r = rng(2);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(sample(logits, { temperature: 1, topK: 2, topP: 1 }, r));
  expect([...seen].sort()).toEqual([0, 4]);
  // p(token 4) ≈ 0.61 at T = 1, so top-p 0.5 leaves only token 4, and 0.8 adds token 0 (≈ 0.22)
  const p1 = new Set<number>(), p2 = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    p1.add(sample(logits, { temperature: 1, topK: 0, topP: 0.5 }, r));
    p2.add(sample(logits, { temperature: 1, topK: 0, topP: 0.8 }, r));
  }
  expect([...p1]).toEqual([4]);
  expect([...p2].sort()).toEqual([0, 4]);
});

test('min-p drops tokens below min_p × the best probability', () => {
  const r = rng(3);
  const seen = new Set<number>();
  // p ≈ [0.61, 0.22, 0.08, 0.05, 0.03, 0.01] for tokens [4, 0, 1, 2, 5, 3]; min_p 0.3 keeps 4 and 0
  for (let i = 0; i < 3000; i++) seen.add(sample(logits, { temperature: 1, topK: 0, topP: 1, minP: 0.3 }, r));
  expect([...seen].sort()).toEqual([0, 4]);
});

test('penalties and bias become per-token logit adjustments', () => {
  const adj = logitAdjustments([5, 6, 7, 6], [6, 6, 9], { repetitionPenalty: 1.3, lastN: 3, presencePenalty: 0.5, frequencyPenalty: 0.25, logitBias: { 11: 2, 7: -1 } });
  const by = Object.fromEntries(adj.map((a) => [a.token, a]));
  expect(Object.keys(by).map(Number).sort((a, b) => a - b)).toEqual([6, 7, 9, 11]); // 5 is outside the last 3
  expect(by[6]).toEqual({ token: 6, rep: 1.3, sub: 0.5 + 0.25 * 2, add: 0 });
  expect(by[7]).toEqual({ token: 7, rep: 1.3, sub: 0, add: -1 });
  expect(by[9]).toEqual({ token: 9, rep: 1, sub: 0.75, add: 0 });
  expect(by[11]).toEqual({ token: 11, rep: 1, sub: 0, add: 2 });
});
