// Vite config for the benchmark's own dev server: the project's config, minus what would disturb a
// measurement. Vite bundles config files, so importing the TypeScript config works here.
import { defineConfig, mergeConfig } from 'vite';
import base from '../vite.config.ts';

/**
 * Cross-origin isolation for the peer benchmark's pages only (bench/peer/, see bench/lib/wllama.mjs):
 * wllama runs llama.cpp's threads as Web Workers sharing a SharedArrayBuffer, which needs
 * `crossOriginIsolated`. The headers go on the page's own responses (its Web Workers are blob: URLs
 * and inherit the policy; same-origin scripts and wasm need no CORP; the model server's CORS
 * responses satisfy require-corp). Everything else, the test harness included, is served as before.
 */
function peerCrossOriginIsolation() {
  return {
    name: 'layerstream-bench-peer-coi',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if ((req.url ?? '').startsWith('/bench/peer/')) {
          res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
          res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        }
        next();
      });
    },
  };
}

export default mergeConfig(
  base,
  defineConfig({
    server: {
      // Source edits made while a bench runs (others work in this tree) would otherwise make Vite
      // full-reload the harness page and kill the engine mid-measurement.
      hmr: false,
      watch: null,
    },
    // Own pre-bundle cache: a concurrent `npm test` Vite re-optimizing node_modules/.vite must not
    // invalidate our page's dependency URLs (that also forces a reload).
    cacheDir: 'node_modules/.vite-bench',
    plugins: [peerCrossOriginIsolation()],
  }),
);
