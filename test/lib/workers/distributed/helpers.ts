/**
 * A real redis-server for the distributed tests, on a free loopback port with no persistence, in a
 * temporary directory; and `spillway worker` processes started the way users start them.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ROOT, nodeScript, skipUnlessCI } from '../../../helpers.ts';

/** The project root. */
export { ROOT };

/** Why the distributed tests skip, or false when redis-server is on PATH. */
export const skipReason: string | false = skipUnlessCI(
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
    ? false
    : 'redis-server is not on PATH (apt-get install -y redis-server): distributed tests skipped',
);

/** A free TCP port on 127.0.0.1 (closed again at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** A running redis-server. */
export interface RedisServer {
  port: number;
  process: ChildProcess;
  url: string;
  /** Stops it (SIGKILL with `kill: true`) and removes its directory. */
  stop(kill?: boolean): Promise<void>;
}

/** Starts redis-server on a free loopback port; resolves once it accepts connections. */
export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--protected-mode',
    'yes',
  ];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolvePromise, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        resolvePromise();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    port,
    process: child,
    url: `redis://127.0.0.1:${port}`,
    async stop(kill = false) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill(kill ? 'SIGKILL' : 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `spillway worker` child process. */
export interface WorkerProcess {
  process: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves once it logged that it takes batches. */
  ready: Promise<void>;
  /** Resolves with its exit code (or signal). */
  exited: Promise<number | NodeJS.Signals>;
}

/** Starts `spillway worker` the way a user runs it from a checkout. */
export function startWorker(args: string[], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, [...nodeScript('lib/cli/main.ts'), 'worker', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const ready = new Promise<void>((resolvePromise, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('taking batches')) resolvePromise();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`spillway worker exited (${code ?? signal}) before it was ready: ${stderr}`)),
    );
  });
  ready.catch(() => {});
  const exited = new Promise<number | NodeJS.Signals>((resolvePromise) =>
    child.once('exit', (code, signal) => resolvePromise(code ?? signal ?? -1)),
  );
  return { process: child, stderr: () => stderr, ready, exited };
}
