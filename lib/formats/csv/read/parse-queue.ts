/**
 * csv-parse's records gathered into batches that the reader pulls one at a time. Records arrive
 * through 'data' in flowing mode; a full batch pauses the parser until the next one is asked for,
 * so backpressure reaches the file. A failure (the parser's, the byte stream's, the comment
 * filter's refusal) is thrown once the batches read before it are taken.
 */
import type { Parser } from 'csv-parse';
import type { Row } from '../../../core/batch.ts';
import type { CsvReadSpec, CsvRun } from './reader.ts';

/** A batch of rows and where it ends (lines and bytes from the read's start). */
export type ReadyRows = { rows: Row[]; numRows: number; endLine: number; endByte: number };

/** Exact record ends, collected by the record hook when the read tracks them (checkpointing). */
export type RecordEnds = { bytes: number[]; lines: number[] };

/** The batches of one csv-parse read; see the module comment. */
export class ParseQueue {
  readonly #parser: Parser;
  readonly #spec: CsvReadSpec;
  readonly #ends: RecordEnds;
  readonly #ready: ReadyRows[] = [];
  #rows: Row[] = [];
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  /**
   * @param refusal the comment filter's refusal, if any, raised once csv-parse read the bytes before it
   */
  constructor(parser: Parser, run: CsvRun, spec: CsvReadSpec, ends: RecordEnds, refusal: () => Error | undefined) {
    this.#parser = parser;
    this.#spec = spec;
    this.#ends = ends;
    const unwrap = run.deadLetter !== undefined;
    parser.on('data', (record: unknown) => {
      this.#rows.push((unwrap ? (record as { record: Row }).record : record) as Row);
      if (this.#rows.length >= run.batchSize) {
        this.#ready.push(this.#batchEnd(this.#rows));
        this.#rows = [];
        parser.pause();
        this.#wake?.();
      }
    });
    parser.on('end', () => {
      const refused = refusal();
      if (refused) this.#failure ??= refused;
      this.#ended = true;
      this.#wake?.();
    });
    parser.on('error', (error: Error) => this.fail(error));
  }

  /** Records the first failure of the read and wakes the reader. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#wake?.();
  }

  /**
   * The next batch (`last`: the rows left at the end), or undefined when the read is done.
   * @throws the read's failure, made a stage error by `wrap`
   */
  async next(wrap: (failure: Error) => Error): Promise<{ ready: ReadyRows; last: boolean } | undefined> {
    for (;;) {
      const ready = this.#ready.shift();
      if (ready) return { ready, last: false };
      if (this.#failure) throw wrap(this.#failure);
      if (this.#ended) {
        if (this.#rows.length === 0) return undefined;
        const rest = this.#batchEnd(this.#rows);
        this.#rows = [];
        return { ready: rest, last: true };
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#parser.resume();
      });
      this.#wake = undefined;
    }
  }

  /** Where a batch of `done` rows ends: exact when tracking, else where the parser is now. */
  #batchEnd(done: Row[]): ReadyRows {
    const info = this.#parser.info;
    if (!this.#spec.tracking) return { rows: done, numRows: done.length, endLine: info.lines, endByte: info.bytes };
    const last = done.length - 1;
    const ends = this.#ends;
    const end = { rows: done, numRows: done.length, endLine: ends.lines[last]!, endByte: ends.bytes[last]! };
    ends.bytes.splice(0, done.length);
    ends.lines.splice(0, done.length);
    return end;
  }
}
