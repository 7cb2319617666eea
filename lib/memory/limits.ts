/**
 * The limits a process really has, besides the one a user gives the governor. V8 aborts the whole
 * process ("JavaScript heap out of memory") when its old generation is full, long before
 * `heap_size_limit` is reached: that figure also counts the young generation's reserve (55 of
 * 151 MB with `--max-old-space-size=96`). So the heap a pipeline may fill is the old-generation
 * limit, read from the flag when the process was started with one. And a governor left at its
 * default must not let a run grow to the whole machine: its default limit follows the heap limit
 * (what the user configured, or what Node chose for this machine) and the cgroup or machine memory.
 */
import v8 from 'node:v8';

const MiB = 1024 * 1024;

/** The last `--max-old-space-size` in `argv` (MiB), or undefined. */
export function maxOldSpaceFlag(argv: readonly string[]): number | undefined {
  let found: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--max[-_]old[-_]space[-_]size(?:=(\d+))?$/.exec(arg);
    if (!m) continue;
    const value = m[1] ?? argv[i + 1];
    const n = Number(value);
    if (Number.isFinite(n) && n > 0) found = n;
  }
  return found;
}

/**
 * Bytes of V8 heap this process can fill before V8 aborts it: the old-generation limit. From
 * `--max-old-space-size` (in `process.execArgv` or `NODE_OPTIONS`) when given, else
 * `heap_size_limit` less the young generation's reserve (estimated as 6%, at least 48 MiB).
 */
export function usableHeapLimit(heapSizeLimit: number = v8.getHeapStatistics().heap_size_limit): number {
  const flag = maxOldSpaceFlag([...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), ...process.execArgv]);
  if (flag !== undefined) return Math.min(heapSizeLimit, flag * MiB);
  return Math.max(Math.floor(heapSizeLimit / 2), heapSizeLimit - Math.max(48 * MiB, Math.floor(heapSizeLimit * 0.06)));
}
