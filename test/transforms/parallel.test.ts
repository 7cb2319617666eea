/**
 * The parallel stage in real pipelines, on real threads and child processes: results equal a
 * serial run, positions and order are kept, Arrow batches cross as IPC bytes, failures and aborts
 * leave no worker behind (checked by pid and by the process's thread count), the governor counts
 * the children, per-worker stats reach `stats.workers`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { parallel } from '../../transforms/parallel.ts';
import { pipeline } from '../../lib/core/pipeline.ts';
import { BatchTransform } from '../../lib/core/transform.ts';
import { MemoryGovernor } from '../../lib/memory/governor.ts';
import { rowsToRecordBatch } from '../../lib/formats/arrow/convert.ts';
import { PreciseDate, isPreciseDate } from '../../lib/formats/values.ts';
import { WorkerError } from '../../lib/core/errors.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { collect } from '../../sinks/collect.ts';
import { map } from '../../transforms/map.ts';
import { alive, runnableUrl, tempDir } from '../helpers.ts';
import square, { indexed, sentinels } from '../fixtures/parallel/worker.ts';
import type { TestRow } from '../fixtures/parallel/worker.ts';

const MODULE = runnableUrl('test/fixtures/parallel/worker.ts');

interface Out {
  n: number;
  sq: number;
  pid: number;
  threadId: number;
}

const grid = (count: number, extra: (n: number) => Partial<TestRow> = () => ({})): TestRow[] =>
  Array.from({ length: count }, (_, n) => ({ n, ...extra(n) }));

/** Threads of this process now (Linux): worker threads that were not joined would show here. */
function threadCount(): number {
  const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? 0);
}

/** A pass-through stage that records what flows through it. */
function spy(seen: { index: number; pids: Set<number>; rows: number }[]): BatchTransform {
  return new BatchTransform({
    name: 'spy',
    transform(batch, push) {
      seen.push({
        index: batch.position.index,
        pids: new Set((batch.rows as unknown as Out[]).map((r) => r.pid)),
        rows: batch.numRows,
      });
      push(batch);
    },
  });
}

for (const isolation of ['thread', 'process'] as const) {
  describe(`parallel (${isolation})`, () => {
    test('output equals a serial run, in order, with the input positions, and stats.workers filled', async () => {
      // a millisecond a row keeps a worker busy long enough for the other to take batches too
      const rows = grid(500, () => ({ ms: 1 }));
      const seen: { index: number; pids: Set<number>; rows: number }[] = [];
      const { output, stats } = await pipeline(
        fromIterable(rows, { batchSize: 25 }),
        parallel(MODULE, { workers: 2, isolation }),
        spy(seen),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => ({ n: r.n, sq: r.sq })),
        rows.map((r) => ({ n: r.n, sq: square(r).sq })),
      );
      assert.deepEqual(
        seen.map((s) => s.index),
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.equal(stats.rowsOut, 500);
      const workers = stats.workers ?? [];
      assert.equal(workers.length, 2);
      assert.equal(
        workers.reduce((n, w) => n + w.batches, 0),
        20,
      );
      assert.equal(
        workers.reduce((n, w) => n + w.rows, 0),
        500,
      );
      assert.ok(workers.every((w) => w.stage === 'parallel' && w.failures === 0 && w.restarts === 0));
      const stage = stats.stages.find((s) => s.name === 'parallel');
      assert.equal(stage?.rowsIn, 500);
      assert.equal(stage?.details.isolation, isolation);
      // every worker is gone once the pipeline resolved
      const pids = new Set(output.map((r) => r.pid));
      if (isolation === 'process') {
        const workerPids = workers.map((w) => w.pid);
        assert.equal(new Set(workerPids).size, 2);
        for (const pid of pids) assert.ok(workerPids.includes(pid));
        for (const pid of workerPids) assert.equal(alive(pid!), false, `worker ${pid} outlived the pipeline`);
      } else assert.deepEqual([...pids], [process.pid]);
    });

    test('in order when a result is held as the input ends: the held batch goes before later ones', async () => {
      // batch 0 is done while no write is pending (its result is held); the source ends 0.9 s
      // later, while batches 1 and 2 (1.2 s each) still run. The held result went out last:
      // batches 1, 2, 0. (Slower than that to start, a worker only makes the case easier.)
      async function* slowEnd(): AsyncGenerator<TestRow> {
        for (let n = 0; n < 30; n++) yield n < 10 ? { n } : { n, ms: 120 };
        await new Promise((resolve) => setTimeout(resolve, 900));
      }
      const { output } = await pipeline(
        fromIterable(slowEnd(), { batchSize: 10 }),
        parallel(MODULE, { workers: 2, isolation }),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => r.n),
        Array.from({ length: 30 }, (_, n) => n),
      );
    });

    test('ordered: false emits every row once; a batch function sees whole batches', async () => {
      const { output } = await pipeline(
        fromIterable(grid(300), { batchSize: 10 }),
        parallel(MODULE, { workers: 2, isolation, ordered: false }),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => r.n).sort((a, b) => a - b),
        grid(300).map((r) => r.n),
      );
      const summaries = await pipeline(
        fromIterable(grid(95), { batchSize: 10 }),
        parallel(MODULE, { workers: 2, isolation, kind: 'batch', export: 'summary' }),
        collect(),
        { governor: false },
      );
      assert.deepEqual(
        summaries.output,
        Array.from({ length: 10 }, (_, i) => ({ first: i * 10, count: i === 9 ? 5 : 10 })),
      );
    });

    test('a failing batch fails the pipeline with a WorkerError naming the batch; no worker survives', async () => {
      const seen: { index: number; pids: Set<number>; rows: number }[] = [];
      const threadsBefore = threadCount();
      const rows = grid(200, (n) => (n === 130 ? { throw: true } : {}));
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(MODULE, { workers: 2, isolation, retries: 1 }),
          spy(seen),
          collect(),
          { governor: false },
        ),
        (error: unknown) => {
          assert.ok(error instanceof WorkerError, String(error));
          assert.equal(error.code, 'ERR_SPILLWAY_WORKER');
          assert.equal(error.context.batch, 13);
          assert.equal(error.context.stage, 'parallel');
          assert.equal(error.attempts, 2);
          assert.match((error.cause as Error).message, /cannot handle 130/);
          return true;
        },
      );
      const pids = new Set(seen.flatMap((s) => [...s.pids]));
      if (isolation === 'process') {
        assert.ok(pids.size >= 1);
        for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} outlived the failed pipeline`);
      } else assert.equal(threadCount(), threadsBefore, 'worker threads outlived the failed pipeline');
    });

    test('abort ends every worker, even one stuck in a batch', async () => {
      const controller = new AbortController();
      const seen: { index: number; pids: Set<number>; rows: number }[] = [];
      const threadsBefore = threadCount();
      // batch 0 and 1 finish; then every batch hangs its worker until it is killed
      const rows = grid(100, (n) => (n >= 20 ? { hang: true } : {}));
      const watcher = new BatchTransform({
        name: 'watcher',
        transform(batch, push) {
          seen.push({
            index: batch.position.index,
            pids: new Set((batch.rows as unknown as Out[]).map((r) => r.pid)),
            rows: batch.numRows,
          });
          push(batch);
          if (seen.length === 2) setImmediate(() => controller.abort(new Error('user cancelled')));
        },
      });
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 10 }),
          parallel(MODULE, { workers: 2, isolation }),
          watcher,
          collect(),
          { signal: controller.signal, governor: false },
        ),
        {
          code: 'ERR_SPILLWAY_ABORTED',
        },
      );
      if (isolation === 'process') {
        const pids = new Set(seen.flatMap((s) => [...s.pids]));
        assert.ok(pids.size >= 1);
        for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} outlived the aborted pipeline`);
      } else assert.equal(threadCount(), threadsBefore, 'worker threads outlived the aborted pipeline');
    });

    test('onError deadLetter: the failed batch goes to the file, the run goes on and counts it', async () => {
      const dir = tempDir('spillway-parallel-');
      const deadLetter = join(dir, 'dead.jsonl');
      const rows = grid(60, (n) => (n === 25 ? { throw: true } : {}));
      const { output, stats } = await pipeline(
        fromIterable(rows, { batchSize: 10 }),
        parallel(MODULE, { workers: 2, isolation, retries: 1, onError: { deadLetter } }),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => r.n),
        grid(60)
          .filter((r) => r.n < 20 || r.n >= 30)
          .map((r) => r.n),
      );
      const lines = readFileSync(deadLetter, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { batch: number; row: number; data: TestRow });
      assert.equal(lines.length, 10);
      assert.ok(lines.every((l) => l.batch === 2));
      assert.equal(lines[5]?.data.throw, true);
      assert.equal(stats.errors.deadLettered, 10);
      assert.equal(stats.stages.find((s) => s.name === 'parallel')?.details.deadLetteredBatches, 1);
    });

    test('timestamps finer than the millisecond (PreciseDate) cross both ways exactly, as rows and as Arrow', async () => {
      const at = (i: number): PreciseDate => new PreciseDate(1_767_623_400_000 + i, 1 + ((i * 7001) % 999_999));
      const rows = grid(30).map((r) => ({ n: r.n, at: at(r.n) }));
      // nested and in a Map: the codec's clone path carries the nanoseconds beside the clone
      const odd = grid(10).map((r) => ({
        n: r.n,
        at: at(r.n),
        deep: r.n % 2 ? { when: at(r.n + 1) } : new Map([['w', at(r.n + 2)]]),
      }));
      for (const [what, source] of [
        ['rows', () => fromIterable(rows)],
        ['mixed rows', () => fromIterable(odd)],
        ['Arrow', () => Readable.from([rowsToRecordBatch(rows)])],
      ] as const) {
        const { output } = await pipeline(
          source(),
          parallel(MODULE, { workers: 1, isolation, export: 'echo' }),
          collect<Record<string, unknown>>(),
          { governor: false },
        );
        const input = what === 'mixed rows' ? odd : rows;
        assert.equal(output.length, input.length, what);
        for (const [i, row] of output.entries()) {
          const sent = input[i]!;
          assert.equal(row.nanosSeen, sent.at.nanos, `${what}: the worker saw the nanoseconds`);
          assert.ok(isPreciseDate(row.at), `${what}: a PreciseDate came back`);
          assert.equal((row.at as Date).toISOString(), sent.at.toISOString(), what);
        }
        if (what === 'mixed rows') {
          const deep = output[1]!.deep as { when: Date };
          assert.equal(deep.when.toISOString(), at(2).toISOString());
          assert.equal(((output[0]!.deep as Map<string, Date>).get('w') as Date).toISOString(), at(2).toISOString());
        }
      }
    });

    test('Arrow batches cross as IPC bytes and come out as rows equal to the serial run', async () => {
      const recordBatches = [0, 1, 2].map((b) =>
        rowsToRecordBatch(grid(40).map((r) => ({ n: r.n + b * 40, label: `row ${r.n + b * 40}` }))),
      );
      const { output } = await pipeline(
        Readable.from(recordBatches),
        parallel(MODULE, { workers: 2, isolation }),
        collect<Out>(),
        { governor: false },
      );
      assert.deepEqual(
        output.map((r) => r.sq),
        grid(120).map((r) => r.n * r.n),
      );
    });
  });
}

describe('parallel', () => {
  test('the governor counts the children while they run and forgets them after', async () => {
    const governor = new MemoryGovernor({ limit: 64e9, intervalMs: 50, gc: false, leak: false });
    const tracked: number[][] = [];
    const checker = new BatchTransform({
      name: 'checker',
      transform(batch, push) {
        tracked.push([...governor.children]);
        push(batch);
      },
    });
    const { output, stats } = await pipeline(
      fromIterable(
        grid(40, () => ({ ms: 2 })),
        { batchSize: 10 },
      ),
      parallel(MODULE, { workers: 2, isolation: 'process' }),
      checker,
      collect<Out>(),
      { governor },
    );
    // both children start (and are tracked) before the first batch runs
    const pids = new Set((stats.workers ?? []).map((w) => w.pid));
    assert.equal(pids.size, 2);
    for (const r of output) assert.ok(pids.has(r.pid));
    assert.equal(tracked.length, 4);
    for (const seen of tracked) for (const pid of pids) assert.ok(seen.includes(pid!), `child ${pid} was not tracked`);
    assert.deepEqual(governor.children, []);
  });

  test('options are validated synchronously, before any worker starts', () => {
    assert.throws(() => parallel(MODULE, { workers: 0 }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /options\.workers/,
    });
    assert.throws(() => parallel(MODULE, { isolation: 'fiber' as 'thread' }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /options\.isolation/,
    });
    assert.throws(() => parallel(MODULE, { timeoutMs: -1 }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /options\.timeoutMs/,
    });
    assert.throws(() => parallel(MODULE, { name: 42 as unknown as string }), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /options\.name/,
    });
  });

  test('a generator function is a WorkerError that says so, not "could not be cloned"', async () => {
    await assert.rejects(
      pipeline(fromIterable(grid(5)), parallel(MODULE, { workers: 1, export: 'generated', retries: 0 }), collect(), {
        governor: false,
      }),
      (e: Error) =>
        e instanceof WorkerError &&
        /got an iterator \(a generator function\?\)/.test(String((e.cause as Error)?.message ?? e.message)),
    );
  });

  test('many() and none work as in map (many became a row `{ values }`), stop is refused by name', async () => {
    const input = grid(12);
    const serial = await pipeline(fromIterable(input), map(sentinels), collect(), { governor: false });
    for (const isolation of ['thread', 'process'] as const) {
      const { output } = await pipeline(
        fromIterable(input, { batchSize: 5 }),
        parallel(MODULE, { workers: 2, isolation, export: 'sentinels' }),
        collect(),
        { governor: false },
      );
      assert.deepEqual(output, serial.output, isolation);
    }
    await assert.rejects(
      pipeline(fromIterable(input), parallel(MODULE, { workers: 1, export: 'stopping', retries: 0 }), collect(), {
        governor: false,
      }),
      (e: Error) => e instanceof WorkerError && /got `stop`/.test(String((e.cause as Error)?.message ?? e.message)),
    );
  });

  test('a row function gets (row, index in its batch), as map() calls it (it got `{ batch }` until 2026-12-07)', async () => {
    const input = grid(12);
    const serial = await pipeline(fromIterable(input, { batchSize: 5 }), map(indexed), collect(), { governor: false });
    assert.deepEqual(
      serial.output.map((r) => (r as { index: unknown }).index),
      [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1],
    );
    for (const isolation of ['thread', 'process'] as const) {
      const { output } = await pipeline(
        fromIterable(input, { batchSize: 5 }),
        parallel(MODULE, { workers: 2, isolation, export: 'indexed' }),
        collect(),
        { governor: false },
      );
      assert.deepEqual(output, serial.output, isolation);
    }
  });

  test("no buffer is moved out from under its owner: the caller's input, the module's own cache (until 2026-12-07 both were transferred and detached)", async () => {
    const file = Buffer.alloc(4000, 9); // a file read once, its rows views of it
    const input = Array.from({ length: 40 }, (_, n) => ({ n, payload: file.subarray(n * 10, n * 10 + 10) }));
    for (const isolation of ['thread', 'process'] as const) {
      const { output } = await pipeline(
        fromIterable(input, { batchSize: 4 }),
        parallel(MODULE, { workers: 1, isolation, export: 'cached', retries: 0, replaceOnError: false }),
        collect<{ n: number; v: Uint8Array; sum: number; payloadBytes: number }>(),
        { governor: false },
      );
      assert.equal(output.length, 40, isolation);
      for (const row of output)
        assert.deepEqual([row.v.byteLength, row.sum, row.payloadBytes], [64, 64, 10], isolation);
      assert.equal(file.byteLength, 4000, `${isolation}: the caller's Buffer is intact`);
    }
  });

  test('a Buffer comes back a Buffer, in batches cloned and encoded alike (from a thread it was a Uint8Array, whose toString() is its numbers)', async () => {
    const input = Array.from({ length: 20 }, (_, n) => ({ n, payload: Buffer.from(`hello ${n}`) }));
    for (const isolation of ['thread', 'process'] as const) {
      for (const batchSize of [3, 20]) {
        const { output } = await pipeline(
          fromIterable(input, { batchSize }),
          parallel(MODULE, { workers: 1, isolation, export: 'echo' }),
          collect<{ n: number; payload: Buffer }>(),
          { governor: false },
        );
        const where = `${isolation}, batches of ${batchSize}`;
        assert.ok(
          output.every((r) => Buffer.isBuffer(r.payload)),
          where,
        );
        assert.deepEqual(
          output.map((r) => r.payload.toString()),
          input.map((r) => `hello ${r.n}`),
          where,
        );
      }
    }
  });

  test('a failed batch of a dataset names its own file (it named the file of the last batch taken)', async () => {
    const folder = tempDir();
    const part = (name: string, from: number, bad?: number) => {
      const lines = Array.from({ length: 300 }, (_, i) => `${from + i},${from + i === bad ? 'true' : ''}`);
      writeFileSync(join(folder, name), `n,throw\n${lines.join('\n')}\n`);
      return join(folder, name);
    };
    const files = [part('part0.csv', 0, 150), part('part1.csv', 300), part('part2.csv', 600)];
    await assert.rejects(
      pipeline(
        fromCsv(files, { cast: true, batchSize: 100 }),
        parallel(MODULE, { workers: 2, retries: 0, window: 40 }),
        collect(),
        { governor: false },
      ),
      (e: WorkerError) => e instanceof WorkerError && e.context.file === files[0] && e.context.batch === 1,
    );
  });

  test('a row a structured clone cannot copy is a WorkerError saying so, not a crash (until 2026-12-07: reason crash)', async () => {
    await assert.rejects(
      pipeline(fromIterable([{ n: 1, f: () => 1 }]), parallel(MODULE, { workers: 1, retries: 0 }), collect(), {
        governor: false,
      }),
      (e: WorkerError) =>
        e instanceof WorkerError &&
        e.reason === 'error' &&
        /cannot be sent to a worker.*could not be cloned/.test(e.message),
    );
  });

  test('a pipeline with no rows starts no worker', async () => {
    const { output, stats } = await pipeline(
      fromIterable([] as TestRow[]),
      parallel(MODULE, { workers: 2, isolation: 'process' }),
      collect(),
      { governor: false },
    );
    assert.deepEqual(output, []);
    assert.ok((stats.workers ?? []).every((w) => w.pid === undefined && w.batches === 0));
  });
});
