import type { Calibration, FitPlan, Recommendation } from '../advisor/advise.ts';
import { formatBytes, formatRate } from './format.ts';

/**
 * What the "Will it fit?" panel shows, computed from the advisor's plan (advise.ts FitPlan): the
 * component only draws these rows. Pure and unit-tested (test/advisor.spec.ts).
 */

export type FitVerdict = 'resident' | 'streams' | 'too-small';

export interface FitRow {
  label: string;
  value: string;
  /** a second line: how it was computed, or what it means */
  hint?: string;
  /** 'bad' marks a row that stops the load as asked (storage full, budget too small) */
  tone?: 'ok' | 'warn' | 'bad';
}

export interface FitSummary {
  verdict: FitVerdict;
  /** one line under the title: "Runs resident", "Streams 64 % of its weights every token", … */
  headline: string;
  /** resident share of the weights, 0..1 (the bar) */
  residentShare: number;
  rows: FitRow[];
  recommendation: Recommendation;
  /** the recommendation differs from the load as asked (another file, K/V format, context or RAM tier) */
  recommendationDiffers: boolean;
}

/** "2026-12-02" of an ISO date. */
function day(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Rows of the fit panel for `plan`. `asked`: the K/V format and context the picker asks for, so the
 * recommendation is compared with them.
 */
export function fitSummary(plan: FitPlan, calibration: Calibration | null): FitSummary {
  const a = plan.asked;
  const verdict: FitVerdict = a.error ? 'too-small' : a.streamedBytesPerToken > 0 ? 'streams' : 'resident';
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const headline =
    verdict === 'too-small'
      ? `Does not load with a ${formatBytes(plan.gpuBudgetBytes)} GPU budget`
      : verdict === 'resident'
        ? 'Runs resident: every weight stays on the GPU'
        : `Streams ${pct(1 - a.residentShare)} of its weights every token (${formatBytes(a.streamedBytesPerToken)} per token)`;
  const rows: FitRow[] = [];
  const d = plan.device;
  rows.push({
    label: 'This device',
    value: `${d.deviceMemoryGiB ? `${d.deviceMemoryGiB} GiB RAM reported` : 'RAM not reported (4 GiB assumed)'}${d.cpuFallback ? ' · CPU fallback adapter' : ''}`,
    hint: 'navigator.deviceMemory (rounded, capped by the browser) and the WebGPU adapter',
  });
  rows.push({ label: 'GPU budget', value: formatBytes(plan.gpuBudgetBytes), hint: 'K/V cache, scratch and weights; the rest of the weights stream through a fixed pool' });
  if (!a.error) {
    rows.push({
      label: 'Weights on the GPU',
      // (resident bytes include binding-alignment padding: a whole model shows as its weights)
      value: `${formatBytes(Math.min(a.residentBytes, plan.model.weightBytes))} of ${formatBytes(plan.model.weightBytes)}`,
      hint: `${a.layersResident} of ${a.layersResident + a.layersStreamed} layers resident${a.layersStreamed ? `, ${a.layersStreamed} streamed` : ''}`,
    });
  } else {
    rows.push({ label: 'Weights on the GPU', value: 'none', hint: a.error, tone: 'bad' });
  }
  rows.push({
    label: `K/V cache (${a.contextLength} tokens)`,
    value: `f32 ${formatBytes(plan.kvCacheBytes.f32)}${plan.kvCacheBytes.q8_0 !== null ? ` · q8_0 ${formatBytes(plan.kvCacheBytes.q8_0)}` : ''}`,
    hint: plan.kvCacheBytes.q8_0 === null ? 'q8_0 needs a K/V row width that is a multiple of 32' : `asked: ${a.kvCacheType}`,
  });
  if (plan.stateBytes > 0) rows.push({ label: 'Recurrent state', value: formatBytes(plan.stateBytes), hint: 'with its snapshots; it does not grow with the context' });
  rows.push({ label: 'Scratch', value: formatBytes(plan.scratchBytes), hint: 'activations, attention scores, logits' });
  if (verdict === 'streams') {
    const held = a.ramTierBytes >= a.ramTierWantedBytes;
    rows.push({
      label: 'RAM tier',
      value: `${formatBytes(a.ramTierWantedBytes)} to hold the streamed part`,
      hint: held ? `fits the ${formatBytes(plan.ramAvailableBytes)} of RAM the tab may use: tokens upload from memory` : `only ${formatBytes(plan.ramAvailableBytes)} of RAM to spare: the rest is read from storage every token`,
      tone: held ? 'ok' : 'warn',
    });
  }
  const st = plan.storage;
  rows.push({
    label: 'Storage',
    value: st.availableBytes === null ? `${formatBytes(st.fileBytes)} file` : `${formatBytes(st.neededBytes)} needed · ${formatBytes(st.availableBytes)} free`,
    hint: st.fits === null ? 'the browser does not tell its storage quota' : st.fits ? (st.neededBytes < st.fileBytes ? 'partly downloaded already' : 'the download fits the quota') : 'the quota cannot hold the file: it streams from the server without a local copy',
    tone: st.fits === false ? 'warn' : undefined,
  });
  const p = a.prediction;
  rows.push(
    p
      ? {
          label: 'Predicted decode',
          value: formatRate(p.tokensPerSecond),
          hint: `${p.msPerToken.toFixed(1)} ms/token: matvec ${p.matvecMs.toFixed(1)} · ${p.dispatches} dispatches ${p.dispatchMs.toFixed(1)} · ${p.roundTrips} round trip${p.roundTrips === 1 ? '' : 's'} ${p.roundTripMs.toFixed(1)}${p.streamMs ? ` · streaming ${p.streamMs.toFixed(1)}` : ''} ms; calibrated ${day(p.calibratedAt)}${calibration ? ` on ${calibration.adapter}` : ''}`,
        }
      : { label: 'Predicted decode', value: '–', hint: a.error ? 'nothing to predict: it does not load with this budget' : 'calibrate this device to predict the speed' },
  );
  const r = plan.recommendation;
  const recommendationDiffers = r.kind !== 'raise-budget' && (r.model !== null || r.kvCacheType !== a.kvCacheType || r.contextLength !== a.contextLength || r.ramBudgetBytes > 0);
  return { verdict, headline, residentShare: a.error ? 0 : a.residentShare, rows, recommendation: r, recommendationDiffers };
}

/**
 * The prediction checked against the engine (EngineStats.decodeTokensPerSecond after a generate):
 * "measured 7.54 tok/s · predicted 6.37 tok/s (0.85×)", or null before a decode.
 */
export function predictionCheck(predicted: number | null | undefined, measured: number): string | null {
  if (!(measured > 0)) return null;
  if (!predicted || !(predicted > 0)) return `measured ${formatRate(measured)}`;
  return `measured ${formatRate(measured)} · predicted ${formatRate(predicted)} (${(predicted / measured).toFixed(2)}×)`;
}

/**
 * A first guess from the file size alone, before the header is read (catalog rows): resident when
 * the file plus 10 % and 64 MiB of K/V and scratch fit the budget. Shown as approximate.
 */
export function quickFit(fileBytes: number, gpuBudgetBytes: number): 'fits' | 'streams' {
  return fileBytes * 1.1 + (64 << 20) <= gpuBudgetBytes ? 'fits' : 'streams';
}
