import { defineConfig } from '@playwright/test';
import { chromiumPath, webgpuArgs } from './test/support/browser.ts';

// Browser tests run in the system Chromium with WebGPU on SwiftShader (no GPU, no shader-f16).
// Four servers: Vite (app + test harness), a static Range server for ../shared models, an imitation
// of Hugging Face (test/support/hf-server.mjs), and the production build (`vite build` + `vite preview`) for the PWA tests (service worker, manifest, offline).
// LAYERSTREAM_APP_PORT: the Vite port (default 5173), to run a second checkout's browser tests beside another
const APP_PORT = Number(process.env.LAYERSTREAM_APP_PORT ?? 5173);

export default defineConfig({
  testDir: 'test',
  testMatch: /.*\.spec\.ts$/,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : 2,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath(), args: webgpuArgs },
  },
  webServer: [
    { command: `npx vite --port ${APP_PORT} --strictPort`, env: { LAYERSTREAM_STATIC_DEV: '1' }, url: `http://127.0.0.1:${APP_PORT}/index.html`, reuseExistingServer: !process.env.CI, timeout: 60_000 },
    { command: 'node test/support/model-server.mjs', url: 'http://127.0.0.1:5174/health', reuseExistingServer: !process.env.CI, timeout: 30_000 },
    // an imitation of huggingface.co (5175) and its CDN (5176) for test/huggingface.spec.ts
    { command: 'node test/support/hf-server.mjs', url: 'http://127.0.0.1:5175/health', reuseExistingServer: !process.env.CI, timeout: 30_000 },
    { command: 'npx vite build --outDir .pwa-dist --emptyOutDir && npx vite preview --outDir .pwa-dist --port 4173 --strictPort', url: 'http://127.0.0.1:4173/index.html', reuseExistingServer: !process.env.CI, timeout: 180_000 },
  ],
});
