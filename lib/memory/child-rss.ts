/**
 * The resident set size of a child process: one reader for the governor's probe and a pool's
 * `workerMemoryLimit` checks. On Linux it reads /proc/<pid>/status and closes it at once, so no
 * descriptor outlives a reading: pidusage keeps /proc/<pid>/stat open between samples (up to a
 * minute, or `maxage`), which left descriptors open after an aborted pool or pipeline (issue 19).
 * Elsewhere it asks pidusage (`ps` or WMI there), with no cache, loaded on first use
 * (lib/core/lazy-require.ts) so `import 'spillway'` does not load it.
 */
import { readFile } from 'node:fs/promises';
import type Pidusage from 'pidusage';
import { lazyRequire } from '../core/lazy-require.ts';

const pidusage = lazyRequire<typeof Pidusage>('pidusage');

/** Bytes resident for process `pid`; rejects when it is gone. */
export async function childRss(pid: number): Promise<number> {
  if (process.platform === 'linux' || process.platform === 'android') {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    // a zombie has no VmRSS line: it holds no memory any more
    return match === null ? 0 : Number(match[1]) * 1024;
  }
  // pidusage's `ps`/WMI readers keep nothing with maxage 0; its /proc reader (Linux, Android,
  // NetBSD) never answers with it (it re-reads until a cache hit that never comes), hence /proc above
  const { memory } = await pidusage()(pid, { maxage: 0 });
  return memory;
}
