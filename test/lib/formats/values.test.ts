/**
 * `isoString` writes every timestamp to CSV: it must give `Date.prototype.toISOString`'s text for
 * every Date a JavaScript engine can hold (years -271821 to 275760), PreciseDate's digits below
 * the millisecond, the same RangeError for an invalid Date, and leave a user's Date subclass to its own method.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoString, PreciseDate } from '../../../lib/formats/values.ts';

const MAX = 8.64e15;

/** Deterministic pseudo-random integers in [low, high), 52 bits of resolution (mulberry32 twice). */
function sequence(seed: number): (low: number, high: number) => number {
  let state = seed >>> 0;
  const u32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (low, high) => low + Math.floor(((u32() * 2 ** 20 + (u32() >>> 12)) / 2 ** 52) * (high - low));
}

test('isoString gives toISOString text for Dates over the whole range, in runs and at random', () => {
  const next = sequence(17);
  const ranges: [number, number][] = [
    [-MAX, MAX + 1], // any Date: extended years (+275760, -271821) too
    [-62_167_219_200_000 - 1e12, 253_402_300_800_000 + 1e12], // around years 0000 and 9999
    [-1e11, 1e11], // around 1970
  ];
  let checked = 0;
  for (const [low, high] of ranges) {
    for (let i = 0; i < 100_000; i++) {
      const date = new Date(next(low, high));
      assert.equal(isoString(date), date.toISOString());
      checked++;
    }
  }
  // runs of close timestamps, as a column holds them (the cached day and second are reused)
  let ms = 1_767_623_400_000;
  for (let i = 0; i < 50_000; i++) {
    ms += next(0, 40);
    const date = new Date(ms);
    assert.equal(isoString(date), date.toISOString());
  }
  for (const edge of [
    -MAX,
    MAX,
    0,
    -1,
    1,
    86_399_999,
    -86_400_000,
    -86_400_001,
    -62_167_219_200_000,
    -62_167_219_200_001,
    253_402_300_799_999,
    253_402_300_800_000,
  ]) {
    assert.equal(isoString(new Date(edge)), new Date(edge).toISOString(), String(edge));
  }
  assert.equal(checked, 300_000);
});

test('isoString of a PreciseDate adds the digits below the millisecond, trailing zeros dropped', () => {
  const next = sequence(5);
  for (let i = 0; i < 50_000; i++) {
    const ms = next(-1e13, 1e13);
    const nanos = i % 5 === 0 ? 0 : next(0, 1_000_000);
    const base = new Date(ms).toISOString();
    const digits = String(nanos).padStart(6, '0').replace(/0+$/, '');
    const expected = nanos === 0 ? base : `${base.slice(0, -1)}${digits}Z`;
    const date = new PreciseDate(ms, nanos);
    assert.equal(isoString(date), expected);
    assert.equal(date.toISOString(), expected);
    assert.equal(JSON.stringify(date), JSON.stringify(expected));
  }
  assert.equal(new PreciseDate(Date.UTC(2026, 0, 5, 14, 30), 120_000).toISOString(), '2026-01-05T14:30:00.00012Z');
  assert.equal(new PreciseDate(-1, 999_999).toISOString(), '1969-12-31T23:59:59.999999999Z');
});

test("isoString throws toISOString's RangeError for an invalid Date and leaves subclasses their own text", () => {
  assert.throws(() => isoString(new Date(Number.NaN)), RangeError);
  assert.throws(() => new PreciseDate(Number.NaN, 5).toISOString(), RangeError);
  class Local extends Date {
    override toISOString(): string {
      return 'local';
    }
  }
  assert.equal(isoString(new Local(0)), 'local');
  // a plain Date given a `nanos` property is still a plain Date
  assert.equal(isoString(Object.assign(new Date(0), { nanos: 5 })), '1970-01-01T00:00:00.000Z');
});
