/**
 * The live dashboard in a real browser: a child process runs a real pipeline (an array through
 * a slow async map, two worker threads of which one fails once, and a spill sink, under a
 * governor whose probe reports pressure while the run is held at a gate); headless Chromium,
 * driven by playwright-core, opens the printed address, sees the figures change, takes a
 * screenshot, and sees the final report. A request without the token gets 403; after the run
 * the port refuses connections while the child process still lives.
 *
 * Needs Debian's `chromium` (/usr/bin/chromium; CI installs it with apt); skips without it.
 * `UPDATE_SCREENSHOT=1` also writes the screenshot to docs/dashboard.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { ROOT, nodeScript, runnable, skipUnlessCI } from '../helpers.ts';

// the functions passed to page.waitForFunction run in the browser; the project has no DOM types
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  tagName: string;
  getAttribute(name: string): string | null;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  activeElement: PageElement | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };

const root = ROOT;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function loadPlaywright(): Promise<typeof import('playwright-core') | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  try {
    return await import('playwright-core');
  } catch (error) {
    return `playwright-core is not installed (${(error as Error).message})`;
  }
}

const CHILD = (marker: string) => `
import { createInterface } from 'node:readline';
import { pipeline, fromIterable, map, parallel, toSpill, MemoryGovernor } from ${JSON.stringify(pathToFileURL(runnable('index.ts')).href)};
import { ProcessMemoryProbe } from ${JSON.stringify(pathToFileURL(runnable('lib/entry/extend.ts')).href)};

const lines = createInterface({ input: process.stdin });
const waiting = [];
lines.on('line', (line) => waiting.shift()?.(line));
const nextLine = () => new Promise((resolve) => waiting.push(resolve));

const N = 6000;
const HOLD = 500;
const GATE = 3000;
const rows = Array.from({ length: N }, (_, n) => (n === 1234 ? { n, marker: ${JSON.stringify(marker)}, mode: 'throw' } : { n }));

// real readings, and pressure (85% of the limit) while the run waits at the gate
const real = new ProcessMemoryProbe();
let pressure = false;
const limit = Math.round(process.memoryUsage.rss() * 3);
const probe = {
  async sample(children, request) {
    const reading = await real.sample(children, request);
    return pressure ? { ...reading, rss: Math.round(limit * 0.85) } : reading;
  },
};
const governor = new MemoryGovernor({ limit, intervalMs: 50, probe, leak: false, gc: false });
let gate;
const { stats } = await pipeline(
  fromIterable(rows, { batchSize: 100 }),
  map(async (row) => {
    // held (no pressure) until the page has loaded, so the test sees the figures move on any machine
    if (row.n === HOLD) {
      process.stdout.write('hold\\n');
      await nextLine();
    }
    if (row.n === GATE) {
      pressure = true;
      process.stdout.write('gate\\n');
      gate ??= nextLine();
      await gate;
      pressure = false;
    }
    if (row.n % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    return row;
  }),
  parallel(${JSON.stringify(pathToFileURL(runnable('test/fixtures/pool/flaky.ts')).href)}, { workers: 2, retries: 2 }),
  toSpill({ budget: 0 }),
  { governor, dashboard: { title: 'e2e run' } },
);
governor.close();
process.stdout.write('finished ' + JSON.stringify({ rows: stats.rowsOut, points: stats.timeline?.t.length }) + '\\n');
await nextLine();
`;

test('the live dashboard in headless Chromium during a real run', { timeout: 120_000 }, async (t) => {
  const playwright = await loadPlaywright();
  if (typeof playwright === 'string') {
    t.skip(skipUnlessCI(playwright) || undefined);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spillway-dashboard-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'run.mjs');
  writeFileSync(script, CHILD(join(dir, 'flaky-marker')));
  const child = spawn(process.execPath, nodeScript(script), {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const address = new Promise<string>((resolveUrl, reject) => {
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(stderr);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing the address:\n${stderr}`)));
  });
  const stdout = createInterface({ input: child.stdout });
  const stdoutLines: string[] = [];
  const lineWaiters: { prefix: string; resolve: (line: string) => void }[] = [];
  stdout.on('line', (line) => {
    stdoutLines.push(line);
    for (const waiter of [...lineWaiters]) {
      if (line.startsWith(waiter.prefix)) {
        lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const lineStarting = (prefix: string): Promise<string> => {
    const seen = stdoutLines.find((l) => l.startsWith(prefix));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      lineWaiters.push({ prefix, resolve: resolveLine });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before "${prefix}":\n${stderr}`)));
    });
  };

  const url = await address;
  const parsed = new URL(url);
  const origin = parsed.origin;
  const port = Number(parsed.port);
  assert.equal(parsed.hostname, '127.0.0.1');

  // the token is required, on every route
  for (const path of ['/', '/events', '/state.json', '/?token=wrong', '/events?token=']) {
    const response = await fetch(`${origin}${path}`);
    assert.equal(response.status, 403, path);
    await response.body?.cancel();
  }

  const profile = mkdtempSync(join(tmpdir(), 'spillway-chromium-'));
  const browser = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // one hook, in this order: after hooks run in the order they were added, and removing the
  // profile while Chromium still writes to it fails (ENOTEMPTY) and left the browser running
  t.after(async () => {
    try {
      await browser.close();
    } finally {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const external: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(origin)) external.push(request.url());
  });
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(url);

  // figures arrive while the run is held at row 500, and change once it goes on
  await lineStarting('hold');
  await page.waitForFunction(() => (document.getElementById('f-rows')?.textContent ?? '–') !== '–', undefined, {
    timeout: 30_000,
  });
  const first = await page.textContent('#f-rows');
  child.stdin.write('on\n');
  await page.waitForFunction((seen) => document.getElementById('f-rows')?.textContent !== seen, first, {
    timeout: 30_000,
  });
  const later = await page.textContent('#f-rows');
  assert.notEqual(later, first);

  // held at the gate under (simulated) pressure: paused, charts drawn with the marks
  await lineStarting('gate');
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'paused', undefined, {
    timeout: 30_000,
  });
  await page.waitForFunction(
    () => (document.querySelector('#chart-memory svg path')?.getAttribute('d')?.split('L').length ?? 0) > 5,
    undefined,
    { timeout: 30_000 },
  );
  const memoryChart = (await page.innerHTML('#chart-memory')) ?? '';
  assert.match(memoryChart, /pause \d/);
  assert.match(memoryChart, /critical \d/);
  assert.match((await page.getAttribute('#status', 'role')) ?? '', /status/);
  const screenshot = join(dir, 'dashboard.png');
  await page.screenshot({ path: screenshot, fullPage: false });
  assert.ok(statSync(screenshot).size > 10_000, 'a real screenshot');
  if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(screenshot, join(root, 'docs', 'dashboard.png'));

  // keyboard: the figures' charts are reachable with Tab
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.tagName);
  assert.ok(focused && focused !== 'BODY', `something is focused after Tab (${focused})`);

  // let the run go on to its end: the final report replaces nothing and appears
  child.stdin.write('go\n');
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'done', undefined, {
    timeout: 60_000,
  });
  assert.equal(await page.isVisible('#report'), true);
  assert.match((await page.textContent('#report-body')) ?? '', /rows in/);
  assert.match((await page.textContent('#workers')) ?? '', /w0/);
  assert.equal(await page.textContent('#f-rows'), '6.0k of 6.0k');
  assert.notEqual(await page.textContent('#f-spilled'), '0 B');

  // a narrow window: one column, nothing wider than the screen
  await page.setViewportSize({ width: 360, height: 740 });
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.equal(fits, true, 'no horizontal scrolling at 360 px');
  if (process.env.UPDATE_SCREENSHOT === '1') await page.screenshot({ path: join(dir, 'narrow.png') });

  const finished = await lineStarting('finished ');
  const result = JSON.parse(finished.slice('finished '.length)) as { rows: number; points: number };
  assert.equal(result.rows, 6000);
  assert.ok(result.points > 2);

  // the run is over: the port refuses connections while the process still lives
  assert.equal(child.exitCode, null);
  const socket = connect(port, '127.0.0.1');
  const [error] = (await once(socket, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
  assert.equal(error.code, 'ECONNREFUSED');

  assert.deepEqual(external, [], 'the page made no request elsewhere');
  assert.deepEqual(consoleErrors, [], 'no console errors (CSP violations would show here)');
  child.stdin.end('exit\n');
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, stderr);
  assert.ok(readFileSync(screenshot).subarray(1, 4).toString() === 'PNG');
});
