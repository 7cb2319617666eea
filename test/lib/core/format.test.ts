/**
 * The one formatting module: each kind of figure, its unit boundaries (the unit is chosen after
 * rounding: never `1000k`), negative and non-finite values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatExact,
  formatPercent,
  formatRate,
} from '../../../lib/core/format.ts';

test('formatBytes: decimal units, one decimal below 100, none from 100', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(12), '12 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1000), '1.0 kB');
  assert.equal(formatBytes(512_000), '512 kB');
  assert.equal(formatBytes(18_240_000), '18.2 MB');
  assert.equal(formatBytes(1.234e9), '1.2 GB');
  assert.equal(formatBytes(999_960), '1.0 MB');
  assert.equal(formatBytes(99_960), '100 kB');
  assert.equal(formatBytes(1.2e14), '120 TB');
  assert.equal(formatBytes(-2_500_000), '-2.5 MB');
  assert.equal(formatBytes(Number.NaN), '–');
});

test('formatCount: short form with SI prefixes', () => {
  assert.equal(formatCount(950), '950');
  assert.equal(formatCount(0.4), '0');
  assert.equal(formatCount(18_240), '18.2k');
  assert.equal(formatCount(182_000), '182k');
  assert.equal(formatCount(9_999), '10.0k');
  assert.equal(formatCount(999_999), '1.0M');
  assert.equal(formatCount(6_100_000), '6.1M');
  assert.equal(formatCount(1.2e9), '1.2G');
  assert.equal(formatCount(3e12), '3.0T');
  assert.equal(formatCount(3e15), '3000T');
  assert.equal(formatCount(Infinity), '–');
});

test('formatDuration: ms, seconds with one decimal, then minutes and hours', () => {
  assert.equal(formatDuration(0), '0 ms');
  assert.equal(formatDuration(380), '380 ms');
  assert.equal(formatDuration(999.6), '1.0 s');
  assert.equal(formatDuration(4_200), '4.2 s');
  assert.equal(formatDuration(12_345), '12.3 s');
  assert.equal(formatDuration(59_940), '59.9 s');
  assert.equal(formatDuration(59_960), '1 min 00 s');
  assert.equal(formatDuration(130_000), '2 min 10 s');
  assert.equal(formatDuration(3_725_000), '1 h 02 min');
  assert.equal(formatDuration(-1), '–');
  assert.equal(formatDuration(Number.NaN), '–');
});

test('formatRate, formatPercent, formatExact', () => {
  assert.equal(formatRate(182_000, 'rows'), '182k rows/s');
  assert.equal(formatRate(45_200_000, 'bytes'), '45.2 MB/s');
  assert.equal(formatRate(Number.NaN, 'rows'), '–');
  assert.equal(formatPercent(0.61), '61%');
  assert.equal(formatPercent(0.005), '0.5%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(0.0996), '10%');
  assert.equal(formatPercent(1), '100%');
  assert.equal(formatExact(6_100_000), '6,100,000');
  assert.equal(formatExact(12.6), '13');
});
