import { LayerstreamError } from '../errors.ts';
import { responseError } from './http-error.ts';

/**
 * Random-access bytes of a model file. Everything downstream (GGUF header, tokenizer, weight loader)
 * reads through this, so the whole file is never held in memory.
 */
export interface ByteSource {
  /** Display name: URL or file name. */
  readonly name: string;
  /** File size in bytes. */
  readonly size: number;
  /**
   * Reads bytes [offset, offset + length). Throws LayerstreamError('truncated') if that runs past
   * the end, ('fetch_failed') on I/O errors, ('aborted') if `signal` fires.
   */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Fills `dest` with bytes [offset, offset + dest.byteLength): the weight loader reads into its
   * fixed staging buffers with this, so streaming allocates nothing per token. Same errors as read.
   */
  readInto(offset: number, dest: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Releases file handles (OPFS), if any. */
  close?(): void;
}

/** `read` for sources whose native operation is readInto: a new buffer of `length` bytes, filled. */
export async function readFresh(src: ByteSource, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await src.readInto(offset, out, signal);
  return out;
}

export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > src.size) {
    throw new LayerstreamError(
      'truncated',
      `read past end of ${src.name}: bytes ${offset}..${offset + length} of a ${src.size}-byte file (truncated file?)`,
    );
  }
}

/** A Blob or File (local file picker, drag-and-drop). Reads slices; never the whole file. */
export class BlobSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  constructor(private readonly blob: Blob, name?: string) {
    this.name = name ?? (blob instanceof File ? blob.name : 'blob');
    this.size = blob.size;
  }
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (signal?.aborted) throw new LayerstreamError('aborted', 'read aborted');
    return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
  }
  async readInto(offset: number, dest: Uint8Array, signal?: AbortSignal): Promise<void> {
    // Blob has no read-into; a slice's bytes are copied once (files go through OPFS for streaming)
    dest.set(await this.read(offset, dest.byteLength, signal));
  }
}

/** Bytes already in memory (tests, small files). */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array, readonly name = 'memory') {
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
  async readInto(offset: number, dest: Uint8Array): Promise<void> {
    dest.set(await this.read(offset, dest.byteLength));
  }
}

const FIRST_READ_BYTES = 1 << 20;

/**
 * A URL read with HTTP Range requests (RFC 9110 §14). `open` makes one Range request for the first
 * bytes to learn the size (Content-Range) and check the server honours Range; those bytes are kept
 * for the GGUF header parse.
 */
export class HttpRangeSource implements ByteSource {
  /** bounce buffers of readBody, one per concurrent request at most */
  private bounce: ArrayBuffer[] = [];
  private constructor(
    readonly name: string,
    readonly size: number,
    private head: Uint8Array,
    /** validators the server sent (null when absent or not exposed by CORS) */
    readonly etag: string | null,
    readonly lastModified: string | null,
    /**
     * Where `name` redirected to (Hugging Face's resolve URL → a signed CDN URL), reused for later
     * reads so that each 4 MiB read is not another request to the redirecting server (the Hub counts
     * them against its resolver rate limit: a 5 GB model would be ~1,250); null when not redirected,
     * and again once it stops working (the signature expired), when reads go back through `name`.
     */
    private redirected: string | null = null,
  ) {}

  /** The URL reads go to now: the redirect target while it works, else the URL opened. */
  get readUrl(): string {
    return this.redirected ?? this.name;
  }

  /**
   * `headBytes`: how much to read up front (kept for the header parse; 1 to just probe the size).
   * Throws LayerstreamError: 'fetch_failed' (network error or HTTP error status),
   * 'no_range_support' (server answered 200 to a Range request), 'aborted', and for Hugging Face
   * resolve URLs 'gated', 'not_found', 'rate_limited' (see http-error.ts `responseError`).
   */
  static async open(url: string, signal?: AbortSignal, headBytes = FIRST_READ_BYTES): Promise<HttpRangeSource> {
    const res = await rangeFetch(url, 0, headBytes - 1, signal);
    const cr = res.headers.get('Content-Range');
    const m = cr ? /bytes\s+(\d+)-(\d+)\/(\d+|\*)/.exec(cr) : null;
    if (res.status === 200 || !m) {
      await res.body?.cancel().catch(() => {});
      throw new LayerstreamError(
        'no_range_support',
        `server does not support HTTP Range requests for ${url} (answered ${res.status} without Content-Range); ` +
          'layerstream reads models in pieces and needs a server that honours Range',
      );
    }
    if (m[3] === '*') throw new LayerstreamError('no_range_support', `server did not report the size of ${url} in Content-Range`);
    const size = Number(m[3]);
    const head = new Uint8Array(await res.arrayBuffer());
    const target = res.redirected && res.url && res.url !== url ? res.url : null;
    return new HttpRangeSource(url, size, head, res.headers.get('ETag'), res.headers.get('Last-Modified'), target);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (offset + length <= this.head.byteLength) return this.head.subarray(offset, offset + length);
    return readFresh(this, offset, length, signal);
  }

  /** One Range request; the body is streamed into `dest` (no intermediate copy of the response). */
  async readInto(offset: number, dest: Uint8Array, signal?: AbortSignal): Promise<void> {
    const length = dest.byteLength;
    checkRange(this, offset, length);
    if (length === 0) return;
    if (offset + length <= this.head.byteLength) {
      dest.set(this.head.subarray(offset, offset + length));
      return;
    }
    let res: Response;
    try {
      res = await rangeFetch(this.readUrl, offset, offset + length - 1, signal);
    } catch (e) {
      // an expired or refused redirect target: once more through the URL itself (it redirects anew)
      if (!this.redirected || (e instanceof LayerstreamError && e.code === 'aborted')) throw e;
      this.redirected = null;
      res = await rangeFetch(this.name, offset, offset + length - 1, signal);
      if (res.redirected && res.url && res.url !== this.name) this.redirected = res.url;
    }
    const refuse = async (code: 'no_range_support' | 'integrity', message: string): Promise<never> => {
      await res.body?.cancel().catch(() => {});
      throw new LayerstreamError(code, message);
    };
    if (res.status !== 206) await refuse('no_range_support', `server answered ${res.status} to a Range request for ${this.name}`);
    const etag = res.headers.get('ETag');
    if (this.etag && etag && etag !== this.etag) await refuse('integrity', `${this.name} changed on the server (ETag ${this.etag} → ${etag})`);
    const cr = /bytes\s+(\d+)-(\d+)\//.exec(res.headers.get('Content-Range') ?? '');
    if (!cr || Number(cr[1]) !== offset || Number(cr[2]) !== offset + length - 1) {
      await refuse('integrity', `server sent Content-Range "${res.headers.get('Content-Range')}" for bytes ${offset}-${offset + length - 1} of ${this.name}`);
    }
    let got = 0;
    try {
      got = await readBody(res.body!, dest, this.bounce);
    } catch (e) {
      if (signal?.aborted) throw new LayerstreamError('aborted', `request for ${this.name} aborted`);
      throw new LayerstreamError('fetch_failed', `connection lost while reading ${this.name}: ${(e as Error).message}`, { cause: e });
    }
    if (got !== length) {
      throw new LayerstreamError('integrity', `short read from ${this.name}: asked ${length} bytes at ${offset}, got ${got}`);
    }
  }
}

const BOUNCE_BYTES = 256 << 10;

/**
 * Copies a response body into `dest`; returns the body's length (more than dest's when the server
 * sent too much: the rest is cancelled). A byte stream (Chromium's fetch bodies are) is read with a
 * BYOB reader into a reused bounce buffer, so a multi-GB model read in 4 MiB requests leaves no
 * garbage of response chunks behind (the default reader allocates a new chunk per read). `bounce`
 * is the pool of those buffers.
 */
async function readBody(body: ReadableStream<Uint8Array>, dest: Uint8Array, bounce: ArrayBuffer[]): Promise<number> {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = body.getReader({ mode: 'byob' });
  } catch {
    // not a byte stream: the default reader
  }
  let buf = byob ? (bounce.pop() ?? new ArrayBuffer(BOUNCE_BYTES)) : null;
  const reader = byob ?? body.getReader();
  const next = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    if (!byob) return (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    // the buffer is transferred into the read and handed back in `value`
    const r = await byob.read(new Uint8Array(buf!));
    if (r.value) buf = r.value.buffer as ArrayBuffer;
    return r;
  };
  let got = 0;
  try {
    for (;;) {
      const { done, value } = await next();
      if (done || !value) return got;
      if (got + value.byteLength > dest.byteLength) {
        await reader.cancel().catch(() => {});
        return got + value.byteLength;
      }
      dest.set(value, got);
      got += value.byteLength;
    }
  } finally {
    if (buf?.byteLength === BOUNCE_BYTES) bounce.push(buf); // not when a failed read kept it (detached)
  }
}

async function rangeFetch(url: string, first: number, last: number, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { Range: `bytes=${first}-${last}` }, signal, cache: 'no-store' });
  } catch (e) {
    if (signal?.aborted) throw new LayerstreamError('aborted', `request for ${url} aborted`);
    throw new LayerstreamError('fetch_failed', `could not fetch ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (res.status === 416) throw new LayerstreamError('truncated', `server says range ${first}-${last} is past the end of ${url}`);
  // HTTP errors: 'fetch_failed' naming the status, or (Hugging Face's X-Error-Code, any 429) 'gated',
  // 'not_found', 'rate_limited' naming the repository and file (http-error.ts)
  if (!res.ok) throw await responseError(res, url);
  return res;
}

/** Opens a model given as URL string, URL or Blob. */
export async function openByteSource(model: string | URL | Blob, signal?: AbortSignal): Promise<ByteSource> {
  if (typeof Blob !== 'undefined' && model instanceof Blob) return new BlobSource(model);
  const url = model instanceof URL ? model.href : String(model);
  const base = typeof location !== 'undefined' ? location.href : undefined;
  return HttpRangeSource.open(new URL(url, base).href, signal);
}
