/**
 * `spillway convert`'s checks before it writes: the output is none of the input's files (by real
 * path, not by spelling), a `.zst` output name is refused (no zstd compressor for text output),
 * and empty inputs get messages a CLI user can act on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliRun, runCli, tempDir } from '../../helpers.ts';

const convert = (...args: string[]): Promise<CliRun> => runCli('convert', ...args, '--no-progress');
const CSV = 'a,b\n1,2\n';

function assertRefused(run: CliRun, message: RegExp, what: string): void {
  assert.equal(run.code, 1, `${what}: ${run.stdout}${run.stderr}`);
  assert.equal(run.stdout, '', what);
  assert.match(run.stderr, message, what);
  assert.match(run.stderr, /\[ERR_SPILLWAY_INVALID_OPTION\]\n$/, what);
}

test('convert refuses an output that is the input however it is spelled', async () => {
  const dir = tempDir();
  const input = join(dir, 'x.csv');
  writeFileSync(input, CSV);
  symlinkSync('x.csv', join(dir, 'link.csv'));
  mkdirSync(join(dir, 'sub'));
  const same = /^spillway convert: the input and the output are the same file/;
  const cases: [string, string][] = [
    [input, `${dir}/./x.csv`],
    [input, `${dir}/sub/../x.csv`],
    [join(dir, 'link.csv'), input],
    [input, join(dir, 'link.csv')],
  ];
  const runs = await Promise.all(cases.map(([i, o]) => convert(i, o)));
  runs.forEach((run, k) => assertRefused(run, same, cases[k]!.join(' -> ')));
  assert.equal(readFileSync(input, 'utf8'), CSV);
  assert.deepEqual(readdirSync(dir).sort(), ['link.csv', 'sub', 'x.csv']);
});

test('convert refuses an output that is one of the files of a directory or glob input', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'a.csv'), CSV);
  writeFileSync(join(data, 'all.csv'), CSV);
  const one = /^spillway convert: the output is one of the input's files/;
  const [byDir, byGlob] = await Promise.all([
    convert(data, join(data, 'all.csv')),
    convert(`${data}/*.csv`, `${dir}/./data/all.csv`),
  ]);
  assertRefused(byDir, one, 'directory');
  assertRefused(byGlob, one, 'glob');
  assert.equal(readFileSync(join(data, 'all.csv'), 'utf8'), CSV);
  // an output beside the files, not among them, is written
  const ok = await convert(data, join(dir, 'all.csv'));
  assert.equal(ok.code, 0, ok.stderr);
});

test('convert refuses a .zst output name for text formats, creating nothing', async () => {
  const dir = tempDir();
  const input = join(dir, 'in.csv');
  writeFileSync(input, CSV);
  const runs = await Promise.all([
    convert(input, join(dir, 'out.jsonl.zst')),
    convert(input, join(dir, 'out.csv.zst'), '--to', 'csv'),
    convert(input, join(dir, 'out.zstd'), '--to', 'jsonl'),
  ]);
  for (const run of runs) assertRefused(run, /zstd/, run.stderr);
  assert.match(runs[0]!.stderr, /\.gz/);
  assert.deepEqual(readdirSync(dir), ['in.csv']);
});

test('convert on empty inputs says what a CLI user can do', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'e.csv'), '');
  writeFileSync(join(dir, 'e.jsonl'), '');
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'empty', 'nested'));
  const [csv, jsonl, emptyDir, emptyCsvDir] = await Promise.all([
    convert(join(dir, 'e.csv'), join(dir, 'e.parquet')),
    convert(join(dir, 'e.jsonl'), join(dir, 'e2.parquet')),
    convert(join(dir, 'empty'), join(dir, 'x.parquet')),
    convert(join(dir, 'empty'), join(dir, 'x.parquet'), '--from', 'csv'),
  ]);
  for (const run of [csv, jsonl]) {
    assert.equal(run.code, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /declare `schema`/);
    assert.match(run.stderr, /has no rows/);
    assert.match(run.stderr, /no Parquet schema can be inferred/);
  }
  assert.match(csv.stderr, /no header/);
  assertRefused(emptyDir, /is a directory that holds no files/, 'empty directory');
  assertRefused(emptyCsvDir, /is a directory that holds no files/, 'empty directory, --from csv');
  assert.equal(existsSync(join(dir, 'x.parquet')), false);
});
