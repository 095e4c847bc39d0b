import { LayerstreamError } from '../errors.ts';
import type { Architecture } from './architecture.ts';
import { gemma2 } from './gemma2.ts';
import { llama } from './llama.ts';
import { phi3 } from './phi3.ts';
import { qwen2 } from './qwen2.ts';
import { qwen3 } from './qwen3.ts';

/** Architectures by `general.architecture`. Adding a family = one module + one entry here. */
const ARCHITECTURES: Record<string, Architecture<any>> = Object.fromEntries([llama, qwen2, qwen3, phi3, gemma2].map((a) => [a.name, a]));

/** Throws LayerstreamError('unsupported_architecture') naming the architecture. */
export function architectureFor(name: string): Architecture<any> {
  const a = ARCHITECTURES[name];
  if (!a) {
    throw new LayerstreamError('unsupported_architecture', `unsupported architecture "${name}" (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
  return a;
}
