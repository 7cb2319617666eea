/**
 * The governor governing real pipelines: an injected probe makes pressure deterministic; the last
 * test uses real memory (retained Buffers) and the real probe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  pipeline,
  fromCsv,
  fromIterable,
  map,
  mapBatch,
  batch,
  collect,
  toCsv,
  drain,
  MemoryGovernor,
  type MemoryLimitError,
  ErrorCodes,
} from '../../../index.ts';
import type { MemoryProbe } from '../../../lib/entry/extend.ts';
import { tempDir } from '../../helpers.ts';

const ROWS = 300_000;
let csvPath: string | undefined;
function bigCsv(): string {
  if (csvPath) return csvPath;
  const dir = tempDir();
  const lines = ['id,payload'];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},${'x'.repeat(20)}`);
  csvPath = join(dir, 'big.csv');
  writeFileSync(csvPath, `${lines.join('\n')}\n`);
  return csvPath;
}

/** A probe whose RSS the test sets. */
function fakeMemory(): { probe: MemoryProbe; set(rss: number): void } {
  let rss = 100e6;
  return { probe: { sample: () => ({ rss, heapUsed: 10e6, heapLimit: 4e9 }) }, set: (value) => void (rss = value) };
}

function governorWith(probe: MemoryProbe, extra: object = {}): MemoryGovernor {
  return new MemoryGovernor({ limit: 1e9, intervalMs: 5, probe, gc: false, leak: false, ...extra });
}

async function samples(governor: MemoryGovernor, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await once(governor, 'sample');
}

function assertEveryRowOnce(rows: unknown[]): void {
  assert.equal(rows.length, ROWS);
  rows.forEach((row, i) => assert.equal((row as { id: string }).id, String(i)));
}

test('pause stops the source reading its file; relief resumes; every row arrives exactly once', async () => {
  const memory = fakeMemory();
  const governor = governorWith(memory.probe);
  const source = fromCsv(bigCsv(), { batchSize: 1000 });
  let seen = 0;
  const pressure = once(governor, 'pressure');
  const run = pipeline(
    source,
    map((row) => {
      if (++seen === 10_000) memory.set(850e6);
      return row;
    }),
    collect(),
    { governor },
  );
  await pressure;
  await samples(governor, 5); // batches already in flight drain
  const bytesAtPause = source.progress().bytes;
  const seenAtPause = seen;
  await samples(governor, 20);
  assert.equal(source.progress().bytes, bytesAtPause, 'the paused source read no more of its file');
  assert.equal(seen, seenAtPause, 'no rows flowed while paused');
  assert.ok(seenAtPause < ROWS / 2);
  memory.set(600e6); // below the resume mark (0.7)
  const { output, stats } = await run;
  assertEveryRowOnce(output);
  assert.equal(stats.memory?.pressureEvents, 1);
  assert.ok((stats.memory?.pausedMs ?? 0) > 0);
  governor.close();
});

test('between the resume and pause marks a paused source stays paused (hysteresis)', async () => {
  const memory = fakeMemory();
  const governor = governorWith(memory.probe);
  let seen = 0;
  const pressure = once(governor, 'pressure');
  const run = pipeline(
    fromCsv(bigCsv(), { batchSize: 1000 }),
    map((row) => {
      if (++seen === 5000) memory.set(820e6);
      return row;
    }),
    drain(),
    { governor },
  );
  await pressure;
  memory.set(750e6); // under pause (0.8) but over resume (0.7)
  await samples(governor, 20);
  assert.equal(governor.level, 'pause');
  const stuck = seen;
  await samples(governor, 5);
  assert.equal(seen, stuck);
  memory.set(500e6);
  const { output } = await run;
  assert.equal(output.rows, ROWS);
  governor.close();
});

test('critical aborts the pipeline with a MemoryLimitError and leaves no partial output', async () => {
  const memory = fakeMemory();
  const governor = governorWith(memory.probe);
  const dir = tempDir();
  const out = join(dir, 'out.csv');
  let seen = 0;
  await assert.rejects(
    pipeline(
      fromCsv(bigCsv(), { batchSize: 1000 }),
      map((row) => {
        if (++seen === 20_000) memory.set(970e6);
        return row;
      }),
      toCsv(out),
      { governor },
    ),
    (error: MemoryLimitError) => {
      assert.equal(error.code, ErrorCodes.MEMORY_LIMIT);
      assert.ok(error.memory.peakRss >= 970e6);
      return true;
    },
  );
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir), []);
  governor.close();
});

test("onCritical 'wait' keeps the pipeline paused instead of failing, and it finishes on relief", async () => {
  const memory = fakeMemory();
  const governor = governorWith(memory.probe, { onCritical: 'wait' });
  let seen = 0;
  const pressure = once(governor, 'pressure');
  const run = pipeline(
    fromCsv(bigCsv(), { batchSize: 1000 }),
    map((row) => {
      if (++seen === 5000) memory.set(990e6);
      return row;
    }),
    collect(),
    { governor },
  );
  await pressure;
  await samples(governor, 10);
  assert.equal(governor.level, 'critical');
  memory.set(100e6);
  const { output, stats } = await run;
  assertEveryRowOnce(output);
  assert.ok((stats.memory?.criticalEvents ?? 0) >= 1);
  governor.close();
});

test('one governor pauses every pipeline attached to it', async () => {
  const memory = fakeMemory();
  const governor = governorWith(memory.probe);
  const counts = [0, 0];
  const pressure = once(governor, 'pressure');
  const a = pipeline(
    fromCsv(bigCsv(), { batchSize: 1000 }),
    map((r) => {
      if (++counts[0]! === 3000) memory.set(900e6);
      return r;
    }),
    drain(),
    { governor },
  );
  const b = pipeline(
    fromIterable(
      (function* () {
        for (let i = 0; i < ROWS; i++) yield { i };
      })(),
      { batchSize: 500 },
    ),
    map((r) => {
      counts[1]!++;
      return r;
    }),
    drain(),
    { governor },
  );
  await pressure;
  await samples(governor, 5);
  const frozen = [...counts];
  await samples(governor, 15);
  assert.deepEqual(counts, frozen, 'neither pipeline moved while paused');
  memory.set(100e6);
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.output.rows, ROWS);
  assert.equal(rb.output.rows, ROWS);
  governor.close();
});

test('real memory: a transform that retains Buffers past the pause mark pauses the source, releases, resumes, and finishes', async () => {
  const baseline = process.memoryUsage().rss;
  const limit = Math.round((baseline + 160e6) / 0.8); // pause ~160 MB above where we are
  const governor = new MemoryGovernor({ limit, intervalMs: 20, leak: false });
  const retained: Buffer[] = [];
  let released = 0;
  governor.on('pressure', () => {
    // the user's stateful stage flushes its held state when told memory is short
    released += retained.length;
    retained.length = 0;
  });
  const rows = Array.from({ length: 4000 }, (_, i) => ({ i }));
  const { output, stats } = await pipeline(
    fromIterable(rows, { batchSize: 10 }),
    map((row: { i: number }) => {
      retained.push(Buffer.alloc(256 * 1024, row.i & 0xff)); // 256 kB held per row, filled so it is resident
      return row;
    }),
    collect(),
    { governor },
  );
  retained.length = 0;
  assert.equal(output.length, 4000);
  assert.deepEqual(
    output.map((r) => (r as { i: number }).i),
    rows.map((r) => r.i),
  );
  assert.ok((stats.memory?.pressureEvents ?? 0) >= 1, 'memory passed the pause mark');
  assert.ok(released > 0);
  assert.ok(
    (stats.memory?.peakRss ?? Infinity) < limit * 0.95,
    `peak RSS ${stats.memory?.peakRss} stayed under the critical mark ${limit * 0.95}`,
  );
  governor.close();
});

test('adaptive batch sizes: a source follows bytes per row and headroom, within bounds, and stats show the sizes', async () => {
  const memory = fakeMemory();
  const governor = governorWith(memory.probe);
  const sizes: number[] = [];
  const { stats } = await pipeline(
    fromCsv(bigCsv()),
    batch({ adaptive: true, rows: 2000, min: 500, max: 20_000 }),
    mapBatch((rows) => {
      sizes.push(rows.length);
      if (sizes.length === 4) memory.set(780e6);
      return rows;
    }),
    drain(),
    { governor },
  );
  const source = stats.stages[0]!;
  assert.ok(
    Number(source.details.batchSizeMin) >= 256 && Number(source.details.batchSizeMax) <= 65536,
    JSON.stringify(source.details),
  );
  const rebatch = stats.stages[1]!;
  assert.ok(
    sizes.slice(0, -1).every((n) => n >= 500 && n <= 20_000),
    `sizes within bounds: ${sizes.join(',')}`,
  );
  assert.ok(Number(rebatch.details.batchSizeChanges) >= 1, 'the size adapted');
  // near the pause mark the headroom is small, so batches shrink
  const before = sizes[3]!;
  const after = sizes[sizes.length - 2]!;
  assert.ok(after < before, `batches shrank under pressure: ${before} -> ${after}`);
  governor.close();
});
