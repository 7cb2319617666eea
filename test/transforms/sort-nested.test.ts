/**
 * sort and topK over Arrow batches whose payload columns are nested (lists, large lists, maps,
 * structs, lists of structs), in memory and spilling: the rows come out whole, in order. Before,
 * gathering a run's rows sent nested columns through JS values, which have no List, Struct or Map
 * builder ("Column "tags": building List<Int64> from rows is not supported"), so
 * `fromParquet(f, { output: 'arrow' }) -> sort` failed on any DuckDB file with a list column. The
 * reference is the same file read as rows and sorted in JS (a stable sort by k, then i).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Int32, RecordBatch, Utf8View, vectorFromArray } from 'apache-arrow';
import { collect, fromParquet, pipeline, sort, topK, type Row } from '../../index.ts';
import { Batch, BatchSource } from '../../lib/entry/extend.ts';
import { duckRun, sqlString } from '../lib/formats/parquet/duckdb.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir();
const file = path.join(dir, 'nested.parquet');
const ready = duckRun(
  `COPY (SELECT i, (i * 7919) % 97 AS k,
     CASE WHEN i % 11 = 0 THEN NULL WHEN i % 7 = 0 THEN [] ELSE [i, NULL, i + 1] END AS tags,
     CASE WHEN i % 13 = 0 THEN NULL ELSE {'a': i, 'b': 'é' || i, 'c': [i % 3]} END AS s,
     MAP {'k' || (i % 5): i} AS m,
     CASE WHEN i % 17 = 0 THEN NULL ELSE [{'x': i, 'y': [i::VARCHAR]}, {'x': -i, 'y': []}] END AS ls
   FROM range(3000) t(i)) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 700)`,
);

type Keyed = Row & { k: number; i: number };

async function expected(): Promise<Keyed[]> {
  const rows = (await pipeline(fromParquet(file, { output: 'rows' }), collect())).output as Keyed[];
  return rows.sort((a, b) => a.k - b.k || a.i - b.i);
}

test('sort by a scalar key carries nested columns whole, in memory and spilling', async () => {
  await ready;
  const want = await expected();
  for (const budget of ['1GB', '64kB']) {
    const { output, stats } = await pipeline(
      fromParquet(file, { output: 'arrow' }),
      sort(['k', 'i'], { budget }),
      collect(),
    );
    assert.deepEqual(output, want, budget);
    const details = stats.stages.find((s) => s.name === 'sort')!.details;
    if (budget === '64kB') assert.ok(Number(details.runsSpilled) > 1, `runs spilled: ${String(details.runsSpilled)}`);
  }
  const top = await pipeline(fromParquet(file, { output: 'arrow' }), topK(50, ['k', 'i']), collect());
  assert.deepEqual(top.output, want.slice(0, 50));
});

test('sort carries string and binary view columns (Polars writes them), spilling', async () => {
  const n = 3000;
  const note = (i: number): string | null =>
    i % 9 === 0 ? null : i % 2 ? `n${i}` : `a longer note than twelve bytes, ${i}`;
  const batches = [0, 1, 2].map((b) => {
    const ids = Array.from({ length: n / 3 }, (_, k) => b * (n / 3) + k);
    return new RecordBatch({
      k: vectorFromArray(
        ids.map((i) => (i * 7919) % 97),
        new Int32(),
      ).data[0]!,
      i: vectorFromArray(ids, new Int32()).data[0]!,
      note: vectorFromArray(ids.map(note), new Utf8View()).data[0]!,
    });
  });
  const source = new BatchSource({
    name: 'views',
    capabilities: { accepts: ['arrow'] },
    async *open() {
      for (const [index, b] of batches.entries())
        yield Batch.fromArrow(b, { source: 'views', index, rowStart: index * (n / 3) });
    },
  });
  const { output } = await pipeline(source, sort(['k', 'i'], { budget: '16kB' }), collect());
  const want = Array.from({ length: n }, (_, i) => ({ k: (i * 7919) % 97, i, note: note(i) })).sort(
    (a, b) => a.k - b.k || a.i - b.i,
  );
  assert.deepEqual(output, want);
});
