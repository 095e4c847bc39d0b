import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { FitSummary } from './fit-summary.ts';
import { formatBytes } from './format.ts';
import { baseStyles } from './styles.ts';

/** detail of `ls-fit-load`: load the candidate as asked, or as the advisor recommends */
export interface FitLoadDetail {
  recommended: boolean;
}

/**
 * "Will it fit?": draws fitSummary() of the advisor's plan for the candidate (resident share,
 * K/V cache, RAM tier, storage, predicted speed, recommendation). Fires `ls-fit-load` and
 * `ls-calibrate`; computes nothing itself.
 */
@customElement('ls-fit-panel')
export class LsFitPanel extends LitElement {
  static styles = [
    baseStyles,
    css`
      .head {
        display: flex;
        align-items: baseline;
        justify-content: space-between;
        gap: 8px;
        flex-wrap: wrap;
      }
      .title {
        font-weight: 600;
      }
      button.small {
        padding: 3px 10px;
        font-size: 0.8rem;
      }
      .headline {
        margin: 4px 0 8px;
        font-size: 0.92rem;
      }
      .headline.resident {
        color: var(--ls-ok);
      }
      .headline.too-small {
        color: var(--ls-danger);
      }
      .bar {
        height: 8px;
        border-radius: 4px;
        background: var(--ls-free);
        overflow: hidden;
        margin-bottom: 10px;
      }
      .bar span {
        display: block;
        height: 100%;
        background: var(--ls-accent);
      }
      dl {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 4px 14px;
        margin: 0;
        font-size: 0.86rem;
      }
      dt {
        color: var(--ls-muted);
      }
      dd {
        margin: 0;
      }
      dd small {
        display: block;
        color: var(--ls-muted);
        font-size: 0.78rem;
      }
      dd.warn {
        color: var(--ls-warn);
      }
      dd.bad {
        color: var(--ls-danger);
      }
      .rec {
        margin-top: 10px;
        padding: 8px 10px;
        border-left: 3px solid var(--ls-accent);
        background: var(--ls-accent-soft);
        border-radius: var(--ls-radius-s);
        font-size: 0.88rem;
      }
      .actions {
        display: flex;
        gap: 8px;
        flex-wrap: wrap;
        margin-top: 10px;
      }
      .note {
        color: var(--ls-muted);
        font-size: 0.85rem;
      }
      .error {
        color: var(--ls-danger);
        font-size: 0.88rem;
      }
    `,
  ];

  /** the candidate's name, quant and size for the title */
  @property() heading = '';
  @property({ attribute: false }) summary: FitSummary | null = null;
  @property({ type: Boolean }) inspecting = false;
  @property({ type: Boolean }) calibrating = false;
  @property({ type: Boolean }) loading = false;
  /** why there is no plan (gated repo, unreadable tokenizer, …) */
  @property() error = '';

  private fire(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  render() {
    const s = this.summary;
    const rec = s?.recommendation;
    return html`
      <div class="head">
        <h2>Will it fit?</h2>
        <button type="button" class="small" data-testid="calibrate" ?disabled=${this.calibrating} @click=${() => this.fire('ls-calibrate')}>
          ${this.calibrating ? 'Measuring this device…' : 'Recalibrate'}
        </button>
      </div>
      ${this.heading ? html`<div class="title" data-testid="fit-title">${this.heading}</div>` : ''}
      ${this.error
        ? html`<div class="error" role="alert" data-testid="fit-error">${this.error}</div>`
        : this.inspecting || (!s && this.calibrating)
          ? html`<div class="note">${this.calibrating ? 'Measuring this device (upload and matvec speed), once…' : 'Reading only the GGUF header, by Range…'}</div>`
          : !s
            ? html`<div class="note">Pick a model above to see whether it fits this device and how fast it will run, before downloading it.</div>`
            : html`
                <div class="headline ${s.verdict}" data-testid="fit-headline">${s.headline}</div>
                <div class="bar" title="resident share of the weights"><span style="width: ${Math.round(s.residentShare * 100)}%"></span></div>
                <dl data-testid="fit-rows">
                  ${s.rows.map(
                    (r) => html`<dt>${r.label}</dt><dd class=${r.tone ?? ''}>${r.value}${r.hint ? html`<small>${r.hint}</small>` : ''}</dd>`,
                  )}
                </dl>
                ${rec ? html`<div class="rec" data-testid="fit-recommendation"><strong>Recommended:</strong> ${rec.text}
                    ${s.recommendationDiffers ? html`<br /><small>${rec.quant ?? rec.label} · context ${rec.contextLength} · K/V ${rec.kvCacheType}${rec.ramBudgetBytes ? ` · RAM tier ${formatBytes(rec.ramBudgetBytes)}` : ''}</small>` : ''}</div>` : ''}
                <div class="actions">
                  ${s.recommendationDiffers
                    ? html`<button type="button" class="primary" data-testid="fit-load-recommended" ?disabled=${this.loading} @click=${() => this.fire('ls-fit-load', { recommended: true } satisfies FitLoadDetail)}>Load recommended</button>`
                    : ''}
                  <button type="button" class=${s.recommendationDiffers ? '' : 'primary'} data-testid="fit-load" ?disabled=${this.loading || s.verdict === 'too-small'} @click=${() => this.fire('ls-fit-load', { recommended: false } satisfies FitLoadDetail)}>
                    ${s.recommendationDiffers ? 'Load as asked' : 'Load'}
                  </button>
                </div>
              `}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-fit-panel': LsFitPanel;
  }
}
