/** Progress: events from live stats, totals from every kind of source, rendering and throttling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { fromCsv } from '../../../sources/fromCsv.ts';
import { fromParquet } from '../../../sources/fromParquet.ts';
import { fromArrow } from '../../../sources/fromArrow.ts';
import { map } from '../../../transforms/map.ts';
import { parallel } from '../../../transforms/parallel.ts';
import { drain } from '../../../sinks/drain.ts';
import { collect } from '../../../sinks/collect.ts';
import { toParquet } from '../../../sinks/toParquet.ts';
import { toArrow } from '../../../sinks/toArrow.ts';
import { toSpill } from '../../../sinks/toSpill.ts';
import { MemoryGovernor } from '../../../lib/memory/governor.ts';
import { ErrorCodes } from '../../../lib/core/errors.ts';
import { resolveProgress, type ProgressEvent, type ProgressStream } from '../../../lib/observe/progress.ts';
import { LineRenderer, formatProgress, progressBar } from '../../../lib/observe/progress-line.ts';
import { formatCount } from '../../../lib/core/format.ts';
import { writeTradesCsv } from '../../../samples/trades-data.ts';
import { runnableUrl, tempDir } from '../../helpers.ts';

const rows = (n: number): { id: number; name: string; score: number }[] =>
  Array.from({ length: n }, (_, id) => ({ id, name: `n${id}`, score: id / 3 }));

/** A progress stream that records what is written, and resolves `lines(n)` once n writes arrived. */
function recorder(isTTY: boolean): ProgressStream & { chunks: string[]; wrote(n: number): Promise<void> } {
  const chunks: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    isTTY,
    columns: 200,
    chunks,
    write(chunk: string) {
      chunks.push(chunk);
      for (const w of waiters.filter((w) => chunks.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      return true;
    },
    wrote(n: number) {
      return chunks.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
  };
}

/**
 * A map that holds row `at` until `gate` resolves: the run lasts until progress was reported.
 * The progress timer is unref'd, so a ref'd timer keeps the process up while the row waits.
 */
function holdAt<T extends { id: number }>(at: number, gate: Promise<unknown>) {
  return map(async (row: T) => {
    if (row.id === at) {
      const keepAlive = setInterval(() => {}, 1000);
      try {
        await gate;
      } finally {
        clearInterval(keepAlive);
      }
    }
    return row;
  });
}

function firstEvent(): {
  onProgress: (event: ProgressEvent) => void;
  events: ProgressEvent[];
  first: Promise<ProgressEvent>;
} {
  const events: ProgressEvent[] = [];
  let resolve!: (event: ProgressEvent) => void;
  const first = new Promise<ProgressEvent>((r) => (resolve = r));
  return {
    events,
    first,
    onProgress(event) {
      events.push(event);
      if (event.state === 'running') resolve(event);
    },
  };
}

test('events add up: the final event matches stats; an array source gives a total, a fraction and an ETA', async () => {
  const watch = firstEvent();
  const { stats } = await pipeline(fromIterable(rows(4000), { batchSize: 100 }), holdAt(2000, watch.first), drain(), {
    governor: false,
    progress: { onProgress: watch.onProgress, intervalMs: 10 },
  });
  const live = watch.events.filter((e) => e.state === 'running');
  assert.ok(live.length >= 1);
  const first = live[0]!;
  assert.equal(first.rowsTotal, 4000);
  assert.ok(first.rows > 0 && first.rows < 4000, `rows ${first.rows}`);
  assert.ok(first.fraction !== undefined && first.fraction > 0 && first.fraction < 1);
  assert.ok(first.rowsPerSec > 0);
  assert.equal(typeof first.etaMs, 'number');
  assert.ok(first.elapsedMs >= 0);
  assert.equal(first.memory.level, 'ok');
  assert.ok(first.memory.rss > 0);
  assert.deepEqual(
    first.stages.map((s) => s.name),
    ['fromIterable', 'map', 'drain'],
  );
  // rows never go back
  for (let i = 1; i < live.length; i++) assert.ok(live[i]!.rows >= live[i - 1]!.rows);
  const last = watch.events.at(-1)!;
  assert.equal(last.state, 'done');
  assert.equal(watch.events.filter((e) => e.state !== 'running').length, 1, 'one final event');
  assert.equal(last.rows, stats.rowsIn);
  assert.equal(last.fraction, 1);
  assert.equal(last.etaMs, 0);
  assert.equal(last.elapsedMs, Math.round(stats.durationMs));
  assert.deepEqual(
    last.stages.map((s) => [s.name, s.rowsIn, s.rowsOut]),
    stats.stages.map((s) => [s.name, s.rowsIn, s.rowsOut]),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(last)), last, 'events are plain objects');
});

test('a gzip CSV file: compressed bytes against the file size, fraction 1 at the end', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'trades.csv.gz');
  await writeTradesCsv(file, { rows: 20_000, badEvery: 0 });
  const events: ProgressEvent[] = [];
  const { stats } = await pipeline(fromCsv(file), drain(), {
    governor: false,
    progress: (event) => events.push(event),
  });
  const last = events.at(-1)!;
  assert.equal(last.state, 'done');
  assert.equal(last.bytesTotal, statSync(file).size);
  assert.equal(last.bytes, last.bytesTotal);
  assert.equal(last.bytes, stats.bytesRead);
  assert.equal(last.fraction, 1);
  assert.equal(last.rows, stats.rowsIn);
  assert.equal(last.rows, 20_000);
  assert.equal(last.rowsTotal, undefined, 'a CSV does not know its row count');
});

test('Parquet and Arrow footers and spill manifests give row totals', async () => {
  const dir = tempDir();
  const data = rows(3000);
  const parquetFile = path.join(dir, 'x.parquet');
  const arrowFile = path.join(dir, 'x.arrow');
  await pipeline(fromIterable(data, { batchSize: 500 }), toParquet(parquetFile, { rowGroupSize: 1000 }), {
    governor: false,
  });
  await pipeline(fromIterable(data, { batchSize: 500 }), toArrow(arrowFile), { governor: false });
  const { output: spilled } = await pipeline(fromIterable(data, { batchSize: 500 }), toSpill({ budget: 0 }), {
    governor: false,
  });
  try {
    for (const [what, source] of [
      ['parquet', fromParquet(parquetFile)],
      ['arrow', fromArrow(arrowFile)],
      ['spill', spilled.toSource()],
    ] as const) {
      const events: ProgressEvent[] = [];
      const { stats } = await pipeline(source, collect(), { governor: false, progress: (event) => events.push(event) });
      const last = events.at(-1)!;
      assert.equal(last.rowsTotal, 3000, what);
      assert.equal(last.rows, stats.rowsIn, what);
      assert.equal(last.fraction, 1, what);
    }
  } finally {
    await spilled.dispose();
  }
});

test('a dataset read with `where` counts progress over the input it passed over: fraction 1 at the end, never past', async () => {
  const dir = tempDir();
  const files = [path.join(dir, 'a.parquet'), path.join(dir, 'b.parquet')];
  for (const file of files) await pipeline(fromIterable(rows(10_000)), toParquet(file, { rowGroupSize: 1000 }));
  const events: ProgressEvent[] = [];
  const { stats } = await pipeline(fromParquet(files, { where: { col: 'id', op: '<', value: 1500 } }), drain(), {
    progress: { onProgress: (e) => events.push(e), intervalMs: 10 },
  });
  assert.ok((stats.stages[0]!.details.rowGroupsSkipped as number) > 0);
  const last = events.at(-1)!;
  // 3,000 rows out of 20,000: the done line said 15%
  assert.deepEqual([last.state, last.rows, last.rowsTotal, last.fraction], ['done', 3000, 20_000, 1]);
  // (a sample taken before the files' footers are read has no total yet, so no fraction)
  for (const e of events) {
    if (e.fraction !== undefined) assert.ok(e.fraction >= 0 && e.fraction <= 1, String(e.fraction));
    if (e.rowsScanned !== undefined) assert.ok(e.rowsScanned >= e.rows);
  }
});

test('governed runs report the memory level and fraction, and bytes spilled', async () => {
  const governor = new MemoryGovernor({ limit: '4GB' });
  const events: ProgressEvent[] = [];
  try {
    const { output, stats } = await pipeline(fromIterable(rows(2000), { batchSize: 200 }), toSpill({ budget: 0 }), {
      governor,
      progress: (event) => events.push(event),
    });
    await output.dispose();
    const last = events.at(-1)!;
    assert.equal(typeof last.memory.fraction, 'number');
    assert.ok(last.memory.rss > 0);
    assert.ok(last.spilledBytes > 0);
    assert.equal(last.spilledBytes, stats.stages.at(-1)!.details.bytesOnDisk);
  } finally {
    governor.close();
  }
});

test('parallel stages report worker use', async () => {
  const MODULE = runnableUrl('test/fixtures/parallel/worker.ts');
  const events: ProgressEvent[] = [];
  const input = Array.from({ length: 200 }, (_, n) => ({ n }));
  await pipeline(fromIterable(input, { batchSize: 20 }), parallel(MODULE, { workers: 2 }), collect(), {
    governor: false,
    progress: (event) => events.push(event),
  });
  const last = events.at(-1)!;
  assert.deepEqual(last.workers, { busy: 0, total: 2 });
});

test('off a terminal the output is line-oriented: no carriage return, no escape code', async () => {
  const stream = recorder(false);
  const { stats } = await pipeline(
    fromIterable(rows(3000), { batchSize: 100 }),
    holdAt(1500, stream.wrote(2)),
    drain(),
    {
      governor: false,
      progress: { stream, intervalMs: 10 },
    },
  );
  const text = stream.chunks.join('');
  assert.ok(stream.chunks.length >= 3, 'two live lines and a final one');
  assert.ok(!text.includes('\r'), 'no carriage return');
  assert.ok(!text.includes('\x1b'), 'no escape code');
  for (const chunk of stream.chunks) assert.match(chunk, /^spillway: [^\n]*\n$/, 'one whole line per write');
  assert.match(
    stream.chunks.at(-1)!,
    new RegExp(`^spillway: done 100% ${formatCount(stats.rowsIn)} rows .* rows/s in `),
  );
  assert.match(
    stream.chunks[0]!,
    /^spillway: \d+% [\d.]+k? rows [\d.]+k? rows\/s( ETA \S+ (ms|s|min|h)( \S+ (s|min))?)? rss /,
  );
});

test('a short run off a terminal writes nothing (the first line comes after the interval)', async () => {
  const stream = recorder(false);
  await pipeline(fromIterable(rows(100)), drain(), { governor: false, progress: { stream } });
  assert.deepEqual(stream.chunks, []);
});

test('on a terminal: one line redrawn in place, finished with a newline; cleared when the run fails', async () => {
  const stream = recorder(true);
  await pipeline(fromIterable(rows(3000), { batchSize: 100 }), holdAt(1500, stream.wrote(2)), drain(), {
    governor: false,
    progress: { stream },
  });
  assert.ok(stream.chunks.length >= 3);
  for (const chunk of stream.chunks) assert.ok(chunk.startsWith('\r\x1b[K'), JSON.stringify(chunk));
  assert.ok(
    stream.chunks.slice(0, -1).every((c) => !c.includes('\n')),
    'live redraws stay on one line',
  );
  assert.match(stream.chunks.at(-1)!, /▕████████████▏ 100% 3\.0k rows .*\n$/);

  const failing = recorder(true);
  await assert.rejects(
    pipeline(
      fromIterable(rows(3000), { batchSize: 100 }),
      map(async (row: { id: number }) => {
        if (row.id === 1500) {
          const keepAlive = setInterval(() => {}, 1000);
          await failing.wrote(1).finally(() => clearInterval(keepAlive));
          throw new Error('boom');
        }
        return row;
      }),
      drain(),
      { governor: false, progress: { stream: failing } },
    ),
    { code: ErrorCodes.STAGE },
  );
  assert.equal(failing.chunks.at(-1), '\r\x1b[K', 'the live line is cleared');
});

test('throttling: a terminal line at most every 250 ms, plain lines every interval', () => {
  const event: ProgressEvent = {
    state: 'running',
    rows: 10,
    bytes: 0,
    rowsPerSec: 5,
    bytesPerSec: 0,
    elapsedMs: 1,
    memory: { level: 'ok', rss: 1e8 },
    spilledBytes: 0,
    stages: [],
  };
  const tty = recorder(true);
  const ttySpec = resolveProgress({ stream: tty, intervalMs: 10 })!;
  assert.equal(ttySpec.renderMs, 250, 'a terminal is never redrawn more than 4 times a second');
  assert.equal(ttySpec.sampleMs, 10);
  const ttyRenderer = new LineRenderer(tty, ttySpec.renderMs, 0);
  for (let t = 0; t <= 1000; t += 10) ttyRenderer.update(event, t);
  assert.equal(tty.chunks.length, 5, 'at 0, 250, 500, 750, 1000 ms');

  const plain = recorder(false);
  const plainSpec = resolveProgress({ stream: plain })!;
  assert.equal(plainSpec.renderMs, 5000);
  const plainRenderer = new LineRenderer(plain, plainSpec.renderMs, 0);
  for (let t = 0; t <= 12_000; t += 250) plainRenderer.update(event, t);
  assert.equal(plain.chunks.length, 2, 'at 5 s and 10 s');
  assert.equal(resolveProgress(true)!.stream, process.stderr);
  assert.equal(resolveProgress(() => {})!.stream, undefined, 'a callback alone renders nothing');
});

test('the progress option is validated; a throwing callback does not fail the run', async () => {
  for (const bad of [
    1,
    'yes',
    { intervalMs: 0 },
    { intervalMs: 2.5 },
    { stream: {} },
    { onProgress: 3 },
    { every: 5 },
  ]) {
    assert.throws(() => resolveProgress(bad), { code: ErrorCodes.INVALID_OPTION }, JSON.stringify(bad));
    await assert.rejects(pipeline(fromIterable(rows(3)), drain(), { progress: bad as never }), {
      code: ErrorCodes.INVALID_OPTION,
    });
  }
  let calls = 0;
  const { stats } = await pipeline(fromIterable(rows(10)), drain(), {
    governor: false,
    progress: () => {
      calls++;
      throw new Error('callback bug');
    },
  });
  assert.equal(stats.rowsOut, 10);
  assert.equal(calls, 1);
});

test('the bar and the line (figures formatted by lib/core/format.ts)', () => {
  assert.equal(progressBar(0.625), '▕███████▌    ▏');
  assert.equal([...progressBar(1)].length, 14);
  assert.equal([...progressBar(0)].length, 14);
  const line = formatProgress({
    state: 'running',
    rows: 6_100_000,
    rowsTotal: 10_000_000,
    bytes: 1.9e9,
    fraction: 0.61,
    rowsPerSec: 182_000,
    bytesPerSec: 5e7,
    etaMs: 130_000,
    elapsedMs: 33_000,
    memory: { level: 'spill', rss: 2e9, fraction: 0.58 },
    spilledBytes: 1.2e9,
    workers: { busy: 2, total: 2 },
    stages: [],
  });
  assert.equal(line, '61% 6.1M rows 1.9 GB 182k rows/s ETA 2 min 10 s mem 58% spilled 1.2 GB workers 2/2');
});
