import type { PipelineStats } from '../../core/stats.ts';
import type { WorkerStats } from '../../workers/pool/worker-pool.ts';
import { runCharts } from './charts.ts';
import { escapeHtml } from './format.ts';
import { formatBytes, formatCount, formatDuration, formatPercent, formatRate } from '../../core/format.ts';

/** The style sheet shared by the report and the live page. */
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #24292f; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: .5rem; margin: .75rem 0; padding: 0; }
.figures div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .45rem .6rem; min-width: 0; }
.figures dt { font-size: .8rem; color: var(--muted); }
.figures dd { margin: 0; font-size: 1.25rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; min-width: 0; }
figure:focus, figure:focus-within, .table-wrap:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .25rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .9rem; }
th, td { text-align: right; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.muted { color: var(--muted); }
@media (max-width: 40rem) { main { padding: .5rem; } .figures dd { font-size: 1.05rem; } }
`;

/** A figure for a list of figures: label and value. */
export interface Figure {
  label: string;
  value: string;
  /** Element id of the value (the live page updates it). */
  id?: string;
}

/** A `<dl>` of figures. */
export function figureList(figures: readonly Figure[], label: string): string {
  const items = figures.map(
    (f) =>
      `<div><dt>${escapeHtml(f.label)}</dt><dd${f.id ? ` id="${escapeHtml(f.id)}"` : ''}>${escapeHtml(f.value)}</dd></div>`,
  );
  return `<dl class="figures" aria-label="${escapeHtml(label)}">${items.join('')}</dl>`;
}

/** Total bytes spill sinks wrote to disk, from their stage details. */
export function spilledOnDisk(stats: Pick<PipelineStats, 'stages'>): number {
  return stats.stages.reduce((n, s) => n + (typeof s.details.bytesOnDisk === 'number' ? s.details.bytesOnDisk : 0), 0);
}

/** In-memory bytes spilled over bytes on disk, when both are known (an estimate: batch sizes are sampled). */
export function compressionRatio(spilledBytes: number, bytesOnDisk: number): number | undefined {
  return spilledBytes > 0 && bytesOnDisk > 0 ? spilledBytes / bytesOnDisk : undefined;
}

/** The headline figures of a finished run. */
export function summaryFigures(stats: PipelineStats): Figure[] {
  const seconds = stats.durationMs / 1000;
  const m = stats.memory;
  const figures: Figure[] = [
    { label: 'rows in', value: formatCount(stats.rowsIn) },
    { label: 'rows out', value: formatCount(stats.rowsOut) },
    { label: 'bytes read', value: formatBytes(stats.bytesRead) },
    { label: 'duration', value: formatDuration(stats.durationMs) },
    { label: 'throughput', value: seconds > 0 ? formatRate(stats.rowsIn / seconds, 'rows') : '–' },
    { label: 'rows skipped', value: formatCount(stats.errors.skipped) },
    { label: 'rows dead-lettered', value: formatCount(stats.errors.deadLettered) },
  ];
  if (m) {
    const onDisk = spilledOnDisk(stats);
    const ratio = compressionRatio(m.spilledBytes, onDisk);
    figures.push(
      { label: 'peak RSS', value: `${formatBytes(m.peakRss)} (${formatPercent(m.peakFraction)})` },
      { label: 'memory limit', value: formatBytes(m.limit) },
      { label: 'time paused', value: `${formatDuration(m.pausedMs)} (${m.pressureEvents}×)` },
      { label: 'spilled', value: `${formatBytes(m.spilledBytes)} in ${m.spills}` },
      { label: 'on disk', value: onDisk > 0 ? formatBytes(onDisk) : '–' },
      { label: 'compression', value: ratio === undefined ? '–' : `≈${ratio.toFixed(1)}×` },
    );
  }
  return figures;
}

/** A table of workers' counters (empty string when there are none). */
export function workersTable(workers: readonly WorkerStats[] | undefined): string {
  if (!workers || workers.length === 0) return '<p class="muted">No parallel stage in this run.</p>';
  const rows = workers.map(
    (w) =>
      `<tr><td class="text">${escapeHtml(`${w.stage ?? ''} ${w.id}`.trim())}</td><td>${formatCount(w.batches)}</td><td>${formatCount(w.rows)}</td><td>${formatCount(w.rowsPerSec)}</td><td>${w.failures}</td><td>${w.restarts}</td><td>${w.recycles}</td><td>${formatDuration(w.busyMs)}</td></tr>`,
  );
  return (
    '<div class="table-wrap" tabindex="0" role="region" aria-label="Workers"><table><caption>Workers</caption>' +
    '<thead><tr><th scope="col" class="text">worker</th><th scope="col">batches</th><th scope="col">rows</th><th scope="col">rows/s</th><th scope="col">failures</th><th scope="col">restarts</th><th scope="col">recycles</th><th scope="col">busy</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

/** A table of the stages' counters. */
export function stagesTable(stats: PipelineStats): string {
  const rows = stats.stages.map((s) => {
    const details = Object.entries(s.details)
      .map(([k, v]) => `${k}: ${typeof v === 'number' && /bytes/i.test(k) ? formatBytes(v) : String(v)}`)
      .join(', ');
    return `<tr><td class="text">${escapeHtml(s.name)}</td><td class="text">${s.kind}</td><td>${formatCount(s.rowsIn)}</td><td>${formatCount(s.rowsOut)}</td><td>${formatCount(s.batchesOut)}</td><td>${formatDuration(s.timeMs)}</td><td>${formatCount(s.rowsSkipped)}</td><td class="text">${escapeHtml(details)}</td></tr>`;
  });
  return (
    '<div class="table-wrap" tabindex="0" role="region" aria-label="Stages"><table><caption>Stages</caption>' +
    '<thead><tr><th scope="col" class="text">stage</th><th scope="col" class="text">kind</th><th scope="col">rows in</th><th scope="col">rows out</th><th scope="col">batches out</th><th scope="col">own time</th><th scope="col">skipped</th><th scope="col" class="text">details</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

/** One chart in a focusable figure with a caption; `chartId` names the element holding the SVG. */
export function chartFigure(svg: string, caption: string, chartId?: string): string {
  return `<figure tabindex="0"><div class="chart"${chartId ? ` id="${escapeHtml(chartId)}"` : ''}>${svg}</div><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** The report's sections (figures, charts, stages, workers) as an HTML fragment; `level` is their heading level. */
export function reportSections(stats: PipelineStats, idPrefix = 'report-', level: 2 | 3 = 2): string {
  const h = (text: string): string => `<h${level}>${text}</h${level}>`;
  const parts: string[] = [h('Summary'), figureList(summaryFigures(stats), 'Run summary')];
  if (stats.timeline) {
    const total = stats.timeline.rowsTotal;
    const charts = runCharts(stats.timeline, { idPrefix, ...(total !== undefined ? { rowsTotal: total } : {}) });
    parts.push(
      `${h('Over time')}<div class="charts">`,
      chartFigure(charts.progress, 'Rows (left axis) and bytes (right axis) read by the sources.'),
      chartFigure(charts.throughput, 'Rows and bytes per second; shaded: spill level (amber) and paused (red).'),
      chartFigure(
        charts.memory,
        'RSS, V8 heap and child processes against the governor marks (dashed); ticks at the bottom: spills.',
      ),
      chartFigure(charts.batches, 'Rows per batch chosen by the source.'),
      '</div>',
    );
  }
  parts.push(h('Stages'), stagesTable(stats), h('Workers'), workersTable(stats.workers));
  return parts.join('\n');
}

/** One pipeline in a report of several. */
export interface HtmlReportEntry {
  /** Its heading, e.g. `etl.ts pipeline 1/2`. */
  title: string;
  stats: PipelineStats;
  /** Why it failed, when it did. */
  error?: string;
}

function documentOf(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // no script, no external resource: the file opens from disk and makes no request
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head><body><main>',
    `<h1>${escapeHtml(title)}</h1>`,
    body,
    '</main></body></html>',
    '',
  ].join('\n');
}

function stagesLine(stats: PipelineStats): string {
  return `<p class="muted">Started ${escapeHtml(stats.startedAt)}; ${escapeHtml(stats.stages.map((s) => s.name).join(' → '))}</p>`;
}

/** A complete, self-contained HTML document reporting a finished run. */
export function formatHtmlReport(stats: PipelineStats, title = 'spillway run report'): string {
  return documentOf(title, `${stagesLine(stats)}\n${reportSections(stats)}`);
}

/** One self-contained HTML document reporting several pipelines (what `spillway run --report x.html` writes). */
export function formatHtmlReports(entries: readonly HtmlReportEntry[], title = 'spillway run report'): string {
  if (entries.length === 0) return documentOf(title, '<p>No pipeline ran.</p>');
  const body = entries.map((entry, i) =>
    [
      `<section aria-labelledby="p${i}-heading"><h2 id="p${i}-heading">${escapeHtml(entry.title)}</h2>`,
      entry.error ? `<p role="alert"><strong>Failed:</strong> ${escapeHtml(entry.error)}</p>` : '',
      stagesLine(entry.stats),
      reportSections(entry.stats, `p${i}-`, 3),
      '</section>',
    ].join('\n'),
  );
  return documentOf(title, body.join('\n'));
}
