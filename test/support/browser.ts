import { existsSync } from 'node:fs';

/** Path of the system Chromium (test tools cannot download one here); CHROMIUM_PATH overrides. */
export function chromiumPath(): string | undefined {
  const list = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return list.find((p): p is string => !!p && existsSync(p));
}

/** Flags that give headless Chromium a WebGPU adapter on SwiftShader (CPU Vulkan). */
export const webgpuArgs = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Where the static model server (test/support/model-server.mjs) serves ../shared. */
export const SHARED_URL = 'http://127.0.0.1:5174/shared';

/** Where the model server serves files that tests write into <project>/.test-models. */
export const GENERATED_URL = 'http://127.0.0.1:5174/generated';
export const GENERATED_DIR = new URL('../../.test-models/', import.meta.url);
