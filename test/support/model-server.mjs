// A static file server for the browser tests: serves ../shared (and a few fault modes) with HTTP
// Range support and CORS, on 127.0.0.1 only. Paths:
//   /shared/<path>            files under ../shared, Range supported, ETag from size+mtime
//   /norange/shared/<path>    same bytes, but ignores Range and always answers 200 with the whole file
//   /generated/<path>         files tests write under <project>/.test-models (split parts, ...)
//   /flaky/shared/<path>      same as /shared, under fault injection set through /control:
//                               POST /control?dropAfter=N  cut connections once N more body bytes were sent
//                               POST /control?etagSalt=S   change every ETag (a "new version" of the file)
//                               POST /control?delayMs=N    answer every request N ms late (a slow server)
//                               POST /control/reset        no faults, counters to zero
//                               GET  /control              {"served": body bytes sent on /flaky since reset, "requests": requests}
//   /flaky-<name>/shared/<path>  the same, with a fault state of its own, set through /control-<name>
//                             (so tests in different files, which run in parallel, do not share faults)
//   /notfound                 404
//   /html                     a 200 text/html page (a "wrong server")
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sharedRoot = path.resolve(here, '../../../shared');
const generatedRoot = path.resolve(here, '../../.test-models');
const port = Number(process.env.MODEL_SERVER_PORT ?? 5174);

function cors(res) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'Range, If-Range, Content-Type');
  res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified');
}

const noFaults = () => ({ dropAfter: Infinity, etagSalt: '', delayMs: 0, served: 0, requests: 0 });
/** fault state per channel: '' for /flaky and /control, name for /flaky-name and /control-name */
const channels = new Map();
const faultsOf = (name) => {
  if (!channels.has(name)) channels.set(name, noFaults());
  return channels.get(name);
};

/** Streams file bytes [start, end] to res, counting them and cutting the connection when the budget runs out. */
function sendBody(res, file, start, end, flaky) {
  const stream = fs.createReadStream(file, start === undefined ? {} : { start, end });
  if (!flaky) return stream.pipe(res);
  const faults = flaky;
  stream.on('data', (buf) => {
    const allowed = Math.max(0, Math.min(buf.length, faults.dropAfter));
    faults.dropAfter -= allowed;
    faults.served += allowed;
    if (allowed < buf.length) {
      if (allowed) res.write(buf.subarray(0, allowed));
      stream.destroy();
      res.destroy(); // the connection drops mid-body
      return;
    }
    if (!res.write(buf)) stream.pause();
  });
  res.on('drain', () => stream.resume());
  stream.on('end', () => res.end());
}

function serveFile(req, res, file, { ranges, flaky = false }) {
  let st;
  try {
    st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
    return;
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}${flaky ? flaky.etagSalt : ''}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', st.mtime.toUTCString());
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Cache-Control', 'no-store');
  const range = req.headers.range;
  if (ranges) res.setHeader('Accept-Ranges', 'bytes');
  const m = ranges && range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
  if (m) {
    const start = Number(m[1]);
    const end = m[2] === '' ? st.size - 1 : Math.min(Number(m[2]), st.size - 1);
    if (start >= st.size || end < start) {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}` });
      res.end();
      return;
    }
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${st.size}`, 'Content-Length': end - start + 1 });
    if (req.method === 'HEAD') return res.end();
    sendBody(res, file, start, end, flaky);
    return;
  }
  res.writeHead(200, { 'Content-Length': st.size });
  if (req.method === 'HEAD') return res.end();
  sendBody(res, file, undefined, undefined, flaky);
}

const server = http.createServer((req, res) => {
  cors(res);
  if (req.method === 'OPTIONS') {
    res.writeHead(204);
    res.end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://x');
  const p = decodeURIComponent(url.pathname);
  if (p === '/health') return res.end('ok');
  const control = /^\/control(?:-([\w]+))?(\/reset)?$/.exec(p);
  if (control && control[2]) {
    Object.assign(faultsOf(control[1] ?? ''), noFaults());
    return res.end('{}');
  }
  if (control) {
    const faults = faultsOf(control[1] ?? '');
    if (req.method === 'POST') {
      if (url.searchParams.has('dropAfter')) faults.dropAfter = Number(url.searchParams.get('dropAfter'));
      if (url.searchParams.has('etagSalt')) faults.etagSalt = url.searchParams.get('etagSalt');
      if (url.searchParams.has('delayMs')) faults.delayMs = Number(url.searchParams.get('delayMs'));
    }
    res.setHeader('Content-Type', 'application/json');
    return res.end(JSON.stringify({ served: faults.served, requests: faults.requests }));
  }
  if (p === '/html') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end('<!doctype html><title>not a model</title><p>hello</p>');
  }
  if (p.startsWith('/generated/')) {
    const file = path.resolve(generatedRoot, '.' + p.slice('/generated'.length));
    if (!file.startsWith(generatedRoot + path.sep)) {
      res.writeHead(403);
      return res.end('forbidden');
    }
    return serveFile(req, res, file, { ranges: true });
  }
  const norange = p.startsWith('/norange/');
  const channel = /^\/flaky(?:-(\w+))?\//.exec(p);
  const flaky = channel ? faultsOf(channel[1] ?? '') : null;
  const rel = norange || flaky ? p.slice(p.indexOf('/', 1)) : p;
  if (!rel.startsWith('/shared/')) {
    res.writeHead(404);
    return res.end('not found');
  }
  const file = path.resolve(sharedRoot, '.' + rel.slice('/shared'.length));
  if (!file.startsWith(sharedRoot + path.sep)) {
    res.writeHead(403);
    return res.end('forbidden');
  }
  if (!flaky) return serveFile(req, res, file, { ranges: !norange, flaky });
  flaky.requests++;
  // (served at once without a delay: the order in which parallel responses start is part of dropAfter's behaviour)
  if (!flaky.delayMs) return serveFile(req, res, file, { ranges: !norange, flaky });
  setTimeout(() => serveFile(req, res, file, { ranges: !norange, flaky }), flaky.delayMs);
});
server.listen(port, '127.0.0.1', () => console.log(`model server on http://127.0.0.1:${port} serving ${sharedRoot}`));
