import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify, type Options } from 'csv-stringify/sync';
import {
  STRINGIFY_CAST,
  csvFormatter,
  csvHeader,
  fastCsvFormat,
  numberText,
} from '../../../../lib/formats/csv/format.ts';

const field = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', ',', ';', '"', "'", '\n', '\r', ' ', 'é', '😀', '|', '0', '.', '-') }),
  fc.string(),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.constant(''),
  fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.bigInt())),
);
const dialect = fc
  .record(
    {
      delimiter: fc.constantFrom(',', ';', '\t', '|', '.', '0', 'a'),
      quote: fc.constantFrom('"', "'", '|'),
      record_delimiter: fc.constantFrom('unix', 'windows', '\n', '\r\n'),
    },
    { requiredKeys: [] },
  )
  .filter((d) => (d.quote ?? '"') !== (d.delimiter ?? ','))
  .map((d) => (d.quote === undefined || d.quote === '"' ? d : { ...d, escape: d.quote }));

test('fast formatter writes what csv-stringify writes, for object and array rows', () => {
  fc.assert(
    fc.property(
      dialect,
      fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { maxLength: 20 }),
      (options, table) => {
        const format = fastCsvFormat(options);
        assert.ok(format, `dialect ${JSON.stringify(options)} should be fast`);
        const columns = ['a', 'b c', 'd,"e"'];
        const objects = table.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
        const expected = stringify(objects, {
          ...options,
          quote_record_delimiter: true,
          cast: STRINGIFY_CAST,
          header: true,
          columns,
        } as Options);
        assert.equal(csvHeader(format, columns) + csvFormatter(format, columns)(objects), expected);
        const arrays = stringify(table, { ...options, quote_record_delimiter: true, cast: STRINGIFY_CAST } as Options);
        assert.equal(csvFormatter(format, undefined)(table), arrays);
      },
    ),
    { numRuns: 1500 },
  );
});

test('line breaks in fields are always quoted (csv-stringify quotes only an explicit record_delimiter)', () => {
  const format = fastCsvFormat({ record_delimiter: 'windows' })!;
  assert.equal(csvFormatter(format, undefined)([['a\nb', '\r']]), '"a\nb","\r"\r\n');
});

test('options only csv-stringify supports are left to it', () => {
  for (const options of [
    { quoted: true },
    { bom: true },
    { eof: false },
    { delimiter: '::' },
    { escape: '\\' },
    { record_delimiter: 'mac' },
    { quoted_string: true },
    { escape_formulas: true },
    { quote_record_delimiter: false },
  ]) {
    assert.equal(fastCsvFormat(options), undefined, JSON.stringify(options));
  }
  assert.deepEqual(fastCsvFormat({}), { delimiter: ',', quote: '"', recordDelimiter: '\n' });
});

test('functions and symbols are refused, as csv-stringify refuses them', () => {
  const format = fastCsvFormat({})!;
  for (const value of [() => 1, Symbol('x')]) {
    const rows = [{ a: value }];
    assert.throws(() => csvFormatter(format, ['a'])(rows), /Cannot write a (function|symbol) as a CSV field/);
    assert.throws(() => stringify(rows, { cast: STRINGIFY_CAST, columns: ['a'] } as Options));
  }
});

test("a quote other than '\"' is fast only with escape set to it, as csv-stringify escapes with '\"' by default", () => {
  assert.equal(fastCsvFormat({ quote: "'" }), undefined);
  assert.deepEqual(fastCsvFormat({ quote: "'", escape: "'" }), { delimiter: ',', quote: "'", recordDelimiter: '\n' });
});

test('-0 keeps its sign on both paths (String(-0) is "0"; DuckDB writes -0.0), and reads back as -0', () => {
  const rows = [{ a: -0, b: 0, c: -1.5 }];
  const fast = csvFormatter(fastCsvFormat({})!, ['a', 'b', 'c'])(rows);
  const slow = stringify(rows, { cast: STRINGIFY_CAST, columns: ['a', 'b', 'c'] });
  assert.equal(fast, '-0,0,-1.5\n');
  assert.equal(slow, fast);
  assert.ok(Object.is(Number(fast.split(',')[0]), -0));
});

/** What numberText must give: `String`, with -0's sign kept. */
const reference = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

test('numberText writes every double as String does (its integer path included), -0 with its sign', () => {
  const edges = [
    0,
    -0,
    0.1,
    0.2,
    0.1 + 0.2,
    1 / 3,
    1e-6,
    1.5e-6,
    9.99e-7,
    5e-324,
    2 ** 52 - 0.5,
    2 ** 52,
    2 ** 53,
    1e21,
    123456789.12345679,
    0.000123,
    63.871,
    31680.016,
    4503599627370495.5,
    Number.MAX_VALUE,
    NaN,
    Infinity,
  ];
  for (const v of edges) for (const x of [v, -v]) assert.equal(numberText(x), reference(x), String(x));
  // any bit pattern, and decimals of up to 12 fraction digits (prices, rates, their products)
  fc.assert(
    fc.property(fc.double(), (v) => numberText(v) === reference(v)),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 1, max: 999 }),
      (m, k, by) => {
        const v = m / 10 ** k;
        return numberText(v) === reference(v) && numberText(v * by) === reference(v * by);
      },
    ),
    { numRuns: 50_000 },
  );
});
