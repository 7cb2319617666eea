/**
 * Byte-array statistics (encode/statistics.ts): an empty value is the smallest of all. Its first
 * byte is the next value's, and the min/max shortcut once compared that byte instead, so a chunk
 * or page holding '' after a larger value recorded a min above '': a reader using the statistics
 * (DuckDB, spillway's own `where`) then skipped the rows holding ''. Min/max over any values,
 * and a many-page chunk's statistics (taken from its pages') as over all its values (#17).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import fc from 'fast-check';
import { bytesMinMax, fixedStatistics } from '../../../../../lib/formats/parquet/encode/statistics.ts';
import { ColumnBuffer } from '../../../../../lib/formats/parquet/encode/column-buffer.ts';
import { encodeColumnsSync } from '../../../../../lib/formats/parquet/encode/encoded-chunk.ts';
import { collect, fromIterable, fromParquet, pipeline, toParquet } from '../../../../../index.ts';
import { tempDir } from '../../../../helpers.ts';
import { duckRows, sqlString } from '../duckdb.ts';

const dir = tempDir('spillway-stats-');

function column(values: string[]): { data: Uint8Array; offsets: Int32Array } {
  const bytes = values.map((v) => Buffer.from(v));
  const offsets = new Int32Array(values.length + 1);
  bytes.forEach((b, i) => {
    offsets[i + 1] = offsets[i]! + b.length;
  });
  return { data: Buffer.concat(bytes), offsets };
}

test('an empty value is the min wherever it stands; the max is never taken from a neighbour', () => {
  for (const values of [
    ['b', '', 'c'],
    ['c', 'b', ''],
    ['', 'a'],
    ['z', '', ''],
    ['ab', 'a', ''],
  ]) {
    const { data, offsets } = column(values);
    const { min, max } = bytesMinMax(data, offsets, values.length, undefined);
    const sorted = [...values].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.equal(Buffer.from(min!).toString(), sorted[0], JSON.stringify(values));
    assert.equal(Buffer.from(max!).toString(), sorted.at(-1), JSON.stringify(values));
  }
});

test("a written file's statistics hold '': DuckDB and fromParquet's where find the row", async () => {
  // unique values: the chunk is PLAIN (no dictionary), its statistics computed over the values
  // '' is followed by a value whose first byte is above the smallest's ('z11' after 'a0')
  const rows = Array.from({ length: 6_000 }, (_, i) => ({ id: i, s: i === 10 ? '' : `${i % 2 ? 'z' : 'a'}${i}` }));
  const file = join(dir, 'empty-string.parquet');
  await pipeline(fromIterable(rows), toParquet(file));
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(file));
  assert.equal(meta.row_groups[0]!.columns[1]!.meta_data!.statistics!.min_value, '');
  const duck = await duckRows(`SELECT count(*)::INT AS n FROM read_parquet(${sqlString(file)}) WHERE s = ''`);
  assert.deepEqual(duck.rows, [{ n: 1 }]);
  const { output, stats } = await pipeline(fromParquet(file, { where: { col: 's', op: '<', value: 'a' } }), collect());
  assert.deepEqual(output, [{ id: 10, s: '' }]);
  assert.equal(stats.stages[0]!.details.rowGroupsSkipped, 0);
});

/** Values sharing long prefixes (as timestamps as text do), of every length around a word's. */
const prefixed = fc.array(
  fc.oneof(
    fc.constant(null),
    fc
      .tuple(fc.constantFrom('', '2026-01-05T14:3', 'abcd', 'abce', '\u00ff\u00ff'), fc.string({ maxLength: 9 }))
      .map(([p, s]) => p + s),
  ),
  { minLength: 1, maxLength: 300 },
);

test('property: min/max are the least and greatest values bytewise, whatever their order, lengths and nulls', () => {
  fc.assert(
    fc.property(prefixed, (values) => {
      const present = values.filter((v): v is string => v !== null);
      const { data, offsets } = column(values.map((v) => v ?? ''));
      const defs = Uint8Array.from(values, (v) => (v === null ? 0 : 1));
      const { min, max } = bytesMinMax(data, offsets, values.length, defs);
      if (present.length === 0) return assert.equal(min, undefined);
      const sorted = present.map((v) => Buffer.from(v)).sort(Buffer.compare);
      assert.deepEqual(Buffer.from(min!), sorted[0]);
      assert.deepEqual(Buffer.from(max!), sorted.at(-1));
    }),
    { numRuns: 300 },
  );
});

test('property: a PLAIN chunk of many pages has the statistics computed over all its values', () => {
  const long = 'y'.repeat(1500);
  fc.assert(
    fc.property(prefixed, fc.boolean(), (values, withLong) => {
      const col = new ColumnBuffer('string', true);
      // unique values keep the chunk PLAIN (no dictionary); a value past 1024 bytes has no min/max kept
      for (let i = 0; i < 20; i++) col.pushString(`m${i}`);
      values.forEach((v, i) => (v === null ? col.pushNull() : col.pushString(`${v}#${i}`)));
      if (withLong) col.pushString(long);
      const [chunk] = encodeColumnsSync([col], 'uncompressed', 64);
      assert.equal(chunk!.hasDictionary, false);
      assert.deepEqual(chunk!.statistics, fixedStatistics(col));
    }),
    { numRuns: 200 },
  );
});
