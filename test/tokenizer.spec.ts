import { test, expect } from '@playwright/test';
import { readFileSync, readdirSync } from 'node:fs';
import { readGGUF, Metadata } from '../src/gguf/gguf.ts';
import type { GGUFValue } from '../src/gguf/gguf.ts';
import { MemorySource } from '../src/storage/byte-source.ts';
import { LayerstreamError } from '../src/errors.ts';
import { createTokenizer, type GGUFTokenizer } from '../src/tokenizer/index.ts';

const shared = new URL('../../shared/', import.meta.url);
const read = (p: string) => new Uint8Array(readFileSync(new URL(p, shared)));
const metadataOf = async (p: string) => (await readGGUF(new MemorySource(read(p), p))).metadata;
const tokenizerOf = async (p: string) => createTokenizer(new Metadata(await metadataOf(p)));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Test strings of a llama.cpp vocab test: cases separated by "\n__ggml_vocab_test__\n", one expected id line each. */
function vocabCases(vocab: string): { text: string; ids: number[] }[] {
  const inp = readFileSync(new URL(`tokenizer/ggml-vocab-${vocab}.gguf.inp`, shared), 'utf8').split('\n__ggml_vocab_test__\n');
  expect(inp.pop()).toBe(''); // the file ends with the separator
  const out = readFileSync(new URL(`tokenizer/ggml-vocab-${vocab}.gguf.out`, shared), 'utf8').split('\n');
  expect(out.length).toBeGreaterThanOrEqual(inp.length);
  return inp.map((text, i) => ({ text, ids: out[i].trim() === '' ? [] : out[i].trim().split(/\s+/).map(Number) }));
}

const VOCABS: { name: string; model: string; lossless: boolean }[] = [
  { name: 'llama-spm', model: 'llama', lossless: true },
  { name: 'phi-3', model: 'llama', lossless: true },
  { name: 'gpt-2', model: 'gpt2', lossless: true },
  { name: 'deepseek-coder', model: 'gpt2', lossless: true },
  { name: 'bert-bge', model: 'bert', lossless: false },
];

for (const v of VOCABS) {
  test(`${v.name}: every llama.cpp test string tokenizes exactly`, async () => {
    const tok = await tokenizerOf(`tokenizer/ggml-vocab-${v.name}.gguf`);
    expect(tok.model).toBe(v.model);
    const cases = vocabCases(v.name);
    expect(cases.length).toBe(46);
    let passed = 0;
    for (const [i, c] of cases.entries()) {
      expect(tok.tokenize(c.text, { addSpecial: false, parseSpecial: false }), `case ${i}: ${JSON.stringify(c.text)}`).toEqual(c.ids);
      passed++;
    }
    expect(passed).toBe(cases.length);
    if (v.lossless) {
      for (const [i, c] of cases.entries()) expect(tok.detokenize(c.ids), `detokenize case ${i}`).toBe(c.text);
    }
  });
}

/** Reference files with a prompt and llama.cpp's tokens, and the model file each belongs to. */
function references(): { file: string; model: string }[] {
  const dir = new URL('reference/', shared);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.llamacpp.json') || f === 'synth-qwen3-Q4_K_M.f64.json')
    .map((file) => ({ file, model: file.replace(/\.(llamacpp|f64)\.json$/, '').replace(/\.park$/, '') }));
}

test('every reference prompt tokenizes to llama.cpp prompt_tokens (BOS included) and decodes back', async () => {
  const refs = references();
  expect(refs.length, 'the first set (12) and the 2026 set (11)').toBe(23);
  for (const { file, model } of refs) {
    const ref = JSON.parse(readFileSync(new URL(`reference/${file}`, shared), 'utf8')) as {
      prompt: string;
      prompt_tokens: number[];
      greedy_tokens: number[];
      greedy_text?: string;
    };
    const tok = await tokenizerOf(`models/${model}.gguf`);
    expect(tok.tokenize(ref.prompt, { addSpecial: true }), file).toEqual(ref.prompt_tokens);
    expect(tok.detokenize(ref.prompt_tokens), file).toBe(ref.prompt);
    if (ref.greedy_text !== undefined) {
      // streaming: llama.cpp's greedy_text is the concatenation of llama_token_to_piece
      const dec = new TextDecoder();
      let text = '';
      for (const id of ref.greedy_tokens) text += dec.decode(tok.tokenBytes(id), { stream: true });
      text += dec.decode();
      expect(text, file).toBe(ref.greedy_text);
    }
  }
});

test('special ids, add_bos / add_eos and end-of-generation sets follow llama.cpp', async () => {
  const spm = await tokenizerOf('tokenizer/ggml-vocab-llama-spm.gguf');
  expect([spm.nVocab, spm.bosId, spm.eosId, spm.addBos, spm.addEos]).toEqual([32000, 1, 2, true, false]);
  expect([...spm.eogIds]).toEqual([2]);
  expect(spm.tokenize('Hello world')).toEqual([1, 15043, 3186]);
  expect(spm.tokenize('')).toEqual([1]);
  expect(spm.tokenize('', { addSpecial: false })).toEqual([]);
  expect(spm.tokenBytes(1).length).toBe(0); // control
  expect(Array.from(spm.tokenBytes(13))).toEqual([0x0a]); // <0x0A>
  expect(new TextDecoder().decode(spm.tokenBytes(15043))).toBe(' Hello');

  const phi3 = await tokenizerOf('tokenizer/ggml-vocab-phi-3.gguf');
  expect([...phi3.eogIds].sort((a, b) => a - b)).toEqual([32000, 32007]); // <|endoftext|>, <|end|>

  const gpt2 = await tokenizerOf('tokenizer/ggml-vocab-gpt-2.gguf');
  expect([gpt2.bosId, gpt2.eosId, gpt2.addBos, gpt2.addEos]).toEqual([50256, 50256, false, false]);
  expect([...gpt2.eogIds]).toEqual([50256]);
  expect(gpt2.tokenize('Hello world')).toEqual([15496, 995]);
  expect(new TextDecoder().decode(gpt2.tokenBytes(18435))).toBe(' Hello');

  const bert = await tokenizerOf('tokenizer/ggml-vocab-bert-bge.gguf');
  expect([bert.bosId, bert.eosId, bert.addBos, bert.addEos]).toEqual([101, 102, true, true]);
  expect(bert.tokenize('Hello world')).toEqual([101, 7592, 2088, 102]); // [CLS] hello world [SEP]
  expect(bert.tokenize('Hello world', { addSpecial: false })).toEqual([7592, 2088]);
});

test('parseSpecial: special-token text becomes one id only when asked', async () => {
  const gpt2 = await tokenizerOf('tokenizer/ggml-vocab-gpt-2.gguf');
  const text = 'Hello<|endoftext|> world';
  const parsed = gpt2.tokenize(text, { addSpecial: false, parseSpecial: true });
  expect(parsed).toEqual([15496, 50256, 995]);
  const plain = gpt2.tokenize(text, { addSpecial: false });
  expect(plain).not.toContain(50256);
  expect(plain.length).toBeGreaterThan(3);
  expect(gpt2.detokenize(plain)).toBe(text);
  expect(gpt2.detokenize(parsed)).toBe('Hello world'); // control tokens print nothing

  const phi3 = await tokenizerOf('tokenizer/ggml-vocab-phi-3.gguf');
  const prompt = '<|user|>\nHi<|end|>\n<|assistant|>';
  const ids = phi3.tokenize(prompt, { addSpecial: true, parseSpecial: true });
  expect(ids[0]).toBe(1);
  expect(ids).toContain(32010); // <|user|>
  expect(ids).toContain(32007); // <|end|>
  expect(ids[ids.length - 1]).toBe(32001); // <|assistant|>
  // phi-3 special tokens strip the whitespace after them (RSTRIP), and text after a special token gets a ▁ prefix
  expect(ids.slice(1)).toEqual([32010, ...phi3.tokenize('Hi', { addSpecial: false }), 32007, 32001]);
  expect(phi3.tokenize(prompt, { addSpecial: true })).not.toContain(32010);
});

test('a gpt2 vocabulary without merges is a typed malformed error', async () => {
  const md = new Map<string, GGUFValue>(await metadataOf('tokenizer/ggml-vocab-gpt-2.gguf'));
  md.delete('tokenizer.ggml.merges');
  const err = thrown(() => createTokenizer(new Metadata(md)));
  expect(err).toBeInstanceOf(LayerstreamError);
  expect(err).toMatchObject({ code: 'malformed', message: /tokenizer\.ggml\.merges/ });

  const noTokens = new Map<string, GGUFValue>(await metadataOf('tokenizer/ggml-vocab-llama-spm.gguf'));
  noTokens.delete('tokenizer.ggml.tokens');
  expect(thrown(() => createTokenizer(new Metadata(noTokens)))).toMatchObject({ code: 'malformed', message: /tokenizer\.ggml\.tokens/ });
  const t5 = new Map<string, GGUFValue>(noTokens);
  t5.set('tokenizer.ggml.model', 't5');
  expect(thrown(() => createTokenizer(new Metadata(t5)))).toMatchObject({ code: 'unsupported_architecture' });
});

test('every llama.cpp pre-tokenizer name works and stays lossless; unknown names fall back to default', async () => {
  const base = await metadataOf('tokenizer/ggml-vocab-gpt-2.gguf');
  const text = vocabCases('gpt-2').map((c) => c.text).join('\n');
  const withPre = (pre: string, drop?: string) => {
    const md = new Map<string, GGUFValue>(base);
    md.set('tokenizer.ggml.pre', pre);
    if (drop) md.delete(drop);
    return createTokenizer(new Metadata(md));
  };
  const names = [
    'default', 'llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'deepseek-llm', 'deepseek-coder', 'deepseek-v3', 'falcon', 'mpt',
    'starcoder', 'gpt-2', 'phi-2', 'refact', 'command-r', 'qwen2', 'stablelm2', 'olmo', 'dbrx', 'smaug-bpe', 'poro-chat',
    'chatglm-bpe', 'viking', 'jais', 'tekken', 'smollm', 'codeshell', 'bloom', 'gpt3-finnish', 'exaone', 'chameleon',
    'minerva-7b', 'megrez',
  ];
  for (const pre of names) {
    const tok = withPre(pre);
    expect(tok.detokenize(tok.tokenize(text, { addSpecial: false })), pre).toBe(text);
  }
  expect(withPre('llama-bpe').addBos).toBe(true); // llama3 pre-tokenizers add BOS
  // without a bos_token_id key: llama.cpp's gpt2 default id 11, none for chatglm-bpe
  expect(withPre('gpt-2', 'tokenizer.ggml.bos_token_id').bosId).toBe(11);
  expect(withPre('chatglm-bpe', 'tokenizer.ggml.bos_token_id').bosId).toBeUndefined();
  // llama3 splits digits in threes, gpt-2 keeps the run
  expect(withPre('llama3').tokenize('1234567', { addSpecial: false }).length).toBe(3);
  const warn = console.warn;
  console.warn = () => {};
  try {
    expect(withPre('no-such-pre').tokenize(text, { addSpecial: false })).toEqual(withPre('default').tokenize(text, { addSpecial: false }));
  } finally {
    console.warn = warn;
  }
});

test('a 150k vocabulary builds and 10k characters tokenize quickly', async () => {
  const base = await metadataOf('tokenizer/ggml-vocab-gpt-2.gguf');
  const md = new Map<string, GGUFValue>(base);
  const tokens = base.get('tokenizer.ggml.tokens') as string[];
  const merges = base.get('tokenizer.ggml.merges') as string[];
  // three disjoint copies: 150,771 tokens and 150,000 merges
  md.set('tokenizer.ggml.tokens', [...tokens, ...tokens.map((t) => t + '\u0120X'), ...tokens.map((t) => t + '\u0120Y')]);
  md.set('tokenizer.ggml.merges', [...merges, ...merges.map((m) => m + '\u0120X'), ...merges.map((m) => m + '\u0120Y')]);
  md.set('tokenizer.ggml.token_type', new Int32Array(tokens.length * 3).fill(1));
  md.set('tokenizer.ggml.pre', 'qwen2');
  let t0 = performance.now();
  const big: GGUFTokenizer = createTokenizer(new Metadata(md));
  const buildMs = performance.now() - t0;
  expect(big.nVocab).toBe(150771);
  // generous bounds (shared CI machines): these catch quadratic behaviour, not small regressions
  expect(buildMs).toBeLessThan(2000);

  const text = vocabCases('gpt-2').map((c) => c.text).join(' ').repeat(10).slice(0, 10000);
  for (const tok of [big, await tokenizerOf('tokenizer/ggml-vocab-llama-spm.gguf'), await tokenizerOf('tokenizer/ggml-vocab-bert-bge.gguf')]) {
    tok.tokenize(text); // warm-up
    t0 = performance.now();
    const ids = tok.tokenize(text);
    expect(ids.length).toBeGreaterThan(1000);
    expect(performance.now() - t0).toBeLessThan(500);
  }
});
