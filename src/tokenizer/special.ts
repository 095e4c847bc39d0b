/**
 * Splitting text on special-token strings before tokenization: llama-vocab.cpp
 * `llama_vocab::impl::tokenizer_st_partition`.
 */
import { isCSpace } from './unicode.ts';
import { ATTR_CONTROL, ATTR_LSTRIP, ATTR_RSTRIP, ATTR_UNKNOWN, type Vocab } from './vocab.ts';

/** A piece of the input: raw text still to tokenize, or an already-resolved token id. */
export type Fragment = { readonly text: string } | { readonly token: number };

/**
 * Splits `text` at occurrences of special tokens, longest token text first, as llama.cpp does.
 * User-defined tokens are always split out; control and unknown tokens only when `parseSpecial`.
 * A token with the LSTRIP / RSTRIP attribute also eats the whitespace before / after it.
 *
 * @returns the fragments in order; empty for empty text
 */
export function partitionSpecial(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  if (text.length === 0) return [];
  // fragments as [start, end) ranges of `text` or token ids
  type Frag = { start: number; end: number } | { token: number };
  let frags: Frag[] = [{ start: 0, end: text.length }];

  for (const id of vocab.specialCache) {
    const attr = vocab.attrs[id];
    if (!parseSpecial && attr & (ATTR_CONTROL | ATTR_UNKNOWN)) continue;
    const tok = vocab.tokens[id];
    // cheap rejection: most special tokens never occur in the text
    if (text.indexOf(tok) < 0) continue;

    const next: Frag[] = [];
    for (const f of frags) {
      if (!('start' in f)) {
        next.push(f);
        continue;
      }
      let start = f.start;
      const end = f.end;
      for (;;) {
        const match = text.indexOf(tok, start);
        if (match < 0 || match + tok.length > end) {
          if (end > start) next.push({ start, end });
          break;
        }
        let leftEnd = match;
        if (attr & ATTR_LSTRIP) while (leftEnd > start && isCSpace(text.charCodeAt(leftEnd - 1))) leftEnd--;
        if (leftEnd > start) next.push({ start, end: leftEnd });
        next.push({ token: id });
        start = match + tok.length;
        if (attr & ATTR_RSTRIP) while (start < end && isCSpace(text.charCodeAt(start))) start++;
      }
    }
    frags = next;
  }
  return frags.map((f) => ('start' in f ? { text: text.substring(f.start, f.end) } : { token: f.token }));
}
