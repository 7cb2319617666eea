/** JSON text on the Arrow path only when parsing it gives the rows path's value back (read/arrow-json.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactJsonText } from '../../../../../lib/formats/parquet/read/arrow-json.ts';

test('values JSON holds exactly become their JSON text', () => {
  const value = { a: [1, 2.5, null, 'x\u2028'], b: { c: true, d: '9876543210.123456789' }, e: [] };
  const text = exactJsonText(value, 'v', 'f.parquet');
  assert.deepStrictEqual(JSON.parse(text), value);
  assert.equal(
    exactJsonText({ months: 1, days: 2, milliseconds: 3000 }, 'iv', 'f.parquet'),
    '{"months":1,"days":2,"milliseconds":3000}',
  );
});

test('a bigint, a date, bytes, -0 or a non-finite number anywhere is refused, naming file and column', () => {
  const cases: [unknown, RegExp][] = [
    [{ n: 9007199254740993n }, /integer 9007199254740993/],
    [[new Date(0)], /timestamp 1970-01-01T00:00:00.000Z/],
    [{ deep: [{ b: new Uint8Array([1]) }] }, /binary bytes/],
    [[-0], /number 0/],
    [{ x: Number.NaN }, /number NaN/],
    [new Map([[1, 2]]), /Map value/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => exactJsonText(value, 'col', '/data/f.parquet'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_UNSUPPORTED');
        assert.match(error.message, message);
        assert.match(error.message, /`col`/);
        assert.ok(error.message.includes('/data/f.parquet'), error.message);
        return true;
      },
    );
  }
});
