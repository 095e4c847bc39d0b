/**
 * SentencePiece-style tokenizer for `tokenizer.ggml.model = llama`: llama-vocab.cpp
 * `llm_tokenizer_spm_session`. Starting from single code points, repeatedly merges the adjacent
 * pair whose concatenation is the vocabulary token with the highest score (ties: leftmost), then
 * emits each piece as its token or, when it is not in the vocabulary, as `<0xXX>` byte tokens.
 */
import { utf8 } from './bytes.ts';
import { Heap } from './heap.ts';
import type { Vocab } from './vocab.ts';

interface Bigram {
  left: number;
  right: number;
  score: number;
  size: number;
}

// llm_bigram_spm::comparator: higher score first, then smaller left index
const bigramLess = (l: Bigram, r: Bigram) => l.score < r.score || (l.score === r.score && l.left > r.left);

/**
 * Byte → token id table for byte fallback (llama.cpp `byte_to_token` for SPM): `<0xXX>`, else the
 * byte itself as a one-character token, else -1.
 */
export function spmByteTokens(vocab: Vocab): Int32Array {
  const out = new Int32Array(256).fill(-1);
  for (let b = 0; b < 256; b++) {
    const id = vocab.textToId.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? (b < 0x80 ? vocab.textToId.get(String.fromCharCode(b)) : undefined);
    if (id !== undefined) out[b] = id;
  }
  return out;
}

/**
 * Tokenizes one raw-text fragment whose spaces are already escaped to ▁ (U+2581); appends ids to
 * `output`. Bytes with no byte token (llama.cpp would throw) become the unknown token.
 */
export function spmTokenize(vocab: Vocab, byteTokens: Int32Array, text: string, output: number[]): void {
  if (text.length === 0) return;
  // symbols: one per code point, as [start, len) in UTF-16 units, doubly linked
  const n = text.length;
  const start = new Int32Array(n);
  const len = new Int32Array(n);
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    const w = c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
    start[count] = i;
    len[count] = w;
    prev[count] = count - 1;
    i += w;
    next[count] = i === n ? -1 : count + 1;
    count++;
  }

  const queue = new Heap<Bigram>(bigramLess);
  const tryAddBigram = (left: number, right: number) => {
    if (left === -1 || right === -1) return;
    const size = len[left] + len[right];
    const id = vocab.textToId.get(text.substring(start[left], start[left] + size));
    if (id === undefined) return;
    queue.push({ left, right, score: vocab.scores[id], size });
  };

  for (let i = 1; i < count; i++) tryAddBigram(i - 1, i);

  while (queue.size > 0) {
    const b = queue.pop()!;
    // skip pairs where a side has been merged since (lengths only ever grow)
    if (len[b.left] === 0 || len[b.right] === 0 || len[b.left] + len[b.right] !== b.size) continue;
    len[b.left] += len[b.right];
    len[b.right] = 0;
    next[b.left] = next[b.right];
    if (next[b.right] >= 0) prev[next[b.right]] = b.left;
    tryAddBigram(prev[b.left], b.left);
    tryAddBigram(b.left, next[b.left]);
  }

  for (let i = 0; i !== -1; i = next[i]) {
    const piece = text.substring(start[i], start[i] + len[i]);
    const id = vocab.textToId.get(piece);
    if (id !== undefined) {
      output.push(id);
      continue;
    }
    // resegment: a piece that is not a token is always a single code point → byte fallback
    for (const byte of utf8(piece)) {
      const bt = byteTokens[byte];
      if (bt >= 0) output.push(bt);
      else if (vocab.special.unk >= 0) output.push(vocab.special.unk);
    }
  }
}
