/**
 * One error registry for spillway. Every failure has a stable `code`; tests and users branch on
 * `code`, never on message text. Errors carry where they happened (`context`) and what caused
 * them (`cause`).
 */

/** Where in the data a failure happened. Every field is optional: fill what is known. */
export interface ErrorContext {
  /** Name of the pipeline stage, e.g. `fromCsv`, `map#2`, `toCsv`. */
  stage?: string;
  /** File the data came from or was going to. */
  file?: string;
  /** 1-based line number in a text source. */
  line?: number;
  /** Byte offset in the source file. */
  byteOffset?: number;
  /** 0-based index of the batch in its source. */
  batch?: number;
  /** 0-based index of the row in the whole source (not in the batch). */
  row?: number;
  /** 0-based index of the row within its batch. */
  rowInBatch?: number;
  /** Directory involved (spill directories, checkpoints). */
  dir?: string;
}

/** Stable error codes. */
export const ErrorCodes = {
  INVALID_OPTION: 'ERR_SPILLWAY_INVALID_OPTION',
  ABORTED: 'ERR_SPILLWAY_ABORTED',
  CSV_PARSE: 'ERR_SPILLWAY_CSV_PARSE',
  JSON_PARSE: 'ERR_SPILLWAY_JSON_PARSE',
  STAGE: 'ERR_SPILLWAY_STAGE',
  COLLECT_LIMIT: 'ERR_SPILLWAY_COLLECT_LIMIT',
  IO: 'ERR_SPILLWAY_IO',
  FORMAT: 'ERR_SPILLWAY_FORMAT',
  UNSUPPORTED: 'ERR_SPILLWAY_UNSUPPORTED',
  MEMORY_LIMIT: 'ERR_SPILLWAY_MEMORY_LIMIT',
  SPILL: 'ERR_SPILLWAY_SPILL',
  SPILL_CORRUPT: 'ERR_SPILLWAY_SPILL_CORRUPT',
  WORKER: 'ERR_SPILLWAY_WORKER',
  CHECKPOINT: 'ERR_SPILLWAY_CHECKPOINT',
  SCHEMA_MISMATCH: 'ERR_SPILLWAY_SCHEMA_MISMATCH',
  QUEUE: 'ERR_SPILLWAY_QUEUE',
  JOIN_KEY_MISMATCH: 'ERR_SPILLWAY_JOIN_KEY_MISMATCH',
} as const;

/** One of the values of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Renders a context as `stage fromCsv, file a.csv, line 12` for messages. */
export function describeContext(context: ErrorContext): string {
  const parts: string[] = [];
  if (context.stage !== undefined) parts.push(`stage ${context.stage}`);
  if (context.file !== undefined) parts.push(`file ${context.file}`);
  if (context.dir !== undefined) parts.push(`dir ${context.dir}`);
  if (context.line !== undefined) parts.push(`line ${context.line}`);
  if (context.byteOffset !== undefined) parts.push(`byte ${context.byteOffset}`);
  if (context.batch !== undefined) parts.push(`batch ${context.batch}`);
  if (context.row !== undefined) parts.push(`row ${context.row}`);
  if (context.rowInBatch !== undefined) parts.push(`row ${context.rowInBatch} of the batch`);
  return parts.join(', ');
}

/** Base class of every error spillway throws. */
export class SpillwayError extends Error {
  /** Stable code, e.g. `ERR_SPILLWAY_CSV_PARSE`. */
  readonly code: ErrorCode;
  /** Where it happened. */
  readonly context: ErrorContext;

  /** The message without its context suffix: what went wrong, not where. */
  readonly detail: string;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    const where = describeContext(context);
    super(where ? `${message} (${where})` : message, options);
    this.name = new.target.name;
    this.code = code;
    this.detail = message;
    this.context = { ...context };
  }
}

/**
 * Adds where an error happened, keeping the error itself (its class, code, cause and stack): fields
 * already known stay, missing ones are filled from `context`, and the message is rendered again
 * from its detail and the whole context. A value that is not a SpillwayError comes back as it was
 * (wrap it first where a coded error is owed); a ValidationError is about the call, not the data,
 * and gets no data context.
 */
export function withContext<E>(error: E, context: ErrorContext): E {
  if (!(error instanceof SpillwayError) || error instanceof ValidationError) return error;
  const target = error.context as Record<string, unknown>;
  let added = false;
  for (const [key, value] of Object.entries(context)) {
    if (value !== undefined && target[key] === undefined) {
      target[key] = value;
      added = true;
    }
  }
  if (!added) return error;
  const before = error.message;
  // V8 formats a stack when first read, with the message of that moment: read it before the
  // message changes (read after, it already held the new message, and replacing the old one,
  // its prefix, named the stage twice: "... (stage topK) (stage topK)")
  const stack = error.stack;
  const where = describeContext(error.context);
  error.message = where ? `${error.detail} (${where})` : error.detail;
  if (stack?.includes(before)) error.stack = stack.replace(before, error.message);
  return error;
}

/** An option had the wrong type or value, or two options conflict. Thrown synchronously. */
export class ValidationError extends SpillwayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INVALID_OPTION, message, {}, options);
  }
}

/** The pipeline was aborted through its `signal`; `cause` is `signal.reason`. */
export class AbortError extends SpillwayError {
  constructor(message = 'The pipeline was aborted', options?: { cause?: unknown }) {
    super(ErrorCodes.ABORTED, message, {}, options);
  }
}

/** A CSV row could not be parsed or cast. */
export class CsvParseError extends SpillwayError {
  /** The raw text of the offending record, when known. */
  readonly raw: string | undefined;
  constructor(message: string, context: ErrorContext, raw?: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CSV_PARSE, message, context, options);
    this.raw = raw;
  }
}

/** A JSON Lines line is not valid JSON, or not a JSON object. `context.line` is 1-based. */
export class JsonParseError extends SpillwayError {
  /** The raw text of the offending line. */
  readonly raw: string | undefined;
  constructor(message: string, context: ErrorContext, raw?: string, options?: { cause?: unknown }) {
    super(ErrorCodes.JSON_PARSE, message, context, options);
    this.raw = raw;
  }
}

/** A user function (map, filter, ...) threw; `cause` is what it threw. */
export class StageError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.STAGE, message, context, options);
  }
}

/** `collect()` was asked to hold more rows or bytes than its limit. */
export class CollectLimitError extends SpillwayError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCodes.COLLECT_LIMIT, message, context);
  }
}

/** Reading or writing a file failed (missing file, permissions, full disk). */
export class IoError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.IO, message, context, options);
  }
}

/** A file is corrupt or not of the format it claims to be. */
export class FormatError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.FORMAT, message, context, options);
  }
}

/** A file uses a feature spillway's readers do not support (named in the message). */
export class UnsupportedError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.UNSUPPORTED, message, context, options);
  }
}

/** Wraps an unknown thrown value as an Error without losing it. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `Non-error thrown: ${String(value)}`);
}

/** Formats a value for "Expected `x` to be ..., got `v` (type)" messages. */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    shown =
      typeof value === 'bigint'
        ? `${value}n`
        : typeof value === 'function'
          ? '[function]'
          : (JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `\`${shown}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

/** Why a worker gave up a batch: the user code threw, the worker died, ran out of memory or time. */
export type WorkerFailureReason = 'error' | 'crash' | 'memory' | 'timeout' | 'start' | 'closed';

/**
 * A batch failed in a parallel worker after every retry (or the pool was closed under it).
 * `context.batch` is the batch index, `reason` the last failure, `cause` what the worker reported.
 */
export class WorkerError extends SpillwayError {
  /** The last failure's kind. */
  readonly reason: WorkerFailureReason;
  /** How many times the batch was tried. */
  readonly attempts: number;
  constructor(
    message: string,
    context: ErrorContext,
    reason: WorkerFailureReason,
    attempts: number,
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.WORKER, message, context, options);
    this.reason = reason;
    this.attempts = attempts;
  }
}

/**
 * Memory passed the governor's critical mark (`onCritical: 'abort'`). `memory` is the governor's
 * summary at that moment (peak RSS, time paused, the last sample, ...).
 */
export class MemoryLimitError extends SpillwayError {
  /** The memory summary when the limit was hit. */
  readonly memory: import('../memory/types.ts').MemorySummary;
  constructor(
    message: string,
    memory: import('../memory/types.ts').MemorySummary,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.MEMORY_LIMIT, message, context, options);
    this.memory = memory;
  }
}

/**
 * A batch's schema differs from the schema a writer was opened with. Start a new file or
 * segment, or conform the batch first (see `unifySchemas` / `castRecordBatch`).
 */
export class SchemaMismatchError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.SCHEMA_MISMATCH, message, context, options);
  }
}

/**
 * Spilling to disk failed (full disk, unwritable or unusable directory, a manifest naming a file
 * outside its directory or a missing file). `context.dir` names the spill directory.
 */
export class SpillError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.SPILL, message, context, options);
  }
}

/**
 * A spill file does not match its manifest (checksum, size, rows): a flipped byte or a truncated
 * file. `context.file` and `context.batch` say where; no rows are returned from it.
 */
export class SpillCorruptError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.SPILL_CORRUPT, message, context, options);
  }
}

/** Why a distributed (Redis/BullMQ) run failed: Redis could not be reached, was lost mid-run, or held bad data. */
export type QueueFailureReason = 'unreachable' | 'lost' | 'payload' | 'no-workers';

/**
 * The queue behind a distributed parallel stage failed: Redis unreachable at start, lost mid-run,
 * or a payload missing or corrupt. Messages name the server as `redis://host:port`, never its
 * credentials.
 */
export class QueueError extends SpillwayError {
  /** What went wrong. */
  readonly reason: QueueFailureReason;
  constructor(message: string, context: ErrorContext, reason: QueueFailureReason, options?: { cause?: unknown }) {
    super(ErrorCodes.QUEUE, message, context, options);
    this.reason = reason;
  }
}

/**
 * A checkpoint cannot be used: it belongs to another pipeline (stages or options differ), the
 * input file changed since it was written, a stage cannot be checkpointed (it re-batches or
 * reorders rows, or is a foreign stream), or the checkpoint or the output it names is damaged.
 * `context.dir` names the checkpoint directory.
 */
export class CheckpointError extends SpillwayError {
  constructor(message: string, context: ErrorContext, options?: { cause?: unknown }) {
    super(ErrorCodes.CHECKPOINT, message, context, options);
  }
}

/**
 * The key columns of a join have types that cannot match (Int32 vs Float64, string vs number):
 * raised on the first batches that show it, instead of an empty result. Names both columns.
 */
export class JoinKeyMismatchError extends SpillwayError {
  /** The left key column and the type found in it. */
  readonly left: { column: string; type: string };
  /** The right key column and the type found in it. */
  readonly right: { column: string; type: string };
  constructor(
    message: string,
    left: { column: string; type: string },
    right: { column: string; type: string },
    context: ErrorContext = {},
  ) {
    super(ErrorCodes.JOIN_KEY_MISMATCH, message, context);
    this.left = left;
    this.right = right;
  }
}
