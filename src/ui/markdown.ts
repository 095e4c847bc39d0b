import { Marked, type Tokens, type TokensList } from 'marked';
import DOMPurify, { type Config } from 'dompurify';

/**
 * Markdown for model output, which is untrusted: `marked` turns it into HTML, DOMPurify then keeps
 * only harmless formatting. No scripts, event handlers, `javascript:` URLs, styles, forms or
 * embedded content survive; images are not loaded (a model could otherwise make the page fetch a
 * URL it chose, e.g. one carrying the conversation) but shown as links; every link opens in a new
 * tab with rel="noopener noreferrer".
 */

const marked = new Marked({
  gfm: true,
  // chat replies use single newlines as line breaks
  breaks: true,
  renderer: {
    image({ href, text }: Tokens.Image): string {
      // rendered as a link to the image; its URL is sanitized with every other link
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
    checkbox({ checked }: Tokens.Checkbox): string {
      return `<span class="task" aria-hidden="true">${checked ? '☑' : '☐'}</span> `;
    },
  },
});

const CONFIG: Config = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['img', 'picture', 'source', 'video', 'audio', 'track', 'iframe', 'frame', 'object', 'embed', 'svg', 'math', 'style', 'link', 'meta', 'base', 'form', 'input', 'button', 'textarea', 'select', 'option', 'dialog', 'template'],
  FORBID_ATTR: ['style', 'class', 'id', 'name', 'srcset', 'action', 'formaction', 'target', 'rel', 'ping'],
  ALLOW_DATA_ATTR: false,
};

/** A sanitizer of its own, so that its hook does not touch other users of DOMPurify. */
const purify = typeof window !== 'undefined' ? DOMPurify(window) : null;
purify?.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    if (node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  }
});

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Sanitizes an HTML string (see the module comment). Without a DOM, the text is escaped instead. */
export function sanitizeHtml(html: string): string {
  if (!purify?.isSupported) return escapeHtml(html);
  return purify.sanitize(html, CONFIG) as unknown as string;
}

/** Markdown → sanitized HTML. */
export function renderMarkdown(src: string): string {
  return renderMarkdownBlocks(src).join('');
}

/**
 * Markdown → sanitized HTML, one string per top-level block (paragraph, list, code block, …).
 * While a reply streams in, only its last block changes: a view that keeps one DOM node per block
 * rewrites just that one, so earlier blocks are not rebuilt (no flicker, selections survive).
 * `cache` (block source → HTML, kept by the caller between calls) spares re-rendering the blocks
 * that did not change.
 */
export function renderMarkdownBlocks(src: string, cache?: Map<string, string>): string[] {
  const tokens = marked.lexer(src);
  // reference-style links ([a][1] … [1]: url) make a block depend on the rest of the text
  const cacheable = cache && Object.keys(tokens.links).length === 0;
  const blocks: string[] = [];
  const used = new Map<string, string>();
  for (const token of tokens) {
    if (token.type === 'space') continue;
    let html = cacheable ? cache.get(token.raw) : undefined;
    if (html === undefined) {
      const one = [token] as unknown as TokensList;
      one.links = tokens.links;
      html = sanitizeHtml(marked.parser(one));
    }
    if (cacheable) used.set(token.raw, html);
    if (html.trim()) blocks.push(html);
  }
  if (cacheable) {
    cache.clear();
    for (const [k, v] of used) cache.set(k, v);
  }
  return blocks;
}
