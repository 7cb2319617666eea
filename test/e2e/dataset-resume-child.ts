/**
 * A checkpointed dataset pipeline run as a child process by test/e2e/dataset-resume.test.ts:
 * many CSV or Parquet files (a glob, a directory or an s3:// prefix) in, CSV out. Writes one '.'
 * to stdout per batch, so the parent can SIGKILL it at a chosen point without sleeping.
 *
 * node --import tsx dataset-resume-child.ts <csv|parquet> <input> <output> <checkpointDir|-> [everyBatches]
 */
import { writeSync } from 'node:fs';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { mapBatch } from '../../transforms/mapBatch.ts';
import { toCsv } from '../../sinks/toCsv.ts';

const [kind, input, output, checkpoint, every] = process.argv.slice(2);
if (!kind || !input || !output || !checkpoint)
  throw new Error('usage: dataset-resume-child.ts <csv|parquet> <input> <output> <checkpointDir|-> [everyBatches]');

// `where` on a partition column prunes files, on `id` filters rows: the resume point must survive both
const where = {
  and: [
    { col: 'part', op: '!=', value: 2 },
    { col: 'id', op: '<', value: 1_000_000 },
  ],
} as const;
const source =
  kind === 'csv'
    ? fromCsv(input, { cast: true, batchSize: 300, where, fileColumn: 'file' })
    : fromParquet(input, { batchSize: 300, where });

await pipeline(
  source,
  mapBatch((rows) => {
    writeSync(1, '.');
    return rows;
  }),
  toCsv(output),
  {
    governor: false,
    ...(checkpoint === '-'
      ? {}
      : { checkpoint: { dir: checkpoint, everyBatches: Number(every ?? 2), intervalMs: 60_000 } }),
  },
);
writeSync(1, '\ndone\n');
