import type { ChatTool, ToolChoice } from './tools.ts';

/**
 * How a model family writes tool calls, recognised by the markers its chat template uses (as
 * llama.cpp's common/chat.cpp picks a handler from the template text):
 * - hermes: `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` (Qwen 2.5/3, Hermes 2/3, SmolLM3…)
 * - llama3: a bare `{"name": …, "parameters": {…}}`, optionally after `<|python_tag|>` (Llama 3.1–3.3)
 * - mistral: `[TOOL_CALLS][{"name": …, "arguments": {…}, "id": …}]` (Mistral Nemo, Small ≤ 3.1)
 * - mistral-v11: `[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}` per call (Mistral Small 3.2, Devstral, Ministral 3)
 * - harmony: `<|channel|>commentary to=functions.name <|constrain|>json<|message|>{…}` (gpt-oss)
 * - generic: the default for templates without tool support: `{"tool_calls": [{"name": …, "arguments": {…}}]}`
 *   (the system prompt DEFAULT_TOOLS_PROMPT asks for it); any of the others' shapes is also read.
 */
export type ToolFormat = 'hermes' | 'llama3' | 'mistral' | 'mistral-v11' | 'harmony' | 'generic';

/** The format a chat template's own markers say (null template: the ChatML default → generic). */
export function detectToolFormat(template: string | null): ToolFormat {
  const t = template ?? '';
  if (t.includes('<|channel|>')) return 'harmony';
  if (t.includes('[TOOL_CALLS]')) return t.includes('[ARGS]') ? 'mistral-v11' : 'mistral';
  if (t.includes('<tool_call>')) return 'hermes';
  if (t.includes('<|python_tag|>') || t.includes('"parameters": ')) return 'llama3';
  return 'generic';
}

/** Whether a template renders `tools` itself (else the default prompt below is put in a system message). */
export function templateHasTools(template: string | null): boolean {
  return !!template && /\btools\b/.test(template);
}

/**
 * The documented default for templates that do not take `tools`: this text, followed by one JSON
 * line per tool (OpenAI's tool object), goes first in the system message.
 */
export const DEFAULT_TOOLS_PROMPT =
  'You can call functions. Their definitions, one JSON object per line:\n';
/** …and after the definitions: */
export const DEFAULT_TOOLS_INSTRUCTION =
  '\nTo call functions, answer with only this JSON and nothing else: {"tool_calls": [{"name": <function name>, "arguments": <arguments object>}]}. Otherwise answer normally.';

/** The system-prompt text the default format adds for `tools`. */
export function defaultToolsPrompt(tools: ChatTool[]): string {
  return DEFAULT_TOOLS_PROMPT + tools.map((t) => JSON.stringify(t)).join('\n') + DEFAULT_TOOLS_INSTRUCTION;
}

type Format = Record<string, unknown>;
const schemaOf = (t: ChatTool): Record<string, unknown> | boolean => t.function.parameters ?? { type: 'object' };

/**
 * The xgrammar structural tag (api.ts GrammarSpec 'structural_tag' format) that forces a call in
 * `format` — for tool_choice 'required' (one of `tools`) or a named function — whose arguments
 * are JSON valid for that function's `parameters`. parallel: one or more calls (formats that can
 * write several), else exactly one. null for 'auto' / 'none' (no constraint).
 */
export function toolCallGrammar(format: ToolFormat, tools: ChatTool[], choice: ToolChoice, parallel: boolean): Format | null {
  if (choice === 'auto' || choice === 'none') return null;
  const chosen = typeof choice === 'object' ? tools.filter((t) => t.function.name === choice.function.name) : tools;
  const json = (t: ChatTool) => ({ type: 'json_schema', json_schema: schemaOf(t) });
  const tag = (begin: string, t: ChatTool, end: string) => ({ type: 'tag', begin, content: json(t), end });
  const q = (s: string) => JSON.stringify(s);
  const many = (tags: Format[], separator: string, prefix = '', suffix = ''): Format => {
    const body: Format = parallel && tags.length ? { type: 'tags_with_separator', tags, separator, at_least_one: true } : tags.length === 1 ? tags[0] : { type: 'or', elements: tags };
    const parts = [prefix && { type: 'const_string', value: prefix }, body, suffix && { type: 'const_string', value: suffix }].filter(Boolean) as Format[];
    return parts.length === 1 ? parts[0] : { type: 'sequence', elements: parts };
  };
  switch (format) {
    case 'hermes':
      return many(chosen.map((t) => tag(`<tool_call>\n{"name": ${q(t.function.name)}, "arguments": `, t, '}\n</tool_call>')), '\n');
    case 'llama3':
      // one call: Llama 3.1's template refuses several in a message
      parallel = false;
      return many(chosen.map((t) => tag(`{"name": ${q(t.function.name)}, "parameters": `, t, '}')), '');
    case 'mistral':
      return many(chosen.map((t) => tag(`{"name": ${q(t.function.name)}, "arguments": `, t, '}')), ', ', '[TOOL_CALLS][', ']');
    case 'mistral-v11':
      return many(chosen.map((t) => tag(`[TOOL_CALLS]${t.function.name}[ARGS]`, t, '')), '');
    case 'harmony':
      parallel = false;
      return many(chosen.map((t) => tag(`<|channel|>commentary to=functions.${t.function.name} <|constrain|>json<|message|>`, t, '')), '');
    case 'generic':
      return many(chosen.map((t) => tag(`{"name": ${q(t.function.name)}, "arguments": `, t, '}')), ', ', '{"tool_calls": [', ']}');
  }
}
