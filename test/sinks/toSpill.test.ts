import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify, inspect } from 'node:util';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import fc from 'fast-check';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { collect } from '../../sinks/collect.ts';
import { toSpill } from '../../sinks/toSpill.ts';
import { map } from '../../transforms/map.ts';
import { openSpill } from '../../lib/formats/spill/spilled.ts';
import { Batch, type Row } from '../../lib/core/batch.ts';
import { BatchSource } from '../../lib/core/source.ts';
import { rowsToRecordBatch, recordBatchToRows } from '../../lib/formats/arrow/convert.ts';
import { ErrorCodes } from '../../lib/core/errors.ts';
import { RowViewer } from '../../lib/core/row-view.ts';
import type { GovernorGate } from '../../lib/core/stage.ts';
import { ROOT, tempDir } from '../helpers.ts';

const run = promisify(execFile);

const valueOf: Record<string, fc.Arbitrary<unknown>> = {
  int: fc.integer(),
  float: fc.oneof(fc.double(), fc.constant(NaN), fc.constant(-0)),
  bigint: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  string: fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant('')),
  bool: fc.boolean(),
  date: fc.date({ noInvalidDate: true }),
};
const kinds = fc.array(fc.constantFrom(...Object.keys(valueOf)), { minLength: 1, maxLength: 5 });
/** Batches of object rows: each column keeps its kind; values may be null. */
const dataset = kinds.chain((ks) =>
  fc
    .array(fc.array(fc.tuple(...ks.map((k) => fc.option(valueOf[k]!, { freq: 4 }))), { minLength: 0, maxLength: 30 }), {
      minLength: 1,
      maxLength: 8,
    })
    .map((groups) =>
      groups.map((rows) => rows.map((values) => Object.fromEntries(values.map((v, i) => [`c${i}`, v])) as Row)),
    ),
);

function source(groups: Row[][]): BatchSource {
  return new BatchSource({
    name: 'groups',
    async *open() {
      let rowStart = 0;
      for (const [index, rows] of groups.entries()) {
        yield new Batch([...rows], { source: 'groups', index, rowStart });
        rowStart += rows.length;
      }
    },
  });
}

const compressions = fc.constantFrom('lz4' as const, 'zstd' as const, 'none' as const);

test('property: random batches through a tiny budget replay exactly via rows, batches, get, slice', async () => {
  await fc.assert(
    fc.asyncProperty(dataset, compressions, fc.integer({ min: 0, max: 4000 }), async (groups, compression, budget) => {
      const expected = groups.flat();
      const { output } = await pipeline(source(groups), toSpill({ budget, compression, fileSize: 3000 }), {
        governor: false,
      });
      try {
        assert.equal(output.numRows, expected.length);
        const rows: Row[] = [];
        for await (const row of output.rows()) rows.push(row);
        assert.deepStrictEqual(rows, expected);
        const fromBatches: Row[] = [];
        let i = 0;
        for await (const batch of output.batches()) {
          assert.equal(batch.numRows, groups[i++]!.length);
          fromBatches.push(...recordBatchToRows(batch, { int64: 'bigint' }));
        }
        // batches() is Arrow: values compare after the Arrow round trip of each group
        assert.deepStrictEqual(
          fromBatches,
          groups.flatMap((g) => recordBatchToRows(rowsToRecordBatch(g), { int64: 'bigint' })),
        );
        for (const k of [0, expected.length - 1, expected.length >> 1])
          if (k >= 0) assert.deepStrictEqual(await output.get(k), expected[k]);
        assert.equal(await output.get(expected.length), undefined);
        const a = Math.floor(expected.length / 3);
        const b = Math.floor((2 * expected.length) / 3) + 1;
        assert.deepStrictEqual(await output.slice(a, b), expected.slice(a, b));
        assert.deepStrictEqual(await output.slice(0), expected);
      } finally {
        await output.dispose();
      }
      assert.equal(existsSync(output.dir), false, 'dispose removes the directory');
    }),
    { numRuns: 60 },
  );
});

const childScript = (dir: string): string => {
  const file = path.join(dir, 'replay-child.mts');
  writeFileSync(
    file,
    `import { inspect } from 'node:util';
import { openSpill } from ${JSON.stringify(path.join(ROOT, 'lib/formats/spill/spilled.ts'))};
const spilled = await openSpill(process.argv[2]);
const rows = [];
for await (const row of spilled.rows()) rows.push(row);
const probe = spilled.numRows > 0 ? await spilled.get(spilled.numRows - 1) : null;
process.stdout.write(JSON.stringify({ numRows: spilled.numRows, rows: inspect(rows, { depth: null, maxArrayLength: null, maxStringLength: null, breakLength: Infinity }), last: inspect(probe, { depth: null, breakLength: Infinity }) }));
`,
  );
  return file;
};

test('property: after openSpill in a child process, rows replay exactly', async () => {
  const scratch = tempDir('spillway-spill-child-');
  const script = childScript(scratch);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(dataset, compressions, async (groups, compression) => {
      const dir = path.join(scratch, `run-${n++}`);
      const expected = groups.flat();
      const { output } = await pipeline(
        source(groups),
        toSpill({ budget: 500, compression, fileSize: 2000, keep: true, dir }),
        { governor: false },
      );
      assert.equal(output.manifest.complete, true);
      const { stdout } = await run(process.execPath, ['--conditions=spillway-source', '--import', 'tsx', script, dir], {
        cwd: ROOT,
        maxBuffer: 64e6,
      });
      const got = JSON.parse(stdout) as { numRows: number; rows: string; last: string };
      assert.equal(got.numRows, expected.length);
      assert.equal(
        got.rows,
        inspect(expected, { depth: null, maxArrayLength: null, maxStringLength: null, breakLength: Infinity }),
      );
      assert.equal(got.last, inspect(expected.at(-1) ?? null, { depth: null, breakLength: Infinity }));
      await output.dispose({ remove: true });
    }),
    { numRuns: 4 },
  );
});

test('memory-resident and spilled batches interleave in arrival order; oldest spill first', async () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ i, s: `r${i}` }));
  const { output } = await pipeline(fromIterable(rows, { batchSize: 100 }), toSpill({ budget: 20_000 }), {
    governor: false,
  });
  assert.ok(output.manifest.numBatches > 0, 'some batches spilled');
  assert.ok(output.rowsInMemory > 0, 'some stayed in memory');
  // the spilled ones are the oldest
  assert.equal(output.manifest.numRows, 1000 - output.rowsInMemory);
  assert.deepEqual(
    (await output.slice(0, 1000)).map((r) => (r as { i: number }).i),
    rows.map((r) => r.i),
  );
  await output.dispose();
});

test('spill files are 0600 in a 0700 directory; manifest lists files in order with checksums', async () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({ i, t: 'x'.repeat(i % 50) }));
  const { output } = await pipeline(
    fromIterable(rows, { batchSize: 250 }),
    toSpill({ budget: 0, fileSize: 20_000, keep: true }),
    { governor: false },
  );
  assert.equal(statSync(output.dir).mode & 0o777, 0o700);
  const files = readdirSync(output.dir);
  assert.ok(files.includes('manifest.json'));
  assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temporary files remain');
  for (const f of output.manifest.files) {
    assert.equal(statSync(path.join(output.dir, f.name)).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(output.dir, f.name)).size, f.bytes);
    assert.match(f.crc32, /^[0-9a-f]{8}$/);
  }
  assert.ok(output.manifest.files.length > 1, 'rotated');
  assert.deepEqual(
    output.manifest.files.map((f) => f.name),
    [...output.manifest.files.map((f) => f.name)].sort(),
  );
  assert.equal(output.manifest.numRows, 5000);
  assert.equal(
    output.bytesOnDisk,
    output.manifest.files.reduce((n, f) => n + f.bytes, 0),
  );
  await output.dispose({ remove: true });
});

test('schema changes: a column appearing later and int -> float replay with the values each row had', async () => {
  const groups: Row[][] = [[{ a: 1 }, { a: 2 }], [{ a: 2.5, b: 'new' }], [{ a: 3 }], [{ a: 'text now' }], [{ a: 4n }]];
  const { output } = await pipeline(source(groups), toSpill({ budget: 0, keep: true }), { governor: false });
  const rows: Row[] = [];
  for await (const row of output.rows()) rows.push(row);
  assert.equal(rows.length, 6);
  // the first file holds only `a`; widening starts a new file, so earlier rows keep their shape
  assert.deepStrictEqual(rows.slice(0, 2), [{ a: 1 }, { a: 2 }]);
  assert.deepStrictEqual(rows[2], { a: 2.5, b: 'new' });
  assert.deepStrictEqual(rows[3], { a: 3, b: null });
  assert.deepStrictEqual(rows[4], { a: 'text now' });
  assert.deepStrictEqual(rows[5], { a: 4n });
  assert.ok(output.schemas.length >= 3, 'incompatible changes start new segments');
  assert.throws(() => output.schema, { code: ErrorCodes.UNSUPPORTED });
  await output.dispose({ remove: true });
});

test('Arrow batches are written as they are and replay as Arrow', async () => {
  // an Int64 column not marked as all-bigint (as from a Parquet file)
  const rb = rowsToRecordBatch([
    { x: 1, y: 'a' },
    { x: 2n ** 60n, y: 'b' },
  ]);
  const src = new BatchSource({
    name: 'arrow',
    async *open() {
      for (let i = 0; i < 5; i++) yield Batch.fromArrow(rb, { source: 'arrow', index: i, rowStart: 2 * i });
    },
  });
  const { output } = await pipeline(src, toSpill({ budget: 0 }), { governor: false });
  // Arrow-origin rows replay as Batch rows do (int64 'auto')
  assert.deepStrictEqual(await output.get(0), { x: 1, y: 'a' });
  assert.deepStrictEqual(await output.get(1), { x: 2n ** 60n, y: 'b' });
  const replayed = await pipeline(output.toSource(), collect(), { governor: false });
  assert.equal(replayed.output.length, 10);
  const table = await output.toTable();
  assert.equal(table.numRows, 10);
  await assert.rejects(output.toTable({ maxBytes: 10 }), { code: ErrorCodes.COLLECT_LIMIT });
  await output.dispose();
});

// a fake gate: an EventEmitter with the GovernorGate members (no real memory involved)
class FakeGate extends EventEmitter implements GovernorGate {
  level: 'ok' | 'spill' | 'pause' | 'critical' = 'ok';
  spilled = 0;
  paused = false;
  waitForRelief(): Promise<void> {
    return Promise.resolve();
  }
  noteRows(): void {}
  headroom(): number {
    return 1e9;
  }
  noteSpill(bytes: number): void {
    this.spilled += bytes;
  }
  set(level: 'ok' | 'spill'): void {
    this.level = level;
    this.emit('level', level);
  }
}

test('the governor reaching `spill` flushes every memory-resident batch to disk', async () => {
  const gate = new FakeGate();
  const sink = toSpill({ budget: '1GB' });
  const context = { signal: new AbortController().signal, governor: gate, requestStop() {}, stopRequested: false };
  (sink as unknown as { [k: symbol]: { attach(c: unknown): void } })[Symbol.for('spillway.stage')]!.attach(context);
  const write = (i: number): Promise<void> =>
    new Promise((resolve, reject) =>
      sink.write(new Batch([{ i }, { i: i + 0.5 }], { source: 't', index: i, rowStart: 2 * i }), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  for (let i = 0; i < 5; i++) await write(i);
  gate.set('spill');
  // the flush runs on the event; the next write waits for it
  await write(5);
  gate.set('ok');
  await write(6);
  await new Promise<void>((resolve, reject) => sink.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const output = sink.result();
  assert.ok(gate.spilled > 0, 'noteSpill was called');
  assert.equal(output.manifest.numBatches, 6, 'batches 0-5 went to disk at the spill level');
  assert.equal(output.rowsInMemory, 2, 'batch 6 stayed in memory under the budget');
  assert.deepStrictEqual(
    (await output.slice(0)).map((r) => (r as { i: number }).i),
    [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5],
  );
  await output.dispose();
});

test('dispose removes the directory; keep: true keeps it; use after dispose fails clearly', async () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
  const a = (await pipeline(fromIterable(rows, { batchSize: 10 }), toSpill({ budget: 0 }), { governor: false })).output;
  assert.ok(existsSync(a.dir));
  await a.dispose();
  await a.dispose();
  assert.equal(existsSync(a.dir), false);
  await assert.rejects(a.get(0), { code: ErrorCodes.SPILL });
  const b = (
    await pipeline(fromIterable(rows, { batchSize: 10 }), toSpill({ budget: 0, keep: true }), { governor: false })
  ).output;
  await b.dispose();
  assert.ok(existsSync(b.dir), 'kept');
  const again = await openSpill(b.dir);
  assert.equal(again.numRows, 100);
  await again.dispose({ remove: true });
  assert.equal(existsSync(b.dir), false);
});

test('the spill directory is removed on normal process exit unless keep: true', async () => {
  const scratch = tempDir('spillway-spill-exit-');
  const script = path.join(scratch, 'exit.mts');
  writeFileSync(
    script,
    `import { pipeline } from ${JSON.stringify(path.join(ROOT, 'lib/core/pipeline.ts'))};
import { fromIterable } from ${JSON.stringify(path.join(ROOT, 'sources/fromIterable.ts'))};
import { toSpill } from ${JSON.stringify(path.join(ROOT, 'sinks/toSpill.ts'))};
const keep = process.argv[2] === 'keep';
const { output } = await pipeline(fromIterable(Array.from({ length: 100 }, (_, i) => ({ i })), { batchSize: 10 }), toSpill({ budget: 0, keep }), { governor: false });
process.stdout.write(output.dir);
`,
  );
  for (const mode of ['temp', 'keep']) {
    const { stdout: dir } = await run(
      process.execPath,
      ['--conditions=spillway-source', '--import', 'tsx', script, mode],
      { cwd: ROOT },
    );
    assert.ok(dir.length > 0);
    assert.equal(existsSync(dir), mode === 'keep', `${mode}: ${dir}`);
    if (mode === 'keep') await (await openSpill(dir)).dispose({ remove: true });
  }
});

test('a failing pipeline removes a temporary spill directory', async () => {
  const dir = path.join(tempDir('spillway-spill-fail-'), 'spill');
  let n = 0;
  const rows = (function* () {
    for (;;) {
      if (++n > 500) throw new Error('source broke');
      yield { n };
    }
  })();
  await assert.rejects(
    pipeline(fromIterable(rows, { batchSize: 50 }), toSpill({ budget: 0, dir }), { governor: false }),
    /source broke/,
  );
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
});

test('options are validated synchronously, naming the option', () => {
  assert.throws(() => toSpill({ budget: 'lots' }), { code: ErrorCodes.INVALID_OPTION, message: /options\.budget/ });
  assert.throws(() => toSpill({ compression: 'gzip' as never }), {
    code: ErrorCodes.INVALID_OPTION,
    message: /options\.compression/,
  });
  assert.throws(() => toSpill({ fileSize: 0 }), { code: ErrorCodes.INVALID_OPTION, message: /options\.fileSize/ });
  assert.throws(() => toSpill({ keep: 'yes' as never }), { code: ErrorCodes.INVALID_OPTION, message: /options\.keep/ });
  assert.throws(() => toSpill({ dir: '' }), { code: ErrorCodes.INVALID_OPTION, message: /options\.dir/ });
});

test('toSource() replays disk and memory batches in order, 64-bit integers of row batches as bigints', async () => {
  const input = Array.from({ length: 3000 }, (_, i) => ({ i, big: BigInt(i) * 2n ** 40n, s: `row ${i}` }));
  const { output } = await pipeline(fromIterable(input, { batchSize: 100 }), toSpill({ budget: 20_000 }), {
    governor: false,
  });
  assert.ok(output.rowsInMemory > 0 && output.manifest.numRows > 0, 'some batches on disk, some in memory');
  const replayed = await pipeline(output.toSource(), collect(), { governor: false });
  assert.deepStrictEqual(replayed.output, input);
  // a consumer that stops early leaves no read in flight behind: the spill disposes cleanly
  let seen = 0;
  for await (const _ of output.batches()) if (++seen === 2) break;
  await output.dispose();
  assert.equal(existsSync(output.dir), false);
});

test('a column mixing numbers and bigints (an INT64 column read with int64 auto) comes back as it went in, from disk and memory', async () => {
  // the spill read every 64-bit column of row batches as bigints: 1 came back 1n, and a filter
  // `v === 0` after a replay kept nothing. (A bigint within 2^53 in such a column comes back a number.)
  const input = Array.from({ length: 3000 }, (_, i) => ({ i, v: i % 3 === 0 ? 2n ** 53n + BigInt(i) : i }));
  for (const budget of [0, 20_000, '1GB'] as const) {
    const { output } = await pipeline(fromIterable(input, { batchSize: 100 }), toSpill({ budget }), {
      governor: false,
    });
    try {
      assert.deepStrictEqual((await pipeline(output.toSource(), collect(), { governor: false })).output, input);
      const rows: unknown[] = [];
      for await (const row of output.rows()) rows.push(row);
      assert.deepStrictEqual(rows, input, `budget ${budget}: rows()`);
      assert.deepStrictEqual(await output.get(2999), input[2999], `budget ${budget}: get()`);
      assert.deepStrictEqual(await output.slice(1, 4), input.slice(1, 4), `budget ${budget}: slice()`);
    } finally {
      await output.dispose();
    }
  }
});

test('a spill the governor asks for that fails is kept for the next write, never an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const parent = tempDir('spillway-spill-fail-');
  const dir = path.join(parent, 'spill');
  const gate = new FakeGate();
  const sink = toSpill({ budget: '1GB', dir });
  // a failed write is also the stream's 'error' (pipeline() listens; this test stands in for it)
  sink.on('error', () => {});
  const context = { signal: new AbortController().signal, governor: gate, requestStop() {}, stopRequested: false };
  (sink as unknown as { [k: symbol]: { attach(c: unknown): void } })[Symbol.for('spillway.stage')]!.attach(context);
  const write = (i: number): Promise<void> =>
    new Promise((resolve, reject) =>
      sink.write(new Batch([{ i }], { source: 't', index: i, rowStart: i }), (e) => (e ? reject(e) : resolve())),
    );
  try {
    for (let i = 0; i < 3; i++) await write(i);
    // the spill directory becomes a file: the first spill file cannot be made
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
    gate.set('spill');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(write(3), { code: ErrorCodes.SPILL });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    sink.destroy();
    rmSync(parent, { recursive: true, force: true });
  }
});

test('rows Arrow cannot hold (a column mixing numbers and text, as cast: true reads a messy CSV): kept as rows within the budget, a coded error naming the batch and its line when spilled', async () => {
  const dir = tempDir();
  const csv = path.join(dir, 'messy.csv');
  writeFileSync(csv, `symbol,price\n${'A,1.5\n'.repeat(50)}B,"1,5"\n${'C,2\n'.repeat(50)}`);
  const { fromCsv } = await import('../../sources/fromCsv.ts');
  // within the budget: the rows stay in memory and come back as they were read
  const kept = await pipeline(fromCsv(csv, { cast: true, output: 'rows' }), toSpill({ budget: '16MB' }), {
    governor: false,
  });
  const back: Row[] = [];
  for await (const row of kept.output.rows()) back.push(row);
  assert.equal(back.length, 101);
  assert.deepEqual(back[50], { symbol: 'B', price: '1,5' });
  await kept.output.dispose();
  // spilled: the error says which batch, from which line, and why, and no directory is left
  const spillDir = path.join(dir, 'spill');
  await assert.rejects(
    pipeline(fromCsv(csv, { cast: true, output: 'rows' }), toSpill({ budget: 0, dir: spillDir }), { governor: false }),
    (e: { code: string; message: string; context: Record<string, unknown> }) =>
      e.code === ErrorCodes.SCHEMA_MISMATCH &&
      e.context.stage === 'toSpill' &&
      e.context.batch === 0 &&
      /Batch 0 \(.*messy\.csv, lines 1-102\) cannot be spilled as Arrow: Column "price" mixes/.test(e.message),
  );
  assert.equal(existsSync(spillDir), false);
});

test('nested values keep NaN, infinities and bigints through a spill file, in rows and in row views', async () => {
  type Nested = { id: number; l: unknown[]; o: Record<string, unknown> };
  const rows: Nested[] = [
    { id: 1, l: [1.5, NaN, Infinity, -Infinity, null], o: { big: 2n ** 60n + 1n, neg: -(2n ** 63n), x: -0.25 } },
    { id: 2, l: [], o: { nested: [{ n: NaN }], s: 'NaN' } },
  ];
  const { output } = await pipeline(fromIterable(rows), toSpill({ budget: 0 }), { governor: false });
  try {
    assert.equal(output.rowsInMemory, 0, 'the batch went to a file');
    const back: Row[] = [];
    for await (const row of output.rows()) back.push(row);
    assert.deepStrictEqual(back, rows);
    for await (const batch of output.batches()) {
      const viewer = new RowViewer<Nested>(batch);
      viewer.at(0);
      assert.deepStrictEqual(viewer.view.l, rows[0]!.l);
      assert.deepStrictEqual(viewer.view.o, rows[0]!.o);
    }
  } finally {
    await output.dispose();
  }
});

test('the replay is the same whether a checkpoint cut the files or not: a later column widens the earlier ones (a cut dropped them)', async () => {
  const rows = [
    { i: 0, d: 'x' },
    { i: 1, e: 1 },
    { i: 2, d: 'y' },
  ];
  const replays: string[] = [];
  for (const checkpointed of [false, true]) {
    const dir = tempDir();
    const { output } = await pipeline(
      fromIterable(rows, { batchSize: 1 }),
      toSpill({ budget: 0, dir: path.join(dir, 'out') }),
      {
        governor: false,
        ...(checkpointed ? { checkpoint: { dir: path.join(dir, 'ck'), everyBatches: 1, intervalMs: 1 } } : {}),
      },
    );
    const got: Row[] = [];
    for await (const row of output.rows()) got.push(row);
    replays.push(JSON.stringify(got));
    await output.dispose();
  }
  assert.equal(replays[0], '[{"i":0,"d":"x"},{"i":1,"d":null,"e":1},{"i":2,"d":"y","e":null}]');
  assert.equal(replays[1], replays[0]);
});

test('a resume whose committed spill files were removed or cut is refused, naming the file (it reported success and left a spill no reader could open)', async () => {
  const rows = Array.from({ length: 400 }, (_, i) => ({ i, s: `row ${i}` }));
  for (const damage of ['remove', 'cut'] as const) {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const options = {
      governor: false as const,
      checkpoint: { dir: path.join(dir, 'ck'), everyBatches: 1, intervalMs: 1 },
    };
    let crash = true;
    const run = () =>
      pipeline(
        fromIterable(rows, { batchSize: 20 }),
        map((row: { i: number }) => {
          if (crash && row.i === 300) throw new Error('crash');
          return row;
        }),
        toSpill({ budget: 0, fileSize: 1, dir: out }),
        options,
      );
    await assert.rejects(run(), /crash/);
    const first = path.join(out, 'spill-000001.arrow');
    if (damage === 'remove') rmSync(first);
    else writeFileSync(first, 'cut');
    crash = false;
    await assert.rejects(
      run(),
      (e: { code?: string; message: string }) =>
        e.code === ErrorCodes.SPILL &&
        /spill-000001\.arrow, which the checkpoint counts, (is missing|has 3 bytes)/.test(e.message),
      damage,
    );
  }
});

test('two runs given one spill directory at once: one takes it, the other is refused (both took it, and a kept spill read as corrupt)', async () => {
  const { createSpillDir } = await import('../../lib/formats/spill/sink-dir.ts');
  for (let trial = 0; trial < 5; trial++) {
    const dir = path.join(tempDir(), 'shared');
    // both find it missing or empty, as two processes starting together do
    const results = await Promise.allSettled([createSpillDir(dir, 'toSpill'), createSpillDir(dir, 'toSpill')]);
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(lost.length, 1, `trial ${trial}`);
    assert.equal((lost[0]!.reason as { code?: string }).code, ErrorCodes.SPILL);
    assert.match(String(lost[0]!.reason), /another run took it|not empty/);
  }
});
