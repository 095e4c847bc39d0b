import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { CachedModel, EngineStats, StorageEstimate } from '../api.ts';
import { CACHE_SCHEME } from '../index.ts';
import { baseStyles } from './styles.ts';
import { predictionCheck } from './fit-summary.ts';
import { formatBytes, formatBytesOf, formatCount, formatKvPerToken, formatPercent, formatRate, formatSpeculation } from './format.ts';

/** Where the loaded model's bytes live below the GPU: the browser's storage (OPFS) and the server. */
export interface StorageTier {
  /** the `model` string the engine was loaded from: a URL or `opfs:<id>` */
  source: string;
  /** its entry in the OPFS model cache; null when it is not cached */
  model: CachedModel | null;
  estimate: StorageEstimate | null;
}

/**
 * GPU memory and streaming, drawn from `engine.stats()`: the weight budget split into resident
 * weights / pool slots / free, KV cache and scratch, one cell per layer (resident or streamed),
 * the storage tier the weights are read from (OPFS bytes stored of the model, the origin's quota),
 * upload traffic and throughput.
 */
@customElement('ls-memory-panel')
export class LsMemoryPanel extends LitElement {
  static styles = [
    baseStyles,
    css`
      section {
        display: grid;
        gap: var(--ls-gap-m);
      }
      .head {
        display: grid;
        gap: 2px;
      }
      .head h2 {
        margin: 0;
      }
      .summary {
        font-size: 0.82rem;
      }
      .bar {
        display: flex;
        height: 14px;
        border-radius: 999px;
        overflow: hidden;
        background: var(--ls-free);
      }
      .bar > div {
        height: 100%;
        transition: width 0.25s ease-out;
      }
      .resident {
        background: var(--ls-resident);
      }
      .pool {
        background: var(--ls-pool);
      }
      .kv {
        background: var(--ls-kv);
      }
      .state {
        background: var(--ls-kv);
        opacity: 0.55;
      }
      .scratch {
        background: var(--ls-scratch);
      }
      .free {
        background: var(--ls-free);
      }
      .legend {
        display: grid;
        gap: 4px;
        margin-top: var(--ls-gap-s);
        font-size: 0.82rem;
      }
      .legend div,
      dl div {
        display: flex;
        justify-content: space-between;
        gap: var(--ls-gap-s);
      }
      .swatch {
        display: inline-block;
        width: 10px;
        height: 10px;
        border-radius: 3px;
        margin-right: 6px;
        vertical-align: -1px;
      }
      .free.swatch {
        border: 1px solid var(--ls-border-strong);
      }
      .num {
        font-variant-numeric: tabular-nums;
        font-weight: 500;
        text-align: right;
      }
      dl {
        margin: 0;
        display: grid;
        gap: 4px;
        font-size: 0.82rem;
      }
      dt {
        color: var(--ls-muted);
      }
      dd {
        margin: 0;
      }
      .group {
        padding-top: var(--ls-gap-m);
        border-top: 1px solid var(--ls-border);
      }
      .group h3 {
        margin: 0 0 6px;
        font-size: 0.82rem;
        font-weight: 600;
      }
      .layers {
        display: flex;
        flex-wrap: wrap;
        gap: 3px;
      }
      .cell {
        flex: 1 1 0;
        min-width: 10px;
        height: 22px;
        border-radius: 4px;
        display: flex;
        align-items: center;
        justify-content: center;
        font-size: 0.68rem;
        font-weight: 600;
        color: rgba(255, 255, 255, 0.92);
        font-variant-numeric: tabular-nums;
        overflow: hidden;
      }
      .cell[data-residency='resident'] {
        background: var(--ls-resident);
      }
      .cell[data-residency='streamed'] {
        background: var(--ls-pool);
      }
      .layers.dense .cell {
        font-size: 0;
        height: 16px;
      }
      .placeholder {
        font-size: 0.85rem;
      }
      .bar.thin {
        height: 8px;
      }
      .stored {
        background: var(--ls-ok);
      }
      .remote {
        background: var(--ls-free);
      }
      .tier-where {
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property({ attribute: false }) stats: EngineStats | null = null;
  /** the storage tier of the loaded model; null hides the section */
  @property({ attribute: false }) storage: StorageTier | null = null;
  /** the advisor's predicted decode speed for this load, tok/s (null: none) — shown beside the measured one */
  @property({ attribute: false }) predictedTokensPerSecond: number | null = null;

  private budget(s: EngineStats) {
    const poolBytes = s.poolSlots * s.poolSlotBytes;
    const residentBytes = Math.max(0, s.weightBytesOnGpu - poolBytes);
    const stateBytes = recurrentBytes(s);
    const draftBytes = s.draftModel?.gpuBytes ?? 0; // speculative decoding's draft model, inside the budget
    const used = s.kvCacheBytes + stateBytes + s.scratchBytes + s.weightBytesOnGpu + draftBytes;
    const whole = Math.max(s.gpuBudgetBytes, used, 1);
    const freeBytes = Math.max(0, s.gpuBudgetBytes - used);
    // Non-zero parts stay visible as a sliver even when tiny next to a large budget.
    const pct = (b: number) => `${(b > 0 ? Math.max(0.8, (b / whole) * 100) : 0).toFixed(2)}%`;
    return html`
      <div>
        <div
          class="bar"
          role="img"
          aria-label=${`GPU budget ${formatBytes(s.gpuBudgetBytes)}: K/V cache ${formatBytes(s.kvCacheBytes)}${stateBytes ? `, recurrent state ${formatBytes(stateBytes)}` : ''}, scratch ${formatBytes(s.scratchBytes)}, resident weights ${formatBytes(residentBytes)}, pool ${formatBytes(poolBytes)}, free ${formatBytes(freeBytes)}`}
        >
          <div class="kv" style="width: ${pct(s.kvCacheBytes)}" title="K/V cache ${formatBytes(s.kvCacheBytes)}"></div>
          ${stateBytes ? html`<div class="state" style="width: ${pct(stateBytes)}" title="recurrent state ${formatBytes(stateBytes)}"></div>` : ''}
          <div class="scratch" style="width: ${pct(s.scratchBytes)}" title="scratch ${formatBytes(s.scratchBytes)}"></div>
          <div class="resident" style="width: ${pct(residentBytes)}" title="resident weights ${formatBytes(residentBytes)}"></div>
          <div class="pool" style="width: ${pct(poolBytes)}" title="pool slots ${formatBytes(poolBytes)}"></div>
          ${draftBytes ? html`<div class="resident" style="width: ${pct(draftBytes)}; opacity: 0.55" title="draft model ${formatBytes(draftBytes)}"></div>` : ''}
          <div class="free" style="flex: 1" title="free ${formatBytes(freeBytes)}"></div>
        </div>
        <div class="legend">
          <div>
            <span><span class="swatch kv"></span>K/V cache <span class="muted">(${formatCount(s.contextLength)} tokens, ${s.kvCacheType})</span></span>
            <span class="num" data-testid="mem-kv">${formatBytes(s.kvCacheBytes)}</span>
          </div>
          ${stateBytes
            ? html`<div title="conv and delta-rule state of the recurrent (Gated DeltaNet) layers: a fixed size, whatever the context length">
                  <span><span class="swatch state"></span>Recurrent state <span class="muted">(does not grow)</span></span>
                  <span class="num" data-testid="mem-state">${formatBytes(s.recurrentStateBytes)}</span>
                </div>
                ${s.stateSnapshotBytes
                  ? html`<div title="copies of the recurrent state kept so a follow-up, regenerated or edited prompt resumes without recomputing the conversation">
                      <span><span class="swatch state"></span>State snapshots</span>
                      <span class="num" data-testid="mem-snapshots">${formatBytes(s.stateSnapshotBytes)}</span>
                    </div>`
                  : ''}`
            : ''}
          <div><span><span class="swatch scratch"></span>Scratch</span><span class="num" data-testid="mem-scratch">${formatBytes(s.scratchBytes)}</span></div>
          <div><span><span class="swatch resident"></span>Resident weights</span><span class="num" data-testid="mem-resident">${formatBytes(residentBytes)}</span></div>
          <div>
            <span><span class="swatch pool"></span>Pool slots${s.poolSlots ? html` <span class="muted">(${s.poolSlots} × ${formatBytes(s.poolSlotBytes)})</span>` : ''}</span>
            <span class="num" data-testid="mem-pool">${formatBytes(poolBytes)}</span>
          </div>
          ${draftBytes
            ? html`<div><span><span class="swatch resident" style="opacity: 0.55"></span>Draft model <span class="muted">(resident)</span></span><span class="num" data-testid="mem-draft">${formatBytes(draftBytes)}</span></div>`
            : ''}
          <div><span><span class="swatch free"></span>Free</span><span class="num" data-testid="mem-free">${formatBytes(freeBytes)}</span></div>
        </div>
      </div>
    `;
  }

  private layers(s: EngineStats) {
    const n = s.layerResidency.length;
    return html`
      <div class="group">
        <h3>Layers <span class="muted">· ${s.layersResident} resident, ${s.layersStreamed} streamed</span></h3>
        <div class="layers ${n > 24 ? 'dense' : ''}" data-testid="layer-strip" role="list" aria-label="Layer residency">
          ${s.layerResidency.map(
            (r, i) => html`<div class="cell" role="listitem" data-testid="layer-cell" data-residency=${r} title=${`layer ${i}: ${r}`} aria-label=${`layer ${i}: ${r}`}>${i}</div>`,
          )}
        </div>
        <div class="legend">
          <div><span><span class="swatch resident"></span>resident &nbsp; <span class="swatch pool"></span>streamed through the pool</span></div>
        </div>
      </div>
    `;
  }

  private storageTier(t: StorageTier) {
    const m = t.model;
    const e = t.estimate;
    const fromUrl = !t.source.startsWith(CACHE_SCHEME);
    const stored = m?.downloadedBytes ?? 0;
    const size = m?.sizeBytes ?? 0;
    const remote = Math.max(0, size - stored);
    const where = !m
      ? fromUrl
        ? 'server, not cached'
        : 'OPFS (entry missing)'
      : m.complete
        ? 'OPFS, no network'
        : 'server → OPFS as read';
    const pct = (b: number) => `${(size > 0 && b > 0 ? Math.max(0.8, (b / size) * 100) : 0).toFixed(2)}%`;
    return html`
      <div class="group" data-testid="mem-storage">
        <h3>Storage tier <span class="muted tier-where">· <span data-testid="mem-storage-source">${where}</span></span></h3>
        ${m
          ? html`<div
                class="bar thin"
                role="img"
                aria-label=${`Model in browser storage: ${formatBytesOf(stored, size)}${remote ? `, ${formatBytes(remote)} still on the server` : ''}`}
              >
                <div class="stored" style="width: ${pct(stored)}" title="stored in OPFS ${formatBytes(stored)}"></div>
                <div class="remote" style="flex: 1" title=${remote ? `still on the server ${formatBytes(remote)}` : ''}></div>
              </div>
              <div class="legend">
                <div>
                  <span><span class="swatch stored"></span>Model in OPFS</span>
                  <span class="num" data-testid="mem-storage-stored">${formatBytesOf(stored, size)}</span>
                </div>
                ${remote
                  ? html`<div><span><span class="swatch free"></span>Read from the server</span><span class="num">${formatBytes(remote)}</span></div>`
                  : ''}
              </div>`
          : html`<div class="placeholder muted">${fromUrl ? 'Weights are read from the server with Range requests (browser storage unavailable or too full).' : ''}</div>`}
        ${e
          ? html`<dl>
              <div><dt>Site storage</dt><dd class="num" data-testid="mem-storage-quota">${formatBytesOf(e.usageBytes, e.quotaBytes)} · ${formatPercent(e.quotaBytes > 0 ? e.usageBytes / e.quotaBytes : 0)}</dd></div>
              <div><dt>All models</dt><dd class="num">${formatBytes(e.modelBytes)}</dd></div>
              <div><dt>Persisted</dt><dd class="num">${e.persisted ? 'yes' : 'no'}</dd></div>
            </dl>`
          : ''}
      </div>
    `;
  }

  render() {
    const s = this.stats;
    if (!s) {
      return html`<section data-testid="memory-panel">
        <div class="head"><h2>GPU memory</h2></div>
        <div class="placeholder muted">Load a model to see how its weights fit the budget.</div>
      </section>`;
    }
    const totalGpu = s.weightBytesOnGpu + s.kvCacheBytes + recurrentBytes(s) + s.scratchBytes + (s.draftModel?.gpuBytes ?? 0);
    const speculation = s.speculativeDraft ? formatSpeculation(s) : null;
    const gpuMs = s.layerGpuMs.reduce((a, b) => a + b, 0) + s.headGpuMs;
    return html`
      <section data-testid="memory-panel">
        <div class="head">
          <h2>GPU memory</h2>
          <span class="summary muted">
            <span class="num">${formatBytes(totalGpu)}</span> of <span class="num" data-testid="mem-budget">${formatBytes(s.gpuBudgetBytes)}</span> budget ·
            ${formatPercent(s.gpuBudgetBytes > 0 ? totalGpu / s.gpuBudgetBytes : 0)}
          </span>
        </div>
        ${this.budget(s)}
        <dl>
          <div title="what the budget leaves for weights after the K/V cache and scratch"><dt>Weights / room</dt><dd class="num">${formatBytes(s.weightBytesOnGpu)} / ${formatBytes(s.weightBudgetBytes)}</dd></div>
          <div><dt>Context</dt><dd class="num">${formatCount(s.contextTokens)} / ${formatCount(s.contextLength)} tokens</dd></div>
          <div title="K/V cache bytes one token takes, all layers; with multi-head latent attention (MLA) one latent row per layer, against keys and values stored per head">
            <dt>K/V per token</dt><dd class="num" data-testid="mem-kv-per-token">${formatKvPerToken(s.kvCacheBytesPerToken, s.kvCacheBytesPerTokenUncompressed)}</dd>
          </div>
        </dl>
        ${this.layers(s)}
        ${this.storage ? this.storageTier(this.storage) : ''}
        <div class="group">
          <h3>Streaming &amp; speed</h3>
          <dl>
            <div><dt>Uploaded last token</dt><dd class="num" data-testid="mem-upload-last">${formatBytes(s.bytesUploadedLastToken)}</dd></div>
            <div><dt>Uploaded total</dt><dd class="num" data-testid="mem-upload-total">${formatBytes(s.bytesUploadedTotal)}</dd></div>
            ${s.layersStreamed > 0
              ? html`<div><dt>Read from storage last token</dt><dd class="num" data-testid="mem-read-last">${formatBytes(s.bytesReadLastToken)}</dd></div>
                  <div><dt>Streaming rate</dt><dd class="num">${formatBytes(s.streamBytesPerSecond)}/s</dd></div>
                  <div title="time the last token's pass was blocked on reads; waiting for the GPU to free a slot is not counted"><dt>Waiting for bytes</dt><dd class="num">${s.streamWaitMsLastToken.toFixed(1)} ms</dd></div>
                  <div title="host memory the loader reads weights into before they go to the GPU (fixed at load)"><dt>Upload staging</dt><dd class="num" data-testid="mem-staging">${formatBytes(s.stagingBytes)} · ${s.uploadMethod}</dd></div>`
              : ''}
            ${s.ramBudgetBytes > 0 ? html`<div><dt>RAM tier</dt><dd class="num">${formatBytes(s.ramBytesUsed)} / ${formatBytes(s.ramBudgetBytes)}</dd></div>` : ''}
            ${s.expertCacheSlots > 0
              ? html`<div><dt>Expert cache</dt><dd class="num" data-testid="mem-expert-cache">${s.expertCacheSlots} slots · ${formatCount(s.expertCacheHits)} hits / ${formatCount(s.expertCacheHits + s.expertCacheMisses)}</dd></div>`
              : ''}
            ${gpuMs > 0
              ? html`<div title=${s.layerGpuMs.map((ms, i) => `layer ${i}: ${ms.toFixed(2)} ms`).join('\n')}>
                  <dt>GPU time last token</dt><dd class="num" data-testid="mem-gpu-ms">${gpuMs.toFixed(1)} ms · ${(gpuMs - s.headGpuMs).toFixed(1)} in ${s.layerGpuMs.length} layers</dd>
                </div>`
              : ''}
            <div><dt>Prefill</dt><dd class="num" data-testid="mem-prefill">${formatRate(s.prefillTokensPerSecond)}</dd></div>
            <div><dt>Decode</dt><dd class="num" data-testid="mem-decode">${formatRate(s.decodeTokensPerSecond)}</dd></div>
            ${this.predictedTokensPerSecond
              ? html`<div title="the memory-fit advisor's prediction for this load, from this device's calibration, against the speed measured in the last generate"><dt>Predicted</dt><dd class="num" data-testid="mem-predicted">${predictionCheck(this.predictedTokensPerSecond, s.decodeTokensPerSecond) ?? formatRate(this.predictedTokensPerSecond)}</dd></div>`
              : ''}
            ${speculation
              ? html`<div title="speculative decoding: draft tokens verified in one forward pass; tokens per pass = generated tokens per forward pass of the model"><dt>Speculative</dt><dd class="num" data-testid="mem-speculative">${speculation}</dd></div>`
              : ''}
            ${s.draftModel
              ? html`<div title="the draft model's GPU memory (weights, K/V cache, scratch), inside the budget"><dt>Draft model</dt><dd class="num" data-testid="mem-draft-model">${s.draftModel.name} · ${formatBytes(s.draftModel.gpuBytes)}</dd></div>`
              : ''}
          </dl>
        </div>
      </section>
    `;
  }
}

/** GPU bytes of the recurrent state and its snapshots (0 for models without recurrent layers, or stats from before they existed). */
function recurrentBytes(s: EngineStats): number {
  return (s.recurrentStateBytes ?? 0) + (s.stateSnapshotBytes ?? 0);
}

declare global {
  interface HTMLElementTagNameMap {
    'ls-memory-panel': LsMemoryPanel;
  }
}
