import { defineConfig } from '@playwright/test';

// The `grammar` bench suite (node bench/run.mjs --only grammar): Node only, no browser, no servers.
export default defineConfig({
  testDir: '.',
  testMatch: /grammar\.bench\.ts$/,
  timeout: 1_800_000,
  workers: 1,
  reporter: [['list']],
});
