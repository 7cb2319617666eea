/**
 * `fromJsonl`: newline-delimited JSON (JSON Lines, NDJSON) read as batches of row objects, from a
 * file (`.gz` and `.zst` decompressed by extension), a Readable, or a dataset of files. A malformed
 * line, or one that is not a JSON object, is handled by the same policies as fromCsv (`'fail'`,
 * `'skip'`, `{ deadLetter: path }`) with its 1-based line number; integers beyond 2^53 are read as
 * bigint, never rounded (lib/json-lines.ts).
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { createZstdDecompress } from '../lib/formats/zstd-stream.ts';
import { Batch, type Row } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import { IoError, JsonParseError, ValidationError, describeValue } from '../lib/core/errors.ts';
import { expectBoolean, expectInteger, expectOptions } from '../lib/core/validate.ts';
import { DeadLetterFile, type ErrorPolicy } from '../lib/io/dead-letter.ts';
import { parseJsonExact } from '../lib/formats/json/lines.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import type { DatasetOptions } from '../lib/dataset/multi-file.ts';
import { isDatasetRequest, textDataset } from '../lib/dataset/sources.ts';
import { isHttpUrl, redactUrl } from '../lib/dataset/http-buffer.ts';

/** Options of {@link fromJsonl} (dataset options: see docs/datasets.md). */
export interface FromJsonlOptions extends DatasetOptions {
  /** Rows per batch (default 2048). */
  batchSize?: number;
  /** What to do with a line that is not valid JSON or not an object (default `'fail'`). */
  onError?: ErrorPolicy;
  /** Decompress gzip input; default: true when the path ends in `.gz`. */
  gzip?: boolean;
  /** Decompress zstd input; default: true when the path ends in `.zst` or `.zstd`. */
  zstd?: boolean;
  /** Name used in stats and errors (default `fromJsonl`). */
  name?: string;
}

const DEFAULT_BATCH_SIZE = 2048;
const KEYS = new Set(['batchSize', 'onError', 'gzip', 'zstd', 'name', 'fileColumn', 'hive', 'hiveTypes', 'where']);

function validatePolicy(value: unknown): ErrorPolicy {
  if (value === undefined) return 'fail';
  if (value === 'fail' || value === 'skip') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { deadLetter?: unknown }).deadLetter === 'string')
    return { deadLetter: (value as { deadLetter: string }).deadLetter };
  throw new ValidationError(
    `Expected \`options.onError\` to be 'fail', 'skip' or { deadLetter: path }, got ${describeValue(value)}`,
  );
}

/**
 * Reads JSON Lines as batches of rows (one JSON object a line; blank lines are ignored; `\r\n`
 * line ends are accepted). The line count and bytes read feed progress; `totalBytes` is the file
 * size (compressed size for compressed files).
 *
 * @param input a file path, a glob, a directory, an array of them, or a Readable of bytes
 * @param options see {@link FromJsonlOptions}
 * @throws ValidationError at once for a bad option; the pipeline rejects with JsonParseError
 *   (`ERR_SPILLWAY_JSON_PARSE`, with `context.line`) for a bad line under `onError: 'fail'`
 * @example
 * ```ts
 * await pipeline(fromJsonl('events.jsonl.gz', { onError: 'skip' }), toParquet('events.parquet'));
 * ```
 */
export function fromJsonl(input: string | readonly string[] | Readable, options?: FromJsonlOptions): BatchSource<Row> {
  if (!(input instanceof Readable) && isDatasetRequest(input, options))
    return textDataset(input, options, fromJsonl, 'fromJsonl');
  if (!(typeof input === 'string' && input.length > 0) && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${describeValue(input)}`);
  }
  const opts = expectOptions(options);
  const unknown = Object.keys(opts).find((k) => !KEYS.has(k));
  if (unknown !== undefined)
    throw new ValidationError(`Unknown option \`options.${unknown}\` (expected ${[...KEYS].join(', ')})`);
  const batchSize = expectInteger(opts.batchSize, 'options.batchSize', DEFAULT_BATCH_SIZE);
  const policy = validatePolicy(opts.onError);
  const file = typeof input === 'string' ? input : undefined;
  // the extension of a URL is its path's (a signed URL's query would hide it)
  let named = file;
  if (file !== undefined && isHttpUrl(file)) {
    try {
      named = new URL(file).pathname;
    } catch {
      throw new ValidationError(`Expected \`input\` to be a valid URL, got ${describeValue(redactUrl(file))}`);
    }
  }
  const gzip = expectBoolean(opts.gzip, 'options.gzip', named?.endsWith('.gz') ?? false);
  const zstd = expectBoolean(opts.zstd, 'options.zstd', named !== undefined && /\.zstd?$/.test(named));
  if (gzip && zstd) throw new ValidationError('`options.gzip` and `options.zstd` cannot both be true');
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ValidationError(`Expected \`options.name\` to be a non-empty string, got ${describeValue(opts.name)}`);
  }
  const stage = opts.name ?? 'fromJsonl';
  const url = file !== undefined && isHttpUrl(file) ? file : undefined;
  const where = url !== undefined ? redactUrl(url) : (file ?? stage);
  let rowsRead = 0;
  let bytesRead = 0;
  let totalBytes: number | undefined;

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    stats.details.parser = 'json-lines';
    let fileStream: ReadStream | undefined;
    let source: Readable;
    if (url !== undefined) {
      // one streaming GET (no retries: a text stream cannot resume mid-line safely)
      let response: Response;
      try {
        response = await fetch(url, { signal: context.signal });
      } catch (error) {
        throw new IoError(
          `Cannot fetch JSON Lines: ${(error as Error).message}`,
          { stage, file: where },
          { cause: error },
        );
      }
      if (!response.ok || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        throw new IoError(`Cannot fetch JSON Lines: HTTP ${response.status} ${response.statusText}`, {
          stage,
          file: where,
        });
      }
      const length = Number(response.headers.get('content-length'));
      if (Number.isFinite(length) && length > 0) totalBytes = length;
      source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    } else if (file !== undefined) {
      try {
        totalBytes = (await stat(file)).size;
      } catch (error) {
        throw new IoError(
          `Cannot open JSON Lines file: ${(error as Error).message}`,
          { stage, file },
          { cause: error },
        );
      }
      fileStream = createReadStream(file, { highWaterMark: 256 * 1024 });
      source = fileStream;
    } else {
      source = input as Readable;
    }
    // bytes read: the file stream's own count (compressed bytes); a caller's stream: the bytes parsed
    const counted = fileStream;
    const decompressor = gzip ? createGunzip() : zstd ? createZstdDecompress() : undefined;
    const text: Readable = decompressor
      ? (source.pipe(decompressor as NodeJS.WritableStream) as unknown as Readable)
      : source;
    if (decompressor) source.on('error', (error) => (decompressor as unknown as Readable).destroy(error));
    const onAbort = (): void => {
      text.destroy();
      source.destroy();
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    const deadLetter = typeof policy === 'object' ? new DeadLetterFile(policy.deadLetter) : undefined;
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let line = 0;
    let rows: Row[] = [];
    let index = 0;
    let batchStart = 0;

    const bad = async (message: string, raw: string, cause?: unknown): Promise<void> => {
      const error = new JsonParseError(
        message,
        { stage, file: where, line },
        raw,
        cause === undefined ? undefined : { cause },
      );
      if (policy === 'fail') throw error;
      stats.rowsSkipped++;
      if (deadLetter) {
        stats.rowsDeadLettered++;
        await deadLetter.write({ stage, reason: message, code: error.code, file: where, line, raw });
      }
    };
    /** Parses one line into `rows`; returns what is wrong with it, if anything (sync: the hot path). */
    const take = (raw: string): { message: string; body: string; cause?: unknown } | undefined => {
      line++;
      const body = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
      const first = body.charCodeAt(0);
      if (body.length === 0 || ((first === 0x20 || first === 0x09) && body.trim() === '')) return undefined;
      let value: unknown;
      try {
        value = parseJsonExact(body);
      } catch (error) {
        return { message: `Invalid JSON on line ${line}: ${(error as Error).message}`, body, cause: error };
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return {
          message: `Line ${line} is not a JSON object (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})`,
          body,
        };
      }
      rows.push(value as Row);
      return undefined;
    };
    const flush = (): Batch<Row> => {
      const batch = new Batch(rows, { source: where, index: index++, rowStart: batchStart });
      batchStart += rows.length;
      rowsRead += rows.length;
      rows = [];
      return batch;
    };
    try {
      try {
        for await (const chunk of text) {
          bytesRead = counted ? counted.bytesRead : bytesRead + (chunk as Buffer).length;
          const s = carry + decoder.write(chunk as Buffer);
          let start = 0;
          for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
            const problem = take(s.slice(start, nl));
            if (problem) await bad(problem.message, problem.body, problem.cause);
            start = nl + 1;
            if (rows.length >= batchSize) yield flush();
          }
          carry = s.slice(start);
        }
      } catch (error) {
        if (error instanceof JsonParseError || context.signal.aborted) throw error;
        throw new IoError(
          `Cannot read JSON Lines: ${(error as Error).message}`,
          { stage, file: where },
          { cause: error },
        );
      }
      const rest = carry + decoder.end();
      if (rest.length > 0) {
        const problem = take(rest);
        if (problem) await bad(problem.message, problem.body, problem.cause);
      }
      if (rows.length > 0) yield flush();
      await deadLetter?.close();
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      text.destroy();
      fileStream?.destroy();
      await deadLetter?.close().catch(() => undefined);
    }
  }

  return new BatchSource<Row>({
    name: stage,
    open,
    progress: () => ({ rows: rowsRead, bytes: bytesRead, ...(totalBytes === undefined ? {} : { totalBytes }) }),
  });
}
