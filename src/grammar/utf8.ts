/**
 * Strict UTF-8 on top of xgrammar's masks. xgrammar's byte-level matching accepts sequences a
 * UTF-8 decoder refuses (lead bytes C0, C1, F5–F7, overlong forms, surrogates: its masks allow
 * them after E0 / ED / F0 / F4), and generated text is decoded with TextDecoder, which turns those
 * into U+FFFD — breaking e.g. a maxLength. So each step's mask is also limited to tokens whose bytes
 * continue the output as well-formed UTF-8 (the WHATWG decoder's byte ranges, Encoding Standard §4.1).
 */

/** Decoder state: bytes still needed for the current code point, and the range the next one must be in. */
export interface Utf8State {
  need: number;
  lo: number;
  hi: number;
}

export const UTF8_START: Utf8State = { need: 0, lo: 0x80, hi: 0xbf };

/** The state after `bytes` from `s`, or null when they are not well-formed UTF-8 there. */
export function utf8Step(s: Utf8State, bytes: Uint8Array): Utf8State | null {
  let { need, lo, hi } = s;
  for (const b of bytes) {
    if (need === 0) {
      if (b < 0x80) continue;
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b >= 0xe0 && b <= 0xef) ((need = 2), b === 0xe0 && (lo = 0xa0), b === 0xed && (hi = 0x9f));
      else if (b >= 0xf0 && b <= 0xf4) ((need = 3), b === 0xf0 && (lo = 0x90), b === 0xf4 && (hi = 0x8f));
      else return null;
    } else {
      if (b < lo || b > hi) return null;
      lo = 0x80;
      hi = 0xbf;
      need--;
    }
  }
  return need === s.need && lo === s.lo && hi === s.hi ? s : { need, lo, hi };
}

/**
 * Per vocabulary: the tokens whose bytes are not one or more whole code points ("partial": byte
 * fallback tokens, BPE byte pieces, anything invalid) — the only ones whose validity depends on
 * the state. Every other token is valid exactly when no code point is open.
 */
export class Utf8Guard {
  private readonly partial: Int32Array;
  private readonly partialBytes: Uint8Array[];
  private readonly partialMask: Uint32Array;

  constructor(private readonly tokenBytes: (id: number) => Uint8Array, nVocab: number) {
    const ids: number[] = [];
    for (let id = 0; id < nVocab; id++) {
      const s = utf8Step(UTF8_START, tokenBytes(id));
      if (s === null || s.need > 0) ids.push(id);
    }
    this.partial = Int32Array.from(ids);
    this.partialBytes = ids.map((id) => tokenBytes(id));
    this.partialMask = new Uint32Array(Math.ceil(nVocab / 32));
    for (const id of ids) this.partialMask[id >>> 5] |= 1 << (id & 31);
  }

  /** Token count whose validity depends on the state (the per-step work). */
  get partialCount(): number {
    return this.partial.length;
  }

  /** The state after token `id` from `s` (null: not well-formed). */
  step(s: Utf8State, id: number): Utf8State | null {
    return utf8Step(s, this.tokenBytes(id));
  }

  /** Clears, in place, the bits of tokens that would make the output ill-formed from state `s`. */
  filter(mask: Uint32Array, s: Utf8State): void {
    if (s.need > 0) for (let w = 0; w < mask.length; w++) mask[w] &= this.partialMask[w];
    for (let i = 0; i < this.partial.length; i++) {
      const id = this.partial[i];
      const bit = 1 << (id & 31);
      if ((mask[id >>> 5] & bit) !== 0 && utf8Step(s, this.partialBytes[i]) === null) mask[id >>> 5] &= ~bit;
    }
  }
}
