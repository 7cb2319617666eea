/**
 * The csv-parse reader's line ends, settled as the fast scanner settles them
 * (fast/record-delimiter.ts): past a first line ending in `\n` or `\r\n`, both end lines, so a
 * file concatenated from two systems reads whole. csv-parse's own discovery keeps one delimiter
 * for the whole input (the `\r` of the other kind's lines stays in their last field), and its
 * options are fixed when it starts: so the reader looks at the input's first line end first,
 * holding the bytes it read, and gives csv-parse `['\r\n', '\n']`, or its own discovery when the
 * first line ends in a lone `\r` (old Mac files) or no line ends within the bound.
 */
import { Readable } from 'node:stream';

const CR = 13;
const LF = 10;

/** The bytes held while looking, at most; a longer first line is refused by the record bound anyway. */
const LOOK_BYTES = 8 * 2 ** 20;

/** What {@link settleLineEnds} found: the stream to read from and csv-parse's `record_delimiter`. */
export interface SettledLineEnds {
  /** The input's bytes from the start, those read while looking included. */
  bytes: Readable;
  /** `['\r\n', '\n']`, or undefined for csv-parse's own discovery. */
  recordDelimiter: string[] | undefined;
}

/** Looks at `bytes` up to its first line end outside quotes; see the module comment. */
export async function settleLineEnds(bytes: Readable, quote: number | undefined): Promise<SettledLineEnds> {
  const chunks = bytes[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const held: Buffer[] = [];
  const look = new FirstLineEnd(quote);
  let found: 'newline' | 'cr' | undefined;
  let ended = false;
  for (let size = 0; found === undefined && size < LOOK_BYTES; ) {
    const next = await chunks.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    held.push(next.value);
    size += next.value.byteLength;
    found = look.scan(next.value);
  }
  found ??= look.atEnd();
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield* held;
      for (let next = ended ? undefined : await chunks.next(); next && next.done !== true; next = await chunks.next())
        yield next.value;
    } finally {
      // a stopped read releases the stream under it (its file closes)
      await chunks.return?.();
    }
  }
  return {
    bytes: Readable.from(replay(), { objectMode: false }),
    recordDelimiter: found === 'cr' ? undefined : ['\r\n', '\n'],
  };
}

/** The first CR or LF byte outside quotes, chunk by chunk (the bytes are ASCII-compatible). */
class FirstLineEnd {
  readonly #quote: number | undefined;
  #quoted = false;
  /** A CR was the last byte seen: what follows it decides. */
  #cr = false;

  constructor(quote: number | undefined) {
    this.#quote = quote;
  }

  /** The kind once the input so far shows it, else undefined (more bytes needed). */
  scan(chunk: Buffer): 'newline' | 'cr' | undefined {
    for (let i = 0; i < chunk.byteLength; i++) {
      const c = chunk[i]!;
      if (this.#cr) return c === LF ? 'newline' : 'cr';
      if (c === this.#quote) this.#quoted = !this.#quoted;
      else if (this.#quoted) continue;
      else if (c === LF) return 'newline';
      else if (c === CR) this.#cr = true;
    }
    return undefined;
  }

  /** The kind when the input (or the look) ended without deciding. */
  atEnd(): 'newline' | 'cr' {
    return this.#cr ? 'cr' : 'newline';
  }
}
