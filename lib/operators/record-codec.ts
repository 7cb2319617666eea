/**
 * How the hash operators' spill partitions (hash-partitions.ts) turn a piece of records into
 * bytes and back. V8's structured clone (`v8.serialize`) keeps any value exact but was the largest
 * cost of a large x large join: it writes every property name of every row and builds rows back
 * one property at a time in C++. Most pieces are records of one shape (a join's `[key, row]`
 * pairs, rows of the same columns), so a piece whose records share a shape of plain arrays and
 * objects over primitive values and Dates is written as that shape once, then each value as a
 * tag and a payload, strings gathered in one UTF-8 (or, with lone surrogates, UTF-16) text. Any
 * other piece (a Map, a Set, a typed array, records of mixed shapes) is structured-cloned as
 * before. Either way a piece decodes to what `v8.deserialize(v8.serialize(records))` gives.
 *
 * Each shape is compiled once into a writer and a reader (names JSON-quoted, so no input becomes
 * code): the writer reads each property by its constant name and the reader builds a record as
 * one literal, where walking the shape per record and storing properties one by one cost about
 * as much as the rest of the spill together in a large x large join.
 */
import v8 from 'node:v8';
import { SpillError } from '../core/errors.ts';

/** The first byte of a shaped piece; a cloned piece is V8's bytes, which start with 0xFF. */
const SHAPED_UTF8 = 1;
const SHAPED_UTF16 = 2;

/** Value tags of the shaped form. */
const NULL = 0;
const UNDEFINED = 1;
const FALSE = 2;
const TRUE = 3;
const INT = 4;
const FLOAT = 5;
const STRING = 6;
const BIGINT = 7;
const DATE = 8;

/** The writer's buffer to start with (a join's piece of 256 rows takes about 20 kB). */
const SCRATCH_BYTES = 64 << 10;
/** Fewer records than this are cloned: a shape written once pays off over many records. */
const MIN_SHAPED = 8;
/** A longer shape (JSON) is cloned: records that wide or nested are not rows. */
const MAX_SHAPE_CHARS = 8192;

/** In `u` mode a surrogate pair is one code point: this finds only the lone halves UTF-8 loses. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A record's shape: 0 for a value, an array's shapes, or an object's keys and shapes. */
type Shape = 0 | { items: Shape[]; keys?: string[] };

/** The shape of `value`, or undefined when it has none the shaped form writes. */
function shapeOf(value: unknown): Shape | undefined {
  if (typeof value !== 'object' || value === null || value instanceof Date) return 0;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Array.prototype) {
    const items: Shape[] = [];
    for (const item of value as unknown[]) {
      const shape = shapeOf(item);
      if (shape === undefined) return undefined;
      items.push(shape);
    }
    return { items };
  }
  if (proto !== Object.prototype) return undefined;
  const keys = Object.keys(value);
  // assigned back, `__proto__` would set the prototype instead of a property
  if (keys.includes('__proto__')) return undefined;
  const items: Shape[] = [];
  for (const key of keys) {
    const shape = shapeOf((value as Record<string, unknown>)[key]);
    if (shape === undefined) return undefined;
    items.push(shape);
  }
  return { items, keys };
}

/** Writes records of one shape: a tag and payload per value, strings gathered apart. */
class ShapedWriter {
  #bytes = new Uint8Array(SCRATCH_BYTES);
  #view = new DataView(this.#bytes.buffer);
  length = 0;
  text = '';

  /** Empties the writer for the next piece (a buffer grown past 16 scratch sizes is let go). */
  reset(): void {
    this.length = 0;
    this.text = '';
    if (this.#bytes.length > 16 * SCRATCH_BYTES) {
      this.#bytes = new Uint8Array(SCRATCH_BYTES);
      this.#view = new DataView(this.#bytes.buffer);
    }
  }

  #room(n: number): void {
    if (this.length + n <= this.#bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.#bytes.length * 2, this.length + n));
    bigger.set(this.#bytes);
    this.#bytes = bigger;
    this.#view = new DataView(bigger.buffer);
  }

  /** Writes a tag and room for `payload` bytes after it; returns where the payload goes. */
  #tag(tag: number, payload: number): number {
    this.#room(1 + payload);
    const at = this.length;
    this.#bytes[at] = tag;
    this.length = at + 1 + payload;
    return at + 1;
  }

  #string(tag: number, s: string): void {
    // #tag may grow the buffer (and replace the view): call it first
    const at = this.#tag(tag, 4);
    this.#view.setUint32(at, s.length, true);
    this.text += s;
  }

  /** True when `value` is an array of `n` items, none a hole (a compiled writer's check). */
  array(value: unknown, n: number): boolean {
    if (!Array.isArray(value) || value.length !== n) return false;
    // a hole is not undefined: leave sparse arrays to the clone
    for (let i = 0; i < n; i++) if (!(i in value)) return false;
    return true;
  }

  /** True when `value` is a plain object whose keys are `keys`, in order (a compiled writer's check). */
  object(value: unknown, keys: readonly string[]): boolean {
    if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
    let i = 0;
    for (const key in value) if (key !== keys[i++]) return false;
    return i === keys.length;
  }

  /** Writes a value (shape 0); false when it is not one. */
  value(value: unknown): boolean {
    switch (typeof value) {
      case 'string':
        this.#string(STRING, value);
        return true;
      case 'number':
        // -0 is no int32 (1 / -0 is -Infinity)
        if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
          const at = this.#tag(INT, 4);
          this.#view.setInt32(at, value, true);
        } else {
          const at = this.#tag(FLOAT, 8);
          this.#view.setFloat64(at, value, true);
        }
        return true;
      case 'boolean':
        this.#tag(value ? TRUE : FALSE, 0);
        return true;
      case 'undefined':
        this.#tag(UNDEFINED, 0);
        return true;
      case 'bigint':
        this.#string(BIGINT, value.toString());
        return true;
      default:
        if (value === null) this.#tag(NULL, 0);
        else if (value instanceof Date) {
          // the clone keeps a Date's time only, so does this
          const at = this.#tag(DATE, 8);
          this.#view.setFloat64(at, value.getTime(), true);
        } else return false;
        return true;
    }
  }

  /** The value bytes written so far. */
  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }
}

/** Encodes a piece of records (see the module comment). */
export function encodeRecords(records: readonly unknown[]): Uint8Array {
  const shape = records.length >= MIN_SHAPED ? shapeOf(records[0]) : undefined;
  const json = shape !== undefined && shape !== 0 ? JSON.stringify(shape) : '';
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
  return v8.serialize(records);
}

/** Lays out a shaped piece: format, record count, shape (JSON), value bytes, text. */
function shapedPiece(count: number, json: string, writer: ShapedWriter): Uint8Array {
  // one allocation per piece: the pieces wait for their chunk outside the JS heap, where only a
  // GC frees them, and a copy per part pushed a large join's RSS towards the governor's limit
  const encoding = LONE_SURROGATE.test(writer.text) ? 'utf16le' : 'utf8';
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

/** Writes one record of a compiled shape; false when it does not have that shape. */
type RecordWriter = (writer: ShapedWriter, record: unknown) => boolean;
/** Reads one record of a compiled shape. */
type RecordReader = (reader: ShapedReader) => unknown;

/** Compiled shapes kept; past it a cache starts over (a run has a few shapes). */
const COMPILED_MAX = 64;
const WRITERS = new Map<string, RecordWriter>();
const READERS = new Map<string, RecordReader>();

/** The function compiled for the shape `json`, made by `make` on first use. */
function compiled<F>(cache: Map<string, F>, json: string, make: () => F): F {
  let f = cache.get(json);
  if (f === undefined) {
    f = make();
    if (cache.size >= COMPILED_MAX) cache.clear();
    cache.set(json, f);
  }
  return f;
}

/** A writer of records of `shape`: checks each array and object, then writes each value by its constant path. */
function compileWriter(shape: Shape): RecordWriter {
  const keys: (readonly string[])[] = [];
  const check = (s: Shape, at: string): string => {
    if (s === 0) return `w.value(${at})`;
    const parts = s.items.map((item, i) =>
      check(item, s.keys === undefined ? `${at}[${i}]` : `${at}[${JSON.stringify(s.keys[i])}]`),
    );
    const head =
      s.keys === undefined ? `w.array(${at}, ${s.items.length})` : `w.object(${at}, K[${keys.push(s.keys) - 1}])`;
    return [head, ...parts].join(' && ');
  };
  const body = check(shape, 'r');
  // built from JSON-quoted names and indices only: no input becomes code
  return new Function('K', `return (w, r) => ${body};`)(keys) as RecordWriter;
}

/** A reader of records of `shape`: each array and object one literal, its values read in order. */
function compileReader(shape: Shape): RecordReader {
  const literal = (s: Shape): string => {
    if (s === 0) return 'r.value()';
    const items = s.items.map(literal);
    if (s.keys === undefined) return `[${items.join(', ')}]`;
    return `{ ${s.keys.map((key, i) => `${JSON.stringify(key)}: ${items[i]}`).join(', ')} }`;
  };
  return new Function('r', `return ${literal(shape)};`) as RecordReader;
}

/** Reads the values of a shaped piece back. */
class ShapedReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at: number;
  readonly #text: string;
  #textAt = 0;

  constructor(bytes: Uint8Array, at: number, text: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#at = at;
    this.#text = text;
  }

  read(shape: Shape): unknown {
    if (shape === 0) return this.value();
    const items = shape.items;
    const keys = shape.keys;
    if (keys === undefined) {
      const array: unknown[] = [];
      for (let i = 0; i < items.length; i++) array.push(this.read(items[i]!));
      return array;
    }
    const object: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) object[keys[i]!] = this.read(items[i]!);
    return object;
  }

  #string(): string {
    const n = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    const s = this.#text.slice(this.#textAt, this.#textAt + n);
    this.#textAt += n;
    return s;
  }

  /** Reads the next value. */
  value(): unknown {
    const tag = this.#bytes[this.#at++];
    switch (tag) {
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case INT:
        this.#at += 4;
        return this.#view.getInt32(this.#at - 4, true);
      case FLOAT:
        this.#at += 8;
        return this.#view.getFloat64(this.#at - 8, true);
      case STRING:
        return this.#string();
      case BIGINT:
        return BigInt(this.#string());
      case DATE:
        this.#at += 8;
        return new Date(this.#view.getFloat64(this.#at - 8, true));
      default:
        throw new SpillError(`A spilled piece holds an unknown value tag ${tag}`, {});
    }
  }
}

/** Decodes a piece written by {@link encodeRecords}. */
export function decodeRecords(bytes: Uint8Array): unknown[] {
  if (bytes[0] !== SHAPED_UTF8 && bytes[0] !== SHAPED_UTF16) return v8.deserialize(bytes) as unknown[];
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
