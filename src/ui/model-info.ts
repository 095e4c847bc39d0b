import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ModelInfo } from '../api.ts';
import { baseStyles } from './styles.ts';
import { formatBytes, formatCount, formatTensorTypes } from './format.ts';

/** One line describing the loaded model: name, architecture, layers, vocab, context, size, types. */
@customElement('ls-model-info')
export class LsModelInfo extends LitElement {
  static styles = [
    baseStyles,
    css`
      .line {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 4px 14px;
        font-size: 0.85rem;
      }
      .name {
        font-weight: 600;
        font-size: 0.95rem;
        overflow-wrap: anywhere;
      }
      .item {
        white-space: nowrap;
      }
      .item b {
        font-weight: 600;
      }
      .types {
        white-space: normal;
        overflow-wrap: anywhere;
      }
      .badge {
        display: inline-block;
        padding: 1px 8px;
        border-radius: 999px;
        background: var(--ls-ok-soft);
        color: var(--ls-ok);
        font-size: 0.75rem;
        font-weight: 600;
      }
    `,
  ];

  @property({ attribute: false }) info: ModelInfo | null = null;

  render() {
    const i = this.info;
    if (!i) return html`<div class="line muted" data-testid="model-info">No model loaded.</div>`;
    return html`
      <div class="line" data-testid="model-info">
        <span class="badge">loaded</span>
        <span class="name">${i.name}</span>
        <span class="item"><span class="muted">arch</span> <b>${i.architecture}</b></span>
        <span class="item"><span class="muted">layers</span> <b>${formatCount(i.nLayers)}</b></span>
        <span class="item"><span class="muted">vocab</span> <b>${formatCount(i.nVocab)}</b></span>
        <span class="item"><span class="muted">context</span> <b>${formatCount(i.contextLength)}</b></span>
        <span class="item"><span class="muted">file</span> <b>${formatBytes(i.fileBytes)}</b></span>
        <span class="item types"><span class="muted">tensors</span> <b class="mono">${formatTensorTypes(i.tensorTypes)}</b></span>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-model-info': LsModelInfo;
  }
}
