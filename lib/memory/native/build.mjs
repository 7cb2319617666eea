// The install step of spillway's allocator helper (allocator.c): builds it with the node-gyp
// that npm provides, on Linux only (it wraps glibc calls). It never fails the install: without a
// compiler, spillway works as before and `governor.summary().allocator` says why (see
// docs/governor.md). Set SPILLWAY_SKIP_NATIVE=1 to skip it.
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const gyp = process.env.npm_config_node_gyp;
let skip;
if (process.env.SPILLWAY_SKIP_NATIVE) skip = 'SPILLWAY_SKIP_NATIVE is set';
else if (process.platform !== 'linux') skip = `it wraps glibc, and this is ${process.platform}`;
else if (!gyp) skip = 'npm did not provide node-gyp (npm_config_node_gyp is unset)';
if (skip) console.log(`spillway: allocator helper not built: ${skip}`);
else {
  try {
    execFileSync(process.execPath, [gyp, 'rebuild'], { cwd: here, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const reason = String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
    console.log(`spillway: allocator helper not built (spillway works without it): ${reason}`);
  }
}
