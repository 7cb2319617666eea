/**
 * The cells of a CSV batch being filled, row after row in three arrays for the whole batch (a
 * kind, a number and a byte end per cell) and one byte buffer for the text of every cell.
 *
 * Why not one set of arrays per column: a file of 100,000 columns then paid about 1.7 KB a
 * column before its first value (a column object, three typed-array views, a text buffer, and
 * arrays preallocated for the batch's row capacity), so two rows cost 80 MB. Here memory follows
 * the cells read: the arrays start at {@link INITIAL_CELLS} cells and double (row-major, so a
 * larger array is the old one copied to its front), and per-column state is two bytes.
 *
 * Text: a file of at most {@link COLUMN_TEXT_MAX} columns keeps one text buffer per column, laid
 * out as Arrow lays a Utf8 column out, so sealing hands the buffer over instead of copying every
 * string a second time (on a 1M-row tick file that copy was 6% of the parse); a wider file keeps
 * one shared buffer. The arrays a batch grew are handed to the next batch ({@link CellScratch}).
 */
import { inferCell } from '../cast.ts';
import { isBlank } from '../read/blanks.ts';
import { FIELD_ESCAPED, type ScannedRecord } from './scan-types.ts';
import { copyShort, DECIMAL, DECIMAL_NOT, DECIMAL_OK, scanDecimal, viewOf } from './cells.ts';

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

/** Widest file whose text is kept per column (see the module comment). */
export const COLUMN_TEXT_MAX = 512;

/**
 * What one batch leaves to the next of the same reader: its cell arrays (no Arrow batch or row
 * refers to them once sealed) and each column's text bytes per row, to size the next buffers.
 */
export interface CellScratch {
  kinds?: Uint8Array;
  nums?: Float64Array;
  ends?: Int32Array;
  /** Per column (or one for the shared buffer): text bytes per row in the last batch. */
  textPerRow?: Float64Array;
}

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
  /** Text buffers: one per column, or one for all (see {@link CellStore.columnText}). */
  readonly texts: Buffer[];
  /** Bytes used of each text buffer. */
  readonly textLengths: Int32Array;
  /** One text buffer per column: cell `k`'s text starts where cell `k - width`'s ends. */
  readonly columnText: boolean;
  /** Distance between a cell and the cell whose end is its start: `width`, or 1 (shared text). */
  readonly #stride: number;
  /** Per column: the kinds seen (K_* bits). */
  readonly masks: Uint8Array;
  /** Per column: 1 when some text is not ASCII. */
  readonly nonAscii: Uint8Array;
  /** Bigint cells, by cell index. */
  bigints: Map<number, bigint> | undefined;
  #cell = 0;
  /** A DataView of each text buffer, for copying text four bytes at a time. */
  readonly #textViews: DataView[];
  /** Each text buffer's length, kept beside {@link CellStore.textLengths} (no Buffer touched to check room). */
  readonly #textCaps: Int32Array;
  /** The scanner window {@link CellStore.fillRow} last copied from, and a DataView of it. */
  #window: Buffer | undefined;
  #windowView: DataView = viewOf(Buffer.alloc(0));

  /**
   * @param width columns per row
   * @param rows rows the batch may reach (a capacity hint: fewer are reserved for a wide file)
   * @param bytesPerRow text bytes expected per row
   * @param scratch what the reader's last batch left (taken and refilled by {@link CellStore.release})
   */
  constructor(width: number, rows: number, bytesPerRow: number, scratch: CellScratch = {}) {
    this.width = width;
    const w = Math.max(1, width);
    const cap = Math.max(1, Math.min(rows, Math.floor(INITIAL_CELLS / w))) * w;
    this.kinds = scratch.kinds ?? new Uint8Array(cap);
    this.nums = scratch.nums ?? new Float64Array(cap);
    this.ends = scratch.ends ?? new Int32Array(cap);
    this.masks = new Uint8Array(width);
    this.nonAscii = new Uint8Array(width);
    this.columnText = width > 0 && width <= COLUMN_TEXT_MAX;
    this.#stride = this.columnText ? width : 1;
    const buffers = this.columnText ? width : 1;
    const perRow = scratch.textPerRow?.length === buffers ? scratch.textPerRow : undefined;
    this.texts = new Array<Buffer>(buffers);
    this.#textViews = new Array<DataView>(buffers);
    this.#textCaps = new Int32Array(buffers);
    this.textLengths = new Int32Array(buffers);
    for (let b = 0; b < buffers; b++) {
      // the last batch's bytes per row with 1/8 to spare, else the row's bytes shared out
      const expect = perRow ? perRow[b]! * rows * 1.125 : (Math.min(rows, cap / w) * bytesPerRow) / buffers;
      this.texts[b] = Buffer.allocUnsafeSlow(Math.max(64, Math.min(Math.ceil(expect), 1 << 24)));
      this.#textViews[b] = viewOf(this.texts[b]!);
      this.#textCaps[b] = this.texts[b]!.length;
    }
  }

  /** Text bytes of every cell. */
  get byteLength(): number {
    let total = 0;
    for (const n of this.textLengths) total += n;
    return total;
  }

  /** Where cell `k`'s text starts in its text buffer. */
  start(k: number): number {
    return k < this.#stride ? 0 : this.ends[k - this.#stride]!;
  }

  /** The text buffer of column `c`. */
  textOf(c: number): Buffer {
    return this.texts[this.columnText ? c : 0]!;
  }

  /** Gives this batch's arrays to `scratch` for the next batch (the store must not be used after). */
  release(scratch: CellScratch): void {
    scratch.kinds = this.kinds;
    scratch.nums = this.nums;
    scratch.ends = this.ends;
    const perRow = new Float64Array(this.texts.length);
    for (let b = 0; b < perRow.length; b++) perRow[b] = this.textLengths[b]! / Math.max(1, this.rows);
    scratch.textPerRow = perRow;
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

  /** The text buffer of text slot `b` with room for `extra` more bytes. */
  #room(b: number, extra: number): Buffer {
    const bytes = this.texts[b]!;
    const used = this.textLengths[b]!;
    if (used + extra <= bytes.length) return bytes;
    const grown = Buffer.allocUnsafeSlow(Math.max(bytes.length * 2, used + extra));
    bytes.copy(grown, 0, 0, used);
    this.texts[b] = grown;
    this.#textViews[b] = viewOf(grown);
    this.#textCaps[b] = grown.length;
    return grown;
  }

  /** Appends field `f` (column `f`) as text (unescaped). */
  string(scanner: ScannedRecord, f: number, windowAscii: boolean): void {
    const flag = scanner.fieldFlags[f];
    if (flag === 0) {
      const s = scanner.fieldStarts[f]!;
      const e = scanner.fieldEnds[f]!;
      const len = e - s;
      const b = this.columnText ? f : 0;
      const out = this.#room(b, len);
      const at = this.textLengths[b]!;
      const w = scanner.window;
      // a loop beats Buffer.copy's checks and native call up to about 64 bytes
      if (len <= 64) for (let p = s, o = at; p < e; p++) out[o++] = w[p]!;
      else w.copy(out, at, s, e);
      this.textLengths[b] = at + len;
      if (!windowAscii) this.nonAscii[f] = 1;
    } else if (flag === FIELD_ESCAPED) this.#unescape(scanner, f, windowAscii);
    else this.#text(f, Buffer.from(scanner.overrides!.get(f)!).toString('utf8'));
    this.#put(f, K_STRING, 0);
  }

  /** Copies field `f`'s bytes with each `""` as one `"` (no string made: such a cell is always text). */
  #unescape(scanner: ScannedRecord, f: number, windowAscii: boolean): void {
    const s = scanner.fieldStarts[f]!;
    const e = scanner.fieldEnds[f]!;
    const b = this.columnText ? f : 0;
    const out = this.#room(b, e - s);
    const w = scanner.window;
    let o = this.textLengths[b]!;
    for (let p = s; p < e; p++) {
      const c = w[p]!;
      out[o++] = c;
      if (c === 34 && w[p + 1] === 34) p++;
    }
    this.textLengths[b] = o;
    if (!windowAscii) this.nonAscii[f] = 1;
  }

  #text(c: number, text: string): void {
    const b = this.columnText ? c : 0;
    const out = this.#room(b, text.length * 3);
    this.textLengths[b] = this.textLengths[b]! + out.write(text, this.textLengths[b]!, 'utf8');
    for (let k = 0; k < text.length; k++) {
      if (text.charCodeAt(k) > 127) {
        this.nonAscii[c] = 1;
        break;
      }
    }
  }

  /**
   * Appends the scanner's current record as one row (after {@link CellStore.beginRow}): what
   * {@link CellStore.infer} (`infer`) or {@link CellStore.string} gives each cell, with the
   * common cells (empty, a plain decimal, plain text) read here with the record's arrays and the
   * store's loaded once a row, not once a cell; any other cell goes to those methods.
   */
  fillRow(scanner: ScannedRecord, infer: boolean, windowAscii: boolean, decode: (f: number) => string): void {
    const width = this.width;
    if (!this.columnText) {
      for (let c = 0; c < width; c++)
        if (infer) this.infer(scanner, c, windowAscii, decode);
        else this.string(scanner, c, windowAscii);
      return;
    }
    const w = scanner.window;
    const starts = scanner.fieldStarts;
    const ends = scanner.fieldEnds;
    const flags = scanner.fieldFlags;
    const kinds = this.kinds;
    const nums = this.nums;
    const cellEnds = this.ends;
    const masks = this.masks;
    const lengths = this.textLengths;
    if (w !== this.#window) {
      this.#window = w;
      this.#windowView = viewOf(w);
    }
    const wv = this.#windowView;
    const views = this.#textViews;
    const caps = this.#textCaps;
    for (let f = 0; f < width; f++) {
      const s = starts[f]!;
      const e = ends[f]!;
      let kind = K_STRING;
      let num = 0;
      if (flags[f] !== 0) kind = 0;
      else if (s === e) kind = infer ? K_NULL : K_STRING;
      else if (infer) {
        const c = w[s]!;
        if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
          const status = scanDecimal(w, s, e);
          if (status === DECIMAL_OK) {
            num = DECIMAL[0]!;
            kind = numberKind(num);
          } else if (status !== DECIMAL_NOT || isBlank(w[e - 1]!)) kind = 0;
        } else if (c === 116 || c === 102 || c === 32 || c === 9) kind = 0; // true, false, blanks: infer()
      }
      if (kind === 0) {
        if (infer) this.infer(scanner, f, windowAscii, decode);
        else this.string(scanner, f, windowAscii);
        continue;
      }
      if (kind === K_STRING && e > s) {
        const at = lengths[f]!;
        if (at + (e - s) > caps[f]!) this.#room(f, e - s);
        if (e - s <= 64) copyShort(wv, s, e, views[f]!, at);
        else w.copy(this.texts[f]!, at, s, e);
        lengths[f] = at + (e - s);
        if (!windowAscii) this.nonAscii[f] = 1;
      }
      const k = this.#cell++;
      kinds[k] = kind;
      // a text cell's number is never read (value() and the Arrow columns read its bytes)
      if (kind !== K_STRING) nums[k] = num;
      cellEnds[k] = lengths[f]!;
      masks[f]! |= kind;
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
        const status = scanDecimal(w, s, e);
        if (status === DECIMAL_OK) return this.#decimal(f);
        // a blank after a number (`3.5 `): inferCell reads the number inside
        if (status === DECIMAL_NOT && !isBlank(w[e - 1]!)) return this.string(scanner, f, windowAscii);
        value = inferCell(decode(f));
      } else if (isBlank(c)) value = inferCell(decode(f));
      else if (c === 116 && e - s === 4 && w[s + 1] === 114 && w[s + 2] === 117 && w[s + 3] === 101)
        return this.#put(f, K_BOOL, 1);
      else if (c === 102 && e - s === 5 && w[s + 1] === 97 && w[s + 2] === 108 && w[s + 3] === 115 && w[s + 4] === 101)
        return this.#put(f, K_BOOL, 0);
      else return this.string(scanner, f, windowAscii);
    } else if (flag === FIELD_ESCAPED) {
      // a cell holding a quote is never a number, boolean or null: inferCell keeps it text
      return this.string(scanner, f, windowAscii);
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

  /** Puts scanDecimal's number (read here from DECIMAL, never passed as a boxed argument). */
  #decimal(c: number): void {
    const v = DECIMAL[0]!;
    this.#put(c, numberKind(v), v);
  }

  #number(c: number, v: number): void {
    this.#put(c, numberKind(v), v);
  }

  #put(c: number, kind: number, num: number): void {
    const k = this.#cell++;
    this.kinds[k] = kind;
    this.nums[k] = num;
    this.ends[k] = this.textLengths[this.columnText ? c : 0]!;
    this.masks[c]! |= kind;
  }

  /** The value of row `i`, column `c` as a JS value (inferCell's result, or the string). */
  value(i: number, c: number): unknown {
    const k = i * this.width + c;
    switch (this.kinds[k]) {
      case K_NULL:
        return null;
      case K_STRING: {
        const w = this.textOf(c) as unknown as NativeSlices;
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

/** The kind of a number cell: int32 (not -0), a safe integer past int32, or any other number. */
function numberKind(v: number): number {
  if ((v | 0) === v && !(v === 0 && 1 / v < 0)) return K_INT32;
  return Number.isSafeInteger(v) && !Object.is(v, -0) ? K_INTBIG : K_FLOAT;
}
