/**
 * ColumnBuffer.pushString writes each string's UTF-8 as Buffer.from(s, 'utf8') does: short ASCII
 * strings go through a loop of their own, anything else (non-ASCII at any position, lone
 * surrogates, long strings) through Buffer.write, which a loop interrupted must restart cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MessageChannel } from 'node:worker_threads';
import { ColumnBuffer } from '../../../../../lib/formats/parquet/encode/column-buffer.ts';

test('property: pushString writes the bytes Buffer writes, for short and long, ASCII or not', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc
      .tuple(fc.string({ maxLength: 47 }), fc.constantFrom('é', '😀', '\udfff', '\ud800', '\u0080'))
      .map(([a, b]) => a + b),
  );
  fc.assert(
    fc.property(fc.array(fc.option(text), { maxLength: 40 }), (values) => {
      const col = new ColumnBuffer('string', true);
      for (const v of values) {
        if (v === null) col.pushNull();
        else col.pushString(v);
      }
      const snap = col.snapshot();
      const present = values.filter((v): v is string => v !== null);
      const expected = Buffer.concat(present.map((v) => Buffer.from(v, 'utf8')));
      assert.deepEqual(Buffer.from(snap.data!.subarray(0, expected.length)), expected);
      // offsets are per row, nulls included
      let at = 0;
      for (const [i, v] of values.entries()) {
        if (v !== null) at += Buffer.byteLength(v, 'utf8');
        assert.equal(snap.offsets![i + 1], at);
      }
    }),
    { numRuns: 1000 },
  );
});

test('a snapshot hands its bytes over: transferred to a thread, the column writes the next row groups in a buffer of its own', () => {
  const col = new ColumnBuffer('string', false);
  const { port1, port2 } = new MessageChannel();
  try {
    for (let group = 0; group < 4; group++) {
      const values = Array.from({ length: 3000 }, (_, i) => `group ${group} row ${i} ${'x'.repeat(i % 17)}`);
      for (const v of values) col.pushString(v);
      const used = Buffer.byteLength(values.join(''));
      const snap = col.snapshot();
      const expected = Buffer.from(values.join(''), 'utf8');
      assert.deepEqual(Buffer.from(snap.data!), expected, `group ${group}: the bytes handed over`);
      // as the encoder thread receives it: the bytes' memory moves, the column's must not
      port1.postMessage(snap, [snap.data!.buffer as ArrayBuffer]);
      assert.equal(snap.data!.byteLength, 0, 'transferred');
      assert.ok(col.data.length >= used, 'the column has a buffer of its own, as large as the bytes it held');
      col.reset();
    }
  } finally {
    port1.close();
    port2.close();
  }
});
