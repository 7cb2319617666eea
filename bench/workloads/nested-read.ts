/**
 * One read of a nested Parquet file in a process of its own (bench/parquet-nested.ts), so that
 * its peak RSS (VmHWM) is its own: `spillway-rows`, `spillway-arrow`, `hyparquet` or `duckdb`.
 * Prints `{ rows, sum, ms, peakRss }`: sum is the sum of every integer of the list column
 * (argument 3: `ll`, a list<list<int>>, by default; `l` for a list<int>). Argument 4, when given,
 * is spillway's `maxNestedPageValues`.
 */
import { readFileSync } from 'node:fs';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DuckDBInstance } from '@duckdb/node-api';
import { fromParquet } from 'spillway';
import { recordBatchToRows } from 'spillway/arrow';
import type { Batch } from 'spillway/extend';

const [mode, path, column = 'll', maxNested] = process.argv.slice(2) as [string, string, string?, string?];
const started = performance.now();
let rows = 0;
let sum = 0;
const add = (value: unknown): void => {
  if (Array.isArray(value)) for (const v of value as unknown[]) add(v);
  else if (value !== null && value !== undefined) sum += Number(value);
};

if (mode === 'spillway-rows' || mode === 'spillway-arrow') {
  const arrow = mode === 'spillway-arrow';
  for await (const chunk of fromParquet(path, {
    batchSize: 10_000,
    ...(maxNested ? { maxNestedPageValues: Number(maxNested) } : {}),
    ...(arrow ? { output: 'arrow' as const } : {}),
  })) {
    const batch = chunk as Batch;
    const list = arrow
      ? (recordBatchToRows(batch.toArrow()) as Record<string, unknown>[])
      : (batch.rows as Record<string, unknown>[]);
    for (const r of list) add(r[column]);
    rows += batch.numRows;
  }
} else if (mode === 'hyparquet') {
  const file = await asyncBufferFromFile(path);
  const all = (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[];
  for (const r of all) add(r[column]);
  rows = all.length;
} else if (mode === 'duckdb') {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const r = await c.runAndReadAll(
    `SELECT count(*)::DOUBLE AS n, coalesce(sum(${column === 'll' ? 'list_sum(list_transform(ll, x -> list_sum(x)))' : `list_sum(${column})`}), 0)::DOUBLE AS s FROM read_parquet('${path.replaceAll("'", "''")}')`,
  );
  const [n, s] = r.getRows()[0] as [number, number];
  rows = n;
  sum = s;
} else {
  throw new Error(`unknown mode ${mode}`);
}
const peakRss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
console.log(JSON.stringify({ rows, sum, ms: performance.now() - started, peakRss }));
