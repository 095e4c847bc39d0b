import { test, expect } from '@playwright/test';
import { CATALOG, catalogModels, findEntry, partFiles, resolveUrl, type CatalogEntry } from '../src/catalog/catalog.ts';
import { architectureFor, supportedArchitectures } from '../src/models/registry.ts';

// src/catalog/catalog.ts (issue: "pick a real model"): the curated list of real Hugging Face GGUF
// files, checked as data (Node only, no browser): every field has the shape the app and the
// memory-fit advisor rely on, and the helpers group, find and address entries as documented.

/** llama.cpp file-type labels as they appear in GGUF file names (the ones this catalog may use). */
const FILE_TYPES = new Set([
  'F32', 'F16', 'BF16', 'Q8_0', 'Q6_K', 'Q5_K_M', 'Q5_K_S', 'Q5_0', 'Q5_1', 'Q4_K_M', 'Q4_K_S', 'Q4_0', 'Q4_1',
  'Q3_K_L', 'Q3_K_M', 'Q3_K_S', 'Q2_K', 'IQ4_XS', 'IQ4_NL', 'IQ3_S', 'IQ3_XXS', 'IQ2_S', 'IQ2_XS', 'IQ2_XXS',
  'IQ1_M', 'IQ1_S', 'TQ2_0', 'TQ1_0', 'MXFP4',
]);

test('every entry names a supported architecture, a real-looking repo and a GGUF file carrying its quant label', () => {
  expect(CATALOG.length).toBeGreaterThanOrEqual(20);
  const bad: string[] = [];
  for (const e of CATALOG) {
    try { architectureFor(e.architecture); } catch { bad.push(`${e.id}: architecture ${e.architecture}`); }
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(e.repo)) bad.push(`${e.id}: repo ${e.repo}`);
    if (!e.file.endsWith('.gguf') || e.file.startsWith('/')) bad.push(`${e.id}: file ${e.file}`);
    if (!e.file.toLowerCase().includes(e.quant.toLowerCase())) bad.push(`${e.id}: ${e.file} lacks ${e.quant}`);
    if (!FILE_TYPES.has(e.quant)) bad.push(`${e.id}: quant ${e.quant}`);
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(e.id)) bad.push(`${e.id}: id not lower-case`);
  }
  expect(bad).toEqual([]);
});

test('ids are unique and findEntry finds each one (and nothing else)', () => {
  const ids = CATALOG.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const e of CATALOG) expect(findEntry(e.id)).toBe(e);
  expect(findEntry('no-such-model')).toBeUndefined();
  expect(findEntry(CATALOG[0].id.toUpperCase())).toBeUndefined();
  // the same repo/file is listed once
  const files = CATALOG.map((e) => `${e.repo}/${e.file}`);
  expect(new Set(files).size).toBe(files.length);
});

test('split entries name the first of N parts, single files name no part', () => {
  for (const e of CATALOG) {
    const m = /-(\d{5})-of-(\d{5})\.gguf$/.exec(e.file);
    if (e.parts === undefined) {
      expect(m, e.id).toBeNull();
    } else {
      expect(Number.isInteger(e.parts) && e.parts >= 2, e.id).toBe(true);
      expect(m, e.id).not.toBeNull();
      expect(m![1], e.id).toBe('00001');
      expect(Number(m![2]), e.id).toBe(e.parts);
      expect(e.file.endsWith(`-00001-of-${String(e.parts).padStart(5, '0')}.gguf`), e.id).toBe(true);
    }
  }
  expect(CATALOG.some((e) => e.parts !== undefined)).toBe(true);
});

test('sizes and parameter counts are sane: positive integers, MoE active < total, bits per weight of a quantized file', () => {
  const bad: string[] = [];
  for (const e of CATALOG) {
    if (!Number.isSafeInteger(e.bytes) || e.bytes <= 0) bad.push(`${e.id}: bytes ${e.bytes}`);
    if (typeof e.bytesExact !== 'boolean') bad.push(`${e.id}: bytesExact`);
    // a rounded card figure is a whole number of megabytes (2.50 GB → 2_500_000_000)
    if (!e.bytesExact && e.bytes % 1_000_000 !== 0) bad.push(`${e.id}: rounded size ${e.bytes} not a card figure`);
    if (!(e.params > 0) || !Number.isFinite(e.params)) bad.push(`${e.id}: params ${e.params}`);
    if (e.activeParams !== undefined && !(e.activeParams > 0 && e.activeParams < e.params)) bad.push(`${e.id}: activeParams ${e.activeParams}`);
    // every file here is 4 to 8.5 bits a weight; embeddings kept at higher precision push small models up a little
    const bpw = (e.bytes * 8) / e.params;
    if (bpw < 3.5 || bpw > 10) bad.push(`${e.id}: ${bpw.toFixed(2)} bits per parameter`);
  }
  expect(bad).toEqual([]);
  // MoE architectures carry their active count, dense ones do not
  for (const e of CATALOG) {
    const moe = ['qwen3moe', 'qwen35moe', 'gpt-oss', 'deepseek2'].includes(e.architecture);
    expect(e.activeParams !== undefined, e.id).toBe(moe);
  }
  // within one model, a lower-bit quant is a smaller file
  const rank = (q: string) => Number(/(\d)/.exec(q)![1]);
  for (const { model, entries } of catalogModels()) {
    for (let i = 1; i < entries.length; i++) expect(rank(entries[i - 1].quant), model).toBeLessThanOrEqual(rank(entries[i].quant));
  }
});

test('licence, description and source are filled in; sources are https URLs', () => {
  for (const e of CATALOG) {
    expect(e.license.trim(), e.id).not.toBe('');
    expect(e.license, e.id).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
    expect(e.description.trim().length, e.id).toBeGreaterThan(10);
    expect(e.description.length, e.id).toBeLessThanOrEqual(100);
    expect(e.model.trim(), e.id).not.toBe('');
    const u = new URL(e.source);
    expect(u.protocol, e.id).toBe('https:');
    expect(u.hostname.includes('.'), e.id).toBe(true);
  }
});

test('the catalog has a file for every architecture the engine supports', () => {
  const archs = new Set(CATALOG.map((e) => e.architecture));
  // from the registry, so a newly supported architecture without a catalog entry fails here
  expect(supportedArchitectures().length).toBeGreaterThanOrEqual(15);
  for (const a of supportedArchitectures()) {
    expect(archs.has(a), a).toBe(true);
  }
  // gpt-oss ships as MXFP4; the big MoE ones are here
  expect(findEntry('gpt-oss-20b-mxfp4')?.quant).toBe('MXFP4');
  expect(findEntry('qwen3-30b-a3b-q4_k_m')?.architecture).toBe('qwen3moe');
});

test('resolveUrl builds the Hugging Face resolve URL and encodes path segments', () => {
  const e = findEntry('qwen3-4b-q4_k_m')!;
  expect(resolveUrl(e)).toBe('https://huggingface.co/Qwen/Qwen3-4B-GGUF/resolve/main/Qwen3-4B-Q4_K_M.gguf');
  expect(resolveUrl(e, 'http://127.0.0.1:5175')).toBe('http://127.0.0.1:5175/Qwen/Qwen3-4B-GGUF/resolve/main/Qwen3-4B-Q4_K_M.gguf');
  expect(resolveUrl(e, 'https://hf-mirror.example/')).toBe('https://hf-mirror.example/Qwen/Qwen3-4B-GGUF/resolve/main/Qwen3-4B-Q4_K_M.gguf');
  const odd = { repo: 'some one/my repo', file: 'Q4 K#M/part 1?.gguf' };
  expect(resolveUrl(odd)).toBe('https://huggingface.co/some%20one/my%20repo/resolve/main/Q4%20K%23M/part%201%3F.gguf');
  expect(new URL(resolveUrl(odd)).pathname.split('/')).toHaveLength(7);
  for (const c of CATALOG) {
    const u = new URL(resolveUrl(c));
    expect(u.origin).toBe('https://huggingface.co');
    expect(decodeURIComponent(u.pathname)).toBe(`/${c.repo}/resolve/main/${c.file}`);
  }
});

test('partFiles lists every part of a split file, or the one file', () => {
  expect(partFiles(findEntry('qwen3-8b-q4_k_m')!)).toEqual(['Qwen3-8B-Q4_K_M.gguf']);
  expect(partFiles(findEntry('qwen2.5-7b-instruct-q4_k_m')!)).toEqual([
    'qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf',
    'qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf',
  ]);
  expect(partFiles({ file: 'dir/m-Q8_0-00001-of-00003.gguf', parts: 3 })).toEqual([
    'dir/m-Q8_0-00001-of-00003.gguf', 'dir/m-Q8_0-00002-of-00003.gguf', 'dir/m-Q8_0-00003-of-00003.gguf',
  ]);
  expect(() => partFiles({ file: 'm-00001-of-00003.gguf', parts: 2 })).toThrow();
  expect(() => partFiles({ file: 'm-00002-of-00002.gguf', parts: 2 })).toThrow();
  expect(() => partFiles({ file: 'm.gguf', parts: 2 })).toThrow();
  for (const e of CATALOG) expect(partFiles(e)).toHaveLength(e.parts ?? 1);
});

test('catalogModels groups by model in catalog order, each group smallest file first', () => {
  const groups = catalogModels();
  const firstSeen = [...new Set(CATALOG.map((e) => e.model))];
  expect(groups.map((g) => g.model)).toEqual(firstSeen);
  expect(groups.flatMap((g) => g.entries).length).toBe(CATALOG.length);
  for (const g of groups) {
    expect(g.entries.every((e) => e.model === g.model)).toBe(true);
    for (let i = 1; i < g.entries.length; i++) expect(g.entries[i - 1].bytes).toBeLessThanOrEqual(g.entries[i].bytes);
  }
  // on a made-up list: order of first appearance, sort by bytes, stable on ties, input untouched
  const mk = (id: string, model: string, bytes: number): CatalogEntry => ({
    id, model, bytes, architecture: 'llama', repo: 'a/b', file: `${id}.gguf`, quant: 'Q8_0', bytesExact: true, params: 1e9,
    license: 'mit', description: 'x', source: 'https://example.org',
  });
  const list = [mk('b-big', 'B', 30), mk('a-only', 'A', 5), mk('b-small', 'B', 10), mk('b-tie', 'B', 30)];
  const copy = list.map((e) => e.id);
  expect(catalogModels(list).map((g) => [g.model, g.entries.map((e) => e.id)])).toEqual([
    ['B', ['b-small', 'b-big', 'b-tie']],
    ['A', ['a-only']],
  ]);
  expect(list.map((e) => e.id)).toEqual(copy);
  expect(catalogModels([])).toEqual([]);
});
