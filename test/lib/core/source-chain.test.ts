/**
 * SourceChain (lib/core/source-chain.ts) on its own: a source and transforms read as one source,
 * negotiated with the reader as the stage after the last, its errors and its close.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceChain } from '../../../lib/core/source-chain.ts';
import { DEFAULT_CAPABILITIES, detachedContext } from '../../../lib/core/stage.ts';
import type { Batch } from '../../../lib/core/batch.ts';
import { fromCsv, fromIterable, select, map, toParquet } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir();
const csv = join(dir, 'abc.csv');
writeFileSync(csv, 'a,b,c\n1,"x, y",true\n2,z,false\n');

async function read(chain: SourceChain): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of chain.batches(detachedContext(), DEFAULT_CAPABILITIES)) out.push(batch);
  return out;
}

describe('SourceChain', () => {
  it('negotiates the source as a pipeline head: Arrow for select, only its columns filled', async () => {
    const chain = new SourceChain([fromCsv(csv, { cast: true }), select(['a', 'c'])], 'test');
    assert.equal(chain.describe(), 'fromCsv -> select', 'nothing chosen before the read');
    const batches = await read(chain);
    assert.deepEqual(
      batches.flatMap((b) => b.rows),
      [
        { a: 1, c: true },
        { a: 2, c: false },
      ],
    );
    assert.match(chain.describe(), /^fromCsv \(arrow: [^;]+; columns a, c\) -> select$/);
  });

  it('a source alone, read as the reader asks (rows), and functions fused as in a pipeline', async () => {
    const alone = new SourceChain([fromCsv(csv, { cast: true })], 'test');
    assert.equal((await read(alone)).flatMap((b) => b.rows).length, 2);
    assert.match(alone.describe(), /^fromCsv \(rows: /);
    const fused = new SourceChain(
      [fromIterable([{ n: 1 }, { n: 2 }]), (row: { n: number }) => ({ m: row.n * 10 })],
      'test',
    );
    assert.deepEqual(
      (await read(fused)).flatMap((b) => b.rows),
      [{ m: 10 }, { m: 20 }],
    );
  });

  it("an error in a stage ends the read with that stage's error", async () => {
    const chain = new SourceChain(
      [
        fromIterable([{ n: 1 }, { n: 2 }]),
        map((row: { n: number }) => {
          if (row.n === 2) throw new RangeError('two');
          return row;
        }),
      ],
      'test',
    );
    await assert.rejects(read(chain), (error: Error & { code?: string; context?: { stage?: string } }) => {
      assert.equal(error.code, 'ERR_SPILLWAY_STAGE');
      assert.equal(error.context?.stage, 'map');
      return true;
    });
    await chain.close();
  });

  it('close() destroys stages never read, and refuses a sink or a non-stage at construction', async () => {
    const source = fromCsv(csv);
    const chain = new SourceChain([source, select(['a'])], 'test');
    await chain.close();
    assert.equal(source.destroyed, true);
    assert.throws(() => new SourceChain([fromIterable([]), toParquet(join(dir, 'no.parquet'))], 'join(right)'), {
      code: 'ERR_SPILLWAY_INVALID_OPTION',
      message: /^join\(right\): the last stage must produce batches/,
    });
    assert.throws(() => new SourceChain([fromIterable([]), 7], 'join(right)'), {
      message: /^join\(right\): stage 1 must be a stream/,
    });
  });
});
