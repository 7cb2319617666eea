/**
 * Datasets (issue 16): pushdown on a hive-partitioned Parquet dataset: a full scan, a filter on
 * a partition column, a filter on a column with row-group statistics, and both, each run by
 * spillway and by DuckDB in the same run (time and bytes read); and JSON Lines: fromJsonl against
 * a plain JSON.parse-per-line reader. Every case checks its output (row count and a checksum of
 * ids) against the generator's formulas or the reader baseline.
 * Sizes: BENCH_DATASET_ROWS (default 1,000,000; the issue's 5M: BENCH_DATASET_ROWS=5000000).
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pipeline, fromParquet, fromJsonl, map, drain, type Predicate, type Row } from 'spillway';
import type { DuckDBConnection } from '@duckdb/node-api';
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

/** One query of the pushdown cases: DuckDB's WHERE, spillway's `where`, and its row count from the generator. */
interface Query {
  name: string;
  sql: string;
  where?: Predicate;
  /** True for row `i` of the generator (the expected count is computed from it, not from either engine). */
  keeps(i: number): boolean;
}

const symbolOf = (i: number): string => ['ABC', 'DEF', 'GHI', 'JKL'][Math.floor(i / 100_000) % 4]!;
const LO = Math.floor((ROWS * 40) / 100);
const HI = Math.floor((ROWS * 41) / 100);
const DATE_FROM = 7; // day index of 2026-11-28

const QUERIES: Query[] = [
  { name: 'full scan', sql: 'TRUE', keeps: () => true },
  {
    name: 'partition column (symbol = DEF)',
    sql: `symbol = 'DEF'`,
    where: { col: 'symbol', op: '=', value: 'DEF' },
    keeps: (i) => symbolOf(i) === 'DEF',
  },
  {
    name: `statistics column (${LO} <= id < ${HI})`,
    sql: `id >= ${LO} AND id < ${HI}`,
    where: {
      and: [
        { col: 'id', op: '>=', value: LO },
        { col: 'id', op: '<', value: HI },
      ],
    },
    keeps: (i) => i >= LO && i < HI,
  },
  {
    name: 'both (date, symbol, price)',
    sql: `date >= DATE '2026-11-28' AND symbol = 'DEF' AND price > 990`,
    where: {
      and: [
        { col: 'date', op: '>=', value: '2026-11-28' },
        { col: 'symbol', op: '=', value: 'DEF' },
        { col: 'price', op: '>', value: 990 },
      ],
    },
    keeps: (i) =>
      Math.floor(i / Math.ceil(ROWS / 10)) >= DATE_FROM && symbolOf(i) === 'DEF' && (i % 100000) / 100 > 990,
  },
];

interface Answer {
  rows: number;
  checksum: bigint;
}

/** Bytes this process read through read(2)/pread(2) so far (Linux; both engines run in this process). */
function processReadBytes(): number {
  try {
    return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** The expected answer, from the generator's formulas. */
function expected(q: Query): Answer {
  const answer: Answer = { rows: 0, checksum: 0n };
  for (let i = 0; i < ROWS; i++)
    if (q.keeps(i)) {
      answer.rows++;
      answer.checksum += BigInt(i);
    }
  return answer;
}

async function duckdb(con: DuckDBConnection, dir: string, q: Query): Promise<Answer> {
  const reader = await con.runAndReadAll(
    `SELECT count(*)::BIGINT AS n, coalesce(sum(id), 0)::BIGINT AS s FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true) WHERE ${q.sql}`,
  );
  const [row] = reader.getRowObjectsJS() as Array<{ n: bigint; s: bigint }>;
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
    throw new Error(`${label}: ${got.rows} rows, checksum ${got.checksum}; expected ${want.rows}, ${want.checksum}`);
}

const mb = (bytes: number): string => (Number.isNaN(bytes) ? '?' : `${(bytes / 1e6).toFixed(2)} MB`);

/**
 * Each query run by spillway (`where`, projection to `id`) and by DuckDB (count and sum of `id`),
 * interleaved in one run: time, bytes read (spillway's `bytesRead`; for both, the process's
 * read(2) bytes), and the row count and id checksum checked against the generator's formulas.
 */
async function pushdownCases(): Promise<BenchRow[]> {
  const dir = await dataset();
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const io: Record<string, number> = {};
  const details: Record<string, Record<string, unknown>> = {};
  const cases: Record<string, () => Promise<unknown>> = {};
  for (const q of QUERIES) {
    const want = expected(q);
    cases[`spillway ${q.name}`] = async () => {
      const t = tally();
      const before = processReadBytes();
      const result = await pipeline(
        fromParquet(dir, { columns: ['id'], ...(q.where ? { where: q.where } : {}) }),
        t.stage,
        drain(),
      );
      io[`spillway ${q.name}`] = processReadBytes() - before;
      check(`spillway ${q.name}`, t.answer, want);
      details[q.name] = result.stats.stages[0]!.details;
    };
    cases[`duckdb ${q.name}`] = async () => {
      const before = processReadBytes();
      const got = await duckdb(con, dir, q);
      io[`duckdb ${q.name}`] = processReadBytes() - before;
      check(`duckdb ${q.name}`, got, want);
    };
  }
  const ms = await interleaved(cases, BENCH_RUNS);
  con.closeSync();
  db.closeSync();
  const full = QUERIES[0]!.name;
  const rows: BenchRow[] = [];
  for (const q of QUERIES) {
    const d = details[q.name]!;
    const pruned = d.filesPruned === undefined ? '' : `, files pruned ${String(d.filesPruned)}/${String(d.files)}`;
    const groups = q.where
      ? `, row groups read ${String(d.rowGroupsRead)}, skipped ${String(d.rowGroupsSkipped ?? 0)}`
      : ', every row group';
    for (const engine of ['spillway', 'duckdb'] as const) {
      const key = `${engine} ${q.name}`;
      rows.push({
        group: 'datasets-pushdown',
        case: `${engine === 'spillway' ? 'spillway fromParquet' : 'DuckDB read_parquet (1 thread)'}: ${q.name}`,
        rowsPerSec: ROWS / (ms[key]! / 1000),
        ratio: ms[`${engine} ${full}`]! / ms[key]!,
        note: `${ms[key]!.toFixed(0)} ms; ${expected(q).rows} rows (checked); read(2) ${mb(io[key]!)}${engine === 'spillway' ? `; bytesRead ${mb(Number(d.bytesRead))}${pruned}${groups}` : ''}`,
      });
    }
  }
  return rows;
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
  // BENCH_DATASET_ONLY=pushdown runs the pushdown cases alone
  const only = process.env.BENCH_DATASET_ONLY;
  const rows = [
    ...(only === undefined || only === 'pushdown' ? await pushdownCases() : []),
    ...(only === undefined || only === 'jsonl' ? await jsonlCases() : []),
  ];
  if (process.env.BENCH_DATASET_CLEAN) rmSync(join(DATA_DIR, `dataset-${ROWS}`), { recursive: true, force: true });
  return rows;
}
