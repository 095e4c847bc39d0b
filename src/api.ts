import type { chatCompletions, completions } from './chat/openai.ts';

/**
 * Public API types (exported from src/index.ts). The engine runs in a Web Worker; these shapes are
 * what crosses the boundary, so they are plain data.
 */

export interface EngineOptions {
  /** URL: read with HTTP Range requests, never one whole-file fetch into memory. Blob/File: read by slices. */
  model: string | URL | Blob;
  /**
   * Cap on the GPU memory the engine uses, bytes: K/V cache + scratch (activations, logits) +
   * weights (resident + streaming pool slots). Weights get what the K/V cache and scratch leave.
   * Default: half of navigator.deviceMemory (a quarter on a CPU fallback adapter), at most
   * 4 × the adapter's maxBufferSize, 256 MiB .. 4 GiB (defaultGpuBudget in src/engine/residency.ts).
   */
  gpuBudgetBytes?: number;
  /**
   * RAM tier, bytes: streamed weight bytes kept in memory (LRU) so they are not read from disk or
   * the network every token. Default 0 (off).
   */
  ramBudgetBytes?: number;
  /** Context length in tokens (KV cache size). Default: min(model's context_length, 2048). */
  contextLength?: number;
  /**
   * K/V cache format: 'f32' (default) or 'q8_0' — ggml-style 8-bit blocks (32 int8 + an f32 scale,
   * 36 bytes per 32 values: 3.6× smaller) for long contexts. Needs n_head_kv · head_dim % 32 == 0.
   */
  kvCacheType?: 'f32' | 'q8_0';
  /**
   * Mixture of experts: upload only the experts the router picks, through an LRU GPU expert cache
   * (default true). false: every expert of a streamed layer is uploaded and run each token (the
   * unpicked ones with weight 0), as a dense layer — a baseline for the benchmark.
   */
  expertStreaming?: boolean;
  /** Time each layer's GPU work with timestamp queries (stats().layerGpuMs). Default false. */
  profileLayers?: boolean;
  /**
   * How streamed weight bytes reach the GPU: 'writeBuffer' (GPUQueue.writeBuffer from reused host
   * chunks, the default) or 'mapped' (read straight into mapped MAP_WRITE staging buffers, then
   * copyBufferToBuffer). `npm run bench` compares them.
   */
  uploadMethod?: 'writeBuffer' | 'mapped';
  /**
   * Models with recurrent state (qwen35's Gated DeltaNet layers): how many copies of every layer's
   * state the engine keeps on the GPU (taken at the end of each prompt but its last token and at the
   * end of each generate call), so a follow-up, regenerated or edited prompt resumes from the latest
   * one at or before its common prefix with what was processed, instead of from the start (a
   * recurrent state cannot be rolled back to an earlier position as a K/V cache can). Counted in the
   * GPU budget. Default 4; 0 = none.
   */
  stateSnapshots?: number;
  /**
   * Speculative decoding for every generate / chat call that does not set its own
   * (GenerateRequest.speculative). Default { draft: 'auto' }.
   */
  speculative?: SpeculativeOptions;
  /**
   * A small GGUF with the target's vocabulary (same token texts; sizes may differ by up to 128
   * padding tokens, as llama.cpp's speculative example allows), run ahead to propose draft tokens
   * (speculative.draft 'model'). Kept resident; its GPU memory comes out of gpuBudgetBytes.
   * A draft whose tokenizer differs is refused at load with LayerstreamError('vocab_mismatch').
   */
  draftModel?: string | URL | Blob;
  /** GPU bytes for the draft model (weights + its K/V cache + scratch). Default: 1.25 × its file + 32 MiB. */
  draftGpuBudgetBytes?: number;
  /** Called during load. `phase` is e.g. 'header', 'plan', 'upload', 'ready'. */
  onProgress?: (p: LoadProgress) => void;
  /**
   * Aborts the load: createEngine rejects with LayerstreamError('aborted') at once and the worker
   * doing the load is terminated (its reads, uploads and GPU memory end with it; a download into
   * the browser cache keeps the chunks it completed and resumes from them next time).
   */
  signal?: AbortSignal;
}

/**
 * Speculative decoding: propose up to maxDraftTokens tokens cheaply, verify them in one batched
 * forward pass of the model (each weight read once for all of them, which is what a streamed
 * model pays for), keep the longest accepted prefix plus one token from the model. Greedy output
 * is identical token for token to plain decoding; sampled output follows the model's distribution
 * exactly (speculative sampling), reproducibly for a seed.
 */
export interface SpeculativeOptions {
  /**
   * 'ngram': prompt lookup — the continuation of the longest recent n-gram (2..4 tokens) that
   * repeats in the context, no extra model; 'model': the engine's draftModel; 'off': plain decoding;
   * 'auto' (default): 'model' when a draft model is loaded, else 'ngram' when some layers are
   * streamed (a pass is then bound by uploads, and verifying more tokens costs little), else off.
   */
  draft: 'auto' | 'ngram' | 'model' | 'off';
  /**
   * Most draft tokens per pass (default 4 for ngram, 4 for a draft model). Adaptive: after a
   * rejection the next draft is at most one longer than what was accepted.
   */
  maxDraftTokens?: number;
}

export interface LoadProgress {
  phase: string;
  /** bytes done in this phase */
  loadedBytes: number;
  /** bytes in this phase */
  totalBytes: number;
}

export interface ModelInfo {
  /** `general.architecture`, e.g. 'llama' */
  architecture: string;
  /** `general.name` or the file name */
  name: string;
  nLayers: number;
  nVocab: number;
  /** tokens, from `<arch>.context_length` */
  contextLength: number;
  /** bytes */
  fileBytes: number;
  /** ggml type name → number of tensors of that type */
  tensorTypes: Record<string, number>;
}

export interface EngineStats {
  /** the GPU budget in force (K/V cache + scratch + weights), bytes */
  gpuBudgetBytes: number;
  /** what the budget leaves for weights after the K/V cache and scratch, bytes */
  weightBudgetBytes: number;
  /** GPU bytes holding weights: resident tensors + streaming pool slots (≤ weightBudgetBytes) */
  weightBytesOnGpu: number;
  /**
   * GPU bytes of the K/V cache (2 × layers × context × kv row: kv width × 4, or kv width / 32 × 36
   * for q8_0; a latent cache (MLA: deepseek2) holds one row per layer and position, no V cache)
   */
  kvCacheBytes: number;
  kvCacheType: 'f32' | 'q8_0';
  /** Layers that have a K/V cache (all of them, but for hybrid models only the attention layers). */
  kvCacheLayers: number;
  /**
   * Bytes one token's keys and values take in the K/V cache, all layers, in its format: 2 × layers ×
   * kv row; with MLA's latent cache, layers × one latent row (kv_lora_rank + n_rot values).
   */
  kvCacheBytesPerToken: number;
  /**
   * What one token's keys and values would take, all layers, in the same format, stored per head as
   * llama.cpp does without MLA (the non-absorbed graph): layers × (n_head · (qk_nope + qk_rope) +
   * n_head · v_head) values. Equal to kvCacheBytesPerToken for models without a latent cache.
   */
  kvCacheBytesPerTokenUncompressed: number;
  /**
   * Models with recurrent layers (qwen35's Gated DeltaNet): GPU bytes of every layer's conv state
   * and delta-rule state (llama.cpp's per-sequence recurrent memory), fixed at load — it does not
   * grow with the context. 0 for other models.
   */
  recurrentStateBytes: number;
  /** GPU bytes of the state snapshots (EngineOptions.stateSnapshots × recurrentStateBytes), allocated at load */
  stateSnapshotBytes: number;
  /** snapshots holding a state now, and the token positions they were taken at */
  stateSnapshotPositions: number[];
  /**
   * profileLayers: GPU milliseconds of each layer's compute passes in the last forward pass, from
   * timestamp queries (empty when off or when the adapter has no 'timestamp-query'), and the head's.
   */
  layerGpuMs: number[];
  headGpuMs: number;
  /** GPU bytes of activations, logits and uniforms */
  scratchBytes: number;
  layersResident: number;
  layersStreamed: number;
  /** weight bytes written to the GPU during the last forward pass */
  bytesUploadedLastToken: number;
  /** weight bytes written to the GPU since load */
  bytesUploadedTotal: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /**
   * Compute dispatches and GPU round trips (a submit, then a wait for a buffer map: the logits, and
   * each MoE layer's router) per decode pass of the last generate, token picking included. The
   * memory-fit advisor (src/advisor) predicts speed from these counts (0 before a decode).
   */
  dispatchesLastPass: number;
  readbacksLastPass: number;
  /** streaming pool: number of slots and bytes per slot (0 when fully resident) */
  poolSlots: number;
  poolSlotBytes: number;
  /** per layer: 'resident' or 'streamed' */
  layerResidency: ('resident' | 'streamed')[];
  /** tokens currently in the KV cache */
  contextTokens: number;
  contextLength: number;
  /** RAM tier: budget and bytes held, bytes */
  ramBudgetBytes: number;
  ramBytesUsed: number;
  /** host memory of the upload staging chunks the loader reads into (fixed at load), bytes, and how they are uploaded */
  stagingBytes: number;
  uploadMethod: 'writeBuffer' | 'mapped';
  /** weight bytes read from storage (disk / network) during the last forward pass */
  bytesReadLastToken: number;
  /** ms the last forward pass was blocked on streamed bytes (reads from storage not done yet) */
  streamWaitMsLastToken: number;
  /**
   * ms the last forward pass waited for the GPU to finish with a pool slot before refilling it:
   * the GPU's own work, which streaming overlaps (on a compute-bound device this is most of a pass)
   */
  slotWaitMsLastToken: number;
  /** bytes uploaded per second of the last forward pass (the streaming rate achieved) */
  streamBytesPerSecond: number;
  /** mixture of experts, when streaming: GPU expert cache slots, and hits / misses since load */
  expertCacheSlots: number;
  expertCacheHits: number;
  expertCacheMisses: number;
  /** GPU buffers the engine has created since load began (all at load: it stays constant per token) */
  gpuBuffersCreated: number;
  /**
   * GPUDevice losses since load (driver reset, GPU process crash, out of memory: GPUDevice.lost with
   * a reason other than 'destroyed'); each ends the call in flight with LayerstreamError('device_lost')
   */
  deviceLosses: number;
  /** engines rebuilt on a new device after a loss (weights re-uploaded; the next prompt is prefilled whole) */
  deviceRecoveries: number;
  /** speculative decoding in the last generate: which draft ran ('off' when none did) */
  speculativeDraft: 'off' | 'ngram' | 'model';
  /** draft tokens proposed and accepted in the last generate */
  draftTokensProposed: number;
  draftTokensAccepted: number;
  /** forward passes of the model in the last generate, prefill excluded (plain decoding: one per token after the first) */
  forwardPassesLastGenerate: number;
  /** weight bytes uploaded during the last generate's decode passes (prefill excluded) */
  bytesUploadedLastGenerate: number;
  /** draft model: its name and GPU bytes (weights + K/V cache + scratch), or null */
  draftModel: { name: string; gpuBytes: number } | null;
  /**
   * Constrained generation in the last generate (GenerateRequest.grammar), or null without one:
   * compileMs — grammar compile (or cache hit) + matcher set-up, ms; masks — allowed-token masks
   * computed; maskMsPerToken — CPU ms per mask (xgrammar's mask + the UTF-8 filter; the mask then
   * goes to the GPU as one ceil(n_vocab / 32)-word writeBuffer).
   */
  grammarLastGenerate?: { compileMs: number; masks: number; maskMsPerToken: number } | null;
}

export interface GenerateRequest {
  /** text (tokenized with BOS as the vocab says) or token ids */
  prompt: string | number[];
  maxTokens: number;
  /** 0 = greedy (argmax on the GPU). Default 0. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** drop tokens below minP × the best token's probability */
  minP?: number;
  /** llama.cpp repeat penalty over the last 64 tokens (1 = off) */
  repetitionPenalty?: number;
  /** OpenAI-style penalties on tokens generated so far (0 = off) */
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** token id → bias added to its logit */
  logitBias?: Record<number, number>;
  /** RNG seed; same seed → same tokens */
  seed?: number;
  /** speculative decoding for this call (default: EngineOptions.speculative) */
  speculative?: SpeculativeOptions;
  /**
   * Constrained generation: every token keeps the output a prefix of a value the spec accepts, and
   * an end-of-generation token is allowed only once the value is complete (src/grammar/, xgrammar).
   */
  grammar?: GrammarSpec;
  signal?: AbortSignal;
}

/**
 * What constrained generation follows (plain data: it crosses the worker boundary and is compiled
 * there, by @mlc-ai/web-xgrammar, into a token mask per step):
 * - json_object: any JSON object;
 * - json_schema: JSON text valid for `schema` — converted to GBNF by src/grammar/json-schema.ts
 *   (llama.cpp's common/json-schema-to-grammar.cpp approach: type, enum, const, properties,
 *   required, additionalProperties, items/prefixItems, min/maxItems, min/maxLength, integer
 *   minimum/maximum/exclusive*, anyOf/oneOf, allOf of objects, local $ref; keywords it cannot
 *   enforce such as pattern are refused with invalid_request); strict (default true): no
 *   properties beyond `properties` unless additionalProperties says so;
 * - grammar: text matching a GBNF grammar as llama.cpp writes it (grammars/*.gbnf; xgrammar's EBNF
 *   dialect: `::=`, `|`, `"literals"`, `[classes]`, `* + ? {m,n}`, `#` comments), starting at the
 *   rule named `root` (default "root").
 */
export type GrammarSpec =
  | { type: 'json_object' }
  | { type: 'json_schema'; schema: Record<string, unknown> | boolean; strict?: boolean }
  | { type: 'grammar'; grammar: string; root?: string };

export interface GeneratedToken {
  token: number;
  /** the text this token adds (may be '' while a UTF-8 sequence is incomplete) */
  text: string;
}

export interface Engine {
  readonly info: ModelInfo;
  /** addSpecial: BOS (and EOS) as the vocabulary says (default true); parseSpecial: turn special-token text into ids */
  tokenize(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): Promise<number[]>;
  detokenize(ids: number[]): Promise<string>;
  /** OpenAI-compatible chat completions (`create({ messages, stream })`), see src/chat/openai.ts */
  readonly chat: { completions: ReturnType<typeof chatCompletions> };
  /** OpenAI-compatible text completions */
  readonly completions: ReturnType<typeof completions>;
  /** Streams generated tokens; stops at maxTokens, an end-of-generation token, or `signal`. */
  generate(req: GenerateRequest): AsyncIterable<GeneratedToken>;
  /** One nVocab logit row per requested position (indices into `tokens`; default: the last). */
  logits(tokens: number[], opts?: { positions?: number[] }): Promise<Float32Array[]>;
  stats(): Promise<EngineStats>;
  dispose(): Promise<void>;
}

export interface Tokenizer {
  tokenize(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  detokenize(ids: number[]): string;
}

/** A model in the browser's own storage (OPFS), as the model manager lists it. */
export interface CachedModel {
  /** stable id: derived from the source URL, or from name + size for imported files */
  id: string;
  /** where it came from (first part for split GGUF); null for a local file */
  url: string | null;
  /** file name (of the first part) */
  name: string;
  /** bytes of the whole model (all parts) */
  sizeBytes: number;
  /** bytes stored so far */
  downloadedBytes: number;
  complete: boolean;
  /** number of files (split GGUF: name-00001-of-0000N.gguf) */
  parts: number;
  /** validators of the first part as the server sent them */
  etag: string | null;
  lastModified: string | null;
  /** hex sha256 of the whole file once verified against a known value, else null */
  sha256: string | null;
  /** ms since epoch */
  createdAt: number;
  lastUsed: number;
}

export interface DownloadProgress {
  id: string;
  loadedBytes: number;
  totalBytes: number;
  /** moving average over the last seconds */
  bytesPerSecond: number;
  /** seconds left at that rate (Infinity when unknown) */
  etaSeconds: number;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** aborting keeps completed chunks: calling downloadModel again resumes */
  signal?: AbortSignal;
  /** expected hex sha256 of the file; verified at the end, a mismatch deletes it */
  sha256?: string;
}

export interface StorageEstimate {
  /** what navigator.storage.estimate() says for this origin */
  usageBytes: number;
  quotaBytes: number;
  /** whether the browser promised not to evict this origin's data */
  persisted: boolean;
  /** bytes held by cached models */
  modelBytes: number;
}
