/** Human-readable formatting for bytes, rates and counts, shared by the UI components. */

import { formatBytes } from '../format-bytes.ts';

export { formatBytes };

/** "loaded / total" in bytes, sharing one unit choice per value. */
export function formatBytesOf(loaded: number, total: number): string {
  return total > 0 ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
}

/**
 * The K/V cache per token (EngineStats.kvCacheBytesPerToken) and, when a latent cache (MLA) makes
 * it smaller, what keys and values would take stored per head (kvCacheBytesPerTokenUncompressed):
 * "4.50 KiB (10.0 KiB without MLA)"; otherwise just the bytes.
 */
export function formatKvPerToken(perToken: number, uncompressed: number): string {
  return uncompressed > perToken ? `${formatBytes(perToken)} (${formatBytes(uncompressed)} without MLA)` : formatBytes(perToken);
}

/**
 * Speculative decoding in the last generate (EngineStats.speculativeDraft, draftTokensProposed /
 * Accepted, forwardPassesLastGenerate; `generated`: tokens it produced after the first):
 * "ngram · 14/20 accepted (70 %) · 2.40 tokens/pass", or null when no draft ran.
 */
export function formatSpeculation(s: { speculativeDraft: string; draftTokensProposed: number; draftTokensAccepted: number; forwardPassesLastGenerate: number }): string | null {
  if (!s.speculativeDraft || s.speculativeDraft === 'off' || s.forwardPassesLastGenerate <= 0) return null;
  const what = s.speculativeDraft === 'model' ? 'draft model' : s.speculativeDraft;
  const accepted = s.draftTokensProposed > 0 ? ` (${Math.round((100 * s.draftTokensAccepted) / s.draftTokensProposed)} %)` : '';
  // each pass yields its accepted drafts plus the model's own token
  const perPass = (s.forwardPassesLastGenerate + s.draftTokensAccepted) / s.forwardPassesLastGenerate;
  return `${what} · ${s.draftTokensAccepted}/${s.draftTokensProposed} accepted${accepted} · ${perPass.toFixed(2)} tokens/pass`;
}

/** Tokens per second with sensible precision; 0 or non-finite → "–". */
export function formatRate(tokensPerSecond: number | null | undefined): string {
  if (tokensPerSecond == null || !Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) return '–';
  const digits = tokensPerSecond >= 100 ? 0 : tokensPerSecond >= 10 ? 1 : 2;
  return `${tokensPerSecond.toFixed(digits)} tok/s`;
}

/** 12345 → "12,345". */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

/** Fraction 0..1 → "42%" (clamped). */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '–';
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** { F32: 11, Q8_0: 3 } → "F32 ×11, Q8_0 ×3", most frequent first. */
export function formatTensorTypes(types: Record<string, number>): string {
  const entries = Object.entries(types).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length ? entries.map(([t, n]) => `${t} ×${n}`).join(', ') : '–';
}

/** Transfer rate: 3.2 MiB/s; 0 or non-finite → "–". */
export function formatBytesPerSecond(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond == null || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '–';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds left: "<1 s", "42 s", "3 min 5 s", "1 h 12 min"; unknown (Infinity, NaN) → "–". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 1) return '<1 s';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** A past moment relative to `now` (ms since epoch): "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then a date. */
export function formatRelativeTime(ms: number | null | undefined, now = Date.now()): string {
  if (ms == null || !Number.isFinite(ms) || ms <= 0) return '–';
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d === 1) return 'yesterday';
  if (d < 30) return `${d} days ago`;
  return new Date(ms).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' });
}

/** Where a model came from, for display: "host/path/name.gguf" (no scheme, query or fragment). */
export function formatSource(url: string | null | undefined): string {
  if (!url) return 'local file';
  try {
    const u = new URL(url);
    return `${u.host}${decodeURIComponent(u.pathname)}`;
  } catch {
    return url;
  }
}
