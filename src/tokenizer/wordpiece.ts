/**
 * WordPiece tokenizer for `tokenizer.ggml.model = bert`: llama-vocab.cpp `llm_tokenizer_wpm_session`.
 * llama.cpp stores word-initial pieces with a ▁ prefix and continuation pieces bare (the converter
 * turns HF's `##x` into `x`), so each word is matched greedily, longest piece first, as "▁word".
 */
import { CPT_CONTROL, CPT_PUNCTUATION, CPT_SYMBOL, CPT_WHITESPACE, codepoints, cptFlags, cptNfdFirst, cptToLower } from './unicode.ts';
import type { Vocab } from './vocab.ts';

// llm_tokenizer_wpm_session::is_chinese_char (ranges as in HF's BERT tokenizer)
function isChineseChar(c: number): boolean {
  return (
    (c >= 0x04e00 && c <= 0x09fff) ||
    (c >= 0x03400 && c <= 0x04dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b920 && c <= 0x2ceaf) ||
    (c >= 0x0f900 && c <= 0x0faff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

/**
 * llama.cpp `llm_tokenizer_wpm_session::preprocess`: first-code-point NFD (strips accents of
 * precomposed letters), lowercase, drop control characters, split on whitespace, and make each
 * punctuation mark, ASCII symbol and CJK ideograph a word of its own.
 */
export function wpmPreprocess(text: string): string[] {
  const words: string[] = [];
  let cur: string[] = [];
  const flush = () => {
    if (cur.length > 0) {
      words.push(cur.join(''));
      cur = [];
    }
  };
  for (const raw of codepoints(text)) {
    const cpt = cptNfdFirst(raw);
    const flags = cptFlags(cpt);
    if (flags & CPT_WHITESPACE) {
      flush();
      continue;
    }
    if (cpt === 0 || cpt === 0xfffd || flags & CPT_CONTROL) continue;
    const s = String.fromCodePoint(cptToLower(cpt));
    if (flags & CPT_PUNCTUATION || (cpt < 0x7f && flags & CPT_SYMBOL) || isChineseChar(cpt)) {
      flush();
      words.push(s); // single-character word
    } else {
      cur.push(s);
    }
  }
  flush();
  return words;
}

/** Tokenizes one raw-text fragment; appends ids to `output` (the unknown id for unmatched words). */
export function wpmTokenize(vocab: Vocab, text: string, output: number[]): void {
  const maxLen = vocab.maxTokenLen;
  for (const word of wpmPreprocess(text)) {
    const w = '\u2581' + word;
    const n = w.length;
    const before = output.length;
    for (let i = 0; i < n; ) {
      let matched = false;
      for (let j = Math.min(n, i + maxLen); j > i; j--) {
        const id = vocab.textToId.get(w.substring(i, j));
        if (id !== undefined) {
          output.push(id);
          matched = true;
          i = j;
          break;
        }
      }
      if (!matched) {
        output.length = before; // discard the partial word
        break;
      }
    }
    if (output.length === before && vocab.special.unk >= 0) output.push(vocab.special.unk);
  }
}
