/** The final report: stats stay plain JSON; formatReport renders them for people or as JSON. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline, type PipelineStats } from '../../../lib/core/pipeline.ts';
import { fromCsv } from '../../../sources/fromCsv.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { map } from '../../../transforms/map.ts';
import { toSpill } from '../../../sinks/toSpill.ts';
import { collect } from '../../../sinks/collect.ts';
import { MemoryGovernor } from '../../../lib/memory/governor.ts';
import { ErrorCodes } from '../../../lib/core/errors.ts';
import { formatReport } from '../../../lib/observe/report.ts';
import { setPipelineDefaults, type PipelineEnd } from '../../../lib/core/defaults.ts';
import { tempDir } from '../../helpers.ts';
import { groupBy } from '../../../transforms/groupBy.ts';
import { sort } from '../../../transforms/sort.ts';
import { agg } from '../../../lib/operators/aggregates.ts';
import type { ProgressEvent } from '../../../lib/observe/progress-event.ts';

/** A governed CSV-to-spill run with bad rows dead-lettered. */
async function governedSpillRun(): Promise<PipelineStats> {
  const dir = tempDir();
  const csv = path.join(dir, 'in.csv');
  const lines = ['id,name,score'];
  for (let i = 0; i < 3000; i++) lines.push(i % 500 === 7 ? `${i},too,many,fields` : `${i},n${i},${i / 4}`);
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const governor = new MemoryGovernor({ limit: '4GB' });
  try {
    const { output, stats } = await pipeline(
      fromCsv(csv, { cast: true, batchSize: 250, onError: { deadLetter: path.join(dir, 'bad.jsonl') } }),
      map((row: { score: number }) => ({ ...row, double: row.score * 2 })),
      toSpill({ budget: 0, fileSize: 20_000 }),
      { governor },
    );
    await output.dispose();
    return stats;
  } finally {
    governor.close();
  }
}

test('stats of a run with a governor, a spill and a dead-letter are plain JSON', async () => {
  const stats = await governedSpillRun();
  assert.ok(stats.memory, 'governed');
  assert.ok(stats.memory.spills > 0 && stats.memory.spilledBytes > 0, 'spilled');
  assert.equal(stats.errors.deadLettered, 6);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(stats)), stats);
});

test('formatReport: rows, bytes, duration, stages, memory, spills, errors by policy', async () => {
  const stats = await governedSpillRun();
  const text = formatReport(stats, { title: 'job' });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^job: 2,994 rows in, 2,994 rows out in \S+ (ms|s) \(\S+ rows\/s\)$/);
  assert.match(text, /read \d+(\.\d)? kB/);
  assert.match(text, /^ {2}stage +kind +rows in +rows out +batches +time +dropped$/m);
  assert.match(text, /^ {2}fromCsv +source +- +2,994 +12 +\S+ (ms|s) +6$/m);
  assert.match(text, /^ {2}map +transform +2,994 +2,994 +12 /m);
  assert.match(text, /^ {2}toSpill +sink +2,994 +- +12 /m);
  assert.match(text, /memory: peak RSS [\d.]+ MB, mean [\d.]+ MB, min [\d.]+ MB of limit 4\.0 GB/);
  assert.match(text, /governor: paused \S+ (ms|s|min) over 0 pressure events, .* 0 leak warnings/);
  assert.match(text, /spills: \d+ spills moved .* out of memory; .* on disk in 12 batches/);
  assert.match(text, /errors: 0 skipped, 6 dead-lettered \(fromCsv 6\)/);
  assert.ok(lines.length < 20, 'compact');
  assert.deepStrictEqual(JSON.parse(formatReport(stats, { format: 'json' })), JSON.parse(JSON.stringify(stats)));
});

test('formatReport: ungoverned runs, per-worker lines, skipped rows; the format is validated', async () => {
  const { stats } = await pipeline(fromIterable([{ a: 1 }, { a: 2 }]), collect(), { governor: false });
  const text = formatReport(stats);
  assert.match(text, /^2 rows in, 2 rows out in \d+ ms/);
  assert.match(text, /memory: ungoverned/);
  assert.match(text, /errors: none/);
  assert.doesNotMatch(text, /spills:/);

  const withWorkers: PipelineStats = {
    ...stats,
    errors: { skipped: 5, deadLettered: 2 },
    stages: stats.stages.map((s, i) => (i === 0 ? { ...s, rowsSkipped: 5, rowsDeadLettered: 2 } : s)),
    workers: [
      {
        id: 'w0',
        stage: 'parallel',
        batches: 3,
        rows: 300,
        failures: 1,
        restarts: 1,
        recycles: 0,
        busyMs: 1500,
        rowsPerSec: 200,
        exits: [],
      },
      {
        id: 'w1',
        stage: 'parallel',
        batches: 4,
        rows: 400,
        failures: 0,
        restarts: 0,
        recycles: 2,
        busyMs: 2000,
        rowsPerSec: 200,
        exits: [],
      },
    ],
  };
  const w = formatReport(withWorkers);
  assert.match(w, /^ {2}worker +stage +batches +rows +busy +rows\/s +failures +restarts +recycles$/m);
  assert.match(w, /^ {2}w0 +parallel +3 +300 +1\.5 s +200 +1 +1 +0$/m);
  assert.match(w, /^ {2}w1 +parallel +4 +400 +2\.0 s +200 +0 +0 +2$/m);
  assert.match(w, /errors: 3 skipped, 2 dead-lettered \(fromIterable 5\)/);
  assert.throws(() => formatReport(stats, { format: 'xml' as 'text' }), { code: ErrorCodes.INVALID_OPTION });
});

test('process-wide defaults fill absent options and see every run end', async () => {
  const ended: PipelineEnd[] = [];
  let started = 0;
  const seen: string[] = [];
  const controller = new AbortController();
  const restore = setPipelineDefaults({
    progress: (event) => seen.push(event.state),
    governor: false,
    signal: controller.signal,
    onStart: () => started++,
    onEnd: (end) => ended.push(end),
  });
  try {
    const { stats } = await pipeline(fromIterable([{ a: 1 }]), collect());
    assert.equal(stats.memory, undefined, 'the default governor: false applied');
    assert.deepEqual(seen, ['done'], 'the default progress applied');
    await pipeline(fromIterable([{ a: 1 }]), collect(), { progress: false });
    assert.deepEqual(seen, ['done'], 'an explicit option wins');
    controller.abort(new Error('stop'));
    await assert.rejects(pipeline(fromIterable([{ a: 1 }]), collect()), { code: ErrorCodes.ABORTED });
  } finally {
    restore();
  }
  assert.equal(started, 2);
  assert.equal(ended.length, 2);
  assert.equal(ended[0]!.error, undefined);
  assert.equal(ended[0]!.stats.rowsOut, 1);
  // restored: no defaults any more
  const events: string[] = [];
  const { stats } = await pipeline(fromIterable([{ a: 1 }]), collect(), { governor: false });
  assert.equal(stats.rowsOut, 1);
  assert.deepEqual(events, []);
});

test('a failing run hands its stats and error to the defaults hook', async () => {
  const ended: PipelineEnd[] = [];
  const restore = setPipelineDefaults({ onEnd: (end) => ended.push(end) });
  try {
    await assert.rejects(
      pipeline(
        fromIterable(
          Array.from({ length: 100 }, (_, i) => ({ i })),
          { batchSize: 10 },
        ),
        map((row: { i: number }) => {
          if (row.i === 55) throw new Error('bad row');
          return row;
        }),
        collect(),
        { governor: false },
      ),
      { code: ErrorCodes.STAGE },
    );
  } finally {
    restore();
  }
  assert.equal(ended.length, 1);
  assert.equal(ended[0]!.error?.message.includes('bad row'), true);
  assert.ok(ended[0]!.stats.rowsIn >= 50);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(ended[0]!.stats)), ended[0]!.stats);
});

test('operator spills are in the stats, the progress and the report: what groupBy and sort wrote to disk', async () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => ({ k: i % 5000, v: i }));
  for (const stage of [
    () => groupBy('k', { n: agg.count() }, { budget: '64kB' }),
    () => sort('v', { budget: '64kB' }),
  ]) {
    const governor = new MemoryGovernor({ limit: '4GB', leak: false });
    const events: ProgressEvent[] = [];
    try {
      const { stats } = await pipeline(fromIterable(rows, { batchSize: 1000 }), stage(), collect(), {
        governor,
        progress: { onProgress: (e) => events.push(e), intervalMs: 10 },
      });
      const op = stats.stages[1]!;
      const written = op.details.bytesSpilled as number;
      assert.ok(written > 0, `${op.name} spilled`);
      assert.ok(stats.memory!.spills > 0, `${op.name}: the governor's stats count its spills`);
      assert.equal(events.at(-1)!.spilledBytes, written);
      assert.match(formatReport(stats), new RegExp(`spills: .*written by ${op.name}`));
    } finally {
      governor.close();
    }
  }
});
