import { test, expect, type Locator, type Page } from '@playwright/test';
import path from 'node:path';

// The chat view of the web UI (<ls-chat>) against the real engine: stories260K (no chat template,
// so ChatML) on SwiftShader WebGPU, through engine.chat.completions.create. Locators pierce the
// components' open shadow roots.

const shot = (name: string) => path.join(test.info().project.outputDir, name);

/** Opens the app on its default tab (Chat) and waits until the default model is loaded. */
async function openChat(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('tab-chat')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('tab-complete')).toHaveAttribute('aria-selected', 'false');
  await expect(page.getByTestId('chat-log')).toBeVisible();
  await expect(page.getByTestId('chat-send')).toBeEnabled({ timeout: 60_000 });
  // the memory panel is there in the chat view too
  await expect(page.getByTestId('memory-panel').getByTestId('layer-cell')).toHaveCount(5);
  return errors;
}

async function setSettings(page: Page, s: { maxTokens?: number; temperature?: number }): Promise<void> {
  const toggle = page.getByTestId('chat-settings-toggle');
  if ((await page.getByTestId('chat-settings').getAttribute('open')) === null) await toggle.click();
  await expect(page.getByTestId('chat-system')).toBeVisible();
  if (s.maxTokens !== undefined) await page.getByTestId('chat-max-tokens').fill(String(s.maxTokens));
  if (s.temperature !== undefined) await page.getByTestId('chat-temperature').fill(String(s.temperature));
}

const messages = (page: Page) => page.getByTestId('chat-message');
const content = (m: Locator) => m.getByTestId('message-content');

/** Waits until a reply has ended on its own (end of generation or max tokens) and returns its text. */
async function finished(reply: Locator): Promise<string> {
  await expect(reply).toHaveAttribute('data-role', 'assistant');
  await expect(reply).toHaveAttribute('data-status', /^(done|length)$/, { timeout: 120_000 });
  return ((await content(reply).textContent()) ?? '').trim();
}

async function statsOf(reply: Locator): Promise<{ tokens: number; cached: number; tps: number; text: string }> {
  const stats = reply.getByTestId('message-stats');
  return {
    tokens: Number(await stats.getAttribute('data-tokens')),
    cached: Number(await stats.getAttribute('data-cached')),
    tps: Number(await stats.getAttribute('data-tps')),
    text: (await stats.textContent()) ?? '',
  };
}

test('Enter sends, replies stream in with stats, Shift+Enter is a new line, the second turn reuses the K/V cache', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = await openChat(page);
  await setSettings(page, { maxTokens: 48 });
  await expect(page.getByTestId('chat-empty')).toBeVisible();

  const input = page.getByTestId('chat-input');
  await input.fill('Once upon a time');
  await input.press('Enter');
  await expect(input).toHaveValue('');
  await expect(messages(page)).toHaveCount(2);
  const user = messages(page).nth(0);
  await expect(user).toHaveAttribute('data-role', 'user');
  await expect(content(user)).toHaveText('Once upon a time');
  const reply = messages(page).nth(1);
  await expect(reply).toHaveAttribute('data-role', 'assistant');
  // while it streams: Stop on, Send off
  await expect(page.getByTestId('chat-stop')).toBeEnabled();
  await expect(page.getByTestId('chat-send')).toBeDisabled();

  const text = await finished(reply);
  expect(text.length).toBeGreaterThan(0);
  const first = await statsOf(reply);
  expect(first.tokens).toBeGreaterThan(0);
  expect(first.tokens).toBeLessThanOrEqual(48);
  expect(first.tps).toBeGreaterThan(0);
  expect(first.text).toMatch(/\d+(\.\d+)? tok\/s/);
  expect(first.cached).toBe(0); // a fresh engine: nothing to reuse
  await expect(page.getByTestId('chat-send')).toBeEnabled();
  await expect(page.getByTestId('chat-stop')).toBeDisabled();

  // Copy puts the reply on the clipboard and says so
  const copy = reply.getByTestId('message-copy');
  await copy.click();
  await expect(copy).toHaveAttribute('data-copied', 'true');
  await expect(copy).toHaveText(/Copied/);
  // the clipboard holds the reply's source text: rendered, it gives what the message shows
  const clip = await page.evaluate(async (url) => {
    const md = (await import(/* @vite-ignore */ url)) as typeof import('../src/ui/markdown.ts');
    const raw = await navigator.clipboard.readText();
    const t = document.createElement('template');
    t.innerHTML = md.renderMarkdown(raw);
    return { raw, shown: t.content.textContent ?? '' };
  }, '/src/ui/markdown.ts');
  expect(clip.raw.trim().length).toBeGreaterThan(0);
  expect(clip.shown.replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
  await expect(copy).toHaveAttribute('data-copied', 'false', { timeout: 5000 });

  // Second turn: Shift+Enter inserts a new line instead of sending
  await input.fill('The dog ran.');
  await input.press('Shift+Enter');
  await input.pressSequentially('Then what?');
  expect(await input.inputValue()).toContain('\n');
  await expect(messages(page)).toHaveCount(2); // nothing sent yet
  await input.press('Enter');
  await expect(messages(page)).toHaveCount(4);
  await expect(content(messages(page).nth(2))).toHaveText('The dog ran.\nThen what?');
  const second = messages(page).nth(3);
  expect((await finished(second)).length).toBeGreaterThan(0);
  const s2 = await statsOf(second);
  expect(s2.cached).toBeGreaterThan(0); // the first turn's prompt (and reply) came from the K/V cache
  expect(s2.text).toMatch(new RegExp(`cached ${s2.cached}/\\d+`));
  expect(s2.tps).toBeGreaterThan(0);
  // the log followed the replies to the bottom
  const fromBottom = () => page.getByTestId('chat-log').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  expect(await fromBottom()).toBeLessThan(2);
  // the reply before keeps its text and stats
  expect(((await content(reply).textContent()) ?? '').trim()).toBe(text);

  // the memory panel was refreshed by the chat: the context holds both turns
  await expect(page.getByTestId('memory-panel').getByTestId('mem-decode')).toHaveText(/tok\/s$/);

  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByTestId('chat-settings-toggle').click(); // close the settings
  await expect(page.getByTestId('chat-system')).toBeHidden();
  await page.evaluate(() => window.scrollTo(0, 0));
  // the chat comes first: its composer is on screen without scrolling
  const input1280 = await page.getByTestId('chat-input').boundingBox();
  expect(input1280!.y + input1280!.height).toBeLessThanOrEqual(900);
  await page.screenshot({ path: shot('chat-desktop.png') });

  // Phone width: one column, the composer under the log, nothing wider than the screen
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('chat-input')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await expect.poll(fromBottom).toBeLessThan(2); // still at the end after the reflow
  const log = await page.getByTestId('chat-log').boundingBox();
  const composer = await page.getByTestId('chat-input').boundingBox();
  const memory = await page.getByTestId('memory-panel').boundingBox();
  expect(log && composer && memory).toBeTruthy();
  expect(composer!.y).toBeGreaterThan(log!.y + log!.height - 1); // composer at the bottom
  expect(memory!.y).toBeGreaterThan(log!.y); // the memory panel goes below, not beside
  for (const id of ['chat-input', 'chat-send', 'chat-stop', 'chat-new', 'chat-log']) {
    const box = await page.getByTestId(id).boundingBox();
    expect(box, id).not.toBeNull();
    expect(box!.x, id).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shot('chat-phone.png') });
  await page.screenshot({ path: shot('chat-phone-page.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('Stop keeps the partial reply, marked stopped; Send works again', async ({ page }) => {
  await openChat(page);
  await setSettings(page, { maxTokens: 400, temperature: 0 });
  const input = page.getByTestId('chat-input');
  await input.fill('Once upon a time');
  await page.getByTestId('chat-send').click();
  const reply = messages(page).nth(1);
  await expect(reply).toHaveAttribute('data-status', 'streaming');

  // stop as soon as text streams
  await expect(reply.getByTestId('message-stats')).toHaveAttribute('data-tokens', /^[1-9]/, { timeout: 60_000 });
  await page.getByTestId('chat-stop').click();
  await expect(reply).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
  await expect(reply.getByTestId('message-status')).toHaveText('stopped');
  await expect(page.getByTestId('chat-send')).toBeEnabled();
  await expect(page.getByTestId('chat-stop')).toBeDisabled();
  const partial = ((await content(reply).textContent()) ?? '').trim();
  expect(partial.length).toBeGreaterThan(0);
  const { tokens } = await statsOf(reply);
  expect(tokens).toBeGreaterThan(0);
  expect(tokens).toBeLessThan(400);
  // it stays stopped
  await page.waitForTimeout(1000);
  expect(((await content(reply).textContent()) ?? '').trim()).toBe(partial);
  await expect(reply).toHaveAttribute('data-status', 'stopped');

  // and the conversation goes on
  await setSettings(page, { maxTokens: 12 });
  await input.fill('What happened next?');
  await input.press('Enter');
  await expect(messages(page)).toHaveCount(4);
  expect((await finished(messages(page).nth(3))).length).toBeGreaterThan(0);
  await expect(reply).toHaveAttribute('data-status', 'stopped');
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
});

test('Markdown is rendered sanitized: no raw HTML, no javascript: links; links open in a new tab', async ({ page }) => {
  await page.goto('/');
  const html = await page.evaluate(async (url) => {
    const md = (await import(/* @vite-ignore */ url)) as typeof import('../src/ui/markdown.ts');
    return md.renderMarkdown('**bold** <img src=x onerror=alert(1)> [a](javascript:alert(1))');
  }, '/src/ui/markdown.ts');
  expect(html).toContain('<strong>bold</strong>');
  expect(html).not.toMatch(/onerror/i);
  expect(html).not.toMatch(/javascript:/i);
  expect(html).not.toMatch(/<img/i);

  const more = await page.evaluate(async (url) => {
    const md = (await import(/* @vite-ignore */ url)) as typeof import('../src/ui/markdown.ts');
    return md.renderMarkdown(
      [
        '[site](https://example.org/x "t") <a href="https://example.org" onclick="alert(1)" target="_self">raw</a>',
        '',
        '<script>alert(1)</script><style>*{display:none}</style><iframe src="https://example.org"></iframe>',
        '',
        '![pic](https://example.org/p.png) [j](JaVaScRiPt:alert(1)) <a href="data:text/html,<script>alert(1)</script>">d</a>',
        '',
        '```js\nconst a = "<b>x</b>";\n```',
      ].join('\n'),
    );
  }, '/src/ui/markdown.ts');
  const doc = await page.evaluate((h) => {
    const t = document.createElement('template');
    t.innerHTML = h;
    const all = Array.from(t.content.querySelectorAll('*'));
    return {
      tags: all.map((e) => e.tagName.toLowerCase()),
      handlers: all.flatMap((e) => Array.from(e.attributes).filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
      links: Array.from(t.content.querySelectorAll('a')).map((a) => ({ text: a.textContent, href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel') })),
      code: t.content.querySelector('pre code')?.textContent ?? null,
    };
  }, more);
  expect(doc.handlers).toEqual([]);
  for (const tag of ['script', 'style', 'iframe', 'img']) expect(doc.tags).not.toContain(tag);
  const withHref = doc.links.filter((l) => l.href !== null);
  expect(withHref.map((l) => l.href)).toEqual(['https://example.org/x', 'https://example.org', 'https://example.org/p.png']);
  for (const l of withHref) {
    expect(l.target).toBe('_blank');
    expect(l.rel).toBe('noopener noreferrer');
  }
  expect(doc.links.find((l) => l.text === 'j')?.href ?? null).toBeNull();
  expect(doc.links.find((l) => l.text === 'd')?.href ?? null).toBeNull();
  expect(doc.code).toBe('const a = "<b>x</b>";\n'); // code stays text

  // A message element renders it, and nothing in it runs
  const shown = await page.evaluate(async () => {
    await customElements.whenDefined('ls-chat-message');
    (window as any).__xss = 0;
    const el = document.createElement('ls-chat-message') as HTMLElement & { message: unknown; updateComplete: Promise<boolean> };
    el.message = { id: 1, role: 'assistant', status: 'streaming', content: 'First paragraph.\n\n**bold** <img src=x onerror="window.__xss=1"> [a](javascript:window.__xss=2)' };
    document.body.append(el);
    await el.updateComplete;
    const root = el.shadowRoot!;
    const firstBlock = root.querySelector('.block');
    // streaming: only the last block changes, the first one stays the same node
    el.message = { id: 1, role: 'assistant', status: 'done', content: 'First paragraph.\n\n**bold** <img src=x onerror="window.__xss=1"> [a](javascript:window.__xss=2) and more' };
    await el.updateComplete;
    root.querySelector<HTMLAnchorElement>('a')?.click();
    await new Promise((r) => setTimeout(r, 300));
    const blocks = root.querySelectorAll('.block');
    return {
      sameFirst: firstBlock === blocks[0] && !!firstBlock?.isConnected,
      blocks: blocks.length,
      strong: root.querySelector('.md strong')?.textContent ?? null,
      img: root.querySelectorAll('img').length,
      text: root.querySelector('[data-testid="message-content"]')?.textContent?.replace(/\s+/g, ' ').trim(),
      xss: (window as any).__xss,
    };
  });
  expect(shown).toEqual({ sameFirst: true, blocks: 2, strong: 'bold', img: 0, text: 'First paragraph. bold a and more', xss: 0 });
});

test('Regenerate replaces the last reply (greedy: the same text); Edit resends and drops what followed; errors show inline; New chat clears', async ({ page }) => {
  await openChat(page);
  await setSettings(page, { maxTokens: 24, temperature: 0 });
  const input = page.getByTestId('chat-input');
  await input.fill('Once upon a time');
  await input.press('Enter');
  const reply = messages(page).nth(1);
  const text = await finished(reply);
  expect(text.length).toBeGreaterThan(0);
  const firstId = await reply.getAttribute('data-id');

  // only the last reply can be regenerated; user messages can be edited
  await expect(messages(page).nth(0).getByTestId('message-edit')).toBeEnabled();
  await reply.getByTestId('message-regenerate').click();
  await expect(messages(page)).toHaveCount(2);
  const again = messages(page).nth(1);
  await expect(again).not.toHaveAttribute('data-id', firstId!); // a new reply, not the old one
  expect(await finished(again)).toBe(text);
  expect((await statsOf(again)).cached).toBeGreaterThan(0); // same prompt: reused from the K/V cache

  // a second turn, then edit the first message: the rest of the conversation is dropped
  await input.fill('Tell me more.');
  await input.press('Enter');
  await expect(messages(page)).toHaveCount(4);
  await finished(messages(page).nth(3));
  await expect(messages(page).nth(1).getByTestId('message-regenerate')).toHaveCount(0); // not the last any more
  await messages(page).nth(0).getByTestId('message-edit').click();
  const editor = page.getByTestId('message-edit-input');
  await expect(editor).toHaveValue('Once upon a time');
  await editor.fill('Once upon a time there was a cat');
  await page.getByTestId('message-edit-save').click();
  await expect(messages(page)).toHaveCount(2);
  await expect(content(messages(page).nth(0))).toHaveText('Once upon a time there was a cat');
  const edited = await finished(messages(page).nth(1));
  expect(edited.length).toBeGreaterThan(0);
  await expect(page.getByText('Tell me more.')).toHaveCount(0);

  // an invalid request (temperature out of range) fails inline on the reply; the chat goes on
  await setSettings(page, { temperature: 5 });
  await input.fill('And then?');
  await input.press('Enter');
  const failed = messages(page).nth(3);
  await expect(failed).toHaveAttribute('data-status', 'error', { timeout: 30_000 });
  await expect(failed.getByTestId('message-error')).toHaveAttribute('data-code', 'invalid_request');
  await expect(failed.getByTestId('message-error')).toContainText("Invalid 'temperature'");
  await expect(page.getByTestId('chat-send')).toBeEnabled();
  await setSettings(page, { temperature: 0 });
  await failed.getByTestId('message-regenerate').click();
  await expect(messages(page)).toHaveCount(4);
  expect((await finished(messages(page).nth(3))).length).toBeGreaterThan(0);

  // New chat
  await page.getByTestId('chat-new').click();
  await expect(messages(page)).toHaveCount(0);
  await expect(page.getByTestId('chat-empty')).toBeVisible();
  await expect(page.getByTestId('chat-new')).toBeDisabled();

  // the completion view is the other tab, with its own controls; the memory panel stays
  await page.getByTestId('tab-complete').click();
  await expect(page.getByTestId('tab-complete')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('generate')).toBeVisible();
  await expect(page.getByTestId('chat-log')).toBeHidden();
  await expect(page.getByTestId('memory-panel')).toBeVisible();
  await page.getByTestId('tab-chat').click();
  await expect(page.getByTestId('chat-log')).toBeVisible();
});

test('a reply with reasoning_content shows it collapsed; tool calls show as name(arguments)', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(async (url) => {
    await import(/* @vite-ignore */ url);
    const el = document.createElement('ls-chat-message') as any;
    el.id = 'probe';
    el.message = {
      id: 99, role: 'assistant', content: 'It is sunny.', status: 'done',
      reasoning: 'The user asks about the weather; call the tool.',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city": "Paris"}' }],
    };
    document.body.append(el);
    await el.updateComplete;
  }, '/src/ui/chat-message.ts');
  const probe = page.locator('#probe');
  const reasoning = probe.getByTestId('message-reasoning');
  await expect(reasoning).toBeVisible();
  expect(await reasoning.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false); // collapsed
  await expect(reasoning.locator('.reasoning-text')).toBeHidden();
  await reasoning.locator('summary').click();
  await expect(reasoning.locator('.reasoning-text')).toHaveText('The user asks about the weather; call the tool.');
  await expect(probe.getByTestId('tool-call')).toHaveText(/Tool call\s+get_weather\(\{"city": "Paris"\}\)/);
  await expect(probe.getByTestId('message-content')).toHaveText('It is sunny.');
});
