/**
 * The shaped form's value bytes: {@link ShapedWriter} writes a tag and payload per value (strings
 * gathered in one text, lists' lengths before their items), {@link ShapedReader} reads them back
 * in the same order.
 */
import { SpillError } from '../../core/errors.ts';
import { PreciseDate, isPreciseDate } from '../values.ts';
import type { Shape } from './shape.ts';
import {
  BIGINT,
  DATE,
  FALSE,
  FLOAT,
  FLOAT64S,
  INT,
  INT32S,
  NULL,
  PRECISE_DATE,
  STRING,
  TRUE,
  TYPED,
  UINT8S,
  UNDEFINED,
} from './tags.ts';

/** The writer's buffer to start with (a join's piece of 256 rows takes about 20 kB). */
const SCRATCH_BYTES = 64 << 10;
/** Writes records of one shape: a tag and payload per value, strings gathered apart. */
export class ShapedWriter {
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
          const precise = isPreciseDate(value);
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

/** Reads the values of a shaped piece back. */
export class ShapedReader {
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
