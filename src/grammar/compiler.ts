import type { CompiledGrammar, GrammarCompiler as XCompiler, TokenizerInfo } from '@mlc-ai/web-xgrammar';
import type { GrammarSpec } from '../api.ts';
import { LayerstreamError } from '../errors.ts';
import type { GGUFTokenizer } from '../tokenizer/index.ts';
import { XGrammarConstraint } from './constraint.ts';
import { Utf8Guard } from './utf8.ts';
import { grammarVocab } from './vocab.ts';
import { SchemaError, schemaToGbnf } from './json-schema.ts';
import { instantiateXGrammar, type XGrammarInstance } from './xgrammar.ts';

/** Largest grammar / schema text accepted (xgrammar's compile time grows with it). */
export const MAX_GRAMMAR_CHARS = 256 * 1024;
/** Compiled grammars kept per model (least recently used dropped). */
const CACHE_SIZE = 32;

interface Live {
  x: XGrammarInstance;
  info: TokenizerInfo;
  compiler: XCompiler;
  cache: Map<string, CompiledGrammar>;
}

/**
 * Checks a GrammarSpec's shape (it arrives as plain data from any caller) and returns its cache
 * key. Throws LayerstreamError('invalid_request') naming the problem.
 */
export function checkGrammarSpec(spec: unknown): string {
  const bad = (m: string): never => {
    throw new LayerstreamError('invalid_request', `Invalid grammar: ${m}`);
  };
  if (typeof spec !== 'object' || spec === null) bad('expected an object with a type');
  const s = spec as Record<string, unknown>;
  let key = '';
  switch (s.type) {
    case 'json_object':
      key = 'json_object';
      break;
    case 'json_schema':
      if (typeof s.schema !== 'boolean' && (typeof s.schema !== 'object' || s.schema === null || Array.isArray(s.schema))) bad('json_schema.schema must be a JSON Schema object (or a boolean)');
      if (s.strict !== undefined && typeof s.strict !== 'boolean') bad('json_schema.strict must be a boolean');
      key = `json_schema:${s.strict === false ? 0 : 1}:${JSON.stringify(s.schema)}`;
      break;
    case 'grammar':
      if (typeof s.grammar !== 'string' || !s.grammar.trim()) bad('grammar must be a non-empty GBNF string');
      if (s.root !== undefined && (typeof s.root !== 'string' || !/^[A-Za-z_][\w-]*$/.test(s.root))) bad('root must be a rule name');
      key = `grammar:${(s.root as string | undefined) ?? 'root'}:${s.grammar}`;
      break;
    default:
      bad(`unknown type ${JSON.stringify(s.type)} (expected json_object, json_schema or grammar)`);
  }
  if (key.length > MAX_GRAMMAR_CHARS) bad(`${key.length} characters, more than the ${MAX_GRAMMAR_CHARS} accepted`);
  return key;
}

/**
 * Compiles GrammarSpecs for one model's vocabulary into TokenConstraints (xgrammar's
 * TokenizerInfo + GrammarCompiler, built on first use; compiled grammars cached by spec). A spec
 * xgrammar rejects throws LayerstreamError('invalid_request') with xgrammar's message; the library
 * instance it aborted is dropped and a fresh one is made for the next request.
 */
export class GrammarCompiler {
  private live: Live | null = null;
  private guard: Utf8Guard | null = null;
  private pending: Promise<Live> | null = null;
  /** ms the last constraint() took (compile, or a cache hit), for stats and the README */
  lastCompileMs = 0;

  /**
   * @param tokenizer the model's tokenizer (its nVocab is the logit row length)
   * @param source the text of @mlc-ai/web-xgrammar's bundle (xgrammarSource(), or a file read in Node)
   * @param nodeRequire in Node only, see instantiateXGrammar
   */
  constructor(
    private readonly tokenizer: GGUFTokenizer,
    private readonly source: () => Promise<string>,
    private readonly nodeRequire?: (id: string) => unknown,
  ) {}

  private async start(): Promise<Live> {
    const x = instantiateXGrammar(await this.source(), this.nodeRequire);
    const { encoded, stopIds } = grammarVocab(this.tokenizer);
    const info = await x.lib.TokenizerInfo.createTokenizerInfo(encoded, 'byte_level', false, this.tokenizer.nVocab, stopIds);
    const compiler = await x.lib.GrammarCompiler.createGrammarCompiler(info, false);
    return { x, info, compiler, cache: new Map() };
  }

  private async instance(): Promise<Live> {
    if (this.live) return this.live;
    this.pending ??= this.start().finally(() => (this.pending = null));
    this.live = await this.pending;
    return this.live;
  }

  /** Builds the library's vocabulary tables now (otherwise on the first constraint()). */
  async warm(): Promise<void> {
    await this.instance();
  }

  /**
   * A fresh matcher for `spec`, at its start state.
   * @throws LayerstreamError('invalid_request') for a malformed spec, a grammar or schema xgrammar
   *   cannot compile (its message), or one over MAX_GRAMMAR_CHARS
   */
  async constraint(spec: GrammarSpec): Promise<XGrammarConstraint> {
    const t0 = performance.now();
    const key = checkGrammarSpec(spec);
    const live = await this.instance();
    let compiled = live.cache.get(key);
    try {
      if (!compiled) {
        compiled = await this.compile(live, spec);
        live.cache.set(key, compiled);
        if (live.cache.size > CACHE_SIZE) {
          const [oldest, g] = live.cache.entries().next().value!;
          live.cache.delete(oldest);
          g.dispose();
        }
      } else {
        live.cache.delete(key); // most recently used last
        live.cache.set(key, compiled);
      }
      const matcher = await live.x.lib.GrammarMatcher.createGrammarMatcher(compiled);
      this.guard ??= new Utf8Guard((id) => this.tokenizer.tokenBytes(id), this.tokenizer.nVocab);
      return new XGrammarConstraint(matcher, this.tokenizer.nVocab, this.guard);
    } catch (e) {
      if (e instanceof SchemaError) throw new LayerstreamError('invalid_request', `Invalid JSON schema: ${e.message}`);
      const detail = live.x.takeError();
      // a WebAssembly abort leaves the instance unusable: start over next time
      if (e instanceof WebAssembly.RuntimeError || detail) this.live = null;
      if (e instanceof LayerstreamError) throw e;
      throw new LayerstreamError('invalid_request', `Invalid grammar: ${detail ?? (e instanceof Error ? e.message : String(e))}`);
    } finally {
      this.lastCompileMs = performance.now() - t0;
    }
  }

  private compile(live: Live, spec: GrammarSpec): Promise<CompiledGrammar> {
    const c = live.compiler;
    // JSON: our own schema → GBNF (json-schema.ts; xgrammar 0.1.27's compileJSONSchema lets raw
    // control characters into strings and ignores integer bounds), compiled as any grammar
    switch (spec.type) {
      case 'json_object':
        return c.compileGrammar(schemaToGbnf({ type: 'object' }, { strict: false }), 'root');
      case 'json_schema':
        return c.compileGrammar(schemaToGbnf(spec.schema, { strict: spec.strict ?? true }), 'root');
      case 'grammar':
        return c.compileGrammar(spec.grammar, spec.root ?? 'root');
    }
  }
}
