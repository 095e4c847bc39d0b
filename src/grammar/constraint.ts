import type { TokenConstraint } from '../engine/constraint.ts';
import type { GrammarMatcher as Matcher } from '@mlc-ai/web-xgrammar';
import { UTF8_START, type Utf8Guard, type Utf8State } from './utf8.ts';

/** The embind handle under GrammarMatcher (its synchronous mask call; see nextMask). */
interface MatcherHandle {
  GetNextTokenBitmask(vocabSize: number): { size(): number; get(i: number): number; delete(): void };
}

/**
 * A TokenConstraint over an xgrammar GrammarMatcher (a pushdown automaton over the grammar, with
 * xgrammar's adaptive token-mask cache): the engine asks it for the allowed-token bitmask before
 * each token and advances it with each generated one. The mask for the current state is computed
 * once, in prepare() (the library's API is async), and kept until the next accept/rollback; it is
 * also limited to tokens that keep the output well-formed UTF-8 (utf8.ts).
 */
export class XGrammarConstraint implements TokenConstraint {
  private mask: Uint32Array | null = null;
  /** UTF-8 decoder state after each accepted token (the last is the current one) */
  private utf8: Utf8State[] = [UTF8_START];
  /** ms spent computing masks, and how many (for the per-token cost in the README) */
  maskMs = 0;
  masks = 0;

  constructor(private readonly matcher: Matcher, readonly nVocab: number, private readonly guard: Utf8Guard) {}

  private get state(): Utf8State {
    return this.utf8[this.utf8.length - 1];
  }

  /** Computes the mask of the current state (call before nextMask; the engine awaits it). */
  async prepare(): Promise<void> {
    if (this.mask) return;
    const t0 = performance.now();
    const m = await this.matcher.getNextTokenBitmask();
    this.mask = new Uint32Array(m.buffer, m.byteOffset, m.length);
    this.guard.filter(this.mask, this.state);
    this.maskMs += performance.now() - t0;
    this.masks++;
  }

  /**
   * Allowed next tokens: ceil(nVocab / 32) words, bit t % 32 of word t / 32 = token t allowed.
   * Without a prepare() since the last step (a caller that cannot await), the mask is read
   * synchronously word by word from the library's embind vector: same result, ~0.5 ms slower at 150k.
   */
  nextMask(): Uint32Array {
    if (!this.mask) {
      const t0 = performance.now();
      const v = (this.matcher as unknown as { handle: MatcherHandle }).handle.GetNextTokenBitmask(this.nVocab);
      try {
        const out = new Uint32Array(v.size());
        for (let i = 0; i < out.length; i++) out[i] = v.get(i);
        this.guard.filter(out, this.state);
        this.mask = out;
      } finally {
        v.delete();
      }
      this.maskMs += performance.now() - t0;
      this.masks++;
    }
    return this.mask;
  }

  accept(token: number): boolean {
    const next = this.guard.step(this.state, token);
    if (next === null || !this.matcher.acceptToken(token)) return false;
    this.utf8.push(next);
    this.mask = null;
    return true;
  }

  rollback(n: number): void {
    if (n <= 0) return;
    this.matcher.rollBack(n);
    this.utf8.length = Math.max(1, this.utf8.length - n);
    this.mask = null;
  }

  /** True once a stop token was accepted (the engine itself ends at end-of-generation tokens, which the mask allows only at a complete value). */
  isTerminated(): boolean {
    return this.matcher.isTerminated();
  }

  /** Frees the matcher's WASM memory. */
  dispose(): void {
    this.matcher.dispose();
  }
}
