/**
 * One case of the two-phase groupBy bench (bench/two-phase.ts) in a fresh process: prints one JSON
 * line `{ ms, summary }`, `summary` the groups' symbol, count, volume and digest sorted by symbol.
 * Usage: two-phase-case.ts <light|heavy> <one|two> <csv>
 */
import { pipeline, fromCsv, groupBy, mergeGroups, parallel, collect } from 'spillway';
import { heavy, light } from './two-phase.ts';

const [which, mode, csv] = process.argv.slice(2) as ['light' | 'heavy', 'one' | 'two', string];
// the compiled copy runs the compiled worker module (no tsx in the workers), the source the source
const MODULE = new URL(import.meta.url.endsWith('.ts') ? './two-phase.ts' : './two-phase.js', import.meta.url);
const aggregates = which === 'heavy' ? heavy : light;

type Group = { symbol: string; n: number; volume: number; digest?: number };
const started = performance.now();
const stages =
  mode === 'one'
    ? [fromCsv(csv, { cast: true }), groupBy('symbol', aggregates), collect<Group>()]
    : [
        fromCsv(csv, { cast: true }),
        parallel(MODULE, { kind: 'batch', workers: 2, export: which === 'heavy' ? 'partialHeavy' : 'partialLight' }),
        mergeGroups('symbol', aggregates),
        collect<Group>(),
      ];
const { output } = await (pipeline as (...args: unknown[]) => Promise<{ output: Group[] }>)(...stages);
const ms = performance.now() - started;
const sorted = [...output].sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
const summary = JSON.stringify(sorted.map((r) => [r.symbol, r.n, r.volume, r.digest ?? null]));
process.stdout.write(`${JSON.stringify({ ms, rows: output.reduce((s, r) => s + r.n, 0), summary })}\n`);
