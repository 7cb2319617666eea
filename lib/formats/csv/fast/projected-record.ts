/**
 * Some fields of a scanned record, renumbered from 0: what the cell store fills when the pipeline
 * needs only some columns (projection pushdown, lib/core/negotiate.ts). The scanner still finds
 * every field (record boundaries, the field count check and its errors are unchanged); only the
 * cells of the other columns are never typed, copied or built into Arrow columns.
 */
import type { ScannedRecord } from './scan-types.ts';

/** A renumbering view of the scanner's current record; {@link ProjectedRecord.of} refills it. */
export class ProjectedRecord implements ScannedRecord {
  /** The scanner's field index of each projected column. */
  readonly fields: Int32Array;
  readonly fieldStarts: Int32Array;
  readonly fieldEnds: Int32Array;
  readonly fieldFlags: Uint8Array;
  readonly fieldCount: number;
  overrides: Map<number, Uint8Array> | undefined;
  #record!: ScannedRecord;

  constructor(fields: Int32Array) {
    this.fields = fields;
    this.fieldCount = fields.length;
    this.fieldStarts = new Int32Array(fields.length);
    this.fieldEnds = new Int32Array(fields.length);
    this.fieldFlags = new Uint8Array(fields.length);
  }

  /** This view over `record` (which has every field of the projection). */
  of(record: ScannedRecord): this {
    this.#record = record;
    const fields = this.fields;
    for (let c = 0; c < fields.length; c++) {
      const f = fields[c]!;
      this.fieldStarts[c] = record.fieldStarts[f]!;
      this.fieldEnds[c] = record.fieldEnds[f]!;
      this.fieldFlags[c] = record.fieldFlags[f]!;
    }
    this.overrides = undefined;
    const overrides = record.overrides;
    if (overrides !== undefined && overrides.size > 0) {
      for (let c = 0; c < fields.length; c++) {
        const bytes = overrides.get(fields[c]!);
        if (bytes !== undefined) (this.overrides ??= new Map()).set(c, bytes);
      }
    }
    return this;
  }

  get window(): Buffer {
    return this.#record.window;
  }
  get windowBase(): number {
    return this.#record.windowBase;
  }
  get recordStart(): number {
    return this.#record.recordStart;
  }
  get hasError(): boolean {
    return this.#record.hasError;
  }
  get recovered(): boolean {
    return this.#record.recovered;
  }
  get line(): number {
    return this.#record.line;
  }
  get rawEnd(): number {
    return this.#record.rawEnd;
  }
  get endByte(): number {
    return this.#record.endByte;
  }
}
