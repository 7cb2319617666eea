import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { Watermark, CHECKPOINT_FILE } from '../../../lib/observe/checkpoint.ts';
import { CheckpointError } from '../../../lib/core/errors.ts';
import { fromCsv } from '../../../sources/fromCsv.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { fromParquet } from '../../../sources/fromParquet.ts';
import { map } from '../../../transforms/map.ts';
import { filter } from '../../../transforms/filter.ts';
import { batch } from '../../../transforms/batch.ts';
import { limit } from '../../../transforms/limit.ts';
import { sort } from '../../../transforms/sort.ts';
import { groupBy } from '../../../transforms/groupBy.ts';
import { distinct } from '../../../transforms/distinct.ts';
import { agg } from '../../../lib/operators/aggregates.ts';
import { STAGE } from '../../../lib/core/stage.ts';
import { toCsv } from '../../../sinks/toCsv.ts';
import { toParquet } from '../../../sinks/toParquet.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir('spillway-ckpt-');
let n = 0;
const fresh = (name: string): string => join(dir, `${n++}-${name}`);

function csvText(rows: number): string {
  let text = 'id,name,value\n';
  for (let i = 0; i < rows; i++) text += `${i},"n ${i}${i % 11 === 0 ? ',\nx' : ''}",${i * 3}\n`;
  return text;
}

/** A map that throws at row `at` while `armed.on`: the run fails after some checkpoints, as a crash would. */
function crashAt(at: number, armed: { on: boolean }): ReturnType<typeof map> {
  return map((row: { id: number | string }) => {
    if (armed.on && Number(row.id) === at) throw new Error('crash');
    return row;
  });
}

test('Watermark: the resume point is the last closed source batch whose rows are committed', () => {
  const w = new Watermark();
  const p = (index: number) => ({ source: 's', index, rowStart: index * 10 });
  const [a, b, c] = [p(0), p(1), p(2)];
  w.note(a, 10);
  assert.equal(w.resolve(10), undefined, 'batch 0 is not closed until a later batch arrives');
  w.note(b, 4);
  w.note(b, 6); // a stage that emits two batches for one input batch
  assert.deepEqual(w.resolve(12), { position: a, through: 10 });
  w.note(c, 10);
  assert.deepEqual(w.resolve(20), { position: b, through: 20 });
  assert.deepEqual(w.resolve(25), { position: b, through: 20 }, 'batch 2 is not closed yet');
  assert.throws(
    () => w.note(a, 1),
    (e: unknown) => e instanceof CheckpointError && e.code === 'ERR_SPILLWAY_CHECKPOINT',
  );
});

test('a failed run keeps its checkpoint; the rerun resumes and its output equals an uninterrupted run; the checkpoint is removed', async () => {
  const input = fresh('in.csv');
  writeFileSync(input, csvText(5000));
  const reference = fresh('ref.csv');
  await pipeline(
    fromCsv(input, { batchSize: 300 }),
    filter((r: { id: string }) => Number(r.id) % 5 !== 0),
    toCsv(reference),
    { governor: false },
  );
  const out = fresh('out.csv');
  const ckpt = fresh('ckpt');
  const armed = { on: true };
  const run = () =>
    pipeline(
      fromCsv(input, { batchSize: 300 }),
      filter((r: { id: string }) => Number(r.id) % 5 !== 0),
      crashAt(3456, armed),
      toCsv(out),
      {
        governor: false,
        checkpoint: { dir: ckpt, everyBatches: 2 },
      },
    );
  await assert.rejects(run(), /crash/);
  assert.ok(existsSync(join(ckpt, CHECKPOINT_FILE)), 'the checkpoint stays after a failure');
  assert.equal(existsSync(out), false, 'nothing under the final name');
  const record = JSON.parse(readFileSync(join(ckpt, CHECKPOINT_FILE), 'utf8')) as {
    committed: number;
    source: { byte: number };
  };
  assert.ok(record.committed > 0 && record.source.byte > 0);
  armed.on = false;
  const { output } = await run();
  assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'));
  assert.equal(output.rows, 4000);
  assert.equal(existsSync(ckpt), false, 'a finished run removes its checkpoint');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('out.csv') && f.endsWith('.tmp')),
    [],
  );
});

test('gzip input resumes by decompressing again and skipping to the offset; Parquet output continues', async () => {
  const input = fresh('in.csv.gz');
  writeFileSync(input, gzipSync(csvText(6000)));
  const reference = fresh('ref.parquet');
  await pipeline(fromCsv(input, { batchSize: 500, cast: true }), toParquet(reference, { rowGroupSize: 1000 }), {
    governor: false,
  });
  const out = fresh('out.parquet');
  const ckpt = fresh('ckpt');
  const armed = { on: true };
  const run = () =>
    pipeline(
      fromCsv(input, { batchSize: 500, cast: true }),
      crashAt(4321, armed),
      toParquet(out, { rowGroupSize: 1000 }),
      { governor: false, checkpoint: { dir: ckpt, everyBatches: 1 } },
    );
  await assert.rejects(run(), /crash/);
  armed.on = false;
  await run();
  assert.ok(readFileSync(out).equals(readFileSync(reference)));
});

test('Parquet input resumes at its row group; iterable input by count', async () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, v: `v${i}` }));
  const input = fresh('in.parquet');
  await pipeline(fromIterable(rows), toParquet(input, { rowGroupSize: 700 }), { governor: false });
  const reference = fresh('ref.csv');
  await pipeline(fromParquet(input, { batchSize: 350 }), toCsv(reference), { governor: false });
  for (const source of ['parquet', 'iterable'] as const) {
    const out = fresh(`out-${source}.csv`);
    const ckpt = fresh('ckpt');
    const armed = { on: true };
    const make = () =>
      source === 'parquet' ? fromParquet(input, { batchSize: 350 }) : fromIterable(rows, { batchSize: 350 });
    const run = () =>
      pipeline(make(), crashAt(3000, armed), toCsv(out), {
        governor: false,
        checkpoint: { dir: ckpt, everyBatches: 1 },
      });
    await assert.rejects(run(), /crash/);
    const record = JSON.parse(readFileSync(join(ckpt, CHECKPOINT_FILE), 'utf8')) as { source: { rows: number } };
    assert.ok(record.source.rows > 0 && record.source.rows < 3000);
    armed.on = false;
    await run();
    assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'), source);
  }
});

test("one run at a time per checkpoint: a second is refused while the first runs (both appended the same rows); a killed run's lock is taken over", async () => {
  const input = fresh('in.csv');
  writeFileSync(input, csvText(3000));
  const ckpt = fresh('ckpt');
  const gate = { open: undefined as (() => void) | undefined };
  const held = new Promise<void>((resolve) => (gate.open = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const first = pipeline(
    fromCsv(input, { batchSize: 300 }),
    map(async (row: { id: string }) => {
      if (row.id === '0') {
        started();
        await held;
      }
      return row;
    }),
    toCsv(fresh('first.csv')),
    { governor: false, checkpoint: { dir: ckpt, everyBatches: 1 } },
  );
  await running;
  const second = fresh('second.csv');
  await assert.rejects(
    pipeline(
      fromCsv(input, { batchSize: 300 }),
      map((r: unknown) => r),
      toCsv(second),
      {
        governor: false,
        checkpoint: { dir: ckpt, everyBatches: 1 },
      },
    ),
    (e: CheckpointError) =>
      e instanceof CheckpointError && new RegExp(`in use by the run of process ${process.pid}`).test(e.message),
  );
  assert.equal(existsSync(second), false);
  gate.open!();
  assert.equal((await first).output.rows, 3000);
  assert.equal(existsSync(ckpt), false, 'the lock goes with the checkpoint');
  // a lock whose process is gone (a run killed with SIGKILL) does not stand in the way
  const killed = fresh('ckpt-killed');
  mkdirSync(killed);
  writeFileSync(join(killed, 'lock'), '2147483646 -\n');
  const { output } = await pipeline(fromCsv(input), toCsv(fresh('third.csv')), {
    governor: false,
    checkpoint: { dir: killed },
  });
  assert.equal(output.rows, 3000);
  assert.equal(existsSync(killed), false);
});

test('a checkpoint of another pipeline, or of a changed input file, is refused', async () => {
  const input = fresh('in.csv');
  writeFileSync(input, csvText(3000));
  const out = fresh('out.csv');
  const ckpt = fresh('ckpt');
  const armed = { on: true };
  const options = { governor: false as const, checkpoint: { dir: ckpt, everyBatches: 1 } };
  await assert.rejects(
    pipeline(fromCsv(input, { batchSize: 200 }), crashAt(2000, armed), toCsv(out), options),
    /crash/,
  );
  const isCheckpointError = (e: unknown) => e instanceof CheckpointError && e.code === 'ERR_SPILLWAY_CHECKPOINT';
  // another stage
  await assert.rejects(
    pipeline(
      fromCsv(input, { batchSize: 200 }),
      crashAt(2000, armed),
      filter(() => true),
      toCsv(out),
      options,
    ),
    isCheckpointError,
  );
  // other options, named
  await assert.rejects(
    pipeline(fromCsv(input, { batchSize: 200, delimiter: ';' }), crashAt(2000, armed), toCsv(out), options),
    (e: unknown) => isCheckpointError(e) && /\(the source's options changed\)/.test((e as Error).message),
  );
  // the same stages with other code: its output would mix the two versions (until 2026-12-08 it resumed)
  await assert.rejects(
    pipeline(
      fromCsv(input, { batchSize: 200 }),
      map((row: { id: string }) => ({ ...row, id: `${row.id}!` })),
      toCsv(out),
      options,
    ),
    (e: unknown) => isCheckpointError(e) && /\(code of stage 2 \(map\) changed\)/.test((e as Error).message),
  );
  await assert.rejects(
    pipeline(fromCsv(input, { batchSize: 200 }), crashAt(2000, armed), toCsv(fresh('other.csv')), options),
    isCheckpointError,
  );
  // a changed input
  appendFileSync(input, '3000,"late",9000\n');
  await assert.rejects(
    pipeline(fromCsv(input, { batchSize: 200 }), crashAt(2000, armed), toCsv(out), options),
    (e: unknown) => isCheckpointError(e) && /changed/.test((e as Error).message),
  );
  assert.ok(existsSync(join(ckpt, CHECKPOINT_FILE)), 'a refused checkpoint is left alone');
});

test('stages that cannot be checkpointed are refused with a clear error', async () => {
  const input = fresh('in.csv');
  writeFileSync(input, csvText(2000));
  const isCheckpointError = (e: unknown) => e instanceof CheckpointError && e.code === 'ERR_SPILLWAY_CHECKPOINT';
  const checkpoint = () => ({ governor: false as const, checkpoint: fresh('ckpt') });
  await assert.rejects(
    pipeline(fromCsv(input), batch({ rows: 100 }), toCsv(fresh('a.csv')), checkpoint()),
    (e: unknown) => isCheckpointError(e) && /re-batches/.test((e as Error).message),
  );
  // stages holding state a checkpoint does not keep: refused before any row, naming the stage (a
  // limit resumed from 0 let too many rows through; an operator failed at the sink, after reading all)
  for (const stage of [limit(100), sort(['id']), groupBy(['id'], { n: agg.count() }), distinct()]) {
    const name = stage[STAGE].stats.name;
    await assert.rejects(
      pipeline(fromCsv(input), stage, toCsv(fresh('a.csv')), checkpoint()),
      (e: unknown) =>
        isCheckpointError(e) && new RegExp(`stage \`${name}\` cannot be resumed`).test((e as Error).message),
      name,
    );
    assert.equal(stage[STAGE].stats.rowsIn, 0, `${name} refused before any row`);
  }
  await assert.rejects(
    pipeline(fromCsv(input), toCsv(fresh('a.csv.gz')), checkpoint()),
    (e: unknown) => isCheckpointError(e) && /gzip/.test((e as Error).message),
  );
  await assert.rejects(
    pipeline(fromCsv(Readable.from([Buffer.from('a\n1\n')])), toCsv(fresh('b.csv')), checkpoint()),
    isCheckpointError,
  );
  assert.deepEqual(
    readdirSync(dir).filter((f) => /-(a|b)\.csv/.test(f)),
    [],
    'no output left behind',
  );
});
