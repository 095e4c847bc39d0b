// Memory of the browser's processes, read from /proc by the Node side (Linux only).
//
// What is measured, per sample: the Chromium browser process this Node process launched and all of
// its descendants (zygotes, renderers with the page and the engine's Web Worker, the GPU process
// that holds SwiftShader's "GPU" buffers in ordinary memory, the network/storage utility processes).
//   - RSS (Rss in /proc/<pid>/smaps_rollup, or VmRSS in /proc/<pid>/status): resident pages of each
//     process. Summed over processes it double-counts pages they share (shared memory used for
//     transfers between renderer and GPU process, the Chromium binary's own pages), so it overstates.
//   - PSS (Pss in /proc/<pid>/smaps_rollup): each shared page divided among the processes sharing
//     it. Summed over the tree it is the memory the browser really holds; this is the headline figure.
// Samples every `intervalMs` (200 ms): a peak shorter than that can be missed.
import { readFileSync, readdirSync } from 'node:fs';

const KiB = 1024;

/** [pid, ppid, comm] of every process in /proc (processes that exit while we read are skipped). */
export function listProcesses() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      out.push([Number(name), ppid, comm]);
    } catch {
      // gone
    }
  }
  return out;
}

/** Children of `parentPid` (default: this Node process) that are Chromium browsers (comm "chromium" / "chrome"). */
export function browserPids(parentPid = process.pid, procs = listProcesses()) {
  return procs.filter(([, ppid, comm]) => ppid === parentPid && /^(chromium|chrome|headless_shell)/i.test(comm)).map(([pid]) => pid);
}

/** `roots` and all their descendants. */
export function processTree(roots, procs = listProcesses()) {
  const children = new Map();
  for (const [pid, ppid] of procs) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const seen = new Set();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

/** Chromium's process role from its command line (--type=renderer, gpu-process, utility, zygote), 'browser' without one. */
function processRole(pid) {
  try {
    // Chromium rewrites its argv in place (one space-separated string), so split on both.
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    const type = args.find((a) => a.startsWith('--type='))?.slice(7);
    if (!type) return 'browser';
    if (type === 'utility') {
      const sub = args.find((a) => a.startsWith('--utility-sub-type='))?.slice(19) ?? '';
      return `utility:${sub.split('.')[0]}`; // e.g. network.mojom.NetworkService → utility:network
    }
    return type;
  } catch {
    return '?';
  }
}

/**
 * Memory of one process, bytes: { rss, pss } (pss null when smaps_rollup is unreadable), or null
 * when the process is gone or a zombie.
 */
export function processMemory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const rss = /^Rss:\s+(\d+) kB/m.exec(text);
    const pss = /^Pss:\s+(\d+) kB/m.exec(text);
    if (rss) return { rss: Number(rss[1]) * KiB, pss: pss ? Number(pss[1]) * KiB : null };
  } catch {
    // no smaps_rollup (old kernel, other user): fall back to status
  }
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? { rss: Number(m[1]) * KiB, pss: null } : null; // zombies have no VmRSS
  } catch {
    return null;
  }
}

/**
 * One sample of a process tree: summed RSS and PSS, bytes, and each process's share.
 * pssBytes is null if any live process's PSS was unreadable (a partial sum would understate).
 */
export function sampleTree(roots) {
  const procs = [];
  let rssBytes = 0;
  let pssBytes = 0;
  for (const pid of processTree(roots)) {
    const m = processMemory(pid);
    if (!m) continue;
    rssBytes += m.rss;
    if (pssBytes !== null) pssBytes = m.pss === null ? null : pssBytes + m.pss;
    procs.push({ pid, role: processRole(pid), rssBytes: m.rss, pssBytes: m.pss });
  }
  return { rssBytes, pssBytes, processes: procs };
}

/**
 * Samples the memory of a browser's process tree until stop(). Keeps the peaks (of the sums, not
 * sums of per-process peaks) and the per-process breakdown at the PSS peak.
 *
 * Reading smaps_rollup walks every mapping of a process and Chromium maps a lot: one sample of a
 * browser costs 10–50 ms of CPU on a small machine. So that the sampler does not slow what it
 * measures, the next sample waits max(intervalMs, 10 × the CPU time the last sample took): at
 * most ~10 % of one core. `meanIntervalMs` in the summary says what the interval really was.
 */
export class MemorySampler {
  /**
   * @param {{ intervalMs?: number, roots?: () => number[] }} [o] intervalMs: wanted interval, ms (200);
   *   roots: pids whose trees are summed (default: the Chromium browsers this Node process launched)
   */
  constructor({ intervalMs = 200, roots = () => browserPids() } = {}) {
    this.intervalMs = intervalMs;
    this.roots = roots;
    this.samples = 0;
    this.peakRssBytes = 0;
    this.peakPssBytes = 0;
    this.pssAvailable = true;
    this.peakBreakdown = [];
    this.first = null;
    this.timer = null;
    this.t0 = 0;
    this.costMs = 0;
  }

  /** Takes one sample now; returns it. */
  sample() {
    const c = process.cpuUsage(); // CPU time, not wall time: on a busy machine the wall time overstates the cost
    const s = sampleTree(this.roots());
    const d = process.cpuUsage(c);
    this.costMs = (d.user + d.system) / 1000;
    if (!s.processes.length) return s;
    this.samples++;
    this.first ??= s;
    this.peakRssBytes = Math.max(this.peakRssBytes, s.rssBytes);
    if (s.pssBytes === null) this.pssAvailable = false;
    else if (s.pssBytes > this.peakPssBytes) {
      this.peakPssBytes = s.pssBytes;
      this.peakBreakdown = s.processes;
    }
    return s;
  }

  start() {
    this.t0 = performance.now();
    const tick = () => {
      this.sample();
      this.timer = setTimeout(tick, Math.max(this.intervalMs, 10 * this.costMs));
      this.timer.unref?.();
    };
    tick();
    return this;
  }

  /**
   * Stops sampling (after one last sample) and returns the summary, bytes:
   * { samples, meanIntervalMs, peakRssBytes, peakPssBytes (null when PSS was unreadable),
   *   startPssBytes / startRssBytes (first sample), peakByRole / startByRole: { role: PSS bytes at
   *   the PSS peak / in the first sample } }.
   */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.sample();
    const rolesOf = (procs) => {
      const byRole = {};
      for (const p of procs) byRole[p.role] = (byRole[p.role] ?? 0) + (p.pssBytes ?? 0);
      return byRole;
    };
    return {
      samples: this.samples,
      meanIntervalMs: this.samples > 1 ? Math.round((performance.now() - this.t0) / (this.samples - 1)) : null,
      peakRssBytes: this.peakRssBytes,
      peakPssBytes: this.pssAvailable ? this.peakPssBytes : null,
      startPssBytes: this.first?.pssBytes ?? null,
      startRssBytes: this.first?.rssBytes ?? null,
      peakByRole: rolesOf(this.peakBreakdown),
      startByRole: rolesOf(this.first?.processes ?? []),
    };
  }
}
