/**
 * The live dashboard page: HTML, CSS and a small script as strings, served as they are (no
 * framework, no build step). The server formats every figure and renders every chart, so the
 * script only opens the event stream and puts text and SVG in place. Semantic HTML: headings,
 * a description list of figures, focusable figures and tables, a polite live region for the
 * status only (figures change too often to be read out), and a layout that reflows to one column.
 */
import { escapeHtml } from './format.ts';
import { REPORT_CSS, chartFigure } from './report-html.ts';

/** The live figures, in display order: key (the element is `f-KEY`) and label. */
export const LIVE_FIGURES = [
  ['rows', 'rows'],
  ['percent', 'done'],
  ['bytes', 'bytes read'],
  ['rowsPerSec', 'rows/s'],
  ['bytesPerSec', 'bytes/s'],
  ['eta', 'ETA'],
  ['elapsed', 'elapsed'],
  ['level', 'memory level'],
  ['memory', 'memory (of limit)'],
  ['rss', 'RSS'],
  ['heap', 'heap used'],
  ['children', 'child processes'],
  ['spilled', 'spilled'],
  ['onDisk', 'spill on disk'],
  ['compression', 'compression'],
  ['batch', 'batch size (min–max)'],
  ['workers', 'workers'],
] as const;

/** A key of {@link LIVE_FIGURES}. */
export type LiveFigure = (typeof LIVE_FIGURES)[number][0];

/** The charts on the page, in order: key (the element is `chart-KEY`) and caption. */
export const LIVE_CHARTS = [
  ['progress', 'Rows (left axis) and bytes (right axis) read by the sources.'],
  ['throughput', 'Rows and bytes per second; shaded: spill level (amber) and paused (red).'],
  ['memory', 'RSS, V8 heap and child processes against the governor marks (dashed); ticks at the bottom: spills.'],
  ['batches', 'Rows per batch chosen by the source.'],
] as const;

const PAGE_CSS = `
.skip { position: absolute; left: -999px; }
.skip:focus { left: .5rem; top: .5rem; background: #fff; padding: .25rem .5rem; z-index: 1; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; }
#status { margin: 0; font-weight: 600; }
#status[data-state="paused"] { color: #cf222e; }
#status[data-state="done"] { color: #1a7f37; }
#status[data-state="failed"] { color: #82071e; }
progress { width: 100%; height: 1rem; margin: .5rem 0 0; accent-color: #1f6feb; }
.chart { min-height: 4rem; }
a { color: var(--accent); }
a:focus-visible, .skip:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
`;

// the page's script: plain ES2020, no dependency; runs under a nonce'd CSP
const PAGE_JS = `
'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  var withToken = function (path) { return path + '?token=' + encodeURIComponent(token); };
  var byId = function (id) { return document.getElementById(id); };
  var setText = function (el, text) { if (el && el.textContent !== text) el.textContent = text; };
  var done = false;
  var status = byId('status');
  var setStatus = function (text, state) {
    setText(status, text);
    if (status.dataset.state !== state) status.dataset.state = state;
  };
  var source = new EventSource(withToken('/events'));
  source.addEventListener('figures', function (e) {
    var data = JSON.parse(e.data);
    Object.keys(data.text).forEach(function (key) { setText(byId('f-' + key), data.text[key]); });
    var bar = byId('bar');
    if (typeof data.fraction === 'number') { bar.value = data.fraction; bar.setAttribute('aria-valuetext', data.text.percent); }
    else bar.removeAttribute('value');
    if (!done) setStatus(data.status, data.state);
  });
  source.addEventListener('charts', function (e) {
    var charts = JSON.parse(e.data);
    Object.keys(charts).forEach(function (key) { var el = byId('chart-' + key); if (el) el.innerHTML = charts[key]; });
  });
  source.addEventListener('workers', function (e) { byId('workers').innerHTML = JSON.parse(e.data); });
  source.addEventListener('done', function (e) {
    var data = JSON.parse(e.data);
    done = true;
    byId('report-body').innerHTML = data.html;
    byId('report-link').href = withToken('/report.html');
    byId('report').hidden = false;
    var bar = byId('bar');
    if (data.state === 'done') bar.value = 1;
    setStatus(data.status, data.state);
    document.title = data.status + ' · spillway';
    source.close();
  });
  source.onerror = function () {
    if (!done) setStatus(source.readyState === EventSource.CLOSED ? 'disconnected' : 'connection lost, retrying…', 'lost');
  };
})();
`;

/** The page's HTML; `nonce` authorises its inline script and style under the server's CSP. */
export function pageHtml(nonce: string, title = 'spillway dashboard'): string {
  const n = escapeHtml(nonce);
  const figures = LIVE_FIGURES.map(
    ([key, label]) => `<div><dt>${escapeHtml(label)}</dt><dd id="f-${key}">–</dd></div>`,
  ).join('');
  const charts = LIVE_CHARTS.map(([key, caption]) => chartFigure('', caption, `chart-${key}`)).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style nonce="${n}">${REPORT_CSS}${PAGE_CSS}</style>
</head><body>
<a class="skip" href="#charts-heading">Skip to the charts</a>
<main>
<header><h1>${escapeHtml(title)}</h1><p id="status" role="status" aria-live="polite" data-state="connecting">connecting…</p></header>
<progress id="bar" max="1" aria-label="Share of the input read"></progress>
<section aria-labelledby="now-heading"><h2 id="now-heading">Now</h2>
<dl class="figures" aria-label="Live figures">${figures}</dl></section>
<section aria-labelledby="charts-heading"><h2 id="charts-heading" tabindex="-1">Over time</h2>
<div class="charts">${charts}</div></section>
<section aria-labelledby="workers-heading"><h2 id="workers-heading">Workers</h2><div id="workers"><p class="muted">No parallel stage yet.</p></div></section>
<section id="report" hidden aria-labelledby="report-heading"><h2 id="report-heading">Final report</h2>
<p><a id="report-link" href="#report">Open the report on its own page</a> (the same file <code>--report out.html</code> writes)</p>
<div id="report-body"></div></section>
</main>
<script nonce="${n}">${PAGE_JS}</script>
</body></html>
`;
}
