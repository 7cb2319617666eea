/**
 * How a piece of records (the hash operators' spill partitions, hash-partitions.ts) becomes bytes
 * and back, exactly. V8's structured clone (`v8.serialize`) keeps any value but was the largest
 * cost of a large x large join: it writes every property name of every row and builds rows back
 * one property at a time in C++. Most pieces are records of one shape (a join's `[key, row]`
 * pairs, rows of the same columns, a groupBy's chunk of key columns, packed states and kept
 * rows), so a piece whose records share a shape (shape.ts) of plain arrays, objects and lists
 * over primitives, Dates and typed arrays is written as that shape once, then each value as a
 * tag and a payload (shaped-io.ts), by a writer and a reader compiled for the shape
 * (compile.ts). Any other piece (a Map, a Set, records of mixed shapes) is structured-cloned
 * (dated-clone.ts). Either way a piece decodes to what `v8.deserialize(v8.serialize(records))`
 * gives, except that a PreciseDate (a micro- or nanosecond timestamp) stays one, nanoseconds
 * included, where the clone alone gives a Date.
 */
import { READERS, WRITERS, compileReader, compileWriter, compiled } from './compile.ts';
import { cloned, cloneLoses, decodeCloned } from './dated-clone.ts';
import { shapeOf, type Shape } from './shape.ts';
import { ShapedReader, ShapedWriter } from './shaped-io.ts';
import { wellFormed } from '../values.ts';

/** The first byte of a shaped piece; a cloned piece starts with 0xFF, or CLONED_NANOS (dated-clone.ts). */
const SHAPED_UTF8 = 1;
const SHAPED_UTF16 = 2;

/** Fewer records than this are cloned, unless the shape has a list: a shape written once pays off over many values. */
const MIN_SHAPED = 8;
/** A longer shape (JSON) is cloned: records that wide or nested are not rows. */
const MAX_SHAPE_CHARS = 8192;

/** Encodes a piece of records (see the module comment). */
export function encodeRecords(records: readonly unknown[]): Uint8Array {
  return shapedRecords(records) ?? cloned(records);
}

/**
 * The piece when it takes the shaped form or a message clone would lose a value (a PreciseDate, a
 * Buffer: dated-clone.ts `cloneLoses`); undefined when a structured
 * clone of `records` keeps them exactly and the shape would not pay, so that a caller with a
 * clone of its own at hand (a worker's `postMessage`) can use that instead.
 */
export function encodeUnlessCloneable(records: readonly unknown[]): Uint8Array | undefined {
  return shapedRecords(records) ?? (cloneLoses(records) ? cloned(records) : undefined);
}

/** The shaped piece of `records`, or undefined when they have no shape the form writes. */
function shapedRecords(records: readonly unknown[]): Uint8Array | undefined {
  const first = records.length > 0 ? shapeOf(records[0]) : undefined;
  const json = first !== undefined && first !== 0 ? JSON.stringify(first) : '';
  const shape = records.length >= MIN_SHAPED || json.includes('"each"') ? first : undefined;
  if (shape !== undefined && shape !== 0 && json.length <= MAX_SHAPE_CHARS) {
    const writer = WRITER;
    const write = compiled(WRITERS, json, () => compileWriter(shape));
    let ok = true;
    for (const record of records) if (!(ok = write(writer, record))) break;
    const piece = ok ? shapedPiece(records.length, json, writer) : undefined;
    // emptied now, so that the shared writer holds no piece's text until the next one
    writer.reset();
    if (piece) return piece;
  }
  return undefined;
}

/** Lays out a shaped piece: format, record count, shape (JSON), value bytes, text. */
function shapedPiece(count: number, json: string, writer: ShapedWriter): Uint8Array {
  // one allocation per piece: the pieces wait for their chunk outside the JS heap, where only a
  // GC frees them, and a copy per part pushed a large join's RSS towards the governor's limit
  // a lone surrogate has no UTF-8 form: such text goes as UTF-16
  const encoding = wellFormed(writer.text) ? 'utf8' : 'utf16le';
  const jsonBytes = Buffer.byteLength(json);
  const valuesAt = 13 + jsonBytes;
  const textAt = valuesAt + writer.length;
  const piece = Buffer.allocUnsafe(textAt + Buffer.byteLength(writer.text, encoding));
  piece[0] = encoding === 'utf8' ? SHAPED_UTF8 : SHAPED_UTF16;
  piece.writeUInt32LE(count, 1);
  piece.writeUInt32LE(jsonBytes, 5);
  piece.writeUInt32LE(writer.length, 9);
  piece.write(json, 13);
  piece.set(writer.bytes(), valuesAt);
  piece.write(writer.text, textAt, encoding);
  return piece;
}

/** Encoding is synchronous: one writer serves every piece. */
const WRITER = new ShapedWriter();

/** Decodes a piece written by {@link encodeRecords}. */
export function decodeRecords(bytes: Uint8Array): unknown[] {
  if (bytes[0] !== SHAPED_UTF8 && bytes[0] !== SHAPED_UTF16) return decodeCloned(bytes);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = buffer.readUInt32LE(1);
  const shapeEnd = 13 + buffer.readUInt32LE(5);
  const valuesEnd = shapeEnd + buffer.readUInt32LE(9);
  const json = buffer.toString('utf8', 13, shapeEnd);
  const text = buffer.toString(bytes[0] === SHAPED_UTF8 ? 'utf8' : 'utf16le', valuesEnd);
  const reader = new ShapedReader(buffer, shapeEnd, text);
  const records: unknown[] = [];
  if (json.includes('"__proto__"')) {
    // a literal would set the prototype (the writer never makes such a shape): read it key by key
    const shape = JSON.parse(json) as Shape;
    for (let i = 0; i < count; i++) records.push(reader.read(shape));
    return records;
  }
  const read = compiled(READERS, json, () => compileReader(JSON.parse(json) as Shape));
  for (let i = 0; i < count; i++) records.push(read(reader));
  return records;
}
