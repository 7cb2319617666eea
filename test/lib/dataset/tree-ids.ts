/**
 * The ids of a written partitioned tree, per partition directory, with its files read in path
 * order (listTree's, the order a dataset is read in): for tests that check every row arrived once,
 * in the order it was written.
 */
import { join } from 'node:path';
import { pipeline, collect, fromCsv } from '../../../index.ts';
import { listTree } from '../../../lib/dataset/partitioned-writer.ts';

/** Every `id` of the CSV tree at `out`, per first-level partition directory, in file order. */
export async function idsByPartition(out: string): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  for (const rel of await listTree(out)) {
    const { output } = await pipeline(fromCsv(join(out, rel), { cast: true }), collect<{ id: number }>());
    const key = rel.split('/')[0]!;
    found.set(key, [...(found.get(key) ?? []), ...output.map((r) => r.id)]);
  }
  return found;
}
