import { existsSync, readFileSync } from 'node:fs';

/** ../shared/reference files for a model (see shared/reference/README.md). */
export interface Reference {
  prompt: string;
  prompt_tokens: number[];
  greedy_tokens: number[];
  greedy_text?: string;
  full_logits_rows: number;
  n_vocab: number;
  steps: { pos: number; input: number; top: [number, number][]; gap: number }[];
}

const refDir = new URL('../../../shared/reference/', import.meta.url);

/**
 * kind: 'f64' (float64 pass, the first set), 'ref' (llama.cpp's graph on the F32 twin, the 2026 set),
 * 'llamacpp' (llama.cpp on the quantized file), or 'exact' — whichever of 'ref' and 'f64' the model has.
 */
export function loadReference(name: string, kind: 'f64' | 'ref' | 'llamacpp' | 'exact'): Reference {
  return JSON.parse(readFileSync(new URL(`${name}.${kind === 'exact' ? exactKind(name) : kind}.json`, refDir), 'utf8'));
}

/** 'ref' for the 2026 set (M.ref.json), 'f64' for the first. */
export function exactKind(name: string): 'ref' | 'f64' {
  return existsSync(new URL(`${name}.ref.json`, refDir)) ? 'ref' : 'f64';
}

/**
 * The exact reference's logit rows (M.f64.logits.f32 or M.ref.logits.f32): after the last prompt
 * token, then after each greedy token.
 */
export function loadF64Logits(name: string, nVocab: number): Float32Array[] {
  const buf = readFileSync(new URL(`${name}.${exactKind(name)}.logits.f32`, refDir));
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const rows: Float32Array[] = [];
  for (let i = 0; i < all.length / nVocab; i++) rows.push(all.slice(i * nVocab, (i + 1) * nVocab));
  return rows;
}

export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * Index of the first token where `ours` departs from the reference greedy sequence in a way the
 * README's near-tie rule does not allow, or -1. Token i is chosen at position P-1+i; once a step
 * with gap < 0.002 has been passed, the rest may differ.
 */
export function greedyMismatch(ours: number[], ref: Reference, minLength = ref.greedy_tokens.length): number {
  const P = ref.prompt_tokens.length;
  const gapAt = new Map(ref.steps.map((s) => [s.pos, s.gap]));
  if (ours.length < minLength) return ours.length;
  for (let i = 0; i < Math.min(ours.length, ref.greedy_tokens.length); i++) {
    const pos = P - 1 + i;
    if ((gapAt.get(pos) ?? Infinity) < 0.002) return -1; // near tie at or before this token
    if (ours[i] !== ref.greedy_tokens[i]) return i;
  }
  return -1;
}
