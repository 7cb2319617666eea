/**
 * A local S3 server for tests: s3rver on 127.0.0.1 (an ephemeral port, its data under the test's
 * own directory), the buckets the test needs, an SDK client for arranging and checking objects,
 * and the AWS_* variables that point the standard credential chain at it, either for a child
 * process (`env`) or set in this process (`useEnv`, undone by `close`).
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { closeRemote, configureRemote } from '../../../../index.ts';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rverInstance;

/** The credentials s3rver accepts. */
const KEY = 'S3RVER';
const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_ENDPOINT_URL'] as const;

/** A running local S3 server; see the module comment. */
export interface S3Fixture {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** A client of the server (path-style requests), for arranging and checking objects. */
  client: S3Client;
  /** The AWS_* variables that point the standard chain at the server. */
  env: Record<(typeof ENV_KEYS)[number], string>;
  /** Sets {@link S3Fixture.env} in `process.env` (as a user would); `close` restores what was there. */
  useEnv(): void;
  /** A client that passes commands to the real one; `hook` may answer (or fail) one instead. */
  wrap(hook: (command: unknown) => Promise<unknown> | undefined): { send(c: unknown): Promise<unknown> };
  /** Destroys the client, restores `process.env` (when `useEnv` was called) and stops the server. */
  close(): Promise<void>;
}

/** Starts s3rver with its data under `dir/s3` and creates `buckets`. */
export async function startS3(dir: string, buckets: readonly string[]): Promise<S3Fixture> {
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3') });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: KEY, secretAccessKey: KEY },
  });
  for (const bucket of buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const env = {
    AWS_ACCESS_KEY_ID: KEY,
    AWS_SECRET_ACCESS_KEY: KEY,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
  };
  let saved: Partial<Record<string, string>> | undefined;
  return {
    endpoint,
    client,
    env,
    useEnv() {
      saved ??= Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
    },
    wrap(hook) {
      return { send: (command) => hook(command) ?? client.send(command as never) };
    },
    async close() {
      client.destroy();
      if (saved !== undefined)
        for (const key of ENV_KEYS) {
          if (saved[key] === undefined) delete process.env[key];
          else process.env[key] = saved[key];
        }
      await server.close();
    },
  };
}

/**
 * For a test file that reads and writes s3:// in this process: starts the server before its tests
 * with the environment set (the standard chain, as a user would set it) and remote settings
 * reset, and stops it after them. Returns the running fixture's getter.
 */
export function useS3(dir: string, buckets: readonly string[]): () => S3Fixture {
  let s3: S3Fixture | undefined;
  before(async () => {
    s3 = await startS3(dir, buckets);
    s3.useEnv();
    configureRemote({});
  });
  after(async () => {
    configureRemote({});
    closeRemote();
    await s3?.close();
  });
  return () => s3!;
}

/**
 * Points this process's temporary directory (where unchecked runs stage their uploads) at a
 * directory of the test's own, so it can check that none is left; returns it.
 */
export function useUploadTmp(dir: string): string {
  const uploadTmp = join(dir, 'tmp');
  mkdirSync(uploadTmp, { recursive: true });
  process.env.TMPDIR = uploadTmp;
  return uploadTmp;
}

/** Commits recorded in the checkpoint in `ckpt` (0 when there is none). */
export function checkpointCommits(ckpt: string): number {
  try {
    return (JSON.parse(readFileSync(join(ckpt, 'checkpoint.json'), 'utf8')) as { commits: number }).commits;
  } catch {
    return 0;
  }
}

/**
 * A hook for each batch of a checkpointed test run: from batch `failFrom` on, once the checkpoint
 * holds a commit, it throws (the run "crashes"); until then it waits a little for each batch's
 * commit, so a slow machine still leaves one. Without `failFrom` it does nothing.
 */
export function crashAfterCommit(ckpt: string, failFrom: number | undefined): () => Promise<void> {
  let batches = 0;
  return async () => {
    if (failFrom === undefined) return;
    const before = checkpointCommits(ckpt);
    if (++batches >= failFrom && before > 0) throw new Error('crash');
    for (let waited = 0; waited < 50 && checkpointCommits(ckpt) === before; waited++)
      await new Promise((resolve) => setTimeout(resolve, 5));
  };
}
