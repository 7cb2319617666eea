import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { formatReport } from '../../../../lib/observe/report.ts';
import { MemoryGovernor } from '../../../../lib/memory/governor.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { map } from '../../../../transforms/map.ts';
import { toSpill } from '../../../../sinks/toSpill.ts';
import { drain } from '../../../../sinks/drain.ts';
import { formatHtmlReport, formatHtmlReports } from '../../../../lib/observe/dashboard/report-html.ts';
import { writeFileAtomicSync } from '../../../../lib/io/atomic-file.ts';
import { pageHtml } from '../../../../lib/observe/dashboard/page.ts';

/** Asserts a document makes no request anywhere: no URL, no script, no external style or image. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg")/i, 'no http(s) URL but the SVG namespace');
  assert.doesNotMatch(html, /<script\b/i, 'no script');
  assert.doesNotMatch(html, /<link\b/i, 'no link tag');
  assert.doesNotMatch(html, /<(img|iframe|object|embed|video|audio|source)\b/i, 'no embedded resource');
  assert.doesNotMatch(html, /url\(|@import/i, 'no CSS fetch');
  assert.doesNotMatch(html, /\b(src|href)=/i, 'no src or href');
}

async function governedRun(): Promise<Awaited<ReturnType<typeof pipeline>>['stats']> {
  const governor = new MemoryGovernor({ intervalMs: 20, leak: false, gc: false });
  try {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ i, text: `row ${i}`.repeat(5) }));
    const { output, stats } = await pipeline(
      fromIterable(rows, { batchSize: 100 }),
      map(async (row: { i: number }) => {
        if (row.i % 300 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
        return row;
      }),
      toSpill({ budget: 0 }),
      { governor },
    );
    await output.dispose();
    return stats;
  } finally {
    governor.close();
  }
}

test('a governed run: stats carry a bounded, JSON-serialisable timeline', async () => {
  const stats = await governedRun();
  const tl = stats.timeline;
  assert.ok(tl, 'stats.timeline');
  assert.ok(tl.t.length >= 2 && tl.t.length <= 600);
  assert.equal(tl.rows.at(-1), 3000);
  assert.equal(tl.rowsTotal, 3000);
  assert.ok((tl.rss?.at(-1) ?? 0) > 0);
  assert.ok((tl.spilledBytes.at(-1) ?? 0) > 0, 'spills recorded');
  assert.equal(tl.batchRows.at(-1), 100);
  assert.ok(tl.memory && tl.memory.pause > tl.memory.spill);
  for (const column of [tl.rows, tl.bytes, tl.batchRows, tl.spilledBytes, tl.rss, tl.heapUsed, tl.children, tl.level])
    assert.equal(column?.length, tl.t.length);
  assert.deepEqual(JSON.parse(JSON.stringify(stats)), stats);
});

test("formatReport(stats, { format: 'html' }): one self-contained document with inline SVG charts", async () => {
  const stats = await governedRun();
  const html = formatReport(stats, { format: 'html', title: 'nightly <ETL>' });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<title>nightly &lt;ETL&gt;<\/title>/);
  assertSelfContained(html);
  assert.equal((html.match(/<svg /g) ?? []).length, 4, 'four charts');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  for (const text of [
    'rows in',
    'peak RSS',
    'compression',
    'Stages',
    'fromIterable',
    'toSpill',
    'Memory',
    'Throughput',
    'Batch size',
  ])
    assert.ok(html.includes(text), text);
  assert.match(html, /≈\d+\.\d×/, 'a compression ratio');
  assert.doesNotMatch(html, /NaN|undefined|Infinity/);
  // several charts on one page: every id unique
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
});

test('an ungoverned run reports without memory charts, and stays valid', async () => {
  const { stats } = await pipeline(fromIterable([{ a: 1 }, { a: 2 }]), drain(), { governor: false });
  assert.ok(stats.timeline);
  assert.equal(stats.timeline.rss, undefined);
  const html = formatHtmlReport(stats);
  assertSelfContained(html);
  assert.match(html, /not governed/);
  assert.match(html, /No parallel stage/);
});

test('formatHtmlReports: several pipelines, a failure shown, written atomically', async () => {
  const { stats } = await pipeline(fromIterable([{ a: 1 }]), drain(), { governor: false });
  const html = formatHtmlReports([
    { title: 'job.ts pipeline 1/2', stats },
    { title: 'job.ts pipeline 2/2', stats, error: 'boom <here>' },
  ]);
  assertSelfContained(html);
  assert.match(html, /<h2 id="p0-heading">job.ts pipeline 1\/2<\/h2>/);
  assert.match(html, /<strong>Failed:<\/strong> boom &lt;here&gt;/);
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
  const dir = mkdtempSync(join(tmpdir(), 'spillway-report-'));
  try {
    writeFileAtomicSync(join(dir, 'out.html'), html);
    assert.equal(readFileSync(join(dir, 'out.html'), 'utf8'), html);
    assert.deepEqual(readdirSync(dir), ['out.html']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the live page: nonce on its only script and style, labelled landmarks, no external resource', () => {
  const html = pageHtml('abc123', 'my <run>');
  assert.equal((html.match(/<script\b/g) ?? []).length, 1);
  assert.match(html, /<script nonce="abc123">/);
  assert.match(html, /<style nonce="abc123">/);
  assert.match(html, /<title>my &lt;run&gt;<\/title>/);
  assert.match(html, /role="status" aria-live="polite"/);
  assert.match(html, /<progress id="bar"[^>]*aria-label=/);
  assert.match(html, /name="viewport"/);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<link\b|<img\b/);
  for (const id of [
    'f-rows',
    'f-eta',
    'f-rss',
    'f-spilled',
    'f-compression',
    'f-batch',
    'f-workers',
    'chart-memory',
    'chart-progress',
    'chart-batches',
    'workers',
    'report-body',
  ])
    assert.ok(html.includes(`id="${id}"`), id);
  const sections = html.match(/<section aria-labelledby="([^"]+)"/g) ?? [];
  assert.ok(sections.length >= 3);
});
