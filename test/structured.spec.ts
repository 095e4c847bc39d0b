import { test, expect } from '@playwright/test';
import Ajv from 'ajv';
import { SHARED_URL } from './support/browser.ts';
import { budgetFor, openHarness, withEngine } from './support/engine-page.ts';

// Structured output and tool calls end to end (issue 18): chat.completions / completions in the
// page, the engine in its worker on WebGPU (SwiftShader), the grammar compiled there by xgrammar and
// applied as a GPU mask every token. Sampled at temperature 1 over many seeds, the output must
// always parse and validate (Ajv, here in Node), and end with finish_reason "stop" / "tool_calls".

const stories = `${SHARED_URL}/models/stories260K.gguf`;
const qwen3 = `${SHARED_URL}/models/synth-qwen3-Q4_K_M.gguf`;

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 10 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    pet: { enum: ['cat', 'dog', 'bird'] },
    tags: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 2 },
    nick: { type: 'string', maxLength: 4 },
  },
  required: ['name', 'age', 'pet', 'tags'],
  additionalProperties: false,
};

const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 8 }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['city', 'unit'], additionalProperties: false } } },
  { type: 'function', function: { name: 'add', description: 'a + b', parameters: { type: 'object', properties: { a: { type: 'integer', minimum: 0, maximum: 99 }, b: { type: 'integer', minimum: 0, maximum: 99 } }, required: ['a', 'b'], additionalProperties: false } } },
];


test.describe('constrained generation in the browser', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('stories260K: json_schema output parses and validates for 16 seeds (chat, streamed and not), json_object, GBNF in completions', async ({ page }) => {
    const r: any = await withEngine(page, stories, `
      const rf = { type: 'json_schema', json_schema: { name: 'person', schema: arg.schema, strict: true } };
      const out = [];
      for (let seed = 1; seed <= 16; seed++) {
        const msg = { messages: [{ role: 'user', content: 'Tell me about a girl.' }], response_format: rf, temperature: 1, seed, max_tokens: 160 };
        if (seed % 2) {
          const c = await engine.chat.completions.create(msg);
          out.push({ text: c.choices[0].message.content, finish: c.choices[0].finish_reason });
        } else {
          let text = ''; let finish = null;
          for await (const ch of await engine.chat.completions.create({ ...msg, stream: true })) {
            text += ch.choices[0]?.delta.content ?? '';
            finish = ch.choices[0]?.finish_reason ?? finish;
          }
          out.push({ text, finish });
        }
      }
      const stats = await engine.stats();
      const obj = [];
      for (let seed = 1; seed <= 4; seed++) {
        const c = await engine.completions.create({ prompt: 'Once upon a time', response_format: { type: 'json_object' }, temperature: 1, seed, max_tokens: 120 });
        obj.push({ text: c.choices[0].text, finish: c.choices[0].finish_reason });
      }
      const gbnf = [];
      for (let seed = 1; seed <= 6; seed++) {
        const c = await engine.completions.create({ prompt: 'The answer is', grammar: 'root ::= " " ("yes" | "no") ", " [0-9]{1,2} " times"', temperature: 1, seed, max_tokens: 30 });
        gbnf.push({ text: c.choices[0].text, finish: c.choices[0].finish_reason });
      }
      return { out, stats: stats.grammarLastGenerate, obj, gbnf };`, { schema: SCHEMA });
    const validate = new Ajv().compile(SCHEMA);
    for (const o of r.out) {
      expect(o.finish, o.text).toBe('stop');
      const v = JSON.parse(o.text);
      expect(validate(v), `${o.text} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(new Set(r.out.map((o: any) => o.text)).size).toBeGreaterThan(8); // sampled, not one fixed answer
    expect(r.stats.masks).toBeGreaterThan(5);
    expect(r.stats.maskMsPerToken).toBeGreaterThan(0);
    for (const o of r.obj) {
      if (o.finish === 'stop') expect(typeof JSON.parse(o.text)).toBe('object');
      else {
        expect(o.finish).toBe('length'); // cut off by max_tokens: a prefix of an object, never "stop"
        expect(o.text.trimStart().startsWith('{')).toBe(true);
      }
    }
    for (const o of r.gbnf) {
      expect(o.text).toMatch(/^ (yes|no), [0-9]{1,2} times$/);
      expect(o.finish).toBe('stop');
    }
  });

  test('synth-qwen3 (50k byte-level BPE): json_schema validates across seeds; mask cost per token reported', async ({ page }) => {
    test.setTimeout(600_000); // a 50k-vocabulary model on SwiftShader: seconds per token on 2 cores
    const r: any = await withEngine(page, qwen3, `
      const out = [];
      for (let seed = 1; seed <= 3; seed++) {
        const c = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'JSON please' }],
          response_format: { type: 'json_schema', json_schema: { name: 'p', schema: arg.schema } }, temperature: 1, seed, max_tokens: 200 });
        out.push({ text: c.choices[0].message.content, finish: c.choices[0].finish_reason, g: (await engine.stats()).grammarLastGenerate });
      }
      return out;`, { schema: SCHEMA });
    const validate = new Ajv().compile(SCHEMA);
    for (const o of r) {
      expect(o.finish, o.text).toBe('stop');
      expect(validate(JSON.parse(o.text)), o.text).toBe(true);
      console.log(`synth-qwen3 json_schema: ${o.g.masks} masks, ${o.g.maskMsPerToken.toFixed(2)} ms per mask, compile ${o.g.compileMs.toFixed(0)} ms`);
    }
  });

  test('tools: required / named calls parse into tool_calls (streamed as deltas too), finish_reason tool_calls; none leaves text', async ({ page }) => {
    const r: any = await withEngine(page, stories, `
      const base = { messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: arg.tools, temperature: 1, max_tokens: 400 };
      const req = [];
      for (let seed = 1; seed <= 6; seed++) {
        // one call each: with parallel calls allowed this model keeps adding calls past any max_tokens
        // (the grammar lets it); parallel calls are walked in grammar.spec.ts
        const c = await engine.chat.completions.create({ ...base, seed, tool_choice: 'required', parallel_tool_calls: false });
        req.push({ message: c.choices[0].message, finish: c.choices[0].finish_reason, parallel: false });
      }
      const one = { ...base, seed: 3, tool_choice: { type: 'function', function: { name: 'add' } }, parallel_tool_calls: false };
      const named = await engine.chat.completions.create(one);
      const chunks = [];
      for await (const ch of await engine.chat.completions.create({ ...one, stream: true })) chunks.push(ch);
      const none = await engine.chat.completions.create({ ...base, seed: 1, tool_choice: 'none', max_tokens: 12 });
      // a tool result turn after the call renders and generates
      const call = named.choices[0].message.tool_calls?.[0];
      if (!call) return { req, named, chunks };
      const after = await engine.chat.completions.create({ messages: [...base.messages, named.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"result": 7}' }], tools: arg.tools, max_tokens: 8, temperature: 0 });
      return { req, named, chunks, none, after };`, { tools: TOOLS });
    expect(r.named.choices[0].message.tool_calls, JSON.stringify(r.named)).toBeDefined();
    const ajv = new Ajv();
    const v = Object.fromEntries(TOOLS.map((t) => [t.function.name, ajv.compile(t.function.parameters)]));
    for (const o of r.req) {
      expect(o.finish, JSON.stringify(o.message)).toBe('tool_calls');
      expect(o.message.content).toBeNull();
      const calls = o.message.tool_calls;
      expect(calls.length).toBeGreaterThan(0);
      if (!o.parallel) expect(calls.length).toBe(1);
      for (const c of calls) {
        expect(c.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
        expect(c.type).toBe('function');
        expect(v[c.function.name](JSON.parse(c.function.arguments)), c.function.arguments).toBe(true);
      }
    }
    const named = r.named.choices[0];
    expect(named.finish_reason).toBe('tool_calls');
    expect(named.message.tool_calls).toHaveLength(1);
    expect(named.message.tool_calls[0].function.name).toBe('add');
    expect(v.add(JSON.parse(named.message.tool_calls[0].function.arguments))).toBe(true);
    // streamed: id + name first, then the arguments, with index; same call as the non-streamed one (same seed)
    const deltas = r.chunks.flatMap((c: any) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'add', arguments: '' } });
    expect(deltas[0].id).toMatch(/^call_/);
    const args = deltas.filter((d: any) => d.index === 0).map((d: any) => d.function.arguments).join('');
    expect(args).toBe(named.message.tool_calls[0].function.arguments);
    expect(r.chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
    expect(r.none.choices[0].message.tool_calls).toBeUndefined();
    expect(typeof r.none.choices[0].message.content).toBe('string');
    expect(r.after.choices[0].message.role).toBe('assistant');
    expect(r.after.usage.prompt_tokens).toBeGreaterThan(r.named.usage.prompt_tokens);
  });

  test('stories260K streamed at a third of its weights, with ngram speculative drafts: json_schema still validates, drafts are proposed', async ({ page }) => {
    const budget = await budgetFor(page, stories, 1 / 3);
    const r: any = await page.evaluate(async ({ url, budget, schema }) => {
      const engine = await (window as any).ls.createEngine({ model: url, gpuBudgetBytes: budget });
      try {
        const out = [];
        for (let seed = 1; seed <= 4; seed++) {
          const c = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Tell me about a girl.' }], temperature: 1, seed, max_tokens: 160,
            response_format: { type: 'json_schema', json_schema: { name: 'person', schema } }, speculative: { draft: 'ngram', maxDraftTokens: 4 } });
          const st = await engine.stats();
          out.push({ text: c.choices[0].message.content, finish: c.choices[0].finish_reason, proposed: st.draftTokensProposed });
        }
        return { out, stats: await engine.stats() };
      } finally {
        await engine.dispose();
      }
    }, { url: stories, budget, schema: SCHEMA });
    const validate = new Ajv().compile(SCHEMA);
    for (const o of r.out) {
      expect(o.finish, o.text).toBe('stop');
      expect(validate(JSON.parse(o.text)), o.text).toBe(true);
    }
    expect(r.stats.speculativeDraft).toBe('ngram');
    expect(r.out.reduce((a: number, o: any) => a + o.proposed, 0)).toBeGreaterThan(0); // JSON repeats itself: lookup drafts were tried
    expect(r.stats.layersStreamed).toBeGreaterThan(0); // layers go through the pool every token
  });

  test('bad schemas and grammars: invalid_request in bounded time, and the engine keeps working', async ({ page }) => {
    const r: any = await withEngine(page, stories, `
      const err = async (extra) => {
        const t0 = performance.now();
        try {
          await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, ...extra });
          return { code: 'none', ms: performance.now() - t0 };
        } catch (e) { return { code: e.code, message: e.message, ms: performance.now() - t0 }; }
      };
      const deep = { type: 'object', properties: {} };
      let node = deep; for (let i = 0; i < 200; i++) { node.properties.x = { type: 'object', properties: {} }; node = node.properties.x; }
      return {
        pattern: await err({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a+$' } } } }),
        badType: await err({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'strng' } } } }),
        badRef: await err({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: '#/$defs/missing' } } } }),
        range: await err({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'integer', minimum: 5, maximum: 2 } } } }),
        gbnf: await err({ grammar: 'root ::= undefined-rule' }),
        gbnfSyntax: await err({ grammar: 'root ::= "unterminated' }),
        toolSchema: await err({ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'number', minimum: 0 } } } } }], tool_choice: 'required' }),
        both: await err({ grammar: 'root ::= "a"', response_format: { type: 'json_object' } }),
        deep: await err({ response_format: { type: 'json_schema', json_schema: { name: 'deep', schema: deep } }, max_tokens: 8 }),
        ok: (await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], grammar: 'root ::= "fine"', max_tokens: 8 })).choices[0],
      };`);
    for (const k of ['pattern', 'badType', 'badRef', 'range', 'gbnf', 'gbnfSyntax', 'toolSchema', 'both']) {
      expect(r[k].code, `${k}: ${r[k].message}`).toBe('invalid_request');
      expect(r[k].ms, k).toBeLessThan(5000);
    }
    expect(r.pattern.message).toMatch(/"pattern" is not supported/);
    expect(r.badType.message).toMatch(/unknown type "strng"/);
    expect(r.badRef.message).toMatch(/does not resolve/);
    expect(r.gbnf.message).toMatch(/Rule "undefined-rule" is not defined/);
    expect(r.toolSchema.message).toMatch(/bounds on type "number"/);
    expect(r.deep.code).toBe('none'); // deep but fine: compiles and generates
    expect(r.deep.ms).toBeLessThan(20_000);
    expect(r.ok).toMatchObject({ message: { content: 'fine' }, finish_reason: 'stop' });
  });
});
