/**
 * The spill partitions' record codec (record-codec.ts): whatever form a piece takes (by shape, or
 * structured clone), it decodes to what a V8 structured-clone round trip gives, for the values the
 * hash operators' equality rules care about (NaN, -0, bigint, null vs undefined, empty and
 * non-ASCII strings, lone surrogates, Dates) and for the shapes the shaped form must refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { decodeRecords, encodeRecords } from '../../../../lib/formats/records/record-codec.ts';
import { PreciseDate } from '../../../../lib/formats/values.ts';

/** Round-trips `records` and checks them against a structured clone, -0 included; returns the form byte. */
function roundTrip(records: unknown[]): number {
  const bytes = encodeRecords(records);
  const back = decodeRecords(bytes);
  assert.deepStrictEqual(back, v8.deserialize(v8.serialize(records)));
  // -0 must stay -0 (the clone keeps it): compare where the negative zeros are
  assert.deepEqual(negativeZeros(back), negativeZeros(records));
  return bytes[0]!;
}

/** The paths of the -0 leaves in `value`. */
function negativeZeros(value: unknown, path = ''): string[] {
  if (Object.is(value, -0)) return [path];
  if (typeof value !== 'object' || value === null || value instanceof Date) return [];
  return Object.entries(value).flatMap(([k, v]) => negativeZeros(v, `${path}/${k}`));
}

/** `[1, <hole>, 3]`. */
function sparse(): unknown[] {
  const array = [1, 2, 3];
  delete array[1];
  return array;
}

/** Join records: an encoded key (or null) and a row. */
function joinRecords(n: number, row: (i: number) => Record<string, unknown>): unknown[] {
  return Array.from({ length: n }, (_, i) => [i % 5 === 0 ? null : `s${i}:key`, row(i)]);
}

test('rows of one shape take the shaped form and keep every value exact', () => {
  const form = roundTrip(
    joinRecords(64, (i) => ({
      id: i,
      big: i % 2 ? 2n ** 70n : -5n,
      f: [Number.NaN, -0, 0, 1.5, -(2 ** 31), 2 ** 31, Number.MAX_VALUE, Number.NEGATIVE_INFINITY][i % 8],
      s: ['', 'é', '日本語', '\u{1F600}', 'plain'][i % 5],
      n: i % 3 === 0 ? null : undefined,
      b: i % 2 === 0,
      d: new Date(1_700_000_000_000 + i),
    })),
  );
  assert.equal(form, 1);
});

test("pieces that outgrow the writer's buffer keep every value, whatever value crosses its end", () => {
  // each piece is past 16 x 64 kB (the writer lets such a buffer go), so each grows it from 64 kB
  // several times, and every growth happens at a value of that piece's kind
  const kinds: ((i: number) => unknown)[] = [(i) => i + 0.5, (i) => new Date(i), (i) => -i, (i) => `${i}`];
  for (const kind of kinds) {
    const records = Array.from({ length: 36_000 }, (_, i) => ({
      a: kind(i),
      b: kind(i + 1),
      c: kind(i + 2),
      d: kind(i + 3),
    }));
    assert.equal(roundTrip(records), 1);
  }
});

test('a lone surrogate switches the text to UTF-16 and survives', () => {
  const form = roundTrip(joinRecords(16, (i) => ({ s: i === 3 ? 'a\ud800b' : `x${i}`, t: '\udc00' })));
  assert.equal(form, 2);
});

test('array rows and nested plain values take the shaped form', () => {
  assert.equal(roundTrip(Array.from({ length: 20 }, (_, i) => [i, `v${i}`, { nested: [i, null] }])), 1);
});

test('column names that are not identifiers are written and read by the compiled shape as they are', () => {
  // each shape is compiled into code from its names: quotes, backslashes, line separators, code
  // and integer-like names must stay names (integer keys come first in a JS object, as in the clone)
  const names = [
    '"',
    'a.b',
    'x y',
    "'",
    '\\',
    '\u2028',
    '"]; globalThis.pwned = 1; //',
    '',
    '10',
    '2',
    'constructor',
    'é',
  ];
  const records = Array.from({ length: 40 }, (_, i) =>
    Object.fromEntries(names.map((name, c) => [name, c % 2 ? `${name}${i}` : [i, { [name]: c }]])),
  );
  assert.equal(roundTrip(records), 1);
  assert.equal((globalThis as { pwned?: number }).pwned, undefined);
});

test('a record of another shape later in a piece sends the piece to the clone, exact', () => {
  // the compiled writer checks every record: a nested key order, a longer array, a hole
  const base = (i: number): unknown => [i, { a: i, b: [i, `${i}`] }];
  const hole: unknown[] = [9, '9'];
  delete hole[1];
  const odd: unknown[] = [
    [9, { b: [9, '9'], a: 9 }],
    [9, { a: 9, b: [9, '9', 9] }],
    [9, { a: 9, b: hole }],
  ];
  for (const record of odd) {
    const records = Array.from({ length: 30 }, (_, i) => (i === 29 ? record : base(i)));
    assert.equal(roundTrip(records), 0xff);
  }
});

test('what the shaped form cannot hold is cloned, and still exact', () => {
  const cases: unknown[][] = [
    // mixed shapes
    Array.from({ length: 20 }, (_, i) => (i === 7 ? { a: 1, b: 2 } : { a: i })),
    // keys in another order
    Array.from({ length: 20 }, (_, i) => (i === 7 ? { b: 2, a: 1 } : { a: i, b: i })),
    // Maps, Sets, typed arrays, null-prototype objects, sparse arrays
    Array.from({ length: 20 }, (_, i) => ({ m: new Map([[i, i]]) })),
    Array.from({ length: 20 }, (_, i) => ({ t: Buffer.from([i]) })),
    Array.from({ length: 20 }, (_, i) => ({ t: new Float32Array([i]) })),
    Array.from({ length: 20 }, () => Object.assign(Object.create(null) as object, { a: 1 })),
    Array.from({ length: 20 }, (_, i) => (i === 4 ? sparse() : [1, 2, 3])),
    // a `__proto__` own key
    Array.from({ length: 20 }, () => JSON.parse('{"__proto__": 1, "a": 2}') as unknown),
  ];
  for (const records of cases) assert.equal(roundTrip(records), 0xff);
  // too few records for a shape to pay off
  assert.equal(roundTrip([{ a: 1 }, { a: 2 }]), 0xff);
  assert.equal(roundTrip([]), 0xff);
});

/** A spilled groupBy/distinct chunk: key columns, packed states, kept rows (group-table.ts). */
function chunk(n: number, at: number): unknown {
  const ids = Array.from({ length: n }, (_, j) => at + j);
  return {
    keys: [
      ids.map((i) => (i % 7 === 0 ? null : `k${i % 13}é`)),
      ids.map((i) => (i % 5 === 0 ? -0 : i / 4)),
      ids.map((i) => BigInt(i) * 3n),
    ],
    states: [
      new Float64Array(ids.map((i) => (i % 9 === 0 ? Number.NaN : i))),
      new Uint8Array(ids.map((i) => i % 3)),
      new Int32Array(ids).subarray(1),
    ],
    rows: ids.map((i) => ({ symbol: `s${i % 11}`, qty: i % 4 === 0 ? null : i, at: new Date(1_700_000_000_000 + i) })),
  };
}

test('a few large chunks of lists and typed arrays take the shaped form, exact', () => {
  assert.equal(roundTrip([chunk(2048, 0)]), 1);
  assert.equal(roundTrip([chunk(2048, 0), chunk(17, 5000), chunk(300, 9000)]), 1);
  // a later chunk with a short list (below a list's sampling length) is still a list of the shape
  assert.equal(roundTrip([chunk(40, 0), chunk(2, 77), chunk(0, 99)]), 1);
  // typed arrays as values, views into larger buffers included
  const buffer = new Float64Array([1, 2, 3, 4, 5, -0, Number.NaN]);
  assert.equal(
    roundTrip(Array.from({ length: 10 }, (_, i) => ({ f: buffer.subarray(i % 4), b: new Uint8Array([i, 255]) }))),
    1,
  );
});

test('a list whose items differ past the sampled ones sends the piece to the clone, exact', () => {
  const rows: unknown[] = Array.from({ length: 50 }, (_, i) => ({ a: i, b: `${i}` }));
  for (const odd of [{ b: '9', a: 9 }, { a: 9 }, [9, '9'], new Map(), 'text', Buffer.from([1])]) {
    const list = [...rows];
    list[25] = odd;
    assert.equal(roundTrip([{ rows: list }]), 0xff);
  }
  const holes: unknown[] = Array.from({ length: 50 }, (_, i) => i);
  delete holes[30];
  assert.equal(roundTrip([{ values: holes }]), 0xff);
  // values of any kinds are alike: an array of them is a list
  const values = [1, 'x', ...Array.from({ length: 20 }, () => 2n), null, new Date(5)];
  assert.equal(roundTrip(Array.from({ length: 3 }, () => ({ values }))), 1);
});

test('an invalid Date stays invalid', () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ i, d: new Date(Number.NaN) }));
  const back = decodeRecords(encodeRecords(records)) as { i: number; d: Date }[];
  assert.equal(encodeRecords(records)[0], 1);
  assert.ok(back.every((r, i) => r.i === i && r.d instanceof Date && Number.isNaN(r.d.getTime())));
});

test('a PreciseDate keeps its nanoseconds, shaped or cloned, wherever it sits', () => {
  const at = (i: number): PreciseDate => new PreciseDate(1_767_623_400_000 + i, (i * 7001) % 1_000_000);
  /** Every Date of `value` as text with its class, in order. */
  const dates = (value: unknown): string[] => {
    if (value instanceof Date) return [`${value.constructor.name} ${value.toISOString()}`];
    if (typeof value !== 'object' || value === null) return [];
    if (value instanceof Error) return []; // the clone drops an Error's own properties
    if (value instanceof Map) return [...value].flatMap(([k, v]) => [...dates(k), ...dates(v)]);
    if (value instanceof Set) return [...value].flatMap(dates);
    return Object.values(value).flatMap(dates);
  };
  const shaped = Array.from({ length: 20 }, (_, i) => ({ id: i, ts: i % 3 === 0 ? new Date(i) : at(i) }));
  const chunk = [{ keys: [Array.from({ length: 40 }, (_, i) => at(i))], rows: shaped }];
  const mixed: unknown[] = [
    { a: at(1) },
    { b: [at(2), new Date(3), { c: at(4) }] },
    {
      m: new Map<unknown, unknown>([
        [at(5), at(6)],
        ['k', new Date(7)],
      ]),
    },
    { s: new Set([at(8), 9, at(10)]) },
  ];
  // an Error's own properties do not survive the clone: a Date in one must not shift the others
  mixed.push({ e: Object.assign(new Error('x'), { when: new Date(12) }), after: at(13) });
  const shared = at(11);
  mixed.push({ twice: [shared, shared] });
  for (const [records, form] of [
    [shaped, 1],
    [chunk, 1],
    [mixed, 3],
  ] as const) {
    const bytes = encodeRecords(records);
    assert.equal(bytes[0], form);
    const back = decodeRecords(bytes);
    assert.deepEqual(dates(back), dates(records));
    assert.ok(dates(back).some((d) => d.startsWith('PreciseDate') && /\.\d{4,}Z$/.test(d)));
  }
  // the encoder leaves the records as they were
  assert.ok(mixed[0] && (mixed[0] as { a: Date }).a instanceof PreciseDate);
});
