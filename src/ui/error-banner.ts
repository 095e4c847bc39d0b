import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

/** A dismissible error message with its code. Fires `ls-dismiss`. */
@customElement('ls-error-banner')
export class LsErrorBanner extends LitElement {
  static styles = [
    baseStyles,
    css`
      .banner {
        display: flex;
        align-items: flex-start;
        gap: 12px;
        padding: 12px 14px;
        border: 1px solid var(--ls-danger-border);
        border-left-width: 4px;
        border-radius: var(--ls-radius-s);
        background: var(--ls-danger-soft);
        color: var(--ls-danger-text);
      }
      .body {
        flex: 1;
        min-width: 0;
      }
      .title {
        font-weight: 600;
        margin-right: 6px;
      }
      code {
        font-family: var(--ls-mono);
        font-size: 0.78rem;
        padding: 1px 6px;
        border-radius: 4px;
        background: rgba(201, 42, 42, 0.1);
        white-space: nowrap;
      }
      .message {
        margin-top: 4px;
        overflow-wrap: anywhere;
        white-space: pre-wrap;
      }
      button {
        padding: 2px 10px;
        border-color: transparent;
        background: transparent;
        color: inherit;
        font-size: 1.1rem;
        line-height: 1.4;
      }
      button:hover:not(:disabled) {
        background: rgba(201, 42, 42, 0.1);
      }
    `,
  ];

  @property() message = '';
  @property() code = '';
  /** what was being done, e.g. "Loading stories260K failed" */
  @property() heading = 'Error';

  private dismiss(): void {
    this.dispatchEvent(new CustomEvent('ls-dismiss', { bubbles: true, composed: true }));
  }

  render() {
    return html`
      <div class="banner" role="alert" data-testid="error-banner" data-code=${this.code}>
        <div class="body">
          <span class="title">${this.heading}</span>${this.code ? html`<code data-testid="error-code">${this.code}</code>` : ''}
          <div class="message" data-testid="error-message">${this.message}</div>
        </div>
        <button type="button" data-testid="error-dismiss" aria-label="Dismiss error" title="Dismiss" @click=${this.dismiss}>✕</button>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-error-banner': LsErrorBanner;
  }
}
