import type { GenerateRequest } from '../api.ts';
import type { BufView, Kernels } from '../gpu/kernels.ts';
import type { Readback } from '../gpu/readback.ts';
import { candidateWeights, drawFrom, logitAdjustments, type TokenDist } from './sampler.ts';

/** largest top-k selected on the GPU (beyond it the whole logit row is read back) */
const MAX_GPU_TOP_K = 256;
/** most logit adjustments (penalized or biased tokens) applied per token */
const MAX_ADJUSTMENTS = 4096;

/** GPU bytes of a TokenPicker's buffers (argmax, top-k candidates, adjustments, token mask) for n_vocab tokens. */
export function pickerBytes(nVocab: number): number {
  return 16 + MAX_GPU_TOP_K * 8 + MAX_ADJUSTMENTS * 16 + Math.ceil(nVocab / 32) * 4;
}

/** Sampling options of a generation (GenerateRequest's fields). */
export type PickOptions = Pick<GenerateRequest, 'temperature' | 'topK' | 'topP' | 'minP' | 'repetitionPenalty' | 'presencePenalty' | 'frequencyPenalty' | 'logitBias'>;

/**
 * Picks the next token from row 0 of the head's logits [*, n_vocab]: penalties and bias applied on
 * the GPU, then the argmax (temperature 0) or a CPU draw among the GPU's top-k candidates. Only with
 * topK 0 (or above MAX_GPU_TOP_K) is the whole row read back. Buffers are allocated once, here.
 */
export class TokenPicker {
  private argmaxOut: GPUBuffer;
  private candidates: GPUBuffer;
  private adjustments: GPUBuffer;
  /** a grammar's allowed-token bitmask, ceil(n_vocab / 32) u32, uploaded per constrained token */
  private maskBuf: GPUBuffer;

  constructor(
    private readonly k: Kernels,
    private readonly readback: Readback,
    private readonly logits: BufView,
    private readonly nVocab: number,
  ) {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.argmaxOut = k.device.createBuffer({ label: 'argmax', size: 16, usage });
    this.candidates = k.device.createBuffer({ label: 'top-k candidates', size: MAX_GPU_TOP_K * 8, usage });
    this.adjustments = k.device.createBuffer({ label: 'logit adjustments', size: MAX_ADJUSTMENTS * 16, usage });
    this.maskBuf = k.device.createBuffer({ label: 'token mask', size: Math.ceil(nVocab / 32) * 4, usage });
  }

  /** GPU bytes held. */
  get bytes(): number {
    return this.argmaxOut.size + this.candidates.size + this.adjustments.size + this.maskBuf.size;
  }

  /**
   * The next token from logit row `row`: the argmax when temperature is 0, else a draw among the
   * candidates (distribution). history: prompt + generated tokens (repetition penalty); generated:
   * output so far (presence/frequency); mask: allowed tokens (TokenConstraint.nextMask), null = all.
   */
  async pick(o: PickOptions, random: () => number, history: number[], generated: number[], mask: Uint32Array | null = null, row = 0): Promise<number> {
    const d = await this.distribution(o, history, generated, mask, row);
    return (o.temperature ?? 0) <= 0 ? d.ids[0] : drawFrom(d, random);
  }

  /**
   * The sampling distribution at logit row `row` of the head output, after penalties, bias and the
   * mask: for temperature 0 a point mass on the argmax; otherwise the candidates that survive
   * top-k / top-p / min-p with their temperature weights (sampler.ts candidateWeights), best first.
   * Modifies the row in place (adjustments; top-k marks its picks).
   */
  async distribution(o: PickOptions, history: number[], generated: number[], mask: Uint32Array | null, row: number): Promise<TokenDist> {
    const n = this.nVocab;
    const adj = logitAdjustments(history, generated, {
      repetitionPenalty: o.repetitionPenalty ?? 1, lastN: 64,
      presencePenalty: o.presencePenalty ?? 0, frequencyPenalty: o.frequencyPenalty ?? 0, logitBias: o.logitBias ?? {},
    }).slice(0, MAX_ADJUSTMENTS);
    if (adj.length) {
      const data = new ArrayBuffer(adj.length * 16); // shaders/sampling.wgsl struct Adjust
      const u = new Uint32Array(data);
      const f = new Float32Array(data);
      adj.forEach((a, i) => ((u[4 * i] = a.token), (f[4 * i + 1] = a.rep), (f[4 * i + 2] = a.sub), (f[4 * i + 3] = a.add)));
      this.k.device.queue.writeBuffer(this.adjustments, 0, data);
      this.k.adjustLogits(this.logits, { buffer: this.adjustments }, adj.length, n, row);
    }
    if (mask) {
      // after the bias: a biased token the grammar forbids stays forbidden
      if (mask.length !== this.maskBuf.size / 4) throw new Error(`token mask of ${mask.length} words for a vocabulary of ${n}`);
      this.k.device.queue.writeBuffer(this.maskBuf, 0, mask as Uint32Array<ArrayBuffer>);
      this.k.maskLogits(this.logits, { buffer: this.maskBuf }, n, row);
    }
    const temperature = o.temperature ?? 0;
    if (temperature <= 0) {
      this.k.argmax({ buffer: this.argmaxOut }, this.logits, n, row);
      return { ids: [new Uint32Array(await this.read(this.argmaxOut, 0, 4))[0]], weights: [1] };
    }
    const params = { temperature, topK: o.topK ?? 0, topP: o.topP ?? 1, minP: o.minP ?? 0 };
    if (params.topK > 0 && params.topK <= MAX_GPU_TOP_K) {
      const kk = Math.min(params.topK, n);
      this.k.topK({ buffer: this.candidates }, this.logits, n, row, kk);
      const pairs = new Uint32Array(await this.read(this.candidates, 0, kk * 8)); // (index, f32 bits) pairs
      let ids = pairs.filter((_, i) => i % 2 === 0);
      let values = new Float32Array(pairs.buffer).filter((_, i) => i % 2 === 1);
      if (mask) {
        // fewer allowed tokens than k: the rounds past them return no index (0xffffffff)
        const m = ids.findIndex((id) => id >= n);
        if (m >= 0) [ids, values] = [ids.subarray(0, m), values.subarray(0, m)];
      }
      return candidateWeights(ids, values, params);
    }
    const logits = new Float32Array(await this.read(this.logits.buffer, row * n * 4, n * 4));
    let ids = Array.from({ length: n }, (_, i) => i);
    if (mask) ids = ids.filter((t) => (mask[t >>> 5] >>> (t & 31)) & 1); // masked on the GPU too; drop them
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    return candidateWeights(ids, ids.map((i) => logits[i]), params);
  }

  private read(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.k.recorder.flush();
    return this.readback.read(buffer, offset, bytes);
  }
}
