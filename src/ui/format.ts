/** Human-readable formatting for bytes, rates and counts, shared by the UI components. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 → "1.5 KiB"; binary units; up to 3 significant digits. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '–';
  const neg = bytes < 0;
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${neg ? '-' : ''}${v.toFixed(digits)} ${UNITS[u]}`;
}

/** "loaded / total" in bytes, sharing one unit choice per value. */
export function formatBytesOf(loaded: number, total: number): string {
  return total > 0 ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
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
