/**
 * The resident set size of a child process, for a pool's `workerMemoryLimit` checks. On Linux
 * it reads /proc/<pid>/status and closes it at once: pidusage keeps /proc/<pid>/stat open between
 * samples (for up to a minute), which leaked descriptors when a pool was aborted. Elsewhere it
 * asks pidusage with no cache.
 */
import { readFile } from 'node:fs/promises';
import pidusage from '../../memory/pidusage.ts';

/** Bytes resident for process `pid`; rejects when it is gone. */
export async function childRss(pid: number): Promise<number> {
  if (process.platform === 'linux') {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    // a zombie has no VmRSS line: it holds no memory any more
    return match === null ? 0 : Number(match[1]) * 1024;
  }
  const { memory } = await pidusage(pid, { maxage: 0 });
  return memory;
}
