import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { RecordBatch } from 'apache-arrow';
import { isBatchSelectable, keepsAll, selectRows } from '../../../../lib/formats/arrow/select.ts';
import { recordBatchToRows, rowsToRecordBatch } from '../../../../lib/formats/arrow/convert.ts';
import { openArrowFile } from '../../../../lib/formats/arrow/ipc-reader.ts';
import { ErrorCodes, SpillwayError } from '../../../../lib/core/errors.ts';
import { CORPUS, corpusSkip } from '../../../helpers.ts';

/** Rows as recordBatchToRows gives them, with every digit kept, for comparing. */
const rowsOf = (batch: RecordBatch) =>
  recordBatchToRows(batch, { int64: 'bigint', timestamps: 'string', shape: 'array' });

/** Selections worth trying on an n-row batch: every other row, reversed, repeats, none, one. */
function selections(n: number): number[][] {
  const all = Array.from({ length: n }, (_, i) => i);
  return [
    all.filter((i) => i % 2 === 1),
    [...all].reverse(),
    all.flatMap((i) => (i % 3 === 0 ? [i, i] : [])),
    [],
    n > 0 ? [n - 1] : [],
    all.slice(1),
  ];
}

function checkSelections(batch: RecordBatch, label: string): void {
  const rows = rowsOf(batch);
  for (const selection of selections(batch.numRows)) {
    const out = selectRows(batch, Int32Array.from(selection));
    assert.equal(out.numRows, selection.length, label);
    assert.deepEqual(out.schema.fields.map(String), batch.schema.fields.map(String), `${label}: same schema`);
    assert.deepEqual(out.schema.metadata, batch.schema.metadata, `${label}: same schema metadata`);
    assert.deepEqual(
      rowsOf(out),
      selection.map((i) => rows[i]),
      `${label}: selection ${JSON.stringify(selection).slice(0, 80)}`,
    );
  }
}

const arrowFiles = corpusSkip
  ? []
  : readdirSync(path.join(CORPUS, 'arrow'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.arrow_file') && !f.startsWith('bad') && !f.includes('bigendian'))
      .map((f) => path.join(CORPUS, 'arrow', f));

test('selectRows on every corpus Arrow file gives the rows recordBatchToRows gives at those indices', {
  skip: corpusSkip,
}, async () => {
  let selected = 0;
  let refused = 0;
  for (const file of arrowFiles) {
    let handle;
    try {
      handle = await openArrowFile(file);
    } catch (error) {
      if (error instanceof SpillwayError) continue; // files the reader refuses are corpus.test.ts's business
      throw error;
    }
    try {
      for await (const batch of handle.batches()) {
        if (!isBatchSelectable(batch)) {
          if (batch.numRows >= 2)
            assert.throws(
              () => selectRows(batch, [1]),
              (e: SpillwayError) => e.code === ErrorCodes.UNSUPPORTED,
              file,
            );
          refused++;
          continue;
        }
        try {
          rowsOf(batch);
        } catch {
          continue; // rows the converter refuses (e.g. dates outside a JS Date) cannot be compared
        }
        checkSelections(batch, path.relative(CORPUS, file));
        checkSelections(batch.slice(1, Math.max(1, batch.numRows - 2)), `${path.relative(CORPUS, file)} sliced`);
        selected++;
      }
    } finally {
      await handle.close();
    }
  }
  console.log(`selectRows: ${selected} corpus batches compared, ${refused} refused (unselectable types)`);
  assert.ok(selected >= 40, `only ${selected} corpus batches were compared`);
});

const value = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '"', ' '), maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
);
/** Columns of one JS type each (plus nulls), as rowsToRecordBatch infers them. */
const column = fc.constantFrom('int', 'float', 'string', 'bool', 'bigint', 'date', 'bytes', 'json', 'null');
function cell(kind: string): fc.Arbitrary<unknown> {
  const some = (a: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) });
  switch (kind) {
    case 'int':
      return some(fc.integer());
    case 'float':
      return some(fc.double({ noNaN: true }));
    case 'string':
      return some(fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', ','), maxLength: 30 }));
    case 'bool':
      return some(fc.boolean());
    case 'bigint':
      return some(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    case 'date':
      return some(fc.integer({ min: -1e12, max: 1e13 }).map((ms) => new Date(ms)));
    case 'bytes':
      return some(fc.uint8Array({ maxLength: 20 }));
    case 'json':
      return some(fc.array(value, { maxLength: 3 }).map((items) => ({ items })));
    default:
      return fc.constant(null);
  }
}
const table = fc
  .array(column, { minLength: 1, maxLength: 6 })
  .chain((kinds) =>
    fc.tuple(
      fc.constant(kinds),
      fc.array(fc.tuple(...kinds.map(cell)), { minLength: 0, maxLength: 80 }),
      fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }),
    ),
  );

test('selectRows on generated batches equals selecting their rows (fast-check)', () => {
  fc.assert(
    fc.property(table, ([kinds, tuples, mask]) => {
      const rows = tuples.map((t) => Object.fromEntries(kinds.map((_, c) => [`c${c}`, t[c]])));
      const batch = rowsToRecordBatch(rows);
      const selection = Int32Array.from(rows.map((_, i) => i).filter((i) => mask[i]));
      const expected = recordBatchToRows(batch);
      const out = selectRows(batch, selection);
      assert.deepEqual(
        recordBatchToRows(out),
        Array.from(selection, (i) => expected[i]),
      );
      assert.equal(out.nullCount, 0);
      // the selected batch is itself well formed: select from it again
      const half = Int32Array.from(Array.from(selection.keys()).filter((k) => k % 2 === 0));
      assert.deepEqual(
        recordBatchToRows(selectRows(out, half)),
        Array.from(half, (k) => expected[selection[k]!]),
      );
    }),
    { numRuns: 200 },
  );
});

test('selectRows keeps null counts, returns the same batch when all rows are kept, and checks indices', () => {
  const batch = rowsToRecordBatch([
    { a: 1, s: 'x' },
    { a: null, s: null },
    { a: 3, s: 'zz' },
  ]);
  assert.equal(selectRows(batch, [0, 1, 2]), batch);
  assert.ok(keepsAll([0, 1, 2], 3));
  assert.ok(!keepsAll([0, 2, 1], 3));
  const picked = selectRows(batch, [1, 2]);
  assert.equal(picked.getChild('a')!.nullCount, 1);
  assert.equal(picked.getChild('s')!.nullCount, 1);
  assert.deepEqual(recordBatchToRows(picked), [
    { a: null, s: null },
    { a: 3, s: 'zz' },
  ]);
  const none = selectRows(batch, []);
  assert.equal(none.numRows, 0);
  assert.deepEqual(recordBatchToRows(none), []);
  assert.throws(() => selectRows(batch, [3]), RangeError);
  assert.throws(() => selectRows(batch, [-1]), RangeError);
});

test('selectRows copies adjacent strings as runs and keeps each string whole', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ s: `${'x'.repeat(i % 40)}-${i}-é` }));
  const batch = rowsToRecordBatch(rows);
  const selection = Int32Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 100 < 60);
  assert.deepEqual(
    recordBatchToRows(selectRows(batch, selection)),
    Array.from(selection, (i) => rows[i]),
  );
});
