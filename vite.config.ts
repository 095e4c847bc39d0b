import { defineConfig } from 'vite';

// The app is static: `vite build` emits dist/ for any static host. The dev server also serves the
// browser-test harness (test/harness.html), which imports the engine straight from src/.
export default defineConfig({
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
});
