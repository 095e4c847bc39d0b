/**
 * Token sampling on the CPU from one logit row: top-k, then top-p (nucleus) on the softmax of the
 * raw logits, then temperature, then a draw from a seeded RNG — the order of llama.cpp's default
 * sampler chain (llama-sampling.cpp). temperature 0 means greedy and is done on the GPU instead.
 */
export interface SamplingParams {
  temperature: number;
  /** keep the k most likely tokens (0 = all) */
  topK: number;
  /** keep the smallest set whose probability mass reaches p (1 = all) */
  topP: number;
}

/** mulberry32: a small, fast, seedable PRNG giving floats in [0, 1). Same seed → same sequence. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws a token id from `logits` (length n_vocab). */
export function sample(logits: Float32Array, p: SamplingParams, random: () => number): number {
  const n = logits.length;
  let ids = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (p.topK > 0 && p.topK < n) ids = ids.slice(0, p.topK);
  if (p.topP < 1) {
    const mx = logits[ids[0]];
    const e = ids.map((i) => Math.exp(logits[i] - mx));
    const z = e.reduce((s, v) => s + v, 0);
    let mass = 0;
    let keep = ids.length;
    for (let i = 0; i < ids.length; i++) {
      mass += e[i] / z;
      if (mass >= p.topP) {
        keep = i + 1;
        break;
      }
    }
    ids = ids.slice(0, keep);
  }
  const mx = logits[ids[0]] / p.temperature;
  const w = ids.map((i) => Math.exp(logits[i] / p.temperature - mx));
  const z = w.reduce((s, v) => s + v, 0);
  let r = random() * z;
  for (let i = 0; i < ids.length; i++) {
    r -= w[i];
    if (r <= 0) return ids[i];
  }
  return ids[ids.length - 1];
}
