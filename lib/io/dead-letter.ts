/**
 * A dead-letter file: rows or records a stage could not handle, one JSON object a line, with
 * where they came from and why. Opened on the first record, so a clean run leaves no file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { IoError, ValidationError } from '../core/errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { sameFile } from './same-file.ts';

/** One dead-lettered record. */
export interface DeadLetterRecord {
  /** Stage that rejected it. */
  stage: string;
  /** Why, in words. */
  reason: string;
  /** Stable error code, when the reason is a spillway error. */
  code?: string;
  /** Source file. */
  file?: string;
  /** 1-based line in the source, for text sources. */
  line?: number;
  /** Batch index. */
  batch?: number;
  /** The raw text of the record, for text sources. */
  raw?: string;
  /** Attempts made before giving up (parallel stages). */
  attempts?: number;
  /** Index of the row within its batch, for stages that dead-letter parsed rows one a line. */
  row?: number;
  /** The parsed row itself. */
  data?: unknown;
}

/** Where a stage's `onError: { deadLetter: path }` policy writes. */
export class DeadLetterFile {
  /** Path of the file. */
  readonly path: string;
  #stream: WriteStream | undefined;
  #failure: Error | undefined;
  #count = 0;
  #closed = false;
  #drained: Promise<void> | undefined;
  /** 'w' for a new run; 'a' once a resumed run has kept the records of the part already done. */
  #flags: 'w' | 'a' = 'w';

  /**
   * @param input the file the stage reads, when it reads one: a dead-letter path naming that
   *   same file is refused (opened for writing, it truncated the input while it was read)
   */
  constructor(path: string, input?: string) {
    if (input !== undefined && sameFile(path, input))
      throw new ValidationError(
        `Expected \`options.onError.deadLetter\` to name another file than the input: ${path} is the input file ${input} itself, and writing dead letters there would destroy it`,
      );
    this.path = path;
  }

  /** Records written so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Appends a record; resolves once it is buffered and the file's buffer is below its high-water
   * mark (backpressure). Rejects with an IoError when the file cannot be written (full disk) or
   * was closed.
   */
  async write(record: DeadLetterRecord): Promise<void> {
    this.append(record);
    await this.ready();
  }

  /**
   * Appends a record without waiting, for callers that cannot await (parser callbacks). Never
   * throws or rejects: a failure is kept and reported by the next {@link DeadLetterFile.ready},
   * `write` or `close`, so a full disk can never become an unhandled rejection.
   */
  append(record: DeadLetterRecord): void {
    if (this.#failure) return;
    if (this.#closed) {
      this.#failure = new IoError(
        `Cannot write dead-letter file ${this.path}: it was closed (the stage or pool that owns it has ended)`,
        { file: this.path },
      );
      return;
    }
    const stream = (this.#stream ??= this.#open());
    this.#count++;
    stream.write(`${JSON.stringify(record, jsonSafe)}\n`);
  }

  /**
   * Resolves when the records appended so far are below the stream's high-water mark: at once
   * when they are, else on the next `drain`. One wait shared by every caller (no listener pile-up).
   * Rejects with the file's failure, if any.
   */
  async ready(): Promise<void> {
    if (this.#failure) throw this.#failure;
    const stream = this.#stream;
    if (stream === undefined || !stream.writableNeedDrain) return;
    this.#drained ??= new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        this.#drained = undefined;
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
    await this.#drained;
    if (this.#failure) throw this.#failure;
  }

  /**
   * For a run resumed from a checkpoint: keeps the records of the file an interrupted run left
   * for which `keep` is true (those of the part already committed; the resumed part writes its
   * own again), drops the rest and a line cut short by the crash, and appends from then on.
   * Without it a resumed run would start the file afresh and lose the records before the
   * checkpoint.
   * @returns the records kept
   */
  async keepOnly(keep: (record: DeadLetterRecord) => boolean): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw new IoError(
        `Cannot read dead-letter file ${this.path}: ${(error as Error).message}`,
        { file: this.path },
        { cause: error },
      );
    }
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      let record: DeadLetterRecord;
      try {
        record = JSON.parse(line) as DeadLetterRecord;
      } catch {
        continue; // the last line, cut short when the interrupted run was killed
      }
      if (keep(record)) kept.push(`${line}\n`);
    }
    await writeFileAtomic(this.path, kept.join(''));
    this.#flags = 'a';
    return kept.length;
  }

  /** Flushes and closes; idempotent. Throws if any write failed. */
  async close(): Promise<void> {
    this.#closed = true;
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream && !stream.closed) {
      stream.end();
      await once(stream, 'close').catch(() => undefined);
    }
    if (this.#failure) throw this.#failure;
  }

  #open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: this.#flags });
    stream.on('error', (error) => {
      this.#failure ??= new IoError(
        `Cannot write dead-letter file ${this.path}: ${error.message}`,
        { file: this.path },
        { cause: error },
      );
    });
    return stream;
  }
}

/** JSON for values JSON.stringify cannot take: bigints as digits, typed arrays as arrays. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** The error policy of a stage: fail the pipeline, skip and count, or skip into a dead-letter file. */
export type ErrorPolicy = 'fail' | 'skip' | { deadLetter: string };
