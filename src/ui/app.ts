import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { createEngine } from '../index.ts';
import type { Engine, EngineStats, LoadProgress, ModelInfo } from '../api.ts';
import { LayerstreamError, reviveError } from '../errors.ts';
import { baseStyles } from './styles.ts';
import { DEFAULT_MODEL, type LoadRequest } from './model-picker.ts';
import type { GenerateSettings } from './generate-panel.ts';
import type { GenerationStatus } from './output.ts';
import './model-picker.ts';
import './model-info.ts';
import './progress.ts';
import './generate-panel.ts';
import './output.ts';
import './memory-panel.ts';
import './error-banner.ts';

/** refresh the memory panel every this many generated tokens */
const STATS_EVERY_TOKENS = 4;

interface ShownError {
  heading: string;
  message: string;
  code: string;
}

function isAbort(e: unknown): boolean {
  if (e instanceof LayerstreamError) return e.code === 'aborted';
  return (e as { name?: string } | null)?.name === 'AbortError';
}

/**
 * The page: owns the engine and all state, and wires the components together. Components only
 * display what they are given and report what the user asked for as events.
 */
@customElement('ls-app')
export class LsApp extends LitElement {
  static styles = [
    baseStyles,
    css`
      :host {
        max-width: 1200px;
        margin: 0 auto;
        padding: var(--ls-gap-l) var(--ls-gap-l) var(--ls-gap-xl);
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 14px;
        margin-bottom: var(--ls-gap-l);
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 10px;
      }
      .brand svg {
        flex: none;
      }
      h1 {
        margin: 0;
        font-size: 1.45rem;
        font-weight: 700;
        letter-spacing: -0.02em;
      }
      .tagline {
        margin: 0;
        flex: 1 1 22rem;
        color: var(--ls-muted);
        font-size: 0.92rem;
      }
      .chip {
        font-size: 0.75rem;
        font-weight: 600;
        padding: 2px 10px;
        border-radius: 999px;
        background: var(--ls-ok-soft);
        color: var(--ls-ok);
      }
      .chip.bad {
        background: var(--ls-danger-soft);
        color: var(--ls-danger);
      }
      ls-error-banner {
        margin-bottom: var(--ls-gap-m);
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 340px;
        gap: var(--ls-gap-m);
        align-items: start;
      }
      .col {
        display: grid;
        gap: var(--ls-gap-m);
        min-width: 0;
      }
      .card {
        background: var(--ls-surface);
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius);
        padding: var(--ls-gap-m) var(--ls-gap-l);
        box-shadow: var(--ls-shadow);
        min-width: 0;
      }
      .model-card {
        display: grid;
        gap: var(--ls-gap-m);
      }
      .model-card .status {
        padding-top: var(--ls-gap-m);
        border-top: 1px solid var(--ls-border);
      }
      aside.card {
        position: sticky;
        top: var(--ls-gap-m);
      }
      footer {
        margin-top: var(--ls-gap-l);
        font-size: 0.78rem;
        color: var(--ls-muted);
        text-align: center;
      }
      @media (max-width: 900px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
        aside.card {
          position: static;
        }
      }
      @media (max-width: 520px) {
        :host {
          padding: var(--ls-gap-m) 12px var(--ls-gap-l);
        }
        .card {
          padding: 14px;
        }
        h1 {
          font-size: 1.25rem;
        }
      }
    `,
  ];

  @state() private engine: Engine | null = null;
  @state() private info: ModelInfo | null = null;
  @state() private stats: EngineStats | null = null;
  @state() private loading = false;
  @state() private loadingLabel = '';
  @state() private progress: LoadProgress | null = null;
  @state() private error: ShownError | null = null;

  @state() private status: GenerationStatus = 'idle';
  @state() private shownPrompt = '';
  @state() private generatedText = '';
  @state() private tokenCount = 0;
  @state() private tokensPerSecond = 0;
  @state() private sampling = '';

  private readonly hasWebGPU = typeof navigator !== 'undefined' && 'gpu' in navigator;
  /** bumped by every load; a finished load that is no longer the latest is discarded */
  private loadSeq = 0;
  private statsSeq = 0;
  private abortController: AbortController | null = null;
  private generation: Promise<void> | null = null;
  private readonly onPageHide = () => void this.engine?.dispose().catch(() => {});
  private autoLoaded = false;

  connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('pagehide', this.onPageHide);
    // First open: load the embedded default model.
    if (!this.autoLoaded) {
      this.autoLoaded = true;
      void this.load({ model: DEFAULT_MODEL.url(), label: 'stories260K' });
    }
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this.onPageHide);
    this.abortController?.abort();
  }

  private showError(heading: string, e: unknown): void {
    const err = reviveError(e);
    const code = err instanceof LayerstreamError ? err.code : '';
    this.error = { heading, message: err.message || String(e), code };
    console.error(heading, err);
  }

  private async refreshStats(engine: Engine): Promise<void> {
    const seq = ++this.statsSeq;
    try {
      const stats = await engine.stats();
      if (seq === this.statsSeq && engine === this.engine) this.stats = stats;
    } catch (e) {
      // Stats are informational; a failure here must not disturb generation.
      console.warn('stats() failed', e);
    }
  }

  private async load(request: LoadRequest): Promise<void> {
    const seq = ++this.loadSeq;
    this.error = null;
    this.loading = true;
    this.loadingLabel = request.label;
    this.progress = { phase: 'starting', loadedBytes: 0, totalBytes: 0 };

    // Stop any generation and release the previous model before loading the next.
    this.abortController?.abort();
    await this.generation?.catch(() => {});
    const previous = this.engine;
    this.engine = null;
    this.info = null;
    this.stats = null;
    this.resetOutput();
    if (previous) await previous.dispose().catch((e: unknown) => console.warn('dispose() failed', e));
    if (seq !== this.loadSeq) return;

    try {
      const engine: Engine = await createEngine({
        model: request.model,
        gpuBudgetBytes: request.gpuBudgetBytes,
        onProgress: (p: LoadProgress) => {
          if (seq === this.loadSeq) this.progress = { ...p };
        },
      });
      if (seq !== this.loadSeq) {
        await engine.dispose().catch(() => {});
        return;
      }
      this.engine = engine;
      this.info = engine.info;
      document.title = `${engine.info.name || request.label} · layerstream`;
      await this.refreshStats(engine);
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.showError(`Loading ${request.label} failed`, e);
    } finally {
      if (seq === this.loadSeq) {
        this.loading = false;
        this.progress = null;
      }
    }
  }

  private resetOutput(): void {
    this.status = 'idle';
    this.shownPrompt = '';
    this.generatedText = '';
    this.tokenCount = 0;
    this.tokensPerSecond = 0;
    this.sampling = '';
  }

  private onGenerate(e: CustomEvent<GenerateSettings>): void {
    if (!this.engine || this.loading || this.abortController) return;
    this.generation = this.generate(this.engine, e.detail);
  }

  private async generate(engine: Engine, s: GenerateSettings): Promise<void> {
    const controller = new AbortController();
    this.abortController = controller;
    this.error = null;
    this.status = 'generating';
    this.shownPrompt = s.prompt;
    this.generatedText = '';
    this.tokenCount = 0;
    this.tokensPerSecond = 0;
    this.sampling = s.temperature === 0 ? 'greedy' : `T ${s.temperature} · top-k ${s.topK} · top-p ${s.topP} · seed ${s.seed}`;

    let firstTokenAt = 0;
    try {
      const stream = engine.generate({
        prompt: s.prompt,
        maxTokens: s.maxTokens,
        temperature: s.temperature,
        topK: s.topK,
        topP: s.topP,
        seed: s.seed,
        signal: controller.signal,
      });
      for await (const { text } of stream) {
        if (controller.signal.aborted) break;
        const now = performance.now();
        this.generatedText += text;
        this.tokenCount++;
        // Decode rate: tokens after the first (which includes prefill) over the time since it.
        if (this.tokenCount === 1) firstTokenAt = now;
        else if (now > firstTokenAt) this.tokensPerSecond = ((this.tokenCount - 1) * 1000) / (now - firstTokenAt);
        if (this.tokenCount % STATS_EVERY_TOKENS === 0) void this.refreshStats(engine);
      }
      this.status = controller.signal.aborted ? 'stopped' : 'done';
    } catch (e) {
      if (controller.signal.aborted || isAbort(e)) {
        this.status = 'stopped';
      } else {
        this.status = 'error';
        this.showError('Generation failed', e);
      }
    } finally {
      this.abortController = null;
      if (engine === this.engine) await this.refreshStats(engine);
    }
  }

  private onStop(): void {
    this.abortController?.abort();
  }

  private onDismiss(): void {
    this.error = null;
  }

  private logo() {
    return html`<svg width="30" height="30" viewBox="0 0 32 32" aria-hidden="true">
      <rect x="3" y="5" width="26" height="5" rx="2" fill="var(--ls-resident)" />
      <rect x="3" y="13.5" width="26" height="5" rx="2" fill="var(--ls-resident)" opacity="0.7" />
      <rect x="3" y="22" width="26" height="5" rx="2" fill="var(--ls-pool)" />
    </svg>`;
  }

  render() {
    const running = this.status === 'generating';
    const p = this.progress;
    return html`
      <header>
        <div class="brand">${this.logo()}<h1>layerstream</h1></div>
        <p class="tagline">Run GGUF language models in a browser tab on WebGPU, streaming layers through a fixed GPU buffer pool.</p>
        <span class="chip ${this.hasWebGPU ? '' : 'bad'}" title=${this.hasWebGPU ? 'navigator.gpu is present' : 'This browser does not expose WebGPU'}>
          WebGPU ${this.hasWebGPU ? 'available' : 'unavailable'}
        </span>
      </header>

      ${this.error
        ? html`<ls-error-banner .heading=${this.error.heading} .message=${this.error.message} .code=${this.error.code} @ls-dismiss=${this.onDismiss}></ls-error-banner>`
        : ''}

      <div class="layout">
        <main class="col">
          <section class="card model-card" aria-label="Model">
            <ls-model-picker ?loading=${this.loading} @ls-load=${(e: CustomEvent<LoadRequest>) => void this.load(e.detail)}></ls-model-picker>
            <div class="status">
              ${p
                ? html`<ls-progress .phase=${p.phase} .loadedBytes=${p.loadedBytes} .totalBytes=${p.totalBytes} .label=${this.loadingLabel}></ls-progress>`
                : html`<ls-model-info .info=${this.info}></ls-model-info>`}
            </div>
          </section>
          <section class="card" aria-label="Generate">
            <ls-generate-panel
              ?ready=${!!this.engine && !this.loading}
              ?running=${running}
              .maxContext=${this.info?.contextLength ?? 0}
              @ls-generate=${this.onGenerate}
              @ls-stop=${this.onStop}
            ></ls-generate-panel>
          </section>
          <section class="card" aria-label="Output">
            <ls-output
              .prompt=${this.shownPrompt}
              .text=${this.generatedText}
              .status=${this.status}
              .tokenCount=${this.tokenCount}
              .tokensPerSecond=${this.tokensPerSecond}
              .sampling=${this.sampling}
            ></ls-output>
          </section>
        </main>
        <aside class="card" aria-label="GPU memory">
          <ls-memory-panel .stats=${this.stats}></ls-memory-panel>
        </aside>
      </div>
      <footer>Models are read with HTTP Range requests or file slices, never fetched whole; prompts and output stay in this tab.</footer>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-app': LsApp;
  }
}
