import { LayerstreamError } from '../errors.ts';

/** A function the model may call (OpenAI's `tools` entry). parameters: a JSON Schema object. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

/** OpenAI's tool_choice: 'auto' (default with tools), 'none', 'required', or one named function. */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** A call the model made (OpenAI's message.tool_calls entry); arguments is JSON text. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

const bad = (msg: string): never => {
  throw new LayerstreamError('invalid_request', msg);
};

const NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/**
 * Checks `tools` and `tool_choice` as OpenAI does (names of 1–64 letters, digits, _ . -, unique;
 * parameters an object schema; a named tool_choice must name a listed tool).
 * @returns the tools (empty when none) and the effective choice ('none' without tools)
 * @throws LayerstreamError('invalid_request') naming the field
 */
export function checkTools(tools: unknown, toolChoice: unknown, parallel: unknown): { tools: ChatTool[]; choice: ToolChoice; parallel: boolean } {
  if (parallel !== undefined && parallel !== null && typeof parallel !== 'boolean') bad(`Invalid 'parallel_tool_calls': expected a boolean.`);
  const list: ChatTool[] = [];
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) bad(`Invalid 'tools': expected an array of function tools.`);
    const seen = new Set<string>();
    (tools as unknown[]).forEach((t, i) => {
      const tool = t as ChatTool;
      if (typeof tool !== 'object' || tool === null || tool.type !== 'function' || typeof tool.function !== 'object' || tool.function === null) bad(`Invalid 'tools[${i}]': expected { type: 'function', function: { name, parameters } }.`);
      const f = tool.function;
      if (typeof f.name !== 'string' || !NAME.test(f.name)) bad(`Invalid 'tools[${i}].function.name': expected 1-64 characters of a-z, A-Z, 0-9, _, . or -, got ${JSON.stringify(f.name)}.`);
      if (seen.has(f.name)) bad(`Invalid 'tools': the function name ${JSON.stringify(f.name)} is used twice.`);
      seen.add(f.name);
      if (f.description !== undefined && typeof f.description !== 'string') bad(`Invalid 'tools[${i}].function.description': expected a string.`);
      if (f.parameters !== undefined && (typeof f.parameters !== 'object' || f.parameters === null || Array.isArray(f.parameters))) bad(`Invalid 'tools[${i}].function.parameters': expected a JSON Schema object.`);
      list.push(tool);
    });
  }
  let choice: ToolChoice = list.length ? 'auto' : 'none';
  if (toolChoice !== undefined && toolChoice !== null) {
    if (typeof toolChoice === 'string') {
      if (!['auto', 'none', 'required'].includes(toolChoice)) bad(`Invalid 'tool_choice': expected 'auto', 'none', 'required' or { type: 'function', function: { name } }, got ${JSON.stringify(toolChoice)}.`);
      choice = toolChoice as ToolChoice;
    } else {
      const c = toolChoice as { type?: unknown; function?: { name?: unknown } };
      if (typeof c !== 'object' || c.type !== 'function' || typeof c.function?.name !== 'string') bad(`Invalid 'tool_choice': expected 'auto', 'none', 'required' or { type: 'function', function: { name } }.`);
      choice = { type: 'function', function: { name: c.function!.name as string } };
    }
    if (choice !== 'none' && !list.length) bad(`Invalid 'tool_choice': ${JSON.stringify(toolChoice)} needs 'tools'.`);
    if (typeof choice === 'object' && !list.some((t) => t.function.name === (choice as { function: { name: string } }).function.name)) {
      bad(`Invalid 'tool_choice': no tool is named ${JSON.stringify(choice.function.name)}.`);
    }
  }
  return { tools: list, choice, parallel: parallel !== false };
}

/**
 * Checks a message's tool_calls (assistant) as OpenAI takes them; function.arguments must be JSON text.
 * @throws LayerstreamError('invalid_request')
 */
export function checkToolCalls(calls: unknown, at: string): ToolCall[] {
  if (!Array.isArray(calls)) return bad(`Invalid '${at}': expected an array.`);
  return calls.map((c, i) => {
    const call = c as ToolCall;
    if (typeof call !== 'object' || call === null || typeof call.id !== 'string' || typeof call.function?.name !== 'string' || typeof call.function.arguments !== 'string') {
      bad(`Invalid '${at}[${i}]': expected { id, type: 'function', function: { name, arguments } } with arguments as a JSON string.`);
    }
    return call;
  });
}

/**
 * A call's arguments as templates want them: HF chat templates index them as a mapping
 * (`tool_call.arguments | tojson`, `| items`), so JSON text that parses to an object is given as
 * that object; anything else stays text (llama.cpp's chat.cpp does the same).
 */
export function argumentsForTemplate(args: string): unknown {
  try {
    const v = JSON.parse(args);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : args;
  } catch {
    return args;
  }
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * A new tool-call id: `call_` + 24 random alphanumerics (OpenAI's look), or exactly 9
 * alphanumerics for Mistral formats, whose templates refuse other lengths.
 */
export function newToolCallId(mistral = false): string {
  const n = mistral ? 9 : 24;
  const r = crypto.getRandomValues(new Uint8Array(n));
  const s = Array.from(r, (x) => ALNUM[x % ALNUM.length]).join('');
  return mistral ? s : `call_${s}`;
}
