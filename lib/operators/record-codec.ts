/**
 * How the hash operators' spill partitions (hash-partitions.ts) turn a piece of records into
 * bytes and back. V8's structured clone (`v8.serialize`) keeps any value exact but was the largest
 * cost of a large x large join: it writes every property name of every row and builds rows back
 * one property at a time in C++. Most pieces are records of one shape (a join's `[key, row]`
 * pairs, rows of the same columns), so a piece whose records share a shape of plain arrays and
 * objects over primitive values and Dates is written as that shape once, then each value as a
 * tag and a payload, strings gathered in one UTF-8 (or, with lone surrogates, UTF-16) text. Any
 * other piece (a Map, a Set, records of mixed shapes) is structured-cloned as before. Either way
 * a piece decodes to what `v8.deserialize(v8.serialize(records))` gives. A long array whose items
 * look alike (first, second and last) is a list: its length, then each item of one shape, so a
 * groupBy's or distinct's spilled chunk (key columns, Float64Array states, kept rows) is shaped
 * too, though a piece holds only a few of them; Float64Array, Int32Array and Uint8Array values
 * are written as their bytes. A {@link PreciseDate} (a Parquet or Arrow timestamp finer than the
 * its nanoseconds, which a structured clone drops (it gives a Date): the shaped form writes them,
 * and a cloned piece holding one carries them beside the clone (format {@link CLONED_NANOS}).
 *
 * Each shape is compiled once into a writer and a reader (names JSON-quoted, so no input becomes
 * code): the writer reads each property by its constant name and the reader builds a record as
 * one literal, where walking the shape per record and storing properties one by one cost about
 * as much as the rest of the spill together in a large x large join.
 */
import v8 from 'node:v8';
import { SpillError } from '../core/errors.ts';
import { PreciseDate } from '../formats/values.ts';

/** The first byte of a shaped piece; a cloned piece is V8's bytes, which start with 0xFF. */
const SHAPED_UTF8 = 1;
const SHAPED_UTF16 = 2;
/** A clone of `[records, nanos]`: each Date's nanoseconds (-1: a plain Date), in walk order (see {@link walkDates}). */
const CLONED_NANOS = 3;

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
const FLOAT64S = 9;
const INT32S = 10;
const UINT8S = 11;
const PRECISE_DATE = 12;

/** The typed arrays written as values, by tag (a subclass, such as Buffer, is cloned). */
const TYPED: readonly [number, Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor][] = [
  [FLOAT64S, Float64Array],
  [INT32S, Int32Array],
  [UINT8S, Uint8Array],
];

/** The writer's buffer to start with (a join's piece of 256 rows takes about 20 kB). */
const SCRATCH_BYTES = 64 << 10;
/** Fewer records than this are cloned, unless the shape has a list: a shape written once pays off over many values. */
const MIN_SHAPED = 8;
/** An array at least this long whose items look alike is a list (see the module comment). */
const MIN_LIST = 16;
/** A longer shape (JSON) is cloned: records that wide or nested are not rows. */
const MAX_SHAPE_CHARS = 8192;

/** In `u` mode a surrogate pair is one code point: this finds only the lone halves UTF-8 loses. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A record's shape: 0 for a value, an array's shapes, an object's keys and shapes, or a list's item shape. */
type Shape = 0 | { items: Shape[]; keys?: string[] } | { each: Shape };

/** The shape of `value`, or undefined when it has none the shaped form writes. */
function shapeOf(value: unknown): Shape | undefined {
  if (typeof value !== 'object' || value === null || value instanceof Date) return 0;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (TYPED.some(([, type]) => type.prototype === proto)) return 0;
  if (proto === Array.prototype) {
    const array = value as unknown[];
    if (array.length >= MIN_LIST) {
      // sampled: the compiled writer checks every item
      const each = shapeOf(array[0]);
      const json = JSON.stringify(each);
      if (
        each !== undefined &&
        JSON.stringify(shapeOf(array[1])) === json &&
        JSON.stringify(shapeOf(array.at(-1))) === json
      )
        return { each };
    }
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

  /** True when `value` is an array, none of its items a hole; writes its length (a compiled writer's list check). */
  list(value: unknown): value is unknown[] {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return false;
    const n = value.length;
    for (let i = 0; i < n; i++) if (!(i in value)) return false;
    this.#room(4);
    this.#view.setUint32(this.length, n, true);
    this.length += 4;
    return true;
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
          // a Date's time (as the clone), and a PreciseDate's nanoseconds
          const precise = value instanceof PreciseDate;
          const at = this.#tag(precise ? PRECISE_DATE : DATE, precise ? 12 : 8);
          this.#view.setFloat64(at, value.getTime(), true);
          if (precise) this.#view.setUint32(at + 8, value.nanos, true);
        } else return this.#typed(value);
        return true;
    }
  }

  /** Writes a Float64Array, Int32Array or Uint8Array as its tag, byte length and bytes; false for anything else. */
  #typed(value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    const entry = TYPED.find(([, type]) => type.prototype === proto);
    if (entry === undefined) return false;
    const view = value as Float64Array | Int32Array | Uint8Array;
    const at = this.#tag(entry[0], 4 + view.byteLength);
    this.#view.setUint32(at, view.byteLength, true);
    this.#bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at + 4);
    return true;
  }

  /** The value bytes written so far. */
  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }
}

/** Encodes a piece of records (see the module comment). */
export function encodeRecords(records: readonly unknown[]): Uint8Array {
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
  return cloned(records);
}

/** A structured clone of `records`, with the nanoseconds of PreciseDates beside it when it holds any. */
function cloned(records: readonly unknown[]): Uint8Array {
  const nanos: number[] = [];
  let precise = false;
  walkDates(records, (date) => {
    // -1: a plain Date
    const n = date instanceof PreciseDate ? date.nanos : -1;
    if (n !== -1) precise = true;
    nanos.push(n);
    return date;
  });
  if (!precise) return v8.serialize(records);
  const clone = v8.serialize([records, nanos]);
  const piece = new Uint8Array(clone.length + 1);
  piece[0] = CLONED_NANOS;
  piece.set(clone, 1);
  return piece;
}

/**
 * Visits every Date inside `value` in a fixed order (array items, object keys, Map entries, Set
 * elements; a shared object once), replacing each by what `visit` returns. A structured clone
 * keeps that order and sharing, so the encoder's walk and the decoder's meet the same Dates.
 */
function walkDates(value: unknown, visit: (date: Date) => Date, seen = new Set<object>()): unknown {
  if (value instanceof Date) return visit(value);
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = walkDates(value[i], visit, seen);
      if (item !== value[i]) value[i] = item;
    }
  } else if (value instanceof Map) {
    let changed = false;
    const entries = [...value].map(([k, v]) => {
      const key = walkDates(k, visit, seen);
      const item = walkDates(v, visit, seen);
      changed ||= key !== k || item !== v;
      return [key, item] as const;
    });
    if (changed) {
      value.clear();
      for (const [k, v] of entries) value.set(k, v);
    }
  } else if (value instanceof Set) {
    let changed = false;
    const items = [...value].map((item) => {
      const next = walkDates(item, visit, seen);
      changed ||= next !== item;
      return next;
    });
    if (changed) {
      value.clear();
      for (const item of items) value.add(item);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = walkDates(record[key], visit, seen);
      if (item !== record[key]) record[key] = item;
    }
  }
  return value;
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
  const lists: string[] = [];
  const check = (s: Shape, at: string): string => {
    if (s === 0) return `w.value(${at})`;
    if ('each' in s) {
      // a list: a function of its own, which writes its length and checks and writes each item
      const n = lists.push('') - 1;
      lists[n] =
        `function L${n}(w, a) { if (!w.list(a)) return false; ` +
        `for (let i = 0; i < a.length; i++) if (!(${check(s.each, 'a[i]')})) return false; return true; }`;
      return `L${n}(w, ${at})`;
    }
    const parts = s.items.map((item, i) =>
      check(item, s.keys === undefined ? `${at}[${i}]` : `${at}[${JSON.stringify(s.keys[i])}]`),
    );
    const head =
      s.keys === undefined ? `w.array(${at}, ${s.items.length})` : `w.object(${at}, K[${keys.push(s.keys) - 1}])`;
    return [head, ...parts].join(' && ');
  };
  const body = check(shape, 'r');
  // built from JSON-quoted names and indices only: no input becomes code
  return new Function('K', `${lists.join('\n')}\nreturn (w, r) => ${body};`)(keys) as RecordWriter;
}

/** A reader of records of `shape`: each array and object one literal, its values read in order. */
function compileReader(shape: Shape): RecordReader {
  const lists: string[] = [];
  const literal = (s: Shape): string => {
    if (s === 0) return 'r.value()';
    if ('each' in s) {
      const n = lists.push('') - 1;
      lists[n] =
        `function L${n}(r) { const n = r.count(); const a = new Array(n); ` +
        `for (let i = 0; i < n; i++) a[i] = ${literal(s.each)}; return a; }`;
      return `L${n}(r)`;
    }
    const items = s.items.map(literal);
    if (s.keys === undefined) return `[${items.join(', ')}]`;
    return `{ ${s.keys.map((key, i) => `${JSON.stringify(key)}: ${items[i]}`).join(', ')} }`;
  };
  const body = literal(shape);
  return new Function(`${lists.join('\n')}\nreturn (r) => (${body});`)() as RecordReader;
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

  /** Reads a list's length. */
  count(): number {
    this.#at += 4;
    return this.#view.getUint32(this.#at - 4, true);
  }

  read(shape: Shape): unknown {
    if (shape === 0) return this.value();
    if ('each' in shape) {
      const n = this.count();
      const list = new Array<unknown>(n);
      for (let i = 0; i < n; i++) list[i] = this.read(shape.each);
      return list;
    }
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
      case PRECISE_DATE:
        this.#at += 12;
        return new PreciseDate(this.#view.getFloat64(this.#at - 12, true), this.#view.getUint32(this.#at - 4, true));
      case FLOAT64S:
      case INT32S:
      case UINT8S: {
        const length = this.count();
        // copied out, aligned for the type; the piece's buffer is let go
        const bytes = Uint8Array.prototype.slice.call(this.#bytes, this.#at, this.#at + length);
        this.#at += length;
        const type = TYPED.find(([t]) => t === tag)![1];
        return new type(bytes.buffer, 0, length / type.BYTES_PER_ELEMENT);
      }
      default:
        throw new SpillError(`A spilled piece holds an unknown value tag ${tag}`, {});
    }
  }
}

/** Decodes a piece written by {@link encodeRecords}. */
export function decodeRecords(bytes: Uint8Array): unknown[] {
  if (bytes[0] === CLONED_NANOS) {
    const [records, nanos] = v8.deserialize(bytes.subarray(1)) as [unknown[], number[]];
    let k = 0;
    walkDates(records, (date) => {
      const n = nanos[k++]!;
      return n === -1 ? date : new PreciseDate(date.getTime(), n);
    });
    return records;
  }
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
