/**
 * JSON Schema → GBNF (xgrammar's EBNF dialect, which reads llama.cpp's GBNF), in the spirit of
 * llama.cpp's common/json-schema-to-grammar.cpp: one rule per sub-schema, `space` after every
 * token, and the same primitive rules. We generate the grammar ourselves rather than use
 * @mlc-ai/web-xgrammar's compileJSONSchema because that one (0.1.27) lets raw control characters
 * into strings (invalid JSON), ignores integer minimum/maximum and bounds whitespace only per run;
 * test/grammar.spec.ts walks the result on real vocabularies and validates every output with Ajv.
 *
 * Supported: type (one or several), enum, const, properties / required / additionalProperties
 * (false, true or a schema), items / prefixItems, minItems / maxItems, minLength / maxLength,
 * integer minimum / maximum / exclusiveMinimum / exclusiveMaximum (llama.cpp's build_min_max_int
 * idea: digit-range alternatives), anyOf / oneOf (as anyOf, like llama.cpp), allOf of object
 * schemas (merged), $ref to "#/…" (recursive allowed), `format` (an annotation in JSON Schema
 * 2020-12: not enforced), and annotations (title, description, default, examples, …).
 * Keywords that restrict values in a way the grammar would not enforce (pattern, multipleOf,
 * number bounds, uniqueItems, not, if/then/else, …) are refused, so an output is never invalid for
 * its schema: a SchemaError, which the compiler turns into LayerstreamError('invalid_request').
 */

/** A schema the converter refuses; the message names the keyword and where (a JSON pointer). */
export class SchemaError extends Error {}

export interface SchemaGrammarOptions {
  /** no properties beyond `properties` when additionalProperties is absent (OpenAI's strict). Default true. */
  strict?: boolean;
  /** prefix of every rule name (to embed several schemas in one grammar). Default "". */
  prefix?: string;
  /** name of the value's rule. Default `${prefix}root`. */
  root?: string;
}

/** Most digits an unbounded integer may have (llama.cpp's integral-part: [1-9] [0-9]{0,15}). */
const MAX_DIGITS = 16;
/** Rules a schema may produce before it is refused (bounded compile time for hostile schemas). */
const MAX_RULES = 4000;

/**
 * Whitespace between tokens: none, one space, or one or two newlines and at most 20 spaces/tabs
 * (llama.cpp's SPACE_RULE): bounded, so a model cannot spin in whitespace forever.
 */
const SPACE = `"" | " " | "\\n" "\\n"? [ \\t]{0,20}`;

/** What may follow a string inside an object or array: whitespace, then , } ] or : (xgrammar lookahead). */
const AFTER_STRING = `(= [ \\t\\n]{0,23} [,}\\]:])`;
/** What follows an object key: whitespace, then the colon. */
const AFTER_KEY = `(= [ \\t\\n]{0,23} ":")`;
const FREE = `[^"\\\\\\u0000-\\u001F\\u007F]`;

const PRIMITIVES: Record<string, string> = {
  space: SPACE,
  boolean: `("true" | "false") space`,
  null: `"null" space`,
  // any Unicode scalar except ", \ and the controls JSON forbids raw (U+0000–U+001F; and DEL, as llama.cpp);
  // \u escapes exclude surrogates so each grammar char is one character of the parsed string
  escape: `["\\\\/bfnrt] | "u" ([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})`,
  char: `${FREE} | "\\\\" escape`,
  // the rest of a string up to its closing quote, right-recursive as xgrammar's own JSON grammar
  // writes it: with the lookahead, tokens that close the string are decided when the grammar is
  // compiled instead of on every step (a 30× faster mask inside strings on a 50k vocabulary)
  chars: `("\\"" | ${FREE} chars | "\\\\" escape chars) ${AFTER_STRING}`,
  'chars-top': `"\\"" | ${FREE} chars-top | "\\\\" escape chars-top`,
  string: `"\\"" chars space`,
  'string-top': `"\\"" chars-top space`,
  'integral-part': `[0] | [1-9] [0-9]{0,${MAX_DIGITS - 1}}`,
  'decimal-part': `[0-9]{1,${MAX_DIGITS}}`,
  integer: `"-"? integral-part space`,
  number: `"-"? integral-part ("." decimal-part)? ([eE] [-+]? integral-part)? space`,
  value: `object | array | string | number | boolean | null`,
  'value-top': `object | array | string-top | number | boolean | null`,
  object: `"{" space (string ":" space value ("," space string ":" space value)*)? "}" space`,
  array: `"[" space (value ("," space value)*)? "]" space`,
};
/** Rules each primitive needs. */
const DEPS: Record<string, string[]> = {
  char: ['escape'],
  chars: ['escape'],
  'chars-top': ['escape'],
  string: ['chars', 'space'],
  'string-top': ['chars-top', 'space'],
  boolean: ['space'],
  null: ['space'],
  integer: ['integral-part', 'space'],
  number: ['integral-part', 'decimal-part', 'space'],
  value: ['object', 'array', 'string', 'number', 'boolean', 'null'],
  'value-top': ['object', 'array', 'string-top', 'number', 'boolean', 'null'],
  object: ['string', 'value', 'space'],
  array: ['value', 'space'],
};

const ANNOTATIONS = new Set([
  '$schema', '$id', '$comment', '$anchor', '$vocabulary', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly',
  'format', 'contentMediaType', 'contentEncoding', 'nullable', 'strict', 'name',
]);
const HANDLED = new Set([
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'prefixItems', 'minItems', 'maxItems',
  'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'anyOf', 'oneOf', 'allOf', '$ref', '$defs', 'definitions',
]);

/** A GBNF string literal for `s` (quotes, backslashes and controls escaped). */
export function gbnfLiteral(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0').toUpperCase();
    else out += ch;
  }
  return out + '"';
}

/** A character-class member for `ch` (escaped where the class syntax needs it). */
function classChar(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (ch === ']' || ch === '[' || ch === '\\' || ch === '^' || ch === '-' || ch === '"') return '\\' + ch;
  if (c < 0x20 || c === 0x7f) return '\\u' + c.toString(16).padStart(4, '0').toUpperCase();
  return ch;
}

// ---- integer ranges (decimal digit strings, no leading zeros) ----

const nines = (n: number) => '9'.repeat(n);
const digitClass = (a: string, b: string) => (a === b ? `[${a}]` : `[${a}-${b}]`);
const anyDigits = (n: number) => (n === 0 ? '' : n === 1 ? '[0-9]' : `[0-9]{${n}}`);

/** Alternatives matching exactly the digit strings of length |lo| in [lo, hi] (|lo| = |hi|, lo ≤ hi). */
function sameLength(lo: string, hi: string): string[] {
  let i = 0;
  while (i < lo.length && lo[i] === hi[i]) i++;
  const prefix = lo.slice(0, i);
  const lit = prefix ? `"${prefix}" ` : '';
  if (i === lo.length) return [`"${prefix}"`];
  const r = lo.length - i - 1;
  const a = lo[i];
  const b = hi[i];
  if (r === 0) return [`${lit}${digitClass(a, b)}`];
  const loRest = lo.slice(i + 1);
  const hiRest = hi.slice(i + 1);
  const loFull = /^0*$/.test(loRest);
  const hiFull = /^9*$/.test(hiRest);
  const out: string[] = [];
  const midA = loFull ? a : String.fromCharCode(a.charCodeAt(0) + 1);
  const midB = hiFull ? b : String.fromCharCode(b.charCodeAt(0) - 1);
  if (!loFull) out.push(`${lit}"${a}" (${sameLength(loRest, nines(r)).join(' | ')})`);
  if (midA <= midB) out.push(`${lit}${digitClass(midA, midB)} ${anyDigits(r)}`);
  if (!hiFull) out.push(`${lit}"${b}" (${sameLength('0'.repeat(r), hiRest).join(' | ')})`);
  return out;
}

/** Alternatives matching the decimal forms of the integers in [lo, hi], 0 ≤ lo ≤ hi (bigints). */
function nonNegativeRange(lo: bigint, hi: bigint): string[] {
  const out: string[] = [];
  let from = lo.toString();
  const to = hi.toString();
  for (let len = from.length; len <= to.length; len++) {
    const top = len === to.length ? to : nines(len);
    out.push(...sameLength(from, top));
    from = '1' + '0'.repeat(len);
  }
  return out;
}

/**
 * A GBNF expression matching exactly the JSON integers in [lo, hi] (no "-0", no leading zeros;
 * unbounded sides limited to 16 digits as llama.cpp's integral-part). As llama.cpp's
 * build_min_max_int: digit-range alternatives, so the mask enforces the bounds token by token.
 */
export function integerRange(lo: bigint | null, hi: bigint | null): string {
  const limit = 10n ** BigInt(MAX_DIGITS) - 1n;
  const a = lo ?? -limit;
  const b = hi ?? limit;
  if (a > b) throw new SchemaError(`no integer lies in [${a}, ${b}]`);
  const alts: string[] = [];
  if (a < 0n) {
    const negHi = -a; // magnitudes of the negative part: [max(1, -b), -a]
    const negLo = b < 0n ? -b : 1n;
    alts.push(`"-" (${nonNegativeRange(negLo, negHi).join(' | ')})`);
  }
  if (b >= 0n) alts.push(...nonNegativeRange(a > 0n ? a : 0n, b));
  return alts.join(' | ');
}

// ---- the converter ----

type Schema = Record<string, unknown> | boolean;

class Builder {
  readonly rules = new Map<string, string>();
  private readonly refRules = new Map<string, string>();
  private readonly strict: boolean;
  private readonly p: string;

  constructor(private readonly top: Schema, opts: SchemaGrammarOptions) {
    this.strict = opts.strict ?? true;
    this.p = opts.prefix ?? '';
  }

  /** Adds a primitive rule (and what it needs), returns its name. Primitives are shared: no prefix. */
  prim(name: string): string {
    if (!this.rules.has(name)) {
      this.rules.set(name, PRIMITIVES[name]);
      for (const d of DEPS[name] ?? []) this.prim(d);
    }
    return name;
  }

  /** Adds `body` under a fresh name derived from `hint`, returns the name. */
  add(hint: string, body: string | ((name: string) => string)): string {
    const base = hint.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'r';
    let name = base;
    for (let i = 1; this.rules.has(name) || name in PRIMITIVES; i++) name = `${base}-${i}`;
    if (this.rules.size >= MAX_RULES) throw new SchemaError(`the schema needs more than ${MAX_RULES} grammar rules`);
    this.rules.set(name, typeof body === 'string' ? body : body(name));
    return name;
  }

  private resolve(ref: string, at: string): Schema {
    if (!ref.startsWith('#')) throw new SchemaError(`${at}: only local $refs ("#/…") are supported, got ${JSON.stringify(ref)}`);
    let node: unknown = this.top;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof node !== 'object' || node === null || !(key in node)) throw new SchemaError(`${at}: $ref ${JSON.stringify(ref)} does not resolve`);
      node = (node as Record<string, unknown>)[key];
    }
    if (typeof node !== 'boolean' && (typeof node !== 'object' || node === null)) throw new SchemaError(`${at}: $ref ${JSON.stringify(ref)} is not a schema`);
    return node as Schema;
  }

  /**
   * A rule name (or short expression) for the values `s` accepts; `hint` names new rules. top: the
   * value is not inside an object or array (its strings get no lookahead: nothing follows them).
   */
  visit(s: Schema, hint: string, at: string, top = false): string {
    if (s === true) return this.prim(top ? 'value-top' : 'value');
    if (s === false) throw new SchemaError(`${at}: the schema false accepts no value`);
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new SchemaError(`${at}: expected a schema object`);
    for (const k of Object.keys(s)) {
      if (!HANDLED.has(k) && !ANNOTATIONS.has(k) && !k.startsWith('x-')) throw new SchemaError(`${at}: the keyword ${JSON.stringify(k)} is not supported`);
    }
    if (typeof s.$ref === 'string') {
      if (Object.keys(s).some((k) => HANDLED.has(k) && k !== '$ref' && k !== '$defs' && k !== 'definitions')) throw new SchemaError(`${at}: $ref beside other keywords is not supported`);
      const ref = s.$ref;
      const key = `${top ? 'top' : 'in'}:${ref}`;
      let name = this.refRules.get(key);
      if (!name) {
        name = this.add(this.p + (ref.split('/').pop() || 'ref'), '');
        this.refRules.set(key, name);
        const target = this.resolve(ref, at);
        this.rules.set(name, this.visit(target, name, ref, top));
      }
      return name;
    }
    if ('const' in s) return this.add(hint, `${gbnfLiteral(JSON.stringify(s.const))} ${this.prim('space')}`);
    if ('enum' in s) {
      if (!Array.isArray(s.enum) || !s.enum.length) throw new SchemaError(`${at}/enum: expected a non-empty array`);
      return this.add(hint, `(${s.enum.map((v) => gbnfLiteral(JSON.stringify(v))).join(' | ')}) ${this.prim('space')}`);
    }
    for (const k of ['anyOf', 'oneOf'] as const) {
      if (k in s) {
        const list = s[k];
        if (!Array.isArray(list) || !list.length) throw new SchemaError(`${at}/${k}: expected a non-empty array`);
        const rest = { ...s };
        delete rest[k];
        const alts = (list as Schema[]).map((sub, i) => this.visit(mergeSchemas(rest, sub, `${at}/${k}/${i}`), `${hint}-${i}`, `${at}/${k}/${i}`, top));
        return this.add(hint, alts.join(' | '));
      }
    }
    if ('allOf' in s) {
      const list = s.allOf;
      if (!Array.isArray(list) || !list.length) throw new SchemaError(`${at}/allOf: expected a non-empty array`);
      let merged: Record<string, unknown> = { ...s };
      delete merged.allOf;
      list.forEach((sub, i) => {
        let x = sub as Schema;
        if (typeof x === 'object' && x !== null && typeof x.$ref === 'string') x = this.resolve(x.$ref, `${at}/allOf/${i}`);
        merged = mergeSchemas(merged, x, `${at}/allOf/${i}`) as Record<string, unknown>;
      });
      return this.visit(merged, hint, at, top);
    }
    let types: string[];
    if (s.type === undefined) {
      if ('properties' in s || 'additionalProperties' in s) types = ['object'];
      else if ('items' in s || 'prefixItems' in s) types = ['array'];
      else if ('minLength' in s || 'maxLength' in s) types = ['string'];
      else if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].some((k) => k in s)) types = ['number'];
      else return this.prim(top ? 'value-top' : 'value');
    } else types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.length) throw new SchemaError(`${at}/type: expected a type or a non-empty list of types`);
    const alts = types.map((t) => this.typed(t, s, types.length > 1 ? `${hint}-${t}` : hint, at, top));
    return alts.length === 1 ? alts[0] : this.add(hint, alts.join(' | '));
  }

  private typed(t: string, s: Record<string, unknown>, hint: string, at: string, top: boolean): string {
    switch (t) {
      case 'null':
        return this.prim('null');
      case 'boolean':
        return this.prim('boolean');
      case 'string': {
        const min = count(s.minLength, `${at}/minLength`) ?? 0;
        const max = count(s.maxLength, `${at}/maxLength`);
        if (max !== undefined && max < min) throw new SchemaError(`${at}: maxLength ${max} < minLength ${min}`);
        if (!min && max === undefined) return this.prim(top ? 'string-top' : 'string');
        this.prim('char');
        const body = this.add(`${hint}-chars`, `char{${min},${max ?? ''}} "\\""${top ? '' : ` ${AFTER_STRING}`}`);
        return this.add(hint, `"\\"" ${body} ${this.prim('space')}`);
      }
      case 'integer': {
        const bounds = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].filter((k) => k in s);
        if (!bounds.length) return this.prim('integer');
        let lo: bigint | null = null;
        let hi: bigint | null = null;
        const num = (k: string) => {
          const v = s[k];
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(`${at}/${k}: expected a number`);
          return v;
        };
        const up = (v: bigint) => (lo === null || v > lo ? (lo = v) : lo);
        const down = (v: bigint) => (hi === null || v < hi ? (hi = v) : hi);
        if ('minimum' in s) up(BigInt(Math.ceil(num('minimum'))));
        if ('exclusiveMinimum' in s) up(BigInt(Math.floor(num('exclusiveMinimum'))) + 1n);
        if ('maximum' in s) down(BigInt(Math.floor(num('maximum'))));
        if ('exclusiveMaximum' in s) down(BigInt(Math.ceil(num('exclusiveMaximum'))) - 1n);
        try {
          return this.add(hint, `(${integerRange(lo, hi)}) ${this.prim('space')}`);
        } catch (e) {
          throw new SchemaError(`${at}: ${(e as Error).message}`);
        }
      }
      case 'number':
        for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
          if (k in s) throw new SchemaError(`${at}/${k}: bounds on type "number" are not supported (use "integer")`);
        }
        return this.prim('number');
      case 'array':
        return this.array(s, hint, at);
      case 'object':
        return this.object(s, hint, at);
      default:
        throw new SchemaError(`${at}/type: unknown type ${JSON.stringify(t)}`);
    }
  }

  private array(s: Record<string, unknown>, hint: string, at: string): string {
    const min = count(s.minItems, `${at}/minItems`) ?? 0;
    const max = count(s.maxItems, `${at}/maxItems`);
    if (max !== undefined && max < min) throw new SchemaError(`${at}: maxItems ${max} < minItems ${min}`);
    const space = this.prim('space');
    const prefix = (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : []) as Schema[];
    const rest: Schema = Array.isArray(s.items) ? (s.additionalItems as Schema | undefined) ?? !this.strict : (s.items as Schema | undefined) ?? (prefix.length && this.strict ? false : true);
    if (prefix.length) {
      // tuple: the prefix items in order (as many as minItems asks, up to maxItems), then the rest
      const items = prefix.map((sub, i) => this.visit(sub, `${hint}-${i}`, `${at}/prefixItems/${i}`));
      const restRule = rest === false ? null : this.visit(rest, `${hint}-item`, `${at}/items`);
      const cap = max ?? Infinity;
      // nested optional tail: item_k ("," item_k+1 …)?
      const build = (k: number): string => {
        if (k >= items.length || k >= cap) {
          if (!restRule || k >= cap) return '';
          const n = max === undefined ? '' : String(max - k - 1);
          const more = max === undefined || max - k - 1 > 0 ? ` ("," ${space} ${restRule}){0,${n}}` : '';
          return `${restRule}${more}`;
        }
        const tail = build(k + 1);
        const next = tail ? ` ("," ${space} ${tail})${k + 1 < min ? '' : '?'}` : '';
        return `${items[k]}${next}`;
      };
      if (min > items.length && !restRule) throw new SchemaError(`${at}: minItems ${min} needs more items than the tuple allows`);
      const body = build(0);
      return this.add(hint, `"[" ${space} ${min > 0 ? body : `(${body})?`} "]" ${space}`);
    }
    if (rest === false) {
      if (min > 0) throw new SchemaError(`${at}: items false with minItems ${min}`);
      return this.add(hint, `"[" ${space} "]" ${space}`);
    }
    const item = this.visit(rest, `${hint}-item`, `${at}/items`);
    if (max === 0) return this.add(hint, `"[" ${space} "]" ${space}`);
    const more = `("," ${space} ${item}){${Math.max(0, min - 1)},${max === undefined ? '' : max - 1}}`;
    const list = `${item} ${more}`;
    return this.add(hint, `"[" ${space} ${min > 0 ? list : `(${list})?`} "]" ${space}`);
  }

  private object(s: Record<string, unknown>, hint: string, at: string): string {
    const space = this.prim('space');
    const props = (s.properties ?? {}) as Record<string, Schema>;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new SchemaError(`${at}/properties: expected an object`);
    const required = new Set((s.required ?? []) as string[]);
    if (!Array.isArray(s.required ?? [])) throw new SchemaError(`${at}/required: expected an array of names`);
    for (const r of required) if (!(r in props)) throw new SchemaError(`${at}/required: ${JSON.stringify(r)} has no schema in properties`);
    const names = Object.keys(props);
    const extra: Schema = s.additionalProperties === undefined ? !(this.strict || names.length) : (s.additionalProperties as Schema);
    const kv = (name: string) => {
      const v = this.visit(props[name], `${hint}-${name}`, `${at}/properties/${name}`);
      return this.add(`${hint}-${name}-kv`, `${gbnfLiteral(JSON.stringify(name))} ${space} ":" ${space} ${v}`);
    };
    const req = names.filter((n) => required.has(n)).map((n) => kv(n));
    const opt = names.filter((n) => !required.has(n)).map((n) => kv(n));
    let extraKv: string | null = null;
    if (extra !== false) {
      const value = this.visit(extra, `${hint}-additional`, `${at}/additionalProperties`);
      const key = this.notKeys(names, `${hint}-additional-key`);
      extraKv = this.add(`${hint}-additional-kv`, `${key} ${space} ":" ${space} ${value}`);
    }
    // optional ones in order, any subset: R_i ::= kv_i ("," R_i+1)? | R_i+1, with the extra kvs after
    const items = extraKv ? [...opt, `${extraKv} ("," ${space} ${extraKv})*`] : opt;
    let tail = '';
    for (let i = items.length - 1; i >= 0; i--) {
      const body = tail ? `${items[i]} ("," ${space} ${tail})? | ${tail}` : items[i];
      tail = this.add(`${hint}-rest-${i}`, body);
    }
    let body: string;
    if (req.length) body = req.join(` "," ${space} `) + (tail ? ` ("," ${space} ${tail})?` : '');
    else body = tail ? `${tail}?` : '';
    return this.add(hint, `"{" ${space} ${body ? `${body} ` : ''}"}" ${space}`);
  }

  /**
   * A JSON string other than the given keys (llama.cpp's _not_strings: a trie of the keys, each
   * node allowing any character not continuing a key). Escapes are not allowed in these keys, so
   * no escaped spelling of a listed key slips through.
   */
  private notKeys(keys: string[], hint: string): string {
    const free = `[^"\\\\\\u0000-\\u001F\\u007F]`;
    if (!keys.length) return this.add(hint, `"\\"" ${this.add(`${hint}-body`, (me) => `("\\"" | ${free} ${me}) ${AFTER_KEY}`)}`);
    interface Node {
      end: boolean;
      kids: Map<string, Node>;
    }
    const root: Node = { end: false, kids: new Map() };
    for (const k of keys) {
      let n = root;
      for (const ch of k) {
        if (!n.kids.has(ch)) n.kids.set(ch, { end: false, kids: new Map() });
        n = n.kids.get(ch)!;
      }
      n.end = true;
    }
    const rest = this.add(`${hint}-rest`, (me) => `("\\"" | ${free} ${me}) ${AFTER_KEY}`);
    const visit = (n: Node): string => {
      const alts: string[] = [];
      if (!n.end) alts.push(`"\\""`);
      const ex = [...n.kids.keys()].map(classChar).join('');
      alts.push(`[^"\\\\\\u0000-\\u001F\\u007F${ex}] ${rest}`);
      for (const [ch, kid] of n.kids) alts.push(`${gbnfLiteral(ch)} (${visit(kid)})`);
      return alts.join(' | ');
    };
    return this.add(hint, `"\\"" ${this.add(`${hint}-body`, `(${visit(root)}) ${AFTER_KEY}`)}`);
  }
}

/** A non-negative integer keyword, or undefined. */
function count(v: unknown, at: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SchemaError(`${at}: expected a non-negative integer`);
  if (v > 100_000) throw new SchemaError(`${at}: ${v} is more than the 100000 supported`);
  return v;
}

/** `a` and `b` as one schema (both must hold), for allOf and the siblings of anyOf (object properties merged, required joined). */
function mergeSchemas(a: Schema, b: Schema, at: string): Schema {
  if (a === true || (typeof a === 'object' && !Object.keys(a).some((k) => HANDLED.has(k)))) return b;
  if (b === true) return a;
  if (a === false || b === false) return false;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (!(k in out) || ANNOTATIONS.has(k)) out[k] = v;
    else if (k === 'properties') out[k] = { ...(out[k] as object), ...(v as object) };
    else if (k === 'required') out[k] = [...new Set([...(out[k] as string[]), ...(v as string[])])];
    else if (JSON.stringify(out[k]) !== JSON.stringify(v)) throw new SchemaError(`${at}: cannot combine two different ${JSON.stringify(k)}`);
  }
  return out;
}

/**
 * The GBNF rules (name → body) for values valid under `schema`; the value's rule is `opts.root`
 * (default `${prefix}root`). Rules of several calls with different prefixes can share a grammar:
 * primitive rules (space, string, …) are the same text in all.
 * @throws SchemaError naming the unsupported or malformed keyword
 */
export function schemaRules(schema: Schema, opts: SchemaGrammarOptions = {}): Map<string, string> {
  const b = new Builder(schema, opts);
  const root = opts.root ?? `${opts.prefix ?? ''}root`;
  const top = b.visit(schema, `${opts.prefix ?? ''}value`, '#', true);
  b.rules.set(root, top);
  return b.rules;
}

/** Rules as grammar text, `root` first. */
export function rulesToGbnf(rules: Map<string, string>, root = 'root'): string {
  const lines = [`${root} ::= ${rules.get(root)}`];
  for (const [name, body] of rules) if (name !== root) lines.push(`${name} ::= ${body}`);
  return lines.join('\n') + '\n';
}

/**
 * A complete GBNF grammar (root rule `root`) for JSON text valid under `schema` — JSON Schema's
 * vocabulary as listed at the top of this file; `strict`: no undeclared properties (default true).
 * json_object is `schemaToGbnf({ type: 'object' }, { strict: false })`.
 * @throws SchemaError for a schema it cannot enforce or that is malformed
 */
export function schemaToGbnf(schema: Schema, opts: { strict?: boolean } = {}): string {
  return rulesToGbnf(schemaRules(schema, { strict: opts.strict }));
}
