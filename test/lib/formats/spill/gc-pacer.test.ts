/**
 * The spill sink's collection pacer: full collections cost in proportion to the live heap, so it
 * runs one only when the bytes spilled and the heap's growth are as large as that heap, also
 * before its first collection (a process holding a large heap of its own pays none per sink).
 * Spilled batches are ArrayBuffers, so external memory counts as growth too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { GcPacer } from '../../../../lib/formats/spill/gc-pacer.ts';
import { obtainGc } from '../../../../lib/memory/memory-probe.ts';

const MB = 1024 * 1024;

/** About `mb` MB of live heap: arrays of unboxed doubles, 8 bytes each. */
function hold(mb: number): number[][] {
  const chunks: number[][] = [];
  for (let i = 0; i < mb; i++) chunks.push(Array.from({ length: MB / 8 }, (_, j) => i + j + 0.5));
  return chunks;
}

test('a process already holding a large heap: spilling a few budgets runs no full collection', () => {
  const held = hold(256);
  const pacer = new GcPacer(0);
  // four times the pace (16 MB) let go, the heap unchanged: the old pacer collected at the first
  for (let i = 0; i < 4; i++) pacer.spilled(16 * MB);
  assert.equal(pacer.runs, 0);
  assert.ok(held.length === 256);
});

test('the heap grows by more than it held and the spilled bytes reach the pace: one full collection', () => {
  // what the test above held is garbage now: collected first, so the heap at the start is what is live
  obtainGc()?.();
  const start = v8.getHeapStatistics().used_heap_size;
  const pacer = new GcPacer(16 * MB);
  const grown = hold(Math.ceil(start / MB) + 32);
  pacer.spilled(16 * MB);
  assert.equal(pacer.runs, 1, 'one collection once the heap grew past the pace and its size at the start');
  assert.ok(grown.length > 32);
});

test('spilled batches are ArrayBuffers: external memory that grew past the pace runs a collection', () => {
  obtainGc()?.();
  const start = v8.getHeapStatistics().used_heap_size;
  const pacer = new GcPacer(32 * MB);
  // the JS heap barely moves; the buffers are outside it (the old pacer counted the heap alone)
  const buffers = Array.from({ length: Math.ceil(start / MB) + 16 }, () => new ArrayBuffer(MB));
  pacer.spilled(8 * MB);
  assert.equal(pacer.runs, 1);
  assert.ok(buffers.length > 16);
});
