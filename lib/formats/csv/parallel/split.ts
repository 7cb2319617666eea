/**
 * Where to cut a CSV file into ranges for the parser threads: just after a line feed near each
 * multiple of the chunk size. The cut is only a guess at a record boundary (the LF may lie inside
 * a quoted field); the reader checks every guess against the range before it (see reader.ts).
 * A cut is never placed after a line ending in a quote (the scanner must see the byte after a
 * closing quote to finish a record, so such a range could never be seen to end cleanly), and only
 * where the next few records read from it, quote-aware, have the file's number of fields: an LF
 * inside a quoted field (`"late print\nrevised"`) is then almost never taken for a record's end.
 */
import { open } from 'node:fs/promises';

const LF = 10;
const CR = 13;
const QUOTE = 34;
/** How far past a nominal offset a line feed is looked for. */
const PROBE_BYTES = 64 * 1024;

/** Records that must read well from a cut. */
const CHECK_RECORDS = 4;

/** Cut offsets (absolute, ascending, each just after an LF) strictly between `start` and `end`. */
export async function cutPoints(
  file: string,
  start: number,
  end: number,
  chunkBytes: number,
  shape: { delimiter: number; fields: number },
): Promise<number[]> {
  const cuts: number[] = [];
  const handle = await open(file, 'r');
  try {
    const probe = Buffer.allocUnsafe(PROBE_BYTES);
    for (let nominal = start + chunkBytes; nominal < end - chunkBytes / 4; nominal += chunkBytes) {
      if (cuts.length > 0 && nominal <= cuts[cuts.length - 1]!) continue;
      const { bytesRead } = await handle.read(probe, 0, PROBE_BYTES, nominal);
      const cut = cutIn(probe.subarray(0, bytesRead), shape);
      if (cut !== undefined && nominal + cut < end) cuts.push(nominal + cut);
    }
  } finally {
    await handle.close();
  }
  return cuts;
}

/** The offset just after the first suitable LF in `bytes` (not the first byte: its line's start is unknown), or undefined. */
function cutIn(bytes: Buffer, shape: { delimiter: number; fields: number }): number | undefined {
  for (let i = bytes.indexOf(LF, 1); i >= 0; i = bytes.indexOf(LF, i + 1)) {
    let before = i - 1;
    if (bytes[before] === CR) before--;
    if (before < 0 || bytes[before] === QUOTE) continue;
    let at = i + 1;
    let ok = true;
    for (let r = 0; r < CHECK_RECORDS && ok; r++) {
      const next = recordEnd(bytes, at, shape);
      if (next < 0) ok = false;
      else at = next;
    }
    if (ok) return i + 1;
  }
  return undefined;
}

/**
 * Where the record starting at `p` ends (after its LF), reading quotes as RFC 4180 does, or -1
 * when it does not end in `bytes`, is irregular (a quote inside an unquoted field, text after a
 * closing quote) or has another number of fields than the file.
 */
function recordEnd(bytes: Buffer, p: number, shape: { delimiter: number; fields: number }): number {
  const D = shape.delimiter;
  const len = bytes.length;
  let fields = 1;
  while (p < len) {
    if (bytes[p] === QUOTE) {
      // a quoted field: to its closing quote ("" is an escaped quote)
      p++;
      for (;;) {
        if (p >= len) return -1;
        if (bytes[p] === QUOTE) {
          if (bytes[p + 1] === QUOTE) p += 2;
          else break;
        } else p++;
      }
      p++;
      const c = bytes[p];
      if (c !== D && c !== LF && c !== CR) return -1;
    }
    for (; p < len; p++) {
      const c = bytes[p]!;
      if (c === D) {
        fields++;
        p++;
        break;
      }
      if (c === LF) return fields === shape.fields ? p + 1 : -1;
      if (c === QUOTE) return -1;
    }
  }
  return -1;
}
