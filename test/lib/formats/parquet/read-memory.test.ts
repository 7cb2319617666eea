/**
 * The reader's memory must not grow with the file nor with the row group: read N and 5N rows of
 * the same shape (many row groups, and one single row group) in a child process with
 * --expose-gc, sample the heap plus ArrayBuffers after a gc at every batch, compare the peaks.
 * A whole-file or whole-row-group read holds about 5x more for the bigger file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteFile } from 'hyparquet-writer';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { ROOT, nodeScript, tempDir } from '../../../helpers.ts';

interface Sample {
  rows: number;
  peakBytes: number;
  baseBytes: number;
}

/** Child mode: read the file, print the peak of heapUsed + arrayBuffers after gc. */
async function measure(file: string, mode: string): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const used = (): number => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const reader = await openParquet(file, { batchSize: 5000 });
  const baseBytes = used();
  let peakBytes = baseBytes;
  let rows = 0;
  try {
    const it = mode === 'arrow' ? reader.recordBatches() : reader.batches();
    for await (const part of it as AsyncIterable<{ rows?: unknown[]; batch?: { numRows: number } }>) {
      rows += part.rows?.length ?? part.batch!.numRows;
      peakBytes = Math.max(peakBytes, used());
    }
  } finally {
    await reader.close();
  }
  return { rows, peakBytes, baseBytes };
}

if (process.env.SPILLWAY_READ_MEMORY_CHILD) {
  const [file, mode] = process.env.SPILLWAY_READ_MEMORY_CHILD.split('|');
  process.stdout.write(JSON.stringify(await measure(file!, mode!)));
} else {
  const dir = tempDir('spillway-read-memory-');

  /** `n` rows (ids, prices, a few symbols, nullable notes) in row groups of `group` rows. */
  const write = (name: string, n: number, group: number): string => {
    const file = join(dir, name);
    const id = new BigInt64Array(n);
    const price = new Float64Array(n);
    const symbol = new Array<string>(n);
    const note = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      id[i] = BigInt(i);
      price[i] = i / 7;
      symbol[i] = `S${i % 50}`;
      note[i] = i % 4 === 0 ? null : `note number ${i}`;
    }
    parquetWriteFile({
      filename: file,
      rowGroupSize: group,
      pageSize: 64 * 1024,
      schema: [
        { name: 'root', num_children: 4 },
        { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'price', type: 'DOUBLE', repetition_type: 'REQUIRED' },
        { name: 'symbol', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
      columnData: [
        { name: 'id', data: id },
        { name: 'price', data: price },
        { name: 'symbol', data: symbol },
        { name: 'note', data: note },
      ],
    });
    return file;
  };

  const child = (file: string, mode: string): Sample => {
    const env: NodeJS.ProcessEnv = { ...process.env, SPILLWAY_READ_MEMORY_CHILD: `${file}|${mode}` };
    delete env.NODE_TEST_CONTEXT; // the child is a plain script, not a test file
    const out = execFileSync(process.execPath, ['--expose-gc', ...nodeScript(fileURLToPath(import.meta.url))], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    return JSON.parse(out) as Sample;
  };

  const SMALL = 100_000;
  const BIG = 500_000;
  const cases: [string, number][] = [
    ['many row groups', 20_000],
    ['one row group', 0],
  ];
  for (const [label, group] of cases) {
    for (const mode of ['rows', 'arrow']) {
      test(`reading ${label} holds the same memory for ${SMALL} and ${BIG} rows (${mode})`, () => {
        const small = write(`small-${group}.parquet`, SMALL, group || SMALL);
        const big = write(`big-${group}.parquet`, BIG, group || BIG);
        const a = child(small, mode);
        const b = child(big, mode);
        assert.equal(a.rows, SMALL);
        assert.equal(b.rows, BIG);
        const growA = a.peakBytes - a.baseBytes;
        const growB = b.peakBytes - b.baseBytes;
        // the big file's decoded columns alone are about 5x the small one's (tens of MB): a reader
        // that holds a row group or the file shows it; a bounded one stays within a few MB
        assert.ok(
          growB < growA * 1.5 + 4e6,
          `peak above start: ${(growA / 1e6).toFixed(1)} MB for ${SMALL} rows, ${(growB / 1e6).toFixed(1)} MB for ${BIG} rows`,
        );
      });
    }
  }
}
