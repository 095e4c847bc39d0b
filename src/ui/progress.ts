import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';
import { formatBytesOf, formatPercent } from './format.ts';

/** Load progress: phase name, a bar, and bytes done / bytes total of that phase. */
@customElement('ls-progress')
export class LsProgress extends LitElement {
  static styles = [
    baseStyles,
    css`
      .row {
        display: flex;
        justify-content: space-between;
        gap: var(--ls-gap-s);
        font-size: 0.82rem;
        margin-bottom: 6px;
      }
      .phase {
        font-weight: 600;
        text-transform: capitalize;
      }
      .track {
        height: 8px;
        border-radius: 999px;
        background: var(--ls-free);
        overflow: hidden;
      }
      .fill {
        height: 100%;
        border-radius: inherit;
        background: var(--ls-accent);
        transition: width 0.15s ease-out;
      }
      .indeterminate .fill {
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
    `,
  ];

  @property() phase = '';
  @property({ type: Number }) loadedBytes = 0;
  @property({ type: Number }) totalBytes = 0;
  /** what is being loaded, shown beside the phase */
  @property() label = '';

  render() {
    const known = this.totalBytes > 0;
    const fraction = known ? this.loadedBytes / this.totalBytes : 0;
    return html`
      <div
        data-testid="progress"
        role="progressbar"
        aria-label="Loading model"
        aria-valuemin="0"
        aria-valuemax=${known ? this.totalBytes : 0}
        aria-valuenow=${known ? this.loadedBytes : 0}
        aria-valuetext=${`${this.phase}: ${formatBytesOf(this.loadedBytes, this.totalBytes)}`}
      >
        <div class="row">
          <span><span class="phase">${this.phase || 'starting'}</span>${this.label ? html` <span class="muted">· ${this.label}</span>` : ''}</span>
          <span class="muted mono">${formatBytesOf(this.loadedBytes, this.totalBytes)}${known ? ` · ${formatPercent(fraction)}` : ''}</span>
        </div>
        <div class="track ${known ? '' : 'indeterminate'}">
          <div class="fill" style="width: ${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(1)}%"></div>
        </div>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-progress': LsProgress;
  }
}
