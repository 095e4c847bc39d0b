// bench/chart.svg, hand-written (no dependencies): grouped bar charts of the benchmark records.
//   left:   prefill and decode tokens/s per GPU budget (and with the RAM tier)
//   right:  peak browser memory (PSS) per budget, with the budget itself and "budget + 512 MiB" marked
//   bottom: layerstream vs wllama tokens/s per model (when the peer suite ran), log scale

const MiB = 1024 ** 2;
const COLORS = { decode: '#1f77b4', prefill: '#9ecae1', pss: '#ff7f0e', budget: '#8c564b', limit: '#d62728', wllamaDecode: '#2ca02c', wllamaPrefill: '#a1d99b' };
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round axis maximum ≥ v: 1, 2, 2.5 or 5 × 10^k. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

/**
 * One grouped bar chart at (x, y) of size w × h. groups: [{ label, bars: [{ value, color, text? }],
 * markers?: [{ value, color, dash? }] }]; series: legend entries [{ name, color, dash? }].
 */
function barChart({ x, y, w, h, title, yLabel, groups, series, log = false }) {
  const out = [];
  const left = 56;
  const top = 44;
  const bottom = 48;
  const pw = w - left - 12;
  const ph = h - top - bottom;
  const values = groups.flatMap((g) => [...g.bars.map((b) => b.value ?? 0), ...(g.markers ?? []).map((m) => m.value ?? 0)]);
  // Linear from 0, or (log) decades spanning the positive values, for rates that differ 100-fold.
  const positive = values.filter((v) => v > 0);
  const lmin = Math.floor(Math.log10(Math.min(...positive, 1)));
  const lmax = Math.max(lmin + 1, Math.ceil(Math.log10(Math.max(...positive, 1))));
  const vmax = log ? 10 ** lmax : niceMax(Math.max(0, ...values));
  const vmin = log ? 10 ** lmin : 0;
  const Y = log
    ? (v) => y + top + ph - (ph * (Math.log10(Math.max(v, vmin)) - lmin)) / (lmax - lmin)
    : (v) => y + top + ph - (ph * v) / vmax;
  out.push(`<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  // legend
  let lx = x + left;
  for (const s of series) {
    out.push(s.dash ? `<line x1="${lx}" y1="${y + 32}" x2="${lx + 14}" y2="${y + 32}" stroke="${s.color}" stroke-width="2" stroke-dasharray="4 2"/>` : `<rect x="${lx}" y="${y + 26}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 18}" y="${y + 36}" font-size="11">${esc(s.name)}</text>`);
    lx += 34 + s.name.length * 6.5;
  }
  // axes and grid
  const ticks = log ? Array.from({ length: lmax - lmin + 1 }, (_, i) => 10 ** (lmin + i)) : [0, 1, 2, 3, 4].map((i) => (vmax * i) / 4);
  for (const v of ticks) {
    out.push(`<line x1="${x + left}" y1="${Y(v)}" x2="${x + left + pw}" y2="${Y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${x + left - 6}" y="${Y(v) + 4}" text-anchor="end" font-size="10">${log ? String(Number(v.toPrecision(1))) : fmt(v)}</text>`);
  }
  out.push(`<line x1="${x + left}" y1="${y + top}" x2="${x + left}" y2="${y + top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${x + left}" y1="${y + top + ph}" x2="${x + left + pw}" y2="${y + top + ph}" stroke="#333"/>`);
  out.push(`<text transform="translate(${x + 14} ${y + top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>`);
  // bars
  const gw = pw / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const nb = g.bars.length;
    const bw = Math.min(34, (gw * 0.8) / Math.max(1, nb));
    const gx = x + left + gi * gw + (gw - bw * nb) / 2;
    g.bars.forEach((b, bi) => {
      const bx = gx + bi * bw;
      if (b.value == null || !Number.isFinite(b.value)) {
        out.push(`<text x="${bx + bw / 2}" y="${Y(vmin) - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
        return;
      }
      out.push(`<rect x="${bx + 1}" y="${Y(b.value)}" width="${bw - 2}" height="${Y(vmin) - Y(b.value)}" fill="${b.color}"><title>${esc(`${g.label}: ${b.text ?? fmt(b.value)}`)}</title></rect>`);
      out.push(`<text x="${bx + bw / 2}" y="${Y(b.value) - 3}" text-anchor="middle" font-size="9">${esc(b.text ?? fmt(b.value))}</text>`);
    });
    for (const m of g.markers ?? []) {
      if (m.value == null) continue;
      const mx0 = gx - 4;
      const mx1 = gx + bw * nb + 4;
      out.push(`<line x1="${mx0}" y1="${Y(m.value)}" x2="${mx1}" y2="${Y(m.value)}" stroke="${m.color}" stroke-width="2"${m.dash ? ' stroke-dasharray="4 2"' : ''}><title>${esc(`${g.label}: ${m.title ?? fmt(m.value)}`)}</title></line>`);
    }
    out.push(`<text x="${x + left + gi * gw + gw / 2}" y="${y + top + ph + 16}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`);
    if (g.sub) out.push(`<text x="${x + left + gi * gw + gw / 2}" y="${y + top + ph + 30}" text-anchor="middle" font-size="9" fill="#555">${esc(g.sub)}</text>`);
  });
  return out.join('\n');
}

const mib = (b) => (b == null ? null : b / MiB);

/** The whole chart as an SVG document (a note instead of bars when there is nothing to plot). */
export function renderChart(meta, records) {
  const ok = (r) => r?.status === 'ok';
  const budgetRuns = records.filter((r) => r.suite === 'budgets');
  const ramOn = records.find((r) => r.suite === 'ram' && /RAM tier on/.test(r.label));
  const runs = [...budgetRuns, ...(ramOn ? [{ ...ramOn, label: '25 % + RAM tier' }] : [])];
  const peers = records.filter((r) => r.suite === 'peer');
  const peerModels = [...new Set(peers.map((r) => r.model))];
  const W = 1000;
  const H1 = 330;
  const H2 = peerModels.length ? 300 : 0;
  const parts = [];
  if (runs.length) {
    const model = runs[0].model;
    const groups = runs.map((r) => ({
      label: r.label,
      sub: ok(r) ? `${r.layersResident}/${r.layersStreamed} layers` : r.status,
      bars: [
        { value: ok(r) ? r.decodeTokensPerSecond : null, color: COLORS.decode },
        { value: ok(r) ? r.prefillTokensPerSecond : null, color: COLORS.prefill },
      ],
    }));
    parts.push(
      barChart({
        x: 0, y: 0, w: W / 2, h: H1,
        title: `Tokens/s by GPU budget — ${model}`,
        yLabel: 'tokens / s',
        groups,
        series: [{ name: 'decode', color: COLORS.decode }, { name: 'prefill', color: COLORS.prefill }],
      }),
    );
    const memGroups = runs.map((r) => ({
      label: r.label,
      sub: ok(r) ? `budget ${Math.round(mib(r.gpuBudgetBytes))} MiB` : r.status,
      bars: [{ value: mib(r.memory?.peakPssBytes), color: COLORS.pss, text: r.memory?.peakPssBytes ? `${Math.round(mib(r.memory.peakPssBytes))}` : undefined }],
      markers: ok(r)
        ? [
            { value: mib(r.gpuBudgetBytes), color: COLORS.budget, title: `GPU budget ${Math.round(mib(r.gpuBudgetBytes))} MiB` },
            { value: mib(r.gpuBudgetBytes + 512 * MiB), color: COLORS.limit, dash: true, title: 'budget + 512 MiB' },
          ]
        : [],
    }));
    parts.push(
      barChart({
        x: W / 2, y: 0, w: W / 2, h: H1,
        title: 'Peak browser memory (PSS, all processes)',
        yLabel: 'MiB',
        groups: memGroups,
        series: [{ name: 'peak PSS', color: COLORS.pss }, { name: 'GPU budget', color: COLORS.budget }, { name: 'budget + 512 MiB', color: COLORS.limit, dash: true }],
      }),
    );
  }
  if (peerModels.length) {
    const groups = peerModels.map((m) => {
      const ours = peers.find((r) => r.model === m && r.engine === 'layerstream');
      const w = peers.find((r) => r.model === m && r.engine === 'wllama');
      return {
        label: m,
        sub: ok(w) ? '' : `wllama: ${w?.status ?? 'not run'}`,
        bars: [
          { value: ok(ours) ? ours.decodeTokensPerSecond : null, color: COLORS.decode },
          { value: ok(w) ? w.decodeTokensPerSecond : null, color: COLORS.wllamaDecode },
          { value: ok(ours) ? ours.prefillTokensPerSecond : null, color: COLORS.prefill },
          { value: ok(w) ? w.prefillTokensPerSecond : null, color: COLORS.wllamaPrefill },
        ],
      };
    });
    parts.push(
      barChart({
        x: 0, y: runs.length ? H1 : 0, w: W, h: H2,
        title: 'layerstream (WebGPU) vs wllama (WebAssembly), same browser and files',
        yLabel: 'tokens / s (log scale)',
        log: true,
        groups,
        series: [
          { name: 'layerstream decode', color: COLORS.decode },
          { name: 'wllama decode', color: COLORS.wllamaDecode },
          { name: 'layerstream prefill', color: COLORS.prefill },
          { name: 'wllama prefill', color: COLORS.wllamaPrefill },
        ],
      }),
    );
  }
  const H = Math.max(H1 * (runs.length ? 1 : 0) + H2, 60) + 20;
  const foot = `layerstream bench ${meta.date ?? ''} — ${meta.adapter?.architecture ?? 'WebGPU'} — ${meta.cpus ?? ''}${meta.quick ? ' — quick run' : ''}`;
  if (!parts.length) parts.push(`<text x="20" y="30" font-size="13">No budget or peer runs in this benchmark.</text>`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n` +
    `<text x="${W - 8}" y="${H - 6}" text-anchor="end" font-size="9" fill="#777">${esc(foot)}</text>\n</svg>\n`
  );
}
