// Vite config for the benchmark's own dev server: the project's config, minus what would disturb a
// measurement. Vite bundles config files, so importing the TypeScript config works here.
import { defineConfig, mergeConfig } from 'vite';
import base from '../vite.config.ts';

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
  }),
);
