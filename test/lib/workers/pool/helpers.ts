/** Shared helpers of the pool tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** URL of a fixture module under test/fixtures/pool. */
export function fixture(name: string): URL {
  return new URL(`../../../fixtures/pool/${name}`, import.meta.url);
}

/** True while a process with this pid exists (the one in test/helpers.ts). */
export { alive } from '../../../helpers.ts';

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-pool-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
