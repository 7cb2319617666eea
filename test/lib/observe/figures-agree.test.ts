/**
 * One figure, one reading: the terminal progress line, the text report, the dashboard's live
 * figures and the HTML report show the same run's duration, bytes and rate in the same words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline } from '../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../sources/fromIterable.ts';
import { collect } from '../../../sinks/collect.ts';
import { formatProgress } from '../../../lib/observe/progress-line.ts';
import { formatReport } from '../../../lib/observe/report.ts';
import { dashboardFigures } from '../../../lib/observe/dashboard/figures.ts';
import { formatHtmlReport } from '../../../lib/observe/dashboard/report-html.ts';
import type { ProgressEvent } from '../../../lib/observe/progress.ts';

test('the progress line, the text report, the dashboard and the HTML report format a figure alike', async () => {
  const { stats: real } = await pipeline(fromIterable([{ a: 1 }]), collect(), { governor: false });
  const rows = 6_100_000;
  const ms = 12_345;
  const bytes = 1.234e9;
  const perSec = (rows / ms) * 1000;
  const stats = { ...real, rowsIn: rows, rowsOut: rows, durationMs: ms, bytesRead: bytes };
  const event: ProgressEvent = {
    state: 'done',
    rows,
    bytes,
    rowsPerSec: perSec,
    bytesPerSec: (bytes / ms) * 1000,
    elapsedMs: ms,
    memory: { level: 'ok', rss: 2e8 },
    spilledBytes: 0,
    stages: [],
  };
  const expected = { duration: '12.3 s', bytes: '1.2 GB', rate: '494k rows/s' };

  const line = formatProgress(event);
  const text = formatReport(stats);
  const page = dashboardFigures(event, { spilledBytes: 0, batch: { last: 0, min: 0, max: 0 }, restarts: 0 }).text;
  const html = formatHtmlReport(stats);

  assert.ok(line.includes(`6.1M rows ${expected.bytes} ${expected.rate} in ${expected.duration}`), line);
  assert.match(text, new RegExp(`rows out in ${expected.duration} \\(${expected.rate}\\)`));
  assert.match(text, new RegExp(`read ${expected.bytes} \\(`));
  assert.deepEqual(
    [page.elapsed, page.bytes, `${page.rowsPerSec} rows/s`, page.rows],
    [expected.duration, expected.bytes, expected.rate, '6.1M'],
  );
  for (const figure of Object.values(expected)) assert.ok(html.includes(figure), `the HTML report shows ${figure}`);
});
