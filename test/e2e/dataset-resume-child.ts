/**
 * A checkpointed dataset pipeline run as a child process by test/e2e/dataset-resume.test.ts and
 * dataset-resume-jsonl.test.ts: many CSV, JSON Lines or Parquet files (a glob, a directory or an
 * s3:// prefix, filtered by `where`), one JSON Lines file, or comma-separated URLs of Parquet or
 * Arrow files, in; one CSV file or a partitioned tree (Parquet, CSV or Arrow, by `partitionColumn`)
 * out. Writes one '.' to stdout per batch, so the parent can SIGKILL it at a chosen point without
 * sleeping.
 *
 * node --import tsx dataset-resume-child.ts <csv|jsonl|jsonl-file|parquet|parquet-urls|arrow-urls> <input> <output>
 *   <checkpointDir|-> [everyBatches] [csv|parquet-tree|csv-tree|arrow-tree] [partitionColumn]
 */
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { mapBatch } from '../../transforms/mapBatch.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { fromJsonl } from '../../sources/fromJsonl.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { toArrow } from '../../sinks/toArrow.ts';

const [kind, input, output, checkpoint, every, sinkKind = 'csv', partitionColumn = 'part'] = process.argv.slice(2);
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
    : kind === 'jsonl'
      ? fromJsonl(input, { batchSize: 300, where, fileColumn: 'file' })
      : kind === 'jsonl-file'
        ? fromJsonl(input, { batchSize: 300 })
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

/** One CSV file, or a tree partitioned by `partitionColumn`. */
function sink() {
  const partitionBy = [partitionColumn];
  if (sinkKind === 'parquet-tree') return toParquet(output!, { partitionBy, rowGroupSize: 500 });
  if (sinkKind === 'csv-tree') return toCsv(output!, { partitionBy });
  if (sinkKind === 'arrow-tree') return toArrow(output!, { partitionBy });
  return toCsv(output!);
}

await pipeline(
  source,
  mapBatch(async (rows) => {
    await pace();
    writeSync(1, '.');
    return rows;
  }),
  sink(),
  {
    governor: false,
    ...(checkpoint === '-'
      ? {}
      : { checkpoint: { dir: checkpoint, everyBatches: Number(every ?? 2), intervalMs: 60_000 } }),
  },
);
writeSync(1, '\ndone\n');
