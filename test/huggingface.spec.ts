import { test, expect, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { formatWait, responseError, retryAfterSeconds } from '../src/storage/http-error.ts';
import {
  ggufQuantLabel, groupGgufFiles, listGgufFiles, parseHfReference, probeHfFile, resolveUrl, selectHfModel,
  type HfGgufModel, type HfTreeEntry,
} from '../src/storage/huggingface.ts';
import { GENERATED_DIR, SHARED_URL } from './support/browser.ts';
import { openHarness, STORIES_GREEDY_START } from './support/engine-page.ts';
import { splitGGUF } from './support/gguf-writer.ts';

// Hugging Face browsing (src/storage/huggingface.ts) against test/support/hf-server.mjs, an
// imitation of huggingface.co (port 5175) and its CDN on another origin (5176): references, quant
// labels and split grouping (pure, Node side); listing, probing and loading through resolve URLs
// (302 → CDN, Range, ETag) in the browser; every failure a typed error, fast, before any large body.

const HUB = 'http://127.0.0.1:5175';
const CDN = 'http://127.0.0.1:5176';
const R = (name: string) => `layerstream-test/${name}`;
const shared = new URL('../../shared/', import.meta.url);
const modelBytes = (p: string) => new Uint8Array(readFileSync(new URL(`models/${p}`, shared)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Counters { tree: number; resolve: number; preflights: number; cdnRequests: number; cdnPreflights: number; cdnBytes: number; cdnCancelled: number }
const counters = async (repo: string): Promise<Counters> => (await fetch(`${HUB}/control?repo=${encodeURIComponent(repo)}`)).json();

test.describe('Hugging Face references and names, Node side', () => {
  test('parseHfReference: the forms users type or paste', () => {
    const repo = 'unsloth/Qwen3-4B-GGUF';
    const page = `https://huggingface.co/${repo}`;
    const cases: [string, object][] = [
      [`hf.co/${repo}`, { repo, revision: 'main' }],
      [`huggingface.co/${repo}`, { repo, revision: 'main' }],
      [`www.huggingface.co/${repo}`, { repo, revision: 'main' }],
      [`http://hf.co/${repo}`, { repo, revision: 'main' }],
      [`${page}/`, { repo, revision: 'main' }],
      [`HTTPS://HuggingFace.CO/${repo}`, { repo, revision: 'main' }],
      [`  ${page}/tree/main  `, { repo, revision: 'main' }],
      [`${page}/tree/dev`, { repo, revision: 'dev' }],
      [`${page}/tree/main/BF16`, { repo, revision: 'main' }],
      [`${page}#files`, { repo, revision: 'main' }],
      [`${page}/discussions`, { repo, revision: 'main' }],
      [`${page}/blob/main`, { repo, revision: 'main' }],
      [`${page}/blob/main/Qwen3-4B-Q4_K_M.gguf`, { repo, revision: 'main', file: 'Qwen3-4B-Q4_K_M.gguf' }],
      [`${page}/resolve/main/Qwen3-4B-Q4_K_M.gguf?download=true`, { repo, revision: 'main', file: 'Qwen3-4B-Q4_K_M.gguf' }],
      [`hf.co/${repo}/resolve/main/BF16/Qwen3-4B-BF16-00001-of-00002.gguf`, { repo, revision: 'main', file: 'BF16/Qwen3-4B-BF16-00001-of-00002.gguf' }],
      [`${page}/resolve/refs%2Fpr%2F3/sub/My%20Model.gguf`, { repo, revision: 'refs/pr/3', file: 'sub/My Model.gguf' }],
      [`${page}/raw/0123abc/README.md`, { repo, revision: '0123abc', file: 'README.md' }],
      [`${page}?show_file_info=Qwen3-4B-UD-Q4_K_XL.gguf`, { repo, revision: 'main', file: 'Qwen3-4B-UD-Q4_K_XL.gguf' }],
      [`hf.co/${repo}:Q4_K_M`, { repo, revision: 'main', quant: 'Q4_K_M' }],
      [`hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:q8_0`, { repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', revision: 'main', quant: 'Q8_0' }],
      ['huggingface.co/ggml-org/gpt-oss-20b-GGUF', { repo: 'ggml-org/gpt-oss-20b-GGUF', revision: 'main' }],
      ['hf.co/TheBloke/Llama-2-7B-Chat-GGUF/blob/main/llama-2-7b-chat.Q4_K_M.gguf', { repo: 'TheBloke/Llama-2-7B-Chat-GGUF', revision: 'main', file: 'llama-2-7b-chat.Q4_K_M.gguf' }],
    ];
    for (const [text, want] of cases) expect(parseHfReference(text), text).toEqual(want);
    const notHf = [
      '', '   ', 'hf.co', 'https://hf.co/', repo, `/${repo}`, 'model.gguf', 'opfs:abc123',
      `https://example.com/${repo}`, `https://huggingface.co.evil.example/${repo}`, `https://evil.example/huggingface.co/${repo}`,
      `http://127.0.0.1:5174/shared/models/stories260K.gguf`, `${SHARED_URL}/models/stories260K.gguf`,
      'https://huggingface.co/gpt2', 'https://huggingface.co/datasets/owner/data', 'huggingface.co/spaces/owner/app',
      'https://huggingface.co/docs/hub', 'https://huggingface.co/settings/tokens', `https://huggingface.co/api/models/${repo}`,
      `ftp://huggingface.co/${repo}`, `https://huggingface.co:8443/${repo}`, `https://user:pw@huggingface.co/${repo}`,
      'https://huggingface.co/a--b/c', 'https://huggingface.co/owner/re po', 'https://huggingface.co/owner/-repo', 'https://huggingface.co/owner/repo.git',
      `hf.co/${repo}:Q4 K`,
    ];
    for (const text of notHf) expect(parseHfReference(text), text).toBeNull();
  });

  test('ggufQuantLabel: llama.cpp type labels in file names', () => {
    const cases: [string, string | null][] = [
      ['Qwen3-4B-Q4_K_M.gguf', 'Q4_K_M'],
      ['Qwen3-4B-UD-Q4_K_XL.gguf', 'UD-Q4_K_XL'],
      ['Qwen3-30B-A3B-UD-IQ1_M.gguf', 'UD-IQ1_M'],
      ['llama-2-7b-chat.Q4_K_M.gguf', 'Q4_K_M'],
      ['Mistral-7B-Instruct-v0.3.Q5_K_S.gguf', 'Q5_K_S'],
      ['ggml-model-q4_0.gguf', 'Q4_0'],
      ['gemma-3-4b-it-qat-Q4_0.gguf', 'Q4_0'],
      ['Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf', 'IQ4_XS'],
      ['Llama-3.2-1B-Instruct-IQ2_XXS.gguf', 'IQ2_XXS'],
      ['model-IQ4_NL.gguf', 'IQ4_NL'],
      ['Qwen3-8B-Q6_K_L.gguf', 'Q6_K_L'],
      ['Qwen3-8B-Q6_K.gguf', 'Q6_K'],
      ['Qwen3-8B-Q8_K_XL.gguf', 'Q8_K_XL'],
      ['Llama-3.2-3B-Instruct-Q4_0_4_4.gguf', 'Q4_0_4_4'],
      ['gpt-oss-20b-mxfp4.gguf', 'MXFP4'],
      ['gpt-oss-120b-MXFP4_MOE-00001-of-00003.gguf', 'MXFP4_MOE'],
      ['Qwen3-4B-BF16.gguf', 'BF16'],
      ['model-f16.gguf', 'F16'],
      ['model-fp16.gguf', 'F16'],
      ['mmproj-F32.gguf', 'F32'],
      ['BitNet-b1.58-2B-4T-TQ1_0.gguf', 'TQ1_0'],
      ['Q8_0/synth-llama-Q8_0.gguf', 'Q8_0'],
      ['synth-llama-mix-IQ2_M.gguf', 'IQ2_M'],
      ['Qwen3-4B-Q4_K_M-00001-of-00002.gguf', 'Q4_K_M'],
      ['stories260K.gguf', null],
      ['Qwen2.5-7B-Instruct.gguf', null],
      ['Phi-3-mini-4k-instruct.gguf', null],
      ['QwQ-32B.gguf', null],
    ];
    for (const [name, want] of cases) expect(ggufQuantLabel(name), name).toBe(want);
  });

  test('groupGgufFiles: split parts as one model, missing parts, subfolders, LFS sizes, non-GGUF ignored, sorted by bytes', () => {
    const lfs = (path: string, size: number): HfTreeEntry => ({ type: 'file', path, size, oid: 'x', lfs: { oid: 'y', size, pointerSize: 134 } });
    const entries: HfTreeEntry[] = [
      { type: 'file', path: '.gitattributes', size: 1519, oid: 'a' },
      { type: 'file', path: 'README.md', size: 900, oid: 'b' },
      { type: 'directory', path: 'BF16', size: 0, oid: 'c' },
      { type: 'file', path: 'BF16/notes.txt', size: 10, oid: 'd' },
      lfs('BF16/M-BF16-00002-of-00003.gguf', 3000),
      lfs('BF16/M-BF16-00001-of-00003.gguf', 4000),
      lfs('BF16/M-BF16-00003-of-00003.gguf', 1000),
      lfs('Gap-Q2_K-00001-of-00003.gguf', 500),
      lfs('Gap-Q2_K-00003-of-00003.gguf', 200),
      lfs('M-Q4_K_M.gguf', 2500),
      { type: 'file', path: 'tiny-Q8_0.gguf', size: 100, oid: 'e' }, // not LFS: size is the size
      lfs('mmproj-M-f16.gguf', 600),
      lfs('M-UD-Q4_K_XL.GGUF', 2600),
      lfs('M-Q4_K_M.gguf.part1of2', 9999),
    ];
    const models = groupGgufFiles(entries, { repo: 'o/r', endpoint: 'http://hub.test/' });
    const brief = models.map((m) => ({ name: m.name, quant: m.quant, kind: m.kind, bytes: m.bytes, paths: m.paths, missing: m.partsMissing }));
    expect(brief).toEqual([
      { name: 'tiny-Q8_0', quant: 'Q8_0', kind: 'model', bytes: 100, paths: ['tiny-Q8_0.gguf'], missing: undefined },
      { name: 'mmproj-M-f16', quant: 'F16', kind: 'mmproj', bytes: 600, paths: ['mmproj-M-f16.gguf'], missing: undefined },
      { name: 'Gap-Q2_K', quant: 'Q2_K', kind: 'model', bytes: 700, paths: ['Gap-Q2_K-00001-of-00003.gguf', 'Gap-Q2_K-00002-of-00003.gguf', 'Gap-Q2_K-00003-of-00003.gguf'], missing: [2] },
      { name: 'M-Q4_K_M', quant: 'Q4_K_M', kind: 'model', bytes: 2500, paths: ['M-Q4_K_M.gguf'], missing: undefined },
      { name: 'M-UD-Q4_K_XL', quant: 'UD-Q4_K_XL', kind: 'model', bytes: 2600, paths: ['M-UD-Q4_K_XL.GGUF'], missing: undefined },
      { name: 'M-BF16', quant: 'BF16', kind: 'model', bytes: 8000, paths: ['BF16/M-BF16-00001-of-00003.gguf', 'BF16/M-BF16-00002-of-00003.gguf', 'BF16/M-BF16-00003-of-00003.gguf'], missing: undefined },
    ]);
    expect(models.find((m) => m.name === 'M-BF16')!.urls).toEqual([1, 2, 3].map((k) => `http://hub.test/o/r/resolve/main/BF16/M-BF16-0000${k}-of-00003.gguf`));
    expect('partsMissing' in models.find((m) => m.name === 'M-BF16')!).toBe(false);
    expect(resolveUrl('o/r', 'refs/pr/1', 'a dir/x#1.gguf')).toBe('https://huggingface.co/o/r/resolve/refs%2Fpr%2F1/a%20dir/x%231.gguf');

    // picking the model a reference names
    const ref = { repo: 'o/r', revision: 'main' };
    expect(selectHfModel(models, { ...ref, file: 'BF16/M-BF16-00002-of-00003.gguf' })?.name).toBe('M-BF16');
    expect(selectHfModel(models, { ...ref, file: 'nope.gguf' })).toBeNull();
    expect(selectHfModel(models, { ...ref, quant: 'Q4_K_M' })?.name).toBe('M-Q4_K_M');
    expect(selectHfModel(models, { ...ref, quant: 'Q4_K_XL' })?.name).toBe('M-UD-Q4_K_XL');
    expect(selectHfModel(models, ref)).toBeNull(); // five language models: the user chooses
    expect(selectHfModel(models.filter((m) => m.name === 'M-BF16' || m.kind === 'mmproj'), ref)?.name).toBe('M-BF16');
  });

  test('HTTP error mapping: X-Error-Code, 401 without a code, Retry-After and RateLimit, fallbacks', async () => {
    const resolve = 'https://huggingface.co/o/r/resolve/main/m.gguf';
    const res = (status: number, headers: Record<string, string> = {}, body = '') => new Response(body || null, { status, headers });
    const gated = await responseError(res(401, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': 'Access to model o/r is restricted.' }), resolve);
    expect(gated.code).toBe('gated');
    expect(gated.message).toContain('https://huggingface.co/o/r');
    expect(gated.message).toContain('m.gguf');
    expect((await responseError(res(403, { 'X-Error-Message': 'Access to model o/r is restricted and you are not in the authorized list.' }), resolve)).code).toBe('gated');
    expect((await responseError(res(401, { 'Content-Type': 'application/json' }, '{"error":"Invalid username or password."}'), resolve)).message).toMatch(/^Hugging Face repository o\/r was not found \(HTTP 401\): check its name; a private repository/);
    expect((await responseError(res(404, { 'X-Error-Code': 'RepoNotFound' }), resolve)).code).toBe('not_found');
    expect((await responseError(res(404, { 'X-Error-Code': 'RevisionNotFound' }), 'https://huggingface.co/api/models/o/r/tree/v2?recursive=true')).message).toContain('revision "v2"');
    expect((await responseError(res(404, { 'X-Error-Code': 'EntryNotFound' }), resolve)).message).toContain('m.gguf was not found in Hugging Face repository o/r');
    // not a Hub URL: a plain 404 stays fetch_failed, named by status
    const plain = await responseError(res(404), 'http://host.test/models/x.gguf');
    expect(plain).toMatchObject({ code: 'fetch_failed' });
    expect(plain.message).toContain('HTTP 404');
    // 429: the wait from Retry-After (seconds or a date) or RateLimit's t=, the longer; unknown when hidden
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'Retry-After': '120' }), now)).toBe(120);
    expect(retryAfterSeconds(new Headers({ 'Retry-After': 'Thu, 01 Jan 2026 00:01:30 GMT' }), now)).toBe(90);
    expect(retryAfterSeconds(new Headers({ RateLimit: '"api";r=0;t=55' }), now)).toBe(55);
    expect(retryAfterSeconds(new Headers({ RateLimit: '"resolvers";r=0;t=200', 'Retry-After': '30' }), now)).toBe(200);
    expect(retryAfterSeconds(new Headers({}), now)).toBeNull();
    expect([formatWait(55), formatWait(120), formatWait(245), formatWait(7260)]).toEqual(['55 s', '2 min', '4 min 5 s', '2 h 1 min']);
    const limited = await responseError(res(429, { RateLimit: '"resolvers";r=0;t=245' }), resolve);
    expect(limited.code).toBe('rate_limited');
    expect(limited.message).toContain('try again in 4 min 5 s');
    expect((await responseError(res(429), resolve)).message).toMatch(/cannot see when the limit resets.*few minutes/);
  });
});

test.describe('the imitation and the client in Node (every header visible)', () => {
  test('resolve answers 302 to the CDN with X-Linked-Size / X-Linked-ETag; the CDN answers Range with 206', async () => {
    const bytes = modelBytes('stories260K.gguf');
    const r = await fetch(`${HUB}/${R('tiny-GGUF')}/resolve/main/stories260K.gguf`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('X-Linked-Size')).toBe(String(bytes.length));
    expect(r.headers.get('X-Linked-ETag')).toBe(`"${sha256(bytes)}"`);
    expect(r.headers.get('X-Repo-Commit')).toMatch(/^[0-9a-f]{40}$/);
    const loc = r.headers.get('Location')!;
    expect(loc.startsWith(`${CDN}/xet-bridge-us/`)).toBe(true);
    expect(loc).toContain('X-Amz-Signature=');
    const part = await fetch(loc, { headers: { Range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('Content-Range')).toBe(`bytes 4-11/${bytes.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(4, 12));
    expect((await fetch(loc.replace(/X-Amz-Signature=./, 'X-Amz-Signature=0'))).status).toBe(403);
    // small git files: a relative 307 to /api/resolve-cache on the Hub itself
    const readme = await fetch(`${HUB}/${R('tiny-GGUF')}/resolve/main/README.md`, { redirect: 'manual' });
    expect(readme.status).toBe(307);
    expect(readme.headers.get('Location')).toMatch(/^\/api\/resolve-cache\/models\/layerstream-test\/tiny-GGUF\/[0-9a-f]{40}\/README\.md\?etag=/);
    expect(await (await fetch(`${HUB}/${R('tiny-GGUF')}/resolve/main/README.md`)).text()).toContain('# tiny-GGUF');
  });

  test('listGgufFiles and probeHfFile with Node fetch: sizes, and a 429 whose wait is visible', async () => {
    const models = await listGgufFiles(`hf.co/${R('tiny-GGUF')}`, { endpoint: HUB });
    expect(models.map((m) => [m.name, m.bytes])).toEqual([
      ['stories260K-Q4_K_M', 304096],
      ['stories260K', 1185376],
      ['synth-llama-Q8_0', 12642464],
    ]);
    const p = await probeHfFile(models[1].urls[0]);
    expect(p).toMatchObject({ size: 1185376, etag: `"${sha256(modelBytes('stories260K.gguf'))}"` });
    const e = await listGgufFiles({ repo: R('ratelimited-GGUF'), revision: 'main' }, { endpoint: HUB }).catch((x) => x);
    expect(e.code).toBe('rate_limited');
    expect(e.message).toContain('try again in 2 min'); // Node sees Retry-After: 120 and RateLimit t=120
  });
});

/** In the page: `fn(ls, arg)` → its value, or the error as {error: {code, message}}; with the time it took. */
async function inPage<T = any>(page: Page, fn: string, arg?: unknown): Promise<{ value?: T; error?: { code: string; message: string; typed: boolean }; ms: number }> {
  return page.evaluate(async ({ fn, arg }) => {
    const ls = (window as any).ls;
    const t0 = performance.now();
    try {
      const value = await new Function('ls', 'arg', `return (async () => { ${fn} })()`)(ls, arg);
      return { value, ms: performance.now() - t0 };
    } catch (e: any) {
      return { error: { code: e?.code, message: String(e?.message), typed: e instanceof ls.LayerstreamError }, ms: performance.now() - t0 };
    }
  }, { fn, arg });
}

const GREEDY = `
  const out = [];
  const e = await ls.createEngine({ model: arg.url });
  try {
    for await (const t of e.generate({ prompt: 'Once upon a time', maxTokens: 24, temperature: 0 })) out.push(t.token);
  } finally { await e.dispose(); }
  return out;`;

test.describe('in the browser, against the imitation', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('listing: GGUF models with sizes and quant types, subfolders kept, README and other files ignored, all pages followed', async ({ page }) => {
    const before = await counters(R('tiny-GGUF'));
    const r = await inPage<HfGgufModel[]>(page, `return ls.listGgufFiles(ls.parseHfReference(arg.ref), { endpoint: arg.hub })`, {
      ref: `https://huggingface.co/${R('tiny-GGUF')}/tree/main`, hub: HUB,
    });
    expect(r.error).toBeUndefined();
    const url = (p: string) => `${HUB}/${R('tiny-GGUF')}/resolve/main/${p}`;
    expect(r.value).toEqual([
      { name: 'stories260K-Q4_K_M', quant: 'Q4_K_M', kind: 'model', paths: ['stories260K-Q4_K_M.gguf'], bytes: 304096, urls: [url('stories260K-Q4_K_M.gguf')] },
      { name: 'stories260K', quant: null, kind: 'model', paths: ['stories260K.gguf'], bytes: 1185376, urls: [url('stories260K.gguf')] },
      { name: 'synth-llama-Q8_0', quant: 'Q8_0', kind: 'model', paths: ['Q8_0/synth-llama-Q8_0.gguf'], bytes: 12642464, urls: [url('Q8_0/synth-llama-Q8_0.gguf')] },
    ]);
    // the repo's page size is 2 entries: 7 entries (5 files, 1 folder, and .gitattributes) take 4 pages,
    // and the first page alone holds no GGUF file at all
    expect((await counters(R('tiny-GGUF'))).tree - before.tree).toBeGreaterThanOrEqual(4);
  });

  test('a resolve URL loads through the 302 to the other-origin CDN with Range and ETag, and generates what the plain server\'s copy does', async ({ page }) => {
    const repo = R('tiny-GGUF');
    const hfUrl = `${HUB}/${repo}/resolve/main/stories260K.gguf`;
    const before = await counters(repo);
    const r = await inPage(page, `
      const probe = await ls.probeHfFile(arg.hfUrl);
      const src = await ls.openByteSource(arg.hfUrl);
      const tail = Array.from(await src.read(src.size - 16, 16));
      return { probe, size: src.size, etag: src.etag, tail };`, { hfUrl });
    expect(r.error).toBeUndefined();
    const bytes = modelBytes('stories260K.gguf');
    const etag = `"${sha256(bytes)}"`;
    expect(r.value.probe).toMatchObject({ url: hfUrl, size: bytes.length, etag });
    expect(r.value.probe.finalUrl.startsWith(`${CDN}/xet-bridge-us/`)).toBe(true); // followed across origins
    expect(r.value).toMatchObject({ size: bytes.length, etag, tail: Array.from(bytes.subarray(bytes.length - 16)) });

    const hf = await inPage<number[]>(page, GREEDY, { url: hfUrl });
    const plain = await inPage<number[]>(page, GREEDY, { url: `${SHARED_URL}/models/stories260K.gguf` });
    expect(hf.error).toBeUndefined();
    expect(hf.value!.slice(0, 5)).toEqual(STORIES_GREEDY_START);
    expect(hf.value).toEqual(plain.value);
    const after = await counters(repo);
    expect(after.resolve - before.resolve).toBeGreaterThanOrEqual(3);
    expect(after.cdnBytes - before.cdnBytes).toBeGreaterThanOrEqual(bytes.length); // the engine's bytes came from the CDN
    console.log(`[hf] CORS preflights for Range: hub ${after.preflights - before.preflights}, CDN ${after.cdnPreflights - before.cdnPreflights}`);
  });

  test('reads after the redirect go straight to the CDN URL (one resolve per file, not per read) and back through resolve once it expires', async ({ page }) => {
    const repo = R('expiring-GGUF'); // signed URLs that expire after 5 s
    const hfUrl = `${HUB}/${repo}/resolve/main/synth-llama-Q8_0.gguf`;
    await fetch(`${HUB}/control/reset?repo=${encodeURIComponent(repo)}`, { method: 'POST' });
    const bytes = modelBytes('synth-llama-Q8_0.gguf');
    const MiB = 1 << 20;
    const r = await inPage(page, `
      const src = await ls.openByteSource(arg.hfUrl);
      const a = Array.from(await src.read(2 * arg.MiB, 64));
      const b = Array.from(await src.read(4 * arg.MiB, 64));
      const c = Array.from(await src.read(6 * arg.MiB, 64));
      const mid = await (await fetch(arg.control)).json();
      await new Promise((r) => setTimeout(r, 6200)); // the signature expires
      const d = Array.from(await src.read(8 * arg.MiB, 64));
      const e = Array.from(await src.read(10 * arg.MiB, 64));
      return { a, b, c, d, e, mid };`, { hfUrl, MiB, control: `${HUB}/control?repo=${encodeURIComponent(repo)}` });
    expect(r.error).toBeUndefined();
    const at = (o: number) => Array.from(bytes.subarray(o, o + 64));
    expect(r.value).toMatchObject({ a: at(2 * MiB), b: at(4 * MiB), c: at(6 * MiB), d: at(8 * MiB), e: at(10 * MiB) });
    // open: one resolve; the three reads went to the CDN URL directly
    expect(r.value.mid.resolve).toBe(1);
    expect(r.value.mid.cdnRequests).toBe(4);
    const after = await counters(repo);
    // after expiry: the CDN refused once (403), the read went through resolve again, and the next used the new URL
    expect(after.resolve).toBe(2);
    expect(after.cdnRequests).toBe(7);
  });

  test.describe('split GGUF', () => {
    const base = 'stories260K';
    const partName = (k: number) => `${base}-${String(k + 1).padStart(5, '0')}-of-00003.gguf`;
    test.beforeAll(async () => {
      const dir = new URL('hf-split/', GENERATED_DIR);
      mkdirSync(dir, { recursive: true });
      const parts = await splitGGUF(modelBytes(`${base}.gguf`), 3);
      parts.forEach((bytes, k) => {
        // write then rename: a parallel worker writing the same file never serves half of it
        const tmp = new URL(`${partName(k)}.${process.pid}.tmp`, dir);
        writeFileSync(tmp, bytes);
        renameSync(tmp, new URL(partName(k), dir));
      });
    });

    test('split parts are listed as one model, loaded through resolve URLs, and generate what the single file does', async ({ page }) => {
      const list = await inPage<HfGgufModel[]>(page, `return ls.listGgufFiles('hf.co/' + arg.repo, { endpoint: arg.hub })`, { repo: R('split-GGUF'), hub: HUB });
      expect(list.error).toBeUndefined();
      expect(list.value!.length).toBe(1);
      const m = list.value![0];
      const parts = [0, 1, 2].map((k) => readFileSync(new URL(`hf-split/${partName(k)}`, GENERATED_DIR)).length);
      expect(m).toEqual({
        name: base, quant: null, kind: 'model', paths: [0, 1, 2].map(partName), bytes: parts[0] + parts[1] + parts[2],
        urls: [0, 1, 2].map((k) => `${HUB}/${R('split-GGUF')}/resolve/main/${partName(k)}`),
      });
      const run = await inPage<number[]>(page, GREEDY, { url: m.urls[0] });
      expect(run.error).toBeUndefined();
      expect(run.value!.slice(0, 5)).toEqual(STORIES_GREEDY_START);
      const plain = await inPage<number[]>(page, GREEDY, { url: `${SHARED_URL}/models/stories260K.gguf` });
      expect(run.value).toEqual(plain.value);
    });

    test('a split model with a part missing from the repository is reported, and probing it fails as not_found', async ({ page }) => {
      const r = await inPage(page, `
        const [m] = await ls.listGgufFiles('hf.co/' + arg.repo, { endpoint: arg.hub });
        let probe = null;
        try { await ls.probeHfFile(m.urls[1]); } catch (e) { probe = { code: e.code, message: e.message }; }
        return { m, probe };`, { repo: R('split-missing-GGUF'), hub: HUB });
      expect(r.error).toBeUndefined();
      expect(r.value.m).toMatchObject({ name: base, paths: [0, 1, 2].map(partName), partsMissing: [2] });
      expect(r.value.probe.code).toBe('not_found');
      expect(r.value.probe.message).toContain(`${partName(1)} was not found in Hugging Face repository ${R('split-missing-GGUF')}`);
    });
  });

  /** probe (and createEngine) on a URL: typed errors, fast, and what the CDN served for the repo meanwhile. */
  async function failures(page: Page, repo: string, url: string, withEngine = true) {
    const before = await counters(repo);
    const probe = await inPage(page, `return ls.probeHfFile(arg.url)`, { url });
    const engine = withEngine ? await inPage(page, `const e = await ls.createEngine({ model: arg.url }); await e.dispose(); return 'loaded'`, { url }) : null;
    const after = await counters(repo);
    return {
      probe, engine, cdnBytes: after.cdnBytes - before.cdnBytes, cdnRequests: after.cdnRequests - before.cdnRequests,
      cdnCancelled: after.cdnCancelled - before.cdnCancelled,
    };
  }

  test('gated: the listing is public, the file is refused as gated naming repo and licence, before the CDN is asked', async ({ page }) => {
    const repo = R('gated-GGUF');
    const list = await inPage<HfGgufModel[]>(page, `return ls.listGgufFiles({ repo: arg.repo, revision: 'main' }, { endpoint: arg.hub })`, { repo, hub: HUB });
    expect(list.value!.map((m) => m.name)).toEqual(['stories260K']);
    const f = await failures(page, repo, list.value![0].urls[0]);
    for (const r of [f.probe, f.engine!]) {
      expect(r.error).toMatchObject({ code: 'gated', typed: true });
      expect(r.error!.message).toContain(`${repo} is a gated repository`);
      expect(r.error!.message).toContain(`https://huggingface.co/${repo}`);
      expect(r.error!.message).toMatch(/accept/i);
      expect(r.error!.message).toMatch(/token/);
    }
    expect(f.probe.ms).toBeLessThan(5000);
    expect(f.cdnRequests).toBe(0);
  });

  test('missing repository (HF\'s anonymous 401 and the 404 RepoNotFound), revision and file: not_found naming them', async ({ page }) => {
    const list = (ref: unknown) => inPage(page, `return ls.listGgufFiles(arg.ref, { endpoint: arg.hub })`, { ref, hub: HUB });
    for (const name of ['no-such-GGUF', 'deleted-GGUF']) {
      const r = await list(`hf.co/${R(name)}`);
      expect(r.error).toMatchObject({ code: 'not_found', typed: true });
      expect(r.error!.message).toContain(`Hugging Face repository ${R(name)} was not found`);
      expect(r.ms).toBeLessThan(5000);
    }
    const rev = await list(`https://huggingface.co/${R('norange-GGUF')}/tree/v9`);
    expect(rev.error).toMatchObject({ code: 'not_found' });
    expect(rev.error!.message).toContain(`revision "v9" was not found in Hugging Face repository ${R('norange-GGUF')}`);
    const noRepo = await failures(page, R('no-such-GGUF'), `${HUB}/${R('no-such-GGUF')}/resolve/main/model.gguf`);
    expect(noRepo.probe.error).toMatchObject({ code: 'not_found' });
    expect(noRepo.engine!.error).toMatchObject({ code: 'not_found' });
    const noFile = await failures(page, R('gated-GGUF'), `${HUB}/${R('gated-GGUF')}/resolve/main/other-Q4_K_M.gguf`);
    for (const r of [noFile.probe, noFile.engine!]) {
      expect(r.error).toMatchObject({ code: 'not_found', typed: true });
      expect(r.error!.message).toContain(`other-Q4_K_M.gguf was not found in Hugging Face repository ${R('gated-GGUF')}`);
    }
    expect(noFile.probe.ms).toBeLessThan(5000);
    expect(noFile.cdnRequests + noRepo.cdnRequests).toBe(0);
  });

  test('headers hidden by CORS: the gated answer is still recognised from its body; a hidden Content-Range is no_range_support saying so', async ({ page }) => {
    // a Hub (proxy) without Access-Control-Expose-Headers: X-Error-Code / X-Error-Message invisible
    const gated = R('gated-noexpose-GGUF');
    const g = await failures(page, gated, `${HUB}/${gated}/resolve/main/stories260K.gguf`);
    for (const r of [g.probe, g.engine!]) {
      expect(r.error).toMatchObject({ code: 'gated', typed: true });
      expect(r.error!.message).toContain(`${gated} is a gated repository`);
    }
    expect(g.cdnRequests).toBe(0);
    // a CDN that exposes no headers: the size (Content-Range) cannot be read
    const hidden = R('hidden-range-GGUF');
    const h = await failures(page, hidden, `${HUB}/${hidden}/resolve/main/stories260K.gguf`);
    for (const r of [h.probe, h.engine!]) expect(r.error).toMatchObject({ code: 'no_range_support', typed: true });
    expect(h.probe.error!.message).toMatch(/without a Content-Range this page can read .*Access-Control-Expose-Headers/);
    expect(h.cdnBytes).toBeLessThanOrEqual(8 + (1 << 20)); // the probe's 8 bytes and at most the engine's first 1 MiB Range
  });

  test('rate limited: rate_limited from the listing and the file; the wait when the headers are exposed, a clear fallback when hidden (as on HF)', async ({ page }) => {
    const hidden = R('ratelimited-GGUF');
    const list = await inPage(page, `return ls.listGgufFiles('hf.co/' + arg.repo, { endpoint: arg.hub })`, { repo: hidden, hub: HUB });
    expect(list.error).toMatchObject({ code: 'rate_limited', typed: true });
    expect(list.error!.message).toContain(`the file list of ${hidden}`);
    expect(list.error!.message).toMatch(/cannot see when the limit resets.*try again in a few minutes/);
    const f = await failures(page, hidden, `${HUB}/${hidden}/resolve/main/stories260K.gguf`);
    for (const r of [f.probe, f.engine!]) {
      expect(r.error).toMatchObject({ code: 'rate_limited', typed: true });
      expect(r.error!.message).toContain(`stories260K.gguf in ${hidden}`);
    }
    expect(f.probe.ms).toBeLessThan(5000);
    expect(f.cdnRequests).toBe(0);

    const exposed = R('ratelimited-exposed-GGUF');
    const g = await failures(page, exposed, `${HUB}/${exposed}/resolve/main/stories260K.gguf`);
    for (const r of [g.probe, g.engine!]) {
      expect(r.error).toMatchObject({ code: 'rate_limited' });
      expect(r.error!.message).toMatch(/try again in 1 min 35 s \(after \d/);
    }
    const l2 = await inPage(page, `return ls.listGgufFiles('hf.co/' + arg.repo, { endpoint: arg.hub })`, { repo: exposed, hub: HUB });
    expect(l2.error!.message).toContain('try again in 1 min 35 s');
  });

  test('a CDN that ignores Range: no_range_support at the headers, the whole-file body cancelled', async ({ page }) => {
    const repo = R('norange-GGUF');
    const url = `${HUB}/${repo}/resolve/main/synth-gemma2-Q4_K_M.gguf`;
    const before = await counters(repo);
    const f = await failures(page, repo, url);
    for (const r of [f.probe, f.engine!]) {
      expect(r.error).toMatchObject({ code: 'no_range_support', typed: true });
      expect(r.error!.message).toMatch(/Range/);
    }
    expect(f.probe.error!.message).toContain(`synth-gemma2-Q4_K_M.gguf in ${repo} (redirected to 127.0.0.1:5176) ignored the HTTP Range request`);
    expect(f.probe.ms).toBeLessThan(5000);
    expect(f.cdnRequests).toBe(2);
    // both whole-file answers were closed by the page before their end, and nothing more is sent
    // later (the CDN writes 64 KiB per 5 ms while a reader is there: 19.8 MB would take 1.5 s). The
    // server sees the second close when the browser's network process gets to it: polled, not a fixed
    // sleep (500 ms was not always enough with SwiftShader busy in the other test worker)
    await expect.poll(async () => (await counters(repo)).cdnCancelled - before.cdnCancelled, { timeout: 5000 }).toBe(2);
    await new Promise((res) => setTimeout(res, 200));
    const later = await counters(repo);
    console.log(`[hf] no-Range CDN wrote ${later.cdnBytes - before.cdnBytes} bytes of 2 × 19839232 before the cancels`);
    expect(later.cdnCancelled - before.cdnCancelled).toBe(2);
    expect(later.cdnBytes - before.cdnBytes).toBeLessThan(2 << 20);
  });
});
