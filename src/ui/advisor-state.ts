import { advise, type DeviceFigures, type FitPlan, type SiblingFile } from '../advisor/advise.ts';
import { AdvisorClient } from '../advisor/client.ts';
import type { ModelShape } from '../advisor/model-shape.ts';
import type { EngineStats } from '../api.ts';
import type { KvCacheType } from '../gpu/kernels.ts';
import { listGgufFiles, parseHfReference, probeHfFile, type HfGgufModel } from '../storage/huggingface.ts';

/** A model the user is considering: a catalog entry, a file of a Hugging Face repo, or a URL. */
export interface Candidate {
  /** what loading it takes (URL of the file, first part of a split model) */
  model: string;
  label: string;
  quant: string | null;
  bytes: number | null;
  /** other quants of the same model (catalog group, or the repo's other files) */
  siblings: SiblingFile[];
  origin: 'catalog' | 'huggingface' | 'url';
  license?: string;
}

/** The Hugging Face listing the model field asked for. */
export interface HfListing {
  repo: string;
  status: 'listing' | 'done' | 'error';
  models: HfGgufModel[];
  error?: string;
}

/** What the advisor is asked with: the picker's budget, context and K/V format. */
export interface FitAsk {
  gpuBudgetBytes?: number;
  contextLength?: number;
  kvCacheType?: KvCacheType;
}

/**
 * The advisor's state for the page (like ModelStore for storage): the candidate, its header's
 * shape and plan, the device figures and calibration, the Hugging Face listing, and the prediction
 * for the loaded model that the measured speed is checked against. Fires 'change'. No drawing here:
 * components draw fitSummary(plan) and the listing.
 */
export class AdvisorState extends EventTarget {
  candidate: Candidate | null = null;
  shape: ModelShape | null = null;
  plan: FitPlan | null = null;
  figures: (DeviceFigures & { adapter: string }) | null = null;
  /** reading the candidate's header / calibrating the device */
  inspecting = false;
  calibrating = false;
  /** why the candidate cannot be advised on (gated repo, unsupported tokenizer, …) */
  error: { message: string; code: string } | null = null;
  hf: HfListing | null = null;
  /** the loaded model's predicted decode speed (tok/s) under its actual budget, and for which model */
  loaded: { model: string; predicted: number | null } | null = null;
  private ask: FitAsk = {};
  private seq = 0;

  constructor(
    private readonly client = new AdvisorClient(),
    /** the Hugging Face endpoint (https://huggingface.co, a mirror, or the tests' imitation) */
    readonly hfEndpoint = 'https://huggingface.co',
    /** a small GGUF the calibration streams through the engine (the app's embedded model) */
    private readonly probeModel?: string,
  ) {
    super();
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  private async deviceFigures(): Promise<DeviceFigures & { adapter: string }> {
    this.figures = await this.client.figures();
    if (!this.figures.calibration && !this.calibrating) await this.calibrate(); // a short calibration on first use
    return this.figures!;
  }

  /** Measures the device again (cached in IndexedDB with the date) and replans. */
  async calibrate(): Promise<void> {
    this.calibrating = true;
    this.changed();
    try {
      await this.client.calibrate(this.probeModel);
      this.figures = await this.client.figures();
      this.replan();
    } catch (e) {
      this.error = toShown(e);
    } finally {
      this.calibrating = false;
      this.changed();
    }
  }

  /** Considers `c`: reads its header by Range (Hugging Face files probed first) and plans it with `ask`. */
  async select(c: Candidate, ask: FitAsk): Promise<void> {
    const seq = ++this.seq;
    this.candidate = c;
    this.ask = ask;
    this.shape = null;
    this.plan = null;
    this.error = null;
    this.inspecting = true;
    this.changed();
    try {
      // Hugging Face files (catalog or listing, on huggingface.co or the endpoint given): 8 bytes by
      // Range first, so a gated, missing or rate-limited file is named before anything larger is read
      if (c.origin !== 'url') await probeHfFile(c.model);
      const [shape] = await Promise.all([this.client.inspect(c.model), this.deviceFigures()]);
      if (seq !== this.seq) return;
      this.shape = shape;
      this.replan();
    } catch (e) {
      if (seq === this.seq) this.error = toShown(e);
    } finally {
      if (seq === this.seq) {
        this.inspecting = false;
        this.changed();
      }
    }
  }

  /** The picker's budget, context or K/V format changed: replan the candidate. */
  setAsk(ask: FitAsk): void {
    this.ask = ask;
    this.replan();
    this.changed();
  }

  private replan(): void {
    if (!this.shape || !this.figures || !this.candidate) return;
    this.plan = advise(this.shape, this.figures, { ...this.ask, siblings: this.candidate.siblings });
  }

  /** Lists the GGUF files of a Hugging Face repo named in `text` (hf.co/owner/repo or a huggingface.co URL). */
  async listHf(text: string): Promise<void> {
    const ref = parseHfReference(text);
    if (!ref) return;
    this.hf = { repo: ref.repo, status: 'listing', models: [] };
    this.changed();
    try {
      // vision projectors and importance matrices are GGUF files too, not models to run
      const models = (await listGgufFiles(ref, { endpoint: this.hfEndpoint })).filter((m) => m.kind === 'model');
      this.hf = { repo: ref.repo, status: 'done', models };
    } catch (e) {
      this.hf = { repo: ref.repo, status: 'error', models: [], error: toShown(e).message };
    }
    this.changed();
  }

  /**
   * The loaded model's predicted decode speed under its actual budget, context, K/V format and RAM
   * tier (from its stats at load), so the speed measured after a generate can be set beside it.
   */
  async predictLoaded(model: string, stats: EngineStats): Promise<void> {
    this.loaded = { model, predicted: null };
    try {
      const [shape, figures] = await Promise.all([this.client.inspect(model), this.client.figures()]);
      if (this.loaded?.model !== model || !figures.calibration) return;
      const plan = advise(shape, figures, { gpuBudgetBytes: stats.gpuBudgetBytes, contextLength: stats.contextLength, kvCacheType: stats.kvCacheType, ramBudgetBytes: stats.ramBudgetBytes });
      this.loaded = { model, predicted: plan.asked.prediction?.tokensPerSecond ?? null };
    } catch {
      // a model the advisor cannot read (an imported file with an odd header) just has no prediction
    }
    this.changed();
  }

  /** A Hugging Face listing entry as a candidate; siblings: the repo's other quants of the same model (modelBase). */
  hfCandidate(m: HfGgufModel): Candidate {
    const all = this.hf?.models ?? [m];
    return {
      model: m.urls[0], label: m.name, quant: m.quant, bytes: m.bytes, origin: 'huggingface',
      siblings: all.filter((x) => x !== m && modelBase(x) === modelBase(m)).map((x) => ({ model: x.urls[0], label: x.name, quant: x.quant, bytes: x.bytes })),
    };
  }
}

/**
 * A file's model without its quant: "Qwen3-4B-Q4_K_M" and "Qwen3-4B-Q8_0" are both "qwen3-4b"
 * (the quant label and the separators around it removed, case folded). Repos usually hold one
 * model's quants, but some hold several models.
 */
export function modelBase(m: { name: string; quant: string | null }): string {
  let n = m.name.split('/').pop() ?? m.name;
  if (m.quant) {
    const at = n.toLowerCase().lastIndexOf(m.quant.toLowerCase());
    if (at >= 0) n = n.slice(0, at) + n.slice(at + m.quant.length);
  }
  return n.replace(/[-_.]+$/, '').replace(/^[-_.]+/, '').toLowerCase();
}

function toShown(e: unknown): { message: string; code: string } {
  const err = e as { message?: string; code?: string };
  return { message: err?.message ?? String(e), code: err?.code ?? 'error' };
}
