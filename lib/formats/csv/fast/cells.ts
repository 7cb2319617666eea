/**
 * Cells straight from bytes: strings decoded from a byte range, and `cast: true` inference
 * (the rules of cast.ts's inferCell) without making a string for numbers, booleans and nulls.
 */
import { isAscii } from 'node:buffer';
import { inferCell } from '../cast.ts';
import { isBlank } from '../read/blanks.ts';
import { FIELD_ESCAPED, FIELD_OVERRIDE, type ScannedRecord } from './scan-types.ts';
import { validUtf8Prefix } from './utf8.ts';
import { INTERN_MAX, InternProbe, InternTable } from '../../text-intern.ts';

/** Buffer's native slice decoders (present on every Node Buffer; not in @types/node). */
interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Returned by {@link parseDecimal} where {@link scanDecimal} says {@link DECIMAL_SLOW}. */
export const SLOW = Symbol('slow');
/** Returned by {@link parseDecimal} where {@link scanDecimal} says {@link DECIMAL_NOT}. */
export const NOT_NUMBER = Symbol('not a number');

/** {@link scanDecimal}: the number is in `DECIMAL[0]`. */
export const DECIMAL_OK = 0;
/** {@link scanDecimal}: the text needs the general path (an exponent, more digits than 2^53 holds). */
export const DECIMAL_SLOW = 1;
/** {@link scanDecimal}: the text is not a number (inferCell keeps it a string). */
export const DECIMAL_NOT = 2;
/**
 * Where {@link scanDecimal} leaves its number: a status code plus a typed-array slot, so that a
 * caller not inlined with it gets a raw double, not a heap number allocated per cell.
 */
export const DECIMAL = new Float64Array(1);

/**
 * A decimal number (`[-+]?(\d+\.?\d*|\.\d+)`, no exponent) from bytes, exactly as `Number(text)`:
 * the digits form an exact integer below 2^53 and dividing it by an exact power of ten rounds
 * once, correctly (Clinger's fast path). Returns {@link DECIMAL_OK} with the number in
 * `DECIMAL[0]`, {@link DECIMAL_SLOW} or {@link DECIMAL_NOT}.
 */
export function scanDecimal(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  const sign = buf[p]!;
  if (sign === 45 || sign === 43) p++;
  // the integer digits, then the fraction's: two tight loops, not one testing for the dot per byte
  let m = 0;
  let d = 0;
  const intStart = p;
  for (; p < end; p++) {
    d = buf[p]! - 48;
    if (d < 0 || d > 9) break;
    m = m * 10 + d;
  }
  let digits = p - intStart;
  let fraction = 0;
  if (p < end && buf[p] === 46) {
    const fracStart = ++p;
    for (; p < end; p++) {
      d = buf[p]! - 48;
      if (d < 0 || d > 9) break;
      m = m * 10 + d;
    }
    fraction = p - fracStart;
    digits += fraction;
  }
  // m only grows with each digit: past 2^53 at the end means past it at some digit (the general path)
  if (m > MAX_SAFE) return DECIMAL_SLOW;
  if (p < end) {
    const c = buf[p]!;
    return (c === 101 || c === 69) && digits > 0 ? DECIMAL_SLOW : DECIMAL_NOT;
  }
  if (digits === 0) return DECIMAL_NOT;
  if (fraction > 22) return DECIMAL_SLOW;
  const v = fraction === 0 ? m : m / POW10[fraction]!;
  DECIMAL[0] = sign === 45 ? -v : v;
  return DECIMAL_OK;
}

/** A DataView over `bytes` (the same memory). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Copies bytes [s, e) of `from` to `to` at `at`: four at a time (a DataView reads and writes
 * unaligned), then the rest. About half the time of a byte loop on short text, and far less than
 * Buffer.copy's native call below a few dozen bytes.
 */
export function copyShort(from: DataView, s: number, e: number, to: DataView, at: number): void {
  let p = s;
  let o = at;
  for (const e4 = e - 3; p < e4; p += 4, o += 4) to.setUint32(o, from.getUint32(p));
  for (; p < e; p++, o++) to.setUint8(o, from.getUint8(p));
}

/** {@link scanDecimal} as a value: the number, {@link SLOW} or {@link NOT_NUMBER}. */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number | typeof SLOW | typeof NOT_NUMBER {
  const status = scanDecimal(buf, start, end);
  return status === DECIMAL_OK ? DECIMAL[0]! : status === DECIMAL_SLOW ? SLOW : NOT_NUMBER;
}

/** Decodes strings from the scanner's current record, with a latin1 fast path for ASCII windows. */
export class CellDecoder {
  #window: Buffer | undefined;
  #ascii = false;
  readonly #intern = new InternTable();
  /** Per field index, created on its first short value (a wide file's long fields pay nothing). */
  readonly #probes: (InternProbe | undefined)[] = [];

  /** True when the scanner's window is pure ASCII. */
  ascii(scanner: ScannedRecord): boolean {
    if (scanner.window !== this.#window) {
      this.#window = scanner.window;
      this.#ascii = isAsciiBytes(scanner.window);
    }
    return this.#ascii;
  }

  #utf8Window: Buffer | undefined;
  #utf8Valid = 0;

  /** How many bytes of the scanner's window are known to be valid UTF-8 (see validUtf8Prefix). */
  validUtf8(scanner: ScannedRecord): number {
    if (scanner.window !== this.#utf8Window) {
      this.#utf8Window = scanner.window;
      this.#utf8Valid = this.ascii(scanner) ? scanner.window.length : validUtf8Prefix(scanner.window);
    }
    return this.#utf8Valid;
  }

  /** Field `i` of the scanner's current record as a string. */
  text(scanner: ScannedRecord, i: number): string {
    const flag = scanner.fieldFlags[i];
    if (flag === FIELD_OVERRIDE) return Buffer.from(scanner.overrides!.get(i)!).toString('utf8');
    const w = scanner.window as unknown as NativeSlices;
    const s = scanner.fieldStarts[i]!;
    const e = scanner.fieldEnds[i]!;
    if (flag !== FIELD_ESCAPED && e - s <= INTERN_MAX && this.ascii(scanner)) {
      const probe = (this.#probes[i] ??= new InternProbe());
      if (probe.active) {
        // an ASCII window: the table always answers
        const text = this.#intern.ascii(scanner.window, s, e)!;
        probe.count(this.#intern.hit);
        return text;
      }
    }
    const text = this.ascii(scanner) ? w.latin1Slice(s, e) : w.utf8Slice(s, e);
    return flag === FIELD_ESCAPED ? text.replaceAll('""', '"') : text;
  }

  /** The raw text of the current record up to `end` (exclusive), as csv-parse's `raw`. */
  raw(scanner: ScannedRecord, end: number): string {
    return scanner.window.toString('utf8', scanner.recordStart, end);
  }

  /** Field `i` inferred as by inferCell: number, bigint, boolean, null or string. */
  infer(scanner: ScannedRecord, i: number): unknown {
    const s = scanner.fieldStarts[i]!;
    const e = scanner.fieldEnds[i]!;
    const flag = scanner.fieldFlags[i];
    if (flag === 0) {
      if (s === e) return null;
      const w = scanner.window;
      const c = w[s]!;
      if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
        const v = parseDecimal(w, s, e);
        // a blank after a number (`3.5 `): inferCell reads the number inside
        if (v === NOT_NUMBER) return isBlank(w[e - 1]!) ? inferCell(this.text(scanner, i)) : this.text(scanner, i);
        if (v !== SLOW) return v;
      } else if (isBlank(c)) return inferCell(this.text(scanner, i));
      else if (c === 116 && e - s === 4 && w[s + 1] === 114 && w[s + 2] === 117 && w[s + 3] === 101) return true;
      else if (c === 102 && e - s === 5 && w[s + 1] === 97 && w[s + 2] === 108 && w[s + 3] === 115 && w[s + 4] === 101)
        return false;
      else return this.text(scanner, i);
    }
    return inferCell(this.text(scanner, i));
  }
}

function isAsciiBytes(buf: Buffer): boolean {
  return isAscii(buf);
}
