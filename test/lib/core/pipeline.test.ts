import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Transform, Readable, Writable } from 'node:stream';
import { writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  pipeline,
  fromIterable,
  fromCsv,
  fromParquet,
  map,
  filter,
  collect,
  drain,
  toCsv,
  none,
  many,
  stop,
  Stop,
  type StageError,
  type AbortError,
  ErrorCodes,
  ValidationError,
} from '../../../index.ts';
import { Batch } from '../../../lib/entry/extend.ts';
import { tempDir, openFds, settledFds } from '../../helpers.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

test('resolves to the sink output and stats with per-stage rows and batches', async () => {
  const { output, stats } = await pipeline(
    fromIterable(range(2500), { batchSize: 1000 }),
    filter((r: { i: number }) => r.i % 2 === 0),
    map((r: { i: number }) => ({ j: r.i * 10 })),
    collect(),
  );
  assert.equal(output.length, 1250);
  assert.deepEqual(output[1], { j: 20 });
  assert.equal(stats.rowsIn, 2500);
  assert.equal(stats.rowsOut, 1250);
  assert.equal(stats.batchesIn, 3);
  assert.deepEqual(
    stats.stages.map((s) => s.name),
    ['fromIterable', 'filter', 'map', 'collect'],
  );
  assert.deepEqual(
    stats.stages.map((s) => [s.rowsIn, s.rowsOut]),
    [
      [0, 2500],
      [2500, 1250],
      [1250, 1250],
      [1250, 0],
    ],
  );
  assert.ok(stats.durationMs >= 0);
  assert.doesNotThrow(() => JSON.stringify(stats));
});

test('one stream chunk is one batch, never one row', async () => {
  const seen: unknown[] = [];
  const spy = new Transform({
    objectMode: true,
    transform(chunk, _e, cb) {
      seen.push(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(fromIterable(range(3000), { batchSize: 1000 }), spy, drain());
  assert.equal(seen.length, 3);
  assert.ok(seen.every((c) => c instanceof Batch && c.numRows === 1000));
});

test('plain functions apply per row and undefined drops; generators yield many; consecutive ones compose', async () => {
  const { output, stats } = await pipeline(
    range(6),
    (r: { i: number }) => (r.i % 2 ? r : undefined),
    function* (r: { i: number }) {
      yield r.i;
      yield -r.i;
    },
    (v: number) => ({ v }),
    collect(),
  );
  assert.deepEqual(
    output,
    [1, -1, 3, -3, 5, -5].map((v) => ({ v })),
  );
  assert.equal(stats.rowsOut, 6);
});

test('async generator functions and async functions work as stages', async () => {
  const { output } = await pipeline(
    range(3),
    async function* (r: { i: number }) {
      yield r.i;
      await null;
      yield r.i + 100;
    },
    async (v: number) => ({ v }),
    collect(),
  );
  assert.deepEqual(
    output.map((r) => (r as { v: number }).v),
    [0, 100, 1, 101, 2, 102],
  );
});

test('stream-chain sentinels: none drops, many expands, stop ends the input early', async () => {
  const { output } = await pipeline(
    fromIterable(range(10)),
    map((r: { i: number }) => (r.i === 1 ? none : r.i === 2 ? many([{ a: 1 }, { a: 2 }]) : r)),
    collect(),
  );
  assert.deepEqual(output.slice(0, 3), [{ i: 0 }, { a: 1 }, { a: 2 }]);
  assert.equal(output.length, 10);
  let produced = 0;
  function* endless() {
    for (;;) {
      produced++;
      yield { i: produced };
    }
  }
  const stopped = await pipeline(
    fromIterable(endless(), { batchSize: 10 }),
    map((r: { i: number }) => (r.i > 25 ? stop : r)),
    collect(),
  );
  assert.equal(stopped.output.length, 25);
  assert.ok(produced < 1000, `the source stopped early (${produced} rows produced)`);
  produced = 0;
  const thrown = await pipeline(
    fromIterable(endless(), { batchSize: 10 }),
    map((r: { i: number }) => {
      if (r.i > 5) throw new Stop();
      return r;
    }),
    collect(),
  );
  assert.deepEqual(thrown.output, range(6).slice(1));
});

test('foreign Node streams work as stages; arrays they emit become batches', async () => {
  const doubler = new Transform({
    objectMode: true,
    transform(chunk: Batch, _e, cb) {
      cb(
        null,
        chunk.rows.map((r) => ({ ...(r as object), twice: true })),
      );
    },
  });
  const { output, stats } = await pipeline(fromIterable(range(5)), doubler, collect());
  assert.equal(output.length, 5);
  assert.deepEqual(output[0], { i: 0, twice: true });
  assert.equal(stats.rowsOut, 5);
  // a foreign Readable source of row arrays
  const { output: fromStream } = await pipeline(Readable.from([[{ a: 1 }, { a: 2 }], [{ a: 3 }]]), collect());
  assert.equal(fromStream.length, 3);
});

test('a foreign Writable sink resolves with undefined output', async () => {
  const got: number[] = [];
  const sink = new Writable({
    objectMode: true,
    write(chunk: Batch, _e, cb) {
      got.push(chunk.numRows);
      cb();
    },
  });
  const { output } = await pipeline(fromIterable(range(5), { batchSize: 2 }), sink);
  assert.equal(output, undefined);
  assert.deepEqual(got, [2, 2, 1]);
});

test('an error in a user function rejects with its stage, file, batch and row, and the cause', async () => {
  const dir = tempDir();
  const path = join(dir, 'in.csv');
  writeFileSync(path, 'a\n1\n2\n3\n4\n');
  await assert.rejects(
    pipeline(
      fromCsv(path, { batchSize: 2 }),
      map((r: { a: string }) => {
        if (r.a === '4') throw new TypeError('bad four');
        return r;
      }),
      collect(),
    ),
    (error: StageError) => {
      assert.equal(error.code, ErrorCodes.STAGE);
      assert.equal(error.context.stage, 'map');
      assert.equal(error.context.file, path);
      assert.equal(error.context.batch, 1);
      assert.equal(error.context.rowInBatch, 1);
      assert.ok(error.cause instanceof TypeError);
      return true;
    },
  );
});

test('the first real error wins over premature-close echoes, and every stream is destroyed', async () => {
  const streams: { destroyed: boolean }[] = [];
  const source = fromIterable(range(100_000), { batchSize: 100 });
  const failing = map((r: { i: number }) => {
    if (r.i === 5000) throw new Error('boom');
    return r;
  });
  const sink = drain();
  streams.push(source, failing, sink);
  await assert.rejects(pipeline(source, failing, sink), /boom/);
  assert.ok(streams.every((s) => s.destroyed));
});

test('abort: rejects with AbortError carrying the reason, closes files, leaves no partial output', async () => {
  const dir = tempDir();
  const input = join(dir, 'in.csv');
  const lines = ['a,b'];
  for (let i = 0; i < 300_000; i++) lines.push(`${i},${i}`);
  writeFileSync(input, lines.join('\n'));
  const out = join(dir, 'out.csv');
  const fdsBefore = openFds();
  const controller = new AbortController();
  let rows = 0;
  const run = pipeline(
    fromCsv(input, { batchSize: 1000 }),
    map((r) => {
      if (++rows === 20_000) controller.abort(new Error('user cancelled'));
      return r;
    }),
    toCsv(out),
    { signal: controller.signal },
  );
  await assert.rejects(run, (error: AbortError) => {
    assert.equal(error.code, ErrorCodes.ABORTED);
    assert.match(String((error.cause as Error).message), /user cancelled/);
    return true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(existsSync(out), false, 'no file under the final name');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
  assert.ok((await settledFds(fdsBefore)) <= fdsBefore, 'no file descriptor left open');
});

test('an already-aborted signal rejects at once', async () => {
  await assert.rejects(
    pipeline(fromIterable(range(3)), collect(), { signal: AbortSignal.abort('no') }),
    (e: AbortError) => e.code === ErrorCodes.ABORTED,
  );
});

test('AbortSignal.timeout stops a slow pipeline', async () => {
  function* slowForever() {
    for (let i = 0; ; i++) yield { i };
  }
  await assert.rejects(
    pipeline(
      fromIterable(slowForever(), { batchSize: 10 }),
      map(async (r) => {
        await new Promise((res) => setTimeout(res, 1));
        return r;
      }),
      drain(),
      { signal: AbortSignal.timeout(100) },
    ),
    (e: AbortError) => e.code === ErrorCodes.ABORTED,
  );
});

test('bad stage arguments fail synchronously-validated with clear messages', async () => {
  await assert.rejects(
    pipeline(42 as unknown as Readable, drain()),
    (e: ValidationError) => e.code === ErrorCodes.INVALID_OPTION && /first stage must be a source/.test(e.message),
  );
  await assert.rejects(pipeline(fromIterable([]), 'x' as unknown as Writable, drain()), /stage 1 must be a stream/);
  assert.throws(() => map(5 as unknown as () => void), /Expected `fn` to be a function/);
});

test('a pipeline that ends in a transform drains it', async () => {
  let seen = 0;
  const { stats } = await pipeline(fromIterable(range(10)), (r: object) => {
    seen++;
    return r;
  });
  assert.equal(seen, 10);
  assert.equal(stats.rowsOut, 10);
});

test('stage names are unique within a pipeline', async () => {
  const { stats } = await pipeline(
    fromIterable(range(2)),
    map((r) => r),
    map((r) => r),
    collect(),
  );
  assert.deepEqual(
    stats.stages.map((s) => s.name),
    ['fromIterable', 'map', 'map#2', 'collect'],
  );
});

test('a coded error a sink meets names the sink, as a transform names itself', async () => {
  // a timestamp past a JS Date's range (DuckDB's own range is wider): the sink meets it making
  // rows of the Arrow batch the reader gave it
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  const file = join(tempDir('spillway-sink-error-'), 'far.parquet');
  await connection.run(`COPY (SELECT TIMESTAMP '290000-01-01 00:00:00' AS a) TO '${file}' (FORMAT parquet)`);
  connection.closeSync();
  db.closeSync();
  await assert.rejects(
    pipeline(fromParquet(file, { output: 'arrow' }), collect()),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.UNSUPPORTED);
      assert.match(error.message, /holds a time outside the range of a JS Date \(stage collect\)/);
      return true;
    },
  );
});

test('a stage used in one pipeline is refused by the next, by name; a sink must come last', async () => {
  // the second run hung for ever (a transform or sink) or read nothing (a source)
  const rows = [{ a: 1 }, { a: 2 }];
  const m = map((r: { a: number }) => r);
  assert.equal((await pipeline(fromIterable(rows), m, collect())).output.length, 2);
  await assert.rejects(pipeline(fromIterable(rows), m, collect()), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /Stage 2 \(map\) was used in a pipeline before/);
    return true;
  });
  const source = fromIterable(rows);
  await pipeline(source, collect());
  await assert.rejects(pipeline(source, collect()), /Stage 1 \(fromIterable\) was used in a pipeline before/);
  const sink = collect();
  await assert.rejects(
    pipeline(
      fromIterable(rows),
      sink,
      map((r: unknown) => r),
    ),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /Stage 2 \(collect\) is a sink: it must be the last stage/);
      return true;
    },
  );
});

test('the same stage twice in one pipeline, a byte stream as a stage, and a Writable before the last place are coded errors', async () => {
  // the stage was piped into itself (a hang, or a CPU spin that starved signals); a file stream's
  // Buffers became rows; a Writable in the middle raised a raw Node type error
  const rows = [{ a: 1 }, { a: 2 }];
  const m = map((r: { a: number }) => r);
  await assert.rejects(pipeline(fromIterable(rows), m, m, collect()), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /Stage 3 \(map\) stands earlier in this pipeline too/);
    return true;
  });
  const file = join(tempDir(), 'bytes.csv');
  writeFileSync(file, 'a,b\n1,2\n');
  const { createReadStream } = await import('node:fs');
  await assert.rejects(pipeline(createReadStream(file), collect()), /stage 1 is a byte stream .* fromCsv\(stream\)/);
  const bytesIn = new Writable({ write: (_c, _e, done) => done() });
  await assert.rejects(pipeline(fromIterable(rows), bytesIn), /stage 2 takes bytes .* toCsv\(stream\)/);
  const middle = new Writable({ objectMode: true, write: (_c, _e, done) => done() });
  await assert.rejects(pipeline(fromIterable(rows), middle, collect()), /stage 2 is a Writable only/);
});

test("a caller's Writable: a failed run rejects without an unhandled 'error' on it; one that closes mid-run rejects with an IoError", async () => {
  // the sink destroyed the caller's stream with the run's error: with no listener, the process crashed
  const dir = tempDir();
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(join(dir, 'out.csv'));
  await assert.rejects(
    pipeline(
      fromIterable(range(5000), { batchSize: 100 }),
      map((r: { i: number }) => {
        if (r.i === 3000) throw new Error('bad row');
        return r;
      }),
      toCsv(out),
    ),
    /bad row/,
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(out.destroyed, true);
  // a reader that goes away (destroyed without an error) while the sink waits for 'drain': it waited for ever
  let writes = 0;
  const leaving: Writable = new Writable({
    highWaterMark: 16,
    write(_chunk, _encoding, done) {
      if (++writes === 3) setImmediate(() => leaving.destroy());
      else setTimeout(done, 1);
    },
  });
  await assert.rejects(pipeline(fromIterable(range(20_000), { batchSize: 100 }), toCsv(leaving)), (error: unknown) => {
    assert.equal((error as { code?: string }).code, ErrorCodes.IO);
    assert.match((error as Error).message, /closed before its 'drain'/);
    return true;
  });
});

test('an abort ends a run whose async iterable source waits for its next row; a failing input stream is an IoError', async (t) => {
  // the source awaited the iterator's next row (a queue consumer with no new message): never
  let release!: () => void;
  const idle = new Promise<void>((resolve) => (release = resolve));
  async function* messages() {
    for (let i = 0; i < 5; i++) yield { i };
    await idle;
    yield { i: -1 };
  }
  const started = Date.now();
  // AbortSignal.timeout's timer does not keep the process alive; a real consumer's connection would
  const alive = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(alive));
  await assert.rejects(
    pipeline(fromIterable(messages()), collect(), { signal: AbortSignal.timeout(200) }),
    (error: unknown) => (error as AbortError).code === ErrorCodes.ABORTED,
  );
  assert.ok(Date.now() - started < 5_000);
  release();
  // a caller's byte stream that fails mid-read: the raw Error (or ERR_STREAM_PREMATURE_CLOSE) reached the caller
  for (const end of ['error', 'destroy'] as const) {
    const input = new Readable({ read() {} });
    input.push('a,b\n1,2\n');
    setTimeout(() => (end === 'error' ? input.destroy(new Error('network reset')) : input.destroy()), 20);
    await assert.rejects(pipeline(fromCsv(input), collect()), (error: unknown) => {
      assert.equal((error as { code?: string }).code, ErrorCodes.IO, end);
      assert.match((error as Error).message, end === 'error' ? /network reset/ : /Premature close/);
      return true;
    });
  }
});
