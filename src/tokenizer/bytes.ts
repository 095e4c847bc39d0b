/**
 * GPT-2 byte-level BPE byte ↔ unicode mapping (llama.cpp `unicode_byte_to_utf8_map` /
 * `unicode_utf8_to_byte_map`, from OpenAI's `bytes_to_unicode`): printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100.. in order, so every byte is one visible character.
 */

/** byte → the one-character string that stands for it in byte-level BPE vocabularies. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array(256);
  const direct = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(direct(b) ? b : 256 + n++);
  return out;
})();

/** char code of a mapped character → byte, or -1 when the character is not a byte stand-in. */
const CHAR_TO_BYTE: Int16Array = (() => {
  const out = new Int16Array(324).fill(-1);
  for (let b = 0; b < 256; b++) out[BYTE_TO_CHAR[b].charCodeAt(0)] = b;
  return out;
})();

/** The byte that `cpt` stands for in byte-level BPE text, or -1 (llama.cpp `unicode_utf8_to_byte`). */
export function charToByte(cpt: number): number {
  return cpt < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[cpt] : -1;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** UTF-8 bytes of `s`. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8; invalid sequences become U+FFFD. */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Byte-level encoding of a word: its UTF-8 bytes, each replaced by its stand-in character. */
export function byteEncode(word: string): string {
  const bytes = encoder.encode(word);
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b <= 0x20 || b >= 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return word; // printable ASCII maps to itself
  const parts: string[] = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = BYTE_TO_CHAR[bytes[i]];
  return parts.join('');
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
