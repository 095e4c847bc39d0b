/**
 * Instances of @mlc-ai/web-xgrammar (WebLLM's grammar engine: C++ compiled to WASM, the binary
 * inlined as base64 in its UMD bundle). Each instance is its own evaluation of that bundle, so it
 * has its own WASM memory: an input the C++ side rejects aborts the instance (emscripten's abort()
 * leaves its stack pointer unwound, and after some aborts the memory is corrupt), so the caller
 * drops that instance and evaluates a fresh one — the engine stays usable whatever it is sent.
 */
import type * as XGR from '@mlc-ai/web-xgrammar';

/** The library's exports: Grammar, GrammarCompiler, GrammarMatcher, TokenizerInfo, Testings, … */
export type XGrammarLib = typeof XGR;

export interface XGrammarInstance {
  readonly lib: XGrammarLib;
  /**
   * The last "[FATAL] file:line: message" the C++ side printed (xgrammar reports grammar and schema
   * errors this way before aborting), without the source location; null when none.
   */
  takeError(): string | null;
}

/**
 * Evaluates the library's bundle text (`@mlc-ai/web-xgrammar/lib/index.js`) as a fresh instance.
 * Its console is a proxy that records fatal messages (and drops the abort chatter).
 * @param source the bundle's text
 * @param nodeRequire in Node (tests), `createRequire(import.meta.url)`: the bundle's Node branch
 *   needs it; in a browser or worker leave it undefined.
 */
export function instantiateXGrammar(source: string, nodeRequire?: (id: string) => unknown): XGrammarInstance {
  let last: string | null = null;
  const record = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    const m = /\[FATAL\][^:]*:\d+:\s*([\s\S]*)/.exec(text);
    if (m) last = m[1].trim();
    else if (!/^Aborted\(/.test(text)) console.warn('[xgrammar]', text);
  };
  const fakeConsole = { log: (...a: unknown[]) => console.log('[xgrammar]', ...a), info: () => {}, debug: () => {}, warn: record, error: record };
  const exports: Record<string, unknown> = {};
  const module = { exports };
  // UMD: with `exports` and `module` defined it fills `exports` (the CommonJS branch)
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('exports', 'module', 'console', 'define', 'require', '__filename', source)(
    exports, module, fakeConsole, undefined, nodeRequire, nodeRequire ? '/xgrammar/index.js' : undefined,
  );
  const lib = (module.exports as { GrammarCompiler?: unknown }).GrammarCompiler ? (module.exports as unknown as XGrammarLib) : (exports as unknown as XGrammarLib);
  if (!lib.GrammarCompiler) throw new Error('@mlc-ai/web-xgrammar: the bundle exported no GrammarCompiler');
  return {
    lib,
    takeError() {
      const e = last;
      last = null;
      return e;
    },
  };
}

/** The bundle's text, loaded on first use (a separate 2.3 MB chunk: only constrained generation needs it). */
export async function xgrammarSource(): Promise<string> {
  // a string module made by vite.config.ts (xgrammarSource): `?raw` of a node_modules .js file is
  // served unchanged by Vite's dev server
  return (await import('virtual:xgrammar-source')).default;
}
