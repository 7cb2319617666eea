/**
 * The cells of a CSV batch being filled, row after row in three arrays for the whole batch (a
 * kind, a number and a byte end per cell) and one byte buffer for the text of every cell.
 *
 * Why not one set of arrays per column: a file of 100,000 columns then paid about 1.7 KB a
 * column before its first value (a column object, three typed-array views, a text buffer, and
 * arrays preallocated for the batch's row capacity), so two rows cost 80 MB. Here memory follows
 * the cells read: the arrays start at {@link INITIAL_CELLS} cells and double (row-major, so a
 * larger array is the old one copied to its front), and per-column state is two bytes.
 */
import { inferCell } from '../cast.ts';
import { isBlank } from '../read/blanks.ts';
import { FIELD_OVERRIDE, type ScannedRecord } from './scan-types.ts';
import { NOT_NUMBER, parseDecimal, SLOW } from './cells.ts';

/** An empty cell (null). */
export const K_NULL = 1;
export const K_INT32 = 2;
/** A number that is not an int32: a fraction, -0, or an integer past 2^53. */
export const K_FLOAT = 4;
/** A safe integer outside the int32 range. */
export const K_INTBIG = 8;
export const K_BIGINT = 16;
export const K_BOOL = 32;
export const K_STRING = 64;
/** Mask bit only: a bigint outside the int64 range (no Arrow column holds it exactly). */
export const K_HUGE = 128;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Cells a batch reserves before its first row (then it doubles): about 850 KB. */
export const INITIAL_CELLS = 1 << 16;

interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** The cells of one batch; see the module comment. */
export class CellStore {
  /** Columns per row. */
  readonly width: number;
  /** Complete rows. */
  rows = 0;
  kinds: Uint8Array;
  nums: Float64Array;
  /** Where each cell's text ends in `bytes` (it starts where the previous cell's ends). */
  ends: Int32Array;
  bytes: Buffer;
  byteLength = 0;
  /** Per column: the kinds seen (K_* bits). */
  readonly masks: Uint8Array;
  /** Per column: 1 when some text is not ASCII. */
  readonly nonAscii: Uint8Array;
  /** Bigint cells, by cell index. */
  bigints: Map<number, bigint> | undefined;
  #cell = 0;

  /**
   * @param width columns per row
   * @param rows rows the batch may reach (a capacity hint: fewer are reserved for a wide file)
   * @param bytesPerRow text bytes expected per row
   */
  constructor(width: number, rows: number, bytesPerRow: number) {
    this.width = width;
    const w = Math.max(1, width);
    const cap = Math.max(1, Math.min(rows, Math.floor(INITIAL_CELLS / w))) * w;
    this.kinds = new Uint8Array(cap);
    this.nums = new Float64Array(cap);
    this.ends = new Int32Array(cap);
    this.bytes = Buffer.allocUnsafe(Math.max(256, Math.min((cap / w) * bytesPerRow, 1 << 20)));
    this.masks = new Uint8Array(width);
    this.nonAscii = new Uint8Array(width);
  }

  /** Where cell `k`'s text starts. */
  start(k: number): number {
    return k === 0 ? 0 : this.ends[k - 1]!;
  }

  /** Makes room for one more row. */
  beginRow(): void {
    if (this.#cell + this.width <= this.kinds.length) return;
    const cap = Math.max(this.kinds.length * 2, this.#cell + this.width);
    const kinds = new Uint8Array(cap);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const nums = new Float64Array(cap);
    nums.set(this.nums);
    this.nums = nums;
    const ends = new Int32Array(cap);
    ends.set(this.ends);
    this.ends = ends;
  }

  /** Ends the row begun by {@link CellStore.beginRow} (all `width` cells filled). */
  endRow(): void {
    this.rows++;
  }

  #reserve(extra: number): void {
    if (this.byteLength + extra <= this.bytes.length) return;
    const bytes = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.byteLength + extra));
    this.bytes.copy(bytes, 0, 0, this.byteLength);
    this.bytes = bytes;
  }

  /** Appends field `f` (column `f`) as text (unescaped). */
  string(scanner: ScannedRecord, f: number, windowAscii: boolean): void {
    const flag = scanner.fieldFlags[f];
    if (flag === 0) {
      const s = scanner.fieldStarts[f]!;
      const e = scanner.fieldEnds[f]!;
      const len = e - s;
      this.#reserve(len);
      const w = scanner.window;
      if (len < 24) {
        const out = this.bytes;
        let at = this.byteLength;
        for (let p = s; p < e; p++) out[at++] = w[p]!;
      } else w.copy(this.bytes, this.byteLength, s, e);
      this.byteLength += len;
      if (!windowAscii) this.nonAscii[f] = 1;
    } else {
      const text = flag === FIELD_OVERRIDE ? Buffer.from(scanner.overrides!.get(f)!).toString('utf8') : undefined;
      this.#text(
        f,
        text ?? scanner.window.toString('utf8', scanner.fieldStarts[f], scanner.fieldEnds[f]).replaceAll('""', '"'),
      );
    }
    this.#put(f, K_STRING, 0);
  }

  #text(c: number, text: string): void {
    this.#reserve(text.length * 3);
    this.byteLength += this.bytes.write(text, this.byteLength, 'utf8');
    for (let k = 0; k < text.length; k++) {
      if (text.charCodeAt(k) > 127) {
        this.nonAscii[c] = 1;
        break;
      }
    }
  }

  /** Appends field `f` (column `f`) as inferCell would read it. */
  infer(scanner: ScannedRecord, f: number, windowAscii: boolean, decode: (f: number) => string): void {
    const flag = scanner.fieldFlags[f];
    let value: unknown;
    if (flag === 0) {
      const s = scanner.fieldStarts[f]!;
      const e = scanner.fieldEnds[f]!;
      if (s === e) return this.#put(f, K_NULL, 0);
      const w = scanner.window;
      const c = w[s]!;
      if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
        const v = parseDecimal(w, s, e);
        // a blank after a number (`3.5 `): inferCell reads the number inside
        if (v === NOT_NUMBER && !isBlank(w[e - 1]!)) return this.string(scanner, f, windowAscii);
        if (v !== SLOW && v !== NOT_NUMBER) return this.#number(f, v);
        value = inferCell(decode(f));
      } else if (isBlank(c)) value = inferCell(decode(f));
      else if (c === 116 && e - s === 4 && w[s + 1] === 114 && w[s + 2] === 117 && w[s + 3] === 101)
        return this.#put(f, K_BOOL, 1);
      else if (c === 102 && e - s === 5 && w[s + 1] === 97 && w[s + 2] === 108 && w[s + 3] === 115 && w[s + 4] === 101)
        return this.#put(f, K_BOOL, 0);
      else return this.string(scanner, f, windowAscii);
    } else value = inferCell(decode(f));
    switch (typeof value) {
      case 'number':
        return this.#number(f, value);
      case 'bigint':
        (this.bigints ??= new Map()).set(this.#cell, value);
        if (value < INT64_MIN || value > INT64_MAX) this.masks[f]! |= K_HUGE;
        return this.#put(f, K_BIGINT, 0);
      case 'boolean':
        return this.#put(f, K_BOOL, value ? 1 : 0);
      case 'string':
        this.#text(f, value);
        return this.#put(f, K_STRING, 0);
      default:
        return this.#put(f, K_NULL, 0);
    }
  }

  #number(c: number, v: number): void {
    if ((v | 0) === v && !(v === 0 && 1 / v < 0)) return this.#put(c, K_INT32, v);
    return this.#put(c, Number.isSafeInteger(v) && !Object.is(v, -0) ? K_INTBIG : K_FLOAT, v);
  }

  #put(c: number, kind: number, num: number): void {
    const k = this.#cell++;
    this.kinds[k] = kind;
    this.nums[k] = num;
    this.ends[k] = this.byteLength;
    this.masks[c]! |= kind;
  }

  /** The value of row `i`, column `c` as a JS value (inferCell's result, or the string). */
  value(i: number, c: number): unknown {
    const k = i * this.width + c;
    switch (this.kinds[k]) {
      case K_NULL:
        return null;
      case K_STRING: {
        const w = this.bytes as unknown as NativeSlices;
        return this.nonAscii[c] === 0
          ? w.latin1Slice(this.start(k), this.ends[k]!)
          : w.utf8Slice(this.start(k), this.ends[k]!);
      }
      case K_BIGINT:
        return this.bigints!.get(k);
      case K_BOOL:
        return this.nums[k] === 1;
      default:
        return this.nums[k];
    }
  }
}
