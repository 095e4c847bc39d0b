// Turns benchmark results into the Markdown table (stdout, results.md) and results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units, 3 significant digits — same style as the app's memory panel (src/ui/format.ts). */
export function formatBytes(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return '–';
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${bytes < 0 ? '-' : ''}${v.toFixed(digits)} ${UNITS[u]}`;
}

export function formatRate(tps) {
  if (tps == null || !Number.isFinite(tps) || tps <= 0) return '–';
  return tps.toFixed(tps >= 100 ? 0 : tps >= 10 ? 1 : 2);
}

/** One line naming everything that makes numbers comparable between runs. */
export function headerLine(meta) {
  const a = meta.adapter ?? {};
  const gpu = a.error ? `unavailable (${a.error})` : [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ');
  return (
    `layerstream bench — ${meta.date} — Chromium ${meta.chromium} — WebGPU ${gpu} — ` +
    `commit ${meta.commit} — ${meta.cpus}, load ${meta.loadAvg?.[0] ?? '?'} — prompt ${JSON.stringify(meta.prompt)}, ${meta.tokens} tokens (after a ${meta.warmupTokens}-token warm-up)`
  );
}

const COLUMNS = ['model', 'arch', 'budget', 'resident/streamed layers', 'prefill tok/s', 'decode tok/s', 'uploaded/token', 'GPU weights'];

function budgetCell(r) {
  return r.budget === 'full' ? 'full' : `${r.budget} (${formatBytes(r.budgetBytes)})`;
}

function row(r) {
  const arch = r.architecture ?? '?';
  if (r.status !== 'ok') {
    const what = r.status === 'unloadable' ? `not loadable: ${r.error.code}` : `FAILED in ${r.error.phase}: ${r.error.code ?? 'error'}`;
    return [r.model, arch, budgetCell(r), what, '–', '–', '–', '–'];
  }
  return [
    r.model,
    arch,
    budgetCell(r),
    `${r.layersResident}/${r.layersStreamed}`,
    formatRate(r.prefillTokensPerSecond),
    formatRate(r.decodeTokensPerSecond),
    formatBytes(r.bytesUploadedLastToken),
    formatBytes(r.weightBytesOnGpu),
  ];
}

export function markdownTable(results) {
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  const align = COLUMNS.map((_, i) => (i >= 4 ? '---:' : '---'));
  return [line(COLUMNS), `|${align.join('|')}|`, ...results.map((r) => line(row(r)))].join('\n');
}

/** Messages of runs that did not produce numbers (the table only has room for the code). */
export function errorNotes(results) {
  const notes = [];
  for (const r of results) {
    if (r.status !== 'ok') notes.push(`- ${r.model} @ ${r.budget}: [${r.status}] ${r.error.code ?? ''} ${r.error.message}`.replace(/\s+/g, ' '));
    else if (r.sameTokensAsFull === false) notes.push(`- ${r.model} @ ${r.budget}: generated tokens differ from the full-budget run`);
    else if (r.decodeTokensPerSecond == null) notes.push(`- ${r.model} @ ${r.budget}: only ${r.generatedTokens} token(s) generated (end of text), no decode rate`);
  }
  return notes.length ? ['', ...notes].join('\n') : '';
}

export function renderMarkdown(meta, results) {
  return `${headerLine(meta)}\n\n${markdownTable(results)}\n${errorNotes(results)}\n`;
}

export function writeOutputs(outDir, meta, results) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  writeFileSync(path.join(outDir, 'results.md'), renderMarkdown(meta, results));
}
