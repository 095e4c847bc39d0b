import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { CACHE_SCHEME, createEngine } from '../index.ts';
import { TabLock, tabLockBanner, type TabLockState } from './tab-lock.ts';
import type { Engine, EngineStats, LoadProgress, ModelInfo } from '../api.ts';
import { LayerstreamError, reviveError } from '../errors.ts';
import { baseStyles } from './styles.ts';
import { DEFAULT_MODEL, type LoadRequest, type PickerAsk } from './model-picker.ts';
import { AdvisorState, type Candidate } from './advisor-state.ts';
import { fitSummary } from './fit-summary.ts';
import type { FitLoadDetail } from './fit-panel.ts';
import type { PickDetail } from './model-browser.ts';
import { catalogModels, resolveUrl, type CatalogEntry } from '../catalog/catalog.ts';
import { formatBytes } from './format.ts';
import type { GenerateSettings } from './generate-panel.ts';
import type { GenerationStatus } from './output.ts';
import type { StorageTier } from './memory-panel.ts';
import { ModelStore, findCachedModel, missingLoadedModel, type ModelAction } from './model-store.ts';
import { ChatSession, type ChatAction } from './chat-session.ts';
import './model-picker.ts';
import './model-manager.ts';
import './model-info.ts';
import './progress.ts';
import './chat-view.ts';
import './generate-panel.ts';
import './output.ts';
import './memory-panel.ts';
import './model-browser.ts';
import './fit-panel.ts';
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

type Tab = 'chat' | 'complete';
const TABS: { id: Tab; label: string }[] = [
  { id: 'chat', label: 'Chat' },
  { id: 'complete', label: 'Complete' },
];

/**
 * The Hugging Face endpoint: https://huggingface.co, or the `hf` query parameter (a mirror such as
 * https://hf-mirror.com, or the tests' imitation server).
 */
function hfEndpoint(): string {
  const given = typeof location !== 'undefined' ? new URLSearchParams(location.search).get('hf') : null;
  return (given ?? 'https://huggingface.co').replace(/\/+$/, '');
}

/** A drag that carries files (not text or a link from the page). */
function hasFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
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
      .tab-lock {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 12px;
        flex-wrap: wrap;
        margin: 0 0 12px;
        padding: 10px 14px;
        border: 1px solid var(--ls-border);
        border-left: 4px solid var(--ls-accent);
        border-radius: var(--ls-radius-s);
        background: var(--ls-surface);
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
      .tabs {
        display: inline-flex;
        justify-self: start;
        gap: 2px;
        padding: 3px;
        border: 1px solid var(--ls-border);
        border-radius: 10px;
        background: var(--ls-free);
      }
      .tabs button {
        min-width: 6.5rem;
        padding: 6px 16px;
        border: 1px solid transparent;
        border-radius: 8px;
        background: transparent;
        color: var(--ls-muted);
        font-weight: 600;
      }
      .tabs button:hover:not(:disabled) {
        background: rgba(255, 255, 255, 0.6);
        color: var(--ls-text);
      }
      .tabs button[aria-selected='true'] {
        background: var(--ls-surface);
        border-color: var(--ls-border);
        color: var(--ls-text);
        box-shadow: 0 1px 2px rgba(16, 24, 40, 0.08);
      }
      .tabs .busy {
        width: 7px;
        height: 7px;
        border-radius: 50%;
        background: var(--ls-accent);
      }
      [role='tabpanel'] {
        display: grid;
        gap: var(--ls-gap-m);
        min-width: 0;
      }
      aside.card {
        position: sticky;
        top: var(--ls-gap-m);
      }
      .drop-zone {
        position: fixed;
        inset: 0;
        z-index: 100;
        display: grid;
        place-items: center;
        padding: var(--ls-gap-l);
        background: rgba(246, 247, 249, 0.82);
        backdrop-filter: blur(2px);
        /* the drag keeps targeting the page below; the window listeners handle it */
        pointer-events: none;
      }
      .drop-card {
        display: grid;
        justify-items: center;
        gap: 6px;
        max-width: 26rem;
        padding: 28px 36px;
        border: 2px dashed var(--ls-accent);
        border-radius: var(--ls-radius);
        background: var(--ls-surface);
        box-shadow: 0 8px 30px rgba(16, 24, 40, 0.12);
        text-align: center;
      }
      .drop-card strong {
        font-size: 1.05rem;
      }
      .drop-card span {
        color: var(--ls-muted);
        font-size: 0.88rem;
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
        .tabs {
          justify-self: stretch;
        }
        .tabs button {
          flex: 1;
          min-width: 0;
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
  /** the `model` string of the loaded engine (a URL or opfs:<id>): matches it to its cached copy */
  @state() private loadedModel: string | null = null;
  /** files are being dragged over the page: the drop zone shows */
  @state() private dragging = false;

  /** the browser's model storage (OPFS): list, estimate, downloads, imports */
  private readonly store = new ModelStore();
  private readonly onStoreChange = () => this.requestUpdate();
  private readonly onFocus = () => void this.store.refresh();
  /** dragenter/dragleave pairs seen while files are dragged over the page */
  private dragDepth = 0;
  /** the import of the load in progress, aborted when another load starts */
  private importController: AbortController | null = null;

  @state() private status: GenerationStatus = 'idle';
  @state() private shownPrompt = '';
  @state() private generatedText = '';
  @state() private tokenCount = 0;
  @state() private tokensPerSecond = 0;
  @state() private sampling = '';
  /** the view in the main column: chat (default) or raw completion */
  @state() private tab: Tab = 'chat';

  /** the memory-fit advisor: candidate model, its plan, Hugging Face listing, prediction for the loaded model */
  private readonly advisor = new AdvisorState(undefined, hfEndpoint(), DEFAULT_MODEL.url());
  private readonly onAdvisorChange = () => this.requestUpdate();
  private readonly catalog = catalogModels();

  /** the conversation of the chat view and its generations */
  private readonly chat = new ChatSession();
  private readonly onChatChange = () => this.requestUpdate();

  private readonly hasWebGPU = typeof navigator !== 'undefined' && 'gpu' in navigator;
  /** bumped by every load; a finished load that is no longer the latest is discarded */
  private loadSeq = 0;
  private statsSeq = 0;
  private abortController: AbortController | null = null;
  private generation: Promise<void> | null = null;
  private readonly onPageHide = () => void this.engine?.dispose().catch(() => {});
  private autoLoaded = false;
  /** one engine per browser profile: another tab of the app may hold it, or take it from this one */
  private readonly tabLock = new TabLock(() => this.unload());
  @state() private lockState: TabLockState = 'free';
  /** the load this tab wants (refused while another tab holds the engine, or the one given up to another tab) */
  private wantedLoad: LoadRequest | null = null;

  connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('pagehide', this.onPageHide);
    window.addEventListener('focus', this.onFocus);
    window.addEventListener('dragenter', this.onDragEnter);
    window.addEventListener('dragover', this.onDragOver);
    window.addEventListener('dragleave', this.onDragLeave);
    window.addEventListener('drop', this.onDrop);
    this.store.addEventListener('change', this.onStoreChange);
    this.advisor.addEventListener('change', this.onAdvisorChange);
    this.chat.addEventListener('change', this.onChatChange);
    this.chat.onProgress = (final) => {
      const engine = this.engine;
      if (engine) void this.refreshStats(engine);
      // streamed weights of a partly cached URL model are stored as they are read
      if (final) void this.store.refresh();
    };
    this.store.beforeDelete = (id) => this.releaseModel(id);
    this.tabLock.addEventListener('change', () => (this.lockState = this.tabLock.state));
    void this.store.refresh();
    // First open: load the embedded default model.
    if (!this.autoLoaded) {
      this.autoLoaded = true;
      void this.load({ model: DEFAULT_MODEL.url(), label: 'stories260K' });
    }
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this.onPageHide);
    window.removeEventListener('focus', this.onFocus);
    window.removeEventListener('dragenter', this.onDragEnter);
    window.removeEventListener('dragover', this.onDragOver);
    window.removeEventListener('dragleave', this.onDragLeave);
    window.removeEventListener('drop', this.onDrop);
    this.store.removeEventListener('change', this.onStoreChange);
    this.advisor.removeEventListener('change', this.onAdvisorChange);
    this.store.beforeDelete = null;
    this.abortController?.abort();
    this.chat.removeEventListener('change', this.onChatChange);
    this.chat.onProgress = null;
    void this.chat.stop();
  }

  private readonly onDragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    this.dragDepth++;
    this.dragging = true;
  };

  private readonly onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // allows the drop (the default opens the file in the tab)
    e.dataTransfer!.dropEffect = 'copy';
    this.dragging = true;
  };

  private readonly onDragLeave = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    this.dragDepth = Math.max(0, this.dragDepth - 1);
    if (this.dragDepth === 0 || e.relatedTarget === null) {
      this.dragDepth = 0;
      this.dragging = false;
    }
  };

  private readonly onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    this.dragDepth = 0;
    this.dragging = false;
    const files = Array.from(e.dataTransfer?.files ?? []);
    const file = files.find((f) => /\.gguf$/i.test(f.name));
    if (!file) {
      this.error = {
        heading: 'Not a GGUF file',
        message: `Drop a .gguf model file to import and load it${files.length ? ` (got ${files.map((f) => f.name).join(', ')})` : ''}.`,
        code: 'not_gguf',
      };
      return;
    }
    void this.load({ model: file, label: file.name, gpuBudgetBytes: this.pickerBudget() });
  };

  /** The GPU budget typed in the picker (undefined = automatic, also when it is not a valid number). */
  private pickerBudget(): number | undefined {
    return this.renderRoot.querySelector('ls-model-picker')?.gpuBudgetBytes() ?? undefined;
  }

  /** Before a cached model is deleted: unloads the engine if it reads that model (its OPFS file is open). */
  private async releaseModel(id: string): Promise<void> {
    const model = this.store.models.find((m) => m.id === id);
    if (model && this.loadedModel && findCachedModel([model], this.loadedModel)) {
      await this.unload();
      this.tabLock.free();
    }
  }

  /** Stops generation and disposes the engine; no model is loaded afterwards. */
  private async unload(): Promise<void> {
    ++this.loadSeq; // a load still in flight is discarded when it finishes
    this.loading = false;
    this.progress = null;
    this.abortController?.abort();
    await this.generation?.catch(() => {});
    await this.chat.stop();
    const engine = this.engine;
    this.engine = null;
    this.info = null;
    this.stats = null;
    this.loadedModel = null;
    this.resetOutput();
    document.title = 'layerstream';
    if (engine) await engine.dispose().catch((e: unknown) => console.warn('dispose() failed', e));
  }

  private onModelAction(e: CustomEvent<ModelAction>): void {
    this.store.perform(e.detail);
  }

  protected updated(changed: Map<string, unknown>): void {
    // The banner sits at the top; the action that failed (Load, Download…) is often scrolled far below.
    if (changed.has('error') && this.error) this.renderRoot.querySelector('ls-error-banner')?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
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
    this.importController?.abort();
    this.importController = null;
    this.error = null;
    this.loading = true;
    this.loadingLabel = request.label;
    this.progress = { phase: 'starting', loadedBytes: 0, totalBytes: 0 };

    // Stop any generation and release the previous model before loading the next.
    this.abortController?.abort();
    await this.generation?.catch(() => {});
    await this.chat.stop();
    const previous = this.engine;
    this.engine = null;
    this.info = null;
    this.stats = null;
    this.loadedModel = null;
    this.resetOutput();
    if (previous) await previous.dispose().catch((e: unknown) => console.warn('dispose() failed', e));
    if (seq !== this.loadSeq) return;
    this.wantedLoad = request;
    if (!(await this.tabLock.acquire({ wait: false }))) {
      // another tab of the app holds the engine: the banner offers to take it over
      if (seq === this.loadSeq) {
        this.loading = false;
        this.progress = null;
      }
      return;
    }
    if (seq !== this.loadSeq) return;

    try {
      let model = request.model;
      if (typeof model !== 'string') {
        // A local file is imported into browser storage first, then loaded from there: it stays
        // available (and listed in the model manager) after a reload, without picking it again.
        const file = model instanceof File ? model : new File([model], request.label);
        const controller = new AbortController();
        this.importController = controller;
        this.progress = { phase: 'import', loadedBytes: 0, totalBytes: file.size };
        const cached = await this.store.importFile(file, {
          signal: controller.signal,
          onProgress: (p) => {
            if (seq === this.loadSeq) this.progress = { phase: 'import', loadedBytes: p.loadedBytes, totalBytes: p.totalBytes };
          },
        });
        if (this.importController === controller) this.importController = null;
        if (seq !== this.loadSeq) return;
        model = CACHE_SCHEME + cached.id;
        this.progress = { phase: 'header', loadedBytes: 0, totalBytes: 0 };
      }
      const engine: Engine = await createEngine({
        model,
        gpuBudgetBytes: request.gpuBudgetBytes,
        kvCacheType: request.kvCacheType,
        contextLength: request.contextLength,
        ramBudgetBytes: request.ramBudgetBytes,
        onProgress: (p: LoadProgress) => {
          if (seq === this.loadSeq) this.progress = { ...p };
        },
      });
      if (seq !== this.loadSeq) {
        await engine.dispose().catch(() => {});
        return;
      }
      this.engine = engine;
      this.loadedModel = model;
      this.wantedLoad = { ...request, model }; // a local file is in OPFS now: taking the model back loads it from there
      this.info = engine.info;
      document.title = `${engine.info.name || request.label} · layerstream`;
      await this.refreshStats(engine);
      if (this.stats) void this.advisor.predictLoaded(model, this.stats);
    } catch (e) {
      if (seq !== this.loadSeq) return;
      if (!isAbort(e)) this.showError(`Loading ${request.label} failed`, e);
    } finally {
      if (seq === this.loadSeq) {
        this.loading = false;
        this.progress = null;
      }
      // a URL load fills the cache and every load marks its model used
      void this.store.refresh();
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
    if (!this.engine || this.loading || this.abortController || this.chat.running) return;
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
      // streamed weights of a partly cached URL model are stored as they are read
      void this.store.refresh();
    }
  }

  private onStop(): void {
    this.abortController?.abort();
  }

  private onChatAction(e: CustomEvent<ChatAction>): void {
    const a = e.detail;
    // one generation at a time: the completion view's blocks a chat request (its button is off too)
    const busy = this.loading || this.status === 'generating';
    if ((a.type === 'send' || a.type === 'regenerate' || a.type === 'edit') && busy) return;
    if (a.type !== 'stop' && a.type !== 'new') this.error = null;
    this.chat.perform(this.loading ? null : this.engine, a);
  }

  private selectTab(tab: Tab): void {
    this.tab = tab;
  }

  private onTabKey(e: KeyboardEvent): void {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const i = TABS.findIndex((t) => t.id === this.tab);
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : (i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length;
    this.tab = TABS[next]!.id;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>(`#tab-${this.tab}`)?.focus());
  }

  private lockBanner() {
    const b = tabLockBanner(this.lockState);
    if (!b) return '';
    return html`<div class="tab-lock" role="status" data-testid="tab-lock-banner">
      <span>${b.message}</span>
      <button type="button" data-testid="tab-lock-action" ?disabled=${this.loading} @click=${() => void this.onTakeOver()}>${b.action}</button>
    </div>`;
  }

  private tabs() {
    const chatRunning = this.chat.running;
    const completeRunning = this.status === 'generating';
    return html`<div class="tabs" role="tablist" aria-label="Mode" @keydown=${this.onTabKey}>
      ${TABS.map(
        (t) => html`<button
          type="button"
          role="tab"
          id=${`tab-${t.id}`}
          data-testid=${`tab-${t.id}`}
          aria-selected=${this.tab === t.id ? 'true' : 'false'}
          aria-controls=${`panel-${t.id}`}
          tabindex=${this.tab === t.id ? '0' : '-1'}
          @click=${() => this.selectTab(t.id)}
        >
          ${t.label}${(t.id === 'chat' ? chatRunning : completeRunning) && this.tab !== t.id ? html`<span class="busy" title="generating"></span>` : ''}
        </button>`,
      )}
    </div>`;
  }

  /** "Use it here" / "Take it back": the other tab unloads, then this one loads what it wanted. */
  private async onTakeOver(): Promise<void> {
    const request = this.wantedLoad ?? { model: DEFAULT_MODEL.url(), label: 'stories260K' };
    this.loading = true;
    this.loadingLabel = request.label;
    this.progress = { phase: 'starting', loadedBytes: 0, totalBytes: 0 };
    await this.tabLock.takeOver();
    await this.load(request);
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

  private storageTier(): StorageTier | null {
    if (!this.loadedModel || !this.stats) return null;
    return { source: this.loadedModel, model: findCachedModel(this.store.models, this.loadedModel), estimate: this.store.estimate };
  }

  private dropZone() {
    return html`<div class="drop-zone" data-testid="drop-zone" role="status" aria-live="polite">
      <div class="drop-card">
        <svg width="36" height="36" viewBox="0 0 24 24" fill="none" stroke="var(--ls-accent)" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
          <path d="M12 3v12" />
          <path d="m7 10 5 5 5-5" />
          <path d="M4 17v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
        </svg>
        <strong>Drop a .gguf file to load it</strong>
        <span>It is imported into this browser's storage (OPFS), so it is still here after a reload.</span>
      </div>
    </div>`;
  }

  /** What the picker asks a load for (budget, K/V format, context). */
  private pickerAsk(): PickerAsk {
    return this.renderRoot.querySelector('ls-model-picker')?.ask() ?? { kvCacheType: 'f32', contextLength: 2048 };
  }

  /** A catalog file as a candidate: its group's other quants are the siblings. */
  private catalogCandidate(group: string, id: string): Candidate | null {
    const g = this.catalog.find((x) => x.model === group);
    const e = g?.entries.find((x) => x.id === id);
    if (!g || !e) return null;
    const url = (x: CatalogEntry) => resolveUrl(x, this.advisor.hfEndpoint);
    return {
      model: url(e), label: `${e.model} ${e.quant}`, quant: e.quant, bytes: e.bytes, origin: 'catalog', license: e.license,
      siblings: g.entries.filter((x) => x !== e).map((x) => ({ model: url(x), label: `${x.model} ${x.quant}`, quant: x.quant, bytes: x.bytes })),
    };
  }

  private readonly onPickCatalog = (e: CustomEvent<PickDetail>) => {
    const c = this.catalogCandidate(e.detail.group ?? '', e.detail.id ?? '');
    if (c) void this.advisor.select(c, this.pickerAsk());
  };

  private readonly onPickHf = (e: CustomEvent<PickDetail>) => {
    const m = this.advisor.hf?.models[e.detail.index ?? -1];
    if (m) void this.advisor.select(this.advisor.hfCandidate(m), this.pickerAsk());
  };

  /** Loads the candidate as the picker asks, or as the advisor recommends (file, K/V format, context, RAM tier). */
  private readonly onFitLoad = (e: CustomEvent<FitLoadDetail>) => {
    const c = this.advisor.candidate;
    const plan = this.advisor.plan;
    if (!c) return;
    const ask = this.pickerAsk();
    if (e.detail.recommended && plan) {
      const r = plan.recommendation;
      this.renderRoot.querySelector('ls-model-picker')?.apply({ kvCacheType: r.kvCacheType, contextLength: r.contextLength });
      void this.load({ model: r.model ?? c.model, label: r.model ? r.label : c.label, gpuBudgetBytes: ask.gpuBudgetBytes, kvCacheType: r.kvCacheType, contextLength: r.contextLength, ramBudgetBytes: r.ramBudgetBytes || undefined });
      return;
    }
    void this.load({ model: c.model, label: c.label, gpuBudgetBytes: ask.gpuBudgetBytes, kvCacheType: ask.kvCacheType, contextLength: ask.contextLength });
  };

  /** "Choose a model" and "Will it fit?" */
  private browserCard() {
    const a = this.advisor;
    const c = a.candidate;
    const heading = c ? `${c.label}${c.bytes ? ` · ${formatBytes(c.bytes)}` : ''}${c.license ? ` · ${c.license}` : ''}` : '';
    return html`<section class="card model-card" aria-label="Choose a model">
      <ls-model-browser
        .groups=${this.catalog}
        .hf=${a.hf}
        .selected=${c?.model ?? ''}
        .budgetBytes=${this.pickerBudget() ?? this.stats?.gpuBudgetBytes ?? 0}
        .urlOf=${(x: CatalogEntry) => resolveUrl(x, a.hfEndpoint)}
        @ls-pick-catalog=${this.onPickCatalog}
        @ls-pick-hf=${this.onPickHf}
        @ls-hf-list=${(e: CustomEvent<string>) => void a.listHf(e.detail)}
      ></ls-model-browser>
      <div class="status">
        <ls-fit-panel
          .heading=${heading}
          .summary=${a.plan ? fitSummary(a.plan, a.figures?.calibration ?? null) : null}
          ?inspecting=${a.inspecting}
          ?calibrating=${a.calibrating}
          ?loading=${this.loading}
          .error=${a.error?.message ?? ''}
          @ls-fit-load=${this.onFitLoad}
          @ls-calibrate=${() => void a.calibrate()}
        ></ls-fit-panel>
      </div>
    </section>`;
  }

  render() {
    const running = this.status === 'generating';
    const chatRunning = this.chat.running;
    const p = this.progress;
    const store = this.store;
    return html`
      <header>
        <div class="brand">${this.logo()}<h1>layerstream</h1></div>
        <p class="tagline">Run GGUF language models in a browser tab on WebGPU, streaming layers through a fixed GPU buffer pool.</p>
        <span class="chip ${this.hasWebGPU ? '' : 'bad'}" title=${this.hasWebGPU ? 'navigator.gpu is present' : 'This browser does not expose WebGPU'}>
          WebGPU ${this.hasWebGPU ? 'available' : 'unavailable'}
        </span>
      </header>

      ${this.lockBanner()}
      ${this.error
        ? html`<ls-error-banner .heading=${this.error.heading} .message=${this.error.message} .code=${this.error.code} @ls-dismiss=${this.onDismiss}></ls-error-banner>`
        : ''}

      <div class="layout">
        <main class="col">
          ${this.tabs()}
          <div role="tabpanel" id="panel-chat" aria-labelledby="tab-chat" ?hidden=${this.tab !== 'chat'}>
            <section class="card" aria-label="Chat">
              <ls-chat
                .entries=${this.chat.entries}
                ?running=${chatRunning}
                ?ready=${!!this.engine && !this.loading && !running}
                .modelName=${this.info?.name ?? ''}
                .loadingLabel=${this.loading ? this.loadingLabel || 'the model' : ''}
                @ls-chat-action=${this.onChatAction}
              ></ls-chat>
            </section>
          </div>
          <div role="tabpanel" id="panel-complete" aria-labelledby="tab-complete" ?hidden=${this.tab !== 'complete'}>
            <section class="card" aria-label="Generate">
              <ls-generate-panel
                ?ready=${!!this.engine && !this.loading && !chatRunning}
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
          </div>
          ${this.browserCard()}
          <section class="card model-card" aria-label="Model">
            <ls-model-picker ?loading=${this.loading} @ls-load=${(e: CustomEvent<LoadRequest>) => void this.load(e.detail)} @ls-ask-change=${(e: CustomEvent<PickerAsk>) => this.advisor.setAsk(e.detail)}></ls-model-picker>
            <div class="status">
              ${p
                ? html`<ls-progress .phase=${p.phase} .loadedBytes=${p.loadedBytes} .totalBytes=${p.totalBytes} .label=${this.loadingLabel}></ls-progress>`
                : html`<ls-model-info .info=${this.info}></ls-model-info>`}
            </div>
          </section>
          <section class="card" aria-label="Stored models">
            <ls-model-manager
              .models=${store.models}
              .estimate=${store.estimate}
              .transfers=${store.transfers}
              .notice=${store.notice}
              ?listed=${store.listed}
              .loadedModel=${this.loadedModel}
              .missing=${missingLoadedModel(store.models, store.seen, this.loadedModel)}
              ?loading=${this.loading}
              @ls-model-action=${this.onModelAction}
              @ls-load=${(e: CustomEvent<LoadRequest>) => void this.load({ ...e.detail, gpuBudgetBytes: e.detail.gpuBudgetBytes ?? this.pickerBudget() })}
            ></ls-model-manager>
          </section>
        </main>
        <aside class="card" aria-label="GPU memory">
          <ls-memory-panel .stats=${this.stats} .storage=${this.storageTier()} .predictedTokensPerSecond=${this.advisor.loaded?.model === this.loadedModel ? this.advisor.loaded?.predicted ?? null : null}></ls-memory-panel>
        </aside>
      </div>
      <footer>Models are read with HTTP Range requests and kept in this browser's storage (OPFS), never fetched whole; prompts and output stay in this tab.</footer>
      ${this.dragging ? this.dropZone() : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-app': LsApp;
  }
}
