import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { CACHE_SCHEME } from '../index.ts';
import type { CachedModel, StorageEstimate } from '../api.ts';
import { baseStyles } from './styles.ts';
import { formatBytes, formatBytesOf, formatBytesPerSecond, formatDuration, formatPercent, formatRelativeTime, formatSource } from './format.ts';
import type { LoadRequest } from './model-picker.ts';
import { absoluteUrl, findCachedModel, type ModelAction, type ShownError, type Transfer, type TransferStatus } from './model-store.ts';

const STATUS_TEXT: Record<TransferStatus, string> = {
  starting: 'connecting…',
  running: 'downloading',
  pausing: 'pausing…',
  paused: 'paused',
  cancelling: 'cancelling…',
  failed: 'failed',
};

/** localStorage key of the card's expanded/collapsed state */
const OPEN_KEY = 'layerstream.manager.open';

function storedOpen(): boolean {
  try {
    return localStorage.getItem(OPEN_KEY) !== '0';
  } catch {
    return true;
  }
}

/** quota_exceeded messages carry the numbers in bytes (src/worker/storage-client.ts): shown in units too */
const QUOTA_NUMBERS = /needs (\d+) more bytes of storage, but only (\d+) of this site's (\d+)-byte quota/;

/**
 * The models in the browser's storage (OPFS): the list (size, stored bytes, source, last use,
 * complete/partial) with Load / Resume / Delete (confirmed inline), a URL download with pause,
 * resume and cancel, running imports, and the origin's storage use and quota. Displays what
 * <ls-app> gives it; fires `ls-model-action` (ModelAction) and `ls-load` (LoadRequest).
 */
@customElement('ls-model-manager')
export class LsModelManager extends LitElement {
  static styles = [
    baseStyles,
    css`
      section {
        display: grid;
        gap: var(--ls-gap-m);
      }
      .head {
        display: flex;
        align-items: center;
        gap: var(--ls-gap-s);
      }
      .head .title {
        flex: 1;
        min-width: 0;
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 2px 10px;
      }
      .head h2 {
        margin: 0;
      }
      .summary {
        font-size: 0.82rem;
      }
      .body {
        display: grid;
        gap: var(--ls-gap-m);
      }
      button.small {
        padding: 4px 12px;
        font-size: 0.85rem;
      }
      button.ghost {
        border-color: transparent;
        background: transparent;
        color: var(--ls-muted);
      }
      button.danger:not(:disabled) {
        color: var(--ls-danger);
        border-color: var(--ls-danger-border);
      }
      button.danger:hover:not(:disabled) {
        background: var(--ls-danger-soft);
      }
      button.danger-solid {
        background: var(--ls-danger);
        border-color: var(--ls-danger);
        color: #fff;
      }
      button.danger-solid:hover:not(:disabled) {
        background: var(--ls-danger-text);
        border-color: var(--ls-danger-text);
      }
      .chevron {
        display: inline-block;
        transition: transform 0.15s;
      }
      [aria-expanded='false'] .chevron {
        transform: rotate(-90deg);
      }

      /* download form */
      .download .row {
        display: flex;
        gap: var(--ls-gap-s);
      }
      .download input {
        flex: 1;
      }
      .download button {
        min-width: 7rem;
      }

      /* badges and bars */
      .badge {
        display: inline-block;
        padding: 0 8px;
        border-radius: 999px;
        font-size: 0.72rem;
        font-weight: 600;
        line-height: 1.6;
        white-space: nowrap;
        background: var(--ls-bg);
        color: var(--ls-muted);
        border: 1px solid var(--ls-border);
      }
      .badge.ok {
        background: var(--ls-ok-soft);
        color: var(--ls-ok);
        border-color: transparent;
      }
      .badge.partial,
      .badge.paused,
      .badge.pausing {
        background: var(--ls-warn-soft);
        color: var(--ls-warn);
        border-color: transparent;
      }
      .badge.running,
      .badge.starting,
      .badge.loaded {
        background: var(--ls-accent-soft);
        color: var(--ls-accent-strong);
        border-color: transparent;
      }
      .badge.failed {
        background: var(--ls-danger-soft);
        color: var(--ls-danger);
        border-color: transparent;
      }
      .track {
        height: 8px;
        border-radius: 999px;
        background: var(--ls-free);
        overflow: hidden;
      }
      .track.thin {
        height: 5px;
      }
      .fill {
        height: 100%;
        border-radius: inherit;
        background: var(--ls-accent);
        transition: width 0.15s ease-out;
      }
      .fill.partial.running,
      .fill.partial.starting {
        background: var(--ls-accent);
      }
      .fill.partial,
      .paused .fill,
      .pausing .fill {
        background: var(--ls-pool);
      }
      .failed .fill {
        background: var(--ls-danger);
      }
      .starting .track .fill {
        width: 30% !important;
        animation: slide 1.1s ease-in-out infinite;
      }
      @keyframes slide {
        from {
          transform: translateX(-100%);
        }
        to {
          transform: translateX(340%);
        }
      }
      .num {
        font-variant-numeric: tabular-nums;
      }

      /* transfers */
      .transfers {
        display: grid;
        gap: var(--ls-gap-s);
      }
      .transfer {
        display: grid;
        /* minmax(0, …): long names and URLs ellipsize instead of widening the row */
        grid-template-columns: minmax(0, 1fr);
        gap: 6px;
        padding: 10px 12px;
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        background: var(--ls-code-bg);
      }
      .line {
        display: flex;
        align-items: center;
        flex-wrap: wrap;
        gap: 4px 8px;
        min-width: 0;
      }
      .name {
        font-weight: 600;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .actions {
        display: flex;
        gap: 6px;
        margin-left: auto;
        flex-wrap: wrap;
      }
      .meta {
        display: flex;
        flex-wrap: wrap;
        gap: 2px 12px;
        font-size: 0.8rem;
        color: var(--ls-muted);
      }
      .meta b {
        font-weight: 600;
        color: var(--ls-text);
      }
      .error {
        font-size: 0.82rem;
        color: var(--ls-danger-text);
        background: var(--ls-danger-soft);
        border: 1px solid var(--ls-danger-border);
        border-radius: 6px;
        padding: 6px 10px;
        overflow-wrap: anywhere;
      }
      .error code {
        font-family: var(--ls-mono);
        font-size: 0.76rem;
        padding: 0 6px;
        margin-right: 6px;
        border-radius: 4px;
        background: rgba(201, 42, 42, 0.1);
      }
      .error .friendly {
        font-weight: 600;
        margin-top: 2px;
      }
      .notice {
        display: flex;
        align-items: flex-start;
        gap: 8px;
      }
      .notice > div {
        flex: 1;
        min-width: 0;
      }
      .notice button {
        padding: 0 6px;
        border-color: transparent;
        background: transparent;
        color: inherit;
      }

      /* cached models */
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        overflow: hidden;
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        align-items: center;
        gap: 6px 12px;
        padding: 10px 12px;
        background: var(--ls-surface);
      }
      li + li {
        border-top: 1px solid var(--ls-border);
      }
      li.is-loaded {
        background: var(--ls-accent-soft);
      }
      li.deleting {
        opacity: 0.55;
      }
      .main {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 3px;
        min-width: 0;
      }
      .source {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        min-width: 0;
        max-width: 100%;
      }
      .stored {
        display: flex;
        align-items: center;
        gap: 8px;
        font-size: 0.78rem;
        color: var(--ls-muted);
      }
      .stored .track {
        flex: 1;
        max-width: 16rem;
      }
      .confirm {
        grid-column: 1 / -1;
        display: flex;
        align-items: center;
        flex-wrap: wrap;
        gap: 6px 8px;
        padding: 8px 10px;
        border-radius: 6px;
        background: var(--ls-danger-soft);
        border: 1px solid var(--ls-danger-border);
        font-size: 0.85rem;
        color: var(--ls-danger-text);
      }
      .confirm span {
        flex: 1 1 14rem;
        overflow-wrap: anywhere;
      }
      .empty {
        font-size: 0.85rem;
        padding: 12px;
        border: 1px dashed var(--ls-border-strong);
        border-radius: var(--ls-radius-s);
        text-align: center;
      }

      /* storage estimate */
      .storage {
        display: grid;
        gap: 6px;
        padding-top: var(--ls-gap-m);
        border-top: 1px solid var(--ls-border);
        font-size: 0.82rem;
      }
      .storage .bar {
        display: flex;
        height: 10px;
        border-radius: 999px;
        overflow: hidden;
        background: var(--ls-free);
      }
      .storage .bar .models {
        background: var(--ls-ok);
      }
      .storage .bar .other {
        background: var(--ls-border-strong);
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 2px 16px;
        color: var(--ls-muted);
      }
      .legend b {
        color: var(--ls-text);
        font-weight: 600;
      }
      .swatch {
        display: inline-block;
        width: 9px;
        height: 9px;
        border-radius: 3px;
        margin-right: 5px;
        vertical-align: -1px;
      }
      .swatch.models {
        background: var(--ls-ok);
      }
      .swatch.other {
        background: var(--ls-border-strong);
      }
      .storage button {
        padding: 0 8px;
        font-size: 0.78rem;
      }

      @media (max-width: 520px) {
        .download .row {
          flex-wrap: wrap;
        }
        .download button {
          flex: 1 1 100%;
        }
        li {
          grid-template-columns: minmax(0, 1fr);
        }
        li .actions {
          margin-left: 0;
        }
        li .actions button {
          flex: 1;
        }
        .transfer .actions {
          width: 100%;
        }
        .transfer .actions button {
          flex: 1;
        }
        .stored .track {
          max-width: none;
        }
      }
    `,
  ];

  @property({ attribute: false }) models: readonly CachedModel[] = [];
  @property({ attribute: false }) estimate: StorageEstimate | null = null;
  @property({ attribute: false }) transfers: readonly Transfer[] = [];
  @property({ attribute: false }) notice: ShownError | null = null;
  /** the first listing has arrived */
  @property({ type: Boolean }) listed = false;
  /** the loaded model, when storage lost it (ModelStore missingLoadedModel), else null */
  @property({ attribute: false }) missing: CachedModel | null = null;
  /** the `model` string the engine was loaded from (URL or opfs:<id>), null when none */
  @property({ attribute: false }) loadedModel: string | null = null;
  /** a load is in progress: Load buttons are off */
  @property({ type: Boolean }) loading = false;

  @state() private open = storedOpen();
  @state() private url = '';
  @state() private urlProblem = '';
  @state() private confirming: string | null = null;
  @state() private deleting = new Set<string>();
  @state() private now = Date.now();
  private clock: ReturnType<typeof setInterval> | null = null;

  connectedCallback(): void {
    super.connectedCallback();
    this.clock = setInterval(() => (this.now = Date.now()), 30_000);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.clock) clearInterval(this.clock);
    this.clock = null;
  }

  protected willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('models')) {
      this.now = Date.now();
      const ids = new Set(this.models.map((m) => m.id));
      if (this.confirming && !ids.has(this.confirming)) this.confirming = null;
      if ([...this.deleting].some((id) => !ids.has(id))) this.deleting = new Set([...this.deleting].filter((id) => ids.has(id)));
    }
  }

  protected updated(changed: PropertyValues): void {
    // Move focus to the confirm button when a confirmation opens, so Enter confirms and Escape backs out.
    if (changed.has('confirming') && this.confirming) this.renderRoot.querySelector<HTMLButtonElement>('[data-testid="cached-model-delete-confirm"]')?.focus();
  }

  private toggle(): void {
    this.open = !this.open;
    try {
      localStorage.setItem(OPEN_KEY, this.open ? '1' : '0');
    } catch {
      // storage unavailable: the choice lasts until the page is closed
    }
  }

  private act(detail: ModelAction): void {
    this.dispatchEvent(new CustomEvent<ModelAction>('ls-model-action', { detail, bubbles: true, composed: true }));
  }

  private onDownload(e: Event): void {
    e.preventDefault();
    const text = this.url.trim();
    if (!text) {
      this.urlProblem = 'Enter the URL of a .gguf file.';
      return;
    }
    let url: URL;
    try {
      url = new URL(text, location.href);
    } catch {
      this.urlProblem = `Not a valid URL: ${text}`;
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      this.urlProblem = `Only http(s) URLs can be downloaded, not ${url.protocol}`;
      return;
    }
    this.urlProblem = '';
    this.url = '';
    this.act({ type: 'download', url: url.href });
  }

  private load(m: CachedModel): void {
    this.dispatchEvent(
      new CustomEvent<LoadRequest>('ls-load', { detail: { model: m.url ?? CACHE_SCHEME + m.id, label: m.name }, bubbles: true, composed: true }),
    );
  }

  private confirmDelete(m: CachedModel): void {
    this.confirming = null;
    this.deleting = new Set([...this.deleting, m.id]);
    this.act({ type: 'delete', id: m.id });
  }

  /** The transfer that is filling this model, if any. */
  private transferOf(m: CachedModel): Transfer | undefined {
    return this.transfers.find((t) => t.kind === 'download' && (t.modelId === m.id || (m.url !== null && t.url === m.url)));
  }

  private errorBox(err: ShownError, testid: string) {
    const q = err.code === 'quota_exceeded' ? QUOTA_NUMBERS.exec(err.message) : null;
    return html`<div class="error" role="alert" data-testid=${testid} data-code=${err.code}>
      ${err.code ? html`<code>${err.code}</code>` : nothing}<span class="message">${err.message}</span>
      ${q
        ? html`<div class="friendly" data-testid="quota-numbers">
            Needs ${formatBytes(Number(q[1]))} more, but only ${formatBytes(Number(q[2]))} of this site's ${formatBytes(Number(q[3]))} quota is free.
          </div>`
        : nothing}
    </div>`;
  }

  private transferRow(t: Transfer) {
    const known = t.totalBytes > 0;
    const fraction = known ? t.loadedBytes / t.totalBytes : 0;
    const active = t.status === 'starting' || t.status === 'running';
    const status = t.kind === 'import' && t.status === 'running' ? 'importing' : STATUS_TEXT[t.status];
    return html`
      <div
        class="transfer ${t.status}"
        data-testid="download-progress"
        data-status=${t.status}
        data-kind=${t.kind}
        role="group"
        aria-label=${`${t.kind === 'import' ? 'Import' : 'Download'} of ${t.name}`}
      >
        <div class="line">
          <span class="name" title=${t.url ?? t.name}>${t.name}</span>
          <span class="badge ${t.status}" data-testid="download-status">${status}</span>
          <span class="actions">
            ${t.kind === 'download' && (active || t.status === 'pausing')
              ? html`<button type="button" class="small" data-testid="download-pause" ?disabled=${!active} @click=${() => this.act({ type: 'pause', key: t.key })}>Pause</button>`
              : nothing}
            ${t.status === 'paused' || t.status === 'failed'
              ? html`<button type="button" class="small primary" data-testid="download-resume" @click=${() => this.act({ type: 'resume', key: t.key })}>Resume</button>`
              : nothing}
            <button
              type="button"
              class="small danger"
              data-testid="download-cancel"
              title=${t.kind === 'import' ? 'Stop the import' : 'Stop and delete what was downloaded'}
              ?disabled=${t.status === 'cancelling'}
              @click=${() => this.act({ type: 'cancel', key: t.key })}
            >
              Cancel
            </button>
            ${t.status === 'failed'
              ? html`<button type="button" class="small ghost" data-testid="download-dismiss" title="Hide this row (stored chunks stay)" aria-label="Dismiss" @click=${() => this.act({ type: 'dismiss', key: t.key })}>✕</button>`
              : nothing}
          </span>
        </div>
        <div
          class="track"
          role="progressbar"
          aria-label=${`${t.name}: ${status}`}
          aria-valuemin="0"
          aria-valuemax=${known ? t.totalBytes : 0}
          aria-valuenow=${known ? t.loadedBytes : 0}
        >
          <div class="fill" style="width: ${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(1)}%"></div>
        </div>
        <div class="meta">
          <span class="num" data-testid="download-bytes"><b>${formatBytesOf(t.loadedBytes, t.totalBytes)}</b>${known ? ` · ${formatPercent(fraction)}` : ''}</span>
          ${active || t.status === 'pausing'
            ? html`<span class="num" data-testid="download-rate">${formatBytesPerSecond(t.bytesPerSecond)}</span>
                <span class="num" data-testid="download-eta">${Number.isFinite(t.etaSeconds) ? `${formatDuration(t.etaSeconds)} left` : 'time left –'}</span>`
            : nothing}
          ${t.status === 'paused' ? html`<span>stored chunks are kept · Resume continues from ${formatBytes(t.loadedBytes)}</span>` : nothing}
        </div>
        ${t.error ? this.errorBox(t.error, 'download-error') : nothing}
      </div>
    `;
  }

  /** The loaded model that browser storage lost: it runs from what the GPU holds until a read fails. */
  private missingRow(m: CachedModel) {
    return html`
      <li class="is-loaded missing" data-testid="missing-model" data-id=${m.id} data-name=${m.name}>
        <div class="main">
          <div class="line">
            <span class="name" title=${m.name}>${m.name}</span>
            <span class="badge failed" data-testid="missing-model-state">missing</span>
            <span class="badge loaded">loaded</span>
          </div>
          <div class="meta">
            <span>Removed from browser storage (site data cleared, or evicted by the browser)${m.url ? ' — download it again to keep using it' : ' — import the file again'}.</span>
          </div>
        </div>
        <div class="actions">
          ${m.url
            ? html`<button type="button" class="small primary" data-testid="missing-model-download" @click=${() => this.act({ type: 'download', url: m.url! })}>Download again</button>`
            : nothing}
        </div>
      </li>
    `;
  }

  private modelRow(m: CachedModel, loaded: CachedModel | null) {
    const transfer = this.transferOf(m);
    const isLoaded = loaded?.id === m.id;
    const deleting = this.deleting.has(m.id);
    const stored = transfer && transfer.loadedBytes > m.downloadedBytes ? transfer.loadedBytes : m.downloadedBytes;
    const badge = m.complete
      ? html`<span class="badge ok" data-testid="cached-model-state">complete</span>`
      : transfer && transfer.status !== 'failed'
        ? html`<span class="badge ${transfer.status}" data-testid="cached-model-state">${transfer.status === 'paused' ? 'paused' : 'downloading'}</span>`
        : html`<span class="badge partial" data-testid="cached-model-state">partial</span>`;
    return html`
      <li
        class="${isLoaded ? 'is-loaded' : ''} ${deleting ? 'deleting' : ''}"
        data-testid="cached-model"
        data-id=${m.id}
        data-name=${m.name}
        data-complete=${m.complete ? 'true' : 'false'}
        aria-busy=${deleting ? 'true' : 'false'}
      >
        <div class="main">
          <div class="line">
            <span class="name" data-testid="cached-model-name" title=${m.name}>${m.name}</span>
            ${badge}
            ${isLoaded ? html`<span class="badge loaded">loaded</span>` : nothing}
          </div>
          <div class="meta">
            <span class="num" data-testid="cached-model-size"><b>${formatBytes(m.sizeBytes)}</b>${m.parts > 1 ? ` · ${m.parts} parts` : ''}</span>
            <span class="source" data-testid="cached-model-source" title=${m.url ?? 'imported from a local file'}>${formatSource(m.url)}</span>
            <span data-testid="cached-model-used" title=${new Date(m.lastUsed).toLocaleString()}>used ${formatRelativeTime(m.lastUsed, this.now)}</span>
          </div>
          ${m.complete
            ? nothing
            : html`<div class="stored">
                <div class="track thin"><div class="fill partial ${transfer?.status ?? ''}" style="width: ${(m.sizeBytes > 0 ? Math.min(1, stored / m.sizeBytes) * 100 : 0).toFixed(1)}%"></div></div>
                <span class="num" data-testid="cached-model-stored">${formatBytesOf(stored, m.sizeBytes)}</span>
              </div>`}
        </div>
        <div class="actions">
          ${m.complete
            ? html`<button
                type="button"
                class="small ${isLoaded ? '' : 'primary'}"
                data-testid="cached-model-load"
                ?disabled=${this.loading || isLoaded || deleting}
                title=${isLoaded ? 'This model is loaded' : `Load ${m.name} from browser storage`}
                @click=${() => this.load(m)}
              >
                ${isLoaded ? 'Loaded' : 'Load'}
              </button>`
            : m.url && !transfer
              ? html`<button type="button" class="small primary" data-testid="cached-model-resume" ?disabled=${deleting} @click=${() => this.act({ type: 'resume-model', id: m.id })}>Resume</button>`
              : nothing}
          <button
            type="button"
            class="small danger"
            data-testid="cached-model-delete"
            ?disabled=${deleting}
            aria-expanded=${this.confirming === m.id ? 'true' : 'false'}
            @click=${() => (this.confirming = this.confirming === m.id ? null : m.id)}
          >
            ${deleting ? 'Deleting…' : 'Delete'}
          </button>
        </div>
        ${this.confirming === m.id
          ? html`<div class="confirm" role="alertdialog" aria-label=${`Delete ${m.name}?`} @keydown=${(e: KeyboardEvent) => e.key === 'Escape' && (this.confirming = null)}>
              <span>Delete <b>${m.name}</b> (${formatBytes(m.downloadedBytes)}) from this browser's storage?${isLoaded ? ' It is loaded and will be unloaded.' : ''}</span>
              <button type="button" class="small danger-solid" data-testid="cached-model-delete-confirm" @click=${() => this.confirmDelete(m)}>Delete</button>
              <button type="button" class="small" data-testid="cached-model-delete-cancel" @click=${() => (this.confirming = null)}>Keep</button>
            </div>`
          : nothing}
      </li>
    `;
  }

  private storage(e: StorageEstimate) {
    const quota = Math.max(e.quotaBytes, 1);
    const other = Math.max(0, e.usageBytes - e.modelBytes);
    const pct = (b: number) => `${(b > 0 ? Math.max(0.8, Math.min(100, (b / quota) * 100)) : 0).toFixed(2)}%`;
    return html`
      <div class="storage" data-testid="storage-estimate">
        <div
          class="bar"
          role="img"
          aria-label=${`Storage: models ${formatBytes(e.modelBytes)}, this site uses ${formatBytes(e.usageBytes)} of ${formatBytes(e.quotaBytes)}`}
        >
          <div class="models" style="width: ${pct(e.modelBytes)}" title="models ${formatBytes(e.modelBytes)}"></div>
          <div class="other" style="width: ${pct(other)}" title="other data ${formatBytes(other)}"></div>
        </div>
        <div class="legend">
          <span><span class="swatch models"></span>Models <b class="num" data-testid="storage-models">${formatBytes(e.modelBytes)}</b></span>
          <span
            ><span class="swatch other"></span>Site uses <b class="num" data-testid="storage-usage">${formatBytes(e.usageBytes)}</b> of
            <b class="num" data-testid="storage-quota">${formatBytes(e.quotaBytes)}</b> quota · ${formatPercent(e.usageBytes / quota)}</span
          >
          <span
            >Persisted <b data-testid="storage-persisted">${e.persisted ? 'yes' : 'no'}</b>
            ${e.persisted
              ? nothing
              : html`<button type="button" class="small" data-testid="storage-persist" title="Ask the browser not to evict stored models under storage pressure" @click=${() => this.act({ type: 'persist' })}>
                  Ask to keep
                </button>`}</span
          >
        </div>
      </div>
    `;
  }

  render() {
    const loaded = findCachedModel(this.models, this.loadedModel);
    const stored = this.models.reduce((s, m) => s + m.downloadedBytes, 0);
    const n = this.models.length;
    const pendingUrl = this.url.trim() ? absoluteUrl(this.url.trim()) : '';
    const already = pendingUrl ? this.models.find((m) => m.url === pendingUrl && m.complete) : undefined;
    return html`
      <section data-testid="model-manager" aria-label="Models in browser storage">
        <div class="head">
          <div class="title">
            <h2 id="mm-title">Stored models</h2>
            <span class="summary muted" data-testid="manager-summary">${this.listed ? `${n} ${n === 1 ? 'model' : 'models'} · ${formatBytes(stored)}` : 'reading…'}</span>
          </div>
          <button
            type="button"
            class="small ghost"
            data-testid="manager-toggle"
            aria-expanded=${this.open ? 'true' : 'false'}
            aria-controls="mm-body"
            @click=${this.toggle}
          >
            <span class="chevron" aria-hidden="true">▾</span>${this.open ? 'Hide' : 'Show'}
          </button>
        </div>
        <div class="body" id="mm-body" ?hidden=${!this.open}>
          <form class="download" @submit=${this.onDownload} novalidate>
            <label for="dl-url">Download a model into this browser</label>
            <div class="row">
              <input
                id="dl-url"
                type="url"
                data-testid="download-url"
                placeholder="https://…/model.gguf"
                autocomplete="off"
                spellcheck="false"
                .value=${this.url}
                @input=${(e: Event) => {
                  this.url = (e.target as HTMLInputElement).value;
                  this.urlProblem = '';
                }}
                aria-invalid=${this.urlProblem ? 'true' : 'false'}
                aria-describedby="dl-hint"
              />
              <button type="submit" class="primary" data-testid="download-start">Download</button>
            </div>
            ${this.urlProblem
              ? html`<div class="field-error" role="alert" id="dl-hint">${this.urlProblem}</div>`
              : html`<div class="hint" id="dl-hint">
                  ${already
                    ? `${already.name} is already stored: downloading checks it and finishes at once.`
                    : 'Kept in browser storage (OPFS) for offline use; an interrupted download resumes where it stopped. Drop a .gguf file anywhere on the page to import and load it.'}
                </div>`}
          </form>

          ${this.transfers.length ? html`<div class="transfers">${this.transfers.map((t) => this.transferRow(t))}</div>` : nothing}

          ${this.notice
            ? html`<div class="error notice" role="alert" data-testid="manager-error" data-code=${this.notice.code}>
                <div>${this.notice.code ? html`<code>${this.notice.code}</code>` : nothing}${this.notice.message}</div>
                <button type="button" aria-label="Dismiss" title="Dismiss" @click=${() => this.act({ type: 'dismiss-notice' })}>✕</button>
              </div>`
            : nothing}

          ${this.missing ? html`<ul aria-label="Loaded model missing from storage">${this.missingRow(this.missing)}</ul>` : nothing}
          ${n
            ? html`<ul aria-labelledby="mm-title">${this.models.map((m) => this.modelRow(m, loaded))}</ul>`
            : this.missing
              ? nothing
              : html`<div class="empty muted" data-testid="manager-empty">
                ${this.listed ? 'No models stored yet. Models you load by URL or from a file are kept here too.' : 'Reading browser storage…'}
              </div>`}

          ${this.estimate ? this.storage(this.estimate) : nothing}
        </div>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-model-manager': LsModelManager;
  }
}
