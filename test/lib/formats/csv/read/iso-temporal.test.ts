/**
 * The digit-by-digit ISO parsers against the regular expressions they replaced (kept here as the
 * reference), over generated text near the shapes they accept: every value, every refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIsoDate, parseTimestamp, parseTimestampTz } from '../../../../../lib/formats/csv/read/iso-temporal.ts';
import { PreciseDate, isPreciseDate } from '../../../../../lib/formats/values.ts';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const TIMESTAMP_TZ =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::\d{2}(?::\d{2})?|\d{2})?)$/;

function refDate(text: string): Date | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCFullYear() === year && d.getUTCDate() === day && d.getUTCMonth() === month - 1 ? d : undefined;
}

function refTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const date = refDate(`${m[1]}-${m[2]}-${m[3]}`);
  const [hours, minutes, seconds] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (!date || hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const fraction = (m[7] ?? '').padEnd(9, '0');
  const millis = date.getTime() + ((hours * 60 + minutes) * 60 + seconds) * 1000 + Number(fraction.slice(0, 3));
  const nanos = Number(fraction.slice(3));
  return nanos === 0 ? new Date(millis) : new PreciseDate(millis, nanos);
}

function refTimestampTz(text: string): Date | undefined {
  const m = TIMESTAMP_TZ.exec(text);
  if (!m) return refTimestamp(text);
  const local = refTimestamp(
    `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}${m[7] === undefined ? '' : `.${m[7].slice(0, 6)}`}`,
  );
  const offset = m[8]!;
  let seconds = 0;
  if (offset !== 'Z') {
    const digits = offset.slice(1).replaceAll(':', '');
    const [h, mi, s] = [Number(digits.slice(0, 2)), Number(digits.slice(2, 4) || 0), Number(digits.slice(4, 6) || 0)];
    if (h > 23 || mi > 59 || s > 59) return undefined;
    seconds = (offset[0] === '-' ? -1 : 1) * ((h * 60 + mi) * 60 + s);
  }
  if (local === undefined) return undefined;
  const millis = local.getTime() - seconds * 1000;
  const nanos = isPreciseDate(local) ? local.nanos : 0;
  return nanos === 0 ? new Date(millis) : new PreciseDate(millis, nanos);
}

function same(actual: Date | undefined, expected: Date | undefined, text: string): void {
  assert.equal(actual?.getTime(), expected?.getTime(), text);
  assert.equal(
    actual === undefined ? undefined : isPreciseDate(actual),
    expected === undefined ? undefined : isPreciseDate(expected),
    text,
  );
  if (actual && isPreciseDate(actual)) assert.equal(actual.nanos, (expected as PreciseDate).nanos, text);
}

const digit = fc.constantFrom(...'0123456789');
const digitsOf = (min: number, max: number) =>
  fc.array(digit, { minLength: min, maxLength: max }).map((d) => d.join(''));
// two digits, mostly in range, sometimes not
const two = (max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0')),
    digitsOf(1, 3),
  );
const noise = fc.oneof(
  { arbitrary: fc.constant(''), weight: 20 },
  { arbitrary: fc.constantFrom(' ', 'x', '-', ':', '.', 'Z', '+', '0', '12'), weight: 1 },
);
const date = fc
  .tuple(
    fc.oneof(
      fc.integer({ min: 0, max: 9999 }).map((y) => String(y).padStart(4, '0')),
      digitsOf(3, 5),
    ),
    two(13),
    two(32),
  )
  .map(([y, m, d]) => `${y}-${m}-${d}`);
const offset = fc.oneof(
  fc.constant('Z'),
  fc
    .tuple(
      fc.constantFrom('+', '-'),
      two(24),
      fc.constantFrom(':', ':', ':', '', 'x'),
      two(60),
      fc.constantFrom('', ':'),
      two(60),
    )
    .map(
      ([s, h, c1, m, c2, sec]) =>
        [`${s}${h}`, `${s}${h}${m}`, `${s}${h}:${m}`, `${s}${h}${c1}${m}${c2}${sec}`][sec.length % 4]!,
    ),
);
const timestamp = fc
  .tuple(
    date,
    fc.constantFrom(' ', 'T', ' ', 'T', ' ', 'T', 't', '_'),
    two(24),
    two(60),
    fc.option(two(60)),
    fc.option(digitsOf(0, 11)),
    fc.option(offset),
    noise,
  )
  .map(([d, sep, h, m, s, f, o, tail]) => {
    let text = `${d}${sep}${h}:${m}`;
    if (s !== null) text += `:${s}`;
    if (f !== null) text += `.${f}`;
    if (o !== null) text += o;
    return text + tail;
  });

test('dates read as the regular expression and setUTCFullYear read them', () => {
  for (const text of [
    '0000-01-01',
    '0000-02-29',
    '0001-02-29',
    '1900-02-29',
    '2000-02-29',
    '2024-13-01',
    '2024-00-10',
    '9999-12-31',
    '2024-1-01',
    '２０２４-01-01',
  ])
    same(parseIsoDate(text), refDate(text), text);
  fc.assert(
    fc.property(fc.tuple(date, noise), ([d, tail]) => same(parseIsoDate(d + tail), refDate(d + tail), d + tail)),
    { numRuns: 20_000 },
  );
});

test('timestamps with and without offsets read as the regular expressions read them', () => {
  for (const text of [
    '2024-01-01 10:00',
    '2024-01-01T10:00:59.123456789',
    '2024-01-01T10:00:59.1234567891',
    '2024-01-01 10:00Z',
    '2024-01-01 10:00:00Z',
    '2024-01-01 10:00:00.5+01',
    '2024-01-01 10:00:00.123456789-0530',
    '2024-01-01 10:00:00+05:30:15',
    '2024-01-01 10:00:00+24:00',
    '2024-01-01 10:00:00+01:60',
    '2024-01-01 10:00:00 +01:00',
    '0000-01-01 00:00:00.000001-23:59:59',
    '2024-02-30 10:00:00Z',
  ]) {
    same(parseTimestamp(text), refTimestamp(text), text);
    same(parseTimestampTz(text), refTimestampTz(text), text);
  }
  fc.assert(
    fc.property(timestamp, (text) => {
      same(parseTimestamp(text), refTimestamp(text), text);
      same(parseTimestampTz(text), refTimestampTz(text), text);
    }),
    { numRuns: 50_000 },
  );
});
