/**
 * A full disk (a 1 MB tmpfs, filled) under every file spillway writes (issue 19, item 5): the
 * dead-letter file of fromCsv and of a parallel stage, and the sinks' atomic outputs. Each must
 * end in a coded SpillwayError through the pipeline's promise (never an unhandled rejection that
 * no try/catch can catch) and leave no temporary file. Needs root to mount the tmpfs: skips
 * saying why when it cannot, and fails under CI=true.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { fromCsv } from '../../../sources/fromCsv.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { parallel } from '../../../transforms/parallel.ts';
import { collect } from '../../../sinks/collect.ts';
import { toCsv } from '../../../sinks/toCsv.ts';
import { toParquet } from '../../../sinks/toParquet.ts';
import { toArrow } from '../../../sinks/toArrow.ts';
import { toSpill } from '../../../sinks/toSpill.ts';
import { tempDir } from '../../helpers.ts';

/** Mounts a 1 MB tmpfs at a fresh folder; returns it, or why it cannot. */
function mountTmpfs(): { dir: string } | { skip: string } {
  const dir = join(tempDir('spillway-full-'), 'disk');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    return { skip: `cannot mount a tmpfs to fill (needs root): ${(error as Error).message.split('\n')[0]}` };
  }
}

/** Fills `dir`'s file system but for `spare` bytes. */
function fill(dir: string, spare = 0): void {
  const fd = openSync(join(dir, 'ballast'), 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  if (spare > 0) execFileSync('truncate', ['-s', `-${spare}`, join(dir, 'ballast')]);
}

const mounted = mountTmpfs();
const skip = 'skip' in mounted ? mounted.skip : false;
if (skip && process.env.CI === 'true') throw new Error(`CI=true: the full-disk tests must run: ${skip}`);

/** Fails the test if an unhandled rejection happens while `run` runs. */
async function noUnhandled<T>(run: () => Promise<T>): Promise<T> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const result = await run();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    return result;
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

/** Files left in `dir` other than the ballast. */
const leftovers = (dir: string): string[] => readdirSync(dir).filter((name) => name !== 'ballast');

describe('a full disk', { skip }, () => {
  const disk = 'dir' in mounted ? mounted.dir : '';
  let csv = '';
  before(() => {
    fill(disk);
    // the bad rows (one column too many) go to the dead-letter file on the full disk
    const source = tempDir();
    csv = join(source, 'bad.csv');
    const lines = ['a,b'];
    for (let i = 0; i < 20_000; i++) lines.push(i % 2 === 0 ? `${i},x` : `${i},x,extra-${'y'.repeat(40)}`);
    writeFileSync(csv, `${lines.join('\n')}\n`);
  });
  after(() => {
    if (disk !== '') execFileSync('umount', [disk]);
  });

  for (const parser of ['fast', 'csv-parse'] as const) {
    test(`fromCsv (${parser}) dead letters: a coded IoError through the promise, no unhandled rejection`, async () => {
      await noUnhandled(async () => {
        await assert.rejects(
          pipeline(fromCsv(csv, { parser, onError: { deadLetter: join(disk, `dead-${parser}.jsonl`) } }), collect(), {
            governor: false,
          }),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, 'ERR_SPILLWAY_IO', String(error));
            assert.match(error.message, /dead-letter/);
            return true;
          },
        );
      });
    });
  }

  test('parallel dead letters: a coded IoError through the promise', async () => {
    await noUnhandled(async () => {
      const rows = Array.from({ length: 4000 }, (_, n) => ({ n, throwOn: n, pad: 'z'.repeat(300) }));
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 100 }),
          parallel(new URL('../../fixtures/pool/throws.ts', import.meta.url), {
            workers: 1,
            retries: 0,
            replaceOnError: false,
            onError: { deadLetter: join(disk, 'dead-pool.jsonl') },
          }),
          collect(),
          { governor: false },
        ),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_SPILLWAY_IO', String(error));
          return true;
        },
      );
    });
  });

  const rows = (): { n: number; text: string }[] =>
    Array.from({ length: 20_000 }, (_, n) => ({ n, text: `row ${n} ${'w'.repeat(60)}` }));
  const sinks = {
    toCsv: () => toCsv(join(disk, 'out.csv')),
    toParquet: () => toParquet(join(disk, 'out.parquet'), { compression: 'uncompressed' }),
    toArrow: () => toArrow(join(disk, 'out.arrow')),
    toSpill: () => toSpill({ dir: join(disk, 'spill'), budget: 0 }),
  };
  for (const [name, sink] of Object.entries(sinks)) {
    test(`${name}: a coded error and no temporary file left`, async () => {
      await noUnhandled(async () => {
        await assert.rejects(
          pipeline(fromIterable(rows(), { batchSize: 1000 }), sink(), { governor: false }),
          (error: Error & { code?: string }) => {
            assert.match(String(error.code), /^ERR_SPILLWAY_(IO|SPILL)$/, `${name}: ${String(error)} (${error.code})`);
            return true;
          },
        );
      });
      assert.deepEqual(
        leftovers(disk).filter((f) => !f.startsWith('dead-')),
        [],
      );
    });
  }
});

describe('dead letters and backpressure', () => {
  for (const parser of ['fast', 'csv-parse'] as const) {
    test(`fromCsv (${parser}) with thousands of bad rows: every one written, no listener pile-up warning`, async () => {
      const dir = tempDir();
      const csv = join(dir, 'bad.csv');
      const lines = ['a,b'];
      for (let i = 0; i < 30_000; i++) lines.push(i % 3 === 0 ? `${i},x` : `${i},x,extra-${'y'.repeat(200)}`);
      writeFileSync(csv, `${lines.join('\n')}\n`);
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
      process.on('warning', onWarning);
      try {
        const deadLetter = join(dir, 'dead.jsonl');
        const { output } = await pipeline(fromCsv(csv, { parser, sniff: false, onError: { deadLetter } }), collect(), {
          governor: false,
        });
        assert.equal(output.length, 10_000);
        assert.equal(readFileSync(deadLetter, 'utf8').trim().split('\n').length, 20_000);
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(
          warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
          [],
        );
      } finally {
        process.off('warning', onWarning);
      }
    });
  }
});
