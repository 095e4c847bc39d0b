/**
 * The vocabulary as llama.cpp loads it from `tokenizer.ggml.*` metadata (llama-vocab.cpp
 * `llama_vocab::impl::load`): token texts, scores, attributes, special ids with their defaults,
 * add_bos/add_eos, the end-of-generation set, the special-token cache used to split text, and the
 * per-model attribute fix-ups.
 */
import { LayerstreamError } from '../errors.ts';
import type { Metadata } from '../gguf/gguf.ts';
import { utf8 } from './bytes.ts';
import { preTokenizerFor, type PreTokenizerInfo } from './pretokenize.ts';

// llama_token_attr bits
export const ATTR_UNDEFINED = 0;
export const ATTR_UNKNOWN = 1 << 0;
export const ATTR_UNUSED = 1 << 1;
export const ATTR_NORMAL = 1 << 2;
export const ATTR_CONTROL = 1 << 3;
export const ATTR_USER_DEFINED = 1 << 4;
export const ATTR_BYTE = 1 << 5;
export const ATTR_LSTRIP = 1 << 7;
export const ATTR_RSTRIP = 1 << 8;

/** tokenizer.ggml.token_type value (llama_token_type) → attribute. */
const TYPE_TO_ATTR = [ATTR_UNDEFINED, ATTR_NORMAL, ATTR_UNKNOWN, ATTR_CONTROL, ATTR_USER_DEFINED, ATTR_UNUSED, ATTR_BYTE];

export type VocabType = 'spm' | 'bpe' | 'wpm';

const NULL = -1;

const K = (k: string) => `tokenizer.ggml.${k}`;

/** Token texts that llama.cpp treats as end-of-turn / end-of-generation (llama-vocab.cpp). */
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<EOT>', '<｜end▁of▁sentence｜>'];
const EOG_TEXTS = new Set(['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|eom_id|>', '<EOT>']);
const FIM_TEXTS: Readonly<Record<'fimPre' | 'fimSuf' | 'fimMid' | 'fimPad' | 'fimRep' | 'fimSep', readonly string[]>> = {
  fimPre: ['<|fim_prefix|>', '<fim-prefix>', '<｜fim▁begin｜>', '<PRE>'],
  fimSuf: ['<|fim_suffix|>', '<fim-suffix>', '<｜fim▁hole｜>', '<SUF>'],
  fimMid: ['<|fim_middle|>', '<fim-middle>', '<｜fim▁end｜>', '<MID>'],
  fimPad: ['<|fim_pad|>', '<fim-pad>', '<PAD>'],
  fimRep: ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>'],
  fimSep: ['<|file_sep|>'],
};

type SpecialName = 'bos' | 'eos' | 'eot' | 'eom' | 'unk' | 'sep' | 'pad' | 'mask' | 'fimPre' | 'fimSuf' | 'fimMid' | 'fimPad' | 'fimRep' | 'fimSep';

/** Special ids that must lie inside the vocabulary when the metadata sets them (loadVocab). */
const STRICT_SPECIAL: ReadonlySet<SpecialName> = new Set(['bos', 'eos', 'eot', 'eom', 'unk', 'sep']);

/** Metadata keys for special ids, in llama.cpp's order (later deprecated keys win). */
const SPECIAL_KEYS: readonly [string, SpecialName][] = [
  ['bos_token_id', 'bos'],
  ['eos_token_id', 'eos'],
  ['eot_token_id', 'eot'],
  ['eom_token_id', 'eom'],
  ['unknown_token_id', 'unk'],
  ['seperator_token_id', 'sep'],
  ['padding_token_id', 'pad'],
  ['mask_token_id', 'mask'],
  ['fim_pre_token_id', 'fimPre'],
  ['fim_suf_token_id', 'fimSuf'],
  ['fim_mid_token_id', 'fimMid'],
  ['fim_pad_token_id', 'fimPad'],
  ['fim_rep_token_id', 'fimRep'],
  ['fim_sep_token_id', 'fimSep'],
  ['prefix_token_id', 'fimPre'],
  ['suffix_token_id', 'fimSuf'],
  ['middle_token_id', 'fimMid'],
];

/**
 * A loaded vocabulary. Ids are `-1` where llama.cpp has LLAMA_TOKEN_NULL.
 * Construct with {@link loadVocab}.
 */
export interface Vocab {
  readonly type: VocabType;
  /** tokenizer.ggml.model */
  readonly model: string;
  readonly tokens: readonly string[];
  /** SentencePiece scores (float32), zeros when absent */
  readonly scores: Float32Array;
  /** llama_token_attr per id, after llama.cpp's fix-ups */
  readonly attrs: Uint16Array;
  readonly textToId: ReadonlyMap<string, number>;
  readonly special: Readonly<Record<SpecialName, number>>;
  readonly addSpacePrefix: boolean;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** WordPiece: append [SEP] when adding special tokens */
  readonly addSep: boolean;
  readonly ignoreMerges: boolean;
  readonly eogIds: ReadonlySet<number>;
  /** ids of control / user-defined / unknown tokens, longest text (UTF-8 bytes) first */
  readonly specialCache: readonly number[];
  /** longest token text in UTF-16 code units */
  readonly maxTokenLen: number;
  /** BPE: merge "left right" → rank */
  readonly bpeRanks: ReadonlyMap<string, number> | undefined;
  /** BPE: pre-tokenizer */
  readonly pre: PreTokenizerInfo | undefined;
}

function malformed(message: string): never {
  throw new LayerstreamError('malformed', message);
}

/**
 * Reads `tokenizer.ggml.*` metadata the way llama.cpp's `llama_vocab::impl::load` does.
 * Throws LayerstreamError: 'malformed' (missing/inconsistent tokens, scores, token types or merges, a
 * bos/eos/eot/eom/unk/sep id outside the vocabulary,
 * unknown model name), 'unsupported_architecture' (a tokenizer model llama.cpp has but this runtime
 * does not implement: t5, rwkv, none).
 */
export function loadVocab(md: Metadata): Vocab {
  const model = md.string(K('model'));
  let type: VocabType;
  const sp: Record<SpecialName, number> = {
    bos: NULL, eos: NULL, eot: NULL, eom: NULL, unk: NULL, sep: NULL, pad: NULL, mask: NULL,
    fimPre: NULL, fimSuf: NULL, fimMid: NULL, fimPad: NULL, fimRep: NULL, fimSep: NULL,
  };
  let addSpacePrefix = false;
  let addBos = false;
  let addEos = false;
  let ignoreMerges = false;
  let pre: PreTokenizerInfo | undefined;
  let bpeRanks: Map<string, number> | undefined;

  switch (model) {
    case 'llama':
      type = 'spm';
      Object.assign(sp, { bos: 1, eos: 2, unk: 0 });
      addSpacePrefix = true;
      addBos = true;
      break;
    case 'bert':
      type = 'wpm';
      Object.assign(sp, { bos: 101, unk: 100, sep: 102, pad: 0, mask: 103 });
      addBos = true;
      break;
    case 'gpt2': {
      type = 'bpe';
      const merges = md.strings(K('merges'));
      if (!merges) malformed('tokenizer.ggml.merges missing for a gpt2 (BPE) vocabulary');
      bpeRanks = new Map();
      for (let i = 0; i < merges.length; i++) {
        const m = merges[i];
        // llama.cpp splits at the first space after index 0; earlier ranks win on duplicates
        if (m.indexOf(' ', 1) < 0) continue;
        if (!bpeRanks.has(m)) bpeRanks.set(m, i);
      }
      Object.assign(sp, { bos: 11, eos: 11 });
      pre = preTokenizerFor(md.has(K('pre')) ? md.string(K('pre')) : undefined);
      ignoreMerges = pre.ignoreMerges;
      if (pre.addBos !== undefined) addBos = pre.addBos;
      if (pre.noBos) sp.bos = NULL;
      break;
    }
    case 't5':
    case 'rwkv':
    case 'none':
    case 'no_vocab':
      throw new LayerstreamError('unsupported_architecture', `tokenizer.ggml.model '${model}' is not supported (supported: llama, gpt2, bert)`);
    default:
      malformed(`unknown tokenizer.ggml.model '${model}' (supported: llama, gpt2, bert)`);
  }
  addSpacePrefix = md.bool(K('add_space_prefix'), addSpacePrefix);

  // tokens, scores, types
  const rawTokens = md.strings(K('tokens'));
  if (!rawTokens || rawTokens.length === 0) malformed('tokenizer.ggml.tokens missing or empty');
  const n = rawTokens.length;
  const rawScores = md.numbers(K('scores'));
  if (rawScores && rawScores.length !== n) malformed(`tokenizer.ggml.scores has ${rawScores.length} entries for ${n} tokens`);
  const rawTypes = md.numbers(K('token_type'));
  if (rawTypes && rawTypes.length !== n) malformed(`tokenizer.ggml.token_type has ${rawTypes.length} entries for ${n} tokens`);

  const tokens: string[] = new Array(n);
  const textToId = new Map<string, number>();
  const attrs = new Uint16Array(n);
  let maxTokenLen = 0;
  for (let i = 0; i < n; i++) {
    let t = rawTokens[i];
    if (typeof t !== 'string') malformed(`tokenizer.ggml.tokens[${i}] is not a string`);
    if (t.length === 0) t = `[EMPTY_${i}]`; // llama.cpp renames empty tokens
    tokens[i] = t;
    textToId.set(t, i);
    if (t.length > maxTokenLen) maxTokenLen = t.length;
    attrs[i] = rawTypes ? (TYPE_TO_ATTR[rawTypes[i]] ?? ATTR_UNDEFINED) : ATTR_NORMAL;
  }
  const scores = rawScores instanceof Float32Array ? rawScores : Float32Array.from(rawScores ?? new Float32Array(n));

  // special ids from metadata. llama.cpp keeps the default for an id outside the vocabulary (with a
  // warning); -1 (LLAMA_TOKEN_NULL, often written as u32 4294967295) is how converters say "none".
  // An id the engine feeds to the model or stops on (bos, eos, eot, eom, unk, sep) that lies outside
  // the vocabulary is refused instead: it would index past the embedding or never match.
  for (const [key, name] of SPECIAL_KEYS) {
    if (!md.has(K(key))) continue;
    const id = md.number(K(key));
    if (id === -1 || id === 0xffffffff) continue;
    if (Number.isInteger(id) && id >= 0 && id < n) sp[name] = id;
    else if (STRICT_SPECIAL.has(name)) malformed(`${K(key)} is ${id}, outside the vocabulary of ${n} tokens (tokenizer.ggml.tokens)`);
  }
  // defaults (llama: bos 1, eos 2, unk 0; gpt2: 11) that a small vocabulary does not have
  for (const name of Object.keys(sp) as SpecialName[]) if (sp[name] >= n) sp[name] = NULL;
  addBos = md.bool(K('add_bos_token'), addBos);
  addEos = md.bool(K('add_eos_token'), addEos);
  // WordPiece appends [SEP]; later llama.cpp reads add_sep_token for it
  const addSep = type === 'wpm' ? md.bool(K('add_sep_token'), md.bool(K('add_eos_token'), true)) : false;

  // auto-detect special tokens by text; such tokens become control tokens. llama.cpp walks its
  // hash map; we take candidates in id order.
  const forceControl = (id: number) => {
    if ((attrs[id] & ATTR_CONTROL) === 0) attrs[id] = ATTR_CONTROL;
  };
  const idsOf = (texts: Iterable<string>) => {
    const ids: number[] = [];
    for (const t of texts) {
      const id = textToId.get(t);
      if (id !== undefined) ids.push(id);
    }
    return ids.sort((a, b) => a - b);
  };
  const detect: [SpecialName, readonly string[]][] = [['eot', EOT_TEXTS], ['eom', ['<|eom_id|>']], ...(Object.entries(FIM_TEXTS) as [SpecialName, readonly string[]][])];
  for (const [name, texts] of detect) {
    if (sp[name] !== NULL) continue;
    const ids = idsOf(texts);
    if (ids.length > 0) {
      sp[name] = ids[0];
      forceControl(ids[0]);
    }
  }

  // end-of-generation set
  const eog = new Set<number>();
  for (const id of [sp.fimPad, sp.fimRep, sp.fimSep]) if (id !== NULL) eog.add(id);
  for (const id of idsOf(EOG_TEXTS)) {
    eog.add(id);
    forceControl(id);
  }
  for (const id of [sp.eos, sp.eot, sp.eom]) if (id !== NULL) eog.add(id);

  // special tokens cache: longest UTF-8 text first (stable for equal lengths)
  const specialIds: number[] = [];
  for (let id = 0; id < n; id++) if (attrs[id] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) specialIds.push(id);
  const byteLen = new Map(specialIds.map((id) => [id, utf8(tokens[id]).length]));
  specialIds.sort((a, b) => byteLen.get(b)! - byteLen.get(a)! || a - b);

  // per-model attribute fix-ups (llama.cpp: "Handle per token attributes")
  const name = md.has('general.name') ? md.string('general.name').replace(/[A-Z]/g, (c) => c.toLowerCase()) : '';
  const preName = md.has(K('pre')) ? md.string(K('pre')) : '';
  const setAttr = (text: string, bit: number, on: boolean) => {
    const id = textToId.get(text);
    if (id !== undefined) attrs[id] = on ? attrs[id] | bit : attrs[id] & ~bit;
  };
  if (['jina-v2-de', 'jina-v2-es', 'jina-v2-code'].some((s) => preName.includes(s))) {
    setAttr('<mask>', ATTR_LSTRIP, true);
  } else if (name.includes('phi-3') || name.includes('phi3')) {
    for (const id of specialIds) attrs[id] |= ATTR_RSTRIP;
    setAttr('</s>', ATTR_RSTRIP, true);
    for (const t of ['<unk>', '<s>', '<|endoftext|>']) setAttr(t, ATTR_RSTRIP, false);
  }

  return {
    type,
    model,
    tokens,
    scores,
    attrs,
    textToId,
    special: sp,
    addSpacePrefix,
    addBos,
    addEos,
    addSep,
    ignoreMerges,
    eogIds: eog,
    specialCache: specialIds,
    maxTokenLen,
    bpeRanks,
    pre,
  };
}
