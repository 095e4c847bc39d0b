import * as Comlink from 'comlink';
import type { EngineOptions, EngineStats, GenerateRequest, GeneratedToken, ModelInfo } from '../api.ts';
import type { RecoveryPolicy } from './device-guard.ts';

export interface ChatInfo {
  /** tokenizer.chat_template, or null */
  template: string | null;
  bosToken: string;
  eosToken: string;
  /** whether tokenizing with addSpecial puts a BOS in front */
  addBos: boolean;
  /**
   * Control tokens of the vocabulary that tool-call / reasoning formats write in an answer
   * (src/grammar/vocab.ts OUTPUT_MARKERS) as [id, text]: they decode to nothing, so the chat layer
   * puts their text back before parsing.
   */
  markers?: [number, string][];
}

/** How a generation ended, for OpenAI's finish_reason and usage. */
export interface GenerateResult {
  /** tokens sent through onTokens */
  sent: number;
  finish: 'stop' | 'length' | 'abort';
  promptTokens: number;
  /** prompt tokens whose K/V were reused from the previous turn */
  cachedTokens: number;
  /** constrained generation (GenerateRequest.grammar): ms per allowed-token mask computed, and how many */
  grammarMs?: { maskPerToken: number; masks: number };
}

/** EngineOptions without the model and callbacks, plus the tuning knobs (see client.ts EngineTuning). */
export type LoadOptions = Pick<EngineOptions, 'gpuBudgetBytes' | 'ramBudgetBytes' | 'contextLength' | 'kvCacheType' | 'expertStreaming' | 'profileLayers' | 'uploadMethod' | 'stateSnapshots' | 'speculative' | 'draftGpuBudgetBytes'> & {
  /** EngineOptions.draftModel, resolved (a URL string or a Blob) */
  draftModel?: string | Blob;
  maxBatch?: number;
  maxBindingBytes?: number;
  stagingChunkBytes?: number;
  /** how repeated GPU device losses back off before device_lost is permanent (device-guard.ts) */
  deviceRecovery?: Partial<RecoveryPolicy>;
};

/** What the engine worker exposes over Comlink (plain data in, plain data out). */
export interface WorkerApi {
  load(
    model: string | Blob,
    opts: LoadOptions,
    onProgress: (phase: string, loaded: number, total: number) => void,
  ): Promise<ModelInfo>;
  tokenize(text: string, addSpecial: boolean, parseSpecial?: boolean): Promise<number[]>;
  /** What chat needs from the model: its template and special tokens as text. */
  chatInfo(): Promise<ChatInfo>;
  detokenize(ids: number[]): Promise<string>;
  /**
   * Streams tokens through onTokens; resolves, when generation ends, with the number of tokens sent
   * (callbacks travel on their own MessagePort, so they may arrive after this result).
   */
  generate(id: number, req: Omit<GenerateRequest, 'signal'>, onTokens: (tokens: GeneratedToken[]) => void): Promise<GenerateResult>;
  abort(id: number): void;
  logits(tokens: number[], positions?: number[]): Promise<Float32Array[]>;
  stats(): Promise<EngineStats>;
  dispose(): Promise<void>;
}

/**
 * Comlink sends thrown Errors as {message, name, stack}; keep our `code` too so the main thread can
 * rebuild a LayerstreamError (see reviveError). Installed on both sides.
 */
export function installErrorTransfer(): void {
  const base = Comlink.transferHandlers.get('throw')!;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(v: unknown) {
      const value = (v as { value: unknown }).value;
      if (value instanceof Error) {
        const code = (value as { code?: string }).code;
        return [{ isError: true, value: { message: value.message, name: value.name, stack: value.stack, code } }, []];
      }
      return base.serialize(v);
    },
    deserialize: base.deserialize,
  });
}
