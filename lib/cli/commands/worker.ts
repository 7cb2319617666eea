/**
 * `spillway worker --redis URL --queue NAME --module FILE [--concurrency N]`: serves a distributed
 * parallel stage (`parallel(module, { backend: { type: 'bullmq', ... } })`) from this machine until
 * SIGTERM or SIGINT, which finish the batches running and then exit (a second signal exits now).
 */
import { commands } from '../main.ts';
import { ValidationError } from '../../core/errors.ts';
import { parseRedisUrl } from '../../workers/distributed/options.ts';
import type { QueueWorkerOptions } from '../../workers/distributed/options.ts';
import { QueueWorker } from '../../workers/distributed/queue-worker.ts';

const USAGE = `Usage: spillway worker --redis URL --queue NAME --module FILE [options]

Takes batches from a BullMQ queue on Redis and runs FILE's function over them, for a pipeline
that uses parallel(FILE, { backend: { type: 'bullmq', connection, queue: NAME } }) on any machine.
Runs until SIGTERM or SIGINT: the batches running finish, then it exits (a second signal: now).

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
  return options;
}

commands.set('worker', {
  summary: 'serve a distributed parallel stage from a BullMQ queue on Redis',
  usage: USAGE,
  async run(argv) {
    const worker = new QueueWorker(parseWorkerArgs(argv));
    // listen before starting: a signal during the start still stops the worker gracefully
    const stopped = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    await worker.start();
    const signal = await stopped;
    process.stderr.write(
      `spillway worker ${worker.id}: ${signal}, finishing the batches running (again to stop now)\n`,
    );
    let forced = false;
    const force = (): void => {
      forced = true;
      void worker.destroy();
    };
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    await worker.close();
    const s = worker.stats();
    process.stderr.write(
      `spillway worker ${worker.id}: stopped after ${s.batches} batch(es), ${s.rows} row(s), ${s.failures} failure(s)\n`,
    );
    return forced ? 130 : 0;
  },
});
