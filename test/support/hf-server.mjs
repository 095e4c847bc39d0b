// An imitation of huggingface.co and its CDN for the browser tests (no network in tests): two
// origins on 127.0.0.1 only, the Hub on HF_HUB_PORT (5175) and the CDN on HF_CDN_PORT (5176), serving
// fake repositories built from the model files under ../shared/models (read in place, never copied)
// and split parts that tests write under <project>/.test-models/hf-split.
//
// What it imitates (recorded Hub behaviour; sources in src/storage/huggingface.ts and http-error.ts):
// Hub
//   GET  /api/models/<owner>/<repo>/tree/<rev>[/<path>][?recursive=true][&limit=N]
//        JSON array of {type: 'file'|'directory', oid, size, path, lfs?: {oid, size, pointerSize}};
//        .gguf files are LFS (lfs.oid = sha256, size = lfs.size = real size). Pages of the repo's page
//        size (or ?limit=N) with `Link: <…&cursor=…>; rel="next"`.
//   GET|HEAD /<owner>/<repo>/resolve/<rev>/<path>
//        LFS: 302 to http://127.0.0.1:5176/xet-bridge-us/<repo _id>/<sha256>?…X-Amz-…&X-Amz-Signature=…
//        with X-Linked-Size, X-Linked-ETag ("sha256"), ETag, X-Repo-Commit, Location;
//        other files: relative 307 to /api/resolve-cache/models/<repo>/<commit>/<path>?etag=…, which serves them.
//   every answer: Access-Control-Allow-Origin = the request's Origin (Vary: Origin),
//        Access-Control-Expose-Headers = exactly the Hub's list (RateLimit and Retry-After NOT in it),
//        RateLimit / RateLimit-Policy, X-Request-Id; OPTIONS preflights answered (204).
//   errors: unknown repo → 401 {"error":"Invalid username or password."} (the anonymous answer, no
//        X-Error-Code); revision ≠ main/commit → 404 RevisionNotFound; missing file → 404 EntryNotFound.
// CDN
//   GET|HEAD /xet-bridge-us/<repo _id>/<sha256>?…  checks the signature and expiry (403 AccessDenied
//        XML otherwise), answers Range with 206 + Content-Range, ETag "sha256", Accept-Ranges;
//        Access-Control-Allow-Origin: *, Access-Control-Expose-Headers: Accept-Ranges, Content-Range,
//        Content-Type, Content-Disposition, ETag, X-Cache (cas-bridge.xethub.hf.co's); OPTIONS preflights.
//   /legacy-norange/<repo _id>/<sha256>?…  the same objects from a CDN that ignores Range (200, whole file;
//                                          paced at 64 KiB per 5 ms so a client's cancel shows in the byte count).
//   /cors-minimal/<repo _id>/<sha256>?…    the same with Range, but no Access-Control-Expose-Headers.
//
// Repositories (owner layerstream-test):
//   tiny-GGUF            stories260K.gguf, stories260K-Q4_K_M.gguf, Q8_0/synth-llama-Q8_0.gguf, README.md,
//                        .gitattributes, Q8_0/notes.txt; page size 2 (so listings take several pages)
//   split-GGUF           the *.gguf files in .test-models/hf-split (a split model tests write) + README.md
//   split-missing-GGUF   the same without part 2
//   gated-GGUF           stories260K.gguf + README.md; listing and README public, .gguf resolve → 401 GatedRepo
//   ratelimited-GGUF     every request → 429, Retry-After: 120, RateLimit: "…";r=0;t=120 (hidden from pages, as on HF)
//   ratelimited-exposed-GGUF  the same with t=95 and RateLimit, Retry-After exposed (a mirror that exposes them)
//   norange-GGUF         synth-gemma2-Q4_K_M.gguf (19.8 MB) served by the CDN that ignores Range
//   deleted-GGUF         404 X-Error-Code: RepoNotFound (the signed-in answer for a missing repo)
//   gated-noexpose-GGUF  gated, from a Hub that sends no Access-Control-Expose-Headers (codes hidden from pages)
//   hidden-range-GGUF    stories260K.gguf from the CDN that exposes no headers (Content-Range, ETag hidden)
//   expiring-GGUF        synth-llama-Q8_0.gguf with signed CDN URLs that expire after 5 s (403 AccessDenied after)
//   anything else        401, the anonymous answer for a missing or private repo
//
// Control (on the Hub port):
//   GET  /health                      "ok" (also on the CDN port)
//   GET  /control[?repo=owner/name]   per repo {tree, resolve, preflights, cdnRequests, cdnPreflights, cdnBytes,
//                                     cdnCancelled} (cdnBytes: body bytes the CDN wrote; cdnCancelled: CDN answers
//                                     the client closed before their end), all repos when no repo is given
//   POST /control/reset[?repo=…]      zero the counters (of one repo, or all)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelsRoot = path.resolve(here, '../../../shared/models');
const splitRoot = path.resolve(here, '../../.test-models/hf-split');
const HUB_PORT = Number(process.env.HF_HUB_PORT ?? 5175);
const CDN_PORT = Number(process.env.HF_CDN_PORT ?? 5176);
const CDN = `http://127.0.0.1:${CDN_PORT}`;
const SECRET = crypto.randomBytes(32);

/** The Hub's Access-Control-Expose-Headers, as huggingface.co sends it. */
const HUB_EXPOSE = 'X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash';
/** cas-bridge.xethub.hf.co's */
const CDN_EXPOSE = 'Accept-Ranges, Content-Range, Content-Type, Content-Disposition, ETag, X-Cache';

const shared = (name) => ({ file: path.join(modelsRoot, name) });
const text = (s) => ({ text: s });
const readme = (title) => text(`---\nlicense: mit\ntags:\n- gguf\n---\n# ${title}\n\nA fake repository of layerstream's Hugging Face imitation (test/support/hf-server.mjs).\n`);
const GITATTRIBUTES = text('*.gguf filter=lfs diff=lfs merge=lfs -text\n');

const fromSplitDir = (skip) => () => {
  let names = [];
  try {
    names = fs.readdirSync(splitRoot).filter((n) => n.endsWith('.gguf') && !(skip && skip.test(n)));
  } catch {
    // not generated yet
  }
  return Object.fromEntries(names.map((n) => [n, { file: path.join(splitRoot, n) }]));
};

/** name → { files: () => {path: {file}|{text}}, pageSize?, gated?, rateLimit?, cdnBucket?, missing? } */
const REPOS = {
  'layerstream-test/tiny-GGUF': {
    pageSize: 2,
    files: () => ({
      '.gitattributes': GITATTRIBUTES,
      'README.md': readme('tiny-GGUF'),
      'stories260K.gguf': shared('stories260K.gguf'),
      'stories260K-Q4_K_M.gguf': shared('stories260K-Q4_K_M.gguf'),
      'Q8_0/synth-llama-Q8_0.gguf': shared('synth-llama-Q8_0.gguf'),
      'Q8_0/notes.txt': text('the Q8_0 folder\n'),
    }),
  },
  'layerstream-test/split-GGUF': { files: () => ({ 'README.md': readme('split-GGUF'), ...fromSplitDir(null)() }) },
  'layerstream-test/split-missing-GGUF': { files: () => ({ 'README.md': readme('split-missing-GGUF'), ...fromSplitDir(/-00002-of-/)() }) },
  'layerstream-test/gated-GGUF': { gated: true, files: () => ({ 'README.md': readme('gated-GGUF'), 'stories260K.gguf': shared('stories260K.gguf') }) },
  'layerstream-test/ratelimited-GGUF': { rateLimit: { seconds: 120, expose: false }, files: () => ({ 'stories260K.gguf': shared('stories260K.gguf') }) },
  'layerstream-test/ratelimited-exposed-GGUF': { rateLimit: { seconds: 95, expose: true }, files: () => ({ 'stories260K.gguf': shared('stories260K.gguf') }) },
  'layerstream-test/norange-GGUF': { cdnBucket: 'legacy-norange', files: () => ({ 'README.md': readme('norange-GGUF'), 'synth-gemma2-Q4_K_M.gguf': shared('synth-gemma2-Q4_K_M.gguf') }) },
  'layerstream-test/deleted-GGUF': { missing: true, files: () => ({}) },
  // a Hub (proxy) that sends no Access-Control-Expose-Headers: error codes and messages hidden from pages
  'layerstream-test/gated-noexpose-GGUF': { gated: true, exposeNothing: true, files: () => ({ 'stories260K.gguf': shared('stories260K.gguf') }) },
  // signed CDN URLs that expire after 5 s (HF's last an hour): a reader must go back through resolve
  'layerstream-test/expiring-GGUF': { expiresSeconds: 5, files: () => ({ 'synth-llama-Q8_0.gguf': shared('synth-llama-Q8_0.gguf') }) },
  // a CDN that answers Range but exposes no headers: Content-Range and ETag hidden from pages
  'layerstream-test/hidden-range-GGUF': { cdnBucket: 'cors-minimal', files: () => ({ 'stories260K.gguf': shared('stories260K.gguf') }) },
};
const hex = (s, n) => crypto.createHash('sha256').update(s).digest('hex').slice(0, n);
for (const [name, r] of Object.entries(REPOS)) {
  r.name = name;
  r.id = hex(`repo:${name}`, 24); // a Mongo ObjectId-like _id, as in xet-bridge URLs
  r.commit = hex(`commit:${name}`, 40);
}
const repoById = new Map(Object.values(REPOS).map((r) => [r.id, r]));

// ---- counters ----
const counters = new Map();
const countersOf = (name) => {
  if (!counters.has(name)) counters.set(name, { tree: 0, resolve: 0, preflights: 0, cdnRequests: 0, cdnPreflights: 0, cdnBytes: 0, cdnCancelled: 0 });
  return counters.get(name);
};

// ---- file facts (sha256 / git oid), cached by path + size + mtime ----
const facts = new Map();
function factsOf(entry) {
  if (entry.text !== undefined) {
    const bytes = Buffer.from(entry.text);
    const oid = crypto.createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    return { size: bytes.length, bytes, oid, lfs: null };
  }
  const st = fs.statSync(entry.file);
  const key = `${entry.file}|${st.size}|${st.mtimeMs}`;
  let f = facts.get(key);
  if (!f) {
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(entry.file)).digest('hex');
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${st.size}\n`;
    const oid = crypto.createHash('sha1').update(`blob ${pointer.length}\0${pointer}`).digest('hex');
    f = { size: st.size, file: entry.file, oid, lfs: { oid: sha256, size: st.size, pointerSize: pointer.length } };
    facts.set(key, f);
  }
  return f;
}
const objects = new Map(); // sha256 → file path, for the CDN

// ---- helpers ----
function send(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}
const requestId = () => `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${crypto.randomBytes(12).toString('hex')}`;

function hubHeaders(req, res, repo, bucket) {
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? 'https://huggingface.co');
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Max-Age', '86400');
  if (!repo?.exposeNothing) res.setHeader('Access-Control-Expose-Headers', repo?.rateLimit?.expose ? `${HUB_EXPOSE},RateLimit,RateLimit-Policy,Retry-After` : HUB_EXPOSE);
  res.setHeader('X-Powered-By', 'huggingface-moon');
  res.setHeader('X-Request-Id', requestId());
  const q = bucket === 'resolvers' ? 3000 : 500;
  const r = repo?.rateLimit ? 0 : q - 1;
  const t = repo?.rateLimit ? repo.rateLimit.seconds : 300 - (Math.floor(Date.now() / 1000) % 300);
  res.setHeader('RateLimit', `"${bucket}";r=${r};t=${t}`);
  res.setHeader('RateLimit-Policy', `"fixed window";"${bucket}";q=${q};w=300`);
}

function preflight(req, res) {
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Range, Authorization, Content-Type');
  send(res, 204, {});
}

function hubError(res, status, code, message, json = false) {
  const headers = { 'Content-Type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8' };
  if (code) headers['X-Error-Code'] = code;
  if (message) headers['X-Error-Message'] = message;
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="Authentication required", charset="UTF-8"';
  send(res, status, headers, json ? JSON.stringify({ error: message }) : message);
}

/** The repo answer for a request to a repo that cannot be served, or null when it can. */
function repoRefusal(res, repo, revision) {
  if (!repo) return hubError(res, 401, null, 'Invalid username or password.', true), true;
  if (repo.missing) return hubError(res, 404, 'RepoNotFound', 'Repository not found', true), true;
  if (repo.rateLimit) {
    res.setHeader('Retry-After', String(repo.rateLimit.seconds));
    return send(res, 429, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Too Many Requests'), true;
  }
  if (revision !== 'main' && revision !== repo.commit) return hubError(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`, true), true;
  return false;
}

/**
 * Sends bytes [start, end] of a `size`-byte object (Range honoured when `ranges`); `onBytes(n)` counts
 * body bytes written, `onCancel()` fires when the client closed the response before its end.
 * `paceMs`: wait that long after each 64 KiB chunk (the no-Range CDN: so what reaches the socket
 * before the client's cancel is a few chunks, not whatever the kernel's loopback buffers hold).
 */
function sendBytes(req, res, size, read, { ranges, onBytes = () => {}, onCancel = () => {}, paceMs = 0 }) {
  const range = req.headers.range;
  const m = ranges && range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
  let start = 0;
  let end = size - 1;
  if (m) {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= size || end < start) return send(res, 416, { 'Content-Range': `bytes */${size}` });
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
  } else {
    res.writeHead(200, { 'Content-Length': size });
  }
  if (req.method === 'HEAD' || size === 0) return res.end();
  const stream = read(start, end);
  let waiting = false;
  stream.on('data', (buf) => {
    onBytes(buf.length);
    const full = !res.write(buf);
    if (paceMs) {
      stream.pause();
      waiting = true;
      setTimeout(() => {
        waiting = false;
        if (!full) stream.resume();
      }, paceMs);
    } else if (full) stream.pause();
  });
  res.on('drain', () => waiting || stream.resume());
  res.on('close', () => {
    if (!res.writableFinished) onCancel();
    stream.destroy();
  });
  stream.on('end', () => res.end());
}

const decodeSegs = (p) => p.split('/').map(decodeURIComponent).join('/');

// ---- Hub ----
const hub = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  let p;
  try {
    p = url.pathname;
    decodeURIComponent(p);
  } catch {
    return send(res, 400, {}, 'bad path');
  }
  if (p === '/health') return send(res, 200, { 'Access-Control-Allow-Origin': '*' }, 'ok');
  if (p === '/control' || p === '/control/reset') {
    res.setHeader('Access-Control-Allow-Origin', '*');
    const only = url.searchParams.get('repo');
    if (p === '/control/reset') {
      if (only) counters.delete(only);
      else counters.clear();
      return send(res, 200, { 'Content-Type': 'application/json' }, '{}');
    }
    const all = Object.fromEntries([...Object.keys(REPOS), ...counters.keys()].map((n) => [n, countersOf(n)]));
    return send(res, 200, { 'Content-Type': 'application/json' }, JSON.stringify(only ? countersOf(only) : all));
  }

  const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(p);
  const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p);
  const cache = /^\/api\/resolve-cache\/models\/([^/]+\/[^/]+)\/([0-9a-f]{40})\/(.+)$/.exec(p);
  const m = tree ?? resolve ?? cache;
  const repoName = m ? decodeURIComponent(m[1]) : null;
  const repo = repoName ? REPOS[repoName] : null;
  hubHeaders(req, res, repo, resolve || cache ? 'resolvers' : 'api');
  if (req.method === 'OPTIONS') {
    if (repoName) countersOf(repoName).preflights++;
    return preflight(req, res);
  }
  if (!m) return send(res, 404, { 'Content-Type': 'text/plain' }, 'Sorry, we can\'t find the page you are looking for.');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, {}, 'method not allowed');
  const revision = decodeURIComponent(m[2]);
  const c = countersOf(repoName);
  if (tree) c.tree++;
  else c.resolve++;
  if (repoRefusal(res, repo, revision)) return;
  const files = repo.files();
  res.setHeader('X-Repo-Commit', repo.commit);

  if (tree) {
    // entries: directories and files (recursive) under the path, sorted by path
    const base = tree[3] ? decodeSegs(tree[3]).replace(/\/+$/, '') : '';
    const recursive = url.searchParams.get('recursive') === 'true';
    const dirs = new Set();
    for (const f of Object.keys(files)) {
      const parts = f.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    if (base && !dirs.has(base)) return hubError(res, 404, 'EntryNotFound', `${base} does not exist on "${revision}"`, true);
    const under = (x) => (base ? x.startsWith(`${base}/`) : true) && (recursive || !x.slice(base ? base.length + 1 : 0).includes('/'));
    const entries = [
      ...[...dirs].filter(under).map((d) => ({ type: 'directory', oid: hex(`tree:${repo.name}:${d}`, 40), size: 0, path: d })),
      ...Object.keys(files).filter(under).map((f) => {
        const x = factsOf(files[f]);
        return x.lfs ? { type: 'file', oid: x.oid, size: x.size, lfs: x.lfs, path: f } : { type: 'file', oid: x.oid, size: x.size, path: f };
      }),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const limit = Number(url.searchParams.get('limit')) || repo.pageSize || 1000;
    let offset = 0;
    const cursor = url.searchParams.get('cursor');
    if (cursor) {
      try {
        offset = JSON.parse(Buffer.from(cursor, 'base64url').toString()).offset;
      } catch {
        return hubError(res, 400, null, 'Invalid cursor', true);
      }
    }
    const page = entries.slice(offset, offset + limit);
    const headers = { 'Content-Type': 'application/json; charset=utf-8' };
    if (offset + limit < entries.length) {
      const next = new URL(req.url, `http://127.0.0.1:${HUB_PORT}`);
      next.searchParams.set('cursor', Buffer.from(JSON.stringify({ offset: offset + limit })).toString('base64url'));
      headers.Link = `<${next.href}>; rel="next"`;
    }
    return send(res, 200, headers, req.method === 'HEAD' ? undefined : JSON.stringify(page));
  }

  const filePath = decodeSegs(m[3]);
  const entry = files[filePath];
  if (!entry) return hubError(res, 404, 'EntryNotFound', 'Entry not found', false);
  const x = factsOf(entry);
  if (cache) {
    const etag = `"${x.oid}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    const read = (s, e) => (x.bytes ? Readable.from([x.bytes.subarray(s, e + 1)]) : fs.createReadStream(x.file, { start: s, end: e }));
    return sendBytes(req, res, x.size, read, { ranges: true });
  }
  if (repo.gated && x.lfs) {
    return hubError(res, 401, 'GatedRepo', `Access to model ${repo.name} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
  }
  if (!x.lfs) {
    const loc = `/api/resolve-cache/models/${repo.name}/${repo.commit}/${m[3]}?etag=${encodeURIComponent(`"${x.oid}"`)}`;
    return send(res, 307, { Location: loc, 'X-Linked-ETag': `"${x.oid}"`, ETag: `"${x.oid}"`, 'Content-Type': 'text/plain; charset=utf-8' }, `Temporary Redirect. Redirecting to ${loc}`);
  }
  objects.set(x.lfs.oid, x.file);
  const loc = signedUrl(repo, x.lfs.oid, path.basename(filePath));
  const etag = `"${x.lfs.oid}"`;
  return send(res, 302, {
    Location: loc, 'X-Linked-Size': String(x.size), 'X-Linked-ETag': etag, ETag: etag, 'Accept-Ranges': 'bytes',
    'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; sandbox",
  }, `Found. Redirecting to ${loc}`);
});

// ---- CDN: signed URLs like S3 / CloudFront presigned ones ----
function amzDate(d) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
function sign(pathname, date, expires) {
  return crypto.createHmac('sha256', SECRET).update(`${pathname}\n${date}\n${expires}`).digest('hex');
}
function signedUrl(repo, sha256, filename) {
  const pathname = `/${repo.cdnBucket ?? 'xet-bridge-us'}/${repo.id}/${sha256}`;
  const date = amzDate(new Date());
  const q = new URLSearchParams({
    'response-content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(filename)}; filename="${filename}";`,
    'X-Xet-Cas-Uid': 'public',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `cas/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
    'X-Amz-Date': date,
    'X-Amz-Expires': String(repo.expiresSeconds ?? 3600),
    'X-Amz-SignedHeaders': 'host',
  });
  q.set('X-Amz-Signature', sign(pathname, date, String(repo.expiresSeconds ?? 3600)));
  return `${CDN}${pathname}?${q}`;
}
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? '');
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}
const s3Error = (res, status, code, message) =>
  send(res, status, { 'Content-Type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);

const cdn = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (!url.pathname.startsWith('/cors-minimal/')) res.setHeader('Access-Control-Expose-Headers', CDN_EXPOSE);
  if (url.pathname === '/health') return send(res, 200, {}, 'ok');
  const m = /^\/(xet-bridge-us|legacy-norange|cors-minimal)\/([0-9a-f]{24})\/([0-9a-f]{64})$/.exec(url.pathname);
  const repo = m ? repoById.get(m[2]) : null;
  if (req.method === 'OPTIONS') {
    if (repo) countersOf(repo.name).cdnPreflights++;
    res.setHeader('Access-Control-Max-Age', '3000');
    return preflight(req, res);
  }
  if (!m || !repo || !objects.has(m[3])) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  const c = countersOf(repo.name);
  c.cdnRequests++;
  const date = url.searchParams.get('X-Amz-Date');
  const expires = url.searchParams.get('X-Amz-Expires');
  const sig = url.searchParams.get('X-Amz-Signature') ?? '';
  const want = sign(url.pathname, date, expires);
  if (sig.length !== want.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(want))) {
    return s3Error(res, 403, 'AccessDenied', 'The request signature we calculated does not match the signature you provided.');
  }
  if (!(parseAmzDate(date) + Number(expires) * 1000 > Date.now())) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
  const file = objects.get(m[3]);
  const size = fs.statSync(file).size;
  res.setHeader('ETag', `"${m[3]}"`);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', url.searchParams.get('response-content-disposition') ?? 'inline');
  res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.setHeader('X-Cache', 'Hit from cloudfront');
  const ranges = m[1] !== 'legacy-norange';
  if (ranges) res.setHeader('Accept-Ranges', 'bytes');
  sendBytes(req, res, size, (s, e) => fs.createReadStream(file, { start: s, end: e, highWaterMark: 64 << 10 }), {
    ranges, onBytes: (n) => (c.cdnBytes += n), onCancel: () => c.cdnCancelled++, paceMs: ranges ? 0 : 5,
  });
});

hub.listen(HUB_PORT, '127.0.0.1', () => console.log(`hf imitation: Hub on http://127.0.0.1:${HUB_PORT}, CDN on ${CDN}`));
cdn.listen(CDN_PORT, '127.0.0.1');
