// Which Chromium the tests and the benchmark drive, and the flags that give it WebGPU on
// SwiftShader (CPU Vulkan). Plain JS so both Playwright's TypeScript and plain Node can import it.
import { existsSync } from 'node:fs';

/** Flags that give headless Chromium a WebGPU adapter on SwiftShader (no GPU needed). */
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

/** Path of the system Chromium (test tools cannot download one here); CHROMIUM_PATH overrides. */
export function chromiumPath() {
  const list = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return list.find((p) => !!p && existsSync(p));
}
