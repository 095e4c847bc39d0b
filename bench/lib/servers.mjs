// Starts the two HTTP servers the benchmark page needs — Vite (the test harness page and the engine
// straight from src/) and the static Range server for ../shared — on ports of their own, so a
// benchmark never talks to (or kills) the servers of a concurrent `npm test` (5173/5174).
import { spawn } from 'node:child_process';
import net from 'node:net';

// BENCH_PORT moves both (Vite on it, the model server on the next port), for two benches at once.
export const VITE_PORT = Number(process.env.BENCH_PORT ?? 5183);
export const MODEL_PORT = VITE_PORT + 1;
export const VITE_URL = `http://127.0.0.1:${VITE_PORT}`;
export const MODEL_URL = `http://127.0.0.1:${MODEL_PORT}`;

const started = [];

/**
 * Spawns both servers and resolves once both answer HTTP. Rejects (after stopping whatever it
 * started) when a port is taken, a server exits early, or one does not answer within `timeoutMs`.
 */
export async function startServers({ root, verbose = false, timeoutMs = 60_000 }) {
  for (const port of [VITE_PORT, MODEL_PORT]) {
    // A server already listening there would answer our readiness probe and be benchmarked instead.
    if (await portInUse(port)) throw new Error(`port ${port} is already in use (a previous bench still running?)`);
  }
  try {
    const vite = launch('vite', 'npx', ['vite', '--config', 'bench/vite.config.mjs', '--port', String(VITE_PORT), '--strictPort'], { cwd: root, verbose });
    const models = launch('model-server', process.execPath, ['test/support/model-server.mjs'], {
      cwd: root,
      verbose,
      env: { MODEL_SERVER_PORT: String(MODEL_PORT) },
    });
    await Promise.all([
      waitForHttp(vite, `${VITE_URL}/test/harness.html`, timeoutMs),
      waitForHttp(models, `${MODEL_URL}/health`, timeoutMs),
    ]);
  } catch (e) {
    await stopServers();
    throw e;
  }
}

/** Stops every server this module started (their whole process group: npx → node vite). */
export async function stopServers() {
  const procs = started.splice(0);
  await Promise.all(procs.map((p) => stopOne(p)));
}

/** Last-resort, synchronous kill for process 'exit' handlers (no awaiting possible there). */
export function killServersNow() {
  for (const p of started.splice(0)) signalGroup(p.child, 'SIGKILL');
}

function launch(name, cmd, args, { cwd, verbose, env = {} }) {
  // detached: own process group, so one kill reaches npx's child too.
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const p = { name, child, log: [], exited: null };
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (!line.trim()) continue;
      p.log.push(line);
      if (p.log.length > 40) p.log.shift();
      if (verbose) process.stderr.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => (p.exited = { code, signal }));
  child.on('error', (err) => (p.exited = { code: null, signal: null, error: err }));
  started.push(p);
  return p;
}

async function waitForHttp(p, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.exited) throw new Error(`${p.name} exited before it was ready (${describeExit(p.exited)}):\n${p.log.join('\n')}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${p.name} did not answer ${url} within ${timeoutMs / 1000}s:\n${p.log.join('\n')}`);
}

async function stopOne(p) {
  if (p.exited) return;
  const gone = new Promise((r) => p.child.once('exit', r));
  signalGroup(p.child, 'SIGTERM');
  const timedOut = await Promise.race([gone.then(() => false), sleep(3000).then(() => true)]);
  if (timedOut) signalGroup(p.child, 'SIGKILL');
}

function signalGroup(child, sig) {
  try {
    process.kill(-child.pid, sig);
  } catch {
    // already gone
  }
}

function portInUse(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function describeExit(x) {
  return x.error ? String(x.error.message) : x.signal ? `signal ${x.signal}` : `code ${x.code}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
