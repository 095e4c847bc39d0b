import type { ToolFormat } from './tool-format.ts';

/**
 * Splits a model's answer into reasoning, visible content and tool calls, as llama-server's chat
 * parsers do (common/chat-parser.cpp): `<think>…</think>` (or `[THINK]…[/THINK]`) at the start,
 * or harmony's analysis channel → reasoning; tool calls in the format the template uses. A call
 * whose JSON does not parse is left in the content. With `partial` (streaming), only what can no
 * longer change is returned: a tail that may be the start of a marker, an unfinished call, and a
 * bare-JSON answer that may turn out to be a call are held back.
 */
export interface ParsedCall {
  name: string;
  /** JSON text */
  arguments: string;
  /** an id the model wrote (Mistral), else undefined */
  id?: string;
}

export interface ParsedOutput {
  reasoning: string;
  content: string;
  calls: ParsedCall[];
}

export interface ParseOptions {
  /** the template's format (tool calls are read only when `tools` is set; harmony's channels always) */
  format: ToolFormat;
  /** the request had tools (and tool_choice is not 'none') */
  tools: boolean;
  /** the prompt ended inside an open <think> (DeepSeek-R1-style templates): the answer starts as reasoning */
  thinkingOpen?: boolean;
  partial?: boolean;
}

const THINK: readonly [string, string][] = [['<think>', '</think>'], ['[THINK]', '[/THINK]']];

/** Length of the longest end of `s` that is a proper prefix of one of `markers` (it may still complete). */
export function partialMarkerLength(s: string, markers: readonly string[]): number {
  let keep = 0;
  for (const m of markers) {
    for (let k = Math.min(m.length - 1, s.length); k > keep; k--) {
      if (s.endsWith(m.slice(0, k))) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}

/** Index just past the JSON value starting at s[i] (after whitespace), or -1 when it is not complete there. */
export function jsonValueEnd(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i])) i++;
  if (i >= s.length) return -1;
  const c = s[i];
  if (c !== '{' && c !== '[') {
    const m = /^(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(i));
    return m ? i + m[0].length : -1;
  }
  let depth = 0;
  let inStr = false;
  for (let j = i; j < s.length; j++) {
    const ch = s[j];
    if (inStr) {
      if (ch === '\\') j++;
      else if (ch === '"') inStr = false;
    } else if (ch === '"') inStr = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

function tryJSON(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

const argsText = (a: unknown): string | undefined => (typeof a === 'string' ? a : a !== undefined && a !== null && typeof a === 'object' ? JSON.stringify(a) : undefined);

/** {name, arguments|parameters[, id]} → a call, else undefined. */
function callFromObject(o: unknown): ParsedCall | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Record<string, unknown>;
  const f = (typeof r.function === 'object' && r.function !== null ? r.function : r) as Record<string, unknown>;
  if (typeof f.name !== 'string') return undefined;
  const args = argsText(f.arguments ?? f.parameters ?? {});
  if (args === undefined) return undefined;
  return { name: f.name, arguments: args, ...(typeof r.id === 'string' ? { id: r.id } : {}) };
}

/** Calls from a JSON value: one call object, an array of them, or {"tool_calls": [...]} / {"tool_call": {...}}. */
function callsFromValue(v: unknown): ParsedCall[] | undefined {
  if (Array.isArray(v)) {
    const calls = v.map(callFromObject);
    return calls.length && calls.every(Boolean) ? (calls as ParsedCall[]) : undefined;
  }
  if (typeof v === 'object' && v !== null) {
    const r = v as Record<string, unknown>;
    if (Array.isArray(r.tool_calls)) return callsFromValue(r.tool_calls);
    if (typeof r.tool_call === 'object') return callsFromValue([r.tool_call]);
    const c = callFromObject(v);
    return c ? [c] : undefined;
  }
  return undefined;
}

/** JSON values one after another (separated by whitespace, ';' or ','), all calls → the calls. */
function callsFromJsonSequence(s: string): ParsedCall[] | undefined {
  const out: ParsedCall[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && /[\s;,]/.test(s[i])) i++;
    if (i >= s.length) break;
    const end = jsonValueEnd(s, i);
    if (end < 0) return undefined;
    const calls = callsFromValue(tryJSON(s.slice(i, end)));
    if (!calls) return undefined;
    out.push(...calls);
    i = end;
  }
  return out.length ? out : undefined;
}

/** Splits leading reasoning off `text`. */
function splitThinking(text: string, o: ParseOptions): { reasoning: string; rest: string } {
  const lead = text.trimStart();
  for (const [open, close] of THINK) {
    const opened = lead.startsWith(open);
    if (!opened && !(o.thinkingOpen && open === '<think>')) {
      if (o.partial && !o.thinkingOpen && lead.length < open.length && open.startsWith(lead) && lead) return { reasoning: '', rest: '' };
      continue;
    }
    const body = opened ? lead.slice(open.length) : text;
    const end = body.indexOf(close);
    if (end < 0) {
      // streaming: newlines that may precede the close are held back too (the close trims them)
      const r = o.partial ? body.slice(0, body.length - partialMarkerLength(body, [close])).replace(/\n+$/, '') : body;
      return { reasoning: r.replace(/^\n+/, ''), rest: '' };
    }
    return { reasoning: body.slice(0, end).replace(/^\n+/, '').replace(/\n+$/, ''), rest: body.slice(end + close.length).replace(/^\n+/, '') };
  }
  return { reasoning: '', rest: text };
}

/** Hermes `<tool_call>` blocks anywhere in `rest`. */
function hermes(rest: string, o: ParseOptions): { content: string; calls: ParsedCall[] } {
  const OPEN = '<tool_call>';
  const CLOSE = '</tool_call>';
  let content = '';
  const calls: ParsedCall[] = [];
  let i = 0;
  for (;;) {
    const s = rest.indexOf(OPEN, i);
    if (s < 0) {
      const tail = rest.slice(i);
      content += o.partial ? tail.slice(0, tail.length - partialMarkerLength(tail, [OPEN])) : tail;
      break;
    }
    content += rest.slice(i, s);
    const e = rest.indexOf(CLOSE, s + OPEN.length);
    const inner = rest.slice(s + OPEN.length, e < 0 ? rest.length : e);
    if (e < 0 && o.partial) break; // unfinished call: held back
    const parsed = callsFromValue(tryJSON(inner.trim()));
    if (parsed) calls.push(...parsed);
    else content += rest.slice(s, e < 0 ? rest.length : e + CLOSE.length);
    if (e < 0) break;
    i = e + CLOSE.length;
  }
  return { content, calls };
}

/** An answer that is entirely calls as bare JSON (llama3, generic), after an optional prefix marker. */
function bareJson(rest: string, o: ParseOptions, prefixes: readonly string[]): { content: string; calls: ParsedCall[] } {
  let body = rest.trimStart();
  for (const p of prefixes) if (body.startsWith(p)) body = body.slice(p.length).trimStart();
  const looksLikeCall = body.startsWith('{') || body.startsWith('[') || (rest.trimStart() !== body);
  const maybeMarker = prefixes.some((p) => p.startsWith(rest.trimStart()) && rest.trim());
  if (o.partial && (looksLikeCall || maybeMarker)) return { content: '', calls: [] };
  const calls = looksLikeCall ? callsFromJsonSequence(body) : undefined;
  return calls ? { content: '', calls } : { content: rest, calls: [] };
}

/** Mistral: content, then `[TOOL_CALLS]` and a JSON array (v3) or name[CALL_ID]id[ARGS]{…} runs (v11). */
function mistral(rest: string, o: ParseOptions, v11: boolean): { content: string; calls: ParsedCall[] } {
  const M = '[TOOL_CALLS]';
  const at = rest.indexOf(M);
  if (at < 0) return { content: o.partial ? rest.slice(0, rest.length - partialMarkerLength(rest, [M])) : rest, calls: [] };
  const content = rest.slice(0, at);
  if (o.partial) return { content, calls: [] };
  const after = rest.slice(at + M.length);
  let calls: ParsedCall[] | undefined;
  if (v11 && !after.trimStart().startsWith('[') && !after.trimStart().startsWith('{')) {
    calls = [];
    for (const part of after.split(M)) {
      const m = /^\s*([a-zA-Z0-9_.-]+)(?:\[CALL_ID\]([a-zA-Z0-9]+))?\[ARGS\]/.exec(part);
      const end = m ? jsonValueEnd(part, m[0].length) : -1;
      const args = m && end > 0 ? tryJSON(part.slice(m[0].length, end)) : undefined;
      if (!m || args === undefined) {
        calls = undefined;
        break;
      }
      calls.push({ name: m[1], arguments: argsText(args) ?? JSON.stringify(args), ...(m[2] ? { id: m[2] } : {}) });
    }
  } else {
    calls = callsFromJsonSequence(after);
  }
  return calls ? { content, calls } : { content: rest, calls: [] };
}

const HARMONY_ENDS = ['<|end|>', '<|call|>', '<|return|>'];
const HARMONY_MARKERS = ['<|start|>', '<|channel|>', '<|message|>', ...HARMONY_ENDS];

/** gpt-oss harmony: messages `<|channel|>name[ to=functions.f][ <|constrain|>json]<|message|>body<|end|>`, split by `<|start|>assistant`. */
function harmony(text: string, o: ParseOptions): ParsedOutput {
  const out: ParsedOutput = { reasoning: '', content: '', calls: [] };
  if (!text.trimStart().startsWith('<|channel|>') && !text.includes('<|message|>')) {
    if (o.partial && '<|channel|>'.startsWith(text.trimStart())) return out;
    out.content = text;
    return out;
  }
  const add = (k: 'reasoning' | 'content', s: string) => (out[k] = out[k] ? `${out[k]}\n${s}` : s);
  let i = 0;
  while (i < text.length) {
    const m = text.indexOf('<|message|>', i);
    if (m < 0) break; // an unfinished header
    const header = text.slice(i, m).replace(/^<\|start\|>(assistant)?/, '');
    let end = text.length;
    let closed = false;
    for (const e of [...HARMONY_ENDS, '<|start|>']) {
      const k = text.indexOf(e, m);
      if (k >= 0 && k < end) ((end = k), (closed = true));
    }
    let body = text.slice(m + '<|message|>'.length, end);
    if (!closed && o.partial) body = body.slice(0, body.length - partialMarkerLength(body, HARMONY_MARKERS));
    const channel = /<\|channel\|>\s*(\w+)/.exec(header)?.[1] ?? 'final';
    const to = /to=functions\.([a-zA-Z0-9_.-]+)/.exec(header)?.[1];
    if (to) {
      if (closed || !o.partial) {
        const v = tryJSON(body.trim());
        if (v !== undefined) out.calls.push({ name: to, arguments: argsText(v) ?? JSON.stringify(v) });
        else add('content', body);
      }
    } else add(channel === 'analysis' ? 'reasoning' : 'content', body);
    if (!closed) break;
    i = end;
    for (const e of HARMONY_ENDS) if (text.startsWith(e, i)) i += e.length;
  }
  return out;
}

/** See the module comment. Pure: the same text and options give the same result. */
export function parseAssistantOutput(text: string, o: ParseOptions): ParsedOutput {
  if (o.format === 'harmony') {
    const h = harmony(text, o);
    if (!o.tools) {
      h.content = [h.content, ...h.calls.map((c) => c.arguments)].filter(Boolean).join('\n');
      h.calls = [];
    }
    return h;
  }
  const { reasoning, rest } = splitThinking(text, o);
  if (!o.tools) return { reasoning, content: rest, calls: [] };
  let r: { content: string; calls: ParsedCall[] };
  switch (o.format) {
    case 'hermes':
      r = hermes(rest, o);
      break;
    case 'llama3':
      r = bareJson(rest, o, ['<|python_tag|>']);
      break;
    case 'mistral':
    case 'mistral-v11':
      r = mistral(rest, o, o.format === 'mistral-v11');
      break;
    case 'generic': {
      const lead = rest.trimStart();
      r = lead.startsWith('{') || lead.startsWith('[') ? bareJson(rest, o, []) : hermes(rest, o);
      break;
    }
  }
  return { reasoning, content: r.calls.length ? r.content.trim() : r.content, calls: r.calls };
}

/** What a streamed chunk adds: reasoning and content text, and calls completed since the last one. */
export interface OutputDelta {
  reasoning?: string;
  content?: string;
  calls?: ParsedCall[];
}

/**
 * Streams parseAssistantOutput: push() the text generated so far in pieces, get back what can be
 * shown now; finish() gives the rest. The concatenated deltas equal the final parse but for the
 * whitespace it trims around calls (a piece of content that a later marker turns into a call is
 * never shown: partial parses hold it back).
 */
export class OutputStream {
  private text = '';
  private sent: ParsedOutput = { reasoning: '', content: '', calls: [] };

  constructor(private readonly o: Omit<ParseOptions, 'partial'>) {}

  push(piece: string): OutputDelta {
    this.text += piece;
    return this.diff(parseAssistantOutput(this.text, { ...this.o, partial: true }));
  }

  finish(): OutputDelta {
    return this.diff(parseAssistantOutput(this.text, { ...this.o, partial: false }));
  }

  /** the whole parse of everything pushed */
  result(): ParsedOutput {
    return parseAssistantOutput(this.text, { ...this.o, partial: false });
  }

  private diff(p: ParsedOutput): OutputDelta {
    const d: OutputDelta = {};
    // a final parse may trim what partial parses showed; only ever extend
    if (p.reasoning.length > this.sent.reasoning.length && p.reasoning.startsWith(this.sent.reasoning)) {
      d.reasoning = p.reasoning.slice(this.sent.reasoning.length);
      this.sent.reasoning = p.reasoning;
    }
    if (p.content.length > this.sent.content.length && p.content.startsWith(this.sent.content)) {
      d.content = p.content.slice(this.sent.content.length);
      this.sent.content = p.content;
    }
    if (p.calls.length > this.sent.calls.length) {
      d.calls = p.calls.slice(this.sent.calls.length);
      this.sent.calls = p.calls;
    }
    return d;
  }
}
