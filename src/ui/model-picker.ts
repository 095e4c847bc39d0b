import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

/** What the picker asks the app to load (detail of the `ls-load` event). */
export interface LoadRequest {
  /** absolute URL or a local file */
  model: string | Blob;
  /** short name for progress and messages */
  label: string;
  /** GPU budget in bytes (K/V cache + scratch + weights); undefined = automatic */
  gpuBudgetBytes?: number;
  /** K/V cache format; undefined = f32 */
  kvCacheType?: 'f32' | 'q8_0';
  /** tokens of context; undefined = the engine's default (2048, at most the model's) */
  contextLength?: number;
  /** RAM tier for streamed weights, bytes (the advisor's recommendation); undefined = off */
  ramBudgetBytes?: number;
}

/** Context lengths the picker offers, tokens. */
export const CONTEXT_CHOICES = [512, 1024, 2048, 4096, 8192, 16384, 32768] as const;

/** What the picker asks any load for (detail of `ls-ask-change`). */
export interface PickerAsk {
  gpuBudgetBytes?: number;
  kvCacheType: 'f32' | 'q8_0';
  contextLength: number;
}

export type ModelSource = 'default' | 'url' | 'file';

/** The model embedded with the app (served from public/models/). */
export const DEFAULT_MODEL = {
  path: 'models/stories260K.gguf',
  label: 'stories260K (default, 1.2 MB)',
  /** absolute URL: the engine resolves it inside a worker, where relative URLs mean something else */
  url(): string {
    return new URL(`${import.meta.env.BASE_URL}${this.path}`, location.href).href;
  },
};

/**
 * Chooses a model (default, URL or local .gguf file) and a GPU budget, and fires `ls-load`.
 * Typing a URL or picking a file selects that source.
 */
@customElement('ls-model-picker')
export class LsModelPicker extends LitElement {
  static styles = [
    baseStyles,
    css`
      form {
        display: grid;
        gap: var(--ls-gap-m);
      }
      fieldset {
        border: 0;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 6px;
        min-width: 0;
      }
      legend {
        padding: 0;
      }
      .option {
        display: grid;
        grid-template-columns: auto 5.5rem minmax(0, 1fr);
        align-items: center;
        gap: 10px;
        padding: 8px 10px;
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        background: var(--ls-surface);
        transition: border-color 0.15s, background 0.15s;
      }
      .option.selected {
        border-color: var(--ls-accent);
        background: var(--ls-accent-soft);
      }
      .option input[type='radio'] {
        width: auto;
        margin: 0;
        accent-color: var(--ls-accent);
      }
      .option .name {
        font-weight: 500;
        font-size: 0.9rem;
        margin: 0;
        color: var(--ls-text);
        cursor: pointer;
      }
      .option .default-name {
        grid-column: 2 / 4;
      }
      .option input[type='url'],
      .option input[type='file'] {
        padding: 5px 8px;
        font-size: 0.88rem;
      }
      input[type='file'] {
        padding: 3px !important;
        color: var(--ls-muted);
      }
      input[type='file']::file-selector-button {
        font: inherit;
        font-size: 0.82rem;
        padding: 3px 10px;
        margin-right: 8px;
        border: 1px solid var(--ls-border-strong);
        border-radius: 6px;
        background: var(--ls-bg);
        color: var(--ls-text);
        cursor: pointer;
      }
      .actions {
        display: flex;
        align-items: flex-end;
        gap: var(--ls-gap-m);
        flex-wrap: wrap;
      }
      .budget {
        flex: 0 1 14rem;
      }
      .kv {
        flex: 0 1 12rem;
      }
      select {
        width: 100%;
        font: inherit;
        padding: 6px 8px;
        border: 1px solid var(--ls-border-strong);
        border-radius: var(--ls-radius-s);
        background: var(--ls-surface);
        color: var(--ls-text);
      }
      .actions button {
        min-width: 7rem;
      }
      @media (max-width: 520px) {
        .option {
          grid-template-columns: auto minmax(0, 1fr);
        }
        .option .default-name {
          grid-column: 2;
        }
        .option > input:not([type='radio']) {
          grid-column: 1 / 3;
        }
        .budget {
          flex: 1 1 100%;
        }
        .actions button {
          flex: 1;
        }
      }
    `,
  ];

  /** a load is in progress: Load is disabled */
  @property({ type: Boolean }) loading = false;

  @state() private source: ModelSource = 'default';
  @state() private url = '';
  @state() private file: File | null = null;
  @state() private budget = '';
  @state() private kvCacheType: 'f32' | 'q8_0' = 'f32';
  @state() private contextLength = 2048;
  @state() private problem: { field: 'url' | 'file' | 'budget'; message: string } | null = null;

  private pick(source: ModelSource): void {
    this.source = source;
    if (this.problem && this.problem.field !== 'budget') this.problem = null;
  }

  private onUrlInput(e: Event): void {
    this.url = (e.target as HTMLInputElement).value;
    this.pick('url');
  }

  private onFileChange(e: Event): void {
    this.file = (e.target as HTMLInputElement).files?.[0] ?? null;
    if (this.file) this.pick('file');
  }

  private onBudgetInput(e: Event): void {
    this.budget = (e.target as HTMLInputElement).value;
    if (this.problem?.field === 'budget') this.problem = null;
    this.askChanged();
  }

  /** The budget, K/V format and context any load gets now. */
  ask(): PickerAsk {
    return { gpuBudgetBytes: this.gpuBudgetBytes(), kvCacheType: this.kvCacheType, contextLength: this.contextLength };
  }

  /** Sets the K/V format and context (the advisor's recommendation was loaded). */
  apply(o: { kvCacheType?: 'f32' | 'q8_0'; contextLength?: number }): void {
    if (o.kvCacheType) this.kvCacheType = o.kvCacheType;
    if (o.contextLength) this.contextLength = o.contextLength;
    this.askChanged();
  }

  private askChanged(): void {
    this.dispatchEvent(new CustomEvent<PickerAsk>('ls-ask-change', { detail: this.ask(), bubbles: true, composed: true }));
  }

  /** The budget typed so far, in bytes: undefined when empty or not a valid number (= automatic). */
  gpuBudgetBytes(): number | undefined {
    return this.budgetBytes() ?? undefined;
  }

  /** Budget field → bytes; undefined when empty; null when invalid. */
  private budgetBytes(): number | undefined | null {
    const text = this.budget.trim();
    if (text === '') return undefined;
    const mib = Number(text);
    if (!Number.isFinite(mib) || mib <= 0) return null;
    return Math.round(mib * 1024 * 1024);
  }

  private buildRequest(): LoadRequest | null {
    const gpuBudgetBytes = this.budgetBytes();
    if (gpuBudgetBytes === null) {
      this.problem = { field: 'budget', message: 'Budget must be a positive number of MiB, or empty for automatic.' };
      return null;
    }
    switch (this.source) {
      case 'default':
        return { model: DEFAULT_MODEL.url(), label: 'stories260K', gpuBudgetBytes, kvCacheType: this.kvCacheType, contextLength: this.contextLength };
      case 'url': {
        const text = this.url.trim();
        if (!text) {
          this.problem = { field: 'url', message: 'Enter the URL of a .gguf file.' };
          return null;
        }
        let url: URL;
        try {
          url = new URL(text, location.href);
        } catch {
          this.problem = { field: 'url', message: `Not a valid URL: ${text}` };
          return null;
        }
        const name = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '') || url.host;
        return { model: url.href, label: name, gpuBudgetBytes, kvCacheType: this.kvCacheType, contextLength: this.contextLength };
      }
      case 'file':
        if (!this.file) {
          this.problem = { field: 'file', message: 'Choose a local .gguf file.' };
          return null;
        }
        return { model: this.file, label: this.file.name, gpuBudgetBytes, kvCacheType: this.kvCacheType, contextLength: this.contextLength };
    }
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    if (this.loading) return;
    const request = this.buildRequest();
    if (!request) return;
    this.problem = null;
    this.dispatchEvent(new CustomEvent<LoadRequest>('ls-load', { detail: request, bubbles: true, composed: true }));
  }

  render() {
    const p = this.problem;
    return html`
      <form @submit=${this.onSubmit} novalidate>
        <fieldset>
          <legend class="label">Model</legend>
          <div class="option ${this.source === 'default' ? 'selected' : ''}" @click=${() => this.pick('default')}>
            <input type="radio" name="source" id="src-default" data-testid="source-default" .checked=${this.source === 'default'} @change=${() => this.pick('default')} />
            <label class="name default-name" for="src-default">${DEFAULT_MODEL.label}</label>
          </div>
          <div class="option ${this.source === 'url' ? 'selected' : ''}">
            <input type="radio" name="source" id="src-url" data-testid="source-url" .checked=${this.source === 'url'} @change=${() => this.pick('url')} />
            <label class="name" for="src-url">URL</label>
            <input
              type="url"
              data-testid="url-input"
              placeholder="https://…/model.gguf"
              aria-label="Model URL"
              autocomplete="off"
              spellcheck="false"
              .value=${this.url}
              @input=${this.onUrlInput}
              @focus=${() => this.url && this.pick('url')}
              aria-invalid=${p?.field === 'url' ? 'true' : 'false'}
            />
          </div>
          <div class="option ${this.source === 'file' ? 'selected' : ''}">
            <input type="radio" name="source" id="src-file" data-testid="source-file" .checked=${this.source === 'file'} @change=${() => this.pick('file')} />
            <label class="name" for="src-file">Local file</label>
            <input type="file" accept=".gguf" data-testid="file-input" aria-label="Local GGUF file" @change=${this.onFileChange} aria-invalid=${p?.field === 'file' ? 'true' : 'false'} />
          </div>
          ${p && p.field !== 'budget' ? html`<div class="field-error" role="alert">${p.message}</div>` : ''}
        </fieldset>
        <div class="actions">
          <div class="budget">
            <label for="budget">GPU budget (MiB)</label>
            <input
              id="budget"
              type="number"
              inputmode="decimal"
              min="0"
              step="any"
              placeholder="automatic"
              data-testid="budget-input"
              .value=${this.budget}
              @input=${this.onBudgetInput}
              aria-invalid=${p?.field === 'budget' ? 'true' : 'false'}
              aria-describedby="budget-hint"
            />
          </div>
          <div class="kv">
            <label for="kv-type">K/V cache</label>
            <select id="kv-type" data-testid="kv-type" @change=${(e: Event) => { this.kvCacheType = (e.target as HTMLSelectElement).value as 'f32' | 'q8_0'; this.askChanged(); }}>
              <option value="f32" ?selected=${this.kvCacheType === 'f32'}>f32</option>
              <option value="q8_0" ?selected=${this.kvCacheType === 'q8_0'} title="ggml-style 8-bit blocks: 3.6× smaller, slightly less exact">8-bit (q8_0)</option>
            </select>
          </div>
          <div class="kv">
            <label for="ctx">Context (tokens)</label>
            <select id="ctx" data-testid="context-length" @change=${(e: Event) => { this.contextLength = Number((e.target as HTMLSelectElement).value); this.askChanged(); }}>
              ${CONTEXT_CHOICES.map((c) => html`<option value=${c} ?selected=${this.contextLength === c}>${c}</option>`)}
            </select>
          </div>
          <button type="submit" class="primary" data-testid="load" ?disabled=${this.loading}>${this.loading ? 'Loading…' : 'Load'}</button>
        </div>
        ${p?.field === 'budget'
          ? html`<div class="field-error" role="alert">${p.message}</div>`
          : html`<div class="hint" id="budget-hint">The budget holds the K/V cache, scratch and weights; weights beyond it stream through a fixed pool of GPU buffers. Applied on load.</div>`}
      </form>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-model-picker': LsModelPicker;
  }
}
