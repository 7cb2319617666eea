/**
 * Datasets (issue 16): a filtered read of a hive-partitioned Parquet dataset with and without
 * pushdown (partition pruning + row-group statistics), beside DuckDB's time for the same query;
 * and JSON Lines: fromJsonl against a plain JSON.parse-per-line reader. Every case checks its
 * output (row count and a checksum) against DuckDB's answer or the reader baseline.
 * Sizes: BENCH_DATASET_ROWS (default 1,000,000; the 5M: BENCH_DATASET_ROWS=5000000).
 */
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pipeline, fromParquet, fromJsonl, filter, map, drain, type Row } from 'spillway';
import { BENCH_RUNS, DATA_DIR, interleaved, type BenchRow } from './common.ts';

const ROWS = Number(process.env.BENCH_DATASET_ROWS ?? 1_000_000);
const JSONL_ROWS = Math.min(ROWS, 500_000);

/** The partitioned dataset: 10 dates x 4 symbols, row groups of 50k rows, price rising with id. */
async function dataset(): Promise<string> {
  const dir = join(DATA_DIR, `dataset-${ROWS}`);
  if (existsSync(dir)) return dir;
  mkdirSync(DATA_DIR, { recursive: true });
  process.stderr.write(`generating a ${ROWS}-row partitioned dataset into ${dir} ...\n`);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const con = await db.connect();
  await con.run(`COPY (
      SELECT i::BIGINT AS id, (i % 100000) / 100.0 AS price, (i * 7) % 1000 AS qty, 'c' || (i % 977) AS client,
             DATE '2026-11-21' + (i // ${Math.ceil(ROWS / 10)})::INTEGER AS date, ['ABC', 'DEF', 'GHI', 'JKL'][(i // 100000) % 4 + 1] AS symbol
      FROM range(${ROWS}) t(i) ORDER BY i)
    TO '${dir}.partial' (FORMAT parquet, PARTITION_BY (date, symbol), ROW_GROUP_SIZE 50000)`);
  con.closeSync();
  db.closeSync();
  renameSync(`${dir}.partial`, dir);
  return dir;
}

const SQL_WHERE = `date >= DATE '2026-11-28' AND symbol = 'DEF' AND price > 990`;
const WHERE = {
  and: [
    { col: 'date', op: '>=', value: '2026-11-28' },
    { col: 'symbol', op: '=', value: 'DEF' },
    { col: 'price', op: '>', value: 990 },
  ],
} as const;

interface Answer {
  rows: number;
  checksum: bigint;
}

async function duckdb(dir: string): Promise<Answer> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const reader = await con.runAndReadAll(
    `SELECT count(*)::BIGINT AS n, coalesce(sum(id), 0)::BIGINT AS s FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true) WHERE ${SQL_WHERE}`,
  );
  const [row] = reader.getRowObjectsJS() as Array<{ n: bigint; s: bigint }>;
  con.closeSync();
  db.closeSync();
  return { rows: Number(row!.n), checksum: BigInt(row!.s) };
}

/** Counts rows and sums ids of what reaches the end. */
function tally(): { stage: ReturnType<typeof map>; answer: Answer } {
  const answer: Answer = { rows: 0, checksum: 0n };
  const stage = map((row: Row) => {
    const r = row as { id: number | bigint };
    answer.rows++;
    answer.checksum += BigInt(r.id);
    return row;
  });
  return { stage, answer };
}

function check(label: string, got: Answer, want: Answer): void {
  if (got.rows !== want.rows || got.checksum !== want.checksum)
    throw new Error(`${label}: ${got.rows} rows, checksum ${got.checksum}; DuckDB: ${want.rows}, ${want.checksum}`);
}

async function parquetCases(): Promise<BenchRow[]> {
  const dir = await dataset();
  const want = await duckdb(dir);
  const details: Record<string, Record<string, unknown>> = {};
  const dateOf = (d: unknown): number => (d as Date).getTime();
  const from = Date.UTC(2026, 10, 28);
  const cases: Record<string, () => Promise<unknown>> = {
    'no-pushdown': async () => {
      const t = tally();
      const result = await pipeline(
        fromParquet(dir, { hive: true }),
        filter((r: Row) => {
          const row = r as { date: Date; symbol: string; price: number };
          return dateOf(row.date) >= from && row.symbol === 'DEF' && row.price > 990;
        }),
        t.stage,
        drain(),
      );
      check('no pushdown', t.answer, want);
      details['no-pushdown'] = result.stats.stages[0]!.details;
    },
    pushdown: async () => {
      const t = tally();
      const result = await pipeline(fromParquet(dir, { where: WHERE }), t.stage, drain());
      check('pushdown', t.answer, want);
      details.pushdown = result.stats.stages[0]!.details;
    },
    duckdb: async () => check('duckdb', await duckdb(dir), want),
  };
  const ms = await interleaved(cases, BENCH_RUNS);
  const bytes = (name: string): number => Number(details[name]!.bytesRead ?? 0);
  const total = bytes('no-pushdown');
  return [
    {
      group: 'datasets',
      case: `fromParquet(dir) + filter(fn), ${ROWS} rows [no pushdown]`,
      rowsPerSec: ROWS / (ms['no-pushdown']! / 1000),
      ratio: 1,
      note: `baseline; read ${(total / 1e6).toFixed(1)} MB; ${want.rows} rows match`,
    },
    {
      group: 'datasets',
      case: 'fromParquet(dir, { where }) [pruning + row-group pushdown]',
      rowsPerSec: ROWS / (ms.pushdown! / 1000),
      ratio: ms['no-pushdown']! / ms.pushdown!,
      note: `read ${(bytes('pushdown') / 1e6).toFixed(2)} MB; files pruned ${String(details.pushdown!.filesPruned)}/${String(details.pushdown!.files)}, row groups skipped ${String(details.pushdown!.rowGroupsSkipped)}, read ${String(details.pushdown!.rowGroupsRead)}`,
    },
    {
      group: 'datasets',
      case: 'DuckDB read_parquet(hive_partitioning) WHERE ... (1 thread)',
      rowsPerSec: ROWS / (ms.duckdb! / 1000),
      ratio: ms['no-pushdown']! / ms.duckdb!,
      note: `${ms.duckdb!.toFixed(0)} ms vs spillway pushdown ${ms.pushdown!.toFixed(0)} ms`,
    },
  ];
}

async function jsonlCases(): Promise<BenchRow[]> {
  mkdirSync(DATA_DIR, { recursive: true });
  const file = join(DATA_DIR, `events-${JSONL_ROWS}.jsonl`);
  if (!existsSync(file)) {
    const lines: string[] = [];
    for (let i = 0; i < JSONL_ROWS; i++)
      lines.push(
        JSON.stringify({
          id: i,
          user: `u${i % 5000}`,
          kind: ['view', 'click', 'buy'][i % 3],
          amount: (i % 1000) / 10,
          tags: ['a', 'b'],
          at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
        }),
      );
    writeFileSync(`${file}.partial`, `${lines.join('\n')}\n`);
    renameSync(`${file}.partial`, file);
  }
  const bytes = statSync(file).size;
  const expected = { rows: JSONL_ROWS, checksum: (BigInt(JSONL_ROWS) * BigInt(JSONL_ROWS - 1)) / 2n };
  const ms = await interleaved(
    {
      'json-parse': async () => {
        const answer: Answer = { rows: 0, checksum: 0n };
        const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
        for await (const line of lines) {
          if (line === '') continue;
          const row = JSON.parse(line) as { id: number };
          answer.rows++;
          answer.checksum += BigInt(row.id);
        }
        check('JSON.parse per line', answer, expected);
      },
      fromJsonl: async () => {
        const t = tally();
        await pipeline(fromJsonl(file), t.stage, drain());
        check('fromJsonl', t.answer, expected);
      },
    },
    BENCH_RUNS,
  );
  const base = JSONL_ROWS / (ms['json-parse']! / 1000);
  return [
    {
      group: 'datasets',
      case: `readline + JSON.parse per line, ${JSONL_ROWS} rows`,
      rowsPerSec: base,
      mbPerSec: bytes / 1e6 / (ms['json-parse']! / 1000),
      ratio: 1,
      note: 'baseline (rounds integers beyond 2^53)',
    },
    {
      group: 'datasets',
      case: 'fromJsonl -> map -> drain',
      rowsPerSec: JSONL_ROWS / (ms.fromJsonl! / 1000),
      mbPerSec: bytes / 1e6 / (ms.fromJsonl! / 1000),
      ratio: JSONL_ROWS / (ms.fromJsonl! / 1000) / base,
      note: 'bigint-exact; includes the pipeline and a map stage',
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rows = [...(await parquetCases()), ...(await jsonlCases())];
  if (process.env.BENCH_DATASET_CLEAN) rmSync(join(DATA_DIR, `dataset-${ROWS}`), { recursive: true, force: true });
  return rows;
}
