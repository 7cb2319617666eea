/**
 * Regressions of issue 19 for CSV: a 1.8 MB file of 100,000 columns read with `output: 'arrow'`
 * took 2.9 GB and did not finish in 100 s (batches reserved 10,000 rows of every column, and
 * apache-arrow merged the schema quadratically). Now batches are cut by cells, the file reads
 * with the right values, and a record wider than any table ends in a clear CsvParseError. A
 * UTF-16 file with the default parser falls back to csv-parse by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SpillwayError, collect, fromCsv, mapBatch, pipeline } from '../../../../../index.ts';
import {
  MAX_BATCH_CELLS,
  MAX_CSV_FIELDS,
  MAX_RECORD_BYTES,
  maxRecordBytes,
  rowsPerBatch,
  setMaxBatchTextBytes,
  setMaxRecordBytes,
} from '../../../../../lib/formats/csv/fast/limits.ts';
import { nodeScript, tempDir } from '../../../../helpers.ts';

const dir = tempDir();

function wideCsv(path: string, columns: number, rows: number): void {
  const lines = [Array.from({ length: columns }, (_, c) => `c${c}`).join(',')];
  for (let r = 0; r < rows; r++)
    lines.push(Array.from({ length: columns }, (_, c) => String((c * 7 + r) % 10)).join(','));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('a 100,000-column CSV file reads with output arrow and rows, in batches bounded by cells, with the right values', {
  timeout: 300_000,
}, async () => {
  const path = join(dir, 'wide.csv');
  wideCsv(path, 100_000, 8);
  for (const output of ['arrow', 'rows'] as const) {
    const seen: { rows: number; checks: string[] }[] = [];
    await pipeline(
      fromCsv(path, { output }),
      mapBatch((batch: Record<string, unknown>[]) => {
        seen.push({
          rows: batch.length,
          checks: batch.map((row) => `${String(row.c0)}${String(row.c99999)}${String(row.c54321)}`),
        });
        return [];
      }),
      { governor: false },
    );
    const total = seen.reduce((n, b) => n + b.rows, 0);
    assert.equal(total, 8, output);
    for (const b of seen)
      assert.ok(
        b.rows * 100_000 <= Math.max(MAX_BATCH_CELLS, 100_000),
        `${output}: a batch of ${b.rows} rows holds more than ${MAX_BATCH_CELLS} cells`,
      );
    const checks = seen.flatMap((b) => b.checks);
    for (let r = 0; r < 8; r++)
      assert.equal(checks[r], `${r % 10}${(99_999 * 7 + r) % 10}${(54_321 * 7 + r) % 10}`, `${output} row ${r}`);
  }
});

test('rowsPerBatch: batches shrink with the width of the file', () => {
  assert.equal(rowsPerBatch(10_000, 10), 10_000);
  assert.equal(rowsPerBatch(10_000, 100_000), Math.floor(MAX_BATCH_CELLS / 100_000));
  assert.equal(rowsPerBatch(10_000, MAX_CSV_FIELDS), Math.max(1, Math.floor(MAX_BATCH_CELLS / MAX_CSV_FIELDS)));
});

test('a record wider than MAX_CSV_FIELDS ends in a CsvParseError naming the file and line, whatever onError says', async () => {
  const path = join(dir, 'too-wide.csv');
  writeFileSync(path, `a,b\n1,2\n${','.repeat(MAX_CSV_FIELDS + 10)}\n3,4\n`);
  for (const onError of ['fail', 'skip'] as const) {
    await assert.rejects(
      pipeline(fromCsv(path, { onError, output: 'arrow' }), collect(), { governor: false }),
      (error: unknown) =>
        error instanceof SpillwayError &&
        error.code === ErrorCodes.CSV_PARSE &&
        error.context.file === path &&
        error.context.line === 3,
    );
  }
});

test("a UTF-16 file (FF FE or FE FF byte order mark) reads on the fast path with parser 'auto', as with parser 'csv-parse'", async () => {
  const text = 'a,b\n1,x\u00e9\n2,y\n';
  const le = join(dir, 'utf16le.csv');
  writeFileSync(le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  const expected = (await pipeline(fromCsv(le, { parser: 'csv-parse' }), collect(), { governor: false })).output;
  assert.deepEqual(expected, [
    { a: '1', b: 'x\u00e9' },
    { a: '2', b: 'y' },
  ]);
  const auto = await pipeline(fromCsv(le), collect(), { governor: false });
  assert.deepEqual(auto.output, expected);
  assert.equal(auto.stats.stages[0]!.details.parser, 'fast', 'transcoded to UTF-8');
  // a big-endian file: csv-parse refuses it, but through csv-parse's own error, not the fast path's advice
  const be = join(dir, 'utf16be.csv');
  const swapped = Buffer.from(text, 'utf16le');
  swapped.swap16();
  writeFileSync(be, Buffer.concat([Buffer.from([0xfe, 0xff]), swapped]));
  const viaAuto = await pipeline(fromCsv(be), collect(), { governor: false }).then(
    (r) => r.output,
    (e: unknown) => e,
  );
  const viaParse = await pipeline(fromCsv(be, { parser: 'csv-parse' }), collect(), { governor: false }).then(
    (r) => r.output,
    (e: unknown) => e,
  );
  if (viaParse instanceof Error) assert.equal((viaAuto as SpillwayError).code, (viaParse as SpillwayError).code);
  else assert.deepEqual(viaAuto, viaParse);
});

test("the csv-parse reader has the same bounds: too many fields per record (array rows or header), with the fast path's code and line", async () => {
  const wide = join(dir, 'too-wide-arrays.csv');
  // the first record: later ones are refused by csv-parse's record length check before any bound
  writeFileSync(wide, `${','.repeat(MAX_CSV_FIELDS + 10)}\n5,6\n`);
  const header = join(dir, 'too-wide-header.csv');
  writeFileSync(header, `${'x,'.repeat(MAX_CSV_FIELDS + 10)}y\n1\n`);
  for (const onError of ['fail', 'skip'] as const) {
    await assert.rejects(
      pipeline(fromCsv(wide, { onError, parser: 'csv-parse', columns: false }), collect(), { governor: false }),
      (error: unknown) =>
        error instanceof SpillwayError &&
        error.code === ErrorCodes.CSV_PARSE &&
        /CSV_MAX_FIELDS/.test(error.message) &&
        error.context.line === 1,
    );
    await assert.rejects(
      pipeline(fromCsv(header, { onError, parser: 'csv-parse', columns: true }), collect(), { governor: false }),
      (error: unknown) =>
        error instanceof SpillwayError && error.code === ErrorCodes.CSV_PARSE && /CSV_MAX_FIELDS/.test(error.message),
    );
  }
});

test('a record longer than the record bound ends in CSV_MAX_RECORD_SIZE naming file and line, both parsers, without a copy per chunk', async () => {
  // the bound lowered to 4 MiB: the same checks as at 128 MiB, on a file of 10 MB instead of 140
  const bound = 4 * 1024 * 1024;
  const path = join(dir, 'long-record.csv');
  writeFileSync(path, `a,b\n1,x\n2,"${'y'.repeat(10 * 1024 * 1024)}"\n3,z\n`);
  // what the readers concatenate: the fast scanner keeps an unfinished record's chunks and joins
  // them once they have doubled (12.6 MB here); joined again with every chunk read, 40 MB
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
    const joined = concat(list, length);
    copied += joined.length;
    return joined;
  }) as typeof Buffer.concat;
  const restore = setMaxRecordBytes(bound);
  try {
    for (const parser of ['fast', 'csv-parse'] as const) {
      copied = 0;
      await assert.rejects(
        pipeline(fromCsv(path, { parser }), collect(), { governor: false }),
        (error: unknown) =>
          error instanceof SpillwayError &&
          error.code === ErrorCodes.CSV_PARSE &&
          /CSV_MAX_RECORD_SIZE/.test(error.message) &&
          error.context.file === path &&
          error.context.line === 3,
        parser,
      );
      assert.ok(copied < 4 * bound, `${parser}: ${copied} bytes concatenated for a ${bound}-byte bound`);
    }
  } finally {
    restore();
    Buffer.concat = concat;
  }
  assert.equal(maxRecordBytes(), MAX_RECORD_BYTES);
});

/** Runs the wide-file reader in a child process; its peak resident memory over its start, in MB. */
function widePeak(output: 'rows' | 'arrow'): Promise<{ grew: number; fileBytes: number; rows: unknown }> {
  const child = fileURLToPath(new URL('../../../../fixtures/csv/wide-peak.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeScript(child), dir, output], { encoding: 'utf8' }, (error, stdout) => {
      if (error) return reject(error);
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as {
        before: number;
        after: number;
        fileBytes: number;
        rows: unknown;
      };
      resolve({ grew: r.after - r.before, fileBytes: r.fileBytes, rows: r.rows });
    });
  });
}

test('a 1 MB file of 100,000 columns reads within a bounded peak (child process, VmHWM), rows and Arrow', {
  timeout: 300_000,
}, async () => {
  // measured on this code: rows ~57 MB, Arrow ~65 MB over the start (Arrow was ~165 MB with per-column
  // builders and arrays preallocated for the batch's rows, ~245 MB before that); the bounds leave room
  // for the machine and still catch a return of per-column arrays sized by the batch
  for (const [output, bound] of [
    ['rows', 110],
    ['arrow', 120],
  ] as const) {
    const { grew, fileBytes, rows } = await widePeak(output);
    assert.equal(rows, 2);
    assert.ok(fileBytes > 1_000_000);
    assert.ok(grew <= bound, `${output}: peak grew ${grew} MB reading a ${fileBytes}-byte file (bound ${bound} MB)`);
  }
});

test('an Arrow batch is sealed once it holds the text bound: no batch reaches 2 GiB of text, every value read back', async () => {
  // 18 rows of 125 MB cells made one batch whose int32 offsets wrapped: toCsv wrote NULs and
  // toArrow a 642-byte file, each saying it succeeded. Here the bound is 64 kB, the cells 20 kB.
  const path = join(dir, 'big-cells.csv');
  const cell = (r: number): string => `${String(r).padStart(6, '0')}${'x'.repeat(20_000)}`;
  writeFileSync(path, `id,text\n${Array.from({ length: 40 }, (_, r) => `${r},${cell(r)}`).join('\n')}\n`);
  const restore = setMaxBatchTextBytes(64_000);
  try {
    const sizes: number[] = [];
    const { output } = await pipeline(
      fromCsv(path, { cast: true, output: 'arrow' }),
      mapBatch((rows: unknown[]) => {
        sizes.push(rows.length);
        return rows;
      }),
      collect<{ id: number; text: string }>(),
    );
    assert.deepEqual(
      output.map((r) => [r.id, r.text]),
      Array.from({ length: 40 }, (_, r) => [r, cell(r)]),
    );
    // sealed once its input bytes, tripled, reach 64 kB: two rows of about 20 kB
    assert.ok(Math.max(...sizes) <= 4, `batch sizes ${sizes.join(',')}`);
    assert.ok(sizes.length >= 10);
  } finally {
    restore();
  }
});
