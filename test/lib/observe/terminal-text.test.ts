/**
 * Escape sequences in names (issue 19, item 7): a stage named by user code or a name from a
 * hostile file must reach the text report as visible text, never as a terminal command.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalSafe } from '../../../lib/observe/terminal-text.ts';
import { formatReport } from '../../../lib/observe/report.ts';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { map } from '../../../transforms/map.ts';
import { collect } from '../../../sinks/collect.ts';

const HOSTILE = 'clean\x1b]0;owned\x07\x1b[2J\x1b[1A\rfake line\u202eevil\x9b31m';
// ESC, BEL, CR, C1 CSI and the bidi override must all be gone
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('terminalSafe shows control characters as escapes and keeps tabs, newlines and text', () => {
  assert.equal(terminalSafe('a\tb\nc'), 'a\tb\nc');
  assert.equal(terminalSafe('\x1b[2J'), '\\x1b[2J');
  assert.equal(terminalSafe('x\u202ey'), 'x\\u{202e}y');
  assert.equal(terminalSafe('héllo 日本'), 'héllo 日本');
  assert.doesNotMatch(terminalSafe(HOSTILE), CONTROL);
});

test('the text report of a run with a hostile stage name holds no control character', async () => {
  const { stats } = await pipeline(
    fromIterable([{ a: 1 }, { a: 2 }]),
    map((row: { a: number }) => row, { name: HOSTILE }),
    collect(),
    { governor: false },
  );
  assert.ok(
    stats.stages.some((s) => s.name === HOSTILE),
    'the stats keep the name as given',
  );
  const text = formatReport(stats);
  assert.doesNotMatch(text, CONTROL);
  assert.match(text, /clean\\x1b\]0;owned\\x07/);
});
