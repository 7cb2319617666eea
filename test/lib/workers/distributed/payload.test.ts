/**
 * Payload encoding without Redis: rows that Arrow gives back exactly travel as Arrow IPC + LZ4,
 * everything else as V8 serialization + LZ4, and either way they decode to equal rows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tableToIPC, Table } from 'apache-arrow';
import { rowsToRecordBatch } from '../../../../lib/formats/arrow/convert.ts';
import {
  arrowExact,
  decodePayload,
  encodeIpc,
  encodeRows,
  payloadRows,
} from '../../../../lib/workers/distributed/payload.ts';
import { PreciseDate, isPreciseDate } from '../../../../lib/formats/values.ts';

const roundTrip = (rows: unknown[]): { rows: unknown[]; kind: string } => {
  const { bytes, kind } = encodeRows(rows);
  return { rows: payloadRows(decodePayload(bytes, 'test')), kind };
};

/** xxHash32 (seed 0) of a short input: the LZ4 frame header checksum. */
function xxh32(b: Uint8Array): number {
  const [P1, P2, P3, P4, P5] = [2654435761, 2246822519, 3266489917, 668265263, 374761393];
  const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
  let h = (P5 + b.length) >>> 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) {
    const v = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
    h = Math.imul(rotl((h + Math.imul(v, P3)) >>> 0, 17), P4) >>> 0;
  }
  for (; i < b.length; i++) h = Math.imul(rotl((h + Math.imul(b[i]!, P5)) >>> 0, 11), P1) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

describe('distributed payloads', () => {
  test('PreciseDates keep their nanoseconds, top level and nested, whatever form the payload takes', () => {
    const at = (i: number): PreciseDate => new PreciseDate(1_767_623_400_000 + i, 1 + i * 997);
    const cases: unknown[][] = [
      Array.from({ length: 20 }, (_, i) => ({ n: i, at: at(i) })),
      Array.from({ length: 3 }, (_, i) => ({ n: i, deep: { at: at(i) } })),
      [{ n: 1, at: at(1) }, { m: new Map([['at', at(2)]]) }],
    ];
    for (const rows of cases) {
      const back = roundTrip(rows);
      const dates = (value: unknown): string[] =>
        value instanceof Date
          ? [`${isPreciseDate(value)} ${value.toISOString()}`]
          : typeof value === 'object' && value !== null
            ? (value instanceof Map ? [...value.values()] : Object.values(value)).flatMap(dates)
            : [];
      assert.deepEqual(dates(back.rows), dates(rows));
      assert.ok(dates(back.rows).every((d) => d.startsWith('true')));
    }
  });

  test('plain rows travel as Arrow and come back equal, and smaller than JSON', () => {
    const rows = Array.from({ length: 2000 }, (_, n) => ({
      n,
      price: n * 1.25,
      symbol: `S${n % 7}`,
      ok: n % 2 === 0,
      at: new Date(1_700_000_000_000 + n),
      tags: [n, 'x'],
      none: null,
    }));
    const { rows: back, kind } = roundTrip(rows);
    assert.equal(kind, 'arrow');
    assert.deepEqual(back, rows);
    assert.ok(encodeRows(rows).bytes.byteLength < JSON.stringify(rows).length / 2);
  });

  test('array rows travel as Arrow', () => {
    const rows = [
      [1, 'a'],
      [2, 'b'],
    ];
    assert.deepEqual(roundTrip(rows), { rows, kind: 'arrow' });
  });

  const inexact: [string, unknown[]][] = [
    ['bigint', [{ a: 1n }]],
    ['undefined values', [{ a: undefined }]],
    ['rows of different shapes', [{ a: 1 }, { a: 2, b: 3 }]],
    [
      'keys in another order',
      [
        { a: 1, b: 2 },
        { b: 3, a: 4 },
      ],
    ],
    ['mixed column types', [{ a: 1 }, { a: 'x' }]],
    ['a Date inside a nested value', [{ a: { at: new Date(0) } }]],
    ['-0 inside a nested value', [{ a: [-0] }]],
    ['a Buffer', [{ a: Buffer.from('hi') }]],
    ['a Map', [{ a: new Map([[1, 2]]) }]],
    ['a lone surrogate', [{ a: '\ud800' }]],
    ['non-object rows', [1, 2, 3]],
    ['no rows', []],
  ];
  for (const [what, rows] of inexact) {
    test(`${what}: V8 serialization, back exactly`, () => {
      // mixed types pass the exactness check and fail Arrow's inference instead: V8 either way
      if (what !== 'mixed column types') assert.equal(arrowExact(rows), false);
      const { rows: back, kind } = roundTrip(rows);
      assert.equal(kind, 'v8');
      assert.deepEqual(back, rows);
    });
  }

  test('an Arrow batch travels as its own IPC bytes', () => {
    const batch = rowsToRecordBatch([
      { n: 1, s: 'a' },
      { n: 2, s: 'b' },
    ]);
    const payload = decodePayload(encodeIpc(tableToIPC(new Table(batch), 'stream')), 'test');
    assert.equal(payload.kind, 'arrow');
    assert.deepEqual(payloadRows(payload), [
      { n: 1, s: 'a' },
      { n: 2, s: 'b' },
    ]);
  });

  test('a corrupt payload is a QueueError, not wrong rows', () => {
    const { bytes } = encodeRows([{ a: 1 }]);
    assert.throws(() => decodePayload(Buffer.from('xy'), 'batch 3'), {
      code: 'ERR_SPILLWAY_QUEUE',
      message: /batch 3/,
    });
    const broken = Buffer.from(bytes);
    broken.fill(0x13, 5, 12);
    assert.throws(() => decodePayload(broken, 'batch 4'), { code: 'ERR_SPILLWAY_QUEUE' });
  });
  test('a payload whose LZ4 frame declares gigabytes is a QueueError before any allocation', () => {
    const { bytes } = encodeRows([{ a: 1 }]);
    // FLG 0x68: version 1, independent blocks, content size present (2 GiB); BD 0x40: 64 KB blocks
    const descriptor = Buffer.from([0x68, 0x40, 0, 0, 0, 0x80, 0, 0, 0, 0]);
    const checksum = (xxh32(descriptor) >>> 8) & 0xff; // a valid header: the decoder reads on
    const size = Buffer.alloc(4);
    size.writeUInt32LE(0x80000001); // one uncompressed block of one byte
    const frame = Buffer.concat([
      Buffer.of(bytes[0]!, 0x04, 0x22, 0x4d, 0x18),
      descriptor,
      Buffer.of(checksum),
      size,
      Buffer.from('A'),
      Buffer.alloc(4),
    ]);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => decodePayload(frame, 'batch 5'), { code: 'ERR_SPILLWAY_QUEUE', message: /batch 5/ });
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 2 ** 20, 'nothing near 2 GB allocated');
  });
});
