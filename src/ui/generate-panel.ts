import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { baseStyles } from './styles.ts';

/** Detail of the `ls-generate` event: a GenerateRequest without the signal. */
export interface GenerateSettings {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

type Field = 'maxTokens' | 'temperature' | 'topK' | 'topP' | 'seed';

/** Prompt and sampling settings, with Generate and Stop. Fires `ls-generate` and `ls-stop`. */
@customElement('ls-generate-panel')
export class LsGeneratePanel extends LitElement {
  static styles = [
    baseStyles,
    css`
      form {
        display: grid;
        gap: var(--ls-gap-m);
      }
      textarea {
        resize: vertical;
        min-height: 5.5rem;
        line-height: 1.45;
        font-family: var(--ls-mono);
        font-size: 0.9rem;
      }
      .settings {
        display: grid;
        grid-template-columns: repeat(5, minmax(0, 1fr));
        gap: var(--ls-gap-s);
      }
      .settings input {
        font-variant-numeric: tabular-nums;
      }
      .buttons {
        display: flex;
        gap: var(--ls-gap-s);
        align-items: center;
        flex-wrap: wrap;
      }
      .buttons button {
        min-width: 7.5rem;
      }
      .buttons .hint {
        margin: 0 0 0 auto;
      }
      button.stop:not(:disabled) {
        color: var(--ls-danger);
        border-color: var(--ls-danger-border);
      }
      @media (max-width: 720px) {
        .settings {
          grid-template-columns: repeat(3, minmax(0, 1fr));
        }
      }
      @media (max-width: 340px) {
        .settings {
          grid-template-columns: repeat(2, minmax(0, 1fr));
        }
      }
      @media (max-width: 420px) {
        .buttons button {
          flex: 1;
        }
        .buttons .hint {
          display: none;
        }
      }
    `,
  ];

  /** a model is loaded and idle */
  @property({ type: Boolean }) ready = false;
  /** a generation is streaming */
  @property({ type: Boolean }) running = false;
  /** upper bound for max tokens (the model's context), 0 = unknown */
  @property({ type: Number }) maxContext = 0;

  @state() private prompt = 'Once upon a time';
  @state() private values: Record<Field, string> = { maxTokens: '128', temperature: '0.8', topK: '40', topP: '0.95', seed: '' };
  @state() private problem: { field: Field; message: string } | null = null;

  private set(field: Field, e: Event): void {
    this.values = { ...this.values, [field]: (e.target as HTMLInputElement).value };
    if (this.problem?.field === field) this.problem = null;
  }

  private parse(): GenerateSettings | null {
    const v = this.values;
    const num = (f: Field) => Number(v[f].trim());
    const fail = (field: Field, message: string) => {
      this.problem = { field, message };
      return null;
    };
    const maxTokens = num('maxTokens');
    if (!Number.isInteger(maxTokens) || maxTokens < 1) return fail('maxTokens', 'Max tokens must be a whole number ≥ 1.');
    const temperature = num('temperature');
    if (v.temperature.trim() === '' || !Number.isFinite(temperature) || temperature < 0) return fail('temperature', 'Temperature must be ≥ 0 (0 = greedy).');
    const topK = num('topK');
    if (!Number.isInteger(topK) || topK < 0) return fail('topK', 'Top-k must be a whole number ≥ 0 (0 = off).');
    const topP = num('topP');
    if (v.topP.trim() === '' || !Number.isFinite(topP) || topP <= 0 || topP > 1) return fail('topP', 'Top-p must be in (0, 1].');
    let seed: number;
    if (v.seed.trim() === '') {
      seed = Math.floor(Math.random() * 0x7fffffff);
    } else {
      seed = num('seed');
      if (!Number.isInteger(seed) || seed < 0) return fail('seed', 'Seed must be a whole number ≥ 0, or empty for random.');
    }
    return { prompt: this.prompt, maxTokens, temperature, topK, topP, seed };
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    if (!this.ready || this.running) return;
    const settings = this.parse();
    if (!settings) return;
    this.problem = null;
    this.dispatchEvent(new CustomEvent<GenerateSettings>('ls-generate', { detail: settings, bubbles: true, composed: true }));
  }

  private onStop(): void {
    this.dispatchEvent(new CustomEvent('ls-stop', { bubbles: true, composed: true }));
  }

  private onPromptKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) this.onSubmit(e);
  }

  private field(field: Field, label: string, attrs: { step: string; min?: string; max?: string; placeholder?: string; title: string }) {
    const id = `f-${field}`;
    const testid = field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    return html`
      <div>
        <label for=${id} title=${attrs.title}>${label}</label>
        <input
          id=${id}
          type="number"
          inputmode="decimal"
          data-testid=${testid}
          step=${attrs.step}
          min=${attrs.min ?? ''}
          max=${attrs.max ?? ''}
          placeholder=${attrs.placeholder ?? ''}
          title=${attrs.title}
          .value=${this.values[field]}
          @input=${(e: Event) => this.set(field, e)}
          aria-invalid=${this.problem?.field === field ? 'true' : 'false'}
        />
      </div>
    `;
  }

  render() {
    return html`
      <form @submit=${this.onSubmit} novalidate>
        <div>
          <label for="prompt">Prompt</label>
          <textarea
            id="prompt"
            data-testid="prompt"
            rows="4"
            spellcheck="false"
            .value=${this.prompt}
            @input=${(e: Event) => (this.prompt = (e.target as HTMLTextAreaElement).value)}
            @keydown=${this.onPromptKey}
          ></textarea>
        </div>
        <div class="settings">
          ${this.field('maxTokens', 'Max tokens', { step: '1', min: '1', max: this.maxContext ? String(this.maxContext) : '', title: 'Stop after this many generated tokens' })}
          ${this.field('temperature', 'Temperature', { step: '0.1', min: '0', title: '0 = greedy (argmax)' })}
          ${this.field('topK', 'Top-k', { step: '1', min: '0', title: 'Sample from the k most likely tokens; 0 = off' })}
          ${this.field('topP', 'Top-p', { step: '0.05', min: '0', max: '1', title: 'Nucleus sampling threshold' })}
          ${this.field('seed', 'Seed', { step: '1', min: '0', placeholder: 'random', title: 'Same seed → same tokens; empty = random' })}
        </div>
        ${this.problem ? html`<div class="field-error" role="alert">${this.problem.message}</div>` : ''}
        <div class="buttons">
          <button type="submit" class="primary" data-testid="generate" ?disabled=${!this.ready || this.running}>${this.running ? 'Generating…' : 'Generate'}</button>
          <button type="button" class="stop" data-testid="stop" ?disabled=${!this.running} @click=${this.onStop}>Stop</button>
          <span class="hint">Ctrl+Enter to generate</span>
        </div>
      </form>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-generate-panel': LsGeneratePanel;
  }
}
