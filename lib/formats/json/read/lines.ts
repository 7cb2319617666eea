/**
 * fromJsonl's line batcher: one line at a time into row objects, grouped into batches, with a
 * bad line handled by the error policy (fail, skip, or a dead-letter file) at its 1-based line.
 */
import { Batch, type Row } from '../../../core/batch.ts';
import { JsonParseError } from '../../../core/errors.ts';
import type { StageStats } from '../../../core/stage.ts';
import type { DeadLetterFile } from '../../../io/dead-letter.ts';
import { parseJsonExact } from '../lines.ts';
import type { JsonlPlan } from './options.ts';
import { maxRecordBytes } from '../../csv/fast/limits.ts';

/** Where a read starts: at the beginning, or just after the line a checkpoint ends at. */
export interface JsonlStart {
  /** Offset in the (decompressed) text. */
  byte: number;
  /** Lines before it. */
  line: number;
  /** Rows before it. */
  rows: number;
  /** Index of the next batch. */
  index: number;
}

/** The start of a read from the beginning. */
export const FROM_START: JsonlStart = { byte: 0, line: 0, rows: 0, index: 0 };

/** What is wrong with a line. */
export interface BadLine {
  message: string;
  body: string;
  cause?: unknown;
}

/** Rows of one read, line by line; see the module comment. */
/** A blank line: JSON's own white space only (String.prototype.trim also strips U+00A0, U+2028, ...). */
const JSON_SPACE_ONLY = /^[ \t\r\n]*$/;

export class JsonlLines {
  /** Lines seen so far (the 1-based number of the last one). */
  line = 0;
  /** Rows of the batch being filled. */
  rows: Row[] = [];
  #index = 0;
  #batchStart = 0;
  readonly #plan: JsonlPlan;
  readonly #stats: StageStats;
  readonly #deadLetter: DeadLetterFile | undefined;

  constructor(plan: JsonlPlan, stats: StageStats, deadLetter: DeadLetterFile | undefined, start: JsonlStart) {
    this.#plan = plan;
    this.#stats = stats;
    this.#deadLetter = deadLetter;
    this.line = start.line;
    this.#index = start.index;
    this.#batchStart = start.rows;
  }

  /** Parses one line into `rows`; returns what is wrong with it, if anything (sync: the hot path). */
  take(raw: string): BadLine | undefined {
    const line = ++this.line;
    let body = withoutCr(raw);
    // a UTF-8 byte order mark (Windows tools write one): not JSON, and invisible in the message
    // it made ("Unexpected token ''"), so the file's first line is read without it
    if (line === 1 && body.charCodeAt(0) === 0xfeff) body = body.slice(1);
    const first = body.charCodeAt(0);
    if (body.length === 0 || ((first === 0x20 || first === 0x09) && JSON_SPACE_ONLY.test(body))) return undefined;
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
    this.rows.push(value as Row);
    return undefined;
  }

  /** A line holding bytes that are not UTF-8 (shown decoded with U+FFFD), as a bad line. */
  invalidUtf8(raw: string): BadLine {
    const line = ++this.line;
    return {
      message: `Invalid UTF-8 on line ${line} (shown with U+FFFD); pass invalidUtf8: 'replace' to read it so`,
      body: withoutCr(raw),
    };
  }

  /** A bad line: thrown under `'fail'`, else counted (and dead-lettered when there is a file). */
  async bad(problem: BadLine): Promise<void> {
    const { stage, where, policy } = this.#plan;
    const { message, body: raw, cause } = problem;
    const line = this.line;
    const error = new JsonParseError(
      message,
      { stage, file: where, line },
      raw,
      cause === undefined ? undefined : { cause },
    );
    if (policy === 'fail') throw error;
    this.#stats.rowsSkipped++;
    if (this.#deadLetter) {
      this.#stats.rowsDeadLettered++;
      await this.#deadLetter.write({ stage, reason: message, code: error.code, file: where, line, raw });
    }
  }

  /**
   * The error for the line being read passing the line bound: thrown whatever `onError` says, as a
   * CSV record past its bound is, since a line that long means the file is not JSON Lines (skipping
   * it could drop the whole file as one bad line).
   */
  tooLong(): JsonParseError {
    const { stage, where } = this.#plan;
    const line = this.line + 1;
    return new JsonParseError(
      `JSONL_MAX_LINE_SIZE: Line ${line} is longer than ${maxRecordBytes()} bytes: not a line spillway can hold (is the file JSON Lines?)`,
      { stage, file: where, line },
    );
  }

  /** The rows taken so far as the next batch; `endByte`: the text's bytes consumed through its last line (checkpoints). */
  flush(endByte?: number): Batch<Row> {
    const position = { source: this.#plan.where, index: this.#index++, rowStart: this.#batchStart };
    const batch = new Batch(this.rows, endByte === undefined ? position : { ...position, endByte, endLine: this.line });
    this.#batchStart += this.rows.length;
    this.rows = [];
    return batch;
  }
}

/** A line without the CR of a CRLF line end. */
function withoutCr(raw: string): string {
  return raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
}
