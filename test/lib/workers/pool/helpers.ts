/** Shared helpers of the pool tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runnableUrl } from '../../../helpers.ts';

/** URL of a fixture module under test/fixtures/pool (compiled, when npm test built the project). */
export function fixture(name: string): URL {
  return runnableUrl(`test/fixtures/pool/${name}`);
}

/** True while a process with this pid exists (the one in test/helpers.ts). */
export { alive } from '../../../helpers.ts';

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-pool-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
