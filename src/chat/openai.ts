import type { SpeculativeOptions, GenerateRequest, GeneratedToken, ModelInfo } from '../api.ts';
import { LayerstreamError } from '../errors.ts';
import type { ChatInfo, GenerateResult } from '../worker/protocol.ts';
import { OutputStream, type OutputDelta, type ParsedCall } from './parse-output.ts';
import { SchemaError } from '../grammar/json-schema.ts';
import { grammarFromRequest, type ResponseFormat } from './response-format.ts';
import { StopMatcher } from './stop.ts';
import { renderChatTemplate, type ChatMessage } from './template.ts';
import { defaultToolsPrompt, detectToolFormat, templateHasTools, toolCallGrammar, type ToolFormat } from './tool-format.ts';
import { checkToolCalls, checkTools, newToolCallId, type ChatTool, type ToolCall, type ToolChoice } from './tools.ts';

/**
 * OpenAI-compatible chat and text completions over an engine (request and response shapes of
 * OpenAI's /v1/chat/completions and /v1/completions, as WebLLM and llama-server offer them).
 * Local extras: top_k (default 40, as llama.cpp), min_p, repetition_penalty, grammar (GBNF);
 * finish_reason "abort" when the caller's AbortSignal stops a generation. Structured output
 * (response_format, grammar) constrains every token (src/grammar/); tool calls and reasoning are
 * parsed from the answer in the template's own format (parse-output.ts, tool-format.ts).
 */

export type FinishReason = 'stop' | 'length' | 'abort' | 'tool_calls';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

interface SamplingFields {
  /** local extra field: speculative decoding for this request (api.ts SpeculativeOptions) */
  speculative?: SpeculativeOptions | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  n?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  model?: string | null;
  user?: string;
  top_k?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  /** OpenAI's structured output: { type: 'json_object' } or { type: 'json_schema', json_schema: { name, schema, strict } } */
  response_format?: ResponseFormat | null;
  /** local extra (llama-server's): output constrained to this GBNF grammar (rule `root`) */
  grammar?: string | null;
}

export interface ChatCompletionRequest extends SamplingFields {
  messages: ChatMessage[];
  tools?: ChatTool[] | null;
  tool_choice?: ToolChoice | null;
  /** several calls in one answer (default true) */
  parallel_tool_calls?: boolean | null;
}

/** A streamed tool-call fragment: the first for a call has id, type and name; arguments are appended. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface CompletionRequest extends SamplingFields {
  prompt: string | string[] | number[];
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: { role?: 'assistant'; content?: string | null; reasoning_content?: string; tool_calls?: ToolCallDelta[] }; logprobs: null; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: AssistantMessage; logprobs: null; finish_reason: FinishReason }[];
  usage: Usage;
}

/** The answer: content (null when only calls), llama-server's reasoning_content, tool_calls. */
export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string;
  tool_calls?: ToolCall[];
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; logprobs: null; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

/** What the OpenAI layer needs from an engine. */
export interface ChatBackend {
  readonly info: ModelInfo;
  chatInfo(): Promise<ChatInfo>;
  tokenize(text: string, opts: { addSpecial?: boolean; parseSpecial?: boolean }): Promise<number[]>;
  /** Streams tokens; `result` settles when the generation has ended. */
  stream(req: GenerateRequest): { tokens: AsyncIterable<GeneratedToken>; result: Promise<GenerateResult> };
}

const COMMON = ['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'seed', 'stop', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'n', 'stream', 'stream_options', 'model', 'user', 'top_k', 'min_p', 'repetition_penalty', 'speculative', 'response_format', 'grammar'];
const ROLES = ['system', 'user', 'assistant', 'tool', 'developer'];

const bad = (msg: string): never => {
  throw new LayerstreamError('invalid_request', msg);
};

function checkNumber(name: string, v: unknown, lo: number, hi: number, integer = false): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < lo || v > hi) {
    bad(`Invalid '${name}': expected ${integer ? 'an integer' : 'a number'} between ${lo} and ${hi}, got ${JSON.stringify(v)}.`);
  }
}

/** Checks the fields both endpoints share and turns them into a GenerateRequest (without prompt). */
function sampling(req: SamplingFields, extra: string[], nVocab: number): { gen: Omit<GenerateRequest, 'prompt'>; stops: string[]; stream: boolean; usage: boolean } {
  if (typeof req !== 'object' || req === null) bad('The request body must be an object.');
  for (const k of Object.keys(req)) if (!COMMON.includes(k) && !extra.includes(k)) bad(`Unrecognized request argument supplied: ${k}`);
  checkNumber('temperature', req.temperature, 0, 2);
  checkNumber('top_p', req.top_p, 0, 1);
  checkNumber('presence_penalty', req.presence_penalty, -2, 2);
  checkNumber('frequency_penalty', req.frequency_penalty, -2, 2);
  checkNumber('max_tokens', req.max_tokens, 1, 1e7, true);
  checkNumber('max_completion_tokens', req.max_completion_tokens, 1, 1e7, true);
  checkNumber('seed', req.seed, -(2 ** 53), 2 ** 53, true);
  checkNumber('top_k', req.top_k, 0, 1e6, true);
  checkNumber('min_p', req.min_p, 0, 1);
  checkNumber('repetition_penalty', req.repetition_penalty, 0.01, 100);
  if (req.n !== undefined && req.n !== null && req.n !== 1) bad(`Invalid 'n': only n = 1 is supported, got ${JSON.stringify(req.n)}.`);
  const stops = req.stop === undefined || req.stop === null ? [] : Array.isArray(req.stop) ? req.stop : [req.stop];
  if (stops.length > 4 || stops.some((s) => typeof s !== 'string' || s === '')) bad(`Invalid 'stop': expected up to 4 non-empty strings.`);
  const logitBias: Record<number, number> = {};
  for (const [k, v] of Object.entries(req.logit_bias ?? {})) {
    const id = Number(k);
    if (!Number.isInteger(id) || id < 0 || id >= nVocab) bad(`Invalid 'logit_bias': ${JSON.stringify(k)} is not a token id of this model (0..${nVocab - 1}).`);
    checkNumber(`logit_bias[${k}]`, v, -100, 100);
    logitBias[id] = v;
  }
  if (req.stream_options && !req.stream) bad(`Invalid 'stream_options': only allowed when 'stream' is true.`);
  return {
    gen: {
      maxTokens: req.max_completion_tokens ?? req.max_tokens ?? 256,
      temperature: req.temperature ?? 1,
      topP: req.top_p ?? 1,
      topK: req.top_k ?? 40,
      minP: req.min_p ?? 0,
      repetitionPenalty: req.repetition_penalty ?? 1,
      presencePenalty: req.presence_penalty ?? 0,
      frequencyPenalty: req.frequency_penalty ?? 0,
      logitBias,
      seed: req.seed ?? Math.floor(Math.random() * 2 ** 31),
      ...(req.speculative ? { speculative: req.speculative } : {}),
      ...grammarField(grammarFromRequest(req.response_format, req.grammar)),
    },
    stops,
    stream: !!req.stream,
    usage: !!req.stream_options?.include_usage,
  };
}

const grammarField = (g: GenerateRequest['grammar']) => (g ? { grammar: g } : {});

function checkMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) bad(`Invalid 'messages': expected a non-empty array.`);
  (messages as unknown[]).forEach((m, i) => {
    const msg = m as ChatMessage;
    if (typeof msg !== 'object' || msg === null || !ROLES.includes(msg.role)) bad(`Invalid 'messages[${i}].role': expected one of ${ROLES.join(', ')}.`);
    const c = msg.content;
    const ok = typeof c === 'string' || c === null || (Array.isArray(c) && c.every((p) => p?.type === 'text' && typeof p.text === 'string'));
    if (!ok) bad(`Invalid 'messages[${i}].content': expected a string or an array of text parts.`);
    if (msg.tool_calls !== undefined && msg.tool_calls !== null) {
      if (msg.role !== 'assistant') bad(`Invalid 'messages[${i}].tool_calls': only assistant messages have tool calls.`);
      checkToolCalls(msg.tool_calls, `messages[${i}].tool_calls`);
    }
    if (msg.role === 'tool' && typeof msg.tool_call_id !== 'string') bad(`Missing required parameter: 'messages[${i}].tool_call_id'.`);
    if (msg.reasoning_content !== undefined && msg.reasoning_content !== null && typeof msg.reasoning_content !== 'string') bad(`Invalid 'messages[${i}].reasoning_content': expected a string.`);
  });
  return messages as ChatMessage[];
}

interface Final {
  finish: FinishReason;
  usage: Usage;
}

/** Generates text for prompt tokens, cutting at stop strings; returns how it ended. */
async function* generateText(
  b: ChatBackend, prompt: number[], gen: Omit<GenerateRequest, 'prompt'>, stops: string[], signal?: AbortSignal, markers?: ReadonlyMap<number, string>,
): AsyncGenerator<string, Final> {
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) ac.abort(); // aborted while the prompt was being prepared
  const { tokens, result } = b.stream({ ...gen, prompt, signal: ac.signal });
  const stop = new StopMatcher(stops);
  let completion = 0;
  try {
    for await (const t of tokens) {
      completion++;
      // control tokens of tool / reasoning formats decode to nothing: put their text back for the parser
      const text = stop.push(t.text || (markers?.get(t.token) ?? ''));
      if (text) yield text;
      if (stop.stopped) {
        ac.abort();
        break;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const r = await result;
  const tail = stop.flush();
  if (tail) yield tail;
  const finish: FinishReason = stop.stopped ? 'stop' : signal?.aborted ? 'abort' : r.finish;
  const usage = { prompt_tokens: r.promptTokens, completion_tokens: completion, total_tokens: r.promptTokens + completion, prompt_tokens_details: { cached_tokens: r.cachedTokens } };
  return { finish, usage };
}

const newId = (prefix: string) => `${prefix}-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (x) => x.toString(16).padStart(2, '0')).join('')}`;
const now = () => Math.floor(Date.now() / 1000);

/** A rendered chat prompt and what parsing its answer needs. */
export interface ChatPrompt {
  tokens: number[];
  text: string;
  /** how the template's models write tool calls */
  format: ToolFormat;
  /** the prompt leaves a <think> open: the answer starts as reasoning */
  thinkingOpen: boolean;
  /** control tokens to put back into the text (ChatInfo.markers) */
  markers: Map<number, string>;
}

/**
 * For templates that do not take `tools` (the documented default format, tool-format.ts): the
 * tool list goes first in the system message, assistant calls become their JSON text
 * {"tool_calls": [...]}, and tool results become user messages "<tool_response>\n…\n</tool_response>".
 */
function withDefaultTools(messages: ChatMessage[], tools: ChatTool[]): ChatMessage[] {
  const text = (m: ChatMessage) => (Array.isArray(m.content) ? m.content.map((p) => p.text).join('') : (m.content ?? ''));
  const out: ChatMessage[] = messages.map((m) => {
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const calls = m.tool_calls.map((c) => ({ name: c.function.name, arguments: JSON.parse(c.function.arguments || '{}') as unknown }));
      return { role: 'assistant', content: [text(m), JSON.stringify({ tool_calls: calls })].filter(Boolean).join('\n') };
    }
    if (m.role === 'tool') return { role: 'user', content: `<tool_response>\n${text(m)}\n</tool_response>` };
    return m;
  });
  if (!tools.length) return out;
  const prompt = defaultToolsPrompt(tools);
  if (out[0]?.role === 'system') return [{ ...out[0], content: `${prompt}\n\n${text(out[0])}` }, ...out.slice(1)];
  return [{ role: 'system', content: prompt }, ...out];
}

/**
 * Renders a conversation with the model's template (tools given to it as `tools`, or in the
 * default format when it takes none) and tokenizes it, special tokens parsed.
 * @throws the template's error (raise_exception), LayerstreamError('invalid_request') for a call's arguments that are not JSON
 */
export async function chatPrompt(b: ChatBackend, messages: ChatMessage[], tools: ChatTool[] = []): Promise<ChatPrompt> {
  const ci = await b.chatInfo();
  const native = templateHasTools(ci.template);
  const hasToolMessages = messages.some((m) => m.role === 'tool' || m.tool_calls?.length);
  let msgs = messages;
  if (!native && (tools.length || hasToolMessages)) {
    try {
      msgs = withDefaultTools(messages, tools);
    } catch {
      bad(`Invalid 'messages': a tool call's function.arguments is not JSON.`);
    }
  }
  let text = renderChatTemplate(ci.template, msgs, ci, true, { tools: native ? tools : [] });
  // most templates write {{ bos_token }} themselves: don't let tokenization add a second one
  if (ci.addBos && ci.bosToken && text.startsWith(ci.bosToken)) text = text.slice(ci.bosToken.length);
  const tokens = await b.tokenize(text, { addSpecial: true, parseSpecial: true });
  return { tokens, text, format: detectToolFormat(ci.template), thinkingOpen: /<think>\s*$/.test(text), markers: new Map(ci.markers ?? []) };
}

/** Renders a conversation with the model's template and tokenizes it, special tokens parsed. */
export async function chatPromptTokens(b: ChatBackend, messages: ChatMessage[]): Promise<number[]> {
  return (await chatPrompt(b, messages)).tokens;
}

/** OpenAI tool_calls from parsed calls: ids from the model (Mistral) or new ones. */
function toolCalls(calls: ParsedCall[], format: ToolFormat): ToolCall[] {
  const mistral = format === 'mistral' || format === 'mistral-v11';
  return calls.map((c) => ({ id: c.id ?? newToolCallId(mistral), type: 'function', function: { name: c.name, arguments: c.arguments } }));
}

/** engine.chat.completions */
export function chatCompletions(b: ChatBackend) {
  function create(req: ChatCompletionRequest & { stream: true }, o?: { signal?: AbortSignal }): Promise<AsyncIterable<ChatCompletionChunk>>;
  function create(req: ChatCompletionRequest & { stream?: false | null }, o?: { signal?: AbortSignal }): Promise<ChatCompletion>;
  function create(req: ChatCompletionRequest, o?: { signal?: AbortSignal }): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
  async function create(req: ChatCompletionRequest, o: { signal?: AbortSignal } = {}): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const p = sampling(req, ['messages', 'tools', 'tool_choice', 'parallel_tool_calls'], b.info.nVocab);
    const t = checkTools(req.tools, req.tool_choice, req.parallel_tool_calls);
    const cp = await chatPrompt(b, checkMessages(req.messages), t.choice === 'none' ? [] : t.tools);
    let forced: string | null;
    try {
      forced = toolCallGrammar(cp.format, t.tools, t.choice, t.parallel);
    } catch (e) {
      if (e instanceof SchemaError) bad(`Invalid 'tools': function parameters: ${e.message}`);
      throw e;
    }
    if (forced) {
      if (p.gen.grammar) bad(`'response_format' / 'grammar' cannot be combined with tool_choice ${JSON.stringify(t.choice)}.`);
      p.gen.grammar = { type: 'grammar', grammar: forced! };
    }
    const parse = new OutputStream({ format: cp.format, tools: t.choice !== 'none' && t.tools.length > 0, thinkingOpen: cp.thinkingOpen });
    const base = { id: newId('chatcmpl'), created: now(), model: b.info.name };
    const finishOf = (finish: FinishReason, calls: number): FinishReason => (calls && finish === 'stop' ? 'tool_calls' : finish);
    if (!p.stream) {
      const it = generateText(b, cp.tokens, p.gen, p.stops, o.signal, cp.markers);
      let r = await it.next();
      for (; !r.done; r = await it.next()) parse.push(r.value);
      const out = parse.result();
      const calls = toolCalls(out.calls, cp.format);
      const message: AssistantMessage = {
        role: 'assistant',
        content: calls.length && !out.content ? null : out.content,
        ...(out.reasoning ? { reasoning_content: out.reasoning } : {}),
        ...(calls.length ? { tool_calls: calls } : {}),
      };
      return { ...base, object: 'chat.completion', choices: [{ index: 0, message, logprobs: null, finish_reason: finishOf(r.value.finish, calls.length) }], usage: r.value.usage };
    }
    return (async function* (): AsyncGenerator<ChatCompletionChunk> {
      const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
        ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(p.usage ? { usage: null } : {}),
      });
      let nCalls = 0;
      // one chunk per kind of text; a call as two: id + name, then its arguments (OpenAI's shape)
      function* deltas(d: OutputDelta): Generator<ChatCompletionChunk> {
        if (d.reasoning) yield chunk({ reasoning_content: d.reasoning }, null);
        if (d.content) yield chunk({ content: d.content }, null);
        for (const c of toolCalls(d.calls ?? [], cp.format)) {
          const index = nCalls++;
          yield chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] }, null);
          yield chunk({ tool_calls: [{ index, function: { arguments: c.function.arguments } }] }, null);
        }
      }
      yield chunk({ role: 'assistant', content: '' }, null);
      const it = generateText(b, cp.tokens, p.gen, p.stops, o.signal, cp.markers);
      let r = await it.next();
      for (; !r.done; r = await it.next()) yield* deltas(parse.push(r.value));
      yield* deltas(parse.finish());
      yield chunk({}, finishOf(r.value.finish, nCalls));
      if (p.usage) yield { ...base, object: 'chat.completion.chunk', choices: [], usage: r.value.usage };
    })();
  }
  return { create };
}

/** engine.completions */
export function completions(b: ChatBackend) {
  function create(req: CompletionRequest & { stream: true }, o?: { signal?: AbortSignal }): Promise<AsyncIterable<Completion>>;
  function create(req: CompletionRequest & { stream?: false | null }, o?: { signal?: AbortSignal }): Promise<Completion>;
  function create(req: CompletionRequest, o?: { signal?: AbortSignal }): Promise<Completion | AsyncIterable<Completion>>;
  async function create(req: CompletionRequest, o: { signal?: AbortSignal } = {}): Promise<Completion | AsyncIterable<Completion>> {
    const p = sampling(req, ['prompt'], b.info.nVocab);
    const pr = req.prompt;
    let prompt: number[];
    if (typeof pr === 'string' || (Array.isArray(pr) && pr.length === 1 && typeof pr[0] === 'string')) {
      prompt = await b.tokenize(typeof pr === 'string' ? pr : (pr[0] as string), { addSpecial: true, parseSpecial: true });
    } else if (Array.isArray(pr) && pr.length > 0 && pr.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < b.info.nVocab)) {
      prompt = pr as number[];
    } else {
      return bad(`Invalid 'prompt': expected a string, one string in an array, or token ids.`);
    }
    const base = { id: newId('cmpl'), object: 'text_completion' as const, created: now(), model: b.info.name };
    if (!p.stream) {
      const it = generateText(b, prompt, p.gen, p.stops, o.signal);
      let text = '';
      let r = await it.next();
      for (; !r.done; r = await it.next()) text += r.value;
      return { ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: r.value.finish }], usage: r.value.usage };
    }
    return (async function* (): AsyncGenerator<Completion> {
      const it = generateText(b, prompt, p.gen, p.stops, o.signal);
      let r = await it.next();
      for (; !r.done; r = await it.next()) yield { ...base, choices: [{ index: 0, text: r.value, logprobs: null, finish_reason: null }], ...(p.usage ? { usage: null } : {}) };
      yield { ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: r.value.finish }], ...(p.usage ? { usage: null } : {}) };
      if (p.usage) yield { ...base, choices: [], usage: r.value.usage };
    })();
  }
  return { create };
}
