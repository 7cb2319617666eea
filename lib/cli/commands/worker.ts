/**
 * `spillway worker --redis URL --queue NAME --module FILE [--concurrency N]`: serves a distributed
 * parallel stage (`parallel(module, { backend: { type: 'bullmq', ... } })`) from this machine until
 * SIGTERM, SIGINT or SIGHUP, which finish the batches running and then exit 0 (a second signal
 * exits now, with 128 + its number).
 */
import { once } from 'node:events';
import { commands } from '../main.ts';
import { onInterrupt } from './common.ts';
import { ValidationError } from '../../core/errors.ts';
import { parseRedisUrl } from '../../workers/distributed/options.ts';
import type { QueueWorkerOptions } from '../../workers/distributed/options.ts';
import { QueueWorker } from '../../workers/distributed/queue-worker.ts';

const USAGE = `Usage: spillway worker --redis URL --queue NAME --module FILE [options]

Takes batches from a BullMQ queue on Redis and runs FILE's function over them, for a pipeline
that uses parallel(FILE, { backend: { type: 'bullmq', connection, queue: NAME } }) on any machine.
Runs until SIGTERM, SIGINT or SIGHUP: the batches running finish, then it exits 0 (a second
signal: at once, 128 + the signal's number). FILE is loaded at start: a module that fails to
import, does not finish importing within --module-timeout, or exports no function stops the
worker before it takes a job.

Options:
  --redis URL              redis://[user@]host[:port][/db], rediss:// for TLS. Put the password in
                           SPILLWAY_REDIS_PASSWORD rather than in the URL (command lines are visible
                           to other users in ps)
  --queue NAME             the queue name the pipeline uses
  --module FILE            the module with the function (.ts or .js; the pipeline's kind and export)
  --concurrency N          batches at once (default 1)
  --isolation thread|process  how the function runs here (default thread)
  --prefix P               Redis key prefix (default bull; must match the pipeline's)
  --memory-limit SIZE      per local worker, e.g. 512MB (see parallel()'s workerMemoryLimit)
  --lock-duration MS       a worker silent this long is presumed dead (default 30000)
  --stalled-interval MS    how often to look for batches of dead workers (default 30000)
  --max-stalled N          times a batch may lose its worker before it fails (default 2)
  --id ID                  this worker's id in the pipeline's stats (default host:pid)
  --module-timeout MS      how long FILE's import at start may take before the start fails (default 30000)
  --verbose                a line per failed batch on stderr`;

const VALUE_FLAGS = new Set([
  '--redis',
  '--queue',
  '--module',
  '--concurrency',
  '--isolation',
  '--prefix',
  '--memory-limit',
  '--lock-duration',
  '--stalled-interval',
  '--max-stalled',
  '--id',
  '--module-timeout',
]);

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ValidationError(`${flag} must be a whole number, got ${value}`);
  return Number(value);
}

/** Parses `worker`'s arguments into QueueWorker options; throws ValidationError (never echoing --redis). */
export function parseWorkerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): QueueWorkerOptions {
  const values = new Map<string, string>();
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag === '--verbose') {
      verbose = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag))
      throw new ValidationError(
        `unknown argument ${flag.startsWith('--') ? flag : JSON.stringify(flag)} (see spillway worker --help)`,
      );
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new ValidationError(`option ${flag} needs a value`);
    values.set(flag, value);
  }
  for (const required of ['--redis', '--queue', '--module']) {
    if (!values.has(required)) throw new ValidationError(`${required} is required (see spillway worker --help)`);
  }
  const isolation = values.get('--isolation');
  if (isolation !== undefined && isolation !== 'thread' && isolation !== 'process')
    throw new ValidationError(`--isolation must be thread or process, got ${isolation}`);
  const get = (flag: string): number | undefined => (values.has(flag) ? integer(flag, values.get(flag)!) : undefined);
  const password =
    env.SPILLWAY_REDIS_PASSWORD === undefined || env.SPILLWAY_REDIS_PASSWORD === ''
      ? undefined
      : env.SPILLWAY_REDIS_PASSWORD;
  const options: QueueWorkerOptions = {
    connection: parseRedisUrl(values.get('--redis')!, password),
    queue: values.get('--queue')!,
    module: values.get('--module')!,
    verbose,
  };
  const concurrency = get('--concurrency');
  if (concurrency !== undefined) options.concurrency = concurrency;
  if (isolation !== undefined) options.isolation = isolation;
  if (values.has('--prefix')) options.prefix = values.get('--prefix')!;
  if (values.has('--memory-limit')) options.workerMemoryLimit = values.get('--memory-limit')!;
  const lock = get('--lock-duration');
  if (lock !== undefined) options.lockDurationMs = lock;
  const stalled = get('--stalled-interval');
  if (stalled !== undefined) options.stalledIntervalMs = stalled;
  const maxStalled = get('--max-stalled');
  if (maxStalled !== undefined) options.maxStalledCount = maxStalled;
  if (values.has('--id')) options.id = values.get('--id')!;
  const moduleTimeout = get('--module-timeout');
  if (moduleTimeout !== undefined) options.moduleTimeoutMs = moduleTimeout;
  return options;
}

commands.set('worker', {
  summary: 'serve a distributed parallel stage from a BullMQ queue on Redis',
  usage: USAGE,
  async run(argv) {
    const worker = new QueueWorker(parseWorkerArgs(argv));
    // the CLI's one signal handling (SIGINT, SIGTERM, SIGHUP), as convert and run have it; listening
    // before the start, so a signal during it still stops the worker gracefully. A second signal
    // exits at once: destroy() kills the local workers synchronously first (no orphan).
    const interrupt = onInterrupt('worker', () => void worker.destroy());
    try {
      const stopped = once(interrupt.signal, 'abort');
      try {
        await worker.start();
      } catch (error) {
        await worker.destroy();
        throw error;
      }
      await stopped;
      process.stderr.write(`spillway worker ${worker.id}: finishing the batches running\n`);
      await worker.close();
      const s = worker.stats();
      process.stderr.write(
        `spillway worker ${worker.id}: stopped after ${s.batches} batch(es), ${s.rows} row(s), ${s.failures} failure(s)\n`,
      );
      // told to stop, and stopped cleanly: a service manager sees success
      return 0;
    } finally {
      interrupt.dispose();
    }
  },
});
