/**
 * Bounds on what one CSV record may cost. A batch holds rows x columns cells: a 1.8 MB file of
 * 100,000 columns read in batches of 10,000 rows reserved capacity for a billion cells (2.9 GB,
 * unfinished after 100 s). Batches are cut by cells as well as rows, so a wide file reads in
 * small batches at the same speed, and a record wider than any real table is refused with a
 * clear error (the memory of the columns it would create is the file's size times a large factor).
 */
import { CsvRecordError } from './record-error.ts';

/** Most fields in one record: 262,144 (a power of two: the scanner checks it when its field arrays grow). */
export const MAX_CSV_FIELDS = 1 << 18;

/**
 * Most bytes in one record (its fields and delimiters): 128 MiB. A record is held whole until it
 * ends, so an unclosed quote or a file without record delimiters would otherwise grow without end.
 */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024;

/** A bound that tests may lower in this thread, with the function that puts the previous one back. */
function testableBound(initial: number): { get(): number; set(bytes: number): () => void } {
  let bound = initial;
  return {
    get: () => bound,
    set(bytes) {
      if (!Number.isSafeInteger(bytes) || bytes < 1)
        throw new RangeError(`Expected \`bytes\` to be a positive integer, got ${bytes}`);
      const previous = bound;
      bound = bytes;
      return () => {
        bound = previous;
      };
    },
  };
}

const recordBound = testableBound(MAX_RECORD_BYTES);

/**
 * The record bound readers started from now on apply: {@link MAX_RECORD_BYTES} unless a test
 * lowered it with {@link setMaxRecordBytes}.
 */
export function maxRecordBytes(): number {
  return recordBound.get();
}

/**
 * Internal, for tests: sets the record bound of readers started from now on in this thread (the
 * parser threads keep theirs), so the refusal can be checked on megabytes instead of 128 MiB.
 * Returns a function that puts the previous bound back.
 */
export function setMaxRecordBytes(bytes: number): () => void {
  return recordBound.set(bytes);
}

/**
 * Most text bytes in one Arrow batch before it is sealed (then one more record, at most the record
 * bound, may join it): Arrow's Utf8 offsets are int32, and a batch of 18 rows of 125 MB wrapped
 * them past 2 GiB. toCsv then wrote NULs and toArrow a 642-byte file, each saying it succeeded.
 */
export const MAX_BATCH_TEXT_BYTES = 1 << 30;
const batchTextBound = testableBound(MAX_BATCH_TEXT_BYTES);

/** The text bound of a batch now ({@link MAX_BATCH_TEXT_BYTES} unless a test set another). */
export function maxBatchTextBytes(): number {
  return batchTextBound.get();
}

/**
 * Internal, for tests: sets the text bound of batches in this thread, so the split can be checked
 * on kilobytes instead of a gigabyte. Returns a function that puts the previous bound back.
 */
export function setMaxBatchTextBytes(bytes: number): () => void {
  return batchTextBound.set(bytes);
}

/** Most cells (rows x columns) in one batch: the row count of a batch shrinks as the file widens. */
export const MAX_BATCH_CELLS = 1 << 21;

/** Rows per batch for `columns` columns: `batchSize`, or fewer so the batch stays under {@link MAX_BATCH_CELLS}. */
export function rowsPerBatch(batchSize: number, columns: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(MAX_BATCH_CELLS / Math.max(1, columns))));
}

/** The error for a record with more than {@link MAX_CSV_FIELDS} fields (a CsvParseError once wrapped, whatever `onError` says). */
export function tooManyFields(line: number): CsvRecordError {
  return new CsvRecordError(
    'CSV_MAX_FIELDS',
    `Record on line ${line} has more than ${MAX_CSV_FIELDS} fields: not a table spillway can hold (is the delimiter right?)`,
    line,
  );
}

/** The error for a record of more than `bound` bytes (csv-parse's code for its `max_record_size`). */
export function recordTooLarge(line: number, bound: number): CsvRecordError {
  return new CsvRecordError(
    'CSV_MAX_RECORD_SIZE',
    `Record starting on line ${line} is longer than ${bound} bytes: not a record spillway can hold (an unclosed quote?)`,
    line,
  );
}
