import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { baseStyles } from './styles.ts';
import type { ChatAction, ChatEntry, ChatSettings } from './chat-session.ts';
import './chat-message.ts';

type Field = 'maxTokens' | 'temperature' | 'topP' | 'topK' | 'minP' | 'repetitionPenalty' | 'seed';
type Values = Record<Field, string> & { system: string };

export const DEFAULT_CHAT_VALUES: Readonly<Values> = {
  system: '',
  maxTokens: '256',
  temperature: '0.7',
  topP: '0.95',
  topK: '40',
  minP: '0.05',
  repetitionPenalty: '1',
  seed: '',
};

const STORAGE_KEY = 'layerstream.chat.settings';

function storedValues(): Values {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Values> | null;
    if (saved && typeof saved === 'object') {
      const v: Values = { ...DEFAULT_CHAT_VALUES };
      for (const k of Object.keys(v) as (keyof Values)[]) if (typeof saved[k] === 'string') v[k] = saved[k];
      return v;
    }
  } catch {
    // no storage (private mode) or a bad entry: defaults
  }
  return { ...DEFAULT_CHAT_VALUES };
}

interface FieldSpec {
  label: string;
  step: string;
  min?: string;
  max?: string;
  placeholder?: string;
  title: string;
  integer?: boolean;
  optional?: boolean;
}

const FIELDS: Record<Field, FieldSpec> = {
  maxTokens: { label: 'Max tokens', step: '1', min: '1', title: 'Stop the reply after this many tokens', integer: true },
  temperature: { label: 'Temperature', step: '0.1', min: '0', max: '2', title: '0 = greedy (always the most likely token)' },
  topP: { label: 'Top-p', step: '0.05', min: '0', max: '1', title: 'Nucleus sampling: the smallest set of tokens whose probabilities reach p' },
  topK: { label: 'Top-k', step: '1', min: '0', title: 'Sample from the k most likely tokens; 0 = off', integer: true },
  minP: { label: 'Min-p', step: '0.01', min: '0', max: '1', title: 'Drop tokens less likely than min-p × the most likely one; 0 = off' },
  repetitionPenalty: { label: 'Repeat penalty', step: '0.05', min: '0.01', title: 'Penalize the last 64 tokens (llama.cpp); 1 = off' },
  seed: { label: 'Seed', step: '1', min: '0', placeholder: 'random', title: 'Same seed → same reply; empty = random', integer: true, optional: true },
};

/**
 * The chat view: the conversation (user and assistant messages, replies streamed as Markdown),
 * a composer (Enter sends, Shift+Enter is a new line; Send / Stop), New chat, and a collapsible
 * Settings section (system prompt, sampling; kept in localStorage). Displays what it is given;
 * what the user asks for is fired as `ls-chat-action` (a ChatAction) for <ls-app> to carry out.
 */
@customElement('ls-chat')
export class LsChat extends LitElement {
  static styles = [
    baseStyles,
    css`
      :host {
        min-width: 0;
      }
      .chat {
        display: grid;
        gap: var(--ls-gap-m);
        min-width: 0;
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 12px;
      }
      .head h2 {
        margin: 0;
      }
      .model {
        max-width: 14rem;
        padding: 1px 9px;
        border-radius: 999px;
        background: var(--ls-accent-soft);
        color: var(--ls-accent-strong);
        font-size: 0.75rem;
        font-weight: 600;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .summary {
        flex: 1 1 12rem;
        min-width: 0;
        font-size: 0.8rem;
        color: var(--ls-muted);
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .head .new {
        margin-left: auto;
        padding: 5px 12px;
        font-size: 0.85rem;
      }
      /* the content of <details> inherits through its UA slot, which is content-box */
      details * {
        box-sizing: border-box;
      }
      details {
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        background: var(--ls-code-bg);
      }
      summary {
        cursor: pointer;
        padding: 7px 12px;
        font-size: 0.85rem;
        font-weight: 500;
        color: var(--ls-muted);
        list-style-position: inside;
        user-select: none;
      }
      summary:focus-visible {
        outline: none;
        box-shadow: 0 0 0 3px var(--ls-accent-ring);
        border-radius: var(--ls-radius-s);
      }
      details[open] summary {
        border-bottom: 1px solid var(--ls-border);
      }
      .settings {
        display: grid;
        gap: var(--ls-gap-m);
        padding: 12px;
      }
      .settings textarea {
        resize: vertical;
        min-height: 3.2rem;
        line-height: 1.45;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(8rem, 1fr));
        gap: var(--ls-gap-s);
      }
      .grid input {
        font-variant-numeric: tabular-nums;
      }
      .settings .row {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: var(--ls-gap-s);
      }
      .settings .row .hint {
        margin: 0;
      }
      .settings .row button {
        padding: 4px 12px;
        font-size: 0.8rem;
      }
      .log {
        height: clamp(300px, calc(100svh - 470px), 820px);
        overflow-y: auto;
        overflow-x: hidden;
        overscroll-behavior: contain;
        padding: 14px;
        border: 1px solid var(--ls-border);
        border-radius: var(--ls-radius-s);
        background: var(--ls-surface);
      }
      .messages {
        display: grid;
        gap: 18px;
        min-width: 0;
      }
      .empty {
        height: 100%;
        display: grid;
        place-content: center;
        gap: 6px;
        text-align: center;
        color: var(--ls-muted);
        font-size: 0.9rem;
        padding: 0 var(--ls-gap-m);
      }
      .empty strong {
        color: var(--ls-text);
        font-size: 1rem;
        font-weight: 600;
      }
      form {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        align-items: end;
        gap: var(--ls-gap-s);
      }
      form textarea {
        resize: none;
        min-height: 2.6rem;
        max-height: 12rem;
        line-height: 1.45;
        overflow-y: auto;
      }
      .buttons {
        display: flex;
        gap: var(--ls-gap-s);
      }
      button.stop:not(:disabled) {
        color: var(--ls-danger);
        border-color: var(--ls-danger-border);
      }
      form .hint {
        grid-column: 1 / -1;
        margin: 0;
      }
      @media (max-width: 520px) {
        .summary {
          display: none;
        }
        .log {
          padding: 10px;
        }
        form {
          grid-template-columns: minmax(0, 1fr);
        }
        .buttons button {
          flex: 1;
        }
      }
    `,
  ];

  @property({ attribute: false }) entries: readonly ChatEntry[] = [];
  /** a reply is streaming */
  @property({ type: Boolean }) running = false;
  /** a model is loaded and nothing else uses it */
  @property({ type: Boolean }) ready = false;
  /** the loaded model's name, for the empty state */
  @property() modelName = '';
  /** what is loading ('' = nothing), for the empty state */
  @property() loadingLabel = '';

  @state() private input = '';
  @state() private values: Values = storedValues();
  @state() private problem: { field: Field; message: string } | null = null;
  @state() private settingsOpen = false;

  @query('.log') private log?: HTMLElement;
  @query('form textarea') private composer?: HTMLTextAreaElement;
  /** follow the stream: the reader is at the bottom of the log */
  private stick = true;
  /** the log's scrollTop at its last scroll event */
  private lastTop = 0;
  private readonly resize = new ResizeObserver(() => {
    if (this.stick && this.log) this.log.scrollTop = this.log.scrollHeight;
  });
  private observed: Element | null = null;

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.observed = null;
  }

  protected updated(changed: PropertyValues<this>): void {
    // the messages' own shadow roots grow after this update: a ResizeObserver follows them
    const list = this.renderRoot.querySelector('.messages');
    if (list !== this.observed) {
      if (this.observed) this.resize.unobserve(this.observed);
      if (list) this.resize.observe(list);
      this.observed = list;
    }
    if (changed.has('entries') && this.stick && this.log) this.log.scrollTop = this.log.scrollHeight;
  }

  private onScroll(): void {
    const log = this.log;
    if (!log) return;
    // Only the reader scrolls up: the log's own scrolls go to the bottom, and their scroll event may
    // arrive after more text has grown it (then it is not at the bottom, but still following).
    if (log.scrollHeight - log.scrollTop - log.clientHeight < 32) this.stick = true;
    else if (log.scrollTop < this.lastTop - 1) this.stick = false;
    this.lastTop = log.scrollTop;
  }

  private action(a: ChatAction): void {
    this.dispatchEvent(new CustomEvent<ChatAction>('ls-chat-action', { detail: a, bubbles: true, composed: true }));
  }

  private set(field: keyof Values, e: Event): void {
    this.values = { ...this.values, [field]: (e.target as HTMLInputElement | HTMLTextAreaElement).value };
    if (this.problem?.field === field) this.problem = null;
    this.save();
  }

  private save(): void {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this.values));
    } catch {
      // not persisted; the values still apply
    }
  }

  private resetSettings(): void {
    this.values = { ...DEFAULT_CHAT_VALUES, system: this.values.system };
    this.problem = null;
    this.save();
  }

  /** The settings as numbers; ranges are checked by the API (its error shows on the reply). */
  private settings(): ChatSettings | null {
    const v = this.values;
    const nums = {} as Record<Field, number | null>;
    for (const f of Object.keys(FIELDS) as Field[]) {
      const spec = FIELDS[f];
      const raw = v[f].trim();
      if (raw === '' && spec.optional) {
        nums[f] = null;
        continue;
      }
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n) || (spec.integer && !Number.isInteger(n))) {
        this.problem = { field: f, message: `${spec.label} must be ${spec.integer ? 'a whole number' : 'a number'}${spec.optional ? ', or empty' : ''}.` };
        this.settingsOpen = true;
        return null;
      }
      nums[f] = n;
    }
    this.problem = null;
    return {
      system: v.system,
      maxTokens: nums.maxTokens!,
      temperature: nums.temperature!,
      topP: nums.topP!,
      topK: nums.topK!,
      minP: nums.minP!,
      repetitionPenalty: nums.repetitionPenalty!,
      seed: nums.seed,
    };
  }

  private send(): void {
    if (!this.ready || this.running) return;
    const text = this.input;
    if (!text.trim()) {
      this.composer?.focus();
      return;
    }
    const settings = this.settings();
    if (!settings) return;
    this.stick = true;
    this.action({ type: 'send', text, settings });
    this.input = '';
    this.composer?.focus();
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    this.send();
  }

  private onKey(e: KeyboardEvent): void {
    // Enter sends; Shift+Enter (and Enter while an IME composes) inserts a new line
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.send();
    }
  }

  private onInput(e: Event): void {
    const ta = e.target as HTMLTextAreaElement;
    this.input = ta.value;
    this.autosize(ta);
  }

  private autosize(ta: HTMLTextAreaElement): void {
    ta.style.height = 'auto';
    ta.style.height = `${ta.scrollHeight + 2}px`;
  }

  protected firstUpdated(): void {
    if (this.composer) this.autosize(this.composer);
  }

  protected willUpdate(changed: PropertyValues<this>): void {
    // the composer was emptied by a send: shrink it back
    if (changed.has('input' as keyof LsChat) && this.input === '' && this.composer) this.composer.style.height = '';
  }

  private onRegenerate(): void {
    const settings = this.settings();
    if (!settings) return;
    this.stick = true;
    this.action({ type: 'regenerate', settings });
  }

  private onEdit(e: CustomEvent<{ id: number; text: string }>): void {
    const settings = this.settings();
    if (!settings) return;
    this.stick = true;
    this.action({ type: 'edit', id: e.detail.id, text: e.detail.text, settings });
  }

  private summary(): string {
    const v = this.values;
    const t = Number(v.temperature);
    const parts = [t === 0 ? 'greedy' : `T ${v.temperature}`];
    if (t !== 0) parts.push(`top-p ${v.topP}`, `top-k ${v.topK}`);
    parts.push(`max ${v.maxTokens} tokens`);
    if (v.system.trim()) parts.push('system prompt set');
    return parts.join(' · ');
  }

  private field(f: Field) {
    const spec = FIELDS[f];
    const id = `chat-${f}`;
    const testid = `chat-${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return html`<div>
      <label for=${id} title=${spec.title}>${spec.label}</label>
      <input
        id=${id}
        type="number"
        inputmode="decimal"
        data-testid=${testid}
        step=${spec.step}
        min=${spec.min ?? ''}
        max=${spec.max ?? ''}
        placeholder=${spec.placeholder ?? ''}
        title=${spec.title}
        .value=${this.values[f]}
        @input=${(e: Event) => this.set(f, e)}
        aria-invalid=${this.problem?.field === f ? 'true' : 'false'}
      />
    </div>`;
  }

  private settingsSection() {
    return html`<details
      data-testid="chat-settings"
      ?open=${this.settingsOpen}
      @toggle=${(e: Event) => (this.settingsOpen = (e.target as HTMLDetailsElement).open)}
    >
      <summary data-testid="chat-settings-toggle">Settings</summary>
      <div class="settings">
        <div>
          <label for="chat-system">System prompt</label>
          <textarea
            id="chat-system"
            data-testid="chat-system"
            rows="2"
            placeholder="Optional: how the assistant should behave, e.g. “You are a concise assistant.”"
            .value=${this.values.system}
            @input=${(e: Event) => this.set('system', e)}
          ></textarea>
        </div>
        <div class="grid">${(Object.keys(FIELDS) as Field[]).map((f) => this.field(f))}</div>
        ${this.problem ? html`<div class="field-error" role="alert" data-testid="chat-settings-error">${this.problem.message}</div>` : ''}
        <div class="row">
          <span class="hint">Applies to the next reply. The whole conversation is sent each turn; the shared prefix comes from the K/V cache.</span>
          <button type="button" data-testid="chat-settings-reset" @click=${this.resetSettings}>Defaults</button>
        </div>
      </div>
    </details>`;
  }

  private emptyState() {
    const [title, line] = this.loadingLabel
      ? [`Loading ${this.loadingLabel}…`, 'You can type your first message meanwhile.']
      : this.ready
        ? [`Chat with ${this.modelName || 'the model'}`, 'Replies stream in as they are generated, in this tab, on WebGPU.']
        : this.modelName
          ? [`Chat with ${this.modelName}`, 'The model is busy in the Complete tab.']
          : ['No model loaded', 'Pick a model below to start a conversation.'];
    return html`<div class="empty" data-testid="chat-empty">
      <strong>${title}</strong>
      <span>${line}</span>
    </div>`;
  }

  render() {
    const entries = this.entries;
    let lastAssistant = -1;
    if (entries.length && entries[entries.length - 1]!.role === 'assistant') lastAssistant = entries[entries.length - 1]!.id;
    return html`
      <section class="chat">
        <div class="head">
          <h2>Chat</h2>
          ${this.modelName ? html`<span class="model" data-testid="chat-model" title="the loaded model">${this.modelName}</span>` : ''}
          <span class="summary" data-testid="chat-summary" title=${this.summary()}>${this.summary()}</span>
          <button type="button" class="new" data-testid="chat-new" title="Clear the conversation" ?disabled=${entries.length === 0} @click=${() => this.action({ type: 'new' })}>
            New chat
          </button>
        </div>
        ${this.settingsSection()}
        <div
          class="log"
          data-testid="chat-log"
          role="log"
          aria-label="Conversation"
          aria-live="polite"
          aria-busy=${this.running ? 'true' : 'false'}
          @scroll=${this.onScroll}
          @ls-message-regenerate=${this.onRegenerate}
          @ls-message-edit=${this.onEdit}
          @ls-message-editing=${() => (this.stick = false)}
        >
          ${entries.length
            ? html`<div class="messages">
                ${repeat(
                  entries,
                  (m) => m.id,
                  (m) => html`<ls-chat-message .message=${m} ?last=${m.id === lastAssistant} ?busy=${this.running} ?ready=${this.ready}></ls-chat-message>`,
                )}
              </div>`
            : this.emptyState()}
        </div>
        <form @submit=${this.onSubmit} novalidate>
          <textarea
            data-testid="chat-input"
            aria-label="Message"
            rows="1"
            placeholder=${this.ready ? 'Message the model…' : 'Load a model to chat'}
            .value=${this.input}
            @input=${this.onInput}
            @keydown=${this.onKey}
          ></textarea>
          <div class="buttons">
            <button type="submit" class="primary" data-testid="chat-send" ?disabled=${!this.ready || this.running}>Send</button>
            <button type="button" class="stop" data-testid="chat-stop" ?disabled=${!this.running} @click=${() => this.action({ type: 'stop' })}>Stop</button>
          </div>
          <span class="hint">Enter to send · Shift+Enter for a new line</span>
        </form>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-chat': LsChat;
  }
}
