/**
 * Byte-level BPE pre-tokenizers: the regex lists of llama.cpp's `llm_tokenizer_bpe` constructor
 * (llama-vocab.cpp) and the splitting machinery of `unicode_regex_split` (unicode.cpp), ported so
 * the words come out exactly as llama.cpp makes them:
 *
 * - the GPT-2 and Llama-3 patterns run as llama.cpp's hand-written splitters
 *   (`unicode_regex_split_custom_gpt2` / `_llama3`);
 * - patterns using `\p{N}`, `\p{L}`, `\p{P}` run, like llama.cpp's std::regex fallback, on a
 *   "collapsed" text where each non-ASCII code point becomes one stand-in byte for its category
 *   (so e.g. `[^a-z]` also matches every non-ASCII letter, as it does in llama.cpp);
 * - other patterns run on the code points with non-ASCII whitespace replaced by \v.
 *
 * Each pattern splits the pieces left by the previous one; text between matches becomes a piece
 * of its own.
 */
import { byteEncode } from './bytes.ts';
import {
  CPT_ACCENT_MARK,
  CPT_LETTER,
  CPT_MASK_CATEGORIES,
  CPT_NUMBER,
  CPT_PUNCTUATION,
  CPT_WHITESPACE,
  codepoints,
  cptFlags,
  cptToLower,
  cptsToString,
} from './unicode.ts';

// --- llama-vocab.cpp regex lists ---------------------------------------------------------------
// Copied from the C++ literals; non-ASCII characters are written as \u escapes because the exact
// code points matter (Unicode normalization would turn e.g. U+1FD3 into U+0390 and break a range).

const RE_GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const RE_LLAMA3_ORIG = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const RE_LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const RE_QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen3.5: letter runs also take combining marks ([\p{L}\p{M}]+ instead of \p{L}+)
const RE_QWEN35 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const RE_PORO = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";

/** Regex lists per llama.cpp pre-tokenizer type (`LLAMA_VOCAB_PRE_TYPE_*`). */
const PRE_TYPE_REGEXES: Readonly<Record<string, readonly string[]>> = {
  LLAMA3: [RE_LLAMA3],
  DBRX: [RE_LLAMA3],
  SMAUG: [RE_LLAMA3],
  DEEPSEEK_LLM: [
    "[\r\n]",
    "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+",
    "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
    "\\s+$",
    "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
    "\\p{N}+",
  ],
  DEEPSEEK3_LLM: [
    "\\p{N}{1,3}",
    "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
  ],
  DEEPSEEK_CODER: [
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
    "\\p{N}",
  ],
  FALCON: [
    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
    RE_GPT2,
    "[0-9][0-9][0-9]",
  ],
  STARCODER: ["\\p{N}", RE_GPT2],
  REFACT: ["\\p{N}", RE_GPT2],
  COMMAND_R: ["\\p{N}", RE_GPT2],
  SMOLLM: ["\\p{N}", RE_GPT2],
  CODESHELL: ["\\p{N}", RE_GPT2],
  EXAONE: ["\\p{N}", RE_GPT2],
  MINERVA: ["\\p{N}", RE_GPT2],
  GPT2: [RE_GPT2],
  MPT: [RE_GPT2],
  OLMO: [RE_GPT2],
  JAIS: [RE_GPT2],
  STABLELM2: [RE_QWEN2],
  QWEN2: [RE_QWEN2],
  QWEN35: [RE_QWEN35],
  PORO: [RE_PORO],
  BLOOM: [RE_PORO],
  GPT3_FINNISH: [RE_PORO],
  CHATGLM4: [RE_LLAMA3],
  VIKING: [RE_PORO, "\\p{N}"],
  TEKKEN: [
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  CHAMELEON: [
    "<sentinel:[0-9]+>",
    "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
    "([\\t\\n]|    |  )",
    "\\p{N}",
    "[\\p{P}!-/:-@\\[-`{-~]",
    RE_GPT2,
  ],
  DEFAULT: [
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    RE_GPT2,
    "\\p{N}+",
    "[0-9][0-9][0-9]",
  ],
};

/** What a `tokenizer.ggml.pre` value means for a gpt2 (BPE) vocabulary (llama-vocab.cpp `load`). */
export interface PreTokenizerInfo {
  /** llama.cpp pre-type name, e.g. 'LLAMA3', 'GPT2', 'DEFAULT'. */
  readonly type: string;
  readonly regexes: readonly string[];
  /** llama.cpp sets ignore_merges: a word that is a token is emitted whole */
  readonly ignoreMerges: boolean;
  /** llama.cpp's add_bos default for this pre-tokenizer, when it sets one */
  readonly addBos: boolean | undefined;
  /** llama.cpp clears the BOS id for this pre-tokenizer (chatglm-bpe) */
  readonly noBos: boolean;
}

const PRE_NAMES: ReadonlyMap<string, string> = new Map(Object.entries({
  default: 'DEFAULT',
  llama3: 'LLAMA3', 'llama-v3': 'LLAMA3', 'llama-bpe': 'LLAMA3', falcon3: 'LLAMA3',
  'deepseek-llm': 'DEEPSEEK_LLM',
  'deepseek-coder': 'DEEPSEEK_CODER',
  'deepseek-v3': 'DEEPSEEK3_LLM',
  falcon: 'FALCON',
  mpt: 'MPT',
  starcoder: 'STARCODER',
  'gpt-2': 'GPT2', 'phi-2': 'GPT2', 'jina-es': 'GPT2', 'jina-de': 'GPT2', gigachat: 'GPT2',
  'jina-v1-en': 'GPT2', 'jina-v2-es': 'GPT2', 'jina-v2-de': 'GPT2', 'jina-v2-code': 'GPT2', 'roberta-bpe': 'GPT2',
  refact: 'REFACT',
  'command-r': 'COMMAND_R',
  qwen2: 'QWEN2',
  qwen35: 'QWEN35',
  stablelm2: 'STABLELM2',
  olmo: 'OLMO',
  dbrx: 'DBRX',
  'smaug-bpe': 'SMAUG',
  'poro-chat': 'PORO',
  'chatglm-bpe': 'CHATGLM4',
  viking: 'VIKING',
  jais: 'JAIS',
  tekken: 'TEKKEN',
  smollm: 'SMOLLM',
  codeshell: 'CODESHELL',
  bloom: 'BLOOM',
  'gpt3-finnish': 'GPT3_FINNISH',
  exaone: 'EXAONE',
  chameleon: 'CHAMELEON',
  'minerva-7b': 'MINERVA',
  megrez: 'QWEN2',
}));

/**
 * Resolves a `tokenizer.ggml.pre` value (llama-vocab.cpp `llama_vocab::impl::load`).
 * Missing or unknown values fall back to llama.cpp's default regex list with a console warning
 * (llama.cpp itself refuses unknown names).
 */
export function preTokenizerFor(pre: string | undefined): PreTokenizerInfo {
  let type = pre === undefined || pre === '' ? undefined : PRE_NAMES.get(pre);
  if (type === undefined) {
    console.warn(
      pre === undefined || pre === ''
        ? 'tokenizer: missing tokenizer.ggml.pre for a BPE vocabulary, using the default pre-tokenizer; generation quality may be degraded'
        : `tokenizer: unknown tokenizer.ggml.pre '${pre}', using the default pre-tokenizer`,
    );
    type = 'DEFAULT';
  }
  const fullBpe = type === 'LLAMA3' || type === 'TEKKEN';
  return {
    type,
    regexes: PRE_TYPE_REGEXES[type],
    ignoreMerges: fullBpe,
    addBos: fullBpe || type === 'CHAMELEON' ? true : undefined,
    noBos: type === 'CHATGLM4',
  };
}

// --- splitting ------------------------------------------------------------------------------------

const OUT_OF_RANGE = 0xffffffff;
const CR = 0x0d;
const LF = 0x0a;
const APOS = 0x27;
const SPACE = 0x20;

type Splitter = (cpts: Uint32Array, offsets: number[]) => number[];

/** llama.cpp `unicode_regex_split_custom_gpt2`. */
const splitGpt2: Splitter = (cpts, offsets) => {
  const out: number[] = [];
  let start = 0;
  for (const offset of offsets) {
    const ini = start;
    const end = start + offset;
    start = end;
    const getCpt = (pos: number) => (pos >= ini && pos < end ? cpts[pos] : OUT_OF_RANGE);
    const getFlags = (pos: number) => (pos >= ini && pos < end ? cptFlags(cpts[pos]) : 0);
    let prevEnd = ini;
    const addToken = (e: number): number => {
      const len = e - prevEnd;
      if (len > 0) out.push(len);
      prevEnd = e;
      return len;
    };
    for (let pos = ini; pos < end; ) {
      const cpt = getCpt(pos);
      const flags = getFlags(pos);
      // regex: 's|'t|'re|'ve|'m|'ll|'d
      if (cpt === APOS && pos + 1 < end) {
        const next = getCpt(pos + 1);
        if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
          pos += addToken(pos + 2);
          continue;
        }
        if (pos + 2 < end) {
          const next2 = getCpt(pos + 2);
          if ((next === 0x72 && next2 === 0x65) || (next === 0x76 && next2 === 0x65) || (next === 0x6c && next2 === 0x6c)) {
            pos += addToken(pos + 3);
            continue;
          }
        }
      }
      let flags2 = cpt === SPACE ? getFlags(pos + 1) : flags;
      // regex: <space>?\p{L}+
      if (flags2 & CPT_LETTER) {
        if (cpt === SPACE) pos++;
        while (flags2 & CPT_LETTER) flags2 = getFlags(++pos);
        addToken(pos);
        continue;
      }
      // regex: <space>?\p{N}+
      if (flags2 & CPT_NUMBER) {
        if (cpt === SPACE) pos++;
        while (flags2 & CPT_NUMBER) flags2 = getFlags(++pos);
        addToken(pos);
        continue;
      }
      // regex: <space>?[^\s\p{L}\p{N}]+
      if (!(flags2 & (CPT_WHITESPACE | CPT_LETTER | CPT_NUMBER)) && flags2) {
        if (cpt === SPACE) pos++;
        while (!(flags2 & (CPT_WHITESPACE | CPT_LETTER | CPT_NUMBER)) && flags2) flags2 = getFlags(++pos);
        addToken(pos);
        continue;
      }
      let nWs = 0;
      while (getFlags(pos + nWs) & CPT_WHITESPACE) nWs++;
      // regex: \s+(?!\S)
      if (nWs > 1 && getCpt(pos + nWs) !== OUT_OF_RANGE) {
        pos += nWs - 1;
        addToken(pos);
        continue;
      }
      // regex: \s+
      if (nWs > 0) {
        pos += nWs;
        addToken(pos);
        continue;
      }
      // no matches
      addToken(++pos);
    }
  }
  return out;
};

/**
 * llama.cpp `unicode_regex_split_custom_llama3` (digits 3: \p{N}{1,3}, marks false) and
 * `unicode_regex_split_custom_qwen35` (digits 1: \p{N}; marks: letter runs take \p{M} too, and
 * the punctuation run stops at them), which differ only there.
 */
const llama3StyleSplitter = (o: { digits: 1 | 3; marks: boolean }): Splitter => (cpts, offsets) => {
  const WORD = o.marks ? CPT_LETTER | CPT_ACCENT_MARK : CPT_LETTER; // [\p{L}\p{M}] or \p{L}
  const out: number[] = [];
  let start = 0;
  for (const offset of offsets) {
    const ini = start;
    const end = start + offset;
    start = end;
    const getCpt = (pos: number) => (pos >= ini && pos < end ? cpts[pos] : OUT_OF_RANGE);
    const getFlags = (pos: number) => (pos >= ini && pos < end ? cptFlags(cpts[pos]) : 0);
    let prevEnd = ini;
    const addToken = (e: number): number => {
      const len = e - prevEnd;
      if (len > 0) out.push(len);
      prevEnd = e;
      return len;
    };
    for (let pos = ini; pos < end; ) {
      const cpt = getCpt(pos);
      const flags = getFlags(pos);
      // regex: (?i:'s|'t|'re|'ve|'m|'ll|'d)
      if (cpt === APOS && pos + 1 < end) {
        const next = cptToLower(getCpt(pos + 1));
        if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
          pos += addToken(pos + 2);
          continue;
        }
        if (pos + 2 < end) {
          const next2 = cptToLower(getCpt(pos + 2));
          if ((next === 0x72 && next2 === 0x65) || (next === 0x76 && next2 === 0x65) || (next === 0x6c && next2 === 0x6c)) {
            pos += addToken(pos + 3);
            continue;
          }
        }
      }
      // regex: [^\r\n\p{L}\p{N}]?\p{L}+ (qwen35: [^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+)
      if (!(cpt === CR || cpt === LF || flags & CPT_NUMBER)) {
        if (flags & WORD || getFlags(pos + 1) & WORD) {
          pos++;
          while (getFlags(pos) & WORD) pos++;
          addToken(pos);
          continue;
        }
      }
      // regex: \p{N} (qwen35)
      if (o.digits === 1 && flags & CPT_NUMBER) {
        pos++;
        addToken(pos);
        continue;
      }
      // regex: \p{N}{1,3}
      if (flags & CPT_NUMBER) {
        let ini2 = pos;
        while (getFlags(pos) & CPT_NUMBER) {
          if (++pos - ini2 >= 3) {
            addToken(pos);
            ini2 = pos;
          }
        }
        addToken(pos);
        continue;
      }
      // regex: <space>?[^\s\p{L}\p{N}]+[\r\n]* (qwen35: [^\s\p{L}\p{M}\p{N}])
      let flags2 = cpt === SPACE ? getFlags(pos + 1) : flags;
      if (!(flags2 & (CPT_WHITESPACE | WORD | CPT_NUMBER)) && flags) {
        if (cpt === SPACE) pos++;
        while (!(flags2 & (CPT_WHITESPACE | WORD | CPT_NUMBER)) && flags2) flags2 = getFlags(++pos);
        let cpt2 = getCpt(pos);
        while (cpt2 === CR || cpt2 === LF) cpt2 = getCpt(++pos);
        addToken(pos);
        continue;
      }
      let nWs = 0;
      let lastEndRN = 0;
      while (getFlags(pos + nWs) & CPT_WHITESPACE) {
        const cpt2 = getCpt(pos + nWs);
        if (cpt2 === CR || cpt2 === LF) lastEndRN = pos + nWs + 1;
        nWs++;
      }
      // regex: \s*[\r\n]+
      if (lastEndRN > 0) {
        pos = lastEndRN;
        addToken(pos);
        continue;
      }
      // regex: \s+(?!\S)
      if (nWs > 1 && getCpt(pos + nWs) !== OUT_OF_RANGE) {
        pos += nWs - 1;
        addToken(pos);
        continue;
      }
      // regex: \s+
      if (nWs > 0) {
        pos += nWs;
        addToken(pos);
        continue;
      }
      // no matches
      addToken(++pos);
    }
  }
  return out;
};

const splitLlama3 = llama3StyleSplitter({ digits: 3, marks: false });
const splitQwen35 = llama3StyleSplitter({ digits: 1, marks: true });

function customSplitter(expr: string): Splitter | undefined {
  if (expr === RE_GPT2) return splitGpt2;
  if (expr === RE_LLAMA3 || expr === RE_LLAMA3_ORIG) return splitLlama3;
  if (expr === RE_QWEN35) return splitQwen35;
  return undefined;
}

// Category stand-ins of llama.cpp's collapsed text, and the ASCII members of each category.
const UCAT_N = '\\p{N}';
const UCAT_L = '\\p{L}';
const UCAT_P = '\\p{P}';
const UCAT_CPT: Readonly<Record<string, string>> = { [UCAT_N]: '\xD1', [UCAT_L]: '\xD2', [UCAT_P]: '\xD3' };
const UCAT_MAP: Readonly<Record<string, string>> = {
  [UCAT_N]: '\x30-\x39',
  [UCAT_L]: '\x41-\x5A\x61-\x7A',
  [UCAT_P]: '\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\\\x5B-\\\x5D\x5F\\\x7B\\\x7D',
};

function usesCategories(expr: string): boolean {
  return expr.includes(UCAT_N) || expr.includes(UCAT_L) || expr.includes(UCAT_P);
}

/** llama.cpp's rewrite of a category regex for the collapsed text (unicode_regex_split). */
function collapseRegex(expr: string): string {
  let out = '';
  let inside = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '[' && (i === 0 || expr[i - 1] !== '\\')) {
      out += '[';
      inside = true;
      continue;
    }
    if (inside && c === ']' && expr[i - 1] !== '\\') {
      out += ']';
      inside = false;
      continue;
    }
    if (c === '\\' && i + 4 < expr.length && expr[i + 1] === 'p' && expr[i + 2] === '{' && expr[i + 4] === '}') {
      const pat = expr.substring(i, i + 5);
      const cpt = UCAT_CPT[pat];
      if (cpt !== undefined) {
        out += (inside ? '' : '[') + cpt + UCAT_MAP[pat] + (inside ? '' : ']');
        i += 4;
        continue;
      }
    }
    out += c;
  }
  return out;
}

const C_SPACE_CLASS = '\\t\\n\\x0B\\f\\r ';

/**
 * Makes a std::regex (ECMAScript grammar, "C" locale) pattern mean the same in JavaScript:
 * `\s` is only the six C-locale spaces there (JS `\s` would also match U+FEFF).
 */
function toJsPattern(expr: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '\\' && i + 1 < expr.length) {
      const e = expr[i + 1];
      if (e === 's') out += inClass ? C_SPACE_CLASS : `[${C_SPACE_CLASS}]`;
      else if (e === 'S' && !inClass) out += `[^${C_SPACE_CLASS}]`;
      else out += c + e;
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

const regexCache = new Map<string, RegExp>();

function compiled(pattern: string, flags: string): RegExp {
  const key = flags + '\u0000' + pattern;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(toJsPattern(pattern), flags);
    regexCache.set(key, re);
  }
  return re;
}

/**
 * llama.cpp `unicode_regex_split_stl`: matches of `re` in each piece, plus the unmatched text
 * between them as pieces of their own. `units` is the searched string and `cptToUnit` maps
 * code point offsets to its UTF-16 offsets (undefined when they are the same).
 */
function splitStl(units: string, re: RegExp, offsets: number[], cptToUnit: Int32Array | undefined): number[] {
  const out: number[] = [];
  let start = 0;
  for (const offset of offsets) {
    const u0 = cptToUnit ? cptToUnit[start] : start;
    const u1 = cptToUnit ? cptToUnit[start + offset] : start + offset;
    // search only this piece, so `$` and lookaheads stop at its end as they do in llama.cpp
    const piece = units.substring(u0, u1);
    const toCpt = (u: number) => (cptToUnit ? unitToCptIndex(cptToUnit, start, u0 + u) - start : u);
    re.lastIndex = 0;
    let startIdx = 0;
    for (let m = re.exec(piece); m !== null; m = re.exec(piece)) {
      if (m[0].length === 0) {
        // no llama.cpp pattern matches empty; step over it like String.prototype.matchAll
        re.lastIndex = m.index + 1;
        continue;
      }
      const pos = toCpt(m.index);
      const end = toCpt(m.index + m[0].length);
      if (pos > startIdx) out.push(pos - startIdx);
      out.push(end - pos);
      startIdx = end;
    }
    if (startIdx < offset) out.push(offset - startIdx);
    start += offset;
  }
  return out;
}

/** Code point index of UTF-16 offset `u` (which lies at or after code point `from`). */
function unitToCptIndex(cptToUnit: Int32Array, from: number, u: number): number {
  let lo = from;
  let hi = cptToUnit.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cptToUnit[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Splits `text` into pre-tokenizer words with llama.cpp's `unicode_regex_split` and byte-encodes
 * each (GPT-2 byte → unicode mapping), ready for BPE merges.
 *
 * @param text any string (lone surrogates are treated as U+FFFD)
 * @param regexes llama.cpp regex list, applied in turn
 * @returns the byte-encoded words in order; their concatenation is the byte-encoded text
 */
export function preTokenize(text: string, regexes: readonly string[]): string[] {
  const cpts = codepoints(text);
  let offsets: number[] = [cpts.length];
  let collapsed: string | undefined;
  let wide: { units: string; cptToUnit: Int32Array } | undefined;

  for (const expr of regexes) {
    const custom = customSplitter(expr);
    if (custom) {
      offsets = custom(cpts, offsets);
      continue;
    }
    if (usesCategories(expr)) {
      collapsed ??= collapseText(cpts);
      offsets = splitStl(collapsed, compiled(collapseRegex(expr), 'g'), offsets, undefined);
    } else {
      wide ??= wideText(cpts);
      offsets = splitStl(wide.units, compiled(expr, 'gu'), offsets, wide.cptToUnit);
    }
  }

  const words: string[] = new Array(offsets.length);
  let start = 0;
  for (let i = 0; i < offsets.length; i++) {
    words[i] = byteEncode(cptsToString(cpts, start, start + offsets[i]));
    start += offsets[i];
  }
  return words;
}

/** llama.cpp's collapsed text: ASCII kept, other code points → one stand-in char per category. */
function collapseText(cpts: Uint32Array): string {
  const codes = new Uint16Array(cpts.length);
  for (let i = 0; i < cpts.length; i++) {
    const c = cpts[i];
    if (c < 128) {
      codes[i] = c;
      continue;
    }
    const f = cptFlags(c);
    if (f & CPT_WHITESPACE) codes[i] = 0x0b;
    else {
      const cat = f & CPT_MASK_CATEGORIES;
      codes[i] = cat === CPT_NUMBER ? 0xd1 : cat === CPT_LETTER ? 0xd2 : cat === CPT_PUNCTUATION ? 0xd3 : 0xd0;
    }
  }
  return codesToString(codes);
}

/** The code points with non-ASCII whitespace replaced by \v (llama.cpp's wregex input). */
function wideText(cpts: Uint32Array): { units: string; cptToUnit: Int32Array } {
  const mapped = new Uint32Array(cpts.length);
  const cptToUnit = new Int32Array(cpts.length + 1);
  let u = 0;
  for (let i = 0; i < cpts.length; i++) {
    const c = cpts[i];
    mapped[i] = c > 0x7f && cptFlags(c) & CPT_WHITESPACE ? 0x0b : c;
    cptToUnit[i] = u;
    u += c > 0xffff ? 2 : 1;
  }
  cptToUnit[cpts.length] = u;
  return { units: cptsToString(mapped), cptToUnit };
}

function codesToString(codes: Uint16Array): string {
  let s = '';
  const CHUNK = 8192;
  for (let i = 0; i < codes.length; i += CHUNK) s += String.fromCharCode(...codes.subarray(i, i + CHUNK));
  return s;
}
