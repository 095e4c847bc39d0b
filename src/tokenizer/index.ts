/**
 * Tokenizers read from GGUF metadata, matching llama.cpp (src/llama-vocab.cpp, Feb 2025):
 * SentencePiece (`llama`), byte-level BPE (`gpt2`) and WordPiece (`bert`) vocabularies.
 */
import type { Tokenizer } from '../api.ts';
import type { Metadata } from '../gguf/gguf.ts';
import { bpeTokenize } from './bpe.ts';
import { charToByte, concatBytes, fromUtf8, utf8 } from './bytes.ts';
import { partitionSpecial } from './special.ts';
import { spmByteTokens, spmTokenize } from './spm.ts';
import { wellFormed } from './unicode.ts';
import { ATTR_BYTE, ATTR_CONTROL, ATTR_NORMAL, ATTR_UNKNOWN, ATTR_USER_DEFINED, loadVocab, type Vocab } from './vocab.ts';
import { wpmTokenize } from './wordpiece.ts';

export interface GGUFTokenizer extends Tokenizer {
  /** tokenizer.ggml.model: 'llama' | 'gpt2' | 'bert' */
  readonly model: string;
  readonly nVocab: number;
  readonly bosId: number | undefined;
  /** end-of-sequence id; for WordPiece vocabularies without one, the [SEP] id */
  readonly eosId: number | undefined;
  /** end-of-generation ids as llama.cpp decides (eos, eot, eom, <|im_end|>, <|eot_id|>, <end_of_turn>, FIM pad/repo/sep, ...) */
  readonly eogIds: ReadonlySet<number>;
  /** tokenize(text, {addSpecial: true}) starts with bosId */
  readonly addBos: boolean;
  /** tokenize(text, {addSpecial: true}) ends with eosId ([SEP] for WordPiece) */
  readonly addEos: boolean;
  /**
   * Raw bytes token `id` contributes to output text (llama.cpp `llama_token_to_piece` with
   * special=false): SentencePiece ▁ → space and `<0xXX>` → that byte, byte-level BPE characters →
   * their bytes, user-defined tokens → their text; control and unknown tokens → empty. May be part
   * of a UTF-8 sequence, so stream-decode it. Ids outside the vocabulary give empty bytes.
   */
  tokenBytes(id: number): Uint8Array;
  /** The vocabulary's string for token `id` (e.g. "<s>", "<|im_end|>"), '' outside the vocabulary. */
  tokenText(id: number): string;
}

const EMPTY = new Uint8Array(0);
const SPACE = 0x20;

class GGUFTokenizerImpl implements GGUFTokenizer {
  readonly model: string;
  readonly nVocab: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eogIds: ReadonlySet<number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  private readonly pieces: (Uint8Array | undefined)[];
  private byteTokens: Int32Array | undefined;

  constructor(private readonly vocab: Vocab) {
    const sp = vocab.special;
    this.model = vocab.model;
    this.nVocab = vocab.tokens.length;
    this.bosId = sp.bos >= 0 ? sp.bos : undefined;
    const eos = sp.eos >= 0 ? sp.eos : vocab.type === 'wpm' && sp.sep >= 0 ? sp.sep : -1;
    this.eosId = eos >= 0 ? eos : undefined;
    this.eogIds = vocab.eogIds;
    this.addBos = vocab.addBos && this.bosId !== undefined;
    this.addEos = (vocab.type === 'wpm' ? vocab.addSep : vocab.addEos) && this.eosId !== undefined;
    this.pieces = new Array(this.nVocab);
  }

  /**
   * Token ids for `text` (llama.cpp `llama_tokenize`).
   * @param opts.addSpecial add BOS/EOS as the vocabulary says (default true)
   * @param opts.parseSpecial turn control-token texts such as `<|endoftext|>` into their ids
   *   (default false; user-defined tokens are always recognised, as in llama.cpp)
   */
  tokenize(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): number[] {
    const addSpecial = opts?.addSpecial ?? true;
    const v = this.vocab;
    const out: number[] = [];
    const fragments = partitionSpecial(v, wellFormed(text), opts?.parseSpecial ?? false);
    if (addSpecial && this.addBos) out.push(this.bosId!);
    switch (v.type) {
      case 'spm': {
        this.byteTokens ??= spmByteTokens(v);
        let prevSpecial = true; // a space is prefixed at the start and after each special token
        for (const f of fragments) {
          if ('token' in f) {
            out.push(f.token);
            prevSpecial = true;
            continue;
          }
          const raw = v.addSpacePrefix && prevSpecial ? ' ' + f.text : f.text;
          spmTokenize(v, this.byteTokens, raw.replaceAll(' ', '\u2581'), out);
          prevSpecial = false;
        }
        break;
      }
      case 'bpe':
        for (const f of fragments) {
          if ('token' in f) out.push(f.token);
          else bpeTokenize(v, f.text, out);
        }
        break;
      case 'wpm':
        for (const f of fragments) {
          if ('token' in f) out.push(f.token);
          else wpmTokenize(v, f.text, out);
        }
        break;
    }
    if (addSpecial && this.addEos) out.push(this.eosId!);
    return out;
  }

  /**
   * Text of `ids`: the concatenated {@link tokenBytes} decoded as UTF-8 (invalid sequences →
   * U+FFFD). Control tokens (BOS/EOS, ...) give nothing. Where the vocabulary prefixes a space
   * (SentencePiece), the first piece — after a leading BOS — loses one leading space, so the
   * tokens of a prompt decode back to the prompt. llama.cpp's optional clean-up of spaces before
   * punctuation is not applied, so byte-level BPE stays lossless.
   */
  tokenText(id: number): string {
    return this.vocab.tokens[id] ?? '';
  }

  detokenize(ids: number[]): string {
    const parts: Uint8Array[] = [];
    const first = ids.length > 0 && ids[0] === this.bosId ? 1 : 0;
    for (let i = 0; i < ids.length; i++) {
      let b = this.tokenBytes(ids[i]);
      if (i === first && this.vocab.addSpacePrefix && b.length > 0 && b[0] === SPACE) b = b.subarray(1);
      parts.push(b);
    }
    return fromUtf8(concatBytes(parts));
  }

  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.nVocab) return EMPTY;
    let p = this.pieces[id];
    if (p === undefined) {
      p = this.piece(id);
      this.pieces[id] = p;
    }
    return p;
  }

  /** llama.cpp `token_to_piece(id, special=false)`. */
  private piece(id: number): Uint8Array {
    const v = this.vocab;
    const attr = v.attrs[id];
    const text = v.tokens[id];
    if (attr & (ATTR_UNKNOWN | ATTR_CONTROL)) return EMPTY;
    if (attr & ATTR_USER_DEFINED) return utf8(text);
    if (v.type === 'bpe') {
      if (!(attr & ATTR_NORMAL)) return EMPTY;
      const bytes: number[] = [];
      for (const ch of text) {
        const b = charToByte(ch.codePointAt(0)!);
        if (b >= 0) bytes.push(b);
        else {
          // llama_decode_text marks characters that are not byte stand-ins
          const hex = Array.from(utf8(ch), (x) => x.toString(16).padStart(2, '0')).join('');
          bytes.push(...utf8(`[UNK_BYTE_0x${hex}${text}]`));
        }
      }
      return Uint8Array.from(bytes);
    }
    if (attr & ATTR_NORMAL) return utf8(text.replaceAll('\u2581', ' '));
    if (attr & ATTR_BYTE) return Uint8Array.of(parseInt(text.substring(3, 5), 16));
    return EMPTY;
  }
}

/**
 * Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata (llama-vocab.cpp
 * `llama_vocab::impl::load`; algorithms `llm_tokenizer_spm`, `llm_tokenizer_bpe`,
 * `llm_tokenizer_wpm`).
 *
 * @param md the GGUF metadata
 * @returns a tokenizer for `model` 'llama', 'gpt2' or 'bert'
 * @throws LayerstreamError 'malformed' when tokenizer keys are missing or inconsistent (e.g.
 *   `tokenizer.ggml.merges` missing for a gpt2 vocabulary); 'unsupported_architecture' for
 *   tokenizer models not implemented here (t5, rwkv, none)
 */
export function createTokenizer(md: Metadata): GGUFTokenizer {
  return new GGUFTokenizerImpl(loadVocab(md));
}
