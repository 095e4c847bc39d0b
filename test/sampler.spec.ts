import { test, expect } from '@playwright/test';
import { rng, sample } from '../src/engine/sampler.ts';

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
