import { gbnfLiteral, rulesToGbnf, schemaRules } from '../grammar/json-schema.ts';
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

const schemaOf = (t: ChatTool): Record<string, unknown> | boolean => t.function.parameters ?? { type: 'object' };

/**
 * The GBNF grammar (rule `root`; api.ts GrammarSpec 'grammar') that forces a call in `format` —
 * for tool_choice 'required' (one of `tools`) or a named function — whose arguments are JSON valid
 * for that function's `parameters` (src/grammar/json-schema.ts, strict unless the tool says
 * `strict: false`). parallel: one or more calls (formats that can write several), else exactly one.
 * The call shapes are those llama.cpp's common/chat.cpp constrains for each format (the
 * `build_grammar` of its hermes_2_pro, llama_3_x, mistral_nemo, magistral/devstral, gpt-oss and
 * generic handlers). null for 'auto' / 'none' (no constraint).
 * @throws SchemaError (src/grammar/json-schema.ts) for parameters the converter refuses
 */
export function toolCallGrammar(format: ToolFormat, tools: ChatTool[], choice: ToolChoice, parallel: boolean): string | null {
  if (choice === 'auto' || choice === 'none') return null;
  const chosen = typeof choice === 'object' ? tools.filter((t) => t.function.name === choice.function.name) : tools;
  const rules = new Map<string, string>();
  const args = chosen.map((t, i) => {
    const root = `args${i}`;
    for (const [k, v] of schemaRules(schemaOf(t), { prefix: `t${i}-`, root, strict: t.function.strict !== false })) rules.set(k, v);
    return root;
  });
  const lit = (s: string) => gbnfLiteral(s);
  const q = (s: string) => JSON.stringify(s);
  /** one call per tool, as alternatives; then one or several of them, separated */
  const calls = (one: (t: ChatTool, args: string) => string, sep: string, prefix = '', suffix = ''): string => {
    rules.set('call', chosen.map((t, i) => one(t, args[i])).join(' | '));
    const body = parallel ? `call (${sep ? `${lit(sep)} ` : ''}call)*` : 'call';
    return [prefix && lit(prefix), body, suffix && lit(suffix)].filter(Boolean).join(' ');
  };
  let root: string;
  switch (format) {
    case 'hermes':
      root = calls((t, a) => `${lit(`<tool_call>\n{"name": ${q(t.function.name)}, "arguments": `)} ${a} ${lit('}\n</tool_call>')}`, '\n');
      break;
    case 'llama3':
      parallel = false; // one call: Llama 3.1's template refuses several in a message
      root = calls((t, a) => `${lit(`{"name": ${q(t.function.name)}, "parameters": `)} ${a} ${lit('}')}`, '');
      break;
    case 'mistral':
      root = calls((t, a) => `${lit(`{"name": ${q(t.function.name)}, "arguments": `)} ${a} ${lit('}')}`, ', ', '[TOOL_CALLS][', ']');
      break;
    case 'mistral-v11':
      root = calls((t, a) => `${lit(`[TOOL_CALLS]${t.function.name}[ARGS]`)} ${a}`, '');
      break;
    case 'harmony':
      parallel = false;
      root = calls((t, a) => `${lit(`<|channel|>commentary to=functions.${t.function.name} <|constrain|>json<|message|>`)} ${a}`, '');
      break;
    case 'generic':
      root = calls((t, a) => `${lit(`{"name": ${q(t.function.name)}, "arguments": `)} ${a} ${lit('}')}`, ', ', '{"tool_calls": [', ']}');
      break;
  }
  rules.set('root', root);
  return rulesToGbnf(rules);
}
