/**
 * Checkpoint/resume end to end: a child process runs a checkpointed CSV -> {Parquet, spill, CSV}
 * pipeline and is SIGKILLed at random points (after a random number of batches, so no sleeps),
 * then rerun until it completes; its output must be exactly an uninterrupted run's. One seed a
 * format by default; SPILLWAY_RESUME_SEEDS=N runs N.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, nodeScript, tempDir } from '../helpers.ts';
import { openSpill } from '../../lib/formats/spill/spilled.ts';
import { random as mulberry32 } from '../../samples/trades-data.ts';

const SCRIPT = join(ROOT, 'test/fixtures/checkpoint/resume-pipeline.ts');
const ROWS = 30_000;

/** A CSV with quoted fields, embedded commas and newlines (so byte offsets are not line-shaped). */
function writeInput(file: string): void {
  const lines = ['id,symbol,price,qty,note'];
  for (let i = 0; i < ROWS; i++) {
    const note = i % 97 === 0 ? `"multi\nline, ""quoted"" ${i}"` : i % 13 === 0 ? `"a,b ${i}"` : `n${i}`;
    lines.push(`${i},S${i % 50},${(i % 1000) / 7 + 1},${(i * 31) % 500},${note}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

interface Run {
  done: boolean;
  batches: number;
  code: number | null;
  stderr: string;
}

/** Runs the pipeline script; kills it with SIGKILL once it has reported `killAfter` batches. */
function run(args: string[], killAfter = Infinity): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeScript(SCRIPT), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let batches = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (const c of chunk) if (c === '.') batches++;
      if (batches >= killAfter && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ done: out.includes('done'), batches, code, stderr }));
  });
}

/** Kills the checkpointed run at random points until one run completes; returns the number of kills. */
async function runWithCrashes(
  kind: string,
  input: string,
  output: string,
  checkpoint: string,
  seed: number,
  total: number,
  extra: string[] = [],
): Promise<number> {
  const random = mulberry32(seed);
  let kills = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    // the last attempts run to the end; before, a kill somewhere within the batches left
    const killAfter = attempt < 3 ? 1 + Math.floor(random() * Math.max(1, total / 2)) : Infinity;
    const result = await run(
      [kind, input, output, checkpoint, String(1 + Math.floor(random() * 4)), ...extra],
      killAfter,
    );
    if (result.done) {
      assert.equal(result.code, 0, result.stderr);
      return kills;
    }
    assert.notEqual(result.code, 0, 'a killed run does not exit cleanly');
    assert.equal(result.stderr.includes('Error'), false, result.stderr);
    kills++;
  }
  throw new Error('the pipeline never completed');
}

/** `first`, then `first + 1`, ... : SPILLWAY_RESUME_SEEDS of them (default 1). */
const seeds = (first: number): number[] =>
  Array.from({ length: Number(process.env.SPILLWAY_RESUME_SEEDS ?? 1) }, (_, i) => first + i);

const dir = tempDir('spillway-resume-');
const input = join(dir, 'in.csv');
writeInput(input);

for (const [kind, ext] of [
  ['parquet', 'parquet'],
  ['csv', 'csv'],
] as const) {
  test(`CSV -> ${kind}: SIGKILL at random points, rerun, output byte-identical to an uninterrupted run`, async () => {
    const reference = join(dir, `ref.${ext}`);
    const ref = await run([kind, input, reference, '-']);
    assert.ok(ref.done, ref.stderr);
    // one seed a format in `npm test` (CI time); SPILLWAY_RESUME_SEEDS=2 runs a second
    for (const seed of seeds(kind === 'parquet' ? 1 : 5)) {
      const output = join(dir, `out-${seed}.${ext}`);
      const checkpoint = join(dir, `ckpt-${kind}-${seed}`);
      const kills = await runWithCrashes(kind, input, output, checkpoint, seed * 7919, ref.batches);
      assert.ok(kills > 0, 'at least one run was killed');
      assert.ok(
        readFileSync(output).equals(readFileSync(reference)),
        `seed ${seed}: the resumed output differs (after ${kills} kills)`,
      );
      assert.equal(existsSync(join(checkpoint, 'checkpoint.json')), false, 'a finished run removes its checkpoint');
      // temporary files of runs killed before their first checkpoint may stay (at most one per kill); none of the finished run's
      assert.ok(
        readdirSync(dir).filter((n) => n.startsWith(`.out-${seed}.${ext}`) && n.endsWith('.tmp')).length <= kills,
      );
    }
  });
}

test('CSV -> spill: SIGKILL at random points, rerun, replay identical to an uninterrupted run', async () => {
  const reference = join(dir, 'ref-spill');
  const ref = await run(['spill', input, reference, '-']);
  assert.ok(ref.done, ref.stderr);
  const refSpill = await openSpill(reference);
  const expected = await refSpill.slice(0, ROWS).finally(() => refSpill.dispose());
  for (const seed of seeds(3)) {
    const output = join(dir, `out-spill-${seed}`);
    const checkpoint = join(dir, `ckpt-spill-${seed}`);
    const kills = await runWithCrashes('spill', input, output, checkpoint, seed * 104729, ref.batches);
    assert.ok(kills > 0);
    const spilled = await openSpill(output);
    assert.equal(spilled.numRows, expected.length);
    const rows: unknown[] = [];
    try {
      for await (const row of spilled.rows()) rows.push(row);
    } finally {
      // its files stay open until then (Node warns when the GC closes them)
      await spilled.dispose();
    }
    assert.deepEqual(rows, expected, `seed ${seed}: the replay differs (after ${kills} kills)`);
    assert.equal(existsSync(join(checkpoint, 'checkpoint.json')), false);
  }
});

test("UTF-16LE CSV -> CSV: SIGKILL at random points, rerun, output byte-identical to the UTF-8 file's uninterrupted run", async () => {
  // resume points are offsets in the UTF-8 the file is transcoded to, not in the file (read/utf16.ts)
  const text = readFileSync(input, 'utf8').replace(/,n(\d*7)$/gm, ',nä€😀$1');
  const utf8 = join(dir, 'in8.csv');
  const utf16 = join(dir, 'in16.csv');
  writeFileSync(utf8, text);
  writeFileSync(utf16, Buffer.concat([Buffer.of(0xff, 0xfe), Buffer.from(text, 'utf16le')]));
  const reference = join(dir, 'ref8.csv');
  const ref = await run(['csv', utf8, reference, '-']);
  assert.ok(ref.done, ref.stderr);
  const output = join(dir, 'out16.csv');
  const kills = await runWithCrashes('csv', utf16, output, join(dir, 'ckpt-utf16'), 60_013, ref.batches);
  assert.ok(kills > 0, 'at least one run was killed');
  assert.ok(readFileSync(reference, 'utf8').includes('nä€😀'));
  assert.ok(readFileSync(output).equals(readFileSync(reference)), `the output differs (after ${kills} kills)`);
});

test('CSV with bad rows -> CSV, dead-lettered: SIGKILL at random points, rerun; the dead-letter file holds every bad row once, as an uninterrupted run writes it', async () => {
  const bad = join(dir, 'bad-in.csv');
  const lines = readFileSync(input, 'utf8').split('\n');
  // every 1,000th record gets an extra field: CSV_RECORD_INCONSISTENT_FIELDS_LENGTH
  writeFileSync(bad, lines.map((l, i) => (i > 0 && i % 1000 === 0 && l.length > 0 ? `${l},extra` : l)).join('\n'));
  const reference = join(dir, 'ref-bad.csv');
  const referenceDead = join(dir, 'ref-bad.jsonl');
  const ref = await run(['csv', bad, reference, '-', '3', referenceDead]);
  assert.ok(ref.done, ref.stderr);
  const expected = readFileSync(referenceDead, 'utf8');
  assert.ok(expected.split('\n').length > 20, 'the reference run dead-lettered the bad rows');
  const output = join(dir, 'out-bad.csv');
  const dead = join(dir, 'out-bad.jsonl');
  const kills = await runWithCrashes('csv', bad, output, join(dir, 'ckpt-bad'), 6 * 7919, ref.batches, [dead]);
  assert.ok(kills > 0);
  assert.ok(readFileSync(output).equals(readFileSync(reference)), 'the resumed output differs');
  assert.equal(readFileSync(dead, 'utf8'), expected, `the dead-letter file differs after ${kills} kills`);
});
