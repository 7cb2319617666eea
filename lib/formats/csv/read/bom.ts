/**
 * What `fromCsv` looks at before choosing its parser: the fast path reads UTF-8 only, so a file
 * that starts with a UTF-16 byte order mark goes to csv-parse (which decodes it) when the parser
 * is left to `'auto'`, instead of failing and asking the user to choose.
 */
import { open } from 'node:fs/promises';

/** True when the file starts with a UTF-16 byte order mark (FF FE or FE FF). A file that cannot be read gives false (the reader reports it). */
export async function startsWithUtf16Bom(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
  } catch {
    return false;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
