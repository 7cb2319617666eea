/**
 * Replays a kept spill directory into a Parquet file, with live progress (the spill's manifest
 * gives the row total, so the progress line has a percentage and an ETA). Without a directory it
 * first spills generated rows into one (`toSpill({ keep: true })`), as a long job would have.
 *
 *   node --conditions=spillway-source --import tsx samples/replay.ts                 # spill 1,000,000 generated rows, then replay
 *   node --conditions=spillway-source --import tsx samples/replay.ts --rows 200000
 *   node --conditions=spillway-source --import tsx samples/replay.ts SPILL_DIR --out scores.parquet
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline, openSpill, toSpill, toParquet, formatReport } from 'spillway';
import { formatBytes } from 'spillway/extend';
import { random } from './trades-data.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rows: { type: 'string', default: '1000000' }, out: { type: 'string' } },
});

const work = mkdtempSync(join(tmpdir(), 'spillway-replay-'));
let dir = positionals[0];
if (dir === undefined) {
  dir = join(work, 'spill');
  const rows = Number(values.rows);
  const next = random(7);
  function* scores(): Generator<{ id: number; group: string; score: number; passed: boolean }> {
    for (let id = 0; id < rows; id++) {
      const score = Math.round(next() * 1e6) / 1e4;
      yield { id, group: `g${id % 97}`, score, passed: score > 50 };
    }
  }
  console.log(`Spilling ${rows.toLocaleString('en-US')} rows into ${dir} ...`);
  const { output: spilled } = await pipeline(scores, toSpill({ budget: 0, keep: true, dir }));
  console.log(`  ${spilled.numRows.toLocaleString('en-US')} rows, ${formatBytes(spilled.bytesOnDisk)} on disk (kept)`);
}

const spilled = await openSpill(dir);
const output = values.out ?? join(work, 'replayed.parquet');
try {
  const { output: written, stats } = await pipeline(spilled.toSource(), toParquet(output), { progress: true });
  console.log(
    `\nreplayed ${written.rows.toLocaleString('en-US')} rows from ${dir} into ${output} (${formatBytes(written.bytes)})`,
  );
  console.log(`\n${formatReport(stats)}`);
} finally {
  await spilled.dispose();
}
console.log(`\nFiles are in ${work} (remove it when done).`);
