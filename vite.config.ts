import { defineConfig } from 'vite';
// vite-plugin-pwa is the well-kept, widely used PWA plugin for Vite (Workbox under the hood): it
// writes the web app manifest, generates the service worker with a precache of the built app shell,
// and gives us `virtual:pwa-register` to register it ourselves (src/ui/pwa.ts).
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * `virtual:xgrammar-source`: the text of @mlc-ai/web-xgrammar's UMD bundle as a string module
 * (src/grammar/xgrammar.ts evaluates it once per library instance). Vite's `?raw` serves a `.js`
 * file from node_modules unchanged on the dev server (it runs as a module and exports nothing), so
 * the text is inlined here, the same in dev and build; it lands in its own lazily loaded chunk.
 */
function xgrammarSource() {
  const id = 'virtual:xgrammar-source';
  return {
    name: 'layerstream-xgrammar-source',
    resolveId: (s: string) => (s === id ? '\0' + id : null),
    load(s: string) {
      if (s !== '\0' + id) return null;
      const file = createRequire(import.meta.url).resolve('@mlc-ai/web-xgrammar/lib/index.js');
      return `export default ${JSON.stringify(readFileSync(file, 'utf8'))};`;
    },
  };
}

/** the app's light theme (index.html `--ls-bg`): the installed window's title bar and splash */
const THEME_BG = '#f6f7f9';

// The app is static: `vite build` emits dist/ for any static host. The dev server also serves the
// browser-test harness (test/harness.html), which imports the engine straight from src/.
export default defineConfig({
  // The browser tests' server (LAYERSTREAM_STATIC_DEV) never pushes reloads: an edit made while a
  // test runs must not navigate its page away (the next page load gets the new code anyway).
  server: { host: '127.0.0.1', port: 5173, strictPort: true, hmr: process.env.LAYERSTREAM_STATIC_DEV ? false : undefined },
  // the engine worker imports virtual:xgrammar-source (worker bundles get their own plugins in a build)
  worker: { format: 'es', plugins: () => [xgrammarSource()] },
  // Pre-bundle everything up front: a dependency discovered mid-session makes Vite reload the page,
  // which would kill a running engine (and a browser test with it).
  optimizeDeps: { entries: ['index.html', 'test/harness.html', 'src/worker/engine-worker.ts'], include: ['comlink', 'lit', 'lit/decorators.js'] },
  build: { target: 'es2022', sourcemap: true },
  plugins: [
    xgrammarSource(),
    // Installable, offline-capable app. Only in `vite build` (no service worker on the dev server,
    // so the dev server and the browser tests on it behave as before). The service worker precaches
    // the app shell only; model bytes live in OPFS (src/storage), never duplicated in the Cache API.
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false, // registered by src/ui/pwa.ts, in production builds only
      includeManifestIcons: false, // public/icons/* are found by the globs below
      manifest: {
        name: 'layerstream',
        short_name: 'layerstream',
        description: 'Run GGUF language models in a browser tab on WebGPU, streaming layers through a fixed GPU buffer pool.',
        start_url: '.',
        scope: '.',
        display: 'standalone',
        theme_color: THEME_BG,
        background_color: THEME_BG,
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
      workbox: {
        // The app shell. `**/*.js` covers the entry chunk, the lazily imported workbox-window chunk and
        // the engine's Web Worker bundle (assets/engine-worker-*.js, emitted by
        // `new Worker(new URL('./engine-worker.ts', import.meta.url))` in src/worker/client.ts).
        globPatterns: ['**/*.{html,js,css,svg,png,webmanifest,woff2}'],
        // Models (public/models/*.gguf, and any other) are never precached nor cached at runtime:
        // they are read with Range requests and kept in OPFS. No runtimeCaching is configured.
        globIgnores: ['**/*.gguf'],
        navigateFallback: 'index.html',
        // Workbox's default (2 MiB) skips bigger files silently; the worker bundle must never be skipped.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        // The plugin appends its own entry for manifest.webmanifest; drop the one the globs found, so
        // that each URL is listed once.
        manifestTransforms: [(entries) => ({ manifest: entries.filter((e) => e.url !== 'manifest.webmanifest'), warnings: [] })],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
