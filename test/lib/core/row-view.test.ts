import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { RowViewer, isViewable } from '../../../lib/core/row-view.ts';
import { recordBatchToRows, rowsToRecordBatch } from '../../../lib/formats/arrow/convert.ts';
import { openArrowFile } from '../../../lib/formats/arrow/ipc-reader.ts';
import { SpillwayError } from '../../../lib/core/errors.ts';
import { pipeline, fromCsv, fromArrow, collect } from '../../../index.ts';
import type { Batch } from '../../../lib/entry/extend.ts';
import { Transform } from 'node:stream';
import { CORPUS, corpusSkip, tempDir } from '../../helpers.ts';

/** Checks every row of `batch` through a view against recordBatchToRows (what Batch.rows gives). */
function checkView(batch: RecordBatch, label: string): number {
  let expected: object[];
  try {
    expected = recordBatchToRows(batch);
  } catch {
    return 0; // rows the converter refuses cannot be compared
  }
  const viewer = new RowViewer(batch);
  for (let i = 0; i < batch.numRows; i++) {
    const row = viewer.at(i);
    const want = expected[i]!;
    if (Array.isArray(want)) {
      assert.ok(Array.isArray(row), `${label}: array rows stay arrays`);
      assert.deepEqual([...(row as unknown[])], want, `${label} row ${i}`);
    } else {
      assert.deepEqual({ ...row }, want, `${label} row ${i}`);
      assert.deepEqual(Object.keys(row), Object.keys(want), `${label} row ${i} keys`);
    }
    assert.deepEqual(viewer.materialize(i), want, `${label} row ${i} materialized`);
  }
  return batch.numRows;
}

test('views give the values Batch.rows gives, for every corpus Arrow file', { skip: corpusSkip }, async () => {
  const files = readdirSync(path.join(CORPUS, 'arrow'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.arrow_file') && !f.startsWith('bad'))
    .map((f) => path.join(CORPUS, 'arrow', f));
  let rows = 0;
  let batches = 0;
  for (const file of files) {
    let handle;
    try {
      handle = await openArrowFile(file);
    } catch (error) {
      if (error instanceof SpillwayError) continue;
      throw error;
    }
    try {
      for await (const batch of handle.batches()) {
        assert.ok(isViewable(batch));
        const n = checkView(batch, path.relative(CORPUS, file));
        if (n > 0) batches++;
        rows += n;
      }
    } finally {
      await handle.close();
    }
  }
  console.log(`row views: ${rows} rows of ${batches} corpus batches compared`);
  assert.ok(batches >= 40);
});

test('views over fromArrow batches of a corpus file match the rows collect() gives', { skip: corpusSkip }, async () => {
  const file = path.join(CORPUS, 'arrow/cpp-21.0.0/generated_datetime.arrow_file');
  const seen: RecordBatch[] = [];
  const tap = new Transform({
    objectMode: true,
    transform(batch: Batch, _e, cb) {
      seen.push(batch.arrow);
      cb(null, batch);
    },
  });
  const { output } = await pipeline(fromArrow(file), tap, collect());
  let at = 0;
  for (const batch of seen) {
    const viewer = new RowViewer(batch);
    for (let i = 0; i < batch.numRows; i++) assert.deepEqual({ ...viewer.at(i) }, output[at++]);
  }
  assert.equal(at, output.length);
  assert.ok(at > 0);
});

test("views over the fast CSV path's Arrow batches match the rows path, for every type it makes", async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mixed.csv');
  const lines = ['i,f,big,b,s,n,u'];
  for (let k = 0; k < 3000; k++) {
    lines.push(
      [
        k - 1500,
        k % 7 === 0 ? '' : (k / 8).toString(),
        k % 5 === 0 ? '' : String(2n ** 62n + BigInt(k)),
        k % 2 === 0 ? 'true' : 'false',
        k % 11 === 0 ? '' : `"s,${k}é"`,
        '',
        k % 3 === 0 ? '' : '"x""y"',
      ].join(','),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  const arrow: RecordBatch[] = [];
  const tap = new Transform({
    objectMode: true,
    transform(batch: Batch, _e, cb) {
      assert.ok(batch.hasArrow && !batch.hasRows);
      arrow.push(batch.arrow);
      cb(null, batch);
    },
  });
  await pipeline(fromCsv(file, { cast: true, output: 'arrow', batchSize: 1000 }), tap, collect());
  const { output: rows } = await pipeline(fromCsv(file, { cast: true, batchSize: 1000 }), collect());
  const types = new Set(arrow.flatMap((b) => b.schema.fields.map((f) => String(f.type))));
  for (const t of ['Int32', 'Float64', 'Int64', 'Bool', 'Utf8', 'Null']) assert.ok(types.has(t), `made a ${t} column`);
  let at = 0;
  for (const batch of arrow) {
    checkView(batch, 'csv');
    const viewer = new RowViewer(batch);
    for (let i = 0; i < batch.numRows; i++) assert.deepEqual({ ...viewer.at(i) }, rows[at++]);
  }
  assert.equal(at, 3000);
});

test('a view spreads, lists its keys, serialises and iterates like a plain row', () => {
  const batch = rowsToRecordBatch([
    { a: 1, s: 'x', when: new Date(0), nested: { k: [1, 2] } },
    { a: 2, s: null, when: null, nested: null },
  ]);
  const viewer = new RowViewer<{ a: number; s: string | null }>(batch);
  const row = viewer.at(1);
  assert.deepEqual(Object.keys(row), ['a', 's', 'when', 'nested']);
  assert.equal(JSON.stringify(row), JSON.stringify({ a: 2, s: null, when: null, nested: null }));
  const keys: string[] = [];
  for (const key in row) keys.push(key);
  assert.deepEqual(keys, ['a', 's', 'when', 'nested']);
  assert.equal(Object.getPrototypeOf(row), Object.prototype);
  assert.deepEqual({ ...viewer.at(0) }, { a: 1, s: 'x', when: new Date(0), nested: { k: [1, 2] } });
  assert.equal(
    JSON.stringify(viewer.at(0)),
    JSON.stringify({ a: 1, s: 'x', when: new Date(0), nested: { k: [1, 2] } }),
  );
  // one object for every row: the flyweight moves
  assert.equal(viewer.at(0), viewer.at(1));
  assert.equal(row.a, 2);
});

test('a view is read-only and not extensible', () => {
  const viewer = new RowViewer<{ a: number }>(rowsToRecordBatch([{ a: 1 }]));
  const row = viewer.at(0);
  assert.throws(
    () => {
      row.a = 5;
    },
    (e: TypeError) => e instanceof TypeError && /read-only/.test(e.message) && /"a"/.test(e.message),
  );
  assert.throws(() => {
    (row as Record<string, unknown>).b = 5;
  }, TypeError);
  assert.throws(() => delete (row as Partial<typeof row>).a, TypeError);
  assert.equal(row.a, 1);
});

test('array rows (no header) are viewed as arrays', () => {
  const batch = rowsToRecordBatch([
    [1, 'a'],
    [2, 'b'],
  ]);
  const viewer = new RowViewer(batch);
  const row = viewer.at(1) as unknown as unknown[];
  assert.ok(Array.isArray(row));
  assert.deepEqual([...row], [2, 'b']);
  assert.equal(JSON.stringify(row), '[2,"b"]');
  assert.deepEqual(viewer.materialize(0), [1, 'a']);
});

test('a viewer rebinds to batches with the same columns and forks for calls in flight', () => {
  const one = rowsToRecordBatch([{ a: 1 }, { a: 2 }]);
  const two = rowsToRecordBatch([{ a: 1.5 }]);
  const viewer = new RowViewer<{ a: number }>(one);
  const view = viewer.view;
  assert.ok(viewer.fits(two));
  viewer.bind(two);
  assert.equal(viewer.at(0), view);
  assert.equal(view.a, 1.5);
  const fork = viewer.fork();
  fork.at(0);
  assert.notEqual(fork.view, view);
  assert.ok(!viewer.fits(rowsToRecordBatch([{ b: 1 }])));
  assert.throws(() => viewer.bind(rowsToRecordBatch([{ b: 1 }])), TypeError);
  assert.ok(!isViewable(rowsToRecordBatch([{ ['__proto__']: 1 }])));
});
