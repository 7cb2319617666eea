/**
 * Property test (issue 18, Must have 6): fast-check generates tables of many types (nullable
 * scalars, exact decimals, int64 beyond 2^53, micro- and nanosecond timestamps, strings with
 * any Unicode, nested lists and structs with empty and null values), DuckDB writes them to
 * Parquet, spillway reads them on both paths and must give exactly what DuckDB reads back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { tempDir } from '../../../helpers.ts';
import { duckRows, duckRun, fromDuck, fromSpillway, sqlString } from './duckdb.ts';

const dir = tempDir('spillway-prop-');

/** A column: its DuckDB type and an arbitrary SQL literal of it (or NULL). */
interface ColumnKind {
  type: string;
  value: fc.Arbitrary<string>;
}

const nullable = (a: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant('NULL') }, { weight: 4, arbitrary: a });
const int64 = fc.bigInt({ min: -(2n ** 63n) + 1n, max: 2n ** 63n - 1n }).map((v) => `(${v})::BIGINT`);
const decimal = (p: number, s: number): fc.Arbitrary<string> =>
  fc.bigInt({ min: -(10n ** BigInt(p)) + 1n, max: 10n ** BigInt(p) - 1n }).map((v) => {
    const neg = v < 0n;
    const digits = (neg ? -v : v).toString().padStart(s + 1, '0');
    return `(${neg ? '-' : ''}${digits.slice(0, digits.length - s)}.${digits.slice(digits.length - s)})::DECIMAL(${p},${s})`;
  });
const micros = fc
  .bigInt({ min: -62_000_000_000_000_000n, max: 250_000_000_000_000_000n })
  .map((v) => `make_timestamp(${v}::BIGINT)`);
const nanos = fc
  .bigInt({ min: -9_000_000_000_000_000_000n, max: 9_000_000_000_000_000_000n })
  .map((v) => `make_timestamp_ns(${v}::BIGINT)`);
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).map(sqlString);

const KINDS: ColumnKind[] = [
  { type: 'BIGINT', value: nullable(int64) },
  { type: 'UBIGINT', value: nullable(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => `${v}::UBIGINT`)) },
  { type: 'DECIMAL(9,2)', value: nullable(decimal(9, 2)) },
  { type: 'DECIMAL(18,6)', value: nullable(decimal(18, 6)) },
  { type: 'DECIMAL(38,10)', value: nullable(decimal(38, 10)) },
  { type: 'TIMESTAMP', value: nullable(micros) },
  { type: 'TIMESTAMP_NS', value: nullable(nanos) },
  { type: 'VARCHAR', value: nullable(text) },
  {
    type: 'DOUBLE',
    value: nullable(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => `${Object.is(d, -0) ? '-0.0' : d}::DOUBLE`),
    ),
  },
  {
    type: 'DECIMAL(18,6)[]',
    value: nullable(
      fc.array(nullable(decimal(18, 6)), { maxLength: 4 }).map((a) => `[${a.join(', ')}]::DECIMAL(18,6)[]`),
    ),
  },
  {
    type: 'BIGINT[][]',
    value: nullable(
      fc
        .array(nullable(fc.array(nullable(int64), { maxLength: 3 }).map((a) => `[${a.join(', ')}]::BIGINT[]`)), {
          maxLength: 3,
        })
        .map((a) => `[${a.join(', ')}]::BIGINT[][]`),
    ),
  },
  {
    type: 'STRUCT(d DECIMAL(38,10), t TIMESTAMP_NS, s VARCHAR[])',
    value: nullable(
      fc
        .tuple(
          nullable(decimal(38, 10)),
          nullable(nanos),
          nullable(fc.array(nullable(text), { maxLength: 3 }).map((a) => `[${a.join(', ')}]::VARCHAR[]`)),
        )
        .map(([d, t, s]) => `{'d': ${d}, 't': ${t}, 's': ${s}}`),
    ),
  },
];

const table = fc
  .uniqueArray(fc.integer({ min: 0, max: KINDS.length - 1 }), { minLength: 1, maxLength: 5 })
  .chain((kinds) =>
    fc.tuple(
      fc.constant(kinds),
      fc.array(fc.tuple(...kinds.map((k) => KINDS[k]!.value)), { minLength: 1, maxLength: 6 }),
    ),
  );

test('DuckDB-written tables of generated values read back exactly, on the rows and Arrow paths', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(table, async ([kinds, rows]) => {
      const file = join(dir, `t${n++}.parquet`);
      const names = kinds.map((_, i) => `c${i}`);
      const values = rows.map((r) => `(${r.map((v, i) => `${v}::${KINDS[kinds[i]!]!.type}`).join(', ')})`).join(',\n');
      await duckRun(`COPY (SELECT * FROM (VALUES ${values}) t(${names.join(', ')})) TO ${sqlString(file)}`);
      const duck = await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`);
      const reader = await openParquet(file, { batchSize: 4 });
      try {
        const got: Record<string, unknown>[] = [];
        for await (const b of reader.batches()) got.push(...b.rows);
        const arrow: Record<string, unknown>[] = [];
        for await (const b of reader.recordBatches())
          arrow.push(...(recordBatchToRows(b.batch) as Record<string, unknown>[]));
        assert.equal(got.length, duck.rows.length);
        for (const [i, row] of got.entries()) {
          for (const name of names) {
            assert.deepEqual(
              fromSpillway(row[name]),
              fromDuck(duck.rows[i]![name]),
              `row ${i} ${name} (${KINDS[kinds[names.indexOf(name)]!]!.type})`,
            );
            // nested values are Arrow List and Struct: the same values, to the type
            assert.deepStrictEqual(arrow[i]![name], row[name], `Arrow row ${i} ${name}`);
          }
        }
      } finally {
        await reader.close();
      }
    }),
    { numRuns: Number(process.env.SPILLWAY_PROPERTY_RUNS ?? 40) },
  );
});
