import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';
import { formatCount, formatRate } from './format.ts';

export type GenerationStatus = 'idle' | 'generating' | 'done' | 'stopped' | 'error';

const STATUS_TEXT: Record<GenerationStatus, string> = {
  idle: 'idle',
  generating: 'generating…',
  done: 'done',
  stopped: 'stopped',
  error: 'failed',
};

/** The token stream: prompt, then generated text as it arrives (newlines kept), with count and rate. */
@customElement('ls-output')
export class LsOutput extends LitElement {
  static styles = [
    baseStyles,
    css`
      .meta {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px 16px;
        font-size: 0.82rem;
        margin-bottom: var(--ls-gap-s);
      }
      .meta b {
        font-weight: 600;
        font-variant-numeric: tabular-nums;
      }
      .status {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        margin-left: auto;
        padding: 1px 10px;
        border-radius: 999px;
        font-weight: 600;
        font-size: 0.75rem;
        background: var(--ls-bg);
        color: var(--ls-muted);
        border: 1px solid var(--ls-border);
      }
      .status[data-status='generating'] {
        background: var(--ls-accent-soft);
        color: var(--ls-accent-strong);
        border-color: transparent;
      }
      .status[data-status='generating']::before {
        content: '';
        width: 7px;
        height: 7px;
        border-radius: 50%;
        background: currentColor;
        animation: pulse 1s ease-in-out infinite;
      }
      .status[data-status='done'] {
        background: var(--ls-ok-soft);
        color: var(--ls-ok);
        border-color: transparent;
      }
      .status[data-status='stopped'] {
        background: var(--ls-warn-soft);
        color: var(--ls-warn);
        border-color: transparent;
      }
      .status[data-status='error'] {
        background: var(--ls-danger-soft);
        color: var(--ls-danger);
        border-color: transparent;
      }
      @keyframes pulse {
        50% {
          opacity: 0.3;
        }
      }
      pre {
        margin: 0;
        min-height: 9rem;
        max-height: 28rem;
        overflow: auto;
        padding: 12px 14px;
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        background: var(--ls-code-bg);
        font-family: var(--ls-mono);
        font-size: 0.9rem;
        line-height: 1.55;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .prompt {
        color: var(--ls-muted);
      }
      .generated {
        color: var(--ls-text);
      }
      .placeholder {
        color: var(--ls-muted);
        font-family: var(--ls-font);
        font-style: italic;
      }
      .caret {
        display: inline-block;
        width: 0.55em;
        height: 1.05em;
        margin-left: 1px;
        vertical-align: text-bottom;
        background: var(--ls-accent);
        animation: pulse 1s steps(2, start) infinite;
      }
    `,
  ];

  @property() prompt = '';
  @property() text = '';
  @property() status: GenerationStatus = 'idle';
  @property({ type: Number }) tokenCount = 0;
  /** decode rate measured in the page, tokens/s (0 = not yet known) */
  @property({ type: Number }) tokensPerSecond = 0;
  /** sampling summary, e.g. "greedy" or "T 0.8 · seed 42" */
  @property() sampling = '';

  @query('pre') private pre?: HTMLPreElement;
  private stick = true;

  protected willUpdate(changed: PropertyValues<this>): void {
    // Follow the stream only if the reader is already at the bottom.
    const pre = this.pre;
    if (changed.has('text') && pre) this.stick = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
  }

  protected updated(changed: PropertyValues<this>): void {
    if (changed.has('text') && this.pre && (this.stick || this.text === '')) this.pre.scrollTop = this.pre.scrollHeight;
  }

  render() {
    const empty = this.status === 'idle' && !this.prompt && !this.text;
    return html`
      <div class="meta">
        <span><span class="muted">tokens</span> <b data-testid="token-count">${formatCount(this.tokenCount)}</b></span>
        <span><span class="muted">decode</span> <b data-testid="tokens-per-second">${formatRate(this.tokensPerSecond)}</b></span>
        ${this.sampling ? html`<span class="muted">${this.sampling}</span>` : ''}
        <span class="status" data-status=${this.status} data-testid="generation-status">${STATUS_TEXT[this.status]}</span>
      </div>
      <pre data-testid="output" data-status=${this.status} aria-live="polite" aria-busy=${this.status === 'generating' ? 'true' : 'false'}>${empty
          ? html`<span class="placeholder">Generated text appears here.</span>`
          : html`<span class="prompt">${this.prompt}</span><span class="generated">${this.text}</span>${this.status === 'generating' ? html`<span class="caret" aria-hidden="true"></span>` : ''}`}</pre>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-output': LsOutput;
  }
}
