/**
 * The governor under a held-state workload (bench/workloads/held-state.ts) on the bench CSV:
 * peak RSS with the governor against without, each in a process of its own, same run.
 * (The cost of governing an unpressured pipeline is in the csv group: governor on vs off.)
 */
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCsv, type BenchRow } from './common.ts';
import { workloadArgs } from './workload.ts';

const _here = dirname(fileURLToPath(import.meta.url));
const LIMIT = 400e6;

function runWorkload(
  path: string,
  mode: 'on' | 'off',
): { rows: number; ms: number; peakRss: number; pressureEvents: number; pausedMs: number } {
  const out = execFileSync(process.execPath, workloadArgs('held-state.ts', [path, String(LIMIT), mode]), {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ReturnType<typeof runWorkload>;
}

export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const off = runWorkload(data.path, 'off');
  const on = runWorkload(data.path, 'on');
  const row = (label: string, r: typeof on, note: string): BenchRow => ({
    group: 'governor',
    case: label,
    rowsPerSec: r.rows / (r.ms / 1000),
    peakRss: r.peakRss,
    ratio: r.peakRss / LIMIT,
    note,
  });
  return [
    row('held state, no governor', off, 'ratio = peak RSS / 400 MB limit'),
    row(
      `held state, governor limit 400 MB`,
      on,
      `goal: peak < limit + 64 MB; ${on.pressureEvents} pauses, ${(on.pausedMs / 1000).toFixed(1)} s paused`,
    ),
  ];
}
