import { LayerstreamError } from '../errors.ts';
import { splitPartUrls } from '../gguf/split.ts';
import { hubContextOf, responseError, type HttpContext } from './http-error.ts';

/**
 * Hugging Face Hub browsing: a repository reference typed into the model field → its GGUF files
 * (sizes, quant types, split parts as one model) → the resolve URL the engine streams with Range
 * requests. DOM-free (fetch and URL only): runs in a page or a worker.
 *
 * Sources for the formats (the Hub has no complete HTTP reference of its own; the client libraries are it):
 * - tree listing: `GET /api/models/{repo_id}/tree/{revision}[/{path}]?recursive=true`, a JSON array of
 *   `{ type: 'file' | 'directory', oid, size, path, lfs?: { oid, size, pointerSize }, xetHash? }`,
 *   paginated by a `Link: <…>; rel="next"` header — huggingface_hub `HfApi.list_repo_tree`
 *   (hf_api.py, paginated with `utils.paginate`, which follows `Link` rel=next) and huggingface.js
 *   `listFiles` (packages/hub/src/lib/list-files.ts: same URL, `parseLinkHeader(...).next`). For LFS
 *   files `size` and `lfs.size` are both the real size (list-files.spec.ts); `lfs.size` is preferred.
 * - file download: `GET /{repo_id}/resolve/{revision}/{path}` — huggingface_hub `hf_hub_url`,
 *   huggingface.js `fileDownloadInfo`. LFS/Xet files answer 302 to a signed CDN URL on another
 *   origin (`us.aws.cdn.hf.co`, `cas-bridge.xethub.hf.co`) with `X-Linked-Size`, `X-Linked-ETag`
 *   (the sha256), `X-Repo-Commit`; small git files answer a relative 307 to `/api/resolve-cache/…`.
 *   The CDN answers Range with 206 and `Access-Control-Allow-Origin: *`.
 * - errors: `X-Error-Code` / `X-Error-Message` headers, 429 with `RateLimit` (see http-error.ts).
 * - CORS: the Hub reflects the page's Origin in `Access-Control-Allow-Origin` and exposes
 *   `X-Repo-Commit, X-Request-Id, X-Error-Code, X-Error-Message, X-Total-Count, ETag, Link,
 *   Accept-Ranges, Content-Range, X-Linked-Size, X-Linked-ETag, X-Xet-Hash` (observed response
 *   headers); a page never sees the 302 itself (fetch follows it), so X-Linked-* are of no use here.
 */

/** The public Hub. */
export const HF_ENDPOINT = 'https://huggingface.co';

/** A Hugging Face model repository (and optionally one file or quant in it). */
export interface HfReference {
  /** `owner/name` */
  repo: string;
  /** branch, tag or commit; 'main' when the reference names none */
  revision: string;
  /** a file's path in the repository, when the reference names one (`/blob/…`, `/resolve/…`, `?show_file_info=…`) */
  file?: string;
  /** a quant tag, from the `hf.co/owner/repo:Q4_K_M` form (Ollama's and llama.cpp `-hf`'s spelling), uppercased */
  quant?: string;
}

/** First path segments of huggingface.co that are not model owners. */
const RESERVED = new Set([
  'api', 'datasets', 'spaces', 'docs', 'models', 'settings', 'blog', 'papers', 'collections', 'organizations',
  'join', 'login', 'logout', 'pricing', 'tasks', 'learn', 'posts', 'chat', 'new', 'new-dataset', 'new-space',
  'buckets', 'notifications', 'enterprise', 'search', 'changelog', 'inference-endpoints', 'oauth', 'avatars',
]);
const HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co', 'www.hf.co']);
/** huggingface_hub `validate_repo_id`: `[\w\-.]` segments of at most 96 characters, no `--` or `..`, not ending in `.git` */
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;
const validSegment = (s: string) => SEGMENT.test(s) && !s.includes('--') && !s.includes('..') && !s.endsWith('.git');

/**
 * Parses what a user types or pastes to name a Hugging Face model repository:
 * `hf.co/owner/repo`, `huggingface.co/owner/repo`, with or without `https://` / `http://` and `www.`,
 * `…/tree/<rev>[/<folder>]`, `…/blob/<rev>/<path>`, `…/resolve/<rev>/<path>`, `…/raw/<rev>/<path>`,
 * `hf.co/owner/repo:Q4_K_M` (a quant tag), with any query string or fragment (`?download=true`;
 * `?show_file_info=<path>`, the Hub page's file panel, names a file).
 *
 * Returns `{ repo: 'owner/repo', revision, file?, quant? }` (revision and path segments
 * percent-decoded; revision 'main' when none is named), or null for anything else: other hosts, datasets
 * and spaces (`huggingface.co/datasets/…`), site pages (`/docs`, `/settings`, …), a bare `owner/repo`
 * without a host, a single-name path (`huggingface.co/gpt2` is ambiguous with user pages), or
 * names that are not valid repo ids. Never throws.
 */
export function parseHfReference(text: string): HfReference | null {
  const s = text.trim();
  if (!s || /\s/.test(s)) return null;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
  if (hasScheme && !/^https?:\/\//i.test(s)) return null;
  if (!hasScheme && !/^(?:www\.)?(?:hf\.co|huggingface\.co)(?:[/?#:]|$)/i.test(s)) return null;
  let url: URL;
  try {
    url = new URL(hasScheme ? s : `https://${s}`);
  } catch {
    return null;
  }
  if (!HOSTS.has(url.hostname.toLowerCase()) || url.port || url.username || url.password) return null;
  let segs: string[];
  try {
    segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
  if (segs.length < 2 || RESERVED.has(segs[0].toLowerCase())) return null;
  let [owner, name] = segs;
  let quant: string | undefined;
  if (segs.length === 2 && name.includes(':')) {
    const cut = name.indexOf(':');
    quant = name.slice(cut + 1).toUpperCase();
    name = name.slice(0, cut);
    if (!/^[A-Z0-9_.-]+$/.test(quant)) return null;
  }
  if (!validSegment(owner) || !validSegment(name)) return null;
  const ref: HfReference = { repo: `${owner}/${name}`, revision: 'main' };
  if (quant) ref.quant = quant;
  const [verb, rev, ...rest] = segs.slice(2);
  if ((verb === 'tree' || verb === 'blob' || verb === 'resolve' || verb === 'raw') && rev) {
    ref.revision = rev;
    if (verb !== 'tree' && rest.length) ref.file = rest.join('/');
  }
  const shown = url.searchParams.get('show_file_info');
  if (!ref.file && shown) ref.file = shown;
  return ref;
}

/**
 * The download URL of a file: `{endpoint}/{repo}/resolve/{revision}/{path}` (revision and each path
 * segment percent-encoded; huggingface_hub `hf_hub_url`). The Hub answers it with a redirect to
 * its CDN, which serves Range requests.
 */
export function resolveUrl(repo: string, revision: string, path: string, endpoint: string = HF_ENDPOINT): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** One entry of the tree API's answer (huggingface.js `ListFileEntry`, huggingface_hub `RepoFile` / `RepoFolder`). */
export interface HfTreeEntry {
  type: 'file' | 'directory' | string;
  path: string;
  /** bytes (for LFS files the real size, as lfs.size) */
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number; pointerSize: number };
  xetHash?: string;
}

/** A model in a repository: one GGUF file, or all parts of a split GGUF. */
export interface HfGgufModel {
  /**
   * Display name: the file name without folder and `.gguf`, for a split model also without
   * `-NNNNN-of-MMMMM` (e.g. 'Qwen3-4B-Q4_K_M').
   */
  name: string;
  /** llama.cpp quant / file type label parsed from the name (see `ggufQuantLabel`), null when the name carries none */
  quant: string | null;
  /**
   * 'mmproj' for a multimodal projector (`mmproj-*.gguf`), 'imatrix' for an importance matrix
   * (`*imatrix*.gguf`): GGUF files that are not language models. Otherwise 'model'.
   */
  kind: 'model' | 'mmproj' | 'imatrix';
  /** paths in the repository, in part order; for a split model all M parts, including absent ones */
  paths: string[];
  /** bytes of all parts present in the listing */
  bytes: number;
  /** resolve URLs of `paths`; `urls[0]` is what `createEngine({ model })` takes (it finds the other parts itself) */
  urls: string[];
  /** split parts (1-based numbers) named by the pattern but absent from the listing; the model cannot be loaded */
  partsMissing?: number[];
}

/**
 * The llama.cpp quantization / file type label carried by a GGUF file name, or null.
 *
 * Recognised, case-insensitively, as a whole `-`/`_`/`.`-separated token (the last one wins):
 * llama.cpp's `llama-quantize` type names — `F32`, `F16`, `BF16`, `Q4_0`, `Q4_1`, `Q5_0`, `Q5_1`,
 * `Q8_0`, `Q1_0`, `Q2_K`, `Q2_K_S`, `Q3_K_S/M/L`, `Q4_K_S/M`, `Q5_K_S/M`, `Q6_K`, `IQ1_S/M`,
 * `IQ2_XXS/XS/S/M`, `IQ3_XXS/XS/S/M`, `IQ4_NL/XS`, `TQ1_0`, `TQ2_0`, `MXFP4` (`MXFP4_MOE`),
 * removed repacked types like `Q4_0_4_4` — plus the community mix names built the same way
 * (`Q4_K_L`, `Q6_K_L`, `Q3_K_XL`, `Q8_K_XL`, …). Returned uppercased; `FP16`/`FP32` are written `F16`/`F32`.
 *
 * Decision: Unsloth's "Dynamic" prefix is kept — `UD-Q4_K_XL` stays 'UD-Q4_K_XL' — because Unsloth
 * repositories publish both `UD-Q4_K_XL` and other mixes side by side and the prefix names a
 * different recipe; dropping it would label two different files alike.
 */
export function ggufQuantLabel(name: string): string | null {
  const stem = name.replace(/^.*\//, '').replace(/\.gguf$/i, '');
  const re =
    /(?:^|[-_. ])((?:UD-)?(?:I?Q\d_(?:K_)?(?:XXS|XS|XL|NL|S|M|L)|Q\d_K|Q\d_\d(?:_\d_\d)?|TQ\d_\d|MXFP4(?:_MOE)?|NVFP4|BF16|FP16|F16|FP32|F32|F64))(?=$|[-_. ])/gi;
  let last: string | null = null;
  for (let m = re.exec(stem); m; m = re.exec(stem)) last = m[1];
  if (!last) return null;
  return last.toUpperCase().replace(/^(UD-)?FP(16|32)$/, '$1F$2');
}

function kindOf(name: string): HfGgufModel['kind'] {
  if (/(?:^|[-_.])mmproj(?:$|[-_.])/i.test(name)) return 'mmproj';
  if (/imatrix/i.test(name)) return 'imatrix';
  return 'model';
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/**
 * Groups a repository listing into GGUF models (pure; what `listGgufFiles` does with the tree API's answer).
 *
 * Files whose path does not end in `.gguf` (case-insensitive) and directories are ignored. Split
 * GGUF parts (llama.cpp gguf-split naming `<prefix>-NNNNN-of-MMMMM.gguf`, see `splitPartUrls`) with
 * the same folder, prefix and M become one model whose `paths` are all M part paths in order
 * (`partsMissing` lists the numbers absent from `entries`); every other GGUF file is a model of its
 * own. Files in subfolders keep their full path. `bytes` is `lfs.size ?? size` summed over the
 * parts present. Sorted by bytes (smallest first), then name.
 */
export function groupGgufFiles(
  entries: readonly HfTreeEntry[],
  o: { repo: string; revision?: string; endpoint?: string },
): HfGgufModel[] {
  const revision = o.revision ?? 'main';
  const endpoint = o.endpoint ?? HF_ENDPOINT;
  const bytesOf = (e: HfTreeEntry) => Number(e.lfs?.size ?? e.size) || 0;
  const splits = new Map<string, { paths: string[]; present: Map<string, number> }>();
  const out: HfGgufModel[] = [];
  const model = (name: string, paths: string[], bytes: number): HfGgufModel => ({
    name,
    quant: ggufQuantLabel(name),
    kind: kindOf(name),
    paths,
    bytes,
    urls: paths.map((p) => resolveUrl(o.repo, revision, p, endpoint)),
  });
  for (const e of entries) {
    if (e.type !== 'file' || !/\.gguf$/i.test(e.path)) continue;
    const parts = splitPartUrls(e.path);
    if (!parts) {
      out.push(model(basename(e.path).replace(/\.gguf$/i, ''), [e.path], bytesOf(e)));
      continue;
    }
    const key = parts[0];
    let g = splits.get(key);
    if (!g) splits.set(key, (g = { paths: parts, present: new Map() }));
    g.present.set(e.path, bytesOf(e));
  }
  for (const g of splits.values()) {
    const name = basename(g.paths[0]).replace(/-\d{5,}-of-\d{5,}\.gguf$/i, '');
    let bytes = 0;
    for (const b of g.present.values()) bytes += b;
    const m = model(name, g.paths, bytes);
    const missing = g.paths.flatMap((p, i) => (g.present.has(p) ? [] : [i + 1]));
    if (missing.length) m.partsMissing = missing;
    out.push(m);
  }
  return out.sort((a, b) => a.bytes - b.bytes || a.name.localeCompare(b.name) || a.paths[0].localeCompare(b.paths[0]));
}

/**
 * The model a reference points at among `models`: the one holding `ref.file` (any of its parts),
 * else the only model of kind 'model' whose quant equals `ref.quant`, else the only model of kind
 * 'model'; null when that is ambiguous or nothing matches (let the user choose).
 */
export function selectHfModel(models: readonly HfGgufModel[], ref: HfReference): HfGgufModel | null {
  if (ref.file) return models.find((m) => m.paths.includes(ref.file!)) ?? null;
  const lms = models.filter((m) => m.kind === 'model');
  const pick = ref.quant ? lms.filter((m) => m.quant === ref.quant || m.quant === `UD-${ref.quant}`) : lms;
  return pick.length === 1 ? pick[0] : null;
}

export interface HfFetchOptions {
  /** the Hub's origin; default https://huggingface.co (tests point it at an imitation) */
  endpoint?: string;
  signal?: AbortSignal;
  /** fetch to use (default globalThis.fetch), e.g. to add headers */
  fetch?: typeof fetch;
}

const MAX_PAGES = 1000;

/** `Link: <url>; rel="next"` (RFC 8288), resolved against `base`; null when there is none. */
function nextLink(link: string | null, base: string): string | null {
  if (!link) return null;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?/i.test(m[2])) return new URL(m[1], base).href;
  }
  return null;
}

async function hubFetch(url: string, o: HfFetchOptions, ctx: HttpContext, what: string, init: RequestInit = {}): Promise<Response> {
  const f = o.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await f(url, { ...init, signal: o.signal });
  } catch (e) {
    if (o.signal?.aborted) throw new LayerstreamError('aborted', `request for ${url} aborted`);
    throw new LayerstreamError(
      'fetch_failed',
      `could not fetch ${what} from ${new URL(url).host}${ctx.kind === 'file' ? ' or the server it redirects to' : ''}: ${(e as Error).message} ` +
        '(offline, blocked by the network, or a server that does not allow this page to read it: CORS)',
      { cause: e },
    );
  }
  if (!res.ok) throw await responseError(res, url, ctx);
  return res;
}

/**
 * Lists the GGUF models of a Hugging Face repository, with their sizes and quant types.
 *
 * `ref`: an HfReference or text for `parseHfReference`. Fetches `GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=true`
 * (see the module comment for the format and its sources), following `Link: <…>; rel="next"`
 * pages (same origin only, at most 1000 pages), and groups the files with `groupGgufFiles`
 * (non-GGUF files ignored, split parts as one model, sorted by bytes). A gated repository lists
 * fine (the Hub's listing is public); its files then fail in `probeHfFile` with 'gated'.
 *
 * Throws LayerstreamError: 'invalid_request' (text that is not a Hugging Face model reference),
 * 'not_found' (no such repository — or a private one — or revision), 'gated', 'rate_limited'
 * (HTTP 429; the wait in the message when visible), 'fetch_failed' (network or CORS failure, another
 * HTTP status, an answer that is not a JSON array of entries, a next page on another origin),
 * 'aborted' (`signal`).
 */
export async function listGgufFiles(ref: HfReference | string, o: HfFetchOptions = {}): Promise<HfGgufModel[]> {
  const r = typeof ref === 'string' ? parseHfReference(ref) : ref;
  if (!r) throw new LayerstreamError('invalid_request', `not a Hugging Face model reference: "${String(ref)}" (expected e.g. hf.co/owner/repo)`);
  const endpoint = (o.endpoint ?? HF_ENDPOINT).replace(/\/+$/, '');
  const ctx: HttpContext = { repo: r.repo, revision: r.revision, kind: 'listing' };
  const origin = new URL(endpoint).origin;
  let url: string | null = `${endpoint}/api/models/${r.repo}/tree/${encodeURIComponent(r.revision)}?recursive=true`;
  const entries: HfTreeEntry[] = [];
  for (let page = 0; url; page++) {
    if (page >= MAX_PAGES) throw new LayerstreamError('fetch_failed', `the file list of ${r.repo} runs past ${MAX_PAGES} pages`);
    const res = await hubFetch(url, o, ctx, `the file list of ${r.repo}`, { headers: { Accept: 'application/json' } });
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      if (o.signal?.aborted) throw new LayerstreamError('aborted', `request for ${url} aborted`);
      throw new LayerstreamError('fetch_failed', `the file list of ${r.repo} from ${url} is not JSON (${(e as Error).message}): is ${endpoint} a Hugging Face Hub?`);
    }
    if (!Array.isArray(body) || !body.every((e) => e && typeof e === 'object' && typeof e.path === 'string' && typeof e.type === 'string')) {
      throw new LayerstreamError('fetch_failed', `the file list of ${r.repo} from ${url} is not an array of {type, path, size} entries`);
    }
    entries.push(...(body as HfTreeEntry[]));
    const next = nextLink(res.headers.get('Link'), url);
    if (next && new URL(next).origin !== origin) {
      throw new LayerstreamError('fetch_failed', `the file list of ${r.repo} points its next page at another origin (${new URL(next).origin}); not followed`);
    }
    url = next;
  }
  return groupGgufFiles(entries, { repo: r.repo, revision: r.revision, endpoint });
}

/** What `probeHfFile` learned about a file. */
export interface HfFileProbe {
  /** the URL probed (the resolve URL) */
  url: string;
  /** the URL that answered, after redirects (the CDN's signed URL for LFS files; expires, do not store it) */
  finalUrl: string;
  /** file size in bytes, from Content-Range */
  size: number;
  /** the ETag the answering server sent (for Hugging Face's CDN the quoted sha256), null when absent or hidden */
  etag: string | null;
}

const PROBE_BYTES = 8;

/**
 * Checks, with one Range request for the first 8 bytes, that a file can be streamed before any
 * large download starts: the server (and the CDN a resolve URL redirects to) answers Range with
 * 206 and a Content-Range this page may read, and the file starts with the GGUF magic.
 *
 * `url`: a resolve URL (`resolveUrl`, `HfGgufModel.urls`) or any model URL. Resolves to
 * `{ url, finalUrl, size (bytes), etag }`. Nothing but those 8 bytes is read: a server that
 * ignores Range has its response cancelled at the headers.
 *
 * Throws LayerstreamError naming the repository and file: 'gated' (accept the conditions on
 * huggingface.co; a page cannot use the user's Hugging Face login or token), 'not_found'
 * (repository, revision or file missing, or the repository private), 'rate_limited' (HTTP 429;
 * the wait when the server shows it, which Hugging Face does not to pages), 'no_range_support'
 * (a 200 to the Range request, or a Content-Range hidden by CORS), 'not_gguf' (other magic),
 * 'fetch_failed' (network or CORS failure, another HTTP status, no answer within `timeoutMs`,
 * default 30 000 ms), 'aborted' (`signal`).
 */
export async function probeHfFile(url: string, o: { signal?: AbortSignal; fetch?: typeof fetch; timeoutMs?: number } = {}): Promise<HfFileProbe> {
  const ctx: HttpContext = { kind: 'file', ...hubContextOf(url) };
  const name = ctx.repo ? `${ctx.file} in ${ctx.repo}` : url;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  const onAbort = () => ac.abort();
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) ac.abort();
  const fail = (e: unknown): never => {
    if (e instanceof LayerstreamError && e.code !== 'aborted') throw e;
    if (o.signal?.aborted) throw new LayerstreamError('aborted', `probe of ${name} aborted`);
    if (timedOut) throw new LayerstreamError('fetch_failed', `no answer for ${name} within ${timeoutMs / 1000} s (${url})`);
    throw e;
  };
  try {
    let res: Response;
    try {
      res = await hubFetch(url, { signal: ac.signal, fetch: o.fetch }, ctx, name, { headers: { Range: `bytes=0-${PROBE_BYTES - 1}` }, cache: 'no-store' });
    } catch (e) {
      return fail(e);
    }
    const via = res.redirected && new URL(res.url).origin !== new URL(url).origin ? ` (redirected to ${new URL(res.url).host})` : '';
    if (res.status !== 206) {
      ac.abort(); // not one more byte of a whole-file answer
      await res.body?.cancel().catch(() => {});
      throw new LayerstreamError(
        'no_range_support',
        `the server for ${name}${via} ignored the HTTP Range request (answered ${res.status} with the whole file); ` +
          'layerstream streams models in pieces and needs a server that honours Range',
      );
    }
    const cr = /bytes\s+(\d+)-(\d+)\/(\d+)/.exec(res.headers.get('Content-Range') ?? '');
    if (!cr) {
      await res.body?.cancel().catch(() => {});
      throw new LayerstreamError(
        'no_range_support',
        `the server for ${name}${via} answered the Range request without a Content-Range this page can read ` +
          `("${res.headers.get('Content-Range') ?? 'hidden or absent'}"; a CORS server must list it in Access-Control-Expose-Headers), so the file size is unknown`,
      );
    }
    let head: Uint8Array;
    try {
      head = await readAtMost(res, PROBE_BYTES);
    } catch (e) {
      return fail(e instanceof LayerstreamError ? e : new LayerstreamError('fetch_failed', `connection lost while probing ${name}: ${(e as Error).message}`));
    }
    const size = Number(cr[3]);
    const magic = String.fromCharCode(...head.subarray(0, 4));
    if (magic !== 'GGUF') {
      const shown = Array.from(head.subarray(0, 4), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      throw new LayerstreamError('not_gguf', `${name} is not a GGUF file: it starts with "${shown}", not "GGUF"`);
    }
    return { url, finalUrl: res.url || url, size, etag: res.headers.get('ETag') };
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** The first `n` bytes of a response body (fewer if it is shorter); the rest is cancelled. */
async function readAtMost(res: Response, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  if (!res.body) return out.subarray(0, 0);
  const reader = res.body.getReader();
  try {
    while (got < n) {
      const { done, value } = await reader.read();
      if (done || !value) break;
      const take = Math.min(value.byteLength, n - got);
      out.set(value.subarray(0, take), got);
      got += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return out.subarray(0, got);
}
