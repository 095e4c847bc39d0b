import type { GrammarSpec } from '../api.ts';
import { LayerstreamError } from '../errors.ts';

/** OpenAI's response_format: plain text, any JSON object, or JSON for a schema. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown> | boolean; strict?: boolean | null; description?: string } };

const bad = (msg: string): never => {
  throw new LayerstreamError('invalid_request', msg);
};

/**
 * The GrammarSpec of a request's `response_format` (OpenAI's) or local `grammar` (a GBNF string,
 * llama-server's field), or undefined for free text. Both at once are refused.
 * @throws LayerstreamError('invalid_request') with OpenAI's wording for malformed fields
 */
export function grammarFromRequest(responseFormat: unknown, grammar: unknown): GrammarSpec | undefined {
  let spec: GrammarSpec | undefined;
  if (responseFormat !== undefined && responseFormat !== null) {
    const rf = responseFormat as ResponseFormat;
    if (typeof rf !== 'object' || !['text', 'json_object', 'json_schema'].includes(rf.type)) {
      bad(`Invalid 'response_format': expected { type: 'text' | 'json_object' | 'json_schema' }.`);
    }
    if (rf.type === 'json_object') spec = { type: 'json_object' };
    if (rf.type === 'json_schema') {
      const js = rf.json_schema;
      if (typeof js !== 'object' || js === null) bad(`Missing required parameter: 'response_format.json_schema'.`);
      if (typeof js.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(js.name)) bad(`Invalid 'response_format.json_schema.name': expected 1-64 characters of a-z, A-Z, 0-9, _ or -.`);
      const schema = js.schema ?? { type: 'object' };
      if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) bad(`Invalid 'response_format.json_schema.schema': expected a JSON Schema object.`);
      if (js.strict !== undefined && js.strict !== null && typeof js.strict !== 'boolean') bad(`Invalid 'response_format.json_schema.strict': expected a boolean.`);
      // strict: true forbids properties beyond the schema's (OpenAI's structured outputs); otherwise JSON Schema's own default
      spec = { type: 'json_schema', schema, strict: js.strict === true };
    }
  }
  if (grammar !== undefined && grammar !== null) {
    if (typeof grammar !== 'string' || !grammar.trim()) bad(`Invalid 'grammar': expected a GBNF grammar string with a 'root' rule.`);
    if (spec) bad(`'grammar' and a JSON 'response_format' cannot be used together.`);
    spec = { type: 'grammar', grammar: grammar as string };
  }
  return spec;
}
