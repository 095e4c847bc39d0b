import { test, expect } from '@playwright/test';
import Ajv from 'ajv';
import { parseAssistantOutput } from '../src/chat/parse-output.ts';
import { toolCallGrammar, type ToolFormat } from '../src/chat/tool-format.ts';
import type { ChatTool } from '../src/chat/tools.ts';
import { grammarVocab } from '../src/grammar/vocab.ts';
import type { GGUFTokenizer } from '../src/tokenizer/index.ts';
import type { XGrammarConstraint } from '../src/grammar/constraint.ts';
import { nodeCompiler, sharedTokenizer } from './support/grammar-node.ts';

// The grammar machinery (src/grammar/, @mlc-ai/web-xgrammar) on the shared models' real
// vocabularies — SentencePiece with byte fallback (stories260K, llama-2's 32000) and byte-level BPE
// (gpt-2's 50257) — driven here in Node by a "model" that picks uniformly among the allowed tokens:
// whatever it picks, the text must be valid for the schema / grammar when only stop tokens remain.

const VOCABS = ['models/stories260K.gguf', 'models/synth-llama-Q8_0.gguf', 'models/synth-qwen3-Q4_K_M.gguf'];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const allowed = (mask: Uint32Array, id: number) => ((mask[id >>> 5] >>> (id & 31)) & 1) === 1;

/** Walks `c` with random allowed tokens until only stop tokens are allowed (or `max` tokens); returns the text. */
async function walk(tok: GGUFTokenizer, c: XGrammarConstraint, seed: number, max = 400): Promise<{ text: string; complete: boolean; tokens: number }> {
  const r = rng(seed);
  const bytes: number[] = [];
  for (let i = 0; i < max; i++) {
    await c.prepare();
    const mask = c.nextMask();
    const ok: number[] = [];
    let stop = false;
    for (let id = 0; id < tok.nVocab; id++) if (allowed(mask, id)) (tok.eogIds.has(id) ? (stop = true) : ok.push(id));
    // stop when allowed: what a model does at the end of a value, half of the time mid-way when a value may end here
    if (stop && (!ok.length || r() < 0.5)) return { text: new TextDecoder().decode(new Uint8Array(bytes)), complete: true, tokens: i };
    expect(ok.length, 'a state with nothing allowed').toBeGreaterThan(0);
    const t = ok[Math.floor(r() * ok.length)];
    expect(c.accept(t)).toBe(true);
    bytes.push(...tok.tokenBytes(t));
  }
  return { text: new TextDecoder().decode(new Uint8Array(bytes)), complete: false, tokens: max };
}

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 8 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    member: { type: 'boolean' },
    color: { enum: ['red', 'green', 'blue'] },
    tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 3 },
    score: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: -5, maximum: 5 }] },
  },
  required: ['name', 'age', 'member', 'color', 'tags', 'score'],
  additionalProperties: false,
};

test('the vocabulary handed to xgrammar: output bytes in the byte-level alphabet, control tokens empty, eog as stop ids', async () => {
  const spm = await sharedTokenizer('models/stories260K.gguf');
  const v = grammarVocab(spm);
  expect(v.encoded.length).toBe(512);
  expect(v.encoded[spm.bosId!]).toBe('');
  expect(v.stopIds).toEqual([...spm.eogIds].sort((a, b) => a - b));
  const space = spm.tokenize('the', { addSpecial: false }); // the space prefix makes it ▁the
  expect(space.length).toBe(1);
  expect(v.encoded[space[0]]).toBe('Ġthe'); // ▁the → " the" → GPT-2 alphabet
  const bpe = await sharedTokenizer('models/synth-qwen3-Q4_K_M.gguf');
  const w = grammarVocab(bpe);
  const [hello] = bpe.tokenize(' Hello', { addSpecial: false });
  expect(w.encoded[hello]).toBe('ĠHello');
  expect(w.encoded.length).toBe(50257);
});

for (const file of VOCABS) {
  test(`${file}: json_schema output always parses and validates (24 seeds)`, async () => {
    const tok = await sharedTokenizer(file);
    const gc = nodeCompiler(tok);
    const validate = new Ajv().compile(SCHEMA);
    for (let seed = 1; seed <= 24; seed++) {
      const c = await gc.constraint({ type: 'json_schema', schema: SCHEMA, strict: true });
      const out = await walk(tok, c, seed);
      c.dispose();
      expect(out.complete, out.text).toBe(true);
      const v = JSON.parse(out.text);
      expect(validate(v), `${out.text} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
}

test('json_object and a GBNF grammar', async () => {
  const tok = await sharedTokenizer('models/synth-qwen3-Q4_K_M.gguf');
  const gc = nodeCompiler(tok);
  for (let seed = 1; seed <= 8; seed++) {
    const c = await gc.constraint({ type: 'json_object' });
    const out = await walk(tok, c, seed, 600);
    if (out.complete) expect(typeof JSON.parse(out.text)).toBe('object');
    else expect(() => JSON.parse(out.text)).toThrow(); // cut off: not yet a value
  }
  // GBNF as llama.cpp writes it (grammars/ style: rules, alternation, classes, repetition)
  const gbnf = 'root ::= "answer: " ("yes" | "no") " (" [0-9]{1,3} "%)"\n';
  for (let seed = 1; seed <= 12; seed++) {
    const out = await walk(tok, await gc.constraint({ type: 'grammar', grammar: gbnf }), seed);
    expect(out.text).toMatch(/^answer: (yes|no) \([0-9]{1,3}%\)$/);
  }
});

test('bad specs are refused with invalid_request naming the problem, and the compiler keeps working', async () => {
  const tok = await sharedTokenizer('models/stories260K.gguf');
  const gc = nodeCompiler(tok);
  const err = async (spec: unknown) => {
    try {
      await gc.constraint(spec as never);
      return 'no error';
    } catch (e: any) {
      return `${e.code}: ${e.message}`;
    }
  };
  expect(await err({ type: 'grammar', grammar: 'root ::= foo' })).toBe('invalid_request: Invalid grammar: EBNF parser error at line 1, column 10: Rule "foo" is not defined');
  expect(await err({ type: 'json_schema', schema: { type: 5 } })).toBe('invalid_request: Invalid JSON schema: #/type: unknown type 5');
  expect(await err({ type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string', pattern: '^x' } } } })).toBe('invalid_request: Invalid JSON schema: #/properties/a: the keyword "pattern" is not supported');
  expect(await err({ type: 'json_schema', schema: { type: 'integer', minimum: 3, maximum: 1 } })).toBe('invalid_request: Invalid JSON schema: #: no integer lies in [3, 1]');
  expect(await err({ type: 'regex' })).toMatch(/^invalid_request: Invalid grammar: unknown type "regex"/);
  expect(await err({ type: 'grammar', grammar: '' })).toMatch(/non-empty GBNF/);
  expect(await err({ type: 'grammar', grammar: 'root ::= "a"' + ' | "a"'.repeat(50_000) })).toMatch(/more than the 262144 accepted/);
  // an abort of the WASM instance on every bad grammar: a fresh instance each time, many times over
  for (let i = 0; i < 40; i++) expect(await err({ type: 'grammar', grammar: `root ::= r${i}` })).toMatch(/is not defined/);
  const out = await walk(tok, await gc.constraint({ type: 'grammar', grammar: 'root ::= "ok"' }), 1);
  expect(out).toMatchObject({ text: 'ok', complete: true });
});

const TOOLS: ChatTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 6 }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['city', 'unit'], additionalProperties: false } } },
  { type: 'function', function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'integer', minimum: 0, maximum: 99 }, b: { type: 'integer', minimum: 0, maximum: 99 } }, required: ['a', 'b'], additionalProperties: false } } },
];

for (const format of ['hermes', 'llama3', 'mistral', 'mistral-v11', 'harmony', 'generic'] as ToolFormat[]) {
  test(`${format}: a forced tool call parses, names a tool and its arguments validate`, async () => {
    const tok = await sharedTokenizer('models/synth-qwen3-Q4_K_M.gguf');
    const gc = nodeCompiler(tok);
    const ajv = new Ajv();
    const validators = Object.fromEntries(TOOLS.map((t) => [t.function.name, ajv.compile(t.function.parameters!)]));
    const cases: [Parameters<typeof toolCallGrammar>[2], boolean][] = [['required', false], ['required', true], [{ type: 'function', function: { name: 'add' } }, false]];
    for (const [choice, parallel] of cases) {
      const format_ = toolCallGrammar(format, TOOLS, choice, parallel)!;
      for (let seed = 1; seed <= 6; seed++) {
        const out = await walk(tok, await gc.constraint({ type: 'grammar', grammar: format_ }), seed);
        expect(out.complete, out.text).toBe(true);
        const p = parseAssistantOutput(out.text, { format, tools: true });
        expect(p.calls.length, out.text).toBeGreaterThan(0);
        if (!parallel) expect(p.calls.length).toBe(1);
        for (const call of p.calls) {
          if (typeof choice === 'object') expect(call.name).toBe('add');
          expect(validators[call.name], call.name).toBeDefined();
          expect(validators[call.name](JSON.parse(call.arguments)), `${out.text}`).toBe(true);
        }
      }
    }
  });
}
