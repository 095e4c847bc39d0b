import { BYTE_TO_CHAR, utf8 } from '../tokenizer/bytes.ts';
import type { GGUFTokenizer } from '../tokenizer/index.ts';

/**
 * Control tokens that tool-call and reasoning formats write as part of the model's answer
 * (llama-server's "preserved tokens"): Mistral's [TOOL_CALLS] / [ARGS] / [CALL_ID], Llama 3's
 * <|python_tag|>, harmony's channel headers (gpt-oss), and the tags Qwen/Hermes vocabularies may mark
 * as control. They decode to nothing (llama.cpp token_to_piece without `special`), so the chat layer
 * puts their text back, and the grammar vocabulary gives them their text so a grammar can ask for them.
 */
export const OUTPUT_MARKERS: readonly string[] = [
  '<tool_call>', '</tool_call>', '<think>', '</think>',
  '[TOOL_CALLS]', '[ARGS]', '[CALL_ID]', '[THINK]', '[/THINK]',
  '<|python_tag|>',
  '<|channel|>', '<|message|>', '<|constrain|>', '<|start|>', '<|end|>',
];

/**
 * The vocabulary as xgrammar's TokenizerInfo takes it, for any GGUF tokenizer (SentencePiece with
 * byte fallback, byte-level BPE, WordPiece): each token's output bytes (tokenizer.tokenBytes — what
 * generate() emits, so the grammar sees exactly the text the caller gets) written in GPT-2's
 * byte-to-unicode alphabet, to be read with vocab type "byte_level" (xgrammar's ByteLevelDecoder
 * inverts it, cpp/tokenizer_info.cc). Tokens without output bytes (BOS, control, unknown) become ''
 * — xgrammar's "special" tokens, never allowed — except the OUTPUT_MARKERS, which get their text.
 * End-of-generation ids are the stop tokens: allowed only where the grammar's value is complete.
 * @returns encoded: nVocab strings; stopIds: the tokenizer's eogIds
 */
export function grammarVocab(tok: GGUFTokenizer, markers: readonly string[] = OUTPUT_MARKERS): { encoded: string[]; stopIds: number[] } {
  const marker = new Set(markers);
  const encoded = new Array<string>(tok.nVocab);
  for (let id = 0; id < tok.nVocab; id++) {
    let bytes = tok.eogIds.has(id) ? new Uint8Array(0) : tok.tokenBytes(id);
    if (bytes.length === 0 && !tok.eogIds.has(id) && marker.has(tok.tokenText(id))) bytes = utf8(tok.tokenText(id));
    let s = '';
    for (const b of bytes) s += BYTE_TO_CHAR[b];
    encoded[id] = s;
  }
  return { encoded, stopIds: [...tok.eogIds].sort((a, b) => a - b) };
}

/** Ids of the OUTPUT_MARKERS that are single tokens of `tok` whose output bytes are empty (control tokens), with their text. */
export function markerTokens(tok: Pick<GGUFTokenizer, 'nVocab' | 'tokenText' | 'tokenBytes'>, markers: readonly string[] = OUTPUT_MARKERS): Map<number, string> {
  const want = new Set(markers);
  const out = new Map<number, string>();
  for (let id = 0; id < tok.nVocab; id++) {
    const t = tok.tokenText(id);
    if (want.has(t) && tok.tokenBytes(id).length === 0) out.set(id, t);
  }
  return out;
}
