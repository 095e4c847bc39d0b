import type { GrammarSpec } from '../api.ts';
import type { GGUFTokenizer } from '../tokenizer/index.ts';
import { GrammarCompiler } from './compiler.ts';
import type { XGrammarConstraint } from './constraint.ts';
import { xgrammarSource } from './xgrammar.ts';

const compilers = new WeakMap<GGUFTokenizer, GrammarCompiler>();

/** The GrammarCompiler of a loaded model's tokenizer (one per model, made on first use). */
export function grammarCompiler(tokenizer: GGUFTokenizer): GrammarCompiler {
  let c = compilers.get(tokenizer);
  if (!c) compilers.set(tokenizer, (c = new GrammarCompiler(tokenizer, xgrammarSource)));
  return c;
}

/**
 * A TokenConstraint for `spec` over `tokenizer`'s vocabulary, at its start state, or undefined
 * without a spec. Throws LayerstreamError('invalid_request') for a spec that does not compile.
 */
export async function constraintFor(tokenizer: GGUFTokenizer, spec: GrammarSpec | undefined): Promise<XGrammarConstraint | undefined> {
  return spec === undefined ? undefined : grammarCompiler(tokenizer).constraint(spec);
}
