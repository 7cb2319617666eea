/**
 * KeyDictionary: one code per value under SQL grouping equality, whichever table holds it
 * (numbers and Dates by value in typed tables, the rest by canonical form): -0 is 0, every NaN is
 * one value, a bigint in the safe range is the number, a Date is never a number, a PreciseDate's
 * nanoseconds count, and codes survive the tables' growth. Checked against the canonical
 * encoding the trie uses (key-encoding.ts), which is the definition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyDictionary, hashKey } from '../../../lib/operators/key-dictionary.ts';
import { NumberCodes } from '../../../lib/operators/number-codes.ts';
import { encodeUtf8, hashUtf8 } from '../../../lib/operators/string-codes.ts';
import { encodeValue } from '../../../lib/operators/key-encoding.ts';
import { PreciseDate } from '../../../lib/formats/values.ts';

test('numbers, bigints and Dates get one code per SQL value', () => {
  const d = new KeyDictionary();
  const zero = d.code(0);
  assert.equal(d.code(-0), zero);
  assert.equal(d.code(0n), zero);
  assert.equal(d.code(Number.NaN), d.code(0 / 0));
  assert.notEqual(d.code(Number.NaN), zero);
  assert.equal(d.code(5n), d.code(5));
  assert.notEqual(d.code(2n ** 60n), d.code(2 ** 60 + 256));
  assert.equal(d.code(2n ** 60n), d.code(2 ** 60));
  const date = d.code(new Date(5));
  assert.notEqual(date, d.code(5));
  assert.equal(d.code(new Date(5)), date);
  assert.equal(d.code(new PreciseDate(5, 0)), date);
  assert.notEqual(d.code(new PreciseDate(5, 1)), date);
  assert.equal(d.code(new PreciseDate(5, 1)), d.code(new PreciseDate(5, 1)));
  assert.notEqual(d.code('5'), d.code(5));
  assert.equal(d.code(null), d.code(undefined));
  // the first value seen is the one kept
  assert.equal(d.value(zero), 0);
  assert.equal(d.value(d.code(5)), 5n);
});

test('codes agree with the canonical encoding over many values and the tables growing', () => {
  const value = fc.oneof(
    fc.integer({ min: -50, max: 50 }),
    fc.double({ noDefaultInfinity: false }),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300),
    fc.integer({ min: -3, max: 3 }).map((ms) => new Date(ms)),
    fc.integer({ min: 0, max: 2 }).map((ns) => new PreciseDate(1, ns)),
    fc.constantFrom('a', '', '5', null),
  );
  fc.assert(
    fc.property(fc.array(value, { maxLength: 3000 }), (values) => {
      const d = new KeyDictionary();
      const byKey = new Map<string, number>();
      for (const v of values) {
        const key = encodeValue(v, false);
        const code = d.code(v);
        const seen = byKey.get(key);
        if (seen === undefined) {
          assert.equal(code, byKey.size, `a new value gets the next code: ${key}`);
          byKey.set(key, code);
        } else assert.equal(code, seen, `the same value gets its code again: ${key}`);
      }
      assert.equal(d.size, byKey.size);
    }),
    { numRuns: 60 },
  );
});

for (const expected of [undefined, 70_000, 200_000]) {
  test(`NumberCodes keeps codes through growth (expected ${expected})`, () => {
    const t = new NumberCodes(expected);
    for (let i = 0; i < 100_000; i++) assert.equal(t.codeOf(i * 1.5, i), i);
    for (let i = 0; i < 100_000; i += 997) assert.equal(t.codeOf(i * 1.5, -5), i);
    assert.ok(t.bytes >= 100_000 * 20);
  });
}

test('nextCapacity: doubles, and jumps to the expected size once a table holds many entries', async () => {
  const { nextCapacity } = await import('../../../lib/operators/hash-mix.ts');
  assert.equal(nextCapacity(256, 1e6), 512, 'a small table doubles whatever is expected');
  assert.equal(nextCapacity(4096, 0), 8192);
  assert.equal(nextCapacity(4096, 8000), 8192);
  assert.equal(nextCapacity(4096, 156_000), 262_144);
  assert.equal(nextCapacity(262_144, 156_000), 524_288, 'past the expected size it doubles again');
});

test('strings: one code per string from JS values and from Arrow UTF-8 bytes, valid or not', () => {
  const text = fc.oneof(
    fc.constantFrom('', 'a', 'é', '😀', '\ufffd', '\udfff', 'a\ud800', '\udfffsx', 'XNAS', '2026-01-05T14:30:00.000Z'),
    fc.string({ maxLength: 6 }),
    fc.string({ unit: 'binary', maxLength: 4 }),
    fc.string({ unit: 'grapheme', maxLength: 3 }),
  );
  // Arrow bytes: a string's UTF-8, or bytes that are not UTF-8 (they decode with U+FFFD)
  const raw = fc.oneof(
    text.map((s) => ({ bytes: Buffer.from(s, 'utf8') })),
    fc.uint8Array({ maxLength: 5 }).map((b) => ({ bytes: Buffer.from(b) })),
  );
  fc.assert(
    fc.property(fc.array(fc.oneof(text, raw), { maxLength: 300 }), (items) => {
      const d = new KeyDictionary();
      const byKey = new Map<string, number>();
      for (const item of items) {
        let code: number;
        let shown: string;
        if (typeof item === 'string') {
          code = d.code(item);
          shown = item;
        } else {
          const bytes = new Uint8Array(item.bytes);
          shown = item.bytes.toString('utf8');
          const h = hashUtf8(bytes, 0, bytes.length);
          const found = d.findUtf8(bytes, 0, bytes.length, h);
          code = found >= 0 ? found : d.addUtf8(bytes, 0, bytes.length, h, shown);
        }
        // equal exactly when the strings (as rows show them) are equal
        const key = encodeValue(shown, true);
        const expected = byKey.get(key) ?? d.size - (byKey.has(key) ? 0 : 1);
        if (!byKey.has(key)) byKey.set(key, code);
        assert.equal(code, expected, JSON.stringify(shown));
        assert.equal(encodeValue(d.value(code), true), key);
      }
      assert.equal(d.size, byKey.size);
    }),
    { numRuns: 500 },
  );
});

test('encodeUtf8 writes what Buffer writes, and refuses lone surrogates', () => {
  const out = new Uint8Array(64);
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
      const n = encodeUtf8(s, out);
      if (!/\p{Surrogate}/u.test(s)) assert.deepEqual(Buffer.from(out.subarray(0, n)), Buffer.from(s, 'utf8'));
      else assert.equal(n, -1);
    }),
    { numRuns: 2000 },
  );
});

test('a string table grows past many entries and keeps every code', () => {
  const d = new KeyDictionary();
  const n = 70_000;
  for (let i = 0; i < n; i++) assert.equal(d.code(`k${i}`), i);
  for (let i = 0; i < n; i += 7) {
    const bytes = Buffer.from(`k${i}`);
    assert.equal(d.findUtf8(bytes, 0, bytes.length, hashUtf8(bytes, 0, bytes.length)), i);
    assert.equal(d.code(`k${i}`), i);
  }
  assert.equal(d.size, n);
});

test('text held as bytes is one value with the same string from rows, decodes when read, and hashes as hashKey does', () => {
  const value = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom('', 'é', '😀', 'AAPL', '\ufffd', null, 0, -0, Number.NaN, 7n, 2n ** 70n),
    fc.integer({ min: -5, max: 5 }),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(value, fc.boolean()), { maxLength: 60 }),
      fc.integer({ min: 0, max: 3 }),
      (items, seed) => {
        const d = new KeyDictionary();
        const byKey = new Map<string, number>();
        const held: unknown[] = [];
        for (const [v, asBytes] of items) {
          // well-formed text may come as bytes (an Arrow column, a spilled chunk), else as a value
          const wellFormed = typeof v === 'string' && !/\p{Surrogate}/u.test(v);
          const bytes = wellFormed && asBytes ? Buffer.from(v, 'utf8') : undefined;
          const code = bytes ? d.codeUtf8(bytes, 0, bytes.length) : d.code(v);
          const key = encodeValue(v, true);
          if (!byKey.has(key)) {
            byKey.set(key, code);
            held.push(v);
          }
          assert.equal(code, byKey.get(key), JSON.stringify(String(v)));
        }
        const hashes = d.hashes(seed);
        for (const v of held) {
          const code = byKey.get(encodeValue(v, true))!;
          assert.equal(encodeValue(d.value(code), true), encodeValue(v, true));
          assert.equal(hashes[code], hashKey(v, seed), `hash of ${JSON.stringify(String(v))}`);
        }
        assert.equal(d.size, byKey.size);
      },
    ),
    { numRuns: 1000 },
  );
});
