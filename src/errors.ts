/**
 * Typed errors. Every failure the engine reports names the problem in its message and carries a
 * stable `code`, so the UI can show it and callers can branch on it without parsing text.
 */
export type LayerstreamErrorCode =
  | 'not_gguf' // bad magic, unsupported GGUF version
  | 'truncated' // file ends before the header/tensor data says it should
  | 'malformed' // inconsistent header: bad type ids, impossible counts, bad shapes
  | 'unsupported_architecture'
  | 'unsupported_tensor_type'
  | 'missing_tensor'
  | 'fetch_failed' // network error, HTTP status, wrong server
  | 'gated' // a gated Hugging Face repository (accept its conditions on huggingface.co; a page cannot send the user's HF login or token)
  | 'rate_limited' // HTTP 429: the server (Hugging Face) is rate-limiting this network; the wait in the message when the server shows it
  | 'no_range_support' // server ignores Range requests
  | 'budget_too_small'
  | 'quota_exceeded' // not enough browser storage for a download (numbers in the message)
  | 'integrity' // bytes do not match: Content-Range, length, or sha256
  | 'not_found' // no cached model with that id; a Hugging Face repository, revision or file that does not exist (or is private)
  | 'invalid_request' // an OpenAI-style request with an unknown or invalid field
  | 'vocab_mismatch' // a draft model whose tokenizer is not the target's
  | 'webgpu_unavailable'
  | 'storage_lost' // a model's bytes were removed from browser storage (site data cleared, eviction): download it again
  | 'device_lost' // the GPUDevice was lost (driver reset, GPU process crash, out of memory): the browser's reason in the message
  | 'aborted'
  | 'disposed';

export class LayerstreamError extends Error {
  readonly code: LayerstreamErrorCode;
  constructor(code: LayerstreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'LayerstreamError';
  }
}

/** Rebuilds a LayerstreamError that crossed a worker boundary as a plain object or Error. */
export function reviveError(e: unknown): Error {
  if (e instanceof LayerstreamError) return e;
  const anyE = e as { code?: string; message?: string; name?: string } | undefined;
  if (anyE && typeof anyE.code === 'string' && typeof anyE.message === 'string') {
    return new LayerstreamError(anyE.code as LayerstreamErrorCode, anyE.message);
  }
  return e instanceof Error ? e : new Error(String(e));
}
