/**
 * `fromJsonl`: newline-delimited JSON (JSON Lines, NDJSON) read as batches of row objects, from a
 * file (`.gz` and `.zst` decompressed by extension), an HTTP(S) URL, a Readable, or a dataset of
 * files. A malformed line, or one that is not a JSON object, is handled by the same policies as
 * fromCsv (`'fail'`, `'skip'`, `{ deadLetter: path }`) with its 1-based line number; integers
 * beyond 2^53 are read as bigint, never rounded (lib/formats/json/lines.ts). The factory validates
 * options (lib/formats/json/read/options.ts), opens the bytes of its input path (read/bytes.ts)
 * and reads them with {@link JsonlReader} (read/reader.ts, lines by read/lines.ts). A file (local,
 * plain or compressed) checkpoints and resumes after its last committed line (read/resume.ts).
 */
import { Readable } from 'node:stream';
import type { Batch, Row } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import { isDatasetRequest, textDataset } from '../lib/dataset/sources.ts';
import { jsonlBytes } from '../lib/formats/json/read/bytes.ts';
import { resolveJsonlOptions, type FromJsonlOptions } from '../lib/formats/json/read/options.ts';
import type { JsonlCounters } from '../lib/formats/json/read/reader.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { JsonlResume } from '../lib/formats/json/read/resume.ts';

// the line reader loads at open, not with `import 'spillway'`
const readerModule = lazyImport(() => import('../lib/formats/json/read/reader.ts'));

export type { FromJsonlOptions } from '../lib/formats/json/read/options.ts';

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
  const plan = resolveJsonlOptions(input, options);
  const counters: JsonlCounters = { rowsRead: 0, bytesRead: 0, totalBytes: undefined };
  const resume = new JsonlResume(plan, options);
  // a resumed plain file is read from the offset on: the bytes before it count as read
  const skipped = (): number => (plan.compression ? 0 : (resume.from?.byte ?? 0));

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Row>> {
    stats.details.parser = 'json-lines';
    const { JsonlReader } = await readerModule.load();
    context.signal.throwIfAborted(); // destroyed while the reader loaded: open nothing
    const reader = new JsonlReader(plan, counters, jsonlBytes(plan), resume.from, resume.enabled);
    yield* reader.read(context, stats);
  }

  return new BatchSource<Row>({
    name: plan.stage,
    open,
    progress: () => ({
      rows: counters.rowsRead,
      bytes: counters.bytesRead + skipped(),
      ...(counters.totalBytes === undefined ? {} : { totalBytes: counters.totalBytes }),
    }),
    checkpoint: resume.hooks,
  });
}
