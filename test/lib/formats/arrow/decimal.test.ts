/**
 * Decimals between Arrow words and the exact text rows hold: every text decimalText writes is read
 * back to the same words (128 and 256 bits, negative, zero scale, negative scale), a value the
 * type cannot hold exactly is refused rather than rounded, text compares by value, and
 * buildColumn makes a Decimal column from rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal, Field } from 'apache-arrow';
import {
  compareDecimalText,
  decimalText,
  decimalWords,
  unscaledDecimal,
} from '../../../../lib/formats/arrow/decimal.ts';
import { buildColumn } from '../../../../lib/formats/arrow/build.ts';
import { valueReader } from '../../../../lib/formats/arrow/to-rows.ts';

/** The text of `units` at `scale`, through the words of a `bits`-bit decimal. */
function roundTrip(units: bigint, scale: number, bits: number): string {
  const stride = bits / 32;
  const words = new Uint32Array(stride * 2).fill(0xdeadbeef);
  decimalWords(units, words, stride, stride);
  assert.equal(words[0], 0xdeadbeef, 'the word before is untouched');
  return decimalText(words, stride, stride, scale);
}

test('decimal text read back gives the same words, at 128 and 256 bits, any sign and scale', () => {
  const cases: [bigint, number, number][] = [
    [0n, 3, 128],
    [1n, 3, 128],
    [-1n, 3, 128],
    [-120375n, 3, 128],
    [10n ** 38n - 1n, 2, 128],
    [-(10n ** 38n - 1n), 10, 128],
    [123456789n, 0, 128],
    [-42n, -3, 128],
    [10n ** 76n - 1n, 20, 256],
    [-(10n ** 75n) - 7n, 5, 256],
  ];
  for (const [units, scale, bits] of cases) {
    const text = roundTrip(units, scale, bits);
    const precision = bits === 128 ? 38 : 76;
    assert.equal(unscaledDecimal(text, precision, scale), units, `${text} at scale ${scale}`);
  }
  assert.equal(roundTrip(-120375n, 3, 128), '-120.375');
  assert.equal(roundTrip(5n, 3, 128), '0.005');
  assert.equal(roundTrip(-42n, -3, 128), '-42000');
});

test('a value the decimal type cannot hold exactly is refused, never rounded', () => {
  assert.equal(unscaledDecimal('1.25', 4, 2), 125n);
  assert.equal(unscaledDecimal('1.2', 4, 2), 120n);
  assert.equal(unscaledDecimal('1.2500', 4, 2), 125n, 'trailing zeros past the scale');
  assert.equal(unscaledDecimal('+3', 4, 2), 300n);
  assert.equal(unscaledDecimal(7, 4, 2), 700n);
  assert.equal(unscaledDecimal(-7n, 4, 2), -700n);
  assert.equal(unscaledDecimal('1.251', 4, 2), undefined, 'a digit past the scale');
  assert.equal(unscaledDecimal('100.00', 4, 2), undefined, 'five digits in DECIMAL(4,2)');
  assert.equal(unscaledDecimal(1.5, 4, 2), undefined, 'a double is not an exact decimal');
  assert.equal(unscaledDecimal('1e3', 4, 2), undefined);
  assert.equal(unscaledDecimal('', 4, 2), undefined);
  assert.equal(unscaledDecimal('12300', 3, -2), 123n);
  assert.equal(unscaledDecimal('12345', 5, -2), undefined, 'not a multiple of 100 at scale -2');
});

test('decimal text of one scale compares by value', () => {
  const texts = ['24.00', '9.00', '-0.50', '-10.25', '0.00', '100.00', '-9.75', '10.00'];
  const sorted = [...texts].sort(compareDecimalText);
  assert.deepEqual(sorted, ['-10.25', '-9.75', '-0.50', '0.00', '9.00', '10.00', '24.00', '100.00']);
  assert.equal(compareDecimalText('7', '7'), 0);
});

test('buildColumn makes a Decimal column from the text, bigints and nulls rows hold', () => {
  const field = new Field('amount', new Decimal(3, 12, 128), true);
  const data = buildColumn(field, ['-120.375', null, 5n, '0.125', undefined, 42]);
  const read = valueReader(data);
  assert.deepEqual(
    Array.from({ length: 6 }, (_, i) => read(i)),
    ['-120.375', null, '5.000', '0.125', null, '42.000'],
  );
  assert.equal(data.nullCount, 2);
  assert.throws(() => buildColumn(field, ['1.0005']), /Decimal.*holds `"1\.0005"` \(string\)/);
  assert.throws(() => buildColumn(field, [0.1]), /Decimal.*holds `0\.1` \(number\)/);
});
