/**
 * What a checkpointed pipeline over a dataset refuses at once (before reading a row), with
 * ERR_SPILLWAY_CHECKPOINT and the reason: text files read from a URL or a stream (which the CSV
 * and JSON Lines resumes cannot seek into), a single object written to s3:// by a format that
 * cannot resume its local file either (gzip CSV, JSON Lines); and what it
 * runs (JSON Lines files, partitioned trees). The resumes themselves are tested end to end, with
 * real SIGKILLs, in test/e2e/dataset-resume.test.ts and dataset-resume-jsonl.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  pipeline,
  collect,
  fromCsv,
  fromIterable,
  fromJsonl,
  fromParquet,
  toCsv,
  toJsonl,
  toParquet,
  ErrorCodes,
  SpillwayError,
} from '../../../index.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir('spillway-dataset-checkpoint-');
mkdirSync(join(dir, 'in'));
writeFileSync(join(dir, 'in', 'a.jsonl'), '{"id":1}\n');
writeFileSync(join(dir, 'in', 'b.jsonl'), '{"id":2}\n');
writeFileSync(join(dir, 'in', 'a.csv'), 'id\n1\n');
writeFileSync(join(dir, 'in', 'b.csv'), 'id\n2\n');

function refusal(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SpillwayError);
    assert.equal(error.code, ErrorCodes.CHECKPOINT);
    assert.match(error.message, pattern);
    return true;
  };
}

test('fromJsonl over many files checkpoints; a finished run removes its checkpoint', async () => {
  await pipeline(fromJsonl(join(dir, 'in', '*.jsonl')), toCsv(join(dir, 'out-jsonl.csv')), {
    checkpoint: { dir: join(dir, 'ckpt-jsonl'), everyBatches: 1 },
  });
  assert.equal(readFileSync(join(dir, 'out-jsonl.csv'), 'utf8'), 'id\n1\n2\n');
  assert.equal(existsSync(join(dir, 'ckpt-jsonl', 'checkpoint.json')), false);
});

test('fromJsonl over a URL or a stream refuses a checkpoint: it cannot seek back into either', async () => {
  await assert.rejects(
    pipeline(fromJsonl(['http://127.0.0.1:9/a.jsonl']), toCsv(join(dir, 'out-jsonl-url.csv')), {
      checkpoint: join(dir, 'ckpt-jsonl-url'),
    }),
    refusal(/fromJsonl reads remote files as a stream and cannot resume inside one/),
  );
  await assert.rejects(
    pipeline(fromJsonl('http://127.0.0.1:9/a.jsonl'), toCsv(join(dir, 'out-jsonl-url.csv')), {
      checkpoint: join(dir, 'ckpt-jsonl-url'),
    }),
    refusal(/fromJsonl reads (a URL|remote files) as a stream/),
  );
  await assert.rejects(
    pipeline(fromJsonl(Readable.from(['{"id":1}\n'])), toCsv(join(dir, 'out-jsonl-stream.csv')), {
      checkpoint: join(dir, 'ckpt-jsonl-stream'),
    }),
    refusal(/fromJsonl reads a stream, not a file/),
  );
  assert.equal(existsSync(join(dir, 'out-jsonl-url.csv')), false);
});

test('a single object written to s3:// refuses a checkpoint as its format does locally (it resumes otherwise: remote/s3-checkpoint.test.ts)', async () => {
  await assert.rejects(
    pipeline(fromJsonl(join(dir, 'in', '*.jsonl')), toCsv('s3://bucket/out.csv.gz'), {
      checkpoint: join(dir, 'ckpt-s3'),
    }),
    refusal(/toCsv cannot continue a gzip stream after a crash/),
  );
  await assert.rejects(
    pipeline(fromJsonl(join(dir, 'in', '*.jsonl')), toJsonl('s3://bucket/out.jsonl'), {
      checkpoint: join(dir, 'ckpt-s3-jsonl'),
    }),
    refusal(/the sink `toJsonl` does not support checkpoints/),
  );
});

test('fromCsv over URLs refuses a checkpoint: a remote text file is a stream it cannot resume inside', async () => {
  await assert.rejects(
    pipeline(fromCsv(['http://127.0.0.1:9/a.csv', join(dir, 'in', 'a.csv')]), toCsv(join(dir, 'out-url.csv')), {
      checkpoint: join(dir, 'ckpt-url'),
    }),
    refusal(/fromCsv reads remote files as a stream and cannot resume inside one/),
  );
});

test('fromCsv over a local glob checkpoints (collect() is refused as a sink, not the source); a finished run removes its checkpoint', async () => {
  const result = await pipeline(fromCsv(join(dir, 'in', '*.csv'), { cast: true }), collect(), {
    checkpoint: join(dir, 'ckpt-ok'),
  }).catch((error: unknown) => error);
  // collect() is no checkpointable sink: the refusal names the sink, not the dataset source
  assert.ok(result instanceof SpillwayError);
  assert.match(result.message, /sink `collect`/);
  await pipeline(fromCsv(join(dir, 'in', '*.csv'), { cast: true }), toCsv(join(dir, 'out-ok.csv')), {
    checkpoint: join(dir, 'ckpt-ok'),
  });
  assert.equal(readFileSync(join(dir, 'out-ok.csv'), 'utf8'), 'id\n1\n2\n');
  assert.equal(existsSync(join(dir, 'ckpt-ok', 'checkpoint.json')), false);
});

test('a checkpointed dataset whose `where` holds a bigint runs (the checkpoint identity is JSON)', async () => {
  mkdirSync(join(dir, 'pq'));
  for (const f of [0, 1])
    await pipeline(
      fromIterable(Array.from({ length: 10 }, (_, i) => ({ id: BigInt(f * 10 + i) }))),
      toParquet(join(dir, 'pq', `${f}.parquet`)),
    );
  await pipeline(
    fromParquet(join(dir, 'pq', '*.parquet'), { where: { col: 'id', op: '>=', value: 8n } }),
    toCsv(join(dir, 'out-bigint.csv')),
    { checkpoint: join(dir, 'ckpt-bigint') },
  );
  assert.deepEqual(
    readFileSync(join(dir, 'out-bigint.csv'), 'utf8').trim().split('\n').slice(1).map(Number),
    [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
  );
});
