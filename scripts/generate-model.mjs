#!/usr/bin/env node
// Synthetic llama-layout GGUF generator for benchmarks and tests: seeded, deterministic, streamed to
// disk (a 1 GiB model never sits in memory). Plain Node ESM, no dependencies.
//
//   node scripts/generate-model.mjs out.gguf [--preset bench-1g|bench-128m|test]
//        [--layers 22] [--embd 2048] [--ff 5632] [--heads 32] [--kv-heads 8] [--vocab 8192]
//        [--ctx 2048] [--type Q8_0|Q4_0] [--seed 1]
//
// Prints the file's size and sha256. Same options + seed → byte-identical file.
//
// Format: GGUF v3 (ggml/docs/gguf.md), alignment 32 (GGUF_DEFAULT_ALIGNMENT, so no general.alignment
// key). Block layouts from ggml-common.h:
//   block_q8_0 { ggml_half d; int8_t qs[32]; }           34 bytes / 32 values, value = qs[i]·d
//   block_q4_0 { ggml_half d; uint8_t qs[16]; }          18 bytes / 32 values, value = (q − 8)·d,
//              element j in the low nibble of qs[j], element j+16 in its high nibble.
// Weights are drawn already quantized (no float tensor is ever built): quants are approximately
// normal (Irwin–Hall sum of four random bytes) and the block scale is chosen so a matrix's values
// have a standard deviation of about 1/sqrt(fan_in) (fan_in = ne[0], the input width), which keeps
// activations of the randomly initialised network at a sane scale layer after layer.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Model shapes by name. `test` is tiny (≈ 1.8 MiB, loads in about a second on SwiftShader) for browser
 * tests; `bench-128m` (≈ 131 MiB) is the benchmark's --quick model; `bench-1g` (≈ 1.02 GiB) is the
 * benchmark's main model. All: llama layout, SentencePiece vocabulary, Q8_0 matrices.
 */
export const PRESETS = Object.freeze({
  test: Object.freeze({ layers: 8, embd: 128, ff: 384, heads: 4, kvHeads: 2, vocab: 512 }),
  'bench-128m': Object.freeze({ layers: 10, embd: 1024, ff: 2816, heads: 16, kvHeads: 4, vocab: 8192 }),
  'bench-1g': Object.freeze({ layers: 22, embd: 2048, ff: 5632, heads: 32, kvHeads: 8, vocab: 8192 }),
});

/** The small preset for tests (8 layers, n_embd 128, n_ff 384, 4 heads / 2 KV heads, vocab 512). */
export const TEST_PRESET = PRESETS.test;

/** Defaults for options a caller leaves out. */
export const DEFAULTS = Object.freeze({ ...PRESETS['bench-1g'], ctx: 2048, type: 'Q8_0', seed: 1, name: 'synthetic-llama' });

const GGML = { F32: { id: 0, block: 1, bytes: 4 }, Q4_0: { id: 2, block: 32, bytes: 18 }, Q8_0: { id: 8, block: 32, bytes: 34 } };
/** general.file_type (llama_ftype) for an all-`type` model. */
const FILE_TYPE = { Q4_0: 2, Q8_0: 7 };
const ALIGN = 32;
/** Special token ids of the vocabulary (llama/SentencePiece convention). */
const UNK = 0;
const BOS = 1;
const EOS = 2;

/**
 * Writes a synthetic llama GGUF to `outPath` (parent folders are created; the file is written as
 * `outPath + '.tmp'` and renamed when complete, so a half-written file never has the final name).
 *
 * @param {string} outPath
 * @param {object} [opts] shape and content; any field left out comes from `DEFAULTS` (the bench-1g preset)
 * @param {number} [opts.layers] block_count
 * @param {number} [opts.embd] embedding_length (n_embd); multiple of 32 and of `heads`
 * @param {number} [opts.ff] feed_forward_length (n_ff); multiple of 32
 * @param {number} [opts.heads] attention.head_count
 * @param {number} [opts.kvHeads] attention.head_count_kv (divides `heads`)
 * @param {number} [opts.vocab] tokens in the vocabulary (≥ 300): 3 specials, 256 byte tokens, word pieces
 * @param {number} [opts.ctx] context_length, tokens (metadata only; default 2048)
 * @param {'Q8_0'|'Q4_0'} [opts.type] type of every matrix (norms are F32)
 * @param {number} [opts.seed] PRNG seed (uint32)
 * @param {string} [opts.name] general.name
 * @returns {Promise<{ path: string, bytes: number, sha256: string, tensors: number, weightBytes: number, options: object }>}
 *   bytes: file size; weightBytes: bytes of tensor data (excluding header and padding); sha256: hex
 */
export async function generateLlamaModel(outPath, opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  validate(o);
  const tensors = tensorList(o);
  const header = headerBytes(o, tensors);
  mkdirSync(path.dirname(path.resolve(outPath)), { recursive: true });
  const tmp = `${outPath}.tmp`;
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  const put = (buf) => {
    let off = 0;
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    hash.update(buf);
    bytes += buf.byteLength;
  };
  try {
    put(header);
    for (const t of tensors) {
      for (const chunk of tensorChunks(t, o)) put(chunk);
      const pad = (ALIGN - (t.nBytes % ALIGN)) % ALIGN;
      if (pad) put(Buffer.alloc(pad));
      await new Promise((r) => setImmediate(r)); // let a caller's timers/IO run between tensors
    }
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, outPath);
  const weightBytes = tensors.reduce((s, t) => s + t.nBytes, 0);
  return { path: outPath, bytes, sha256: hash.digest('hex'), tensors: tensors.length, weightBytes, options: o };
}

/**
 * Size in bytes of the file `generateLlamaModel(_, opts)` would write, without writing it (so a
 * caller can check an existing file cheaply before hashing it).
 */
export function expectedModelBytes(opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  validate(o);
  const tensors = tensorList(o);
  return headerBytes(o, tensors).byteLength + tensors.reduce((s, t) => s + Math.ceil(t.nBytes / ALIGN) * ALIGN, 0);
}

function validate(o) {
  const int = (k, min) => {
    if (!Number.isInteger(o[k]) || o[k] < min) throw new Error(`generate-model: ${k} must be an integer ≥ ${min}, got ${o[k]}`);
  };
  int('layers', 1);
  int('embd', 32);
  int('ff', 32);
  int('heads', 1);
  int('kvHeads', 1);
  int('vocab', 300);
  int('ctx', 1);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new Error(`generate-model: seed must be a uint32, got ${o.seed}`);
  if (!(o.type in FILE_TYPE)) throw new Error(`generate-model: type must be Q8_0 or Q4_0, got ${o.type}`);
  if (o.embd % 32 || o.ff % 32) throw new Error('generate-model: embd and ff must be multiples of 32 (quant block size)');
  if (o.embd % o.heads) throw new Error(`generate-model: embd ${o.embd} is not a multiple of heads ${o.heads}`);
  if (o.heads % o.kvHeads) throw new Error(`generate-model: heads ${o.heads} is not a multiple of kvHeads ${o.kvHeads}`);
}

/** Tensors in llama.cpp's order and naming; ne[0] is the input width (row length). */
function tensorList(o) {
  const kv = (o.embd / o.heads) * o.kvHeads;
  const list = [];
  const mat = (name, ne0, ne1, extra = {}) => list.push({ name, ne: [ne0, ne1], type: o.type, ...extra });
  const vec = (name, n) => list.push({ name, ne: [n], type: 'F32' });
  // Token embedding rows are read per token, not multiplied: std 1 so the token identity is visible
  // next to what the layers add to the residual stream.
  mat('token_embd.weight', o.embd, o.vocab, { std: 1 });
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}.`;
    vec(`${p}attn_norm.weight`, o.embd);
    mat(`${p}attn_q.weight`, o.embd, o.embd);
    mat(`${p}attn_k.weight`, o.embd, kv);
    mat(`${p}attn_v.weight`, o.embd, kv);
    mat(`${p}attn_output.weight`, o.embd, o.embd);
    vec(`${p}ffn_norm.weight`, o.embd);
    mat(`${p}ffn_gate.weight`, o.embd, o.ff);
    mat(`${p}ffn_up.weight`, o.embd, o.ff);
    mat(`${p}ffn_down.weight`, o.ff, o.embd);
  }
  vec('output_norm.weight', o.embd);
  // The rows of <unk>, <s>, </s> are zero (logit exactly 0, below the maximum of thousands of
  // random logits), so greedy decoding never ends early on </s>: benchmarks get every token.
  mat('output.weight', o.embd, o.vocab, { zeroRows: 3 });
  let rel = 0;
  for (const t of list) {
    const g = GGML[t.type];
    const n = t.ne.reduce((a, b) => a * b, 1);
    t.nBytes = (n / g.block) * g.bytes;
    t.offset = rel;
    rel += Math.ceil(t.nBytes / ALIGN) * ALIGN;
    t.std ??= 1 / Math.sqrt(t.ne[0]);
  }
  return list;
}

// ---- header ----------------------------------------------------------------------------------

/** Little-endian byte sink for the header (a few hundred KiB at most). */
class Sink {
  constructor() {
    this.buf = Buffer.alloc(1 << 16);
    this.len = 0;
  }
  room(n) {
    if (this.len + n > this.buf.length) {
      const b = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(b, 0, 0, this.len);
      this.buf = b;
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  // room() may replace this.buf: always call it before touching the buffer.
  u8(v) { const at = this.room(1); this.buf.writeUInt8(v, at); }
  u32(v) { const at = this.room(4); this.buf.writeUInt32LE(v, at); }
  i32(v) { const at = this.room(4); this.buf.writeInt32LE(v, at); }
  f32(v) { const at = this.room(4); this.buf.writeFloatLE(v, at); }
  u64(v) { const at = this.room(8); this.buf.writeBigUInt64LE(BigInt(v), at); }
  str(s) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    const at = this.room(b.length);
    b.copy(this.buf, at);
  }
}

/** GGUF metadata value type ids (gguf.h enum gguf_type). */
const KV = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 };

function headerBytes(o, tensors) {
  const vocab = buildVocab(o.vocab, o.seed);
  const hd = o.embd / o.heads;
  const md = [
    ['general.architecture', 'string', 'llama'],
    ['general.name', 'string', o.name],
    ['general.file_type', 'u32', FILE_TYPE[o.type]],
    ['general.quantization_version', 'u32', 2],
    ['llama.context_length', 'u32', o.ctx],
    ['llama.embedding_length', 'u32', o.embd],
    ['llama.block_count', 'u32', o.layers],
    ['llama.feed_forward_length', 'u32', o.ff],
    ['llama.attention.head_count', 'u32', o.heads],
    ['llama.attention.head_count_kv', 'u32', o.kvHeads],
    ['llama.rope.dimension_count', 'u32', hd],
    ['llama.attention.layer_norm_rms_epsilon', 'f32', 1e-5],
    ['llama.rope.freq_base', 'f32', 10000],
    ['tokenizer.ggml.model', 'string', 'llama'],
    ['tokenizer.ggml.tokens', 'array<string>', vocab.tokens],
    ['tokenizer.ggml.scores', 'array<f32>', vocab.scores],
    ['tokenizer.ggml.token_type', 'array<i32>', vocab.types],
    ['tokenizer.ggml.bos_token_id', 'u32', BOS],
    ['tokenizer.ggml.eos_token_id', 'u32', EOS],
    ['tokenizer.ggml.unknown_token_id', 'u32', UNK],
    ['tokenizer.ggml.add_bos_token', 'bool', true],
    ['tokenizer.ggml.add_eos_token', 'bool', false],
  ];
  const s = new Sink();
  s.u32(0x46554747); // "GGUF"
  s.u32(3);
  s.u64(tensors.length);
  s.u64(md.length);
  for (const [key, type, value] of md) {
    s.str(key);
    const arr = /^array<(\w+)>$/.exec(type);
    if (arr) {
      s.u32(KV.array);
      s.u32(KV[arr[1]]);
      s.u64(value.length);
      for (const v of value) scalar(s, arr[1], v);
    } else {
      s.u32(KV[type]);
      scalar(s, type, value);
    }
  }
  for (const t of tensors) {
    s.str(t.name);
    s.u32(t.ne.length);
    for (const d of t.ne) s.u64(d);
    s.u32(GGML[t.type].id);
    s.u64(t.offset);
  }
  s.room((ALIGN - (s.len % ALIGN)) % ALIGN); // zero padding: Buffer.alloc zero-fills
  return s.buf.subarray(0, s.len);
}

function scalar(s, type, v) {
  if (type === 'string') s.str(v);
  else if (type === 'u32') s.u32(v);
  else if (type === 'i32') s.i32(v);
  else if (type === 'f32') s.f32(v);
  else if (type === 'bool') s.u8(v ? 1 : 0);
  else throw new Error(`generate-model: no writer for ${type}`);
}

/**
 * SentencePiece-style vocabulary: <unk>, <s>, </s> (ids 0, 1, 2), the 256 byte tokens <0x00>..<0xFF>
 * (token_type 6, the tokenizer's fallback for anything else), then word pieces: "▁", the letters
 * and "▁"+letter, then seeded random letter strings, "▁"-prefixed or not, until `n` tokens. Scores
 * fall with the id (earlier pieces merge first), as in a trained SentencePiece model.
 */
function buildVocab(n, seed) {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3]; // llama_token_type: UNKNOWN, CONTROL, CONTROL
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // BYTE
  }
  const seen = new Set(tokens);
  const add = (t) => {
    if (tokens.length >= n || seen.has(t)) return;
    seen.add(t);
    tokens.push(t);
    types.push(1); // NORMAL
  };
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  add('▁');
  for (const c of letters) add(c);
  for (const c of letters) add(`▁${c}`);
  const next = mulberry32(seed ^ 0x9e3779b9);
  while (tokens.length < n) {
    // Lengths 2..7, letters skewed towards the frequent ones (squared uniform index).
    const len = 2 + (next() % 6);
    let w = next() & 1 ? '▁' : '';
    for (let i = 0; i < len; i++) {
      const u = next() / 2 ** 32;
      w += letters[Math.floor(u * u * letters.length)];
    }
    add(w);
  }
  const scores = tokens.map((_, i) => (i < 259 ? 0 : -(i - 259)));
  return { tokens, scores, types };
}

// ---- tensor data -----------------------------------------------------------------------------

/** mulberry32: a small, fast, seeded 32-bit PRNG; returns a function giving uint32s. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** FNV-1a of the tensor name mixed with the seed: every tensor has its own reproducible stream. */
function tensorSeed(seed, name) {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Standard deviation of the sum of four uniform bytes (Irwin–Hall, n = 4): sqrt(4 · (256² − 1) / 12). */
const SUM4_STD = Math.sqrt((4 * (256 * 256 - 1)) / 12);
/** Standard deviation of the quants, in units of the block scale d. */
const Q8_STD = 24; // |q| ≤ 510 · 24 / 147.8 ≈ 83 < 127: never clipped
const Q4_STD = 2.5; // 16 levels: a few of the widest draws clip at 0 / 15

/** Yields a tensor's bytes in chunks of about 4 MiB (whole rows). */
function* tensorChunks(t, o) {
  const next = mulberry32(tensorSeed(o.seed, t.name));
  const rowLen = t.ne[0];
  const rows = t.nBytes / ((rowLen / GGML[t.type].block) * GGML[t.type].bytes);
  const rowBytes = t.nBytes / rows;
  const rowsPer = Math.max(1, Math.floor((4 << 20) / rowBytes));
  for (let r0 = 0; r0 < rows; r0 += rowsPer) {
    const n = Math.min(rowsPer, rows - r0);
    const buf = Buffer.alloc(n * rowBytes);
    if (t.type === 'F32') fillNorm(buf, n * rowLen, next);
    else fillQuant(buf, t, next, r0, n);
    yield buf;
  }
}

/** Norm weights: 1 + small noise (std ≈ 0.02). */
function fillNorm(buf, n, next) {
  for (let i = 0; i < n; i++) {
    const x = next();
    const s = (x & 255) + ((x >>> 8) & 255) + ((x >>> 16) & 255) + (x >>> 24) - 510;
    buf.writeFloatLE(1 + (0.02 * s) / SUM4_STD, i * 4);
  }
}

/** Q8_0 / Q4_0 blocks drawn directly: approximately normal quants, per-block scale ±20 % around std/Q_STD. */
function fillQuant(buf, t, next, r0, nRows) {
  const q8 = t.type === 'Q8_0';
  const bb = GGML[t.type].bytes;
  const blocksPerRow = t.ne[0] / 32;
  const k = (q8 ? Q8_STD : Q4_STD) / SUM4_STD;
  const q = new Int32Array(32);
  let at = 0;
  for (let r = 0; r < nRows; r++) {
    const zero = r0 + r < (t.zeroRows ?? 0);
    for (let b = 0; b < blocksPerRow; b++, at += bb) {
      const jitter = 0.8 + (0.4 * next()) / 2 ** 32;
      const d = zero ? 0 : (t.std / (q8 ? Q8_STD : Q4_STD)) * jitter;
      buf.writeUInt16LE(f32ToF16Bits(d), at);
      for (let i = 0; i < 32; i++) {
        const x = next();
        const s = (x & 255) + ((x >>> 8) & 255) + ((x >>> 16) & 255) + (x >>> 24) - 510;
        q[i] = q8 ? Math.round(s * k) : Math.min(15, Math.max(0, Math.floor(8.5 + s * k)));
      }
      if (q8) for (let i = 0; i < 32; i++) buf[at + 2 + i] = q[i] & 255;
      else for (let j = 0; j < 16; j++) buf[at + 2 + j] = q[j] | (q[j + 16] << 4);
    }
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a float (round to nearest even), as ggml's GGML_FP32_TO_FP16. */
export function f32ToF16Bits(v) {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // subnormal half: shift the implicit bit in
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

// ---- CLI -------------------------------------------------------------------------------------

async function cli(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      preset: { type: 'string' },
      layers: { type: 'string' },
      embd: { type: 'string' },
      ff: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      vocab: { type: 'string' },
      ctx: { type: 'string' },
      type: { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(
      'usage: node scripts/generate-model.mjs OUT.gguf [--preset bench-1g|bench-128m|test] [--layers N] [--embd N] [--ff N]\n' +
        '       [--heads N] [--kv-heads N] [--vocab N] [--ctx N] [--type Q8_0|Q4_0] [--seed N] [--name TEXT]',
    );
    return values.help ? 0 : 2;
  }
  let opts = {};
  if (values.preset) {
    if (!(values.preset in PRESETS)) throw new Error(`unknown preset ${values.preset} (${Object.keys(PRESETS).join(', ')})`);
    opts = { ...PRESETS[values.preset] };
  }
  const nums = { layers: 'layers', embd: 'embd', ff: 'ff', heads: 'heads', 'kv-heads': 'kvHeads', vocab: 'vocab', ctx: 'ctx', seed: 'seed' };
  for (const [flag, key] of Object.entries(nums)) if (values[flag] !== undefined) opts[key] = Number(values[flag]);
  if (values.type) opts.type = values.type.toUpperCase();
  if (values.name) opts.name = values.name;
  const t0 = performance.now();
  const r = await generateLlamaModel(positionals[0], opts);
  const o = r.options;
  console.log(
    `${r.path}: ${r.bytes} bytes (${(r.bytes / 2 ** 20).toFixed(1)} MiB), ${r.tensors} tensors, ${o.layers} layers, n_embd ${o.embd}, n_ff ${o.ff}, ` +
      `${o.heads}/${o.kvHeads} heads, vocab ${o.vocab}, ${o.type}, seed ${o.seed} — ${((performance.now() - t0) / 1000).toFixed(1)} s\nsha256 ${r.sha256}`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`generate-model: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
