import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { argumentsForTemplate, type ChatTool, type ToolCall } from './tools.ts';

/** A chat message as OpenAI's API takes it (text parts only), with llama-server's reasoning_content. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string | { type: 'text'; text: string }[] | null;
  name?: string;
  /** assistant: the calls it made */
  tool_calls?: ToolCall[];
  /** tool: the call this message answers */
  tool_call_id?: string;
  /** assistant: its reasoning (the templates of reasoning models render or drop it) */
  reasoning_content?: string | null;
}

/** What a template may use besides the messages (Hugging Face's names). */
export interface TemplateExtras {
  /** OpenAI tool objects, given to the template as `tools` (omitted when empty) */
  tools?: ChatTool[];
  /** the date strftime_now() and date_string use (default now) */
  now?: Date;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Python's datetime.strftime for the directives chat templates use (%Y %m %d %b %B %H %M %S %%). */
export function strftime(d: Date, format: string): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%[YmdbBHMS%]/g, (t) => {
    switch (t) {
      case '%Y': return String(d.getFullYear());
      case '%m': return p2(d.getMonth() + 1);
      case '%d': return p2(d.getDate());
      case '%b': return MONTHS[d.getMonth()].slice(0, 3);
      case '%B': return MONTHS[d.getMonth()];
      case '%H': return p2(d.getHours());
      case '%M': return p2(d.getMinutes());
      case '%S': return p2(d.getSeconds());
      default: return '%';
    }
  });
}

/**
 * Used when a GGUF has no tokenizer.chat_template: ChatML (<|im_start|>role\n…<|im_end|>), the format
 * llama.cpp's server also falls back to.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const compiled = new Map<string, Template>();

/** The globals Hugging Face gives chat templates (transformers' chat_template_utils, @huggingface/jinja's setupGlobals). */
const TEMPLATE_GLOBALS: Record<string, unknown> = {
  true: true, false: false, none: null, True: true, False: false, None: null,
  raise_exception: (message: string) => {
    throw new Error(message);
  },
  range: (start: number, stop?: number, step = 1) => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new Error('range() step must not be zero');
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
    return out;
  },
};

/**
 * Renders `messages` with a Jinja chat template (the GGUF's tokenizer.chat_template, rendered by
 * @huggingface/jinja as transformers.js does), ending with the assistant's turn opened.
 * Throws the template engine's error (a template's raise_exception message included).
 */
export function renderChatTemplate(
  template: string | null,
  messages: ChatMessage[],
  tokens: { bosToken: string; eosToken: string },
  addGenerationPrompt = true,
  extras: TemplateExtras = {},
): string {
  const src = template ?? DEFAULT_CHAT_TEMPLATE;
  let t = compiled.get(src);
  if (!t) compiled.set(src, (t = new Template(src)));
  const plain = messages.map((m) => {
    const out: Record<string, unknown> = { ...m, content: Array.isArray(m.content) ? m.content.map((p) => p.text).join('') : (m.content ?? '') };
    // templates test `'tool_calls' in message` / `message.tool_calls is defined`: absent unless given
    if (m.tool_calls?.length) {
      out.tool_calls = m.tool_calls.map((c) => ({ ...c, function: { name: c.function.name, arguments: argumentsForTemplate(c.function.arguments) } }));
    } else delete out.tool_calls;
    if (m.reasoning_content == null) delete out.reasoning_content;
    return out;
  });
  const now = extras.now ?? new Date();
  // Template.render with our own globals: its strftime_now reads the clock and cannot be replaced
  const env = new Environment();
  const vars: Record<string, unknown> = {
    ...TEMPLATE_GLOBALS,
    strftime_now: (format: string) => strftime(now, format),
    messages: plain,
    bos_token: tokens.bosToken,
    eos_token: tokens.eosToken,
    add_generation_prompt: addGenerationPrompt,
    ...(extras.tools?.length ? { tools: extras.tools } : {}),
    date_string: strftime(now, '%d %b %Y'),
  };
  for (const [k, v] of Object.entries(vars)) env.set(k, v);
  return new Interpreter(env).run(t.parsed).value as string;
}
