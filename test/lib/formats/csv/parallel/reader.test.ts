/**
 * fromCsv on parser threads against fromCsv on one thread: the same rows in the same order, the
 * same batch positions, the same errors and dead letters with the same lines, on files whose
 * quoted fields hold newlines (some of them shaped like records, so a cut lands inside a quoted
 * field and the reader must notice). The thresholds are lowered so small files use the threads.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pipeline, fromCsv, collect, toParquet, MemoryGovernor } from '../../../../../index.ts';
import { BatchSink } from '../../../../../lib/core/sink.ts';
import type { BatchPosition, Row } from '../../../../../lib/core/batch.ts';
import { PARALLEL_CSV } from '../../../../../lib/formats/csv/parallel/settings.ts';
import { tempDir } from '../../../../helpers.ts';

const saved = { ...PARALLEL_CSV };
// the threads parse every range (on files this small the main thread would parse them all first)
Object.assign(PARALLEL_CSV, { minBytes: 0, chunkBytes: 32 * 1024, threads: 2, mainThreadParses: false });
after(() => Object.assign(PARALLEL_CSV, saved));

const dir = tempDir();

/** Rows with quoted commas, quotes and newlines; every 97th note hides lines shaped like records. */
function line(i: number): string {
  const note =
    i % 97 === 0
      ? `"fake\n${i},1,2,x\n${i},3,4,y\n${i},5,6,z\n${i},7,8,w\n${i},9,9,v\nend"`
      : i % 5 === 0
        ? `"a, ""b""\nc"`
        : i % 11 === 0
          ? ''
          : `n${i}`;
  return `${i},${(i % 100) / 4},${i % 13 === 0 ? '' : i * 3},${note}`;
}
function writeCsv(name: string, rows: number, edit?: (lines: string[]) => void): string {
  const lines = Array.from({ length: rows }, (_, i) => line(i));
  edit?.(lines);
  const path = join(dir, name);
  writeFileSync(path, `id,price,qty,note\n${lines.join('\n')}\n`);
  return path;
}

/** A sink keeping every batch's rows and position. */
function keep(): BatchSink<{ rows: Row[]; positions: BatchPosition[] }> {
  const out = { rows: [] as Row[], positions: [] as BatchPosition[] };
  return new BatchSink({
    name: 'keep',
    capabilities: { accepts: ['rows', 'arrow'] },
    write(batch) {
      out.rows.push(...batch.rows);
      out.positions.push(batch.position);
    },
    finish: () => out,
  });
}

async function both<T>(read: () => Promise<T>): Promise<{ threads: T; one: T }> {
  const threads = await read();
  PARALLEL_CSV.threads = 0;
  try {
    return { threads, one: await read() };
  } finally {
    PARALLEL_CSV.threads = 2;
  }
}

test('threads give the rows, order and batch positions of one thread', async () => {
  const csv = writeCsv('plain.csv', 8000);
  let details: Record<string, unknown> = {};
  const { threads, one } = await both(async () => {
    const { output, stats } = await pipeline(fromCsv(csv, { cast: true, batchSize: 700 }), keep());
    details = PARALLEL_CSV.threads > 0 ? stats.stages[0]!.details : details;
    return output;
  });
  assert.equal(details.parserThreads, 2);
  assert.ok(Number(details.ranges) > 4, `ranges: ${String(details.ranges)}`);
  assert.equal(threads.rows.length, 8000);
  assert.deepEqual(threads.rows, one.rows);
  // batches end where ranges end, so the cuts differ; each position must still be the file's:
  // the rows before it, its first line, and its last line = the line feeds before its end byte
  const bytes = readFileSync(csv);
  let rows = 0;
  let endLine = 0;
  for (const [i, p] of threads.positions.entries()) {
    assert.equal(p.index, i);
    assert.equal(p.rowStart, rows);
    assert.equal(p.line, endLine + 1);
    let feeds = 0;
    for (let b = 0; b < p.endByte!; b++) if (bytes[b] === 10) feeds++;
    assert.equal(p.endLine, feeds, `batch ${i}`);
    endLine = p.endLine!;
    rows = threads.positions[i + 1]?.rowStart ?? rows;
  }
  assert.equal(threads.positions.at(-1)!.endByte, one.positions.at(-1)!.endByte);
  assert.equal(threads.positions.at(-1)!.endLine, one.positions.at(-1)!.endLine);
});

test('the main thread parses ranges too while the threads load: the same rows and positions, cut files included', async () => {
  PARALLEL_CSV.mainThreadParses = true;
  try {
    for (const [name, edit] of [
      ['shared.csv', undefined],
      // record-shaped lines across a cut: whoever parsed the range, the fallback reads on exactly
      [
        'shared-cut.csv',
        (lines: string[]) => {
          lines[3] = `3,1,2,"${Array.from({ length: 3000 }, (_, i) => `${i},1,2,x`).join('\n')}"`;
        },
      ],
    ] as const) {
      const csv = writeCsv(name, 8000, edit);
      let details: Record<string, unknown> = {};
      const { threads, one } = await both(async () => {
        const { output, stats } = await pipeline(fromCsv(csv, { cast: true, batchSize: 700 }), keep());
        details = PARALLEL_CSV.threads > 0 ? stats.stages[0]!.details : details;
        return output;
      });
      // the first range is always the main thread's: no thread has loaded when the read starts
      assert.ok(Number(details.rangesParsedOnMainThread) >= 1, `${name}: ${JSON.stringify(details)}`);
      assert.deepEqual(threads.rows, one.rows, name);
      assert.equal(threads.positions.at(-1)!.endLine, one.positions.at(-1)!.endLine, name);
    }
  } finally {
    PARALLEL_CSV.mainThreadParses = false;
  }
});

test('a cut inside a quoted field shaped like records is noticed: the rest is read on the main thread, rows exact', async () => {
  // one long note early on: record-shaped lines across the first cut
  const csv = writeCsv('trap.csv', 4000, (lines) => {
    const fake = Array.from({ length: 8000 }, (_, k) => `${k},1,2,x`).join('\n');
    lines[10] = `10,1,2,"${fake}"`;
  });
  let details: Record<string, unknown> = {};
  const { threads, one } = await both(async () => {
    const { output, stats } = await pipeline(fromCsv(csv, { cast: true, output: 'arrow' }), collect());
    if (PARALLEL_CSV.threads > 0) details = stats.stages[0]!.details;
    return output;
  });
  assert.match(String(details.parallelFallback), /^range \d+ of \d+$/);
  assert.equal(threads.length, 4000);
  assert.deepEqual(threads, one);
});

test('fail mode: an error in a late range names the line the one-thread reader names', async () => {
  const csv = writeCsv('bad.csv', 8000, (lines) => {
    lines[6500] = '6500,1,2,3,too-many';
  });
  const { threads, one } = await both(async () => {
    const error = await pipeline(fromCsv(csv, { cast: true }), toParquet(join(dir, 'bad.parquet'))).then(
      () => assert.fail('expected a parse error'),
      (e: unknown) => e as Error & { code: string; context: { line?: number } },
    );
    // the batch an error names depends on where batches were cut, which threads change
    return { code: error.code, line: error.context.line, message: error.message.replace(/, batch \d+\)$/, ')') };
  });
  assert.equal(threads.code, 'ERR_SPILLWAY_CSV_PARSE');
  assert.deepEqual(threads, one);
  assert.ok(threads.line! > 6500);
});

test('skip mode: the same dead letters, with the same lines, and the same rows kept', async () => {
  const csv = writeCsv('skip.csv', 8000, (lines) => {
    for (const i of [5, 3001, 5002, 7999]) lines[i] = `${i},1,2,3,extra`;
  });
  const { threads, one } = await both(async () => {
    const deadLetter = join(dir, `dead-${PARALLEL_CSV.threads}.jsonl`);
    const { output } = await pipeline(
      fromCsv(csv, { cast: true, output: 'arrow', onError: { deadLetter } }),
      collect(),
    );
    const letters = readFileSync(deadLetter, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; raw: string; reason: string });
    return { rows: output.length, letters: letters.map((l) => [l.line, l.raw, l.reason]) };
  });
  assert.equal(threads.letters.length, 4);
  assert.equal(threads.rows, 7996);
  assert.deepEqual(threads, one);
});

test('one thread, with the reason in stats, for gzip, checkpoints, rows output and small files', async () => {
  const csv = writeCsv('small.csv', 3000);
  const gz = join(dir, 'small.csv.gz');
  writeFileSync(gz, gzipSync(readFileSync(csv)));
  const reason = async (source: ReturnType<typeof fromCsv>, options = {}): Promise<unknown> =>
    (await pipeline(source, toParquet(join(dir, 'r.parquet')), options)).stats.stages[0]!.details.singleThreadReason;
  assert.equal(await reason(fromCsv(gz, { cast: true })), 'gzip input');
  assert.equal(await reason(fromCsv(csv, { cast: true }), { checkpoint: join(dir, 'ckpt') }), 'checkpointing');
  assert.equal(await reason(fromCsv(csv, { cast: true, output: 'rows' })), 'rows output');
  PARALLEL_CSV.minBytes = 1 << 30;
  try {
    assert.equal(await reason(fromCsv(csv, { cast: true })), 'small file');
  } finally {
    PARALLEL_CSV.minBytes = 0;
  }
});

test('a governed read starts its threads only with room for them below the pause mark', async () => {
  const csv = writeCsv('governed.csv', 3000);
  const details = async (): Promise<Record<string, unknown>> => {
    const governor = new MemoryGovernor({ limit: '8GB' });
    try {
      return (await pipeline(fromCsv(csv, { cast: true }), toParquet(join(dir, 'g.parquet')), { governor })).stats
        .stages[0]!.details;
    } finally {
      governor.close();
    }
  };
  const room = PARALLEL_CSV.threadRoom;
  try {
    PARALLEL_CSV.threadRoom = 1e15; // more than any machine has: the run reads on one thread
    const tight = await details();
    assert.equal(tight.parserThreads, 1);
    assert.match(
      String(tight.singleThreadReason),
      /^\d+ MB below the governor's pause mark, under the \d+ MB parser threads need$/,
    );
    PARALLEL_CSV.threadRoom = 0;
    const roomy = await details();
    assert.equal(roomy.singleThreadReason, undefined);
    assert.notEqual(roomy.parserThreads, 1);
  } finally {
    PARALLEL_CSV.threadRoom = room;
  }
});

test('an abort while the threads parse rejects with an AbortError and leaves no thread behind', async () => {
  const csv = writeCsv('abort.csv', 8000);
  const controller = new AbortController();
  let batches = 0;
  const sink = new BatchSink({
    name: 'abort-after-one',
    capabilities: { accepts: ['rows', 'arrow'] },
    write() {
      if (++batches === 2) controller.abort(new Error('enough'));
    },
    finish: () => batches,
  });
  await assert.rejects(pipeline(fromCsv(csv, { cast: true }), sink, { signal: controller.signal }), {
    name: 'AbortError',
  });
  // a thread left running would keep this test's process alive past its end: the runner would time out
  assert.equal(batches, 2);
});

test('a file mixing \\r\\n and \\n lines (concatenated from two systems) reads whole on threads, with no fallback', async () => {
  const lines = Array.from({ length: 8000 }, (_, i) => line(i));
  // the first half written on Windows, the second on Unix: ranges of each kind agree
  const text = lines.map((l, i) => l + (i < 4000 ? '\r\n' : '\n')).join('');
  const csv = join(dir, 'mixed-ends.csv');
  writeFileSync(csv, `id,price,qty,note\r\n${text}`);
  const { threads, one } = await both(async () => {
    const { output, stats } = await pipeline(fromCsv(csv, { cast: true, output: 'arrow' }), collect());
    return { rows: output as Record<string, unknown>[], fallback: stats.stages[0]?.details.parallelFallback };
  });
  assert.equal(threads.fallback, undefined);
  assert.equal(threads.rows.length, 8000);
  assert.deepEqual(
    threads.rows.map((r) => r.id),
    Array.from({ length: 8000 }, (_, i) => i),
  );
  assert.ok(threads.rows.every((r) => typeof r.note !== 'string' || !r.note.endsWith('\r')));
  assert.deepEqual(threads.rows, one.rows);
});
