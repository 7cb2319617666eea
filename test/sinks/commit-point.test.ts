/**
 * Every file sink enters its commit point just before renaming its output into place
 * (lib/io/commit-point.ts): an abort that lands after that point, while the sink is still
 * finishing, is too late, and the run resolves with the whole output under its final name. The
 * abort here is sent at the first turn at which the sink says it committed but has not finished.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pipeline } from '../../lib/core/pipeline.ts';
import type { BatchSink } from '../../lib/core/sink.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { toJsonl } from '../../sinks/toJsonl.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { abortAfterCommitPoint, tempDir } from '../helpers.ts';

const ROWS = 5000;
const rows = () => Array.from({ length: ROWS }, (_, i) => ({ i, day: `d${i % 3}`, s: `row ${i}` }));

const SINKS: { name: string; file: string; make: (path: string) => BatchSink<unknown> }[] = [
  { name: 'toParquet', file: 'out.parquet', make: (p) => toParquet(p) as BatchSink<unknown> },
  { name: 'toCsv', file: 'out.csv', make: (p) => toCsv(p) as BatchSink<unknown> },
  { name: 'toCsv (gzip)', file: 'out.csv.gz', make: (p) => toCsv(p) as BatchSink<unknown> },
  { name: 'toJsonl', file: 'out.jsonl', make: (p) => toJsonl(p) as BatchSink<unknown> },
  { name: 'toArrow', file: 'out.arrow', make: (p) => toArrow(p) as BatchSink<unknown> },
  {
    name: 'toParquet (partitioned)',
    file: 'tree',
    make: (p) => toParquet(p, { partitionBy: ['day'] }) as unknown as BatchSink<unknown>,
  },
];

for (const { name, file, make } of SINKS) {
  test(`${name}: an abort after the commit point, before the sink finished, leaves the whole output and the run resolves`, async () => {
    const dir = tempDir();
    const out = join(dir, file);
    const controller = new AbortController();
    const sink = make(out);
    const abortedLate = abortAfterCommitPoint(sink, controller);
    const { output } = await pipeline(fromIterable(rows(), { batchSize: 500 }), sink, { signal: controller.signal });
    assert.equal(abortedLate(), true, 'the sink entered its commit point before it finished');
    assert.equal((output as { rows: number }).rows, ROWS);
    assert.ok(existsSync(out));
    assert.deepEqual(readdirSync(dir), [file], 'no temporary file beside the output');
  });
}
