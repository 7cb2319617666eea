/**
 * Checkpoint/resume end to end for JSON Lines sources and partitioned sinks: a child process
 * (dataset-resume-child.ts) reads a JSON Lines glob (hive partitions, `where` pruning files and
 * filtering rows) or one JSON Lines file (plain or gzip), writes a CSV file or a partitioned tree
 * (Parquet, CSV, Arrow) with a checkpoint, and is SIGKILLed after a random number of batches once
 * a checkpoint exists (synchronised on the checkpoint file, no sleeps), then rerun until it
 * completes. The output holds exactly an uninterrupted run's rows, each once and in the same order
 * (per partition for a tree); a tree appears only whole, at the end, and no temporary file or
 * directory is left.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../helpers.ts';
import { pipeline } from '../../lib/core/pipeline.ts';
import { collect } from '../../sinks/collect.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { listTree } from '../../lib/dataset/partitioned-writer.ts';
import {
  FILES_PER_PART,
  PARTS,
  expectedIds,
  idsOf,
  readCheckpointIn,
  rowsOf,
  run,
  runWithCrashes,
  type TestRow,
} from './dataset-resume-harness.ts';

const dir = tempDir('spillway-dataset-resume-jsonl-');

/** A row as JSON Lines, with `grp` to partition a single file's rows by. */
function jsonlOf(rows: TestRow[]): string {
  return rows.map((r) => `${JSON.stringify({ ...r, grp: r.id % 3 })}\n`).join('');
}

/** The single files: partition 0's rows then partition 1's. */
const singleRows = (): TestRow[] => [0, 1].flatMap((p) => [0, 1, 2].flatMap((f) => rowsOf(p, f)));

before(() => {
  for (let p = 0; p < PARTS; p++) {
    mkdirSync(join(dir, 'jsonl', `part=${p}`), { recursive: true });
    for (let f = 0; f < FILES_PER_PART; f++)
      writeFileSync(join(dir, 'jsonl', `part=${p}`, `day-${f}.jsonl`), jsonlOf(rowsOf(p, f)));
  }
  writeFileSync(join(dir, 'one.jsonl'), jsonlOf(singleRows()));
  writeFileSync(join(dir, 'one.jsonl.gz'), gzipSync(jsonlOf(singleRows())));
});

/** A checkpoint with at least one commit exists (a single file's state has no file index). */
const committed = (checkpointDir: string): boolean => (readCheckpointIn(checkpointDir)?.commits ?? 0) >= 1;

/** The ids of a tree, per partition directory, its files read in their numeric order (`part-2` before `part-10`). */
async function treeIds(root: string, format: string): Promise<Map<string, number[]>> {
  const files = (await listTree(root)).sort((a, b) => {
    const [da, db] = [dirname(a), dirname(b)];
    if (da !== db) return da < db ? -1 : 1;
    return Number(/(\d+)\.\w+$/.exec(a)![1]) - Number(/(\d+)\.\w+$/.exec(b)![1]);
  });
  const out = new Map<string, number[]>();
  for (const rel of files) {
    const path = join(root, rel);
    const source =
      format === 'parquet-tree'
        ? fromParquet(path)
        : format === 'arrow-tree'
          ? fromArrow(path)
          : fromCsv(path, { cast: true });
    const { output } = await pipeline(source, collect<{ id: number | bigint }>());
    const ids = out.get(dirname(rel)) ?? [];
    for (const row of output) ids.push(Number(row.id));
    out.set(dirname(rel), ids);
  }
  return out;
}

/** Temporary entries (`.name.tmp-...`, `.name.old-...`, hidden files) left beside or inside `root`. */
function leftovers(root: string): string[] {
  const parent = readdirSync(dirname(root)).filter((n) => n.startsWith('.'));
  const inside = existsSync(root) ? readdirSync(root, { recursive: true }).map(String) : [];
  return [...parent, ...inside.filter((n) => n.split('/').some((seg) => seg.startsWith('.')))];
}

const files = [
  { name: 'a JSON Lines glob', kind: 'jsonl', input: () => join(dir, 'jsonl', '**', '*.jsonl'), seed: 61 },
  { name: 'a JSON Lines file', kind: 'jsonl-file', input: () => join(dir, 'one.jsonl'), seed: 71 },
  { name: 'a gzip JSON Lines file', kind: 'jsonl-file', input: () => join(dir, 'one.jsonl.gz'), seed: 81 },
];

for (const c of files) {
  test(`${c.name} to CSV: SIGKILL at random points, rerun; output identical to an uninterrupted run`, async () => {
    const reference = join(dir, `ref-${c.seed}.csv`);
    const ref = await run([c.kind, c.input(), reference, '-']);
    assert.ok(ref.done, ref.stderr);
    const expected = c.kind === 'jsonl' ? expectedIds() : singleRows().map((r) => r.id);
    assert.deepEqual(idsOf(reference), expected, 'the uninterrupted run reads every row');
    const output = join(dir, `out-${c.seed}.csv`);
    const checkpoint = join(dir, `ckpt-${c.seed}`);
    const crashes = await runWithCrashes([c.kind, c.input(), output, checkpoint], c.seed, ref.batches, {
      resumable: committed,
    });
    assert.ok(crashes.kills > 0, 'at least one run was killed');
    assert.ok(crashes.resumable > 0, 'at least one killed run left a checkpoint to resume from');
    const ids = idsOf(output);
    assert.equal(new Set(ids).size, ids.length, 'a row was written twice');
    assert.ok(readFileSync(output).equals(readFileSync(reference)), 'the output differs');
    assert.equal(existsSync(join(checkpoint, 'checkpoint.json')), false, 'a finished run removes its checkpoint');
  });
}

const trees = [
  { sink: 'parquet-tree', kind: 'jsonl', input: () => join(dir, 'jsonl', '**', '*.jsonl'), by: 'part', seed: 91 },
  { sink: 'csv-tree', kind: 'jsonl-file', input: () => join(dir, 'one.jsonl'), by: 'grp', seed: 101 },
  { sink: 'arrow-tree', kind: 'jsonl-file', input: () => join(dir, 'one.jsonl.gz'), by: 'grp', seed: 111 },
];

for (const c of trees) {
  test(`a partitioned ${c.sink} from ${c.kind}: SIGKILL, rerun; each partition holds the uninterrupted run's rows, the tree is committed once, no temporary file is left`, async () => {
    const reference = join(dir, `ref-tree-${c.seed}`, 'out');
    mkdirSync(dirname(reference));
    const ref = await run([c.kind, c.input(), reference, '-', '1', c.sink, c.by]);
    assert.ok(ref.done, ref.stderr);
    const expected = await treeIds(reference, c.sink);
    assert.equal([...expected.values()].flat().length, c.kind === 'jsonl' ? expectedIds().length : singleRows().length);
    const output = join(dir, `out-tree-${c.seed}`, 'out');
    mkdirSync(dirname(output));
    const checkpoint = join(dir, `ckpt-tree-${c.seed}`);
    const crashes = await runWithCrashes([c.kind, c.input(), output, checkpoint, c.sink, c.by], c.seed, ref.batches, {
      resumable: committed,
      // atomic: a killed run never leaves a tree, whole or half, under the target
      afterKill: () => assert.equal(existsSync(output), false, 'a killed run left a tree under the target'),
    });
    assert.ok(crashes.kills > 0, 'at least one run was killed');
    assert.ok(crashes.resumable > 0, 'at least one killed run left a checkpoint to resume from');
    const got = await treeIds(output, c.sink);
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'the same partitions');
    for (const [partition, ids] of expected)
      assert.deepEqual(got.get(partition), ids, `${partition}: rows missing, repeated or out of order`);
    assert.deepEqual(leftovers(output), [], 'no temporary file or directory is left');
    assert.equal(existsSync(join(checkpoint, 'checkpoint.json')), false, 'a finished run removes its checkpoint');
  });
}
