/**
 * The fields of the record being scanned, as byte ranges and flags in arrays that double when a
 * record is wider than any before it (up to {@link MAX_CSV_FIELDS}).
 */
import { MAX_CSV_FIELDS, tooManyFields } from './limits.ts';

/** Field ranges of the current record; the scanner extends it. */
export class FieldList {
  fieldStarts = new Int32Array(64);
  fieldEnds = new Int32Array(64);
  fieldFlags = new Uint8Array(64);
  fieldCount = 0;
  /** The arrays' length, kept as a number: a typed array's `length` costs more than a field here. */
  #capacity = 64;
  /** csv-parse's line at the start of the next record. */
  lineStart = 1;

  /** Appends a field to the current record (the emulation's records too). */
  addField(start: number, end: number, flag: number): void {
    const n = this.fieldCount;
    if (n === this.#capacity) {
      if (n >= MAX_CSV_FIELDS) throw tooManyFields(this.lineStart);
      this.fieldStarts = grown(this.fieldStarts, new Int32Array(n * 2));
      this.fieldEnds = grown(this.fieldEnds, new Int32Array(n * 2));
      this.fieldFlags = grown(this.fieldFlags, new Uint8Array(n * 2));
      this.#capacity = n * 2;
    }
    this.fieldStarts[n] = start;
    this.fieldEnds[n] = end;
    this.fieldFlags[n] = flag;
    this.fieldCount = n + 1;
  }
}

function grown<T extends Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
