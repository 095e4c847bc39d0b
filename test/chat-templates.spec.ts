import { test, expect } from '@playwright/test';
import { readFileSync, readdirSync } from 'node:fs';
import { renderChatTemplate, type ChatMessage } from '../src/chat/template.ts';
import { detectToolFormat, templateHasTools } from '../src/chat/tool-format.ts';

// Real chat templates (llama.cpp's models/templates copies, see fixtures/chat-templates/README.md)
// rendered by @huggingface/jinja with tools, assistant tool calls and tool results must equal what
// Python jinja2 renders the way Hugging Face does (fixtures/chat-templates/render.py → expected.json).
const dir = new URL('./fixtures/chat-templates/', import.meta.url);
const spec = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { now: string; tools: any[]; cases: { name: string; tools: boolean; messages: ChatMessage[]; not_for?: string[] }[] };
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')).renders as Record<string, string | { error: string }>;
const templates = readdirSync(dir).filter((f) => f.endsWith('.jinja')).map((f) => f.slice(0, -'.jinja'.length));

test('every template and case has a Python rendering', () => {
  expect(templates.length).toBe(6);
  expect(Object.keys(expected).sort()).toEqual(templates.flatMap((t) => spec.cases.filter((c) => !c.not_for?.includes(t)).map((c) => `${t}/${c.name}`)).sort());
});

for (const name of templates) {
  for (const c of spec.cases.filter((c) => !c.not_for?.includes(name))) {
    test(`${name} / ${c.name} renders as jinja2 does`, () => {
      const src = readFileSync(new URL(`${name}.jinja`, dir), 'utf8');
      const want = expected[`${name}/${c.name}`];
      const render = () => renderChatTemplate(src, c.messages, { bosToken: '<s>', eosToken: '</s>' }, true, { tools: c.tools ? spec.tools : [], now: new Date(spec.now) });
      if (typeof want === 'object') expect(render).toThrow(want.error);
      else expect(render()).toBe(want);
    });
  }
}

test('tool formats are recognised from the templates\' own markers', () => {
  const fmt = (n: string) => detectToolFormat(readFileSync(new URL(`${n}.jinja`, dir), 'utf8'));
  expect(fmt('Qwen-Qwen3-0.6B')).toBe('hermes');
  expect(fmt('NousResearch-Hermes-3-Llama-3.1-8B-tool_use')).toBe('hermes');
  expect(fmt('meta-llama-Llama-3.1-8B-Instruct')).toBe('llama3');
  expect(fmt('mistralai-Mistral-Nemo-Instruct-2407')).toBe('mistral');
  expect(fmt('Mistral-Small-3.2-24B-Instruct-2506')).toBe('mistral-v11');
  expect(fmt('openai-gpt-oss-120b')).toBe('harmony');
  expect(detectToolFormat(null)).toBe('generic');
  expect(templates.every((n) => templateHasTools(readFileSync(new URL(`${n}.jinja`, dir), 'utf8')))).toBe(true);
  expect(templateHasTools(null)).toBe(false);
});
