/**
 * One scale case in a fresh process, so its peak RSS is its own (VmHWM). Prints one JSON line
 * `{ rows, ms, maxRss }`; `ms` is the pipeline only. The `checksum` case reads a CSV or Parquet
 * file with DuckDB and prints `{ rows, sumId, sumQty }`, which bench/scale.ts and test/e2e/scale.test.ts
 * compare between input and output, so a case that drops or changes rows cannot score.
 * Usage: scale-case.ts <csv-parquet | parquet-csv | checksum> <input> [output]
 */
import { pipeline, fromCsv, fromParquet, toParquet, toCsv } from 'spillway';
import { peakRss } from './peak-rss.ts';

const [name, input, output] = process.argv.slice(2) as [string, string, string | undefined];

/** Read by DuckDB, an independent reader (and about five times faster than a rows pass here). */
async function checksum(file: string): Promise<{ rows: number; sumId: number; sumQty: number }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const path = `'${file.replaceAll("'", "''")}'`;
  const from = file.endsWith('.parquet') ? `read_parquet(${path})` : `read_csv(${path}, header = true)`;
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::DOUBLE AS rows, sum(id)::DOUBLE AS sumId, sum(qty)::DOUBLE AS sumQty FROM ${from}`,
  );
  return reader.getRowObjectsJson()[0] as unknown as { rows: number; sumId: number; sumQty: number };
}

if (name === 'checksum') {
  process.stdout.write(`${JSON.stringify(await checksum(input))}\n`);
} else {
  if (!output) throw new Error('an output path is needed');
  const started = performance.now();
  let rows: number;
  if (name === 'csv-parquet') {
    // the pipeline as the README writes it: no performance options
    rows = (await pipeline(fromCsv(input, { cast: true }), toParquet(output))).output.rows;
  } else if (name === 'parquet-csv') {
    rows = (await pipeline(fromParquet(input), toCsv(output))).stats.rowsOut;
  } else {
    throw new Error(`unknown case ${name}`);
  }
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ rows, ms, maxRss: peakRss() })}\n`);
}
