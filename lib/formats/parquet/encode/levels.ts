/**
 * Repetition and definition levels of one leaf of a nested column (Dremel encoding): one entry
 * per value slot, where a slot is a value, a null at some depth or an empty list. The leaf's
 * {@link ColumnBuffer} holds one slot per entry too (its `defs` say only whether a value is
 * there), so the flat page encoders write the values unchanged; this file adds the levels to each
 * page and keeps pages at record boundaries (a page starts only where the repetition level is 0),
 * so every page holds whole rows and a page index can count them.
 */
import type { Bytes } from './bytes.ts';
import { bitWidth, encodeHybrid } from './rle.ts';

/** The levels of one leaf as plain data (for the encoder thread). */
export interface LevelsSnapshot {
  maxDef: number;
  maxRep: number;
  n: number;
  reps: Uint8Array;
  defs: Uint8Array;
}

/** Growable repetition and definition levels of one leaf. */
export class NestedLevels {
  readonly maxDef: number;
  readonly maxRep: number;
  n = 0;
  reps: Uint8Array = new Uint8Array(1024);
  defs: Uint8Array = new Uint8Array(1024);

  constructor(maxDef: number, maxRep: number) {
    if (maxDef > 255 || maxRep > 255) throw new RangeError('A nested column deeper than 255 levels');
    this.maxDef = maxDef;
    this.maxRep = maxRep;
  }

  /** Appends one entry's levels. */
  push(rep: number, def: number): void {
    if (this.n === this.reps.length) {
      const reps = new Uint8Array(this.n * 2);
      reps.set(this.reps);
      const defs = new Uint8Array(this.n * 2);
      defs.set(this.defs);
      this.reps = reps;
      this.defs = defs;
    }
    this.reps[this.n] = rep;
    this.defs[this.n] = def;
    this.n++;
  }

  /** The entry at which record `records` starts (n when there are no more records). */
  entryOfRecord(records: number): number {
    let seen = 0;
    for (let i = 0; i < this.n; i++) if (this.reps[i] === 0 && seen++ === records) return i;
    return this.n;
  }

  /** Drops the entries from `n` on. */
  truncate(n: number): void {
    this.n = Math.min(this.n, n);
  }

  reset(): void {
    this.n = 0;
  }

  snapshot(): LevelsSnapshot {
    const { maxDef, maxRep, n } = this;
    return { maxDef, maxRep, n, reps: this.reps.slice(0, n), defs: this.defs.slice(0, n) };
  }

  static fromSnapshot(s: LevelsSnapshot): NestedLevels {
    const levels = new NestedLevels(s.maxDef, s.maxRep);
    levels.n = s.n;
    levels.reps = s.n > 0 ? s.reps : new Uint8Array(1024);
    levels.defs = s.n > 0 ? s.defs : new Uint8Array(1024);
    return levels;
  }
}

function lengthPrefixed(out: Bytes, values: Uint8Array, start: number, end: number, width: number): void {
  const lengthAt = out.length;
  out.u32(0);
  if (end > start) encodeHybrid(out, values, start, end, width);
  out.view.setUint32(lengthAt, out.length - lengthAt - 4, true);
}

/** Writes a DataPage V1's repetition then definition levels of entries [start, end). */
export function encodeNestedLevels(out: Bytes, levels: NestedLevels, start: number, end: number): void {
  if (levels.maxRep > 0) lengthPrefixed(out, levels.reps, start, end, bitWidth(levels.maxRep));
  if (levels.maxDef > 0) lengthPrefixed(out, levels.defs, start, end, bitWidth(levels.maxDef));
}

/**
 * Moves each page boundary of `ranges` (entry indexes, first 0, last n) forward to the next
 * record start, dropping boundaries that meet or pass the next one.
 */
export function alignToRecords(ranges: number[], levels: NestedLevels): number[] {
  const n = ranges[ranges.length - 1]!;
  const out = [0];
  for (let r = 1; r + 1 < ranges.length; r++) {
    let at = Math.max(ranges[r]!, out[out.length - 1]! + 1);
    while (at < n && levels.reps[at] !== 0) at++;
    if (at < n) out.push(at);
  }
  out.push(n);
  return out;
}

/** Records (rows) before each page start of `ranges`. */
export function recordsBefore(ranges: readonly number[], levels: NestedLevels | undefined): number[] {
  if (levels === undefined) return ranges.slice(0, -1);
  const out: number[] = [];
  let records = 0;
  let at = 0;
  for (let r = 0; r + 1 < ranges.length; r++) {
    for (; at < ranges[r]!; at++) if (levels.reps[at] === 0) records++;
    out.push(records);
  }
  return out;
}
