import { LayerstreamError } from '../errors.ts';

/**
 * HTTP error answers turned into LayerstreamErrors, with Hugging Face's error signalling understood
 * (DOM-free: only Response and URL; used by byte-source.ts for every model URL and by huggingface.ts).
 *
 * Hugging Face's Hub tells errors apart with two response headers, `X-Error-Code` (`GatedRepo`,
 * `RepoNotFound`, `RevisionNotFound`, `EntryNotFound`) and `X-Error-Message`; huggingface_hub's
 * `hf_raise_for_status` (src/huggingface_hub/utils/_http.py) maps them to GatedRepoError,
 * RepositoryNotFoundError, RevisionNotFoundError and EntryNotFoundError, and treats a 401 on a
 * repository URL without a code as "repository not found" (anonymous callers get a bare 401,
 * `{"error":"Invalid username or password."}`, for a missing or private repo). The Hub exposes both
 * headers to web pages (`Access-Control-Expose-Headers: X-Repo-Commit,X-Request-Id,X-Error-Code,
 * X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,
 * X-Xet-Hash`), but not `RateLimit` or `Retry-After`: a page sees a 429 without knowing when the
 * limit resets. Every mapping below therefore falls back on the status when a header is not visible.
 *
 * Rate limits (Hub docs, docs/hub/rate-limits.md): a 429 carries `RateLimit: "api|resolvers|pages";
 * r=<remaining>;t=<seconds until the window resets>` (IETF draft-ietf-httpapi-ratelimit-headers-09);
 * limits are counted over 5-minute fixed windows. `Retry-After` (RFC 9110 §10.2.3) is honoured too.
 */

/** What an HTTP request was for, to name it in messages. Parsed from the URL when not given. */
export interface HttpContext {
  /** Hugging Face repository id `owner/name`, when the URL is a Hub URL */
  repo?: string;
  revision?: string;
  /** path of the file in the repository */
  file?: string;
  /** 'listing' for the tree API, 'file' for a resolve URL (or any other file URL) */
  kind?: 'listing' | 'file';
}

/**
 * The repository, revision and file named by a Hub URL on any host: `/<owner>/<repo>/resolve/<rev>/<path>`
 * (file) or `/api/models/<owner>/<repo>/tree/<rev>[/<path>]` (listing); `{}` for other URLs.
 */
export function hubContextOf(url: string): HttpContext {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return {};
  }
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
  if (tree) return { repo: dec(tree[1]), revision: dec(tree[2]), file: tree[3] ? dec(tree[3]) : undefined, kind: 'listing' };
  const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  if (resolve) return { repo: dec(resolve[1]), revision: dec(resolve[2]), file: resolve[3].split('/').map(dec).join('/'), kind: 'file' };
  return {};
}

/**
 * Seconds until a rate limit resets, from `Retry-After` (delta-seconds or an HTTP date) and Hugging
 * Face's `RateLimit` (`t=`), the longer of the two; null when neither is visible.
 * `now`: epoch ms (for tests).
 */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | null {
  const waits: number[] = [];
  const ra = headers.get('Retry-After')?.trim();
  if (ra) {
    if (/^\d+$/.test(ra)) waits.push(Number(ra));
    else {
      const at = Date.parse(ra);
      if (Number.isFinite(at)) waits.push(Math.max(0, Math.ceil((at - now) / 1000)));
    }
  }
  const rl = /(?:^|;)\s*t\s*=\s*(\d+)/.exec(headers.get('RateLimit') ?? '');
  if (rl) waits.push(Number(rl[1]));
  return waits.length ? Math.max(...waits) : null;
}

/** "95 s", "4 min 5 s", "2 h 1 min" */
export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  const m = Math.round((seconds % 3600) / 60);
  return `${Math.floor(seconds / 3600)} h${m ? ` ${m} min` : ''}`;
}

/** A short server message: X-Error-Message, else a JSON `error`/`message`, else short plain text. */
async function serverMessage(res: Response): Promise<string | null> {
  const header = res.headers.get('X-Error-Message');
  const type = res.headers.get('Content-Type') ?? '';
  let body: string | null = null;
  if (!header && res.body && (type.includes('json') || type.startsWith('text/plain'))) {
    try {
      const text = (await res.text()).trim();
      if (type.includes('json')) {
        const j = JSON.parse(text) as { error?: unknown; message?: unknown };
        const e = j.error ?? j.message;
        body = typeof e === 'string' ? e : Array.isArray(e) ? e.join('; ') : null;
      } else body = text;
    } catch {
      body = null;
    }
  } else {
    await res.body?.cancel().catch(() => {});
  }
  const msg = (header ?? body ?? '').replace(/\s+/g, ' ').trim();
  return msg && msg.length <= 300 ? msg : msg ? `${msg.slice(0, 297)}...` : null;
}

const HF_PAGE = 'https://huggingface.co';

/**
 * The LayerstreamError for a failed (non-2xx) response to a request for `url`, consuming its body.
 *
 * Codes: 'gated' (X-Error-Code GatedRepo, or a 401/403 on a Hub URL whose X-Error-Message or
 * body says access is restricted: the body stays readable when a proxy hides the headers), 'not_found' (X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound, or a 401
 * without a code on a Hub URL: missing, private or gated, which an anonymous caller cannot tell
 * apart), 'rate_limited' (429, from any server; the wait in the message when Retry-After or
 * RateLimit is visible), else 'fetch_failed' with `HTTP <status> <statusText> for <url>` (a plain
 * 404 from a non-Hub server stays fetch_failed). Messages name the repository and file for Hub URLs.
 */
export async function responseError(res: Response, url: string, ctx: HttpContext = hubContextOf(url)): Promise<LayerstreamError> {
  const code = res.headers.get('X-Error-Code');
  const status = res.status;
  const wait = status === 429 ? retryAfterSeconds(res.headers) : null;
  const said = await serverMessage(res);
  /** "HTTP 404: "Entry not found"" */
  const http = `HTTP ${status}${said ? `: "${said}"` : ''}`;
  const repo = ctx.repo;
  const what = repo
    ? ctx.kind === 'listing'
      ? `the file list of ${repo}${ctx.revision && ctx.revision !== 'main' ? ` at ${ctx.revision}` : ''}`
      : `${ctx.file ?? 'a file'} in ${repo}`
    : url;

  if (code === 'GatedRepo' || ((status === 401 || status === 403) && repo && said && /restricted|gated|accept the conditions/i.test(said))) {
    return new LayerstreamError(
      'gated',
      `${repo ?? url} is a gated repository: Hugging Face serves its files only to signed-in users who accepted its conditions at ` +
        `${HF_PAGE}/${repo ?? ''} (${http}). Accepting them is not enough for this page: ` +
        `your huggingface.co login does not carry over to other sites and browsers do not send your Hugging Face token here, ` +
        `so ${ctx.file ?? 'its files'} cannot be streamed from it. Accept the conditions on huggingface.co, download the file ` +
        'there, and open it as a local file.',
    );
  }
  if (code === 'RepoNotFound' || (status === 401 && repo && !code)) {
    // (the anonymous 401's own text, "Invalid username or password.", would only confuse)
    return new LayerstreamError(
      'not_found',
      `Hugging Face repository ${repo ?? url} was not found (${code ? http : `HTTP ${status}`}): check its name; ` +
        'a private repository (or, when the server hides its error headers, a gated one) looks the same from here, since this page is not signed in to Hugging Face.',
    );
  }
  if (code === 'RevisionNotFound') {
    return new LayerstreamError('not_found', `revision "${ctx.revision ?? '?'}" was not found in Hugging Face repository ${repo ?? url} (${http})`);
  }
  if (code === 'EntryNotFound' || (status === 404 && repo && ctx.kind === 'file')) {
    return new LayerstreamError(
      'not_found',
      `${ctx.file ?? url} was not found in Hugging Face repository ${repo ?? '?'}${ctx.revision && ctx.revision !== 'main' ? ` at ${ctx.revision}` : ''} (${http})`,
    );
  }
  if (status === 429) {
    const when =
      wait !== null
        ? `try again in ${formatWait(wait)} (after ${new Date(Date.now() + wait * 1000).toLocaleTimeString()})`
        : repo
          ? 'the browser cannot see when the limit resets (Hugging Face does not expose its RateLimit and Retry-After headers to web pages): ' +
            'try again in a few minutes (its limits are counted over 5-minute windows)'
          : 'the server did not say when (no visible Retry-After header): try again in a few minutes';
    return new LayerstreamError('rate_limited', `${repo ? 'Hugging Face is' : 'the server is'} rate-limiting requests from this network (${http}) for ${what}: ${when}`);
  }
  return new LayerstreamError('fetch_failed', `HTTP ${status} ${res.statusText} for ${url}${said ? ` (the server says: "${said}")` : ''}`);
}
