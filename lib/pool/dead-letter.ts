/**
 * The dead-letter file of a parallel stage: rows of batches that failed every retry, one JSON
 * line per row with the batch index, the row's index in the batch, the failure and the row.
 * Appends are serialised; the file is opened on the first failure only.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { IoError } from '../errors.ts';

/** One failed batch as it is written. */
export interface DeadLetterEntry {
  batch: number;
  reason: string;
  attempts: number;
  error: string;
  rows: readonly unknown[];
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Appends failed batches to a JSON-lines file. */
export class DeadLetterWriter {
  /** The file written. */
  readonly path: string;
  #handle: Promise<FileHandle> | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** Appends one line per row of the batch. */
  write(entry: DeadLetterEntry): Promise<void> {
    const { rows, ...meta } = entry;
    let text = '';
    rows.forEach((data, row) => {
      text += `${JSON.stringify({ ...meta, row, data }, replacer)}\n`;
    });
    const next = this.#chain.then(async () => {
      this.#handle ??= open(this.path, 'a');
      await (await this.#handle).appendFile(text);
    });
    this.#chain = next.catch(() => {});
    return next.catch((error: unknown) => {
      throw new IoError('Could not write the dead-letter file', { file: this.path, batch: entry.batch }, { cause: error });
    });
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    await this.#chain;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle).close();
  }
}
