// Node-side helpers for the grammar tests: a GGUF tokenizer read from ../shared, and a
// GrammarCompiler over @mlc-ai/web-xgrammar's bundle read from node_modules (the same text the
// worker imports with ?raw).
import { openAsBlob, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readGGUF, Metadata } from '../../src/gguf/gguf.ts';
import { GrammarCompiler } from '../../src/grammar/compiler.ts';
import { createTokenizer, type GGUFTokenizer } from '../../src/tokenizer/index.ts';
import { openByteSource } from '../../src/storage/byte-source.ts';

const require = createRequire(import.meta.url);
export const XGRAMMAR_SOURCE = readFileSync(require.resolve('@mlc-ai/web-xgrammar/lib/index.js'), 'utf8');
export const SHARED_DIR = new URL('../../../shared/', import.meta.url);

/** The tokenizer of a GGUF file under ../shared (header only). */
export async function sharedTokenizer(rel: string): Promise<GGUFTokenizer> {
  const src = await openByteSource(await openAsBlob(new URL(rel, SHARED_DIR)));
  const gguf = await readGGUF(src);
  return createTokenizer(new Metadata(gguf.metadata));
}

export function nodeCompiler(tok: GGUFTokenizer): GrammarCompiler {
  return new GrammarCompiler(tok, async () => XGRAMMAR_SOURCE, require);
}
