/**
 * A partitioned write to s3:// run as a child process by s3-killed-upload.test.ts: its S3 client
 * passes every command to the server but stalls the upload of the Nth part file forever, after
 * writing 'U' to stdout, so the parent SIGKILLs it at a known point of the upload (the pending
 * marker and N-1 parts put), without sleeping.
 *
 * node --import tsx s3-killed-upload-child.ts <s3://bucket/prefix> <N>
 */
import { writeSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromIterable } from '../../sources/fromIterable.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { configureRemote } from '../../index.ts';

const [url, stallAt] = process.argv.slice(2);
if (!url || !stallAt) throw new Error('usage: s3-killed-upload-child.ts <s3://bucket/prefix> <N>');

const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true });
let parts = 0;
configureRemote({
  s3Client: {
    send(command: unknown) {
      if (
        command instanceof PutObjectCommand &&
        command.input.Key!.endsWith('.parquet') &&
        ++parts === Number(stallAt)
      ) {
        writeSync(1, 'U');
        // keeps the process alive until the parent kills it
        setInterval(() => undefined, 1_000);
        return new Promise(() => undefined);
      }
      return client.send(command as PutObjectCommand);
    },
  },
});

const rows = Array.from({ length: 900 }, (_, i) => ({ id: i, day: `d${i % 3}`, x: i / 2 }));
await pipeline(fromIterable(rows, { batchSize: 200 }), toParquet(url, { partitionBy: ['day'] }));
writeSync(1, 'done\n');
