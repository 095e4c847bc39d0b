import type { GenerateRequest, GeneratedToken, ModelInfo, SpeculativeOptions } from '../api.ts';
import { LayerstreamError } from '../errors.ts';
import type { ChatInfo, GenerateResult } from '../worker/protocol.ts';
import { StopMatcher } from './stop.ts';
import { renderChatTemplate, type ChatMessage } from './template.ts';

/**
 * OpenAI-compatible chat and text completions over an engine (request and response shapes of
 * OpenAI's /v1/chat/completions and /v1/completions, as WebLLM and llama-server offer them).
 * Local extras: top_k (default 40, as llama.cpp), min_p, repetition_penalty, speculative; finish_reason "abort"
 * when the caller's AbortSignal stops a generation.
 */

export type FinishReason = 'stop' | 'length' | 'abort';

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
}

export interface ChatCompletionRequest extends SamplingFields {
  messages: ChatMessage[];
}

export interface CompletionRequest extends SamplingFields {
  prompt: string | string[] | number[];
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: { role?: 'assistant'; content?: string }; logprobs: null; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: { role: 'assistant'; content: string }; logprobs: null; finish_reason: FinishReason }[];
  usage: Usage;
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

const COMMON = ['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'seed', 'stop', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'n', 'stream', 'stream_options', 'model', 'user', 'top_k', 'min_p', 'repetition_penalty', 'speculative'];
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
    },
    stops,
    stream: !!req.stream,
    usage: !!req.stream_options?.include_usage,
  };
}

function checkMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) bad(`Invalid 'messages': expected a non-empty array.`);
  (messages as unknown[]).forEach((m, i) => {
    const msg = m as ChatMessage;
    if (typeof msg !== 'object' || msg === null || !ROLES.includes(msg.role)) bad(`Invalid 'messages[${i}].role': expected one of ${ROLES.join(', ')}.`);
    const c = msg.content;
    const ok = typeof c === 'string' || c === null || (Array.isArray(c) && c.every((p) => p?.type === 'text' && typeof p.text === 'string'));
    if (!ok) bad(`Invalid 'messages[${i}].content': expected a string or an array of text parts.`);
  });
  return messages as ChatMessage[];
}

interface Final {
  finish: FinishReason;
  usage: Usage;
}

/** Generates text for prompt tokens, cutting at stop strings; returns how it ended. */
async function* generateText(b: ChatBackend, prompt: number[], gen: Omit<GenerateRequest, 'prompt'>, stops: string[], signal?: AbortSignal): AsyncGenerator<string, Final> {
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
      const text = stop.push(t.text);
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

/** Renders a conversation with the model's template and tokenizes it, special tokens parsed. */
export async function chatPromptTokens(b: ChatBackend, messages: ChatMessage[]): Promise<number[]> {
  const ci = await b.chatInfo();
  let text = renderChatTemplate(ci.template, messages, ci);
  // most templates write {{ bos_token }} themselves: don't let tokenization add a second one
  if (ci.addBos && ci.bosToken && text.startsWith(ci.bosToken)) text = text.slice(ci.bosToken.length);
  return b.tokenize(text, { addSpecial: true, parseSpecial: true });
}

/** engine.chat.completions */
export function chatCompletions(b: ChatBackend) {
  function create(req: ChatCompletionRequest & { stream: true }, o?: { signal?: AbortSignal }): Promise<AsyncIterable<ChatCompletionChunk>>;
  function create(req: ChatCompletionRequest & { stream?: false | null }, o?: { signal?: AbortSignal }): Promise<ChatCompletion>;
  function create(req: ChatCompletionRequest, o?: { signal?: AbortSignal }): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
  async function create(req: ChatCompletionRequest, o: { signal?: AbortSignal } = {}): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const p = sampling(req, ['messages'], b.info.nVocab);
    const prompt = await chatPromptTokens(b, checkMessages(req.messages));
    const base = { id: newId('chatcmpl'), created: now(), model: b.info.name };
    if (!p.stream) {
      const it = generateText(b, prompt, p.gen, p.stops, o.signal);
      let content = '';
      let r = await it.next();
      for (; !r.done; r = await it.next()) content += r.value;
      return { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: r.value.finish }], usage: r.value.usage };
    }
    return (async function* (): AsyncGenerator<ChatCompletionChunk> {
      const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
        ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(p.usage ? { usage: null } : {}),
      });
      yield chunk({ role: 'assistant', content: '' }, null);
      const it = generateText(b, prompt, p.gen, p.stops, o.signal);
      let r = await it.next();
      for (; !r.done; r = await it.next()) yield chunk({ content: r.value }, null);
      yield chunk({}, r.value.finish);
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
