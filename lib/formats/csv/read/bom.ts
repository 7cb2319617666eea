/**
 * The byte order mark of a CSV file, read before the parser is chosen when the file is not
 * sniffed: a UTF-16LE file goes to csv-parse (the fast path reads UTF-8) in the encoding its mark
 * names, and a UTF-16BE file is refused, instead of being read as garbage.
 */
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { byteOrderMark, utf16BeRefusal } from './encoding.ts';

/** The mark the file starts with, or undefined (also when the file cannot be read: the reader reports it). */
export async function fileByteOrderMark(path: string): Promise<ReturnType<typeof byteOrderMark>> {
  let handle;
  try {
    handle = await open(path, 'r');
    const head = Buffer.alloc(3);
    const { bytesRead } = await handle.read(head, 0, 3, 0);
    return byteOrderMark(head.subarray(0, bytesRead));
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * A pass-through that refuses a stream starting with a UTF-16BE mark (a compressed file or a
 * stream, whose first bytes were not read before the parser was chosen).
 */
export function refuseUtf16Be(stage: string, where: string): Transform {
  let head: Buffer | undefined = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 2) return callback();
        const mark = byteOrderMark(head);
        const held = head;
        head = undefined;
        if (mark?.encoding === 'utf16be') return callback(utf16BeRefusal(stage, where));
        return callback(null, held);
      }
      callback(null, chunk);
    },
    flush(callback) {
      callback(null, head !== undefined && head.length > 0 ? head : undefined);
    },
  });
}
