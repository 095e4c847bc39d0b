/**
 * Token sampling. The GPU applies the logit adjustments (penalties, bias) and picks the argmax or
 * the top-k candidates (shaders/sampling.wgsl); the CPU draws among those candidates: top-p and
 * min-p on the softmax of the raw logits, then temperature, then a seeded RNG — the order of
 * llama.cpp's default sampler chain (llama-sampling.cpp: penalties, top_k, top_p, min_p, temp, dist).
 */
export interface SamplingParams {
  /** > 0 (0 = greedy, handled by argmax) */
  temperature: number;
  /** keep the k most likely tokens (0 = all) */
  topK: number;
  /** keep the smallest set whose probability mass reaches p (1 = all) */
  topP: number;
  /** drop tokens whose probability is below minP × the best one's (0 = off) */
  minP: number;
}

export interface PenaltyParams {
  /** llama.cpp repeat penalty over the last `lastN` tokens (prompt and output): v > 0 ? v / r : v · r */
  repetitionPenalty: number;
  lastN: number;
  /** OpenAI: subtract presence (once) + frequency × count for tokens generated so far */
  presencePenalty: number;
  frequencyPenalty: number;
  /** OpenAI logit_bias: token id → value added to its logit */
  logitBias: Record<number, number>;
}

/** One adjustment of one token's logit (the layout of shaders/sampling.wgsl `Adjust`). */
export interface LogitAdjustment {
  token: number;
  rep: number;
  sub: number;
  add: number;
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

/** The adjustments the penalties and bias call for, one entry per affected token. */
export function logitAdjustments(history: readonly number[], generated: readonly number[], p: PenaltyParams): LogitAdjustment[] {
  const adj = new Map<number, LogitAdjustment>();
  const at = (token: number) => {
    let a = adj.get(token);
    if (!a) adj.set(token, (a = { token, rep: 1, sub: 0, add: 0 }));
    return a;
  };
  if (p.repetitionPenalty !== 1 && p.lastN > 0) for (const t of history.slice(-p.lastN)) at(t).rep = p.repetitionPenalty;
  if (p.presencePenalty || p.frequencyPenalty) {
    const counts = new Map<number, number>();
    for (const t of generated) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [t, c] of counts) at(t).sub = p.presencePenalty + p.frequencyPenalty * c;
  }
  for (const [t, b] of Object.entries(p.logitBias)) if (b) at(Number(t)).add = b;
  return [...adj.values()];
}

/**
 * The candidates `ids` with logits `values` (sorted best first: the GPU's top-k, or a whole sorted
 * row) that survive top-k, top-p and min-p (on the softmax of the raw logits), with their weights
 * exp((v − max) / temperature): the distribution a draw samples from, unnormalized.
 */
export function candidateWeights(ids: ArrayLike<number>, values: ArrayLike<number>, p: SamplingParams): { ids: number[]; weights: number[] } {
  let n = ids.length;
  if (p.topK > 0) n = Math.min(n, p.topK);
  const mx = values[0];
  const probs = Array.from({ length: n }, (_, i) => Math.exp(values[i] - mx));
  const z = probs.reduce((s, v) => s + v, 0);
  if (p.topP < 1) {
    let mass = 0;
    for (let i = 0; i < n; i++) {
      mass += probs[i] / z;
      if (mass >= p.topP) {
        n = i + 1;
        break;
      }
    }
  }
  if (p.minP > 0) {
    while (n > 1 && probs[n - 1] < p.minP * probs[0]) n--;
  }
  return {
    ids: Array.from({ length: n }, (_, i) => ids[i]),
    weights: Array.from({ length: n }, (_, i) => Math.exp((values[i] - mx) / p.temperature)),
  };
}

/**
 * Draws a token among candidates `ids` with logits `values`, sorted best first (the GPU's top-k,
 * or a whole sorted row), with drawFrom.
 */
export function sampleCandidates(ids: ArrayLike<number>, values: ArrayLike<number>, p: SamplingParams, random: () => number): number {
  return drawFrom(candidateWeights(ids, values, p), random);
}

/** A token distribution: candidate ids and non-negative weights (not necessarily normalized). */
export interface TokenDist {
  ids: ArrayLike<number>;
  weights: ArrayLike<number>;
}

/** Draws from `d` with one random number u: the first candidate whose running weight sum reaches u · Σw. */
export function drawFrom(d: TokenDist, random: () => number): number {
  let total = 0;
  for (let i = 0; i < d.weights.length; i++) total += d.weights[i];
  let r = random() * total;
  for (let i = 0; i < d.ids.length; i++) {
    r -= d.weights[i];
    if (r <= 0) return d.ids[i];
  }
  return d.ids[d.ids.length - 1];
}

/** Draws a token from a whole row of logits (length n_vocab). */
export function sample(logits: Float32Array, p: Omit<SamplingParams, 'minP'> & { minP?: number }, random: () => number): number {
  const ids = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  return sampleCandidates(ids, ids.map((i) => logits[i]), { minP: 0, ...p }, random);
}
