/**
 * A full disk (a 1 MB tmpfs, filled) under every file spillway writes (issue 19, item 5): the
 * dead-letter file of fromCsv and of a parallel stage, and the sinks' atomic outputs. Each must
 * end in a coded SpillwayError through the pipeline's promise (never an unhandled rejection that
 * no try/catch can catch) and leave no temporary file. A nearly full disk too (a few KB to a few
 * hundred KB left, where the first writes succeed and a later one fails: errors used to be plain
 * Errors there), checked also for descriptors left open. Needs root to mount the tmpfs: skips
 * saying why when it cannot, and fails under CI=true.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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
import { openFds, runnableUrl, settledFds, tempDir } from '../../helpers.ts';

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

/**
 * Fills `dir`'s file system but for `spare` bytes, rounded up to its block size (tmpfs counts
 * whole pages: 1 KB spare leaves one 4 KB page, where a 1 KB write fits and a larger one fails).
 * Returns the bytes left free.
 */
function fill(dir: string, spare = 0): number {
  const fd = openSync(join(dir, 'ballast'), 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  const { bsize } = statfsSync(dir);
  if (spare > 0) execFileSync('truncate', ['-s', `-${Math.ceil(spare / bsize) * bsize}`, join(dir, 'ballast')]);
  const { bavail } = statfsSync(dir);
  return bavail * bsize;
}

const mounted = mountTmpfs();
const skip = 'skip' in mounted ? mounted.skip : false;
if (skip && process.env.CI === 'true') throw new Error(`CI=true: the full-disk tests must run: ${skip}`);
const disk = 'dir' in mounted ? mounted.dir : '';
after(() => {
  if (disk !== '') execFileSync('umount', [disk]);
});

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

/** A CSV whose 10,000 bad rows (one column too many) make ~1.3 MB of dead letters. */
function badCsv(): string {
  const csv = join(tempDir(), 'bad.csv');
  const lines = ['a,b'];
  for (let i = 0; i < 20_000; i++) lines.push(i % 2 === 0 ? `${i},x` : `${i},x,extra-${'y'.repeat(40)}`);
  writeFileSync(csv, `${lines.join('\n')}\n`);
  return csv;
}

/** A pipeline whose parallel stage dead-letters every batch (~40 kB each, 1.6 MB in all) into `deadLetter`. */
function poolDeadLetters(deadLetter: string): Promise<unknown> {
  const rows = Array.from({ length: 4000 }, (_, n) => ({ n, throwOn: n, pad: 'z'.repeat(300) }));
  return pipeline(
    fromIterable(rows, { batchSize: 100 }),
    parallel(runnableUrl('test/fixtures/pool/throws.ts'), {
      workers: 1,
      retries: 0,
      replaceOnError: false,
      onError: { deadLetter },
    }),
    collect(),
    { governor: false },
  );
}

describe('a full disk', { skip }, () => {
  let csv = '';
  before(() => {
    fill(disk);
    // the bad rows go to the dead-letter file on the full disk
    csv = badCsv();
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
      await assert.rejects(poolDeadLetters(join(disk, 'dead-pool.jsonl')), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_IO', String(error));
        return true;
      });
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

/** This process's open descriptors, as `fd -> target`. */
function fdTargets(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

describe('a nearly full disk', { skip }, () => {
  let csv = '';
  before(async () => {
    csv = badCsv();
    // a first worker thread opens descriptors that stay for the process (the TypeScript loader's
    // pipes): opened here, they are not counted as a case's leak
    await pipeline(
      fromIterable([{ n: 0 }]),
      parallel(runnableUrl('test/fixtures/pool/throws.ts'), { workers: 1 }),
      collect(),
      { governor: false },
    );
  });
  const targets: Record<string, (deadLetter: string) => Promise<unknown>> = {
    'fromCsv (fast)': (deadLetter) =>
      pipeline(fromCsv(csv, { parser: 'fast', onError: { deadLetter } }), collect(), { governor: false }),
    'fromCsv (csv-parse)': (deadLetter) =>
      pipeline(fromCsv(csv, { parser: 'csv-parse', onError: { deadLetter } }), collect(), { governor: false }),
    parallel: poolDeadLetters,
  };
  for (const spare of [1024, 64 * 1024, 300 * 1024]) {
    for (const [name, run] of Object.entries(targets)) {
      test(`${name} dead letters with ${spare / 1024} KB left: an IoError naming the file, nothing left open`, async () => {
        for (const entry of readdirSync(disk)) rmSync(join(disk, entry), { recursive: true });
        const free = fill(disk, spare);
        assert.ok(free >= spare && free - spare < 2 * statfsSync(disk).bsize, `${free} bytes free for ${spare}`);
        const deadLetter = join(disk, 'dead.jsonl');
        const fdsBefore = openFds();
        const targetsBefore = fdTargets();
        await noUnhandled(async () => {
          await assert.rejects(run(deadLetter), (error: Error & { code?: string }) => {
            assert.equal(error.code, 'ERR_SPILLWAY_IO', String(error));
            assert.ok(error.message.includes(deadLetter), error.message);
            return true;
          });
        });
        // some of the dead letters reached the file before the disk filled
        assert.ok(readFileSync(deadLetter).length > 0);
        assert.deepEqual(leftovers(disk), ['dead.jsonl']);
        const fdsAfter = await settledFds(fdsBefore);
        const opened = [...fdTargets()].filter(([fd, target]) => targetsBefore.get(fd) !== target);
        assert.ok(fdsAfter <= fdsBefore, `descriptors left open: ${JSON.stringify(opened)}`);
      });
    }
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
