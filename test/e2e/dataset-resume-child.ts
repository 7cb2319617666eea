/**
 * A checkpointed dataset pipeline run as a child process by test/e2e/dataset-resume.test.ts:
 * many CSV or Parquet files (a glob, a directory or an s3:// prefix, filtered by `where`), or
 * comma-separated URLs of Parquet or Arrow files, in; CSV out. Writes one '.' to stdout per batch,
 * so the parent can SIGKILL it at a chosen point without sleeping.
 *
 * node --import tsx dataset-resume-child.ts <csv|parquet|parquet-urls|arrow-urls> <input> <output> <checkpointDir|-> [everyBatches]
 */
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
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
    : kind === 'parquet'
      ? fromParquet(input, { batchSize: 300, where })
      : kind === 'parquet-urls'
        ? fromParquet(input.split(','), { batchSize: 300 })
        : fromArrow(input.split(','));

/** Commits recorded in the checkpoint so far (0 when there is none yet). */
function commits(): number {
  try {
    return (JSON.parse(readFileSync(join(checkpoint!, 'checkpoint.json'), 'utf8')) as { commits: number }).commits;
  } catch {
    return 0;
  }
}

/**
 * Paces a checkpointed run: each batch waits for the next commit to land (a commit is skipped
 * while one is in flight, so a fast run over small files could end before its first checkpoint).
 * The wait is capped because a commit may not be due; the parent decides by the checkpoint's
 * contents, never by time.
 */
async function pace(): Promise<void> {
  if (checkpoint === '-') return;
  const seen = commits();
  for (let waited = 0; waited < 50 && commits() === seen; waited += 5)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

await pipeline(
  source,
  mapBatch(async (rows) => {
    await pace();
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
