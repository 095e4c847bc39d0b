import { defineConfig } from 'vite';

// The app is static: `vite build` emits dist/ for any static host. The dev server also serves the
// browser-test harness (test/harness.html), which imports the engine straight from src/.
export default defineConfig({
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  worker: { format: 'es' },
  // Pre-bundle everything up front: a dependency discovered mid-session makes Vite reload the page,
  // which would kill a running engine (and a browser test with it).
  optimizeDeps: { entries: ['index.html', 'test/harness.html', 'src/worker/engine-worker.ts'], include: ['comlink', 'lit', 'lit/decorators.js'] },
  build: { target: 'es2022', sourcemap: true },
});
