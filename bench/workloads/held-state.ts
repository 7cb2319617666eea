/**
 * A held-state workload, run as its own process so its peak RSS is its own: a transform keeps a
 * growing per-symbol aggregate (about 2 kB of heap per row) and commits it in bursts on a timer,
 * as a job that batches writes to a database would. Without a governor rows arrive faster than
 * the commits free memory; with one, the source pauses until a commit brings relief.
 *
 *   node --conditions=spillway-source --import tsx bench/workloads/held-state.ts CSV LIMIT on|off
 * prints one JSON line: { rows, ms, peakRss, pressureEvents, pausedMs }.
 */
import { pipeline, fromCsv, map, drain, MemoryGovernor } from 'spillway';
import { peakRss } from './peak-rss.ts';

const [path, limitText = '400MB', mode = 'on'] = process.argv.slice(2);
if (!path) throw new Error('usage: held-state.ts CSV LIMIT on|off');
const governor = mode === 'on' ? new MemoryGovernor({ limit: limitText, leak: false }) : false;

let held = new Map<string, number[][]>();
const commit = setInterval(() => {
  held = new Map(); // the burst commit: everything held so far is written out and released
}, 1000);

const started = performance.now();
const { stats } = await pipeline(
  fromCsv(path),
  map((row: Record<string, string>) => {
    const key = row.symbol ?? '';
    let list = held.get(key);
    if (!list) held.set(key, (list = []));
    list.push(new Array<number>(256).fill(list.length)); // ~2 kB of heap state a row leaves behind
    return row;
  }),
  drain(),
  { governor },
);
clearInterval(commit);
if (governor) governor.close();
console.log(
  JSON.stringify({
    rows: stats.rowsOut,
    ms: Math.round(performance.now() - started),
    peakRss: peakRss(),
    pressureEvents: stats.memory?.pressureEvents ?? 0,
    pausedMs: stats.memory?.pausedMs ?? 0,
  }),
);
