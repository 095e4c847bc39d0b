import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { baseStyles } from './styles.ts';
import { formatCount, formatRate } from './format.ts';
import { renderMarkdownBlocks } from './markdown.ts';
import type { ChatEntry, ReplyStatus } from './chat-session.ts';

const STATUS_TEXT: Partial<Record<ReplyStatus, string>> = {
  streaming: 'generating…',
  stopped: 'stopped',
  length: 'max tokens reached',
  error: 'failed',
};

/**
 * One message of the conversation. A user message is plain text, with Edit (in place; resending drops
 * what came after it). An assistant reply is Markdown (sanitized, src/ui/markdown.ts) rendered block
 * by block as it streams, with its stats, Copy, and Regenerate on the last reply.
 * Fires `ls-message-edit` ({ id, text }), `ls-message-regenerate`, `ls-message-editing` (the editor opened).
 */
@customElement('ls-chat-message')
export class LsChatMessage extends LitElement {
  static styles = [
    baseStyles,
    css`
      :host {
        min-width: 0;
        /* scrolled into view (Edit) with the log's padding kept */
        scroll-margin: 12px;
      }
      article {
        display: grid;
        gap: 4px;
        min-width: 0;
      }
      article[data-role='user'] {
        justify-items: end;
      }
      /* reasoning_content: collapsed by default; tool calls as code */
      .reasoning {
        font-size: 0.9em;
        opacity: 0.8;
        min-width: 0;
      }
      .reasoning-text {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        border-left: 3px solid currentColor;
        padding-left: 8px;
      }
      .tool-call code {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .tool-label {
        font-size: 0.85em;
        font-weight: 600;
      }
      .who {
        font-size: 0.72rem;
        font-weight: 600;
        letter-spacing: 0.04em;
        text-transform: uppercase;
        color: var(--ls-muted);
      }
      .bubble {
        max-width: min(100%, 46rem);
        min-width: 0;
        overflow-wrap: anywhere;
        line-height: 1.55;
      }
      article[data-role='user'] .bubble {
        padding: 8px 14px;
        border-radius: 16px 16px 4px 16px;
        background: var(--ls-accent-soft);
        color: var(--ls-text);
        white-space: pre-wrap;
      }
      article[data-role='user'].editing {
        justify-items: stretch;
      }
      article[data-role='assistant'] .bubble {
        width: 100%;
        padding: 2px 0;
      }
      .placeholder {
        color: var(--ls-muted);
        font-style: italic;
      }
      /* Markdown of the reply */
      .md .block:first-child > :first-child {
        margin-top: 0;
      }
      .md .block:last-child > :last-child {
        margin-bottom: 0;
      }
      .md p,
      .md ul,
      .md ol,
      .md pre,
      .md blockquote,
      .md table {
        margin: 0 0 0.65em;
      }
      .md h1,
      .md h2,
      .md h3,
      .md h4,
      .md h5,
      .md h6 {
        margin: 0.9em 0 0.4em;
        font-size: 1.05rem;
        font-weight: 650;
        letter-spacing: normal;
        text-transform: none;
        color: var(--ls-text);
      }
      .md h1 {
        font-size: 1.25rem;
      }
      .md h2 {
        font-size: 1.15rem;
      }
      .md ul,
      .md ol {
        padding-left: 1.4em;
      }
      .md li + li {
        margin-top: 0.2em;
      }
      .md a {
        color: var(--ls-accent-strong);
      }
      .md code {
        font-family: var(--ls-mono);
        font-size: 0.86em;
        padding: 1px 5px;
        border-radius: 4px;
        background: var(--ls-code-bg);
        border: 1px solid var(--ls-border);
      }
      .md pre {
        max-width: 100%;
        overflow-x: auto;
        padding: 10px 12px;
        border-radius: var(--ls-radius-s);
        background: var(--ls-code-bg);
        border: 1px solid var(--ls-border);
        line-height: 1.45;
      }
      .md pre code {
        padding: 0;
        border: 0;
        background: none;
        overflow-wrap: normal;
      }
      .md blockquote {
        padding-left: 12px;
        border-left: 3px solid var(--ls-border-strong);
        color: var(--ls-muted);
      }
      .md table {
        display: block;
        max-width: 100%;
        overflow-x: auto;
        border-collapse: collapse;
      }
      .md th,
      .md td {
        padding: 4px 10px;
        border: 1px solid var(--ls-border);
        text-align: left;
      }
      .md hr {
        border: 0;
        border-top: 1px solid var(--ls-border);
      }
      .foot {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px 10px;
        min-height: 28px;
        font-size: 0.78rem;
        color: var(--ls-muted);
      }
      article[data-role='user'] .foot {
        justify-content: flex-end;
      }
      .stats {
        font-variant-numeric: tabular-nums;
      }
      .stats b {
        font-weight: 600;
        color: var(--ls-text);
      }
      .status {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        padding: 1px 9px;
        border-radius: 999px;
        font-weight: 600;
        font-size: 0.72rem;
        background: var(--ls-bg);
        border: 1px solid var(--ls-border);
      }
      .status[data-status='streaming'] {
        background: var(--ls-accent-soft);
        color: var(--ls-accent-strong);
        border-color: transparent;
      }
      .status[data-status='streaming']::before {
        content: '';
        width: 7px;
        height: 7px;
        border-radius: 50%;
        background: currentColor;
        animation: pulse 1s ease-in-out infinite;
      }
      .status[data-status='stopped'],
      .status[data-status='length'] {
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
      .actions {
        display: inline-flex;
        gap: 2px;
        margin-left: auto;
      }
      article[data-role='user'] .actions {
        margin-left: 0;
      }
      .actions button {
        padding: 3px 9px;
        font-size: 0.78rem;
        border-color: transparent;
        background: transparent;
        color: var(--ls-muted);
      }
      .actions button:hover:not(:disabled) {
        background: var(--ls-bg);
        color: var(--ls-text);
        border-color: var(--ls-border);
      }
      .actions button[data-copied='true'] {
        color: var(--ls-ok);
      }
      .error {
        max-width: 100%;
        padding: 8px 12px;
        border: 1px solid var(--ls-danger-border);
        border-left-width: 4px;
        border-radius: var(--ls-radius-s);
        background: var(--ls-danger-soft);
        color: var(--ls-danger-text);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
        white-space: pre-wrap;
      }
      .error code {
        font-family: var(--ls-mono);
        font-size: 0.76rem;
        padding: 1px 6px;
        margin-right: 6px;
        border-radius: 4px;
        background: rgba(201, 42, 42, 0.1);
      }
      .edit {
        display: grid;
        gap: var(--ls-gap-s);
        width: 100%;
      }
      .edit textarea {
        resize: vertical;
        min-height: 4.5rem;
        line-height: 1.45;
      }
      .edit .buttons {
        display: flex;
        justify-content: flex-end;
        gap: var(--ls-gap-s);
      }
    `,
  ];

  @property({ attribute: false }) message: ChatEntry | null = null;
  /** the last assistant reply (it may be regenerated) */
  @property({ type: Boolean }) last = false;
  /** a reply is streaming somewhere in the conversation: no Regenerate / Edit meanwhile */
  @property({ type: Boolean }) busy = false;
  /** a model is loaded */
  @property({ type: Boolean }) ready = false;

  @state() private copied: 'idle' | 'copied' | 'failed' = 'idle';
  @state() private editing = false;
  @state() private draft = '';
  @query('.edit textarea') private editor?: HTMLTextAreaElement;

  private copyTimer = 0;
  /** the Markdown of the last render: blocks are recomputed only when the content changed */
  private mdSource: string | null = null;
  private mdBlocks: string[] = [];
  private readonly mdCache = new Map<string, string>();

  disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.copyTimer);
  }

  protected updated(changed: PropertyValues<this>): void {
    if (changed.has('editing' as keyof LsChatMessage) && this.editing) {
      // the log stops following the bottom, and shows the editor
      this.fire('ls-message-editing', { id: this.message?.id });
      const ed = this.editor;
      ed?.focus({ preventScroll: true });
      ed?.setSelectionRange(ed.value.length, ed.value.length);
      this.scrollIntoView({ block: 'nearest' });
    }
  }

  private blocks(content: string): string[] {
    if (content !== this.mdSource) {
      this.mdSource = content;
      this.mdBlocks = renderMarkdownBlocks(content, this.mdCache);
    }
    return this.mdBlocks;
  }

  private async copy(): Promise<void> {
    const m = this.message;
    if (!m) return;
    try {
      await navigator.clipboard.writeText(m.content);
      this.copied = 'copied';
    } catch (e) {
      console.warn('Copy failed', e);
      this.copied = 'failed';
    }
    clearTimeout(this.copyTimer);
    this.copyTimer = window.setTimeout(() => (this.copied = 'idle'), 2000);
  }

  private fire<T>(name: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(name, { detail, bubbles: true, composed: true }));
  }

  private startEdit(): void {
    this.draft = this.message?.content ?? '';
    this.editing = true;
  }

  private saveEdit(): void {
    const m = this.message;
    if (!m || !this.draft.trim() || this.busy || !this.ready) return;
    this.editing = false;
    this.fire('ls-message-edit', { id: m.id, text: this.draft });
  }

  private onEditKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.saveEdit();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.editing = false;
    }
  }

  private stats(m: ChatEntry) {
    const s = m.stats;
    if (!s || (m.status === 'error' && s.tokens === 0)) return '';
    const tip = 'generated tokens over the wall time of the reply (prompt processing included)' + (s.promptTokens !== null ? `; prompt ${s.promptTokens} tokens, ${s.cachedTokens ?? 0} of them reused from the K/V cache` : '');
    return html`<span
      class="stats"
      data-testid="message-stats"
      data-tokens=${s.tokens}
      data-cached=${s.cachedTokens ?? ''}
      data-tps=${s.tokensPerSecond.toFixed(2)}
      title=${tip}
      ><b>${formatCount(s.tokens)}</b> tok · <b>${formatRate(s.tokensPerSecond)}</b>${s.cachedTokens !== null
        ? html` · cached <b>${formatCount(s.cachedTokens)}</b>${s.promptTokens !== null ? html`/${formatCount(s.promptTokens)}` : ''}`
        : ''}</span
    >`;
  }

  private userMessage(m: ChatEntry) {
    if (this.editing) {
      return html`<article data-role="user" class="editing" data-testid="chat-message" data-id=${m.id}>
        <span class="who">You</span>
        <div class="edit">
          <textarea
            data-testid="message-edit-input"
            aria-label="Edit message"
            rows="3"
            .value=${this.draft}
            @input=${(e: Event) => (this.draft = (e.target as HTMLTextAreaElement).value)}
            @keydown=${this.onEditKey}
          ></textarea>
          <div class="buttons">
            <button type="button" data-testid="message-edit-cancel" @click=${() => (this.editing = false)}>Cancel</button>
            <button type="button" class="primary" data-testid="message-edit-save" ?disabled=${this.busy || !this.ready || !this.draft.trim()} @click=${this.saveEdit}>
              Send
            </button>
          </div>
        </div>
      </article>`;
    }
    return html`<article data-role="user" data-testid="chat-message" data-id=${m.id}>
      <span class="who">You</span>
      <div class="bubble" data-testid="message-content">${m.content}</div>
      <div class="foot">
        <span class="actions">
          ${this.copyButton()}
          <button type="button" data-testid="message-edit" title="Edit this message and send it again (what follows is dropped)" ?disabled=${this.busy} @click=${this.startEdit}>
            Edit
          </button>
        </span>
      </div>
    </article>`;
  }

  private copyButton() {
    const label = this.copied === 'copied' ? 'Copied' : this.copied === 'failed' ? 'Copy failed' : 'Copy';
    return html`<button type="button" data-testid="message-copy" data-copied=${this.copied === 'copied' ? 'true' : 'false'} title="Copy the text" @click=${this.copy}>
      ${this.copied === 'copied' ? '✓ ' : ''}${label}
    </button>`;
  }

  private assistantMessage(m: ChatEntry) {
    const status = m.status ?? 'done';
    const streaming = status === 'streaming';
    const blocks = this.blocks(m.content);
    const label = STATUS_TEXT[status];
    return html`<article data-role="assistant" data-testid="chat-message" data-id=${m.id} data-status=${status} aria-busy=${streaming ? 'true' : 'false'}>
      <span class="who">Assistant</span>
      ${m.reasoning
        ? html`<details class="reasoning" data-testid="message-reasoning"><summary>Reasoning</summary><div class="reasoning-text">${m.reasoning}</div></details>`
        : ''}
      ${m.toolCalls?.length
        ? html`<div class="tool-calls" data-testid="message-tool-calls">${m.toolCalls.map(
            (c) => html`<div class="tool-call" data-testid="tool-call" data-name=${c.name}><span class="tool-label">Tool call</span> <code>${c.name}(${c.arguments})</code></div>`,
          )}</div>`
        : ''}
      ${m.content || !streaming
        ? html`<div class="bubble md" data-testid="message-content">${blocks.length
            ? repeat(
                blocks,
                (_, i) => i,
                (b) => html`<div class="block">${unsafeHTML(b)}</div>`,
              )
            : m.status === 'error' || m.toolCalls?.length
              ? ''
              : html`<span class="placeholder">(no text)</span>`}</div>`
        : html`<div class="bubble" data-testid="message-content"><span class="placeholder">${m.notice ?? 'Thinking…'}</span></div>`}
      ${m.error
        ? html`<div class="error" role="alert" data-testid="message-error" data-code=${m.error.code}>${m.error.code ? html`<code>${m.error.code}</code>` : ''}${m.error.message}</div>`
        : ''}
      <div class="foot">
        ${label ? html`<span class="status" data-testid="message-status" data-status=${status}>${label}</span>` : ''} ${this.stats(m)}
        <span class="actions">
          ${m.content ? this.copyButton() : ''}
          ${this.last
            ? html`<button
                type="button"
                data-testid="message-regenerate"
                title="Drop this reply and ask again"
                ?disabled=${this.busy || !this.ready}
                @click=${() => this.fire('ls-message-regenerate', { id: m.id })}
              >
                Regenerate
              </button>`
            : ''}
        </span>
      </div>
    </article>`;
  }

  render() {
    const m = this.message;
    if (!m) return '';
    return m.role === 'user' ? this.userMessage(m) : this.assistantMessage(m);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-chat-message': LsChatMessage;
  }
}
