import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { DashboardServer } from '../../../../lib/observe/dashboard/server.ts';

/** Reads Server-Sent Events from a response until `until` returns true for one. */
async function readEvents(
  response: Response,
  until: (event: string, data: unknown) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const events: { event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === undefined || data === undefined) continue;
      const parsed = JSON.parse(data) as unknown;
      events.push({ event, data: parsed });
      if (until(event, parsed)) return events;
    }
  }
  return events;
}

async function refused(port: number): Promise<string | undefined> {
  const socket = connect(port, '127.0.0.1');
  try {
    const [error] = (await Promise.race([once(socket, 'error'), once(socket, 'connect').then(() => [undefined])])) as [
      NodeJS.ErrnoException | undefined,
    ];
    return error?.code;
  } finally {
    socket.destroy();
  }
}

test('listens on 127.0.0.1 at a free port; every route needs the token', async () => {
  const server = await DashboardServer.listen({ page: (nonce) => `<p nonce="${nonce}">page</p>` });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    assert.ok(server.port > 0);
    for (const path of [
      '/',
      '/events',
      '/state.json',
      '/report.html',
      '/nothing',
      `/?token=${server.token.slice(1)}`,
      `/?token=${server.token}x`,
      '/?token=',
    ]) {
      const response = await fetch(`${server.origin}${path}`);
      assert.equal(response.status, 403, path);
      await response.text();
    }
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.equal(await page.text(), `<p nonce="${nonce}">page</p>`);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const post = await fetch(server.url, { method: 'POST' });
    assert.equal(post.status, 405);
    const missing = await fetch(`${server.origin}/nothing?token=${server.token}`);
    assert.equal(missing.status, 404);
    const report = await fetch(`${server.origin}/report.html?token=${server.token}`);
    assert.equal(report.status, 404, 'no report before the run ends');
    await Promise.all([post.text(), missing.text(), report.text()]);
    server.setReport('<html>report</html>');
    const after = await fetch(`${server.origin}/report.html?token=${server.token}`);
    assert.equal(await after.text(), '<html>report</html>');
  } finally {
    await server.close();
  }
});

test('events: retained ones replay to late clients in order; live ones follow; close ends streams and the port', async () => {
  const server = await DashboardServer.listen({ page: () => '' });
  server.send('figures', { rows: 1 });
  server.send('charts', { memory: '<svg/>' });
  server.send('figures', { rows: 2 });
  const response = await fetch(`${server.origin}/events?token=${server.token}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reading = readEvents(response, (event) => event === 'done');
  // the client is counted once its stream is open
  while (server.clients === 0) await new Promise((resolve) => setImmediate(resolve));
  server.send('figures', { rows: 3 });
  server.send('done', { state: 'done' });
  const events = await reading;
  assert.deepEqual(events, [
    { event: 'charts', data: { memory: '<svg/>' } },
    { event: 'figures', data: { rows: 2 } },
    { event: 'figures', data: { rows: 3 } },
    { event: 'done', data: { state: 'done' } },
  ]);
  const state = (await (await fetch(`${server.origin}/state.json?token=${server.token}`)).json()) as Record<
    string,
    unknown
  >;
  assert.deepEqual(state, { charts: { memory: '<svg/>' }, figures: { rows: 3 }, done: { state: 'done' } });
  const port = server.port;
  await server.close();
  assert.equal(server.closed, true);
  assert.equal(await refused(port), 'ECONNREFUSED');
  server.send('figures', { rows: 4 }); // ignored once closed
  await server.close(); // idempotent
});

test('a taken port fails with an IoError naming it', async () => {
  const first = await DashboardServer.listen({ page: () => '' });
  try {
    await assert.rejects(
      DashboardServer.listen({ page: () => '', port: first.port }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_IO');
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${first.port}.*EADDRINUSE`));
        return true;
      },
    );
  } finally {
    await first.close();
  }
});

test('each server has its own token', async () => {
  const a = await DashboardServer.listen({ page: () => '' });
  const b = await DashboardServer.listen({ page: () => '' });
  try {
    assert.notEqual(a.token, b.token);
    const cross = await fetch(`${a.origin}/?token=${b.token}`);
    assert.equal(cross.status, 403);
    await cross.text();
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('DNS rebinding: a request with a foreign Host header is refused even with the token', async () => {
  const server = await DashboardServer.listen({ page: (nonce) => `<p nonce="${nonce}">page</p>` });
  try {
    const { request } = await import('node:http');
    const status = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: server.port, path: `/?token=${server.token}`, headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status(`evil.example:${server.port}`), 421);
    assert.equal(await status(`127.0.0.1.evil.example:${server.port}`), 421);
    assert.equal(await status('127.0.0.1'), 421);
    assert.equal(await status(`127.0.0.1:${server.port + 1}`), 421);
    assert.equal(await status(`127.0.0.1:${server.port}`), 200);
    assert.equal(await status(`localhost:${server.port}`), 200);
  } finally {
    await server.close();
  }
});
