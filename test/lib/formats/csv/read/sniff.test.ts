/** The CSV sniffer, unique column names and detected types, without streams. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sniffCsv } from '../../../../../lib/formats/csv/read/sniff.ts';
import { defaultNames, uniqueNames } from '../../../../../lib/formats/csv/read/names.ts';
import { castDetected, detectColumn, detectType } from '../../../../../lib/formats/csv/read/detect-types.ts';
import type { CastFailure } from '../../../../../lib/formats/csv/cast.ts';

const sniff = (text: string) => sniffCsv(Buffer.from(text), true);

test('delimiters , ; | and tab are detected; quotes and escapes too', () => {
  assert.equal(sniff('a,b\n1,2\n').delimiter, ',');
  assert.equal(sniff('a;b\n1;2\n').delimiter, ';');
  assert.equal(sniff('a|b|c\n1|2|3\n').delimiter, '|');
  assert.equal(sniff('a\tb\n1\t2\n').delimiter, '\t');
  assert.equal(sniff("k;v\n1;'x;y'\n2;'z'\n").quote, "'");
  const backslash = sniff('k,v\n1,"say \\"hi\\", ok"\n2,"x"\n');
  assert.equal(backslash.escape, '\\');
  // a ; inside quoted fields does not win over the , outside them
  assert.equal(sniff('a,b\n"x;y;z",1\n"p;q;r",2\n').delimiter, ',');
});

test('header: a first row that fits the column types below is data; all-text columns mean a header', () => {
  assert.equal(sniff('1,2\n3,4\n').header, false);
  assert.equal(sniff('id,n\n1,2\n').header, true);
  assert.equal(sniff('a,b\nx,y\n').header, true);
  assert.equal(sniff('x,1\ny,2\n').header, false);
  // one row: a header when all text (a file with no rows), else data
  assert.equal(sniff('id,name\n').header, true);
  assert.equal(sniff('1,2,3\n').header, false);
  assert.deepEqual(sniff('1,2.5,2024-01-01\n3,4.5,2024-01-02\n').types, ['integer', 'double', 'date']);
});

test('preamble lines narrower than the records are skipped; comment lines detected', () => {
  const d = sniff('Report\nmade today\na,b,c\n1,2,3\n');
  assert.equal(d.skipLines, 2);
  assert.equal(d.skipBytes, Buffer.byteLength('Report\nmade today\n'));
  assert.deepEqual(d.headerNames, ['a', 'b', 'c']);
  assert.equal(sniff('a,b\n  # indented note\n1,2\n').comment, '#');
  // a BOM is part of the bytes before the first record
  assert.equal(sniffCsv(Buffer.from('\uFEFFa,b\n1,2\n'), true).skipBytes, 3);
});

test('types: text wins over numbers; leading zeros stay text; int64 overflow is double', () => {
  assert.equal(detectType(['1', 'x']), 'text');
  assert.equal(detectType(['007', '1']), 'text');
  assert.equal(detectType(['1', '', '2']), 'integer');
  assert.equal(detectType(['1', '2.5']), 'double');
  assert.equal(detectType(['18446744073709551615']), 'double');
  assert.equal(detectType(['true', 'False']), 'boolean');
  assert.equal(detectType(['2024-02-30']), 'text');
  assert.equal(detectType(['2024-01-01 10:00:00', '2024-01-01T10:00:00.123456']), 'timestamp');
  assert.equal(castDetected('9007199254740993', 'integer', 'x'), 9007199254740993n);
  assert.equal(
    (castDetected('2024-01-01 00:00:00.000001', 'timestamp', 't') as Date).toISOString(),
    '2024-01-01T00:00:00.000001Z',
  );
  assert.throws(
    () => castDetected('18446744073709551615', 'integer', 'id'),
    (e: CastFailure) => /out of range for int64/.test(e.message) && e.column === 'id',
  );
});

test('unique names follow DuckDB: a_1 for a repeat, column<i> for an empty name, zero-padded defaults', () => {
  assert.deepEqual(uniqueNames(['a', 'a', '', '1', 'a_1', 'a']), ['a', 'a_1', 'column2', '1', 'a_1_1', 'a_2']);
  // case-insensitively, as DuckDB 1.5 names them (read_csv of `id,ID,Id`)
  assert.deepEqual(uniqueNames(['id', 'ID', 'Id']), ['id', 'ID_1', 'Id_2']);
  assert.deepEqual(defaultNames(3), ['column0', 'column1', 'column2']);
  assert.equal(defaultNames(12)[3], 'column03');
});

test('property: unique names are unique, keep unique headers as they are, and are deterministic', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('a', 'A', 'a_1', 'b', '', '1', 'column1', 'a_2'), { maxLength: 12 }),
      (header) => {
        const names = uniqueNames(header);
        assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length);
        assert.deepEqual(uniqueNames(header), names);
        const lower = header.map((h) => h.toLowerCase());
        if (new Set(lower).size === header.length && !header.includes('')) assert.deepEqual(names, header);
      },
    ),
  );
});

test('property: any table written with a delimiter and quotes is sniffed back to that delimiter', () => {
  const cell = fc.stringMatching(/^[a-z0-9 ,;|]{1,6}$/);
  fc.assert(
    fc.property(
      fc.constantFrom(',', ';', '|', '\t'),
      fc.integer({ min: 2, max: 5 }),
      fc.array(fc.array(cell, { minLength: 5, maxLength: 5 }), { minLength: 2, maxLength: 8 }),
      (delimiter, width, rows) => {
        const quoteIfNeeded = (v: string): string => (/[,;|\t"]/.test(v) ? `"${v}"` : v);
        const text = rows.map((r) => r.slice(0, width).map(quoteIfNeeded).join(delimiter)).join('\n') + '\n';
        assert.equal(sniff(text).delimiter, delimiter);
      },
    ),
  );
});

test('date formats: one per column, day first when ambiguous, month first when a day is over 12', () => {
  assert.deepEqual(detectColumn(['01/02/2024', '03/04/2024']), { type: 'date', format: '%d/%m/%Y' });
  assert.deepEqual(detectColumn(['12/31/2024', '01/02/2024']), { type: 'date', format: '%m/%d/%Y' });
  assert.deepEqual(detectColumn(['13.02.2024']), { type: 'date', format: '%d.%m.%Y' });
  // two formats in one column: text
  assert.deepEqual(detectColumn(['2024-01-02', '03/04/2024']), { type: 'text' });
  assert.equal((castDetected('31/12/2024', 'date', 'd', '%d/%m/%Y') as Date).toISOString(), '2024-12-31T00:00:00.000Z');
});

test("comment lines: indented by spaces only (a tab makes a record, DuckDB's rule); between records they make end-of-line comments comments too", () => {
  assert.equal(sniff('a,b\n\t# tabbed\n1,2\n3,4\n').comment, undefined);
  const between = sniff('a,b\n1,x # note\n# mid\n3,y\n5,z\n');
  assert.equal(between.comment, '#');
  assert.equal(between.inlineComments, true);
  assert.deepEqual(between.types, ['integer', 'text']);
  assert.equal(between.rowsSampled, 3);
  const before = sniff('# top\na,b\n1,x # note\n3,y\n');
  assert.equal(before.comment, '#');
  assert.equal(before.inlineComments, false);
  assert.deepEqual(before.headerNames, ['a', 'b']);
  // a caller's comment_no_infix wins over what the sample shows
  assert.equal(
    sniffCsv(Buffer.from('a,b\n1,2\n# mid\n3,4\n'), true, { comment: '#', inlineComments: false }).inlineComments,
    false,
  );
});

test('NaN and infinities are doubles, as DuckDB sniffs and casts them (toCsv writes them; they made the column text)', () => {
  // DuckDB's read_csv: DOUBLE for each of these columns, VARCHAR for a leading `+`
  for (const values of [
    ['1.5', 'NaN'],
    ['1', 'NaN'],
    ['NaN'],
    ['1.5', 'Infinity', '-Infinity'],
    ['inf', '-inf', 'INF'],
    ['nan', '-nan', ' NaN'],
    ['infinity'],
  ])
    assert.equal(detectType(values), 'double', JSON.stringify(values));
  assert.equal(detectType(['1.5', '+Infinity']), 'text');
  assert.equal(detectType(['1.5', 'Infinityx']), 'text');
  assert.ok(Number.isNaN(castDetected('NaN', 'double', 'x') as number));
  assert.ok(Number.isNaN(castDetected('-nan', 'double', 'x') as number));
  assert.equal(castDetected('-Infinity', 'double', 'x'), Number.NEGATIVE_INFINITY);
  assert.equal(castDetected('inf', 'double', 'x'), Number.POSITIVE_INFINITY);
  assert.equal(castDetected('+inf', 'double', 'x'), Number.POSITIVE_INFINITY);
  assert.throws(() => castDetected('NaN', 'integer', 'x'));
});
