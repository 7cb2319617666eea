/**
 * `npm run bench [-- filter]`: runs every bench module (or those whose name contains the filter),
 * prints one table of figures measured side by side in this run, and writes bench/RESULTS.md.
 */
import { writeFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BENCH_ROWS, BENCH_RUNS, type BenchRow } from './common.ts';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'common.ts'].includes(f))
  .filter((f) => !filter || f.includes(filter))
  .sort();

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;

const rows: BenchRow[] = [];
for (const file of modules) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run?: () => Promise<BenchRow[]> };
  if (typeof mod.run !== 'function') continue;
  process.stderr.write(`bench ${file} ...\n`);
  const started = performance.now();
  try {
    const result = await mod.run();
    rows.push(...result.map((r) => ({ group: r.group ?? file.replace(/\.ts$/, ''), ...r })));
  } catch (error) {
    // one failing benchmark must not hide the others' figures: it gets a row saying why
    rows.push({
      group: file.replace(/\.ts$/, ''),
      case: 'FAILED',
      note: String((error as Error).message ?? error).split('\n')[0],
    });
    process.exitCode = 1;
  }
  process.stderr.write(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

const header = ['group', 'case', 'rows/s', 'MB/s', 'ratio', 'peak RSS MB', 'note'];
const table = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map(
    (r) =>
      `| ${[r.group, r.case, fmt(r.rowsPerSec), fmt(r.mbPerSec, 1), fmt(r.ratio, 2), r.peakRss === undefined ? '' : fmt(r.peakRss / 1e6), r.note ?? ''].join(' | ')} |`,
  ),
].join('\n');

console.log(`\nMachine: ${machine}; bench rows: ${BENCH_ROWS}; medians of ${BENCH_RUNS} interleaved runs\n`);
console.log(table);
if (!filter) {
  writeFileSync(
    join(here, 'RESULTS.md'),
    `# Benchmark results\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\nMachine: ${machine}. Bench data: ${BENCH_ROWS} generated trades (samples/trades-data.ts). Each figure is the median of ${BENCH_RUNS} runs, cases interleaved so that drift hits all alike. Ratios compare cases measured in the same run.\n\n${table}\n`,
  );
  console.log('\nwrote bench/RESULTS.md');
}
