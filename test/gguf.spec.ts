import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readGGUF, Metadata } from '../src/gguf/gguf.ts';
import { MemorySource } from '../src/storage/byte-source.ts';

const shared = new URL('../../shared/', import.meta.url);
const load = (p: string) => new MemorySource(new Uint8Array(readFileSync(new URL(p, shared))), p);

test('reads stories260K header: metadata, tensors, shapes', async () => {
  const g = await readGGUF(load('models/stories260K.gguf'));
  const md = new Metadata(g.metadata);
  expect(g.version).toBe(3);
  expect(md.string('general.architecture')).toBe('llama');
  expect(md.number('llama.block_count')).toBe(5);
  expect(md.number('llama.embedding_length')).toBe(64);
  expect(md.strings('tokenizer.ggml.tokens')!.length).toBe(512);
  expect(g.tensors.length).toBe(48);
  const q = g.tensorByName.get('blk.0.attn_q.weight')!;
  expect(q.ne).toEqual([64, 64]);
  expect(q.type.name).toBe('F32');
  expect(q.nBytes).toBe(64 * 64 * 4);
  const last = [...g.tensors].sort((a, b) => b.offset - a.offset)[0];
  expect(last.offset + last.nBytes).toBeLessThanOrEqual(g.fileSize);
});

test('mixed quant types are named', async () => {
  const g = await readGGUF(load('models/stories260K-Q4_K_M.gguf'));
  const counts: Record<string, number> = {};
  for (const t of g.tensors) counts[t.type.name] = (counts[t.type.name] ?? 0) + 1;
  expect(counts).toEqual({ Q5_0: 29, F16: 5, Q8_0: 3, F32: 11 });
});

test('bad magic and truncation are typed errors', async () => {
  const bytes = new Uint8Array(readFileSync(new URL('models/stories260K.gguf', shared)));
  const bad = bytes.slice(0, 4096);
  bad[0] = 0x47 ^ 0xff;
  await expect(readGGUF(new MemorySource(bad, 'bad'))).rejects.toMatchObject({ code: 'not_gguf', message: /bad magic/ });
  await expect(readGGUF(new MemorySource(bytes.slice(0, 2000), 'short'))).rejects.toMatchObject({ code: 'truncated' });
  // header complete but tensor data cut off
  await expect(readGGUF(new MemorySource(bytes.slice(0, bytes.length - 1000), 'cut'))).rejects.toMatchObject({ code: 'truncated', message: /tensor .* data runs/ });
  await expect(readGGUF(new MemorySource(new TextEncoder().encode('<!doctype html><p>hi'), 'html'))).rejects.toMatchObject({ code: 'not_gguf' });
});
