import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from '../../lib/core/pipeline.ts';
import { CHECKPOINT_FILE } from '../../lib/observe/checkpoint.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { map } from '../../transforms/map.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir('spillway-arrow-resume-');

test('fromArrow resumes after the last committed batch: sliced record batches are skipped, not repeated', async () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, v: `v${i}` }));
  const input = join(dir, 'in.arrow');
  // record batches of 700 rows, read as slices of 350: a checkpoint can fall inside a record batch
  await pipeline(fromIterable(rows, { batchSize: 700 }), toArrow(input), { governor: false });
  const reference = join(dir, 'ref.csv');
  await pipeline(fromArrow(input, { batchSize: 350 }), toCsv(reference), { governor: false });
  const out = join(dir, 'out.csv');
  const ckpt = join(dir, 'ckpt');
  const armed = { on: true };
  const run = () =>
    pipeline(
      fromArrow(input, { batchSize: 350 }),
      map((row: { id: number }) => {
        if (armed.on && row.id === 3000) throw new Error('crash');
        return row;
      }),
      toCsv(out),
      { governor: false, checkpoint: { dir: ckpt, everyBatches: 1 } },
    );
  await assert.rejects(run(), /crash/);
  const record = JSON.parse(readFileSync(join(ckpt, CHECKPOINT_FILE), 'utf8')) as { source: { rows: number } };
  assert.ok(record.source.rows > 0 && record.source.rows < 3000, `resumes at row ${record.source.rows}`);
  armed.on = false;
  await run();
  assert.equal(readFileSync(out, 'utf8'), readFileSync(reference, 'utf8'));
});
