import type { PassTimer } from './pass-timer.ts';
import { Recorder } from './recorder.ts';
import { IQ_GRID_WORDS } from './iq-grids.ts';
import { UNIFORM_SLOT, UNIFORM_SLOTS } from './fixed-sizes.ts';
import { needsGrids, plainKernelSource, quantKernelSource, type PlainKernel, type QuantKernel } from './shaders.ts';

/** A buffer range bound to a kernel. size undefined = to the end of the buffer. */
export interface BufView {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** A weight tensor as the kernels see it: ggml type, row geometry, and its bound pieces. */
export interface WeightRef {
  name: string;
  type: string;
  /** ne[0] (input width, elements) and total rows */
  cols: number;
  rows: number;
  rowBytes: number;
  pieces: { view: BufView; row0: number; rows: number }[];
}

/** K/V cache element format: float32, or ggml-style q8_0 blocks (3.6× smaller). */
export type KvCacheType = 'f32' | 'q8_0';

/** Size of a kernel's uniform parameter block (the WGSL `Params` structs are at most this). */
const PARAM_BYTES = 64;
const MAX_X = 32768;

/** Grid for `n` workgroups: x ≤ 32768, the rest in y (workgroup counts are capped at 65535 per dimension). */
function grid(n: number): [number, number] {
  return n <= MAX_X ? [Math.max(n, 1), 1] : [MAX_X, Math.ceil(n / MAX_X)];
}

/**
 * The kernel library: compiles pipelines on first use, interns uniform parameter blocks and bind
 * groups (buffers never change after load, so each op site builds its bind group once), and records
 * dispatches. Every method records work for the current step (`setStep`): T tokens at pos0.
 * Shapes in the comments are [rows, columns] in float32 elements.
 */
/** Pipelines by device, keyed by kernel, type, entry point and constants (see pipeline()). */
const DEVICE_PIPELINES = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export class Kernels {
  readonly recorder: Recorder;
  /** compiled pipelines, shared by every Kernels on the device (a draft model's engine reuses the target's) */
  private pipelines: Map<string, GPUComputePipeline>;
  private bindGroups = new Map<string, GPUBindGroup>();
  private uniformKeys = new Map<string, number>();
  private uniforms: GPUBuffer;
  private readonly step: GPUBuffer;
  /** i-quant lookup tables (src/gpu/iq-grids.ts), bound at binding 7 of kernels reading IQ1–IQ3 types */
  private readonly grids: GPUBuffer;
  private bufIds = new WeakMap<GPUBuffer, number>();
  private nextBufId = 1;
  /** tokens in the current step, and rows of the head output */
  T = 1;
  headT = 1;

  /**
   * @param rowPerThread use the barrier-free matmul variant (one invocation per row): faster on
   *   CPU WebGPU implementations such as SwiftShader, slower on GPUs.
   * @param timer times compute passes per layer (profileLayers), or null
   */
  constructor(readonly device: GPUDevice, readonly rowPerThread = false, timer: PassTimer | null = null) {
    this.recorder = new Recorder(device, timer);
    this.pipelines = DEVICE_PIPELINES.get(device) ?? new Map();
    DEVICE_PIPELINES.set(device, this.pipelines);
    this.uniforms = device.createBuffer({ label: 'uniform params', size: UNIFORM_SLOT * UNIFORM_SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.step = device.createBuffer({ label: 'step', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.grids = device.createBuffer({ label: 'i-quant grids', size: IQ_GRID_WORDS.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(this.grids, 0, IQ_GRID_WORDS);
  }

  /** Bytes of GPU memory the kernel library holds (uniforms). */
  get bytes(): number {
    return this.uniforms.size + this.step.size + this.grids.size + (this.recorder.timer?.bytes ?? 0);
  }

  /**
   * Starts a step of T tokens at positions pos0.., whose head (output projection) runs on
   * `headT` rows starting at row headRow0. Flushes earlier work first (the step uniform is shared).
   */
  setStep(T: number, pos0: number, headRow0: number, headT: number): void {
    this.recorder.flush();
    this.T = T;
    this.headT = headT;
    this.device.queue.writeBuffer(this.step, 0, new Uint32Array([T, pos0, headRow0, headT]));
  }

  // ---- kernels -------------------------------------------------------------------------------

  /**
   * Y[t, yCol0 + c - r0] (+)= W[c, :] · X[t, xCol0 .. xCol0 + w.cols) for the rows c in [r0, r1) of
   * W (default all), over the pieces W is bound in. X [T, xStride] (default w.cols; xCol0 default 0,
   * both multiples of 4), Y [T, yStride] (yStride default r1 - r0, yCol0 default 0): column slices
   * of X and Y are MLA's per-head products (one head of q times its slice of attn_k_b).
   * head: use the step's head rows of X and write rows 0..headT.
   */
  matmul(
    y: BufView, w: WeightRef, x: BufView,
    o: { accumulate?: boolean; head?: boolean; rows?: [number, number]; yStride?: number; yCol0?: number; xStride?: number; xCol0?: number } = {},
  ): void {
    const flags = (o.accumulate ? 1 : 0) | (o.head ? 2 : 0);
    const T = o.head ? this.headT : this.T;
    const [r0, r1] = o.rows ?? [0, w.rows];
    const pipeline = this.quantPipeline('matmul', w.type, this.rowPerThread ? 'rows' : 'main');
    for (const p of w.pieces) {
      const a = Math.max(r0, p.row0);
      const b = Math.min(r1, p.row0 + p.rows);
      if (a >= b) continue;
      const params = this.params([b - a, w.cols, w.rowBytes, (o.yCol0 ?? 0) + a - r0, o.yStride ?? r1 - r0, o.xStride ?? w.cols, flags, a - p.row0, o.xCol0 ?? 0]);
      const bg = this.bindGroup(pipeline, this.withGrids(w.type, [p.view, x, y, params, { buffer: this.step }]));
      const [gx, gy] = grid(this.rowPerThread ? Math.ceil((b - a) / 64) : b - a);
      this.recorder.dispatch(pipeline, bg, gx, gy, Math.ceil(T / 4));
    }
  }

  /** Y [rows, k] = dequantized rows of a ggml-typed buffer W (rows of rowBytes bytes) × scale. */
  getRows(y: BufView, w: BufView, type: string, rows: number, k: number, rowBytes: number, scale = 1): void {
    const pipeline = this.quantPipeline('get_rows', type);
    const params = this.params([rows, k, rowBytes, 0], [3, scale]);
    const bg = this.bindGroup(pipeline, this.withGrids(type, [w, y, params]));
    const [gx, gy] = grid(Math.ceil((rows * k) / 4 / 64));
    this.recorder.dispatch(pipeline, bg, gx, gy);
  }

  /**
   * Y [T, groups·n] (+)= RMSNorm of each n-wide group of X, times w [n].
   * accumulate: add into Y.
   */
  rmsNorm(y: BufView, x: BufView, w: WeightRef, n: number, eps: number, o: { groups?: number; accumulate?: boolean; xStride?: number; yStride?: number } = {}): void {
    this.norm(y, x, w.pieces[0].view, n, eps, false, o);
  }

  /**
   * Y [T, groups·n] = each n-wide group of X / max(‖group‖₂, eps) (ggml_l2_norm): Gated DeltaNet's
   * q and k heads. Rows of X and Y are xStride / yStride floats apart (default groups·n), so a
   * column range of a wider row (X = x shifted by a column offset) is normalised into its own buffer.
   */
  l2Norm(y: BufView, x: BufView, ones: BufView, n: number, eps: number, o: { groups?: number; xStride?: number; yStride?: number } = {}): void {
    this.norm(y, x, ones, n, eps, true, o);
  }

  /** rmsnorm.wgsl: RMSNorm × w, or (l2) the L2 norm × w. */
  private norm(y: BufView, x: BufView, w: BufView, n: number, eps: number, l2: boolean, o: { groups?: number; accumulate?: boolean; xStride?: number; yStride?: number }): void {
    const groups = o.groups ?? 1;
    const pipeline = this.plainPipeline('rmsnorm', 'main', l2 ? { L2: 1 } : {});
    const params = this.params([n, groups, 0, o.accumulate ? 1 : 0, o.xStride ?? 0, o.yStride ?? 0], [2, eps]);
    const bg = this.bindGroup(pipeline, [x, w, y, params, { buffer: this.step }]);
    this.recorder.dispatch(pipeline, bg, this.T * groups);
  }

  /**
   * RoPE in place on X [T, nHeads·headDim]: the nRot dims from rotOffset (default 0) of each head;
   * mode 0 = adjacent pairs (llama), 2 = NEOX halves. yarn: YaRN's ext_factor, attn_factor and
   * correction dims (RopeScaling, src/models/hparams.ts); without it plain scaling by freqScale.
   * mode 40 = interleaved multi-section RoPE (imrope: Qwen3.5) over `sections` [t, h, w, e] pairs.
   */
  rope(x: BufView, freqFactors: BufView, o: {
    nHeads: number; headDim: number; nRot: number; mode: number; base: number; freqScale: number;
    rotOffset?: number; yarn?: { extFactor: number; attnFactor: number; corr: [number, number] }; sections?: readonly number[];
  }): void {
    const pipeline = this.plainPipeline('rope');
    const y = o.yarn ?? { extFactor: 0, attnFactor: 1, corr: [0, 0] };
    const sec = o.mode === 40 ? o.sections ?? [] : [];
    if (o.mode === 40 && !(sec.length === 4 && sec.reduce((a, b) => a + b, 0) > 0)) throw new Error('rope mode 40 (imrope) needs four sections');
    const params = this.params(
      [o.nHeads, o.headDim, o.nRot, o.mode, 0, 0, o.rotOffset ?? 0, 0, 0, 0, 0, 0, ...sec],
      [4, o.base], [5, o.freqScale], [8, y.extFactor], [9, y.attnFactor], [10, y.corr[0]], [11, y.corr[1]],
    );
    const bg = this.bindGroup(pipeline, [x, freqFactors, params, { buffer: this.step }]);
    this.recorder.dispatch(pipeline, bg, Math.ceil((this.T * o.nHeads * (o.nRot / 2)) / 64));
  }

  /**
   * Y[t, yCol0 + g·yGroup + i] = X[t, xCol0 + g·xGroup + i] for the step's tokens, g < groups
   * (default 1), i < n: a strided column copy (ggml_view + ggml_concat along dim 0), e.g. MLA's
   * roped q_pe of every head into the absorbed query. X [T, xStride], Y [T, yStride] (strides
   * default groups·n; group strides default n); X and Y are different buffers.
   */
  copy(y: BufView, x: BufView, o: { n: number; groups?: number; xStride?: number; xCol0?: number; xGroup?: number; yStride?: number; yCol0?: number; yGroup?: number }): void {
    const groups = o.groups ?? 1;
    const pipeline = this.plainPipeline('copy');
    const params = this.params([o.n, groups, o.xStride ?? groups * o.n, o.xCol0 ?? 0, o.xGroup ?? o.n, o.yStride ?? groups * o.n, o.yCol0 ?? 0, o.yGroup ?? o.n]);
    const bg = this.bindGroup(pipeline, [x, y, params, { buffer: this.step }]);
    const [gx, gy] = grid(Math.ceil((this.T * groups * o.n) / 64));
    this.recorder.dispatch(pipeline, bg, gx, gy);
  }

  /**
   * Cache rows pos0..pos0+T-1 = X [T, width]: copied (f32 cache) or quantized to q8_0 blocks
   * (format: shaders/kv_cache.wgsl; q8_0 needs width % 32 == 0).
   */
  kvStore(cache: BufView, x: BufView, width: number, kvType: KvCacheType): void {
    const pipeline = this.plainPipeline('kv_cache', 'main', { KV_Q8: kvType === 'q8_0' ? 1 : 0 });
    const bg = this.bindGroup(pipeline, [x, cache, this.params([width, 0, 0, 0]), { buffer: this.step }]);
    const [gx, gy] = grid(Math.ceil((this.T * Math.ceil(width / 32)) / 64));
    this.recorder.dispatch(pipeline, bg, gx, gy);
  }

  /**
   * O [T, nHead·vDim] = causal softmax(scale · Q Kᵀ) V against the K/V cache [ctx, kStride] /
   * [ctx, vStride] (f32 or q8_0, as written by kvStore). Q [T, nHead·headDim]. vDim, kStride,
   * vStride default to headDim, nHeadKv·headDim, nHeadKv·vDim. sinks: a per-head logit [nHead]
   * in the softmax denominator (gpt-oss). temp: query temperature 1 + scale · ln(⌊pos / floor⌋ + 1).
   */
  attention(
    out: BufView, q: BufView, k: BufView, v: BufView, scores: BufView,
    o: {
      nHead: number; nHeadKv: number; headDim: number; ctx: number; scale: number; softcap: number; window: number; tMax: number; kvType: KvCacheType;
      vDim?: number; kStride?: number; vStride?: number; sinks?: BufView; temp?: { scale: number; floor: number };
    },
  ): void {
    const pipeline = this.plainPipeline('attention', 'main', { KV_Q8: o.kvType === 'q8_0' ? 1 : 0 });
    const vDim = o.vDim ?? o.headDim;
    const params = this.params(
      [o.nHead, o.nHeadKv, o.headDim, o.ctx, 0, 0, o.window, o.tMax,
        vDim, o.kStride ?? o.nHeadKv * o.headDim, o.vStride ?? o.nHeadKv * vDim, o.sinks ? 1 : 0, 0, o.temp?.floor ?? 0],
      [4, o.scale], [5, o.softcap], [12, o.temp?.scale ?? 0],
    );
    // without sinks the binding is never read, but 'auto' layouts keep it: any storage buffer will do
    const bg = this.bindGroup(pipeline, [q, k, v, out, scores, params, { buffer: this.step }, o.sinks ?? { buffer: this.grids }]);
    this.recorder.dispatch(pipeline, bg, o.nHead, this.T);
  }

  /**
   * Y [T, n] = act(A) * B; act 'silu' (SwiGLU), 'gelu' (GeGLU, tanh approximation) or 'swiglu_oai'
   * (gpt-oss: min(A, limit) · sigmoid(alpha · min(A, limit)) · (clamp(B, ±limit) + 1)).
   */
  glu(y: BufView, a: BufView, b: BufView, n: number, act: 'silu' | 'gelu' | 'swiglu_oai', oai = { alpha: 1.702, limit: 7 }): void {
    this.elementwise('glu', y, a, b, { n, act: act === 'gelu' ? 1 : act === 'swiglu_oai' ? 2 : 0, alpha: oai.alpha, limit: oai.limit }, this.T * n);
  }

  /** Y[t, :] += bias [n] for the step's rows; `row`: the bias is row `row` of a [rows, n] tensor (an expert's). */
  addRow(y: BufView, bias: WeightRef, n: number, row = 0): void {
    this.elementwise('add_row', y, bias.pieces[0].view, null, { n, aOff: row * n }, this.T * n);
  }

  /**
   * Y[t, :] += w[t] · A[t, :] (w: T floats): one expert's output weighted by the router; sigmoid:
   * weighted by sigmoid(w[t]) instead (qwen35moe's gated shared expert).
   */
  addScaled(y: BufView, a: BufView, w: BufView, n: number, o: { sigmoid?: boolean } = {}): void {
    this.elementwise('add_scaled', y, a, w, { n, act: o.sigmoid ? 3 : 0 }, this.T * n);
  }

  /** Y [T, n] = act(A) ⊙ Y in place, act 'sigmoid' (an output gate) or 'silu' (a gated norm). */
  gate(y: BufView, a: BufView, n: number, act: 'sigmoid' | 'silu'): void {
    this.elementwise('gate', y, a, null, { n, act: act === 'sigmoid' ? 3 : 0 }, this.T * n);
  }

  // ---- Gated DeltaNet (shaders/deltanet.wgsl) ------------------------------------------------

  /**
   * Y [T, yStride] columns 0..channels = silu(causal conv1d of X's columns 0..channels) with the
   * carried conv state [channels, dConv − 1] (read, then left holding the step's last dConv − 1
   * inputs). w: ssm_conv1d [channels, dConv] f32. X [T, xStride].
   */
  deltaConv(y: BufView, x: BufView, w: BufView, state: BufView, o: { channels: number; dConv: number; xStride: number; yStride: number }): void {
    if (o.dConv < 2 || o.dConv > 8) throw new Error(`ssm conv kernel ${o.dConv} outside 2..8`);
    const pipeline = this.plainPipeline('deltanet', 'conv');
    const params = this.params([o.channels, o.dConv, o.xStride, o.yStride]);
    const bg = this.bindGroup(pipeline, [x, w, state, y, params, { buffer: this.step }]);
    this.recorder.dispatch(pipeline, bg, Math.ceil(o.channels / 64));
  }

  /**
   * In place on [T, nV]: alpha → softplus(alpha + dtBias) · ssmA (the log-decay), beta → sigmoid(beta).
   * dtBias = ssm_dt.bias [nV], ssmA = ssm_a [nV] (−exp(A_log)).
   */
  deltaGates(alpha: BufView, beta: BufView, dtBias: BufView, ssmA: BufView, nV: number): void {
    const pipeline = this.plainPipeline('deltanet', 'gates');
    const params = this.params([0, 0, 0, 0, nV]);
    const bg = this.bindGroup(pipeline, [alpha, beta, dtBias, ssmA, params, { buffer: this.step }]);
    this.recorder.dispatch(pipeline, bg, Math.ceil((this.T * nV) / 64));
  }

  /**
   * O [T, nV·dV] = the gated delta rule over the step's tokens in order, updating `state`
   * [nV, dV, dK] (column-major per head, llama.cpp's layout). qk [T, qkStride] = the L2-normalised
   * [q heads | k heads] (nK each, dK wide; value head h reads key head h % nK); v: rows of vStride
   * floats, head h at vCol0 + h·dV; g, beta [T, nV] from deltaGates.
   */
  deltaRule(out: BufView, qk: BufView, v: BufView, g: BufView, beta: BufView, state: BufView, o: { nV: number; nK: number; dK: number; dV: number; qkStride: number; vStride: number; vCol0: number }): void {
    if (o.dK > 128) throw new Error(`delta-rule key width ${o.dK} is over the kernel's 128`);
    const pipeline = this.plainPipeline('deltanet', 'delta');
    const params = this.params([0, 0, 0, 0, o.nV, o.nK, o.dK, o.dV, o.qkStride, o.vStride, o.vCol0]);
    const bg = this.bindGroup(pipeline, [qk, v, g, beta, state, out, params, { buffer: this.step }]);
    this.recorder.dispatch(pipeline, bg, Math.ceil((o.nV * o.dV) / 64));
  }

  /** Y [T, n] += c · A [T, n]. */
  axpy(y: BufView, a: BufView, n: number, c: number): void {
    this.elementwise('axpy', y, a, null, { n, c }, this.T * n);
  }

  /** Y *= c over the step's T rows of n, or the head's rows (head: true). */
  scale(y: BufView, n: number, c: number, o: { head?: boolean } = {}): void {
    this.elementwise('scale', y, null, null, { n, c, head: o.head }, (o.head ? this.headT : this.T) * n);
  }

  /** Y = cap · tanh(Y / cap) over headT rows of n. */
  softcap(y: BufView, n: number, cap: number): void {
    this.elementwise('softcap', y, null, null, { n, c: cap }, this.headT * n);
  }

  /** OUT[0] = argmax of row `row` of L [*, n] (ties: lowest index). */
  argmax(out: BufView, logits: BufView, n: number, row: number): void {
    const pipeline = this.plainPipeline('sampling', 'argmax');
    this.recorder.dispatch(pipeline, this.bindGroup(pipeline, [logits, out, this.params([n, row, 0, 0])]), 1);
  }

  /** OUT = the k best (index, f32 bits) pairs of row `row` of L, best first; they are removed from L. */
  topK(out: BufView, logits: BufView, n: number, row: number, k: number): void {
    const pipeline = this.plainPipeline('sampling', 'topk');
    this.recorder.dispatch(pipeline, this.bindGroup(pipeline, [logits, out, this.params([n, row, k, 0])]), 1);
  }

  /**
   * Masks row `row` of L [*, n] in place: tokens whose bit is clear in `mask` (ceil(n / 32) u32
   * words, bit t % 32 of word t / 32 = token t allowed) get −3.4e38, which argmax and topK never pick.
   */
  maskLogits(logits: BufView, mask: BufView, n: number, row: number): void {
    const pipeline = this.plainPipeline('sampling', 'mask');
    this.recorder.dispatch(pipeline, this.bindGroup(pipeline, [logits, null, this.params([n, row, 0, 0]), null, mask]), Math.ceil(n / 256));
  }

  /**
   * Applies `count` entries {token u32, rep, sub, add} of `entries` to row `row` of L in place:
   * v = (v > 0 ? v / rep : v · rep) − sub + add (repetition / presence / frequency penalties, bias).
   */
  adjustLogits(logits: BufView, entries: BufView, count: number, n: number, row: number): void {
    const pipeline = this.plainPipeline('sampling', 'adjust');
    this.recorder.dispatch(pipeline, this.bindGroup(pipeline, [logits, null, this.params([n, row, 0, count]), entries]), Math.ceil(count / 64));
  }

  // ---- plumbing --------------------------------------------------------------------------------

  /** a/b null: the entry point does not use that binding ('auto' layouts only hold used bindings). */
  private elementwise(
    entry: string, y: BufView, a: BufView | null, b: BufView | null,
    p: { n: number; act?: number; aOff?: number; c?: number; alpha?: number; limit?: number; head?: boolean }, count: number,
  ): void {
    const pipeline = this.plainPipeline('elementwise', entry);
    const params = this.params([p.n, p.act ?? 0, p.aOff ?? 0, 0, 0, 0, p.head ? 1 : 0], [3, p.c ?? 0], [4, p.alpha ?? 0], [5, p.limit ?? 0]);
    const bg = this.bindGroup(pipeline, [a, b, y, params, { buffer: this.step }]);
    const [gx, gy] = grid(Math.ceil(count / 64));
    this.recorder.dispatch(pipeline, bg, gx, gy);
  }

  /** The views of a quant kernel, with the GRIDS table buffer at binding 7 where `type` reads it. */
  private withGrids(type: string, views: (BufView | null)[]): (BufView | null)[] {
    if (!needsGrids(type)) return views;
    return [...views, ...Array<null>(7 - views.length).fill(null), { buffer: this.grids }];
  }

  private quantPipeline(kernel: QuantKernel, type: string, entry = 'main'): GPUComputePipeline {
    return this.pipeline(`${kernel}:${type}:${entry}`, () => quantKernelSource(kernel, type), entry);
  }

  /** constants: WGSL override constants (one pipeline per distinct set). */
  private plainPipeline(kernel: PlainKernel, entry = 'main', constants: Record<string, number> = {}): GPUComputePipeline {
    return this.pipeline(`${kernel}:${entry}:${JSON.stringify(constants)}`, () => plainKernelSource(kernel), entry, constants);
  }

  private pipeline(key: string, source: () => string, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code: source() });
      p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Interns a 64-byte parameter block (16 u32 words; `floats` overrides words with f32 values). */
  private params(words: number[], ...floats: [number, number][]): BufView {
    const data = new ArrayBuffer(PARAM_BYTES);
    const u = new Uint32Array(data);
    const f = new Float32Array(data);
    words.forEach((w, i) => (u[i] = w));
    for (const [i, v] of floats) f[i] = v;
    const key = Array.from(u).join(',');
    let slot = this.uniformKeys.get(key);
    if (slot === undefined) {
      slot = this.uniformKeys.size;
      if (slot >= UNIFORM_SLOTS) throw new Error('uniform arena exhausted');
      this.uniformKeys.set(key, slot);
      this.device.queue.writeBuffer(this.uniforms, slot * UNIFORM_SLOT, data);
    }
    return { buffer: this.uniforms, offset: slot * UNIFORM_SLOT, size: PARAM_BYTES };
  }

  private id(b: GPUBuffer): number {
    let id = this.bufIds.get(b);
    if (!id) this.bufIds.set(b, (id = this.nextBufId++));
    return id;
  }

  /** Bind group with views[i] at binding i (null: binding not used by the entry point). */
  private bindGroup(pipeline: GPUComputePipeline, views: (BufView | null)[]): GPUBindGroup {
    const key = `${pipeline.label}|${views.map((v) => (v ? `${this.id(v.buffer)}@${v.offset ?? 0}+${v.size ?? -1}` : '-')).join(',')}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      const layout = pipeline.getBindGroupLayout(0);
      // bindings are numbered in declaration order; quant kernels start at binding 0 (W)
      bg = this.device.createBindGroup({
        layout,
        entries: views.flatMap((v, i) => (v ? [{ binding: i, resource: { buffer: v.buffer, offset: v.offset ?? 0, size: v.size } }] : [])),
      });
      this.bindGroups.set(key, bg);
    }
    return bg;
  }
}
