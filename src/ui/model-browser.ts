import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { CatalogEntry, CatalogModel } from '../catalog/catalog.ts';
import { parseHfReference } from '../storage/huggingface.ts';
import type { HfListing } from './advisor-state.ts';
import { quickFit } from './fit-summary.ts';
import { formatBytes } from './format.ts';
import { baseStyles } from './styles.ts';

/** detail of `ls-pick-catalog` / `ls-pick-hf`: which file (index into the group / listing) */
export interface PickDetail {
  group?: string;
  id?: string;
  index?: number;
}

/**
 * "Choose a model": the curated catalog (real GGUF files on Hugging Face, by model and quant) and,
 * when the search field holds `hf.co/owner/repo`, that repo's GGUF files. Picking a file fires
 * `ls-pick-catalog` or `ls-pick-hf` (the app asks the advisor); Enter on a repo fires `ls-hf-list`.
 * Draws what it is given; the only computation is the filter and quickFit's size-only guess.
 */
@customElement('ls-model-browser')
export class LsModelBrowser extends LitElement {
  static styles = [
    baseStyles,
    css`
      .search {
        display: flex;
        gap: 8px;
      }
      .list {
        display: grid;
        gap: 6px;
        max-height: 24rem;
        overflow: auto;
        margin-top: 8px;
        padding-right: 2px;
      }
      .model {
        padding: 8px 10px;
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        background: var(--ls-surface);
      }
      .model .name {
        font-weight: 600;
        font-size: 0.92rem;
      }
      .model .meta {
        color: var(--ls-muted);
        font-size: 0.78rem;
      }
      .model .desc {
        font-size: 0.84rem;
        margin: 2px 0 6px;
      }
      .files {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      .files button {
        padding: 3px 9px;
        font-size: 0.8rem;
        border-radius: 999px;
      }
      .files button[aria-pressed='true'] {
        border-color: var(--ls-accent);
        background: var(--ls-accent-soft);
      }
      .fits {
        color: var(--ls-ok);
      }
      .streams {
        color: var(--ls-warn);
      }
      .note {
        color: var(--ls-muted);
        font-size: 0.84rem;
        margin-top: 6px;
      }
      .error {
        color: var(--ls-danger);
        font-size: 0.86rem;
        margin-top: 6px;
      }
    `,
  ];

  @property({ attribute: false }) groups: CatalogModel[] = [];
  @property({ attribute: false }) hf: HfListing | null = null;
  /** the candidate's URL, to mark its button */
  @property() selected = '';
  /** the GPU budget in force, bytes (for the size-only guess) */
  @property({ type: Number }) budgetBytes = 0;
  /** catalog entry id → URL (the app resolves them against its Hugging Face endpoint) */
  @property({ attribute: false }) urlOf: (e: CatalogEntry) => string = () => '';
  @state() private query = '';

  private fire(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && parseHfReference(this.query)) {
      e.preventDefault();
      this.fire('ls-hf-list', this.query.trim());
    }
  }

  private guess(bytes: number) {
    if (!this.budgetBytes) return '';
    const g = quickFit(bytes, this.budgetBytes);
    return html` <span class=${g} title="by file size, before reading the header">${g === 'fits' ? '≈ fits' : '≈ streams'}</span>`;
  }

  private hfList() {
    const hf = this.hf;
    if (!hf) return '';
    if (hf.status === 'listing') return html`<div class="note">Listing the GGUF files of ${hf.repo}…</div>`;
    if (hf.status === 'error') return html`<div class="error" role="alert" data-testid="hf-error">${hf.error}</div>`;
    if (!hf.models.length) return html`<div class="note">${hf.repo} has no GGUF files.</div>`;
    return html`<div class="model" data-testid="hf-listing">
      <div class="name">${hf.repo}</div>
      <div class="meta">Hugging Face · ${hf.models.length} GGUF model${hf.models.length === 1 ? '' : 's'}</div>
      <div class="files">
        ${hf.models.map(
          (m, i) => html`<button type="button" data-testid="hf-file" aria-pressed=${m.urls[0] === this.selected ? 'true' : 'false'} @click=${() => this.fire('ls-pick-hf', { index: i } satisfies PickDetail)}
            title=${m.paths.join('\n')}>
            ${m.name} · ${formatBytes(m.bytes)}${m.paths.length > 1 ? ` · ${m.paths.length} parts` : ''}${m.partsMissing?.length ? ' · parts missing' : ''}${this.guess(m.bytes)}
          </button>`,
        )}
      </div>
    </div>`;
  }

  render() {
    const q = this.query.trim().toLowerCase();
    const isRepo = !!parseHfReference(this.query);
    const groups = isRepo || !q ? this.groups : this.groups.filter((g) => `${g.model} ${g.entries.map((e) => `${e.repo} ${e.architecture} ${e.quant} ${e.description}`).join(' ')}`.toLowerCase().includes(q));
    return html`
      <h2>Choose a model</h2>
      <div class="search">
        <input
          type="search"
          data-testid="browse-input"
          aria-label="Search the catalog, or hf.co/owner/repo"
          placeholder="Search the catalog, or hf.co/owner/repo + Enter"
          autocomplete="off"
          spellcheck="false"
          .value=${this.query}
          @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}
          @keydown=${this.onKey}
        />
        ${isRepo ? html`<button type="button" data-testid="hf-list" @click=${() => this.fire('ls-hf-list', this.query.trim())}>List files</button>` : ''}
      </div>
      ${this.hfList()}
      <div class="list" data-testid="catalog">
        ${groups.map(
          (g) => html`<div class="model" data-testid="catalog-model">
            <div class="name">${g.model}</div>
            <div class="desc">${g.entries[0].description}</div>
            <div class="meta">${g.entries[0].architecture} · ${g.entries[0].license} · ${g.entries[0].repo}</div>
            <div class="files">
              ${g.entries.map(
                (e) => html`<button type="button" data-testid="catalog-file" data-id=${e.id} aria-pressed=${this.urlOf(e) === this.selected ? 'true' : 'false'}
                  @click=${() => this.fire('ls-pick-catalog', { group: g.model, id: e.id } satisfies PickDetail)}>
                  ${e.quant} · ${e.bytesExact ? formatBytes(e.bytes) : `${(e.bytes / 1e9).toFixed(2)} GB`}${this.guess(e.bytes)}
                </button>`,
              )}
            </div>
          </div>`,
        )}
        ${groups.length ? '' : html`<div class="note">No catalog model matches “${this.query}”.</div>`}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-model-browser': LsModelBrowser;
  }
}
