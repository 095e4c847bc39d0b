import { LayerstreamError } from '../errors.ts';
import type { Architecture } from './architecture.ts';
import { llama } from './llama.ts';

/** Architectures by `general.architecture`. Adding a family = one module + one line here. */
const ARCHITECTURES: Record<string, Architecture<any>> = { llama };

/** Throws LayerstreamError('unsupported_architecture') naming the architecture. */
export function architectureFor(name: string): Architecture<any> {
  const a = ARCHITECTURES[name];
  if (!a) {
    throw new LayerstreamError('unsupported_architecture', `unsupported architecture "${name}" (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
  return a;
}
