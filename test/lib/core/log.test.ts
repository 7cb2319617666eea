/**
 * DEBUG output is escaped (issue 19): file names, column names and error messages that reach a
 * debug line can hold escape sequences (clear the screen, ring the bell) that must print as
 * visible `\x1b...` text, as the CLI's own output does. Run as users run it: a child process with
 * DEBUG=spillway:*, writing an Arrow file whose name holds ESC[2J and BEL (toArrow logs its path),
 * and logging strings, objects and an error through %s, %o and %d.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, tempDir } from '../../helpers.ts';

const HOSTILE = '\x1b[2J\x07';
const SHOWN = '\\x1b[2J\\x07';
// C0 controls but tab and newline, DEL, and C1 controls
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('debug lines escape control characters from file names, values and errors; %s, %o and %d still format', async () => {
  const dir = tempDir('spillway-log-');
  const out = join(dir, `out${HOSTILE}.arrow`);
  const script = join(dir, 'script.mts');
  writeFileSync(
    script,
    `import { collect, fromIterable, pipeline, toArrow } from ${JSON.stringify(join(ROOT, 'index.ts'))};
import { logger } from ${JSON.stringify(join(ROOT, 'lib/core/log.ts'))};
const hostile = ${JSON.stringify(HOSTILE)};
await pipeline(fromIterable([{ ['col' + hostile]: 1 }]), toArrow(${JSON.stringify(out)}));
const log = logger('test');
log('string %s, number %d, object %o', 'name' + hostile, 42, { ['key' + hostile]: 'value' + hostile });
log('error %s', new Error('failed' + hostile));
log('error %o', new Error('broken' + hostile));
await pipeline(fromIterable([]), collect());
`,
  );
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=spillway-source', '--import', 'tsx', script],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DEBUG: 'spillway:*', DEBUG_COLORS: 'no' } },
      (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr }),
    );
  });
  assert.equal(code, 0, stderr);
  const raw = RAW_CONTROL.exec(stderr);
  assert.equal(raw, null, `raw control U+${raw?.[0]?.codePointAt(0)?.toString(16)} in ${JSON.stringify(stderr)}`);
  const lines = stderr.split('\n');
  const line = (pattern: RegExp): string => lines.find((l) => pattern.test(l)) ?? '';
  // toArrow's commit line names the file
  assert.ok(line(/spillway:arrow committed/).includes(`out${SHOWN}.arrow`), stderr);
  const formatted = line(/spillway:test string/);
  assert.ok(formatted.includes(`string name${SHOWN}, number 42, object `), formatted);
  assert.match(formatted, /key\\x1[bB]\[2J\\x07/);
  assert.match(formatted, /value\\x1[bB]\[2J\\x07/);
  assert.ok(line(/spillway:test error .*failed/).includes(`failed${SHOWN}`), stderr);
  assert.ok(line(/spillway:test error .*broken/).includes(`broken${SHOWN}`), stderr);
});
