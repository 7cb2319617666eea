import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  batchChart,
  levelSpans,
  lineChart,
  memoryChart,
  niceTicks,
  progressChart,
  rates,
  runCharts,
  spillTicks,
} from '../../../../lib/observe/dashboard/charts.ts';
import type { Timeline } from '../../../../lib/observe/timeline.ts';

const MB = 1e6;

/** A governed run of 10 s: a pause from 4 s to 6 s, spills at 5 s and 7 s. */
function timeline(): Timeline {
  const t = [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000];
  return {
    start: Date.parse('2024-01-01T00:00:00Z'),
    intervalMs: 1000,
    t,
    rows: t.map((ms) => ms * 10),
    bytes: t.map((ms) => ms * 1000),
    batchRows: [0, 1000, 1000, 2000, 2000, 2000, 500, 500, 1000, 1000, 1000],
    spilledBytes: [0, 0, 0, 0, 0, 30 * MB, 30 * MB, 50 * MB, 50 * MB, 50 * MB, 50 * MB],
    rss: [100, 120, 150, 200, 420, 430, 300, 250, 240, 230, 220].map((m) => m * MB),
    heapUsed: t.map(() => 40 * MB),
    children: t.map(() => 0),
    level: [0, 0, 0, 1, 2, 2, 1, 0, 0, 0, 0],
    memory: { limit: 500 * MB, heapLimit: 4000 * MB, spill: 300 * MB, pause: 400 * MB, critical: 475 * MB },
    rowsTotal: 100_000,
  };
}

/** Parses an SVG string strictly enough to catch unbalanced or unescaped markup. */
function assertWellFormed(svg: string): void {
  assert.match(svg, /^<svg [^>]*role="img"[^>]*>/);
  assert.ok(svg.endsWith('</svg>'));
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes what was opened`);
    else stack.push(name as string);
  }
  assert.deepEqual(stack, []);
  // text content never carries a raw < or &
  for (const text of svg.matchAll(/>([^<]*)</g)) assert.doesNotMatch(text[1] ?? '', /&(?![a-z]+;|#\d+;)/);
}

test('niceTicks covers the maximum with round steps', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(100), [0, 25, 50, 75, 100]);
  const ticks = niceTicks(437 * MB);
  assert.ok((ticks.at(-1) ?? 0) >= 437 * MB);
  assert.ok(ticks.length >= 3 && ticks.length <= 7);
});

test('lineChart draws series, bands, rules and ticks, accessibly', () => {
  const svg = lineChart({
    id: 'c1',
    title: 'Title <&>',
    description: 'what it shows',
    x: [0, 1000, 2000],
    series: [{ label: 'a', values: [1, 2, 3], color: '#000' }],
    yFormat: String,
    bands: [{ from: 500, to: 1500, color: '#f00', label: 'paused: 0.5s to 1.5s' }],
    rules: [{ value: 2.5, label: 'mark', color: '#00f' }],
    ticks: [{ at: 1000, label: 'spilled', color: '#fa0' }],
  });
  assertWellFormed(svg);
  assert.match(svg, /aria-labelledby="c1-title c1-desc"/);
  assert.match(svg, /<title id="c1-title">Title &lt;&amp;&gt;<\/title>/);
  assert.match(svg, /<desc id="c1-desc">what it shows<\/desc>/);
  assert.match(svg, /<path d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
  assert.match(svg, /fill="#f00" fill-opacity="0.16"><title>paused: 0.5s to 1.5s<\/title>/);
  assert.match(svg, /stroke-dasharray="6 4"><title>mark<\/title>/);
  assert.match(svg, /stroke="#fa0" stroke-width="2"><title>spilled<\/title>/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
});

test('an empty chart says so instead of drawing nothing', () => {
  const svg = lineChart({
    id: 'e',
    title: 'Empty',
    description: 'nothing',
    x: [],
    series: [{ label: 's', values: [], color: '#000' }],
    yFormat: String,
  });
  assertWellFormed(svg);
  assert.match(svg, /no data yet/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
});

test('levelSpans finds the pause and the spill level', () => {
  const tl = timeline();
  assert.deepEqual(levelSpans(tl, 2), [{ from: 3000, to: 5000 }]);
  assert.deepEqual(levelSpans(tl, 1, 2), [
    { from: 2000, to: 3000 },
    { from: 5000, to: 6000 },
  ]);
  // a span still open at the end runs to the last point
  assert.deepEqual(levelSpans({ ...tl, level: tl.t.map(() => 2) }, 2), [{ from: 0, to: 10_000 }]);
});

test('spillTicks marks where spilled bytes grew', () => {
  const ticks = spillTicks(timeline());
  assert.deepEqual(
    ticks.map((t) => [t.at, t.label]),
    [
      [5000, 'spilled 30.0 MB'],
      [7000, 'spilled 20.0 MB'],
    ],
  );
});

test('rates: per second over a window, never negative', () => {
  const tl = timeline();
  const r = rates(tl, tl.rows);
  assert.equal(r[0], 0);
  for (const v of r.slice(1)) assert.equal(Math.round(v), 10_000);
});

test('memoryChart draws RSS and heap against the marks, pauses shaded and spills ticked', () => {
  const svg = memoryChart(timeline());
  assertWellFormed(svg);
  for (const label of ['spill 300 MB', 'pause 400 MB', 'critical 475 MB', 'RSS', 'heap used', 'paused'])
    assert.ok(svg.includes(label), label);
  assert.equal((svg.match(/<title>spilled /g) ?? []).length, 2);
  assert.match(svg, /paused 1 time\(s\)/);
  assert.match(svg, /RSS peaked at 430 MB of a 500 MB limit/);
  // no children drawn when there were none
  assert.ok(!svg.includes('child processes'));
});

test('memoryChart of an ungoverned run says so', () => {
  const { rss: _rss, heapUsed: _h, children: _c, level: _l, memory: _m, ...rest } = timeline();
  const svg = memoryChart(rest);
  assertWellFormed(svg);
  assert.match(svg, /not governed/);
});

test('progressChart shows the total and both axes; batchChart steps', () => {
  const progress = progressChart(timeline(), { rowsTotal: 100_000 });
  assertWellFormed(progress);
  assert.match(progress, /total 100k rows/);
  assert.match(progress, /bytes \(right\)/);
  const batches = batchChart(timeline());
  assertWellFormed(batches);
  assert.match(batches, /d="M[\d.]+,[\d.]+H[\d.]+V/);
  assert.match(batches, /from 500 to 2.0k/);
});

test('runCharts keeps ids unique with a prefix', () => {
  const a = runCharts(timeline(), { idPrefix: 'a-' });
  const b = runCharts(timeline(), { idPrefix: 'b-' });
  const ids = [...Object.values(a), ...Object.values(b)].flatMap((svg) =>
    [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]),
  );
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, 16);
});
