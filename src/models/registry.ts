import { LayerstreamError } from '../errors.ts';
import type { Architecture } from './architecture.ts';
import { deepseek2 } from './deepseek2.ts';
import { gemma2 } from './gemma2.ts';
import { gemma3 } from './gemma3.ts';
import { gptOss } from './gpt-oss.ts';
import { granite } from './granite.ts';
import { llama } from './llama.ts';
import { mistral3 } from './mistral3.ts';
import { olmo2 } from './olmo2.ts';
import { phi3 } from './phi3.ts';
import { qwen2 } from './qwen2.ts';
import { qwen3 } from './qwen3.ts';
import { qwen3moe } from './qwen3moe.ts';
import { qwen35, qwen35moe } from './qwen35.ts';
import { smollm3 } from './smollm3.ts';

/** Architectures by `general.architecture`. Adding a family = one module + one entry here. */
const ARCHITECTURES: Record<string, Architecture<any>> = Object.fromEntries([
  llama, qwen2, qwen3, qwen3moe, phi3, gemma2, gemma3, gptOss, mistral3, smollm3, olmo2, granite, deepseek2, qwen35, qwen35moe,
].map((a) => [a.name, a]));

/** The `general.architecture` names the engine runs, in registry order. */
export function supportedArchitectures(): string[] {
  return Object.keys(ARCHITECTURES);
}

/** Throws LayerstreamError('unsupported_architecture') naming the architecture. */
export function architectureFor(name: string): Architecture<any> {
  const a = ARCHITECTURES[name];
  if (!a) {
    throw new LayerstreamError('unsupported_architecture', `unsupported architecture "${name}" (supported: ${supportedArchitectures().join(', ')})`);
  }
  return a;
}
