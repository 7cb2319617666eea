/**
 * Checkpoint/resume for fromCsv, as an adapter around a reader: the checkpoint hooks (identity,
 * refusals, the state after a batch), and on resume a reader started just after the last
 * committed record, with the header the first run read. The readers know nothing of it beyond
 * where to start and whether to track exact record ends.
 */
import { resolve as resolvePath } from 'node:path';
import type { Batch, Row } from '../../../core/batch.ts';
import type { CheckpointJson, SourceCheckpointHooks } from '../../../observe/checkpoint.ts';
import type { StageContext } from '../../../core/stage.ts';
import type { CsvPlan } from './options.ts';
import type { CsvCounters, CsvReader, CsvReadSpec, CsvRun, CsvStart } from './reader.ts';

/** The checkpoint side of a fromCsv source; {@link CsvResume.wrap} wraps a reader when enabled. */
export class CsvResume {
  /** True once the pipeline checkpoints this source. */
  enabled = false;
  /** Where a resumed run starts, when resuming. */
  from: CsvStart | undefined;
  /** The header read so far (kept in checkpoint states). */
  columns: string[] | undefined;
  readonly hooks: SourceCheckpointHooks;

  constructor(plan: CsvPlan, counters: CsvCounters) {
    const { file, stageName } = plan;
    this.hooks = {
      identity: { source: 'fromCsv', file: file === undefined ? null : resolvePath(file), options: jsonOf(plan.given) },
      file,
      refuse:
        file === undefined
          ? `${stageName} reads a stream, not a file, and cannot seek back to a position`
          : ['from', 'from_line', 'fromLine', 'to', 'to_line', 'toLine'].some((k) => plan.parseOptions[k] !== undefined)
            ? `${stageName}: the csv-parse options from/from_line/to/to_line count from the start of the file and cannot resume`
            : undefined,
      enable: () => {
        this.enabled = true;
      },
      state: (position, rowsThrough) => ({
        byte: position.endByte ?? 0,
        line: position.endLine ?? 0,
        rows: rowsThrough,
        index: position.index + 1,
        columns: this.columns ?? null,
      }),
      resume: (state) => {
        this.from = state as unknown as CsvStart;
        counters.rows = this.from.rows;
        this.columns = this.from.columns ?? undefined;
      },
    };
  }

  /** The reader to use: `reader` itself when not checkpointing, else the resuming adapter. */
  wrap(reader: CsvReader): CsvReader {
    return this.enabled ? new ResumingReader(reader, this) : reader;
  }
}

/** A reader that tracks record ends, starts where the checkpoint says and remembers the header. */
class ResumingReader implements CsvReader {
  readonly kind: string;
  readonly #inner: CsvReader;
  readonly #resume: CsvResume;

  constructor(inner: CsvReader, resume: CsvResume) {
    this.#inner = inner;
    this.#resume = resume;
    this.kind = inner.kind;
  }

  async *read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>> {
    for await (const batch of this.#inner.read(context, run, { ...spec, tracking: true })) {
      const names = spec.names();
      if (names) this.#resume.columns ??= [...names];
      yield batch;
    }
  }
}

/** Options as JSON (functions by their source), for the pipeline fingerprint. */
function jsonOf(value: object): CheckpointJson {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'function' ? String(v) : typeof v === 'bigint' ? v.toString() : v,
    ),
  ) as CheckpointJson;
}
