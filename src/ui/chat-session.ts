import type { Engine } from '../api.ts';
import type { ChatCompletionRequest, ChatMessage, FinishReason, Usage } from '../index.ts';
import { LayerstreamError } from '../errors.ts';
import { toShownError, type ShownError } from './model-store.ts';

/**
 * The conversation of the chat view and the generations that extend it, over the engine's
 * OpenAI-compatible `chat.completions.create` (streamed, with usage). No UI: <ls-app> owns one,
 * re-renders on its `change` event and passes `entries` to <ls-chat>; what the user asks for comes
 * back as a ChatAction. Every turn sends the whole conversation; the engine reuses its K/V cache for
 * the prefix the previous turn left there (`usage.prompt_tokens_details.cached_tokens`).
 *
 * Entries are immutable: a change replaces the array and the changed entry, so a view re-renders only
 * the message that changed.
 */

/**
 * streaming · done (end of generation or a stop string) · length (max tokens reached) ·
 * stopped (the user stopped it; the partial reply stays) · error (create() or the stream failed)
 */
export type ReplyStatus = 'streaming' | 'done' | 'length' | 'stopped' | 'error';

export interface ReplyStats {
  /** generated tokens: usage.completion_tokens once known, else content chunks counted so far */
  tokens: number;
  /** from usage (null until the usage chunk arrived) */
  promptTokens: number | null;
  cachedTokens: number | null;
  /** wall time from the request to the last chunk */
  seconds: number;
  /** tokens over the wall time */
  tokensPerSecond: number;
}

export interface ChatEntry {
  readonly id: number;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  /** assistant replies only: the model's reasoning (delta.reasoning_content: <think>…</think>, harmony's analysis channel) */
  readonly reasoning?: string;
  /** assistant replies only: the calls it made (delta.tool_calls joined by index) */
  readonly toolCalls?: { id: string; name: string; arguments: string }[];
  /** assistant replies only */
  readonly status?: ReplyStatus;
  readonly stats?: ReplyStats;
  readonly error?: ShownError;
  /** shown instead of "Thinking…" until the first text arrives (e.g. after a GPU reset) */
  readonly notice?: string;
}

/** What a reply shows while it waits for its first token after the GPU device was lost and rebuilt. */
export const GPU_RESET_NOTICE = 'GPU was reset — rebuilding context…';

/**
 * Whether an error is a GPU device loss the engine recovers from (LayerstreamError('device_lost')
 * without "permanent" in its message, src/worker/device-guard.ts): the next reply re-prefills the
 * conversation on the new device.
 */
export function isRecoverableDeviceLoss(e: ShownError | undefined): boolean {
  return e?.code === 'device_lost' && !/permanent/.test(e.message);
}

/** System prompt and sampling, as <ls-chat> validated them. */
export interface ChatSettings {
  system: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  repetitionPenalty: number;
  /** null: a random seed per request */
  seed: number | null;
}

/** What <ls-chat> asks for (detail of its `ls-chat-action` event). */
export type ChatAction =
  | { type: 'send'; text: string; settings: ChatSettings }
  | { type: 'regenerate'; settings: ChatSettings }
  | { type: 'edit'; id: number; text: string; settings: ChatSettings }
  | { type: 'stop' }
  | { type: 'new' };

function isAbort(e: unknown): boolean {
  if (e instanceof LayerstreamError) return e.code === 'aborted';
  return (e as { name?: string } | null)?.name === 'AbortError';
}

export class ChatSession extends EventTarget {
  entries: readonly ChatEntry[] = [];
  /** a reply is streaming */
  running = false;
  /** called every few chunks while a reply streams, and when it ends (the app refreshes its stats) */
  onProgress: ((final: boolean) => void) | null = null;

  private nextId = 1;
  private controller: AbortController | null = null;
  private task: Promise<void> | null = null;
  /** the last reply ended by a recoverable device loss: the next one says the context is rebuilt */
  private gpuReset = false;

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  private patch(id: number, p: Partial<ChatEntry>): void {
    this.entries = this.entries.map((e) => (e.id === id ? { ...e, ...p } : e));
    this.changed();
  }

  /** Carries out what the view asked for; engine null (no model loaded) ignores generation requests. */
  perform(engine: Engine | null, a: ChatAction): void {
    switch (a.type) {
      case 'stop':
        this.controller?.abort();
        return;
      case 'new':
        void this.clear();
        return;
    }
    if (!engine || this.running) return;
    if (a.type === 'send') {
      const text = a.text.trim() ? a.text : '';
      if (!text) return;
      this.entries = [...this.entries, { id: this.nextId++, role: 'user', content: text }];
    } else if (a.type === 'regenerate') {
      const last = this.entries[this.entries.length - 1];
      if (last?.role !== 'assistant') return;
      this.entries = this.entries.slice(0, -1);
    } else {
      const i = this.entries.findIndex((e) => e.id === a.id && e.role === 'user');
      if (i < 0 || !a.text.trim()) return;
      this.entries = [...this.entries.slice(0, i), { ...this.entries[i]!, content: a.text }];
    }
    this.task = this.reply(engine, a.settings);
  }

  /** Aborts the streaming reply (if any) and waits until it has ended. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.task?.catch(() => {});
  }

  async clear(): Promise<void> {
    await this.stop();
    this.entries = [];
    this.changed();
  }

  /**
   * The conversation as `messages`: the system prompt, then every turn except replies that failed
   * (with the user message they answered, so that roles keep alternating).
   */
  history(system: string): ChatMessage[] {
    const out: ChatMessage[] = system.trim() ? [{ role: 'system', content: system }] : [];
    const list = this.entries;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const next = list[i + 1];
      if (e.role === 'assistant' && e.status === 'error') continue;
      if (e.role === 'user' && next?.role === 'assistant' && next.status === 'error') continue;
      out.push({ role: e.role, content: e.content });
    }
    return out;
  }

  /** Appends an assistant reply to the conversation and streams it in. */
  private async reply(engine: Engine, s: ChatSettings): Promise<void> {
    const messages = this.history(s.system);
    const id = this.nextId++;
    const stats: ReplyStats = { tokens: 0, promptTokens: null, cachedTokens: null, seconds: 0, tokensPerSecond: 0 };
    const notice = this.gpuReset ? { notice: GPU_RESET_NOTICE } : {};
    this.entries = [...this.entries, { id, role: 'assistant', content: '', status: 'streaming', stats, ...notice }];
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.changed();

    const t0 = performance.now();
    let content = '';
    let reasoning = '';
    const calls: { id: string; name: string; arguments: string }[] = [];
    let chunks = 0;
    let finish: FinishReason | null = null;
    let usage: Usage | null = null;
    const measure = (): ReplyStats => {
      const seconds = (performance.now() - t0) / 1000;
      const tokens = usage?.completion_tokens ?? chunks;
      return {
        tokens,
        promptTokens: usage?.prompt_tokens ?? null,
        cachedTokens: usage?.prompt_tokens_details.cached_tokens ?? null,
        seconds,
        tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
      };
    };
    let status: ReplyStatus;
    let error: ShownError | undefined;
    try {
      const request: ChatCompletionRequest & { stream: true } = {
        messages,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: s.maxTokens,
        temperature: s.temperature,
        top_p: s.topP,
        top_k: s.topK,
        min_p: s.minP,
        repetition_penalty: s.repetitionPenalty,
        ...(s.seed === null ? {} : { seed: s.seed }),
      };
      const stream = await engine.chat.completions.create(request, { signal: controller.signal });
      const it = stream[Symbol.asyncIterator]();
      if (controller.signal.aborted) {
        // stopped while the prompt was prepared: never start the generation
        await it.return?.();
      } else {
        // after an abort the stream still ends on its own (within a token) with finish_reason
        // "abort" and the usage of what was generated
        for (let r = await it.next(); !r.done; r = await it.next()) {
          const chunk = r.value;
          const choice = chunk.choices[0];
          const d = choice?.delta;
          if (d?.content || d?.reasoning_content || d?.tool_calls) {
            content += d.content ?? '';
            reasoning += d.reasoning_content ?? '';
            for (const c of d.tool_calls ?? []) {
              const call = (calls[c.index] ??= { id: '', name: '', arguments: '' });
              if (c.id) call.id = c.id;
              if (c.function?.name) call.name = c.function.name;
              call.arguments += c.function?.arguments ?? '';
            }
            chunks++;
            this.patch(id, { content, ...(reasoning ? { reasoning } : {}), ...(calls.length ? { toolCalls: calls.map((c) => ({ ...c })) } : {}), stats: measure() });
            if (chunks % 4 === 0) this.onProgress?.(false);
          }
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (chunk.usage) usage = chunk.usage;
        }
      }
      status = controller.signal.aborted || finish === 'abort' ? 'stopped' : finish === 'length' ? 'length' : 'done';
    } catch (e) {
      if (controller.signal.aborted || isAbort(e)) {
        status = 'stopped';
      } else {
        status = 'error';
        error = toShownError(e);
        this.gpuReset = isRecoverableDeviceLoss(error);
        console.error('Chat completion failed', e);
      }
    }
    if (status !== 'error') this.gpuReset = false;
    if (this.controller === controller) this.controller = null;
    this.running = false;
    this.patch(id, { content, status, stats: measure(), ...(error ? { error } : {}) });
    this.onProgress?.(true);
  }
}
