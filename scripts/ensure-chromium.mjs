// Finds a Chromium for the browser tests and benchmarks. Test tools cannot download browsers
// here, so we use the system package: on Debian as root we install it, elsewhere we say how.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
const found = candidates.find((p) => existsSync(p));
if (found) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version');
if (isRoot && isDebian) {
  console.log('No Chromium found: installing the Debian package "chromium" (apt-get)...');
  execSync('apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium', { stdio: 'inherit' });
  if (existsSync('/usr/bin/chromium')) process.exit(0);
}
console.error(
  'No Chromium found. The tests drive a system Chromium (with WebGPU on SwiftShader).\n' +
    '  Debian/Ubuntu:  sudo apt-get install -y chromium   (or chromium-browser)\n' +
    '  elsewhere:      install Chromium and set CHROMIUM_PATH=/path/to/chromium',
);
process.exit(1);
