/**
 * A file source destroyed before, while and just after it opens its file (issue 19, "fails safe"):
 * once the stream emits 'close' it holds no descriptor on the file, and a source destroyed before
 * its first batch read none (it opened nothing more once destroyed). The points are reached by
 * events, not timing: right after construction, right after the first read() started the open,
 * and on the first 'data'.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { pipeline } from '../../lib/core/pipeline.ts';
import type { BatchSource } from '../../lib/core/source.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { fromJsonl } from '../../sources/fromJsonl.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { tempDir } from '../helpers.ts';

const ROWS = 6000;
const BATCH = 1000;
const dir = tempDir('spillway-destroy-opening-');
const file = (name: string): string => join(dir, name);
const rows = (): { n: number; s: string }[] => Array.from({ length: ROWS }, (_, n) => ({ n, s: `s${n}` }));

before(async () => {
  const lines = ['n,s', ...rows().map((r) => `${r.n},${r.s}`)];
  writeFileSync(file('a.csv'), `${lines.join('\n')}\n`);
  writeFileSync(file('b.csv'), `${lines.join('\n')}\n`);
  const jsonl = rows().map((r) => JSON.stringify(r));
  writeFileSync(file('a.jsonl'), `${jsonl.join('\n')}\n`);
  await pipeline(fromIterable(rows()), toParquet(file('a.parquet'), { rowGroupSize: BATCH }));
  await pipeline(fromIterable(rows()), toArrow(file('a.arrow')));
});

/** Descriptors of this process open on a file under `dir` (each test reads its own copies). */
function heldFds(dir: string): string[] {
  const held: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) held.push(`${fd} -> ${target}`);
    } catch {
      // closed between the listing and the readlink
    }
  }
  return held;
}

type Copy = (name: string) => string;
const SOURCES: Record<string, (copy: Copy) => BatchSource> = {
  'fromCsv (fast)': (copy) => fromCsv(copy('a.csv'), { batchSize: BATCH }),
  'fromCsv (csv-parse)': (copy) => fromCsv(copy('a.csv'), { batchSize: BATCH, parser: 'csv-parse' }),
  'fromCsv (two files)': (copy) => fromCsv([copy('a.csv'), copy('b.csv')], { batchSize: BATCH }),
  fromJsonl: (copy) => fromJsonl(copy('a.jsonl'), { batchSize: BATCH }),
  fromParquet: (copy) => fromParquet(copy('a.parquet')),
  fromArrow: (copy) => fromArrow(copy('a.arrow')),
};
let cases = 0;

/** Destroys the source at `point`, then waits for its 'close'. */
async function destroyAt(source: BatchSource, point: 'constructed' | 'opening' | 'first batch'): Promise<void> {
  const closed = once(source, 'close');
  source.on('error', () => {});
  if (point === 'opening') source.read(); // starts the open (its first _read), which is pending now
  if (point === 'first batch') await once(source, 'data');
  source.destroy();
  await closed;
}

for (const [name, make] of Object.entries(SOURCES)) {
  for (const point of ['constructed', 'opening', 'first batch'] as const) {
    test(`${name} destroyed ${point === 'first batch' ? 'after its first batch' : point === 'opening' ? 'while it opens' : 'before it opens'} holds no descriptor once closed`, async () => {
      const own = join(dir, `case-${cases++}`);
      mkdirSync(own);
      const source = make((name) => {
        copyFileSync(file(name), join(own, name));
        return join(own, name);
      });
      await destroyAt(source, point);
      assert.deepEqual(heldFds(own), [], 'descriptors open on the file after close');
      if (point !== 'first batch') assert.equal(source.progress().rows, 0, 'rows read after destroy');
    });
  }
}
