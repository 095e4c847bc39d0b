import type { GenerateRequest } from '../api.ts';
import type { BufView, Kernels } from '../gpu/kernels.ts';
import type { Readback } from '../gpu/readback.ts';
import { logitAdjustments, sample, sampleCandidates } from './sampler.ts';

/** largest top-k selected on the GPU (beyond it the whole logit row is read back) */
const MAX_GPU_TOP_K = 256;
/** most logit adjustments (penalized or biased tokens) applied per token */
const MAX_ADJUSTMENTS = 4096;

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
  }

  /** GPU bytes held. */
  get bytes(): number {
    return this.argmaxOut.size + this.candidates.size + this.adjustments.size;
  }

  /** history: prompt + generated tokens (repetition penalty); generated: output so far (presence/frequency). */
  async pick(o: PickOptions, random: () => number, history: number[], generated: number[]): Promise<number> {
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
      this.k.adjustLogits(this.logits, { buffer: this.adjustments }, adj.length, n, 0);
    }
    const temperature = o.temperature ?? 0;
    if (temperature <= 0) {
      this.k.argmax({ buffer: this.argmaxOut }, this.logits, n, 0);
      return new Uint32Array(await this.read(this.argmaxOut, 4))[0];
    }
    const params = { temperature, topK: o.topK ?? 0, topP: o.topP ?? 1, minP: o.minP ?? 0 };
    if (params.topK > 0 && params.topK <= MAX_GPU_TOP_K) {
      const kk = Math.min(params.topK, n);
      this.k.topK({ buffer: this.candidates }, this.logits, n, 0, kk);
      const pairs = new Uint32Array(await this.read(this.candidates, kk * 8)); // (index, f32 bits) pairs
      const ids = pairs.filter((_, i) => i % 2 === 0);
      const values = new Float32Array(pairs.buffer).filter((_, i) => i % 2 === 1);
      return sampleCandidates(ids, values, params, random);
    }
    return sample(new Float32Array(await this.read(this.logits.buffer, n * 4)), params, random);
  }

  private read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.k.recorder.flush();
    return this.readback.read(buffer, 0, bytes);
  }
}
