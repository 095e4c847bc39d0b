import type { GGUFFile, Metadata } from '../gguf/gguf.ts';
import type { BufView, Kernels, KvCacheType, WeightRef } from '../gpu/kernels.ts';

/** Hyperparameters every architecture provides (llama.cpp's llama_hparams names in comments). */
export interface BaseHParams {
  nLayers: number; // n_layer
  nEmbd: number; // n_embd
  nVocab: number;
  contextLength: number; // n_ctx_train
  /** K/V row width per position: n_head_kv · head_dim (MLA: the latent row, kv_lora_rank + n_rot) */
  kvWidth: number;
  /**
   * MLA (deepseek2): the K cache holds the compressed latent row and V is read from its first
   * columns, so there is no V cache (llama.cpp's build_attn_inp_k: a K-only cache). Default false.
   */
  kvLatent?: boolean;
  /**
   * Floats per token and layer that keys and values take stored per head, as llama.cpp would store
   * them without MLA's latent cache (the non-absorbed graph): n_head · (qk_nope + qk_rope) for K plus
   * n_head · v_head for V. Default 2 · kvWidth (an ordinary K and V cache).
   */
  kvWidthUncompressed?: number;
  /**
   * Hybrid models (qwen35: Gated DeltaNet layers between attention layers): per layer, whether it
   * has a K/V cache. Default: every layer.
   */
  kvLayers?: boolean[];
  /**
   * Recurrent layers (qwen35's Gated DeltaNet): per layer, the float32 values of its conv state and
   * of its recurrent (delta-rule) state, 0 for layers without (llama.cpp hparams n_embd_r() /
   * n_embd_s()). They are carried from step to step, allocated at load and do not grow with the context.
   */
  recurrentState?: { conv: number[]; ssm: number[] };
  /** the tensor used as output head (output.weight, or token_embd.weight when tied) */
  outputTensor: string;
  /** scale applied to embeddings after lookup (gemma: sqrt(n_embd)) */
  embedScale: number;
  /** mixture of experts: experts per layer (0 = dense) */
  nExpert: number;
}

/** An activation buffer the forward pass needs: `width` float32 per token of a batch. */
export type ActivationSpec = Record<string, number>;

/** A weight the architecture needs: name, layer (nLayers for the head, -1 for always-resident globals), expected ne. */
export interface WeightSpec {
  name: string;
  unit: number;
  ne: number[];
  optional?: boolean;
}

/** Options of ForwardContext.matmul (see Kernels.matmul). */
export interface MatmulOptions {
  accumulate?: boolean;
  head?: boolean;
  rows?: [number, number];
  xCol0?: number;
  xStride?: number;
  yCol0?: number;
  yStride?: number;
}

/**
 * What a forward pass can call. All shapes are [T, width] float32 activations unless stated.
 * Matmuls and weight lookups are async because a streamed weight may have to be uploaded first.
 */
export interface ForwardContext {
  readonly k: Kernels;
  /** tokens in this step and the position of the first */
  readonly T: number;
  readonly pos0: number;
  /** whether the output head must run (false for prefill chunks whose logits nobody reads) */
  readonly wantLogits: boolean;
  /** activation buffers, as declared by the architecture's `activations` */
  readonly a: Record<string, BufView>;
  /**
   * this layer's K / V cache [ctx, kvWidth] in the format kvType (written by Kernels.kvStore); with
   * a latent cache (kvLatent) there is one: vCache(l) is kCache(l)
   */
  kCache(layer: number): BufView;
  vCache(layer: number): BufView;
  readonly kvType: KvCacheType;
  /**
   * recurrent layers (BaseHParams.recurrentState): this layer's conv state and recurrent state, f32,
   * holding what the tokens before pos0 left (zero at the start of a sequence); kernels update them
   */
  convState(layer: number): BufView;
  ssmState(layer: number): BufView;
  /** a binding of `length` ones (≤ 4096), e.g. the weight of a plain L2 norm */
  ones(length: number): BufView;
  /** mixture of experts: run only the experts the router picks (false: every expert, unpicked ones weighted 0) */
  readonly sparseExperts: boolean;
  /** attention score scratch [n_head, tMax, ctx] and its tMax (the batch capacity) */
  readonly scores: BufView;
  readonly tMax: number;
  readonly ctx: number;
  /** y [T, n_embd] = token_embd rows of this step's tokens × embedScale */
  embed(y: BufView): Promise<void>;
  /**
   * y (+)= W · x for weight `name` (rows [r0, r1) of it when `rows` is given: a part of a fused
   * tensor, one expert of a 3-D one), streaming its pieces through the pool when not resident.
   * Column slices (Kernels.matmul): x columns xCol0.. of rows xStride wide, y columns yCol0.. of
   * rows yStride wide (MLA's per-head products).
   */
  matmul(y: BufView, name: string, x: BufView, o?: MatmulOptions): Promise<void>;
  /** Submits recorded work and reads `floats` float32 values of `view` back (e.g. router logits). */
  read(view: BufView, floats: number): Promise<Float32Array>;
  /** Writes T per-token weights into slot `slot` of a small GPU buffer and returns its view. */
  tokenWeights(slot: number, w: Float32Array): BufView;
  /** a small (1-D) weight, e.g. a norm or bias vector, bound whole */
  vector(name: string): Promise<WeightRef>;
  /** a binding of ones, or `name` if the file has it (RoPE frequency factors) */
  optionalVector(name: string, length: number): Promise<BufView>;
  has(name: string): boolean;
}

/** One model family: reads its hyperparameters, lists its weights, and runs its graph. */
export interface Architecture<H extends BaseHParams = BaseHParams> {
  readonly name: string;
  /** Throws LayerstreamError('malformed') naming a missing or bad key. */
  hparams(md: Metadata, gguf: GGUFFile): H;
  /** Weights in the order the forward pass uses them (drives streaming order). */
  weights(h: H, gguf: GGUFFile): WeightSpec[];
  activations(h: H): ActivationSpec;
  /** Runs one step (T tokens) through every layer and, if ctx.wantLogits, the head into a.logits. */
  forward(ctx: ForwardContext, h: H): Promise<void>;
}
