import * as Comlink from 'comlink';
import type { Engine, EngineOptions, EngineStats, GenerateRequest, GeneratedToken, ModelInfo } from '../api.ts';
import { LayerstreamError, reviveError } from '../errors.ts';
import { chatCompletions, completions, type ChatBackend } from '../chat/openai.ts';
import { installErrorTransfer, type ChatInfo, type GenerateResult, type WorkerApi } from './protocol.ts';
import type { RecoveryPolicy } from './device-guard.ts';

installErrorTransfer();

/** Extra engine options (tests, tuning) beyond the public EngineOptions. */
export interface EngineTuning {
  contextLength?: number;
  /** prompt tokens per batch */
  maxBatch?: number;
  /** cap on one weight binding, bytes (forces big tensors to be split) */
  maxBindingBytes?: number;
  /** bytes per upload staging chunk (default 4 MiB; small values make every group span several chunks) */
  stagingChunkBytes?: number;
  /**
   * How repeated GPU device losses back off (src/worker/device-guard.ts DEFAULT_RECOVERY: up to 3
   * losses in 5 min are recovered from, after 250 ms · 2^(n−1), at most 8 s; one more is permanent).
   */
  deviceRecovery?: Partial<RecoveryPolicy>;
}

/**
 * Starts a Web Worker, loads the model there and returns an Engine proxy.
 * URLs are resolved against the page and read with HTTP Range requests; Blobs/Files by slices.
 * Rejects with a LayerstreamError naming the problem (bad file, server, budget, no WebGPU);
 * the worker is then terminated and nothing else is affected.
 */
export async function createEngine(opts: EngineOptions & EngineTuning): Promise<Engine> {
  const worker = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: 'layerstream-engine' });
  const remote = Comlink.wrap<WorkerApi>(worker);
  const model = resolveModel(opts.model);
  const signal = opts.signal;
  let onAbort: (() => void) | null = null;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new LayerstreamError('aborted', 'model load aborted'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {}); // (rejects only when raced below)
  try {
    const loading = remote.load(
      model,
      {
        gpuBudgetBytes: opts.gpuBudgetBytes,
        ramBudgetBytes: opts.ramBudgetBytes,
        contextLength: opts.contextLength,
        kvCacheType: opts.kvCacheType,
        expertStreaming: opts.expertStreaming,
        profileLayers: opts.profileLayers,
        uploadMethod: opts.uploadMethod,
        stateSnapshots: opts.stateSnapshots,
        maxBatch: opts.maxBatch,
        maxBindingBytes: opts.maxBindingBytes,
        stagingChunkBytes: opts.stagingChunkBytes,
        deviceRecovery: opts.deviceRecovery,
        speculative: opts.speculative,
        draftModel: opts.draftModel === undefined ? undefined : resolveModel(opts.draftModel),
        draftGpuBudgetBytes: opts.draftGpuBudgetBytes,
      },
      Comlink.proxy((phase: string, loadedBytes: number, totalBytes: number) => opts.onProgress?.({ phase, loadedBytes, totalBytes })),
    );
    loading.catch(() => {}); // (after an abort nobody waits for it)
    const info = await Promise.race([loading, aborted]);
    return new RemoteEngine(worker, remote, info);
  } catch (e) {
    // terminating the worker stops its work at once, wherever the load was
    worker.terminate();
    throw reviveError(e);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** A model option as the worker takes it: a Blob as is, a URL resolved against the page. */
function resolveModel(m: string | URL | Blob): string | Blob {
  return m instanceof Blob ? m : new URL(String(m), globalThis.location?.href).href;
}

let nextId = 1;

class RemoteEngine implements Engine, ChatBackend {
  private disposed = false;
  /** OpenAI-compatible chat completions (src/chat/openai.ts) */
  readonly chat = { completions: chatCompletions(this) };
  /** OpenAI-compatible text completions */
  readonly completions = completions(this);

  constructor(
    private readonly worker: Worker,
    private readonly remote: Comlink.Remote<WorkerApi>,
    readonly info: ModelInfo,
  ) {}

  private call<R>(fn: () => Promise<R>): Promise<R> {
    if (this.disposed) return Promise.reject(new LayerstreamError('disposed', 'engine was disposed'));
    return fn().catch((e) => {
      throw reviveError(e);
    });
  }

  tokenize(text: string, o: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Promise<number[]> {
    return this.call(() => this.remote.tokenize(text, o.addSpecial ?? true, o.parseSpecial ?? false));
  }
  detokenize(ids: number[]): Promise<string> {
    return this.call(() => this.remote.detokenize(ids));
  }
  logits(tokens: number[], o: { positions?: number[] } = {}): Promise<Float32Array[]> {
    return this.call(() => this.remote.logits(tokens, o.positions));
  }
  stats(): Promise<EngineStats> {
    return this.call(() => this.remote.stats());
  }

  /** Streams generated tokens; stops at maxTokens, an end-of-generation token, or `signal`. */
  async *generate(req: GenerateRequest): AsyncIterable<GeneratedToken> {
    yield* this.stream(req).tokens;
  }

  /**
   * Starts a generation in the worker and bridges its token callbacks to an async iterable;
   * `result` says how it ended. Breaking out of the iteration or aborting `signal` stops the worker
   * loop within one token.
   */
  stream(req: GenerateRequest): { tokens: AsyncIterable<GeneratedToken>; result: Promise<GenerateResult> } {
    if (this.disposed) throw new LayerstreamError('disposed', 'engine was disposed');
    const id = nextId++;
    const queue: GeneratedToken[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    let expected = Infinity; // tokens the worker sent, known when its generate() resolves
    let received = 0;
    const { signal, ...plain } = req;
    const onAbort = () => void this.remote.abort(id);
    signal?.addEventListener('abort', onAbort);
    const result = this.remote
      .generate(id, plain, Comlink.proxy((toks: GeneratedToken[]) => {
        queue.push(...toks);
        received += toks.length;
        wake?.();
      }))
      .then((r) => ((expected = r.sent), r))
      .catch((e) => Promise.reject(reviveError(e)))
      .finally(() => {
        done = true;
        signal?.removeEventListener('abort', onAbort);
        wake?.();
      });
    result.catch(() => {}); // surfaced through the iteration; never an unhandled rejection
    if (signal?.aborted) onAbort(); // the abort message follows the generate call on the same port
    async function* tokens(): AsyncGenerator<GeneratedToken> {
      try {
        for (;;) {
          if (queue.length) {
            if (signal?.aborted) break;
            yield queue.shift()!;
            continue;
          }
          // callbacks travel on their own port: wait until all the worker sent has arrived
          if (done && received >= expected) break;
          if (done) {
            await result; // throws the worker's error, if any
            if (received >= expected) break;
          }
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
        await result;
      } finally {
        if (!done) onAbort();
      }
    }
    return { tokens: tokens(), result };
  }

  async chatInfo(): Promise<ChatInfo> {
    return this.call(() => this.remote.chatInfo());
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.remote.dispose();
    } finally {
      this.remote[Comlink.releaseProxy]();
      this.worker.terminate();
    }
  }
}
