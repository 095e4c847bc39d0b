import { test, expect } from '@playwright/test';
import { OutputStream, parseAssistantOutput, type ParsedOutput } from '../src/chat/parse-output.ts';
import type { ToolFormat } from '../src/chat/tool-format.ts';

// Parsing of model answers in each family's format into reasoning / content / tool calls, in one
// piece and streamed token-sized, as llama-server's parsers (common/chat-parser.cpp) read them.
// The outputs are written as those models write them (the formats their templates document).

interface Case {
  name: string;
  format: ToolFormat;
  text: string;
  thinkingOpen?: boolean;
  want: ParsedOutput;
}

const W = (name: string, args: object, id?: string) => ({ name, arguments: JSON.stringify(args), ...(id ? { id } : {}) });

const cases: Case[] = [
  {
    name: 'qwen3: thinking, then two hermes calls', format: 'hermes',
    text: '<think>\nThe user wants the weather in two cities.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Lyon", "unit": "celsius"}}\n</tool_call>',
    want: { reasoning: 'The user wants the weather in two cities.', content: '', calls: [W('get_weather', { city: 'Paris' }), W('get_weather', { city: 'Lyon', unit: 'celsius' })] },
  },
  {
    name: 'hermes: text before a call', format: 'hermes',
    text: 'Let me check that.\n<tool_call>\n{"arguments": {"a": 2, "b": 3}, "name": "add"}\n</tool_call>',
    want: { reasoning: '', content: 'Let me check that.', calls: [W('add', { a: 2, b: 3 })] },
  },
  {
    name: 'hermes: a call cut by end of generation', format: 'hermes',
    text: '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 1}}',
    want: { reasoning: '', content: '', calls: [W('add', { a: 1, b: 1 })] },
  },
  {
    name: 'hermes: broken JSON stays content', format: 'hermes',
    text: 'Sure <tool_call>{"name": "add", "arguments": {"a": 1,</tool_call>',
    want: { reasoning: '', content: 'Sure <tool_call>{"name": "add", "arguments": {"a": 1,</tool_call>', calls: [] },
  },
  {
    name: 'deepseek-r1 style: prompt left <think> open', format: 'generic', thinkingOpen: true,
    text: 'First, 2 + 2 is 4.\n</think>\n\nThe answer is 4.',
    want: { reasoning: 'First, 2 + 2 is 4.', content: 'The answer is 4.', calls: [] },
  },
  {
    name: 'llama 3.1: bare JSON with parameters', format: 'llama3',
    text: '{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}',
    want: { reasoning: '', content: '', calls: [W('get_weather', { city: 'Paris', unit: 'celsius' })] },
  },
  {
    name: 'llama 3.1: <|python_tag|> then JSON', format: 'llama3',
    text: '<|python_tag|>{"name": "add", "parameters": {"a": 4, "b": 5}}',
    want: { reasoning: '', content: '', calls: [W('add', { a: 4, b: 5 })] },
  },
  {
    name: 'llama 3.1: plain answer with braces is content', format: 'llama3',
    text: 'Use {x} as a placeholder.',
    want: { reasoning: '', content: 'Use {x} as a placeholder.', calls: [] },
  },
  {
    name: 'mistral nemo: [TOOL_CALLS] array with ids', format: 'mistral',
    text: '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abc123XYZ"}, {"name": "add", "arguments": {"a": 1, "b": 2}, "id": "def456UVW"}]',
    want: { reasoning: '', content: '', calls: [W('get_weather', { city: 'Paris' }, 'abc123XYZ'), W('add', { a: 1, b: 2 }, 'def456UVW')] },
  },
  {
    name: 'mistral small 3.2: name[ARGS]json runs', format: 'mistral-v11',
    text: 'Checking.[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]add[CALL_ID]k3J9sQ2aB[ARGS]{"a": 7, "b": 8}',
    want: { reasoning: '', content: 'Checking.', calls: [W('get_weather', { city: 'Paris' }), W('add', { a: 7, b: 8 }, 'k3J9sQ2aB')] },
  },
  {
    name: 'gpt-oss harmony: analysis, then a call', format: 'harmony',
    text: '<|channel|>analysis<|message|>Need weather for Paris.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Paris"}',
    want: { reasoning: 'Need weather for Paris.', content: '', calls: [W('get_weather', { city: 'Paris' })] },
  },
  {
    name: 'gpt-oss harmony: analysis, then the final answer', format: 'harmony',
    text: '<|channel|>analysis<|message|>Simple greeting.<|end|><|start|>assistant<|channel|>final<|message|>Hello! How can I help?',
    want: { reasoning: 'Simple greeting.', content: 'Hello! How can I help?', calls: [] },
  },
  {
    name: 'generic: the default format', format: 'generic',
    text: '{"tool_calls": [{"name": "add", "arguments": {"a": 10, "b": 20}}]}',
    want: { reasoning: '', content: '', calls: [W('add', { a: 10, b: 20 })] },
  },
  {
    name: 'generic: hermes tags from a model that knows them', format: 'generic',
    text: 'OK <tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>',
    want: { reasoning: '', content: 'OK', calls: [W('add', { a: 1, b: 2 })] },
  },
  {
    name: 'generic: plain text', format: 'generic',
    text: 'Paris is in France.',
    want: { reasoning: '', content: 'Paris is in France.', calls: [] },
  },
];

/** Splits into pieces of 1–4 characters, as tokens would arrive. */
function pieces(s: string): string[] {
  const out: string[] = [];
  for (let i = 0, k = 1; i < s.length; i += k, k = (k % 4) + 1) out.push(s.slice(i, i + k));
  return out;
}

for (const c of cases) {
  test(`${c.name}: whole and streamed`, () => {
    const o = { format: c.format, tools: true, thinkingOpen: c.thinkingOpen };
    expect(parseAssistantOutput(c.text, o)).toEqual(c.want);
    const s = new OutputStream(o);
    const got: ParsedOutput = { reasoning: '', content: '', calls: [] };
    for (const d of [...pieces(c.text).map((p) => s.push(p)), s.finish()]) {
      got.reasoning += d.reasoning ?? '';
      got.content += d.content ?? '';
      got.calls.push(...(d.calls ?? []));
    }
    expect(got.calls).toEqual(c.want.calls);
    expect(got.reasoning).toBe(c.want.reasoning);
    // streamed content may keep whitespace the whole parse trims next to a call; no call text leaks into it
    expect(got.content.trim()).toBe(c.want.content);
  });
}

test('without tools, calls are not parsed but reasoning still is', () => {
  const r = parseAssistantOutput('<think>hmm</think>\n<tool_call>{"name": "add", "arguments": {}}</tool_call>', { format: 'hermes', tools: false });
  expect(r).toEqual({ reasoning: 'hmm', content: '<tool_call>{"name": "add", "arguments": {}}</tool_call>', calls: [] });
});
