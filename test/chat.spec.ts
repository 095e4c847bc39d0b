import { test, expect } from '@playwright/test';
import { StopMatcher } from '../src/chat/stop.ts';
import { renderChatTemplate } from '../src/chat/template.ts';
import { SHARED_URL } from './support/browser.ts';
import { openHarness, withEngine } from './support/engine-page.ts';

// OpenAI-compatible chat: templates, stop strings, chunk shapes, seeds, abort, cache reuse, errors.

const conversation = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Hi!' },
  { role: 'assistant' as const, content: 'Hello.' },
  { role: 'user' as const, content: 'Name a color.' },
];

test.describe('chat templates (rendered with @huggingface/jinja)', () => {
  test('ChatML', () => {
    const t = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    expect(renderChatTemplate(t, conversation, { bosToken: '<s>', eosToken: '</s>' })).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n',
    );
  });
  test('Llama 3', () => {
    const t = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
    expect(renderChatTemplate(t, conversation, { bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>' })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });
  test('Gemma (system folded into the first user turn is refused by the template)', () => {
    const t = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";
    expect(renderChatTemplate(t, conversation.slice(1), { bosToken: '<bos>', eosToken: '<eos>' })).toBe(
      '<bos><start_of_turn>user\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>user\nName a color.<end_of_turn>\n<start_of_turn>model\n',
    );
    expect(() => renderChatTemplate(t, conversation, { bosToken: '<bos>', eosToken: '<eos>' })).toThrow('System role not supported');
  });
  test('Phi-3', () => {
    const t = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\\n'}}{% endif %}{% endfor %}";
    expect(renderChatTemplate(t, conversation.slice(1), { bosToken: '<s>', eosToken: '<|endoftext|>' })).toBe(
      '<s><|user|>\nHi!<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nName a color.<|end|>\n<|assistant|>\n',
    );
  });
});

test('stop strings split across tokens are found and never emitted', () => {
  const m = new StopMatcher(['ere wa', 'XYZ']);
  const out = [', th', 'ere', ' was', ' a'].map((t) => m.push(t)).join('');
  expect(out).toBe(', th');
  expect(m.stopped).toBe(true);
  const n = new StopMatcher(['</end>']);
  expect(n.push('a </e')).toBe('a '); // held back: may become the stop string
  expect(n.push('x')).toBe('</ex');
  expect(n.flush()).toBe('');
});

const stories = `${SHARED_URL}/models/stories260K.gguf`;


test.describe('in the browser', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('streaming chunks have the OpenAI shape, field by field; usage comes last', async ({ page }) => {
    const chunks: any[] = await withEngine(page, stories, `
      const out = [];
      const stream = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Once upon a time' }], stream: true,
        stream_options: { include_usage: true }, max_tokens: 8, temperature: 0 });
      for await (const c of stream) out.push(c);
      return out;`);
    expect(chunks.length).toBe(1 + 8 + 1 + 1);
    for (const c of chunks) {
      expect(Object.keys(c).sort()).toEqual(['choices', 'created', 'id', 'model', 'object', 'usage']);
      expect(c.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
      expect(c.id).toBe(chunks[0].id);
      expect(c.object).toBe('chat.completion.chunk');
      expect(Number.isInteger(c.created)).toBe(true);
      expect(c.model).toBe('stories260K');
    }
    expect(chunks[0].choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    for (const c of chunks.slice(1, 9)) {
      expect(c.choices).toHaveLength(1);
      expect(Object.keys(c.choices[0].delta)).toEqual(['content']);
      expect(typeof c.choices[0].delta.content).toBe('string');
      expect(c.choices[0].finish_reason).toBeNull();
      expect(c.usage).toBeNull();
    }
    expect(chunks[9].choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }]);
    const usage = chunks[10].usage;
    expect(chunks[10].choices).toEqual([]);
    expect(usage.completion_tokens).toBe(8);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + 8);
    expect(usage.prompt_tokens).toBeGreaterThan(5);
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
  });

  test('stop strings across token boundaries stop and are not emitted; same seed, same text', async ({ page }) => {
    const r: any = await withEngine(page, stories, `
      const ask = (extra) => engine.completions.create({ prompt: 'Once upon a time', max_tokens: 24, ...extra });
      const plain = await ask({ temperature: 0 });
      const stopped = await ask({ temperature: 0, stop: ['ere wa'] });
      const s1 = await ask({ temperature: 1, seed: 7 });
      const s2 = await ask({ temperature: 1, seed: 7 });
      const s3 = await ask({ temperature: 1, seed: 8 });
      return { plain, stopped, s1: s1.choices[0].text, s2: s2.choices[0].text, s3: s3.choices[0].text };`);
    expect(r.plain.object).toBe('text_completion');
    expect(r.plain.choices[0].text.startsWith(', there was a little girl')).toBe(true);
    expect(r.plain.choices[0].finish_reason).toBe('length');
    expect(r.stopped.choices[0]).toEqual({ index: 0, text: ', th', logprobs: null, finish_reason: 'stop' });
    expect(r.s1).toBe(r.s2);
    expect(r.s1).not.toBe(r.s3);
  });

  test('abort mid-stream stops within a token and leaves the engine ready', async ({ page }) => {
    const r: any = await withEngine(page, stories, `
      const ac = new AbortController();
      const stream = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], stream: true, max_tokens: 300, temperature: 0 }, { signal: ac.signal });
      let n = 0, last;
      for await (const c of stream) { last = c; if (c.choices[0]?.delta?.content) { n++; if (n === 3) ac.abort(); } }
      const after = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, temperature: 0 });
      return { n, finish: last.choices[0].finish_reason, after };`);
    expect(r.n).toBe(3);
    expect(r.finish).toBe('abort');
    expect(r.after.object).toBe('chat.completion');
    expect(r.after.choices[0].message.role).toBe('assistant');
    expect(r.after.choices[0].finish_reason).toBe('length');
    expect(r.after.usage.completion_tokens).toBe(3);
  });

  test('a second turn reuses the K/V cache and gives the same tokens as a cold run', async ({ page }) => {
    const turn2 = (reply: string) => [{ role: 'user', content: 'Tell me a story.' }, { role: 'assistant', content: reply }, { role: 'user', content: 'And then?' }];
    const warm: any = await withEngine(page, stories, `
      const first = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Tell me a story.' }], max_tokens: 12, temperature: 0 });
      const second = await engine.chat.completions.create({ messages: arg(first.choices[0].message.content), max_tokens: 12, temperature: 0 });
      return { first, second };`.replace('arg(', '(' + turn2.toString() + ')('));
    expect(warm.second.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(warm.first.usage.prompt_tokens - 1);
    const cold: any = await withEngine(page, stories, `
      return engine.chat.completions.create({ messages: arg, max_tokens: 12, temperature: 0 });`, turn2(warm.first.choices[0].message.content));
    expect(cold.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(cold.usage.prompt_tokens).toBe(warm.second.usage.prompt_tokens);
    expect(warm.second.choices[0].message.content).toBe(cold.choices[0].message.content);
  });

  test('unknown or invalid fields are clear errors, as OpenAI gives them', async ({ page }) => {
    const errs: any = await withEngine(page, stories, `
      const msgs = [{ role: 'user', content: 'x' }];
      const tryIt = async (req) => { try { await engine.chat.completions.create(req); return null; } catch (e) { return { code: e.code, message: e.message }; } };
      return [
        await tryIt({ messages: msgs, foo: 1 }),
        await tryIt({ messages: msgs, n: 2 }),
        await tryIt({ messages: msgs, temperature: 3 }),
        await tryIt({ messages: [{ role: 'robot', content: 'x' }] }),
        await tryIt({ messages: msgs, logit_bias: { 99999: 1 } }),
        await tryIt({ messages: msgs, stop: ['a', 'b', 'c', 'd', 'e'] }),
      ];`);
    expect(errs.map((e: any) => e?.code)).toEqual(new Array(6).fill('invalid_request'));
    expect(errs[0].message).toBe('Unrecognized request argument supplied: foo');
    expect(errs[1].message).toContain("'n'");
    expect(errs[2].message).toContain("'temperature'");
    expect(errs[3].message).toContain("messages[0].role");
    expect(errs[4].message).toContain('logit_bias');
    expect(errs[5].message).toContain("'stop'");
  });

  test("a model's own template: special tokens in the rendered prompt become special ids", async ({ page }) => {
    const usage: any = await withEngine(page, `${SHARED_URL}/models/synth-phi3-Q4_K_M.gguf`, `
      const ids = await (window.ls.chatPromptTokens)(engine, [{ role: 'user', content: 'Hi' }]);
      return ids;`);
    // <s> once, <|user|> 32010, <|end|> 32007, <|assistant|> 32001 (phi-3 vocabulary)
    expect(usage[0]).toBe(1);
    expect(usage.filter((t: number) => t === 1)).toHaveLength(1);
    // the template renders '<|user|>\nHi<|end|>\n<|assistant|>\n'
    const [u, e, a] = [usage.indexOf(32010), usage.indexOf(32007), usage.indexOf(32001)];
    expect(u).toBe(1);
    expect(e).toBeGreaterThan(u);
    expect(a).toBeGreaterThan(e);
    expect(usage.length - a).toBeLessThanOrEqual(3); // only the final newline follows
  });
});
