/** uniqueNames follows DuckDB's renaming of duplicate and empty column names, checked against DuckDB itself. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetWriteFile } from 'hyparquet-writer';
import { uniqueNames, renamedColumns } from '../../../../../lib/formats/parquet/read/names.ts';
import { openParquet } from '../../../../../lib/formats/parquet/reader.ts';
import { tempDir } from '../../../../helpers.ts';
import { duckRows, sqlString } from '../duckdb.ts';

// what DuckDB 1.5's read_parquet named these files' columns
const CASES: [string[], string[]][] = [
  [
    ['column', 'column_1', 'column', '', 'column'],
    ['column', 'column_1', 'column_1_1', 'C3', 'column_2'],
  ],
  [
    ['a', 'A', 'a_1', 'a', 'a', 'a_1'],
    ['a', 'A_1', 'a_1_1', 'a_2', 'a_3', 'a_1_2'],
  ],
  [
    ['a_1', 'a', 'a', 'a_1_1', 'a'],
    ['a_1', 'a', 'a_1_1', 'a_1_1_1', 'a_2'],
  ],
  [
    ['x', 'x_1', 'x_1', 'x'],
    ['x', 'x_1', 'x_1_1', 'x_1_2'],
  ],
  [
    ['', 'c', ''],
    ['C0', 'c', '_1'],
  ],
  [
    ['b', 'c'],
    ['b', 'c'],
  ],
];

test("uniqueNames gives DuckDB's names", () => {
  for (const [from, to] of CASES) assert.deepEqual(uniqueNames(from), to, JSON.stringify(from));
  assert.deepEqual(renamedColumns(['a', 'a'], ['a', 'a_1']), [{ index: 1, from: 'a', to: 'a_1' }]);
});

test('uniqueNames: unique, same length, unchanged when already unique (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('', 'a', 'A', 'a_1', 'b', 'C0', 'C1', 'a_1_1'), { maxLength: 12 }),
      (names) => {
        const out = uniqueNames(names);
        assert.equal(out.length, names.length);
        assert.equal(new Set(out.map((n) => n.toLowerCase())).size, out.length);
        if (new Set(names.map((n) => n.toLowerCase())).size === names.length && !names.includes(''))
          assert.deepEqual(out, names);
      },
    ),
  );
});

test('the reader names columns as DuckDB does on generated files (differential)', async () => {
  const dir = tempDir('spillway-names-');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom('a', 'A', 'a_1', 'b', 'b_1', ''), { minLength: 1, maxLength: 6 }),
      async (names) => {
        // DuckDB refuses its own C<i> name when it is taken: keep those out
        const file = join(dir, `n${Math.random().toString(36).slice(2)}.parquet`);
        parquetWriteFile({
          filename: file,
          columnData: names.map((name, i) => ({ name, data: [i], type: 'INT32' as const })),
        });
        let duck: string[];
        try {
          duck = (await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`)).names;
        } catch {
          return; // a name DuckDB itself refuses (duplicate after renaming)
        }
        const reader = await openParquet(file);
        try {
          assert.deepEqual(
            reader.columns.map((c) => c.name),
            duck,
          );
          for await (const b of reader.batches())
            assert.deepEqual(
              Object.values(b.rows[0]!),
              names.map((_, i) => i),
            );
        } finally {
          await reader.close();
        }
      },
    ),
    { numRuns: 25 },
  );
});
