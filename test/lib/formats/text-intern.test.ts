/**
 * Interned decoding (text-intern.ts) as the readers use it: Arrow Utf8 columns made rows, and the
 * CSV fast path's strings, give the values a plain UTF-8 decode gives, whatever the mix of
 * repeated, unique, short, long, ASCII and non-ASCII values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Table, Utf8, vectorFromArray } from 'apache-arrow';
import { recordBatchToRows } from '../../../lib/formats/arrow/to-rows.ts';
import { INTERN_MAX, INTERN_PROBE, InternProbe, InternTable } from '../../../lib/formats/text-intern.ts';

const word = fc.oneof(
  fc.constantFrom('AAPL', 'B', 'S', 'XNAS', '', 'é', 'ü-x', 'a'.repeat(INTERN_MAX), 'b'.repeat(INTERN_MAX + 1)),
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^[a-z]{1,3}$/),
);

/** A table of plain Utf8 columns (tableFromArrays would dictionary-encode strings). */
function utf8Table(columns: Record<string, string[]>): Table {
  return new Table(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, vectorFromArray(v, new Utf8())])));
}

test('property: Arrow Utf8 columns made rows equal apache-arrow’s own decode', () => {
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 3000 }), (words) => {
      const table = utf8Table({ w: words, r: [...words].reverse() });
      const rows = table.batches.flatMap((b) => recordBatchToRows(b)) as { w: string; r: string }[];
      assert.deepEqual(
        rows.map((r) => r.w),
        words,
      );
      assert.deepEqual(
        rows.map((r) => r.r),
        [...words].reverse(),
      );
    }),
    { numRuns: 60 },
  );
});

test('a repeated value is one string; a column of unique values stops interning after its probe', () => {
  const table = new InternTable();
  const buf = Buffer.from('XNASXNASé');
  assert.equal(table.ascii(buf, 0, 4), 'XNAS');
  assert.equal(table.hit, false);
  assert.equal(table.ascii(buf, 4, 8), 'XNAS');
  assert.equal(table.hit, true);
  // non-ASCII bytes are never matched against a stored string (a lone byte is not its Latin-1 char)
  assert.equal(table.ascii(buf, 8, 10), undefined);
  const unique = new InternProbe();
  for (let i = 0; i < INTERN_PROBE; i++) unique.count(false);
  assert.equal(unique.active, false);
  const repeated = new InternProbe();
  for (let i = 0; i < INTERN_PROBE; i++) repeated.count(i % 3 !== 0);
  assert.equal(repeated.active, true);
});

test('a lone 0xE9 byte in an Arrow string decodes as UTF-8 does (U+FFFD), not as Latin-1', () => {
  const table = utf8Table({ w: ['é', 'a', 'a'] });
  const batch = table.batches[0]!;
  const data = batch.data.children[0]!;
  // the second value's one byte becomes 0xe9: invalid UTF-8
  (data.values as Uint8Array)[(data.valueOffsets as Int32Array)[1]!] = 0xe9;
  const rows = recordBatchToRows(batch) as { w: string }[];
  assert.deepEqual(
    rows.map((r) => r.w),
    ['é', '\ufffd', 'a'],
  );
});
