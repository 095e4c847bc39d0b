/**
 * Byte-level BPE tokenizer for `tokenizer.ggml.model = gpt2`: llama-vocab.cpp
 * `llm_tokenizer_bpe_session`. Each pre-tokenizer word (already byte-encoded) starts as single
 * characters; the adjacent pair with the lowest merge rank (ties: leftmost) is merged until no
 * ranked pair remains. Pieces that are not tokens fall back to single-byte tokens.
 */
import { Heap } from './heap.ts';
import { preTokenize } from './pretokenize.ts';
import type { Vocab } from './vocab.ts';

interface Bigram {
  left: number;
  right: number;
  text: string;
  rank: number;
}

// llm_bigram_bpe::comparator: lower rank first, then smaller left index
const bigramLess = (l: Bigram, r: Bigram) => l.rank > r.rank || (l.rank === r.rank && l.left > r.left);

/** Tokenizes one raw-text fragment; appends ids to `output`. */
export function bpeTokenize(vocab: Vocab, text: string, output: number[]): void {
  const ranks = vocab.bpeRanks!;
  const words = preTokenize(text, vocab.pre!.regexes);
  for (const word of words) {
    if (word.length === 0) continue;
    if (vocab.ignoreMerges) {
      const id = vocab.textToId.get(word);
      if (id !== undefined) {
        output.push(id);
        continue;
      }
    }
    // byte-encoded words are BMP characters only: one symbol per UTF-16 unit
    const n = word.length;
    const start = new Int32Array(n);
    const len = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      start[i] = i;
      len[i] = 1;
      prev[i] = i - 1;
      next[i] = i + 1 === n ? -1 : i + 1;
    }
    const sym = (i: number) => word.substring(start[i], start[i] + len[i]);
    const queue = new Heap<Bigram>(bigramLess);
    const addBigram = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const l = sym(left);
      const r = sym(right);
      const rank = ranks.get(l + ' ' + r);
      if (rank === undefined) return;
      queue.push({ left, right, text: l + r, rank });
    };
    for (let i = 1; i < n; i++) addBigram(i - 1, i);

    while (queue.size > 0) {
      const b = queue.pop()!;
      if (len[b.left] === 0 || len[b.right] === 0) continue;
      if (sym(b.left) + sym(b.right) !== b.text) continue; // outdated
      len[b.left] += len[b.right];
      len[b.right] = 0;
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      addBigram(prev[b.left], b.left);
      addBigram(b.left, next[b.left]);
    }

    for (let i = 0; i !== -1; i = next[i]) {
      const piece = sym(i);
      const id = vocab.textToId.get(piece);
      if (id !== undefined) {
        output.push(id);
        continue;
      }
      // llama.cpp looks each UTF-8 byte of the piece up as a one-byte string; only ASCII can match
      for (const ch of piece) {
        const c = ch.charCodeAt(0);
        if (c < 0x80) {
          const bid = vocab.textToId.get(ch);
          if (bid !== undefined) output.push(bid);
        }
      }
    }
  }
}
