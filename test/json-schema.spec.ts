import { test, expect } from '@playwright/test';
import { createRequire } from 'node:module';
import { instantiateXGrammar } from '../src/grammar/xgrammar.ts';
import { integerRange, schemaToGbnf, SchemaError } from '../src/grammar/json-schema.ts';
import { XGRAMMAR_SOURCE } from './support/grammar-node.ts';

// src/grammar/json-schema.ts (JSON Schema → GBNF) checked string by string with xgrammar's own
// matcher (Testings.isGrammarAcceptString: no vocabulary, so fast): what each keyword lets through
// and what it refuses. The token-level walks on real vocabularies are in grammar.spec.ts.

const require = createRequire(import.meta.url);
const x = instantiateXGrammar(XGRAMMAR_SOURCE, require);

async function acceptor(gbnf: string): Promise<(s: string) => Promise<boolean>> {
  const g = await x.lib.Grammar.fromEBNF(gbnf, 'root');
  return (s: string) => x.lib.Testings.isGrammarAcceptString(g, s);
}
const schema = (s: object, strict = true) => acceptor(schemaToGbnf(s as never, { strict }));

test('integer bounds are exact: every value in a window, no -0, no leading zeros (llama.cpp build_min_max_int)', async () => {
  const ranges: [number | null, number | null][] = [[0, 150], [-5, 5], [-123, -7], [7, null], [null, -3], [null, 42], [0, 0], [-1, 0], [99, 1000], [13, 13], [5, 1234]];
  for (const [lo, hi] of ranges) {
    const ok = await acceptor(`root ::= ${integerRange(lo === null ? null : BigInt(lo), hi === null ? null : BigInt(hi))}`);
    const wrong: number[] = [];
    for (let v = -260; v <= 1300; v++) {
      const want = (lo === null || v >= lo) && (hi === null || v <= hi);
      if ((await ok(String(v))) !== want) wrong.push(v);
    }
    expect(wrong, `[${lo}, ${hi}]`).toEqual([]);
    for (const s of ['-0', '007', '01', '', '+1', '1.0']) expect(await ok(s), `[${lo}, ${hi}] ${s}`).toBe(false);
  }
  const big = await acceptor(`root ::= ${integerRange(null, null)}`);
  expect(await big('9999999999999999')).toBe(true); // 16 digits, as llama.cpp's integral-part
  expect(await big('10000000000000000')).toBe(false);
  // exclusive bounds and non-integer bounds
  const ex = await schema({ type: 'integer', exclusiveMinimum: 2, maximum: 7.5 });
  expect(await Promise.all(['2', '3', '7', '8'].map(ex))).toEqual([false, true, true, false]);
  expect(() => schemaToGbnf({ type: 'integer', minimum: 3, maximum: 1 })).toThrow(SchemaError);
});

test('strings: no raw control characters, escapes as JSON has them (no lone surrogates), lengths in characters', async () => {
  const s = await schema({ type: 'string' });
  expect(await s('"a b"')).toBe(true);
  expect(await s('"a\nb"')).toBe(false);
  expect(await s('"a\tb"')).toBe(false);
  expect(await s('"a\u0001b"')).toBe(false);
  expect(await s('"a\\nb\\"\\\\\\u00e9"')).toBe(true);
  expect(await s('"\\ud83d"')).toBe(false);
  expect(await s('"\\x41"')).toBe(false);
  expect(await s('"é漢😀"')).toBe(true);
  const n = await schema({ type: 'object', properties: { v: { type: 'string', minLength: 2, maxLength: 3 } }, required: ['v'] });
  expect(await Promise.all(['{"v": "a"}', '{"v": "ab"}', '{"v": "漢字😀"}', '{"v": "abcd"}', '{"v": "a\\n"}'].map(n))).toEqual([false, true, true, false, true]);
});

test('objects: required in order, optional any subset, additionalProperties never repeats a declared key', async () => {
  const base = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'boolean' }, c: { type: 'null' }, d: { type: 'integer' } }, required: ['a', 'd'] };
  const o = await schema(base);
  expect(await o('{"a": 1, "d": 2}')).toBe(true);
  expect(await o('{"a": 1, "d": 2, "b": true, "c": null}')).toBe(true);
  expect(await o('{"a": 1, "d": 2, "c": null}')).toBe(true);
  expect(await o('{"a": 1}')).toBe(false);
  expect(await o('{"a": 1, "d": 2, "e": 3}')).toBe(false); // strict: nothing undeclared
  const more = await schema({ ...base, additionalProperties: { type: 'string' } });
  expect(await more('{"a": 1, "d": 2, "e": "x", "ab": "y"}')).toBe(true);
  expect(await more('{"a": 1, "d": 2, "a": "x"}')).toBe(false);
  expect(await more('{"a": 1, "d": 2, "\\u0061": "x"}')).toBe(false); // no escaped spelling of "a"
  expect(await more('{"a": 1, "d": 2, "e": 3}')).toBe(false);
  const any = await schema({ type: 'object' }, false);
  expect(await any('{"x": [1, {"y": null}], "z": "w"}')).toBe(true);
  expect(await any('[1]')).toBe(false);
});

test('whitespace is bounded; arrays, tuples, enum/const, anyOf, allOf, $ref (recursive)', async () => {
  const o = await schema({ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] });
  expect(await o('{\n  "a": 1\n}')).toBe(true);
  expect(await o(`{\n${' '.repeat(20)}"a": 1}`)).toBe(true);
  expect(await o(`{\n${' '.repeat(21)}"a": 1}`)).toBe(false);
  expect(await o('{"a": 1}   ')).toBe(false);
  const arr = await schema({ type: 'array', items: { enum: ['x', 1, null] }, minItems: 1, maxItems: 2 });
  expect(await Promise.all(['[]', '["x"]', '["x", null]', '[1, 1, 1]', '["y"]'].map(arr))).toEqual([false, true, true, false, false]);
  const tup = await schema({ type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }], minItems: 1 });
  expect(await Promise.all(['[1]', '[1, "a"]', '["a"]', '[1, "a", 2]'].map(tup))).toEqual([true, true, false, false]);
  const alt = await schema({ anyOf: [{ type: 'null' }, { type: 'integer', minimum: 0, maximum: 9 }, { const: { k: 'v' } }] });
  expect(await Promise.all(['null', '7', '10', '{"k":"v"}', '{"k": "v"}'].map(alt))).toEqual([true, true, false, true, false]);
  const all = await schema({ allOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { properties: { b: { type: 'boolean' } }, required: ['b'] }] });
  expect(await all('{"a": 1, "b": true}')).toBe(true);
  expect(await all('{"a": 1}')).toBe(false);
  const tree = await schema({ $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v'] } }, $ref: '#/$defs/node' });
  expect(await tree('{"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": [{"v": 4}]}]}')).toBe(true);
  expect(await tree('{"v": 1, "kids": [{"w": 2}]}')).toBe(false);
  const top = await schema({ type: 'string', maxLength: 3 });
  expect(await top('"abc"')).toBe(true); // a string at the top level: nothing need follow it
});

test('keywords that cannot be enforced are refused, naming them and where', () => {
  const msg = (s: unknown) => {
    try {
      schemaToGbnf(s as never);
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  };
  expect(msg({ type: 'string', pattern: 'a+' })).toBe('#: the keyword "pattern" is not supported');
  expect(msg({ type: 'object', properties: { p: { type: 'number', minimum: 0 } } })).toBe('#/properties/p/minimum: bounds on type "number" are not supported (use "integer")');
  expect(msg({ type: 'array', uniqueItems: true })).toBe('#: the keyword "uniqueItems" is not supported');
  expect(msg({ $ref: 'https://example.org/s.json' })).toMatch(/only local \$refs/);
  expect(msg({ $ref: '#/$defs/nope' })).toMatch(/does not resolve/);
  expect(msg({ type: 'object', required: ['x'] })).toMatch(/"x" has no schema in properties/);
  expect(msg({ type: 'string', title: 'T', description: 'd', format: 'date-time', default: 'x' })).toBe('ok'); // annotations
});
