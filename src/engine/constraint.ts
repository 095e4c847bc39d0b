/**
 * What the engine's decode loop needs from constrained generation (a grammar or JSON schema
 * compiled by the chat layer): which tokens may come next, and a cursor that follows the tokens
 * generated. Speculative decoding steps it over draft tokens and rolls back the rejected ones.
 */
export interface TokenConstraint {
  /**
   * Allowed next tokens as a bitmask of ceil(n_vocab / 32) u32 words (bit t % 32 of word t / 32 set:
   * token t allowed), or null when every token is allowed.
   */
  nextMask(): Uint32Array | null;
  /**
   * Optional: computes the current state's mask ahead of nextMask() (xgrammar's mask call is async).
   * Callers that can await it do so before nextMask(); nextMask() must also work without it.
   */
  prepare?(): Promise<void>;
  /** Advances by one token; false (and no advance) when the token is not allowed here. */
  accept(token: number): boolean;
  /** Undoes the last `n` accepted tokens. */
  rollback(n: number): void;
  /** The tokens accepted so far form a complete value: generation should stop here. */
  isTerminated(): boolean;
}
