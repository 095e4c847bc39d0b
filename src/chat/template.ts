import { Template } from '@huggingface/jinja';

/** A chat message as OpenAI's API takes it (text parts only). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string | { type: 'text'; text: string }[] | null;
  name?: string;
}

/**
 * Used when a GGUF has no tokenizer.chat_template: ChatML (<|im_start|>role\n…<|im_end|>), the format
 * llama.cpp's server also falls back to.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const compiled = new Map<string, Template>();

/**
 * Renders `messages` with a Jinja chat template (the GGUF's tokenizer.chat_template, rendered by
 * @huggingface/jinja as transformers.js does), ending with the assistant's turn opened.
 * Throws the template engine's error (a template's raise_exception message included).
 */
export function renderChatTemplate(
  template: string | null,
  messages: ChatMessage[],
  tokens: { bosToken: string; eosToken: string },
  addGenerationPrompt = true,
): string {
  const src = template ?? DEFAULT_CHAT_TEMPLATE;
  let t = compiled.get(src);
  if (!t) compiled.set(src, (t = new Template(src)));
  const plain = messages.map((m) => ({
    ...m,
    content: Array.isArray(m.content) ? m.content.map((p) => p.text).join('') : (m.content ?? ''),
  }));
  return t.render({
    messages: plain,
    bos_token: tokens.bosToken,
    eos_token: tokens.eosToken,
    add_generation_prompt: addGenerationPrompt,
  });
}
