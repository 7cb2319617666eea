/**
 * The fast path's Arrow batches (cell-store.ts, arrow-columns.ts): the same values as its rows for
 * any table shape, across the store's capacity doubling, and a wide batch whose columns share
 * their buffers instead of allocating per column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FastCsvReader, type FastCsvBatch } from '../../../../../lib/formats/csv/fast/reader.ts';
import { COLUMN_TEXT_MAX, INITIAL_CELLS } from '../../../../../lib/formats/csv/fast/cell-store.ts';
import { recordBatchToRows } from '../../../../../lib/formats/arrow/convert.ts';

function read(text: string, output: 'rows' | 'arrow', infer: boolean, batchSize = 100_000): FastCsvBatch[] {
  const reader = new FastCsvReader({
    columns: true,
    infer,
    fail: true,
    raw: false,
    onBad: () => undefined,
    onCastFailure: () => undefined,
    output,
  });
  reader.batchSize = batchSize;
  reader.push(Buffer.from(text));
  reader.end();
  return reader.ready;
}

/** Rows of the batches, Arrow batches made rows. */
function rowsOf(batches: ReturnType<typeof read>): unknown[] {
  return batches.flatMap((b) => (b.arrow ? recordBatchToRows(b.arrow) : b.rows!));
}

const cell = fc.oneof(
  fc.integer({ min: -5, max: 5 }).map(String),
  fc.constantFrom(
    '',
    'true',
    'false',
    '2.5',
    '-0',
    '9007199254740993',
    '3000000000',
    'é',
    'x y',
    '"q,""r"""',
    '""""',
    '"1"',
  ),
  // past the byte-loop length (copied natively), and quotes around non-ASCII text
  fc.constantFrom('t'.repeat(65), `"${'é'.repeat(40)} ""ü"" ${'x'.repeat(30)}"`, '"-1"""', '" 2"'),
  fc.string({ maxLength: 4 }).filter((s) => !/[",\r\n]/.test(s)),
);

test('property: Arrow batches give the values rows give, any width, rows, kinds and batch size', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.array(cell, { minLength: 40, maxLength: 40 }), { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 12 }),
      (width, table, infer, batchSize) => {
        const header = Array.from({ length: width }, (_, c) => `c${c}`).join(',');
        const text = `${header}\n${table.map((r) => r.slice(0, width).join(',')).join('\n')}\n`;
        const rows = rowsOf(read(text, 'rows', infer, batchSize));
        const arrow = read(text, 'arrow', infer, batchSize);
        assert.deepEqual(rowsOf(arrow), rows);
      },
    ),
    { numRuns: 150 },
  );
});

test('a batch wider than the initial cell capacity grows row by row and keeps every value', () => {
  const width = INITIAL_CELLS / 2 + 3; // one row fits at first, the second doubles the store
  const line = (r: number) => Array.from({ length: width }, (_, c) => (c % 3 === 0 ? `s${c + r}` : String(c + r)));
  const text = `${Array.from({ length: width }, (_, c) => `c${c}`).join(',')}\n${[0, 1, 2].map((r) => line(r).join(',')).join('\n')}\n`;
  const [batch] = read(text, 'arrow', true);
  assert.ok(batch?.arrow);
  assert.equal(batch.numRows, 3);
  const data = batch.arrow.data.children;
  for (const c of [0, 1, 2, width - 2, width - 1]) {
    const want = [0, 1, 2].map((r) => (c % 3 === 0 ? `s${c + r}` : c + r));
    const column: { get(i: number): unknown } = batch.arrow.getChildAt(c)!;
    assert.deepEqual(
      [0, 1, 2].map((i) => column.get(i)),
      want,
      `column ${c}`,
    );
  }
  // the columns of one type are views into one buffer, not an allocation each
  const ints = data.filter((d) => String(d.type) === 'Int32');
  assert.ok(ints.length > 1000);
  assert.ok(ints.every((d) => d.values.buffer === ints[0]!.values.buffer));
  const texts = data.filter((d) => String(d.type) === 'Utf8');
  assert.ok(texts.every((d) => d.valueOffsets.buffer === texts[0]!.valueOffsets.buffer));
});

test('narrow files hand each text column its own buffer; batches of changing text sizes keep every value', () => {
  // batch 1 short text, batch 2 long (buffers grow past the last batch's sizes), batch 3 short
  // again (a buffer sized by batch 2 is mostly empty: copied to its size, not handed over whole)
  const sizes = [3, 400, 2];
  const lines = sizes.flatMap((n, b) =>
    Array.from({ length: 50 }, (_, r) => `${b * 50 + r},"${'é'.repeat(n)} ""${r}""",${'a'.repeat(n)}`),
  );
  const text = `id,quoted,plain\n${lines.join('\n')}\n`;
  const batches = read(text, 'arrow', true, 50);
  assert.equal(batches.length, 3);
  assert.deepEqual(rowsOf(batches), rowsOf(read(text, 'rows', true, 50)));
  for (const [b, batch] of batches.entries()) {
    const quoted = batch.arrow!.data.children[1]!;
    const plain = batch.arrow!.data.children[2]!;
    assert.notEqual(quoted.values.buffer, plain.values.buffer, `batch ${b}: one buffer per text column`);
    // no more than twice the text it holds (or a small buffer)
    assert.ok(plain.values.buffer.byteLength <= Math.max(4096, 2 * plain.values.byteLength), `batch ${b}`);
  }
  assert.equal(batches[2]!.arrow!.getChildAt(1)!.get(0), 'éé "0"');
  assert.ok(COLUMN_TEXT_MAX < INITIAL_CELLS / 2 + 3, 'the wide test above covers the shared text buffer');
});

test('text of every length up to 80 bytes, at every alignment, reads back as written (short copies go four bytes at a time)', () => {
  // lengths around the 4-byte steps and the 64-byte cut to Buffer.copy; a prefix column of 0-3
  // bytes shifts each value's start, so every length is copied from each alignment
  const values: string[][] = [];
  for (let len = 0; len <= 80; len++)
    for (let shift = 0; shift < 4; shift++) {
      const text = Array.from({ length: len }, (_, k) => String.fromCharCode(97 + ((len + k) % 26))).join('');
      // a multi-byte character now and then, so a copy also crosses a UTF-8 sequence
      values.push(['p'.repeat(shift), len % 7 === 3 ? `é${text.slice(2)}` : text, `x${text}`]);
    }
  const csv = `pad,text,more\n${values.map((v) => v.join(',')).join('\n')}\n`;
  for (const infer of [true, false]) {
    const rows = rowsOf(read(csv, 'arrow', infer, 37)) as Record<string, unknown>[];
    assert.equal(rows.length, values.length);
    for (const [i, [pad, text, more]] of values.entries()) {
      const nullIfEmpty = (s: string) => (infer && s === '' ? null : s);
      assert.deepEqual(rows[i], { pad: nullIfEmpty(pad!), text: nullIfEmpty(text!), more }, `row ${i}, infer ${infer}`);
    }
  }
});
