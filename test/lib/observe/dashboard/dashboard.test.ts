import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { pipeline } from '../../../../lib/core/pipeline.ts';
import { fromIterable } from '../../../../sources/fromIterable.ts';
import { map } from '../../../../transforms/map.ts';
import { drain } from '../../../../sinks/drain.ts';
import { MemoryGovernor } from '../../../../lib/memory/governor.ts';
import { keptDashboards, resolveDashboard, setDashboardDefault } from '../../../../lib/observe/dashboard/dashboard.ts';

/** Collects what is written to it; resolves `url` at the first dashboard line. */
function capture(): { write(chunk: string): boolean; text: () => string; url: Promise<string> } {
  let text = '';
  let found: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => {
    found = resolve;
  });
  return {
    write(chunk: string) {
      text += chunk;
      const match = /dashboard: (http\S+)/.exec(text);
      if (match?.[1]) found(match[1]);
      return true;
    },
    text: () => text,
    url,
  };
}

async function portState(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    const [error] = (await Promise.race([once(socket, 'error'), once(socket, 'connect').then(() => [undefined])])) as [
      NodeJS.ErrnoException | undefined,
    ];
    return error?.code ?? 'open';
  } finally {
    socket.destroy();
  }
}

test('the dashboard option is validated before anything starts', async () => {
  assert.equal(resolveDashboard(undefined), undefined);
  assert.equal(resolveDashboard(false), undefined);
  assert.deepEqual(
    { ...resolveDashboard(true), stream: undefined },
    { port: 0, host: '127.0.0.1', keep: false, title: 'spillway dashboard', stream: undefined },
  );
  for (const bad of [
    1,
    'yes',
    [],
    { port: -1 },
    { port: 70_000 },
    { port: 1.5 },
    { host: 1 },
    { keep: 'no' },
    { colour: 'red' },
    { stream: {} },
  ]) {
    assert.throws(() => resolveDashboard(bad), { code: 'ERR_SPILLWAY_INVALID_OPTION' }, JSON.stringify(bad));
  }
  await assert.rejects(
    pipeline(fromIterable([{ a: 1 }]), drain(), { dashboard: { port: -1 } }),
    /options\.dashboard\.port/,
  );
});

test('pipeline({ dashboard }) serves live figures during the run, the report at its end, then closes', async () => {
  const out = capture();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const governor = new MemoryGovernor({ intervalMs: 20, leak: false, gc: false });
  const rows = Array.from({ length: 2000 }, (_, i) => ({ i }));
  const run = pipeline(
    fromIterable(rows, { batchSize: 100 }),
    map(async (row: { i: number }) => {
      if (row.i === 1000) await gate;
      return row;
    }),
    drain(),
    { governor, dashboard: { stream: out } },
  );
  try {
    const url = new URL(await out.url);
    assert.equal(url.hostname, '127.0.0.1');
    const token = url.searchParams.get('token');
    assert.ok(token);
    // the figures are the progress event's, formatted; they move while rows flow
    let figures:
      | { event: { rows: number; rowsTotal?: number; state: string }; text: Record<string, string>; state: string }
      | undefined;
    while (!figures || figures.event.rows < 1000) {
      const state = (await (await fetch(`${url.origin}/state.json?token=${token}`)).json()) as {
        figures?: typeof figures;
      };
      figures = state.figures;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(figures.event.state, 'running');
    assert.equal(figures.event.rowsTotal, 2000);
    assert.match(figures.text.rows ?? '', /of 2\.0k$/);
    assert.equal(figures.state, 'running');
    const noToken = await fetch(`${url.origin}/state.json`);
    assert.equal(noToken.status, 403);
    await noToken.text();
    release();
    const { stats } = await run;
    assert.equal(stats.rowsOut, 2000);
    assert.equal(await portState(Number(url.port)), 'ECONNREFUSED', 'closed when the run ends');
    assert.match(out.text(), /^dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=\S+\n$/);
  } finally {
    release();
    await run.catch(() => undefined);
    governor.close();
  }
});

test('a failing run sends its failure and still closes the port', async () => {
  const out = capture();
  const run = pipeline(
    fromIterable([{ a: 1 }, { a: 2 }]),
    map(() => {
      throw new Error('boom');
    }),
    drain(),
    { governor: false, dashboard: { stream: out } },
  );
  await assert.rejects(run, /boom/);
  const url = new URL(await out.url);
  assert.equal(await portState(Number(url.port)), 'ECONNREFUSED');
});

test('keep: serving goes on after the run until SIGINT; the process-wide default applies', async (t) => {
  if (process.listenerCount('SIGINT') > 0) {
    t.skip('something else listens for SIGINT in this process');
    return;
  }
  const out = capture();
  const restore = setDashboardDefault({ keep: true, stream: out });
  try {
    const { stats } = await pipeline(fromIterable([{ a: 1 }]), drain(), { governor: false });
    assert.equal(stats.rowsOut, 1);
  } finally {
    restore();
  }
  const url = new URL(await out.url);
  assert.match(out.text(), /still serving .* \(Ctrl-C to stop\)/);
  const report = await fetch(`${url.origin}/report.html?token=${url.searchParams.get('token')}`);
  assert.equal(report.status, 200);
  assert.match(await report.text(), /<h1>spillway dashboard: report<\/h1>/);
  assert.equal(process.listenerCount('SIGINT'), 1);
  process.emit('SIGINT');
  await keptDashboards();
  assert.equal(await portState(Number(url.port)), 'ECONNREFUSED');
  assert.equal(process.listenerCount('SIGINT'), 0);
});
