/** `spillway run SCRIPT` as a real process: report, exit codes, Ctrl-C, and the live line on a pseudo-terminal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { toSpill } from '../../sinks/toSpill.ts';
import { parseBytes } from '../../lib/core/validate.ts';
import type { CliReport } from '../../lib/cli/commands/common.ts';
import { ROOT, nodeScript, runnable, tempDir } from '../helpers.ts';

const SCRIPT = runnable('test/fixtures/run/pipeline.ts');
const NODE = [process.execPath, ...nodeScript('lib/cli/main.ts')];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE[0]!, [...NODE.slice(1), ...args], { cwd: ROOT, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('spillway run: runs the script with the CLI settings, prints the report, writes --report', async () => {
  const dir = tempDir();
  const report = path.join(dir, 'report.json');
  const out = path.join(dir, 'out.csv');
  const run = await cli([
    'run',
    SCRIPT,
    '--memory',
    '4GB',
    '--report',
    report,
    '--',
    '--rows',
    '2500',
    '--out',
    out,
    '--twice',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /started\ndone 2500\n/);
  // the report on stderr, one per pipeline
  assert.match(run.stderr, /pipeline 1\/2: 2,500 rows in, 2,500 rows out in /);
  assert.match(run.stderr, /pipeline 2\/2: 2 rows in, 2 rows out in /);
  assert.match(run.stderr, /memory: peak RSS .* of limit 4\.0 GB/);
  assert.doesNotMatch(run.stderr, /[\r\x1b]/, 'no terminal codes off a terminal');
  const json = JSON.parse(readFileSync(report, 'utf8')) as CliReport;
  assert.equal(json.command, 'run');
  assert.equal(json.exitCode, 0);
  assert.equal(json.interrupted, false);
  assert.equal(json.pipelines.length, 2);
  assert.equal(json.pipelines[0]!.ok, true);
  assert.equal(json.pipelines[0]!.stats.rowsIn, 2500);
  assert.equal(json.pipelines[0]!.stats.memory?.limit, parseBytes('4GB', 'x'), 'the --memory limit reached the script');
  assert.equal(readFileSync(out, 'utf8').split('\n').length, 2502);
  assert.deepEqual(readdirSync(dir).sort(), ['out.csv', 'report.json']);
});

test('spillway run: bad input and failing scripts exit 1 with one line', async () => {
  const dir = tempDir();
  const none = await cli(['run']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^spillway run: expected a script to run .*\n$/);
  const missing = await cli(['run', path.join(dir, 'nope.ts')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^spillway run: script not found: .*nope\.ts \[ERR_SPILLWAY_INVALID_OPTION\]\n$/);
  const memory = await cli(['run', SCRIPT, '--memory', 'lots']);
  assert.equal(memory.code, 1);
  assert.match(memory.stderr, /--memory/);
  const unknown = await cli(['run', '--frobnicate', SCRIPT]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown option --frobnicate/);

  // a .ts script with top-level await and no "type": "module" above it: Node takes it for
  // CommonJS, and the error says so (not "Cannot require() ES Module ... in a cycle")
  const commonjs = path.join(dir, 'commonjs.ts');
  writeFileSync(commonjs, 'await Promise.resolve();\nexport {};\n');
  const format = await cli(['run', commonjs]);
  assert.equal(format.code, 1);
  assert.match(
    format.stderr.trimEnd().split('\n').at(-1)!,
    /^spillway run: commonjs\.ts is an ES module .* add "type": "module" .* or name it \.mts .*\[ERR_SPILLWAY_INVALID_OPTION\]$/,
  );

  // a script outside the package imports spillway by its path
  const failing = path.join(dir, 'failing.mts');
  const spillway = pathToFileURL(runnable('index.ts')).href;
  writeFileSync(
    failing,
    `import { pipeline, fromIterable, map, collect } from '${spillway}';\n` +
      "await pipeline(fromIterable([{ a: 1 }, { a: 2 }]), map((row: { a: number }) => { if (row.a === 2) throw new Error('no twos'); return row; }), collect());\n",
  );
  const report = path.join(dir, 'failed.json');
  const run = await cli(['run', failing, '--report', report]);
  assert.equal(run.code, 1);
  const last = run.stderr.trimEnd().split('\n').at(-1)!;
  assert.match(last, /^spillway run: .*no twos.* \[ERR_SPILLWAY_STAGE\]$/);
  assert.match(run.stderr, /\(failed: .*no twos/);
  const json = JSON.parse(readFileSync(report, 'utf8')) as CliReport;
  assert.equal(json.exitCode, 1);
  assert.equal(json.pipelines[0]!.ok, false);
  assert.equal(json.error?.code, 'ERR_SPILLWAY_STAGE');
});

test('spillway run: Ctrl-C stops the pipeline cleanly and exits 130, no file under the final name', async () => {
  const dir = tempDir();
  const out = path.join(dir, 'out.csv');
  const report = path.join(dir, 'report.json');
  const child = spawn(
    NODE[0]!,
    [...NODE.slice(1), 'run', SCRIPT, '--report', report, '--', '--endless', '--pause', '2', '--out', out],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // interrupt once rows flow through the sink's temporary file
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('started')) resolve();
    });
    child.on('exit', () => reject(new Error(`exited before starting: ${stderr}`)));
  });
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted/);
  assert.equal(existsSync(out), false, 'no partial output under the final name');
  assert.deepEqual(readdirSync(dir), ['report.json'], 'no temporary file left either');
  const json = JSON.parse(readFileSync(report, 'utf8')) as CliReport;
  assert.equal(json.exitCode, 130);
  assert.equal(json.interrupted, true);
  assert.equal(json.pipelines[0]!.ok, false);
  assert.equal(json.pipelines[0]!.error?.code, 'ERR_SPILLWAY_ABORTED');
  assert.ok(json.pipelines[0]!.stats.rowsIn > 0);
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' });
const scriptSkip =
  hasScript.status === 0 && /util-linux/.test(hasScript.stdout)
    ? false
    : 'util-linux `script` is not installed: no pseudo-terminal to test the live line';

test('spillway run on a terminal: one live line redrawn with carriage returns', { skip: scriptSkip }, () => {
  const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;
  // about 2 s: 30 pauses of 60 ms, so the 250 ms line is redrawn several times
  const command = [...NODE, 'run', SCRIPT, '--', '--rows', '3000', '--pause', '60'].map(quote).join(' ');
  const result = spawnSync('script', ['-qefc', command, '/dev/null'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '120' },
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  const output = result.stdout;
  const redraws = output.split('\r\x1b[K').length - 1;
  assert.ok(
    redraws >= 3,
    `the live line is redrawn in place (${redraws} redraws): ${JSON.stringify(output.slice(0, 400))}`,
  );
  assert.match(output, /▕[█▏▎▍▌▋▊▉ ]+▏ \d+% [\d.]+k? rows [\d.]+k? rows\/s ETA \S+/);
  assert.match(output, /▕████████████▏ 100% 3\.0k rows .* in \S+/, 'the final line');
  assert.match(output, /3,000 rows in, 3,000 rows out/, 'then the report');
});

test('spillway convert and replay take --progress/--no-progress and --report', async () => {
  const dir = tempDir();
  const csv = path.join(dir, 'in.csv');
  writeFileSync(csv, `a,b\n${Array.from({ length: 500 }, (_, i) => `${i},x${i}`).join('\n')}\n`);
  const report = path.join(dir, 'convert.json');
  const run = await cli(['convert', csv, path.join(dir, 'out.parquet'), '--no-progress', '--report', report]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const json = JSON.parse(readFileSync(report, 'utf8')) as CliReport;
  assert.equal(json.command, 'convert');
  assert.equal(json.pipelines[0]!.stats.rowsOut, 500);
  const spillDir = path.join(dir, 'spill');
  await pipeline(
    fromIterable(
      Array.from({ length: 300 }, (_, i) => ({ i })),
      { batchSize: 50 },
    ),
    toSpill({ budget: 0, keep: true, dir: spillDir }),
    { governor: false },
  );
  const replayReport = path.join(dir, 'replay.json');
  const replay = await cli([
    'replay',
    spillDir,
    '--to',
    path.join(dir, 'replayed.csv'),
    '--progress',
    '--report',
    replayReport,
  ]);
  assert.equal(replay.code, 0, replay.stderr);
  assert.equal(replay.stderr, '', 'a short run off a terminal prints no progress line');
  const replayJson = JSON.parse(readFileSync(replayReport, 'utf8')) as CliReport;
  assert.equal(replayJson.command, 'replay');
  assert.equal(replayJson.pipelines[0]!.stats.rowsOut, 300);
  const bad = await cli(['convert', csv, path.join(dir, 'x.parquet'), '--report']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--report needs a file/);
  const help = await cli(['--help']);
  assert.match(help.stdout, /^ {2}run +run a pipeline script/m);
  const usage = await cli(['run', '--help']);
  assert.match(usage.stdout, /--progress \/ --no-progress/);
  assert.match(usage.stdout, /--memory SIZE/);
  assert.match(usage.stdout, /--report FILE/);
  assert.match(usage.stdout, /--checkpoint DIR/);
});
