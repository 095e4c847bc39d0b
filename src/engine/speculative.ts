/**
 * Speculative decoding, the pure parts: proposing draft tokens by prompt lookup, and the acceptance
 * rule that keeps the target model's distribution exact (Leviathan et al. 2023, "Fast Inference
 * from Transformers via Speculative Decoding", algorithm 1; Chen et al. 2023). The engine runs the
 * target over [last token, draft…] in one batched forward pass and walks the rows with these.
 */
import { drawFrom, type TokenDist } from './sampler.ts';

/** Options of prompt-lookup drafting. */
export interface NgramOptions {
  /** longest n-gram matched, tokens (default 4) */
  maxN?: number;
  /** shortest n-gram matched, tokens (default 2: a single-token match proposes too much noise) */
  minN?: number;
}

/**
 * Prompt lookup ("prompt lookup decoding", llama.cpp's `--lookup` / ngram drafts): finds the most
 * recent earlier occurrence of the longest suffix n-gram of `context` (maxN down to minN tokens)
 * and proposes the up to `k` tokens that followed it. Returns [] when nothing matches.
 * O(context · maxN) per call.
 */
export function ngramDraft(context: readonly number[], k: number, o: NgramOptions = {}): number[] {
  const maxN = o.maxN ?? 4;
  const minN = o.minN ?? 2;
  const L = context.length;
  if (k <= 0) return [];
  for (let n = Math.min(maxN, L - 1); n >= minN; n--) {
    // the suffix context[L-n..L) against every earlier window ending before L-1, newest first
    for (let end = L - 1; end >= n; end--) {
      let j = 0;
      while (j < n && context[end - n + j] === context[L - n + j]) j++;
      if (j === n) return context.slice(end, Math.min(L, end + k)) as number[];
    }
  }
  return [];
}

/** Weight of `token` in `d` (0 when absent). */
function weightOf(d: TokenDist, token: number): number {
  for (let i = 0; i < d.ids.length; i++) if (d.ids[i] === token) return d.weights[i];
  return 0;
}

function total(d: TokenDist): number {
  let s = 0;
  for (let i = 0; i < d.weights.length; i++) s += d.weights[i];
  return s;
}

/**
 * One step of speculative sampling. `p`: the target's sampling distribution at this position;
 * `draft`: the proposed token; `q`: the draft's distribution it was drawn from, or null when the
 * draft is deterministic (prompt lookup: q is a point mass on `draft`). Accepts with probability
 * min(1, p(draft) / q(draft)); otherwise draws the replacement from the residual max(0, p − q),
 * normalized, so that the emitted token is distributed exactly as p. Uses one random number to
 * decide and, on rejection, one more to draw.
 */
export function acceptDraft(p: TokenDist, draft: number, q: TokenDist | null, random: () => number): { accepted: boolean; token: number } {
  const zp = total(p);
  const pd = weightOf(p, draft) / zp;
  const zq = q ? total(q) : 1;
  const qd = q ? weightOf(q, draft) / zq : 1;
  if (qd > 0 && random() * qd < pd) return { accepted: true, token: draft };
  // residual: p − q clipped at 0, over p's support (where p is 0 the residual is 0 too)
  const ids: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < p.ids.length; i++) {
    const id = p.ids[i];
    const qv = q ? weightOf(q, id) / zq : id === draft ? 1 : 0;
    const r = p.weights[i] / zp - qv;
    if (r > 0) {
      ids.push(id);
      weights.push(r);
    }
  }
  // Σ residual = 0 only when p ≤ q everywhere, i.e. p = q, where acceptance is certain; rounding aside
  if (ids.length === 0) return { accepted: false, token: drawFrom(p, random) };
  return { accepted: false, token: drawFrom({ ids, weights }, random) };
}

/**
 * Draft length control: starts at `max`, and after each verification moves toward what was
 * accepted — it grows by one after a fully accepted draft and falls to accepted + 1 after a
 * rejection — so a text where drafts keep failing costs about one extra row per pass.
 */
export class DraftLength {
  private k: number;
  constructor(private readonly max: number) {
    this.k = max;
  }
  get value(): number {
    return this.k;
  }
  update(proposed: number, accepted: number): void {
    if (proposed === 0) return;
    this.k = accepted === proposed ? Math.min(this.max, this.k + 1) : Math.max(1, Math.min(this.max, accepted + 1));
  }
}

/** What checkDraftVocabulary needs of a tokenizer (tokenizer/index.ts GGUFTokenizer). */
export interface VocabularyView {
  readonly model: string;
  readonly nVocab: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  tokenText(id: number): string;
}

/** Vocabulary sizes a draft may differ by: llama.cpp speculative.cpp SPEC_VOCAB_MAX_SIZE_DIFFERENCE (padding rows). */
export const DRAFT_VOCAB_MAX_SIZE_DIFFERENCE = 128;

/**
 * Null when a draft model's token ids mean the target's (same tokenizer model, BOS / EOS, sizes
 * within DRAFT_VOCAB_MAX_SIZE_DIFFERENCE and the same text for every id both have from id 5 on —
 * the checks of llama.cpp's common_speculative_are_compatible, SPEC_VOCAB_CHECK_START_TOKEN_ID), else a sentence saying what differs.
 */
export function draftVocabularyMismatch(target: VocabularyView, draft: VocabularyView): string | null {
  if (target.model !== draft.model) return `tokenizer models differ (${target.model} vs ${draft.model})`;
  if (Math.abs(target.nVocab - draft.nVocab) > DRAFT_VOCAB_MAX_SIZE_DIFFERENCE) return `vocabulary sizes differ by more than ${DRAFT_VOCAB_MAX_SIZE_DIFFERENCE} (${target.nVocab} vs ${draft.nVocab} tokens)`;
  if (target.bosId !== draft.bosId || target.eosId !== draft.eosId) return `special tokens differ (BOS ${target.bosId} / EOS ${target.eosId} vs ${draft.bosId} / ${draft.eosId})`;
  const n = Math.min(target.nVocab, draft.nVocab);
  for (let id = 5; id < n; id++) {
    if (target.tokenText(id) !== draft.tokenText(id)) return `token ${id} is ${JSON.stringify(target.tokenText(id))} in one and ${JSON.stringify(draft.tokenText(id))} in the other`;
  }
  return null;
}
