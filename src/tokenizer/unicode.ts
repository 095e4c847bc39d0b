/**
 * Unicode helpers mirroring llama.cpp's `src/unicode.cpp` / `unicode-data.cpp`.
 *
 * llama.cpp classifies every code point once with Python's `regex` module (`\p{N}`, `\p{L}`, ...,
 * scripts/gen-unicode-data.py) and works on those flags. We get the same categories from
 * JavaScript's Unicode property escapes, computed lazily per code point and memoised, so nothing
 * big is built at start-up.
 */

/** Category bits, same values as llama.cpp's `unicode_cpt_flags`. */
export const CPT_UNDEFINED = 0x0001;
export const CPT_NUMBER = 0x0002; // \p{N}
export const CPT_LETTER = 0x0004; // \p{L}
export const CPT_SEPARATOR = 0x0008; // \p{Z}
export const CPT_ACCENT_MARK = 0x0010; // \p{M}
export const CPT_PUNCTUATION = 0x0020; // \p{P}
export const CPT_SYMBOL = 0x0040; // \p{S}
export const CPT_CONTROL = 0x0080; // \p{C} (includes unassigned, private use, format)
export const CPT_MASK_CATEGORIES = 0x00ff;
export const CPT_WHITESPACE = 0x0100; // Unicode White_Space (= llama.cpp's unicode_set_whitespace)

const MAX_CODEPOINTS = 0x110000;
const COMPUTED = 0x8000;

const CATEGORY_TESTS: readonly [RegExp, number][] = [
  [/\p{L}/u, CPT_LETTER],
  [/\p{N}/u, CPT_NUMBER],
  [/\p{P}/u, CPT_PUNCTUATION],
  [/\p{Z}/u, CPT_SEPARATOR],
  [/\p{M}/u, CPT_ACCENT_MARK],
  [/\p{S}/u, CPT_SYMBOL],
  [/\p{C}/u, CPT_CONTROL],
];
const RE_WHITE_SPACE = /\p{White_Space}/u;

// Memoised flags; allocated on first use (2.2 MB). Bit 0x8000 marks "computed".
let flagCache: Uint16Array | undefined;

function computeFlags(cpt: number): number {
  const s = String.fromCodePoint(cpt);
  let f = 0;
  for (const [re, bit] of CATEGORY_TESTS) {
    if (re.test(s)) {
      f = bit; // categories are exclusive
      break;
    }
  }
  if (f === 0) f = CPT_UNDEFINED;
  if (RE_WHITE_SPACE.test(s)) f |= CPT_WHITESPACE;
  return f;
}

/**
 * llama.cpp `unicode_cpt_flags(cpt)`: category bit | CPT_WHITESPACE. Every valid code point has a
 * non-zero value; out-of-range values give CPT_UNDEFINED.
 */
export function cptFlags(cpt: number): number {
  if (cpt < 0 || cpt >= MAX_CODEPOINTS) return CPT_UNDEFINED;
  const cache = (flagCache ??= new Uint16Array(MAX_CODEPOINTS));
  const v = cache[cpt];
  if (v !== 0) return v & ~COMPUTED;
  const f = computeFlags(cpt);
  cache[cpt] = f | COMPUTED;
  return f;
}

const lowerCache = new Map<number, number>();

/**
 * llama.cpp `unicode_tolower`: the first code point of the full lowercase mapping (the table is
 * generated from Python's `chr(c).lower()[0]`), or `cpt` itself.
 */
export function cptToLower(cpt: number): number {
  if (cpt < 0x80) return cpt >= 0x41 && cpt <= 0x5a ? cpt + 32 : cpt;
  let v = lowerCache.get(cpt);
  if (v === undefined) {
    v = String.fromCodePoint(cpt).toLowerCase().codePointAt(0) ?? cpt;
    lowerCache.set(cpt, v);
  }
  return v;
}

const nfdCache = new Map<number, number>();

/**
 * llama.cpp `unicode_cpts_normalize_nfd` for one code point: NOT a full NFD — its table keeps only
 * the first code point of each decomposition (so "é" → "e", and a Hangul syllable → its first
 * jamo), which is what its WordPiece tokenizer relies on to strip accents.
 */
export function cptNfdFirst(cpt: number): number {
  if (cpt < 0xc0) return cpt; // nothing below U+00C0 decomposes
  let v = nfdCache.get(cpt);
  if (v === undefined) {
    v = String.fromCodePoint(cpt).normalize('NFD').codePointAt(0) ?? cpt;
    nfdCache.set(cpt, v);
  }
  return v;
}

/**
 * Code points of `text`. Lone surrogates become U+FFFD, as TextEncoder would make them, so the
 * tokenizers always see the same text as its UTF-8 encoding.
 */
export function codepoints(text: string): Uint32Array {
  const out = new Uint32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out[n++] = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        continue;
      }
    }
    out[n++] = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
  }
  return out.subarray(0, n);
}

/** String from code points [start, end) of `cpts`. */
export function cptsToString(cpts: ArrayLike<number>, start = 0, end = cpts.length): string {
  let s = '';
  // String.fromCodePoint on chunks avoids O(n²) concatenation of single characters.
  const CHUNK = 4096;
  for (let i = start; i < end; i += CHUNK) {
    const stop = Math.min(end, i + CHUNK);
    const part: number[] = new Array(stop - i);
    for (let j = i; j < stop; j++) part[j - i] = cpts[j];
    s += String.fromCodePoint(...part);
  }
  return s;
}

/** Replaces lone surrogates with U+FFFD (well-formed UTF-16, as TextEncoder would encode it). */
export function wellFormed(text: string): string {
  // Fast path: most text has no surrogates at all.
  if (!/[\uD800-\uDFFF]/.test(text)) return text;
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** C `isspace` in the "C" locale: space, \t, \n, \v, \f, \r. */
export function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
