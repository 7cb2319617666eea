/**
 * Text from files, paths and user code reaches the terminal escaped (issue 19): a CSV header,
 * the Parquet schema converted from it, paths and a script's error can hold escape sequences
 * (clear the screen, set the window title) that `spillway inspect`, `convert` and `run` must
 * print as visible `\x1b...` text, never raw. Run as users run it: the CLI in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, nodeScript, tempDir } from '../helpers.ts';

const RED = '\x1b[31m';
const TITLE = '\x1b]0;title\x07';
// CSI as one C1 character: JSON.stringify leaves it raw
const CSI = '\u009b2J';
// C0 controls but tab and newline, DEL, and C1 controls: none may reach the terminal raw
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Runs `spillway ...args` from the project root; never throws. */
function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeScript('lib/cli/main.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out: stdout + stderr }),
    );
  });
}

/** No raw control character in `out`, and each of `visible` in it as text. */
function assertEscaped(out: string, ...visible: string[]): void {
  const raw = RAW_CONTROL.exec(out);
  assert.equal(raw, null, `raw control U+${raw?.[0]?.codePointAt(0)?.toString(16)} in ${JSON.stringify(out)}`);
  for (const v of visible) assert.ok(out.includes(v), `${JSON.stringify(v)} not in ${JSON.stringify(out)}`);
}

const dir = tempDir('spillway-terminal-');
test.after(() => rmSync(dir, { recursive: true, force: true }));
const csv = join(dir, 'hostile.csv');
writeFileSync(csv, `id,"${RED}red","${TITLE}t",note${CSI}\n1,a,b,"${RED}x"\n2,c,d,e\n`);

test('inspect a CSV: its column names print escaped (text and JSON)', async () => {
  const text = await cli('inspect', csv);
  assert.equal(text.code, 0, text.out);
  assertEscaped(text.out, '\\x1b[31mred', '\\x1b]0;title\\x07t', 'note\\x9b2J');
  const json = await cli('inspect', csv, '--json');
  assert.equal(json.code, 0, json.out);
  assertEscaped(json.out, 'note\\u009b2J');
  const names = JSON.parse(json.out).columns.map((c: { name: string }) => c.name);
  assert.deepEqual(names, ['id', `${RED}red`, `${TITLE}t`, `note${CSI}`]);
});

test('convert to Parquet (output path with ESC), then inspect the Parquet file', async () => {
  const sub = join(dir, `out${RED}dir`);
  mkdirSync(sub);
  const parquet = join(sub, 'hostile.parquet');
  const converted = await cli('convert', csv, parquet, '--no-progress');
  assert.equal(converted.code, 0, converted.out);
  assertEscaped(converted.out, 'out\\x1b[31mdir');
  const text = await cli('inspect', parquet);
  assert.equal(text.code, 0, text.out);
  assertEscaped(text.out, '\\x1b[31mred', '\\x1b]0;title\\x07t', 'note\\x9b2J', 'out\\x1b[31mdir');
});

test('convert and run: an error naming a path with ESC prints escaped', async () => {
  const missing = join(dir, `no${TITLE}such.csv`);
  const converted = await cli('convert', missing, join(dir, 'x.parquet'), '--no-progress');
  assert.equal(converted.code, 1, converted.out);
  assertEscaped(converted.out, 'no\\x1b]0;title\\x07such.csv');
  // the script's own path, and its error naming a path, both from outside the CLI
  const scriptDir = join(dir, `s${RED}`);
  mkdirSync(scriptDir);
  const script = join(scriptDir, 'fail.mjs');
  writeFileSync(script, 'throw new Error("cannot open " + process.argv[2]);\n');
  const run = await cli('run', '--no-progress', script, '--', missing);
  assert.equal(run.code, 1, run.out);
  assertEscaped(run.out, 'cannot open', 'no\\x1b]0;title\\x07such.csv', 's\\x1b[31m');
});
