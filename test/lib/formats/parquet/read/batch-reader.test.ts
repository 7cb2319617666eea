/**
 * A negotiated Arrow read that meets a value Arrow cannot hold (an INT96 timestamp past 2262)
 * goes on as rows from the first row not yet handed on, mid-file too: batch indexes and row
 * starts continue, no row is read twice or skipped, and `rowsFrom` says where and why. A read
 * that asked for Arrow fails. The file reader is a stand-in (its own tests read real files;
 * the corpus file of test/sources/fromParquet-negotiate.test.ts fails on its first batch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeVector, RecordBatch } from 'apache-arrow';
import { ParquetArrowReader, type ParquetCounters } from '../../../../../lib/formats/parquet/read/batch-reader.ts';
import { ArrowRangeError } from '../../../../../lib/formats/parquet/read/arrow-range.ts';
import type { ParquetReader } from '../../../../../lib/formats/parquet/reader.ts';
import type { ParquetPlan } from '../../../../../lib/formats/parquet/read/options.ts';
import { translateError } from '../../../../../lib/formats/parquet/read/translate.ts';
import { loadArrowKernels } from '../../../../../lib/core/arrow-load.ts';

/** 30 rows in batches of 10: Arrow fails at the third, as the file reader wraps its errors. */
function standIn(): ParquetReader {
  const rows = Array.from({ length: 30 }, (_, i) => ({ v: i }));
  return {
    columns: [{ name: 'v' }],
    async *recordBatches(fromRow = 0) {
      for (let start = fromRow; start < 30; start += 10) {
        if (start >= 20)
          throw translateError(
            new ArrowRangeError("INT96 timestamp of column `v` is beyond the range; read it with output 'rows'", {}),
            'f.parquet',
          );
        const batch = new RecordBatch({
          v: makeVector(Float64Array.from(rows.slice(start, start + 10), (r) => r.v)).data[0]!,
        });
        yield { rowGroup: start / 10, rowStart: start, batch };
      }
    },
    async *batches(fromRow = 0) {
      for (let start = fromRow; start < 30; start += 10)
        yield { rowGroup: start / 10, rowStart: start, rows: rows.slice(start, start + 10) };
    },
  } as unknown as ParquetReader;
}

const plan = { path: 'f.parquet', stage: 'fromParquet' } as ParquetPlan;
const counters = (): ParquetCounters => ({ rowsRead: 0, totalRows: 30, totalBytes: 0, groupsRead: 0, numGroups: 3 });

test('a negotiated Arrow read goes on as rows where Arrow cannot hold a value', async () => {
  await loadArrowKernels(); // a stage loads them before its first batch; rows are made from Arrow here
  const seen = counters();
  const batches = [];
  for await (const batch of new ParquetArrowReader(plan, seen, true).read(standIn(), { rows: 0, index: 0 }))
    batches.push(batch);
  assert.deepEqual(
    batches.map((b) => [b.position.index, b.position.rowStart, b.hasArrow && !b.hasRows ? 'arrow' : 'rows']),
    [
      [0, 0, 'arrow'],
      [1, 10, 'arrow'],
      [2, 20, 'rows'],
    ],
  );
  assert.deepEqual(
    batches.flatMap((b) => b.rows.map((r) => (r as { v: number }).v)),
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.equal(seen.rowsRead, 30);
  assert.equal(seen.rowsFrom, 'row 20: INT96 timestamp of column `v` is beyond the range');
});

test('a read that asked for Arrow fails at that value', async () => {
  const read = async () => {
    for await (const _ of new ParquetArrowReader(plan, counters(), false).read(standIn(), { rows: 0, index: 0 }));
  };
  await assert.rejects(read, {
    code: 'ERR_SPILLWAY_UNSUPPORTED',
    message: /beyond the range; read it with output 'rows'/,
  });
});
