import { test } from '@playwright/test';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { GrammarCompiler } from '../../src/grammar/compiler.ts';
import type { GrammarSpec } from '../../src/api.ts';
import type { GGUFTokenizer } from '../../src/tokenizer/index.ts';
import { nodeCompiler, sharedTokenizer, XGRAMMAR_SOURCE } from '../../test/support/grammar-node.ts';
import { createRequire } from 'node:module';

// Cost of constrained generation per token on the CPU side: xgrammar's allowed-token mask for the
// matcher's state + our UTF-8 filter (XGrammarConstraint.prepare()), on the shared models' real
// vocabularies, walking JSON with random allowed tokens (a model that samples uniformly among what
// the grammar allows: the worst case for the mask cache, as it visits odd states). The mask then goes
// to the GPU as one writeBuffer of ceil(n_vocab / 32) u32 (6.3 KB at 50k, 19 KB at 152k).
// 150k+: no shared model has one, so a synthetic 151,936-token vocabulary (Qwen 2.5/3's size) is made
// from the 50k byte-level BPE one: each token three times, as itself and with "_" / "-" appended.

const require = createRequire(import.meta.url);
const OUT = new URL('../', import.meta.url);

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 24 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    email: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 4 },
    address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string', maxLength: 10 } }, required: ['city'] },
  },
  required: ['name', 'age', 'email', 'tags', 'address'],
  additionalProperties: false,
};

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A 3× vocabulary from `tok` (see the note at the top). */
function tripled(tok: GGUFTokenizer): GGUFTokenizer {
  const n = tok.nVocab;
  const extra = [new Uint8Array(0), new Uint8Array([0x5f]), new Uint8Array([0x2d])];
  const bytes = (id: number) => {
    const base = tok.tokenBytes(id % n);
    const k = Math.floor(id / n);
    if (k === 0 || base.length === 0) return base;
    const out = new Uint8Array(base.length + 1);
    out.set(base);
    out.set(extra[k], base.length);
    return out;
  };
  return Object.assign(Object.create(Object.getPrototypeOf(tok)), tok, {
    nVocab: 151_936,
    tokenBytes: (id: number) => (id < 3 * n ? bytes(id) : new Uint8Array(0)),
    tokenText: (id: number) => (id < n ? tok.tokenText(id) : `<extra_${id}>`),
  }) as GGUFTokenizer;
}

interface Row { vocab: string; nVocab: number; spec: string; compileMs: number; masks: number; meanMs: number; p50Ms: number; p95Ms: number; firstMs: number }

async function measure(label: string, tok: GGUFTokenizer, gc: GrammarCompiler, specName: string, spec: GrammarSpec, tokens: number, seeds: number): Promise<Row> {
  const times: number[] = [];
  let first = 0;
  let compile = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const t0 = performance.now();
    const c = await gc.constraint(spec);
    compile = Math.max(compile, performance.now() - t0);
    const r = rng(seed);
    for (let i = 0; i < tokens; i++) {
      const a = performance.now();
      await c.prepare();
      const mask = c.nextMask();
      const dt = performance.now() - a;
      if (i === 0 && seed === 1) first = dt;
      else times.push(dt);
      const ok: number[] = [];
      for (let w = 0; w < mask.length; w++) {
        let bits = mask[w];
        while (bits) {
          const b = 31 - Math.clz32(bits);
          bits &= ~(1 << b);
          const id = w * 32 + b;
          if (id < tok.nVocab && !tok.eogIds.has(id)) ok.push(id);
        }
      }
      if (!ok.length) break;
      // stop when a value may end, as a model would some of the time; else a random allowed token
      if (tok.eogIds.size && [...tok.eogIds].some((e) => (mask[e >>> 5] >>> (e & 31)) & 1) && r() < 0.3) break;
      c.accept(ok[Math.floor(r() * ok.length)]);
    }
    c.dispose();
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  const row = { vocab: label, nVocab: tok.nVocab, spec: specName, compileMs: compile, masks: times.length, meanMs: times.reduce((a, b) => a + b, 0) / times.length, p50Ms: q(0.5), p95Ms: q(0.95), firstMs: first };
  console.log(JSON.stringify(row));
  return row;
}

test('grammar mask cost per token', async () => {
  const rows: Row[] = [];
  const specs: [string, GrammarSpec][] = [
    ['json_schema', { type: 'json_schema', schema: SCHEMA }],
    ['json_object', { type: 'json_object' }],
  ];
  const vocabs: [string, () => Promise<GGUFTokenizer>][] = [
    ['stories260K (SPM)', () => sharedTokenizer('models/stories260K.gguf')],
    ['synth-llama (SPM, llama-2)', () => sharedTokenizer('models/synth-llama-Q8_0.gguf')],
    ['synth-qwen3 (BPE, gpt-2)', () => sharedTokenizer('models/synth-qwen3-Q4_K_M.gguf')],
    ['synthetic 152k (BPE ×3)', async () => tripled(await sharedTokenizer('models/synth-qwen3-Q4_K_M.gguf'))],
  ];
  for (const [label, load] of vocabs) {
    const tok = await load();
    const gc = label.startsWith('synthetic') ? new GrammarCompiler(tok, async () => XGRAMMAR_SOURCE, require) : nodeCompiler(tok);
    const t0 = performance.now();
    await gc.warm();
    console.log(`${label}: tokenizer info + compiler ${(performance.now() - t0).toFixed(0)} ms`);
    for (const [name, spec] of specs) rows.push(await measure(label, tok, gc, name, spec, 200, 4));
  }
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const meta = { date: new Date().toISOString(), commit, node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: os.loadavg() };
  writeFileSync(new URL('results-grammar.json', OUT), JSON.stringify({ meta, rows }, null, 2) + '\n');
  const md = [
    '# Grammar mask cost per token (`node bench/run.mjs --only grammar`)',
    '',
    `${meta.date}, commit ${commit}, Node ${meta.node}, ${meta.cpu} × ${meta.cores}, load ${meta.load.map((l) => l.toFixed(1)).join(' ')}.`,
    'CPU time of one allowed-token mask (xgrammar matcher + UTF-8 filter, `XGrammarConstraint.prepare`) while walking',
    'random allowed tokens, 4 seeds × ≤ 200 tokens; the first mask of a grammar (lazy set-up) is given apart.',
    'The GPU side is one writeBuffer of ceil(n_vocab/32) words per token and a mask test in the top-k kernel.',
    '',
    '| vocabulary | n_vocab | grammar | compile ms | masks | mean ms | p50 ms | p95 ms | first mask ms |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.vocab} | ${r.nVocab} | ${r.spec} | ${r.compileMs.toFixed(0)} | ${r.masks} | ${r.meanMs.toFixed(2)} | ${r.p50Ms.toFixed(2)} | ${r.p95Ms.toFixed(2)} | ${r.firstMs.toFixed(0)} |`),
    '',
  ].join('\n');
  writeFileSync(new URL('results-grammar.md', OUT), md);
});
