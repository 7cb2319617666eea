/**
 * One sort bench case in a fresh process, so its peak RSS is its own. Runs the case (timed, peak
 * RSS taken when it ends), then reads the Parquet it wrote back (untimed) and prints one JSON line
 * `{ rows, ms, maxRss, check }`: `check` has the row count, the sum of `id` (the multiset), whether
 * (price, ts) never decreases, and a hash of the first 1000 (price, ts) pairs.
 * Usage: sort-case.ts <case> <input CSV> <output Parquet>
 */
import { createHash } from 'node:crypto';
import { pipeline, fromCsv, fromParquet, sort, topK, toParquet, drain, mapBatch, MemoryGovernor } from 'spillway';
import { peakRss } from './peak-rss.ts';

const [name, csv, out] = process.argv.slice(2) as [string, string, string];
const LIMIT = process.env.SORT_BENCH_LIMIT ?? '256MB';
const TOP = 100;

async function duckdb(sql: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: LIMIT });
  const connection = await db.connect();
  const started = performance.now();
  await connection.run(`COPY (${sql}) TO '${out}' (FORMAT parquet, COMPRESSION snappy)`);
  timedFrom = started;
  return 0;
}

let timedFrom: number | undefined;
let details: Record<string, unknown> = {};
const spillway = async (stage: ReturnType<typeof sort>): Promise<number> => {
  const { output, stats } = await pipeline(fromCsv(csv, { cast: true, output: 'arrow' }), stage, toParquet(out), { governor: new MemoryGovernor({ limit: LIMIT }) });
  details = stats.stages.find((s) => s.name === 'sort' || s.name === 'topK')?.details ?? {};
  return output.rows;
};
const cases: Record<string, () => Promise<number>> = {
  'spillway-sort': () => spillway(sort(['price', 'ts'])),
  'duckdb-sort': () => duckdb(`SELECT * FROM read_csv('${csv}') ORDER BY price, ts`),
  'spillway-topk': () => spillway(topK(TOP, ['price', 'ts'])),
  'duckdb-topk': () => duckdb(`SELECT * FROM read_csv('${csv}') ORDER BY price, ts LIMIT ${TOP}`),
};

const fn = cases[name];
if (!fn) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(', ')}`);
const started = performance.now();
await fn();
const ms = performance.now() - (timedFrom ?? started);
const maxRss = peakRss();

// the check, untimed: read back what was written
let rows = 0;
let idSum = 0;
let sorted = true;
let prevPrice = -Infinity;
let prevTs = '';
const hash = createHash('sha1');
await pipeline(
  fromParquet(out),
  mapBatch((batch: Array<{ id: number; price: number; ts: string | Date }>) => {
    for (const r of batch) {
      const ts = typeof r.ts === 'string' ? r.ts : r.ts.toISOString();
      if (r.price < prevPrice || (r.price === prevPrice && ts < prevTs)) sorted = false;
      if (rows < 1000) hash.update(`${r.price}|${ts.slice(0, 19)};`);
      prevPrice = r.price;
      prevTs = ts;
      idSum += Number(r.id);
      rows++;
    }
    return [];
  }),
  drain(),
  { governor: false },
);
process.stdout.write(`${JSON.stringify({ rows, ms, maxRss, details, check: { rows, idSum, sorted, head: hash.digest('hex') } })}\n`);
