import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { checkModel } from '../src/engine/check-model.ts';
import { LayerstreamError } from '../src/errors.ts';
import { MAX_HEADER_BYTES, readGGUF } from '../src/gguf/gguf.ts';
import type { ByteSource } from '../src/storage/byte-source.ts';
import { SHARED_URL } from './support/browser.ts';
import { openHarness, STORIES_GREEDY_START, storiesGreedyStart } from './support/engine-page.ts';
import { parseForWrite, writeGGUF, type GGUFKV } from './support/gguf-writer.ts';
import { applyCase, CaseSource, headerFields, hostileCases, setU32, u32le, u64le, type HostileCase } from './support/hostile-gguf.ts';

// Hostile files in bounded time (issue 16): every corrupted header — cut at a structural boundary,
// a count or length set to 0 / just over the limit / 2^32−1 / 2^63, a wrong value type, bad UTF-8,
// overflowing dims, removed or unknown ggml types, bad offsets or alignment, inconsistent
// hyperparameters, random byte flips — is a typed LayerstreamError with a known code, or a model
// that loads (and, in the browser, generates), each within a time bound. Most cases run in Node
// against readGGUF + checkModel (everything EngineCore.load checks before the GPU), a
// representative subset through createEngine in the page.

const shared = new URL('../../shared/', import.meta.url);
const modelBytes = (p: string) => new Uint8Array(readFileSync(new URL(`models/${p}`, shared)));
const stories = modelBytes('stories260K.gguf');
const gemma3 = modelBytes('synth-gemma3-Q4_K_M.gguf');

const KNOWN_CODES = new Set(['not_gguf', 'truncated', 'malformed', 'unsupported_architecture', 'unsupported_tensor_type', 'missing_tensor']);
/** Per case (Node); the browser's bound is in browserCases. */
const NODE_BOUND_MS = 5_000;

interface Outcome {
  name: string;
  code: string;
  message: string;
  ms: number;
}

/**
 * readGGUF + checkModel over a case. Node cannot run the kernels, so every type ggml names counts
 * as readable here (the browser cases check the kernels' list).
 */
async function nodeOutcome(source: ByteSource, name: string): Promise<Outcome> {
  const t0 = performance.now();
  try {
    checkModel(await readGGUF(source), () => true);
    return { name, code: 'ok', message: '', ms: performance.now() - t0 };
  } catch (e) {
    const typed = e instanceof LayerstreamError && KNOWN_CODES.has(e.code);
    return { name, code: typed ? e.code : 'UNTYPED', message: typed ? e.message : String((e as Error)?.stack ?? e), ms: performance.now() - t0 };
  }
}

/** Runs the cases in Node: each must be typed or ok within the bound, and match its expectation. */
async function runNode(bytes: Uint8Array, cases: HostileCase[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const bad: string[] = [];
  let slowest = { name: '', ms: 0 };
  for (const c of cases) {
    const o = await nodeOutcome(new CaseSource(bytes, c), c.name);
    counts[o.code] = (counts[o.code] ?? 0) + 1;
    if (o.ms > slowest.ms) slowest = { name: c.name, ms: o.ms };
    if (o.code === 'UNTYPED') bad.push(`${c.name}: untyped ${o.message}`);
    else if (o.ms > NODE_BOUND_MS) bad.push(`${c.name}: took ${o.ms.toFixed(0)} ms`);
    else if (c.expect && (o.code !== c.expect.code || (c.expect.message && !c.expect.message.test(o.message)))) {
      bad.push(`${c.name}: expected ${c.expect.code} ${c.expect.message ?? ''}, got ${o.code}: ${o.message}`);
    }
  }
  console.log(`${cases.length} cases: ${JSON.stringify(counts)}; slowest ${slowest.ms.toFixed(1)} ms (${slowest.name})`);
  expect(bad.slice(0, 20)).toEqual([]);
  return counts;
}

/** Evenly spaced sample of `n` items (all when there are fewer), keeping the first and last. */
function sample<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}

// ---- Node: byte edits of real headers --------------------------------------------------------------

test('stories260K: every structural corruption of the header is a typed error or a good load, fast', async () => {
  const cases = hostileCases(stories, { flips: 400, seed: 16 });
  expect(cases.length).toBeGreaterThan(2000);
  const t0 = performance.now();
  const counts = await runNode(stories, cases);
  expect(counts.ok).toBeGreaterThan(0); // e.g. flips inside token texts
  expect(counts.truncated).toBeGreaterThan(0);
  expect(counts.malformed).toBeGreaterThan(0);
  expect(performance.now() - t0).toBeLessThan(60_000);
});

test('synth-gemma3 (2026 model): a sample of every kind of corruption is a typed error or a good load, fast', async () => {
  // its header is 730 KB (a 32000-token vocabulary), so a parse costs ~10 ms: a stratified sample
  const all = hostileCases(gemma3, { flips: 150, seed: 2026 });
  const byKind = new Map<string, HostileCase[]>();
  for (const c of all) {
    const kind = c.name.replace(/[@#]?\d+.*$/, '').replace(/\[\d+\]/, '');
    byKind.set(kind, [...(byKind.get(kind) ?? []), c]);
  }
  const cases = [...byKind.values()].flatMap((xs) => sample(xs, 40));
  const counts = await runNode(gemma3, cases);
  expect(counts.malformed).toBeGreaterThan(0);
});

test('counts, lengths and offsets from the header are named with their values', async () => {
  const map = headerFields(stories);
  const f = (kind: string, owner: string) => map.fields.find((x) => x.kind === kind && x.owner === owner)!;
  const tokensLen = f('array_len', 'tokenizer.ggml.tokens').at;
  const cases: HostileCase[] = [
    { name: 'tokens array length 2^63', patches: [{ at: tokensLen, bytes: u64le(2n ** 63n) }], expect: { code: 'malformed', message: /array length of tokenizer\.ggml\.tokens .* is 9223372036854775808/ } },
    { name: 'tokens array length 2^32-1', patches: [{ at: tokensLen, bytes: u64le(2 ** 32 - 1) }], expect: { code: 'truncated', message: /array length of tokenizer\.ggml\.tokens .* is 4294967295/ } },
    { name: 'tensor count 2^32-1', patches: [{ at: f('tensor_count', 'header').at, bytes: u64le(2 ** 32 - 1) }], expect: { code: 'truncated', message: /tensor count is 4294967295/ } },
    { name: 'metadata count 2^63', patches: [{ at: f('kv_count', 'header').at, bytes: u64le(2n ** 63n) }], expect: { code: 'malformed', message: /metadata count is 9223372036854775808/ } },
    { name: 'key length 2^64-1', patches: [{ at: f('key_len', 'general.name').at, bytes: u64le(2n ** 64n - 1n) }], expect: { code: 'malformed', message: /length of metadata key #\d+ is 18446744073709551615/ } },
    { name: 'string value longer than the file', patches: [{ at: f('str_len', 'general.architecture').at, bytes: u64le(stories.length) }], expect: { code: 'truncated', message: /length of the string general\.architecture is 1185376/ } },
    { name: 'array of arrays', patches: [{ at: f('array_type', 'tokenizer.ggml.scores').at, bytes: u32le(9) }], expect: { code: 'malformed', message: /tokenizer\.ggml\.scores is an array of arrays/ } },
    { name: 'array of an unknown type', patches: [{ at: f('array_type', 'tokenizer.ggml.scores').at, bytes: u32le(13) }], expect: { code: 'malformed', message: /tokenizer\.ggml\.scores is an array of unknown value type 13/ } },
    { name: 'unknown value type', patches: [{ at: f('value_type', 'llama.block_count').at, bytes: u32le(0xffffffff) }], expect: { code: 'malformed', message: /llama\.block_count has unknown value type 4294967295/ } },
    { name: 'tensor with 5 dims', patches: [{ at: f('n_dims', 'output.weight').at, bytes: u32le(5) }], expect: { code: 'malformed', message: /output\.weight has 5 dims/ } },
    { name: 'tensor dim 0', patches: [{ at: f('dim', 'output.weight').at, bytes: u64le(0) }], expect: { code: 'malformed', message: /output\.weight has dimension ne\[0\] = 0/ } },
    { name: 'tensor offset 2^63', patches: [{ at: f('tensor_offset', 'output.weight').at, bytes: u64le(2n ** 63n) }], expect: { code: 'malformed', message: /output\.weight data offset 9223372036854775808/ } },
    { name: 'removed type Q4_0_4_4', patches: [{ at: f('tensor_type', 'output.weight').at, bytes: u32le(31) }], expect: { code: 'unsupported_tensor_type', message: /Q4_0_4_4 \(ggml type id 31, removed.*output\.weight/ } },
    { name: 'removed type Q4_2', patches: [{ at: f('tensor_type', 'output.weight').at, bytes: u32le(4) }], expect: { code: 'unsupported_tensor_type', message: /Q4_2/ } },
    { name: 'unknown type 43', patches: [{ at: f('tensor_type', 'output.weight').at, bytes: u32le(43) }], expect: { code: 'malformed', message: /output\.weight has unknown ggml type id 43/ } },
    { name: 'bad magic (GGML)', patches: [{ at: 0, bytes: [0x47, 0x47, 0x4d, 0x4c] }], expect: { code: 'not_gguf', message: /bad magic/ } },
    { name: 'version 4', patches: [{ at: 4, bytes: u32le(4) }], expect: { code: 'not_gguf', message: /version 4/ } },
    { name: 'version 1', patches: [{ at: 4, bytes: u32le(1) }], expect: { code: 'not_gguf' } },
    { name: 'cut after the magic', patches: [], cut: 6, expect: { code: 'truncated' } },
    { name: 'three bytes', patches: [], cut: 3, expect: { code: 'not_gguf' } },
    { name: 'empty file', patches: [], cut: 0, expect: { code: 'not_gguf' } },
  ];
  await runNode(stories, cases);
});

test('a header larger than MAX_HEADER_BYTES is refused without reading it', async () => {
  // a 64 GiB "file": the stories header, then nothing real; one string claims 1 GiB
  const map = headerFields(stories);
  const at = map.fields.find((x) => x.kind === 'str_len' && x.owner === 'general.name')!.at;
  const c: HostileCase = { name: 'huge string in a huge file', patches: [{ at, bytes: u64le(2 ** 30) }] };
  let read = 0;
  const src: ByteSource = {
    name: 'huge.gguf',
    size: 64 * 2 ** 30,
    async read(offset, length) {
      read += length;
      const out = new Uint8Array(length);
      out.set(applyCase(stories, c).subarray(offset, offset + length));
      return out;
    },
    async readInto(offset, dest) {
      dest.set(await this.read(offset, dest.byteLength));
    },
  };
  const o = await nodeOutcome(src, c.name);
  expect(o).toMatchObject({ code: 'malformed', message: expect.stringMatching(new RegExp(`length of the string general\\.name is 1073741824.*past ${MAX_HEADER_BYTES} bytes`)) });
  expect(read).toBeLessThanOrEqual(1 << 20);
  expect(o.ms).toBeLessThan(NODE_BOUND_MS);
});

// ---- Node: inconsistent hyperparameters (GGUF writer) --------------------------------------------------

/** stories260K rewritten with its metadata edited: `set` replaces or adds entries, `drop` removes keys. */
async function rewrite(base: Uint8Array, o: { set?: GGUFKV[]; drop?: string[]; alignment?: number; tensors?: 'none' }): Promise<Uint8Array> {
  const { metadata, tensors, alignment } = await parseForWrite(base);
  const set = new Map((o.set ?? []).map((kv) => [kv[0], kv]));
  const md = metadata.filter(([k]) => !o.drop?.includes(k)).map((kv) => set.get(kv[0]) ?? kv);
  for (const kv of o.set ?? []) if (!metadata.some(([k]) => k === kv[0])) md.push(kv);
  return writeGGUF({ metadata: md, tensors: o.tensors === 'none' ? [] : tensors, alignment: o.alignment ?? (md.some(([k]) => k === 'general.alignment') ? undefined : alignment) });
}

interface WriterCase {
  name: string;
  set?: GGUFKV[];
  drop?: string[];
  alignment?: number;
  tensors?: 'none';
  /** bytes edited after writing (alignment values writeGGUF refuses) */
  post?: (bytes: Uint8Array) => void;
  /** the file written from the parsed original some other way */
  build?: (parsed: Awaited<ReturnType<typeof parseForWrite>>) => Uint8Array;
  expect: { code: string; message?: RegExp };
}

const tokens = (n: number): string[] => Array.from({ length: n }, (_, i) => `t${i}`);

/** The writer cases: every hyperparameter the engine trusts, set to something the file cannot back. */
const WRITER_CASES: WriterCase[] = [
  { name: 'block_count 1e9', set: [['llama.block_count', 'u32', 1e9]], expect: { code: 'malformed', message: /llama\.block_count is 1000000000, but the file has tensors for 5 blocks \(blk\.0 to blk\.4\)/ } },
  { name: 'block_count 6', set: [['llama.block_count', 'u32', 6]], expect: { code: 'malformed', message: /llama\.block_count is 6/ } },
  { name: 'block_count 2^32-1', set: [['llama.block_count', 'u32', 2 ** 32 - 1]], expect: { code: 'malformed', message: /llama\.block_count is 4294967295/ } },
  { name: 'block_count 2^63 (u64)', set: [['llama.block_count', 'u64', 2n ** 63n]], expect: { code: 'malformed', message: /llama\.block_count is 9223372036854776000/ } },
  { name: 'block_count 0', set: [['llama.block_count', 'u32', 0]], expect: { code: 'malformed', message: /llama\.block_count is 0/ } },
  { name: 'block_count 4 (fewer than the file has)', set: [['llama.block_count', 'u32', 4]], expect: { code: 'ok' } },
  { name: 'block_count 5.5 (f32)', set: [['llama.block_count', 'f32', 5.5]], expect: { code: 'malformed', message: /llama\.block_count is 5\.5/ } },
  { name: 'block_count a string', set: [['llama.block_count', 'string', '5']], expect: { code: 'malformed', message: /llama\.block_count is not a number/ } },
  { name: 'block_count missing', drop: ['llama.block_count'], expect: { code: 'malformed', message: /llama\.block_count is missing/ } },
  { name: 'nextn_predict_layers = block_count', set: [['llama.nextn_predict_layers', 'u32', 5]], expect: { code: 'malformed', message: /llama\.nextn_predict_layers is 5/ } },
  { name: 'head_count 7 (does not divide 64)', set: [['llama.attention.head_count', 'u32', 7]], expect: { code: 'malformed', message: /head_count 7 does not divide llama\.embedding_length 64/ } },
  { name: 'head_count 0', set: [['llama.attention.head_count', 'u32', 0]], expect: { code: 'malformed', message: /llama\.attention\.head_count is 0/ } },
  { name: 'head_count 2^32-1', set: [['llama.attention.head_count', 'u32', 2 ** 32 - 1]], expect: { code: 'malformed', message: /head_count 4294967295 does not divide/ } },
  { name: 'head_count_kv 3', set: [['llama.attention.head_count_kv', 'u32', 3]], expect: { code: 'malformed', message: /head_count_kv 3 does not divide llama\.attention\.head_count 8/ } },
  { name: 'head_count_kv 0', set: [['llama.attention.head_count_kv', 'u32', 0]], expect: { code: 'malformed', message: /head_count_kv is 0/ } },
  { name: 'key_length 0', set: [['llama.attention.key_length', 'u32', 0]], expect: { code: 'malformed', message: /key_length is 0/ } },
  { name: 'key_length 2^32-1', set: [['llama.attention.key_length', 'u32', 2 ** 32 - 1]], expect: { code: 'malformed' } },
  { name: 'embedding_length 0', set: [['llama.embedding_length', 'u32', 0]], expect: { code: 'malformed', message: /llama\.embedding_length is 0/ } },
  { name: 'embedding_length 128 (tensors are 64 wide)', set: [['llama.embedding_length', 'u32', 128]], expect: { code: 'malformed', message: /blk\.0\.attn_norm\.weight has shape \[64\] but the hyperparameters say \[128\]/ } },
  { name: 'feed_forward_length 0', set: [['llama.feed_forward_length', 'u32', 0]], expect: { code: 'malformed', message: /ffn_gate\.weight has shape/ } },
  { name: 'context_length 0', set: [['llama.context_length', 'u32', 0]], expect: { code: 'malformed', message: /llama\.context_length is 0: a model needs a context of at least one token/ } },
  { name: 'context_length missing', drop: ['llama.context_length'], expect: { code: 'malformed', message: /llama\.context_length is missing/ } },
  { name: 'rope.dimension_count 7 (odd)', set: [['llama.rope.dimension_count', 'u32', 7]], expect: { code: 'malformed', message: /rope\.dimension_count is 7: RoPE rotates pairs/ } },
  { name: 'rope.dimension_count 1000 (wider than a head)', set: [['llama.rope.dimension_count', 'u32', 1000]], expect: { code: 'malformed', message: /rope\.dimension_count is 1000/ } },
  { name: 'rope.freq_base 0', set: [['llama.rope.freq_base', 'f32', 0]], expect: { code: 'malformed', message: /rope\.freq_base is 0/ } },
  { name: 'rms epsilon NaN', set: [['llama.attention.layer_norm_rms_epsilon', 'f32', NaN]], expect: { code: 'malformed', message: /layer_norm_rms_epsilon is NaN/ } },
  { name: 'expert_count 4 in a dense file', set: [['llama.expert_count', 'u32', 4], ['llama.expert_used_count', 'u32', 2]], expect: { code: 'missing_tensor', message: /blk\.0\.ffn_gate_inp\.weight/ } },
  { name: 'expert_used_count > expert_count', set: [['llama.expert_count', 'u32', 4], ['llama.expert_used_count', 'u32', 9]], expect: { code: 'malformed', message: /expert_used_count is 9/ } },
  { name: 'expert_count 2^32-1', set: [['llama.expert_count', 'u32', 2 ** 32 - 1], ['llama.expert_used_count', 'u32', 2]], expect: { code: 'missing_tensor' } },
  { name: 'bos id = n_vocab', set: [['tokenizer.ggml.bos_token_id', 'u32', 512]], expect: { code: 'malformed', message: /tokenizer\.ggml\.bos_token_id is 512, outside the vocabulary of 512 tokens/ } },
  { name: 'eos id 2^31', set: [['tokenizer.ggml.eos_token_id', 'u32', 2 ** 31]], expect: { code: 'malformed', message: /eos_token_id is 2147483648/ } },
  { name: 'unk id 99999', set: [['tokenizer.ggml.unknown_token_id', 'u32', 99999]], expect: { code: 'malformed', message: /unknown_token_id is 99999/ } },
  { name: 'eot id -5 (i32)', set: [['tokenizer.ggml.eot_token_id', 'i32', -5]], expect: { code: 'malformed', message: /eot_token_id is -5/ } },
  { name: 'bos id a string', set: [['tokenizer.ggml.bos_token_id', 'string', '1']], expect: { code: 'malformed', message: /bos_token_id is not a number/ } },
  { name: 'bos id 2^32-1 (none, as converters write -1)', set: [['tokenizer.ggml.bos_token_id', 'u32', 2 ** 32 - 1]], expect: { code: 'ok' } },
  { name: 'padding id = n_vocab (ignored, as llama.cpp does)', set: [['tokenizer.ggml.padding_token_id', 'u32', 512]], expect: { code: 'ok' } },
  { name: 'vocabulary one short of token_embd', set: [['tokenizer.ggml.tokens', 'array<string>', tokens(511)]], drop: ['tokenizer.ggml.scores', 'tokenizer.ggml.token_type'], expect: { code: 'malformed', message: /tokenizer\.ggml\.tokens has 511 tokens but token_embd\.weight has 512 rows/ } },
  { name: 'vocabulary one longer than token_embd', set: [['tokenizer.ggml.tokens', 'array<string>', tokens(513)]], drop: ['tokenizer.ggml.scores', 'tokenizer.ggml.token_type'], expect: { code: 'malformed', message: /513 tokens but token_embd\.weight has 512 rows/ } },
  { name: 'empty vocabulary', set: [['tokenizer.ggml.tokens', 'array<string>', []]], drop: ['tokenizer.ggml.scores', 'tokenizer.ggml.token_type'], expect: { code: 'malformed', message: /tokenizer\.ggml\.tokens missing or empty/ } },
  { name: 'scores shorter than tokens', set: [['tokenizer.ggml.scores', 'array<f32>', new Float32Array(3)]], expect: { code: 'malformed', message: /scores has 3 entries for 512 tokens/ } },
  { name: 'tokens as array<u8>', set: [['tokenizer.ggml.tokens', 'array<u8>', new Uint8Array(512)]], expect: { code: 'malformed', message: /tokenizer\.ggml\.tokens is not a string array/ } },
  { name: 'architecture a number', set: [['general.architecture', 'u32', 7]], expect: { code: 'malformed', message: /general\.architecture is not a string/ } },
  { name: 'architecture unknown', set: [['general.architecture', 'string', 'llama9']], expect: { code: 'unsupported_architecture', message: /"llama9"/ } },
  { name: 'tokenizer model unknown', set: [['tokenizer.ggml.model', 'string', 'bogus']], expect: { code: 'malformed', message: /unknown tokenizer\.ggml\.model 'bogus'/ } },
  { name: 'no tensors at all', tensors: 'none', expect: { code: 'malformed', message: /llama\.block_count is 5, but the file has tensors for no blocks/ } },
  { name: 'alignment 64', set: [['general.alignment', 'u32', 64]], expect: { code: 'ok' } },
  { name: 'alignment 0', set: [['general.alignment', 'u32', 32]], post: (b) => patchAlignment(b, 0), expect: { code: 'malformed', message: /general\.alignment 0 is not a power of two/ } },
  { name: 'alignment 3', set: [['general.alignment', 'u32', 32]], post: (b) => patchAlignment(b, 3), expect: { code: 'malformed', message: /general\.alignment 3 is not a power of two/ } },
  { name: 'alignment 48', set: [['general.alignment', 'u32', 32]], post: (b) => patchAlignment(b, 48), expect: { code: 'malformed', message: /general\.alignment 48/ } },
  { name: 'alignment 2^31', set: [['general.alignment', 'u32', 32]], post: (b) => patchAlignment(b, 2 ** 31), expect: { code: 'truncated' } },
  { name: 'alignment 2^32-1', set: [['general.alignment', 'u32', 32]], post: (b) => patchAlignment(b, 2 ** 32 - 1), expect: { code: 'malformed', message: /general\.alignment 4294967295/ } },
  { name: 'alignment 16 (tensors written 32-aligned still fit)', set: [['general.alignment', 'u32', 32]], post: (b) => patchAlignment(b, 16), expect: { code: 'ok' } },
  { name: 'alignment a string', set: [['general.alignment', 'u32', 32]], post: (b) => retypeAlignment(b), expect: { code: 'truncated', message: /length of the string general\.alignment is \d+/ } },
  { name: 'duplicate metadata key', build: (p) => writeGGUF({ metadata: [...p.metadata, ['general.name', 'string', 'again']], tensors: p.tensors }), expect: { code: 'malformed', message: /duplicate metadata key general\.name/ } },
  { name: 'duplicate tensor name', build: (p) => writeGGUF({ metadata: p.metadata, tensors: p.tensors.map((t) => (t.name === 'output.weight' ? { ...t, name: 'output_norm.weight' } : t)) }), expect: { code: 'malformed', message: /duplicate tensor name output_norm\.weight/ } },
];

function patchAlignment(b: Uint8Array, v: number): void {
  const f = headerFields(b).fields.find((x) => x.owner === 'general.alignment' && x.kind === 'value')!;
  new DataView(b.buffer, b.byteOffset).setUint32(f.at, v, true);
}
/** general.alignment (u32 32) → a 4-byte string "32\0\0" would need a length: make it a u32 of value type string instead. */
function retypeAlignment(b: Uint8Array): void {
  const f = headerFields(b).fields.find((x) => x.owner === 'general.alignment' && x.kind === 'value_type')!;
  new DataView(b.buffer, b.byteOffset).setUint32(f.at, 8, true); // now "string" whose length is the next 8 bytes
}
test('inconsistent hyperparameters are named with their key and value (writer)', async () => {
  const bad: string[] = [];
  for (const c of WRITER_CASES) {
    const bytes = c.build ? c.build(await parseForWrite(stories)) : await rewrite(stories, c);
    c.post?.(bytes);
    const o = await nodeOutcome(new CaseSource(bytes, { name: c.name, patches: [] }), c.name);
    if (o.code !== c.expect.code || (c.expect.message && !c.expect.message.test(o.message)) || o.ms > NODE_BOUND_MS) {
      bad.push(`${c.name}: expected ${c.expect.code} ${c.expect.message ?? ''}, got ${o.code}: ${o.message} (${o.ms.toFixed(0)} ms)`);
    }
  }
  expect(bad).toEqual([]);
});

test('synth-gemma3: inconsistent hyperparameters are named', async () => {
  const map = headerFields(gemma3);
  const cases: HostileCase[] = [
    { name: 'block_count 1e9', patches: [setU32(map, 'gemma3.block_count', 1e9)], expect: { code: 'malformed', message: /gemma3\.block_count is 1000000000, but the file has tensors for 7 blocks/ } },
    { name: 'head_count 3', patches: [setU32(map, 'gemma3.attention.head_count', 3)], expect: { code: 'malformed', message: /head_count/ } },
    { name: 'key_length 0', patches: [setU32(map, 'gemma3.attention.key_length', 0)], expect: { code: 'malformed', message: /gemma3\.attention\.key_length is 0/ } },
    { name: 'context_length 0', patches: [setU32(map, 'gemma3.context_length', 0)], expect: { code: 'malformed', message: /gemma3\.context_length is 0/ } },
    { name: 'bos id 32000', patches: [setU32(map, 'tokenizer.ggml.bos_token_id', 32000)], expect: { code: 'malformed', message: /bos_token_id is 32000, outside the vocabulary of 32000 tokens/ } },
    { name: 'embedding_length 255', patches: [setU32(map, 'gemma3.embedding_length', 255)], expect: { code: 'malformed', message: /head_count 4 does not divide gemma3\.embedding_length 255|has shape/ } },
    { name: 'sliding_window 2^32-1', patches: [setU32(map, 'gemma3.attention.sliding_window', 2 ** 32 - 1)], expect: { code: 'ok' } },
  ];
  await runNode(gemma3, cases);
});

// ---- browser: a representative subset through createEngine ---------------------------------------------

interface PageCase {
  name: string;
  /** base64 of the whole file (writer cases), else the base model with patches / cut */
  b64?: string;
  patches?: { at: number; bytes: number[] }[];
  cut?: number;
  expect?: string;
}

interface PageOutcome {
  name: string;
  code: string;
  message?: string;
  typed?: boolean;
  stage?: string;
  tokens?: number[];
  ms: number;
}

/**
 * createEngine over each case in the page, one after another, racing a `boundMs` timer; a model
 * that loads generates 3 tokens. Page errors and crashes are collected by the caller.
 */
async function browserCases(page: Page, base: string, cases: PageCase[], boundMs = 10_000): Promise<PageOutcome[]> {
  return page.evaluate(async ({ base, cases, boundMs }) => {
    const { createEngine, LayerstreamError } = (window as any).ls;
    const orig = new Uint8Array(await (await fetch(base)).arrayBuffer());
    const out: PageOutcome[] = [];
    for (const c of cases) {
      let bytes: Uint8Array;
      if (c.b64) bytes = Uint8Array.from(atob(c.b64), (ch) => ch.charCodeAt(0));
      else {
        bytes = orig.slice(0, c.cut ?? orig.length);
        for (const p of c.patches ?? []) for (let i = 0; i < p.bytes.length; i++) if (p.at + i < bytes.length) bytes[p.at + i] = p.bytes[i];
      }
      const t0 = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), boundMs)));
      const attempt = (async () => {
        let stage = 'load';
        try {
          const e = await createEngine({ model: new Blob([bytes as Uint8Array<ArrayBuffer>]), contextLength: 64 });
          try {
            stage = 'generate';
            const tokens: number[] = [];
            for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 3, temperature: 0 })) tokens.push(t.token);
            return { code: 'ok', tokens };
          } finally {
            await e.dispose();
          }
        } catch (e: any) {
          return { code: String(e?.code ?? 'UNTYPED'), message: String(e?.message ?? e), typed: e instanceof LayerstreamError, stage };
        }
      })();
      const r = await Promise.race([attempt, timeout]);
      clearTimeout(timer);
      out.push({ name: c.name, ms: performance.now() - t0, ...(r === 'timeout' ? { code: 'timeout' } : r) });
    }
    return out;
  }, { base, cases, boundMs });
}

function checkBrowser(outcomes: PageOutcome[], cases: PageCase[], errors: string[]): void {
  console.log(outcomes.map((o) => `${o.name}: ${o.code}${o.stage ? ` at ${o.stage}` : ''} (${o.ms.toFixed(0)} ms)${o.message ? ` ${o.message.slice(0, 120)}` : ''}`).join('\n'));
  const bad: string[] = [...errors];
  outcomes.forEach((o, i) => {
    if (o.code === 'ok') {
      if (!(o.tokens && o.tokens.length > 0)) bad.push(`${o.name}: loaded but generated nothing`);
    } else if (!o.typed || !KNOWN_CODES.has(o.code) && !(o.stage === 'generate' && o.typed)) bad.push(`${o.name}: ${o.code} (typed ${o.typed}) ${o.message}`);
    if (cases[i].expect && cases[i].expect !== o.code) bad.push(`${o.name}: expected ${cases[i].expect}, got ${o.code} ${o.message ?? ''}`);
  });
  expect(bad).toEqual([]);
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Watches the page for uncaught errors and crashes while a test runs. */
function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('crash', () => errors.push('page crashed'));
  return errors;
}

test.describe('through createEngine', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('stories260K: hostile headers are typed errors or load and generate, each within 10 s; then a good model runs', async ({ page }) => {
    const errors = watch(page);
    const map = headerFields(stories);
    const f = (kind: string, owner: string) => map.fields.find((x) => x.kind === kind && x.owner === owner)!;
    const writer = async (name: string, set: GGUFKV[], expect: string): Promise<PageCase> => ({ name, b64: b64(await rewrite(stories, { set })), expect });
    const aligned0 = await rewrite(stories, { set: [['general.alignment', 'u32', 32]] });
    patchAlignment(aligned0, 0);
    const flips = hostileCases(stories, { flips: 400, seed: 16 }).filter((c) => c.name.startsWith('random flips')).slice(0, 4);
    const cases: PageCase[] = [
      await writer('block_count 1e9', [['llama.block_count', 'u32', 1e9]], 'malformed'),
      await writer('bos id = n_vocab', [['tokenizer.ggml.bos_token_id', 'u32', 512]], 'malformed'),
      await writer('context_length 0', [['llama.context_length', 'u32', 0]], 'malformed'),
      await writer('head_count 7', [['llama.attention.head_count', 'u32', 7]], 'malformed'),
      await writer('padding id = n_vocab (ignored)', [['tokenizer.ggml.padding_token_id', 'u32', 512]], 'ok'),
      { name: 'alignment 0', b64: b64(aligned0), expect: 'malformed' },
      { name: 'removed type Q4_0_4_4', patches: [{ at: f('tensor_type', 'output.weight').at, bytes: u32le(31) }], expect: 'unsupported_tensor_type' },
      { name: 'unknown type 43', patches: [{ at: f('tensor_type', 'output.weight').at, bytes: u32le(43) }], expect: 'malformed' },
      { name: 'type I32 (no kernel)', patches: [{ at: f('tensor_type', 'blk.1.ffn_up.weight').at, bytes: u32le(26) }], expect: 'unsupported_tensor_type' },
      { name: 'tokens length 2^63', patches: [{ at: f('array_len', 'tokenizer.ggml.tokens').at, bytes: u64le(2n ** 63n) }], expect: 'malformed' },
      { name: 'tensor count 2^32-1', patches: [{ at: f('tensor_count', 'header').at, bytes: u64le(2 ** 32 - 1) }], expect: 'truncated' },
      { name: 'tensors overlap', patches: [{ at: f('tensor_offset', 'output.weight').at, bytes: u64le(0) }], expect: 'malformed' },
      { name: 'cut inside the tensor infos', cut: f('tensor_type', 'output.weight').at, expect: 'truncated' },
      { name: 'bad UTF-8 in a token', patches: [{ at: map.fields.find((x) => x.kind === 'str' && x.owner === 'tokenizer.ggml.tokens' && x.elem === 1)!.at, bytes: [0xff] }], expect: 'ok' },
      ...flips.map((c) => ({ name: c.name, patches: c.patches })),
    ];
    checkBrowser(await browserCases(page, `${SHARED_URL}/models/stories260K.gguf`, cases), cases, errors);
    // afterwards the page loads and runs a good model
    expect(await storiesGreedyStart(page)).toEqual(STORIES_GREEDY_START);
  });

  test('synth-gemma3: hostile headers are typed errors or load and generate, each within 10 s', async ({ page }) => {
    const errors = watch(page);
    const map = headerFields(gemma3);
    const f = (kind: string, owner: string, elem?: number) => map.fields.find((x) => x.kind === kind && x.owner === owner && (elem === undefined || x.elem === elem))!;
    const t = 'token_embd.weight';
    const flips = hostileCases(gemma3, { flips: 150, seed: 2026 }).filter((c) => c.name.startsWith('random flips')).slice(0, 3);
    const cases: PageCase[] = [
      { name: 'block_count 1e9', patches: [setU32(map, 'gemma3.block_count', 1e9)], expect: 'malformed' },
      { name: 'bos id 32000', patches: [setU32(map, 'tokenizer.ggml.bos_token_id', 32000)], expect: 'malformed' },
      { name: 'context_length 0', patches: [setU32(map, 'gemma3.context_length', 0)], expect: 'malformed' },
      { name: 'key_length 7', patches: [setU32(map, 'gemma3.attention.key_length', 7)], expect: 'malformed' }, // odd head width
      { name: `dims of ${t} overflow`, patches: [{ at: f('dim', t, 0).at, bytes: u64le(2 ** 32) }, { at: f('dim', t, 1).at, bytes: u64le(2 ** 32) }], expect: 'malformed' },
      { name: `offset of ${t} past the end`, patches: [{ at: f('tensor_offset', t).at, bytes: u64le(gemma3.length) }], expect: 'truncated' },
      { name: 'cut just before the data', cut: map.headerEnd - 3, expect: 'truncated' },
      { name: 'bad UTF-8 in a token', patches: [{ at: f('str', 'tokenizer.ggml.tokens', 1).at, bytes: [0xc0, 0x80] }], expect: 'ok' },
      ...flips.map((c) => ({ name: c.name, patches: c.patches })),
    ];
    checkBrowser(await browserCases(page, `${SHARED_URL}/models/synth-gemma3-Q4_K_M.gguf`, cases), cases, errors);
  });
});
