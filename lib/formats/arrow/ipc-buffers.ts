/**
 * Which column each body buffer of a record batch belongs to, and how many bytes it needs, from
 * the schema and the batch's field nodes alone (before any buffer is decompressed). A compressed
 * buffer is decompressed into at most what its column needs (issue 19: a zstd frame without a
 * content size expanded without limit), and an error names the column. Buffer order is the IPC
 * format's (and apache-arrow's VectorLoader's): depth first, validity first.
 */
import type { DataType, Field } from 'apache-arrow';

/** One body buffer: its column (a path for nested fields), and the bytes it needs when known. */
export interface BufferSlot {
  readonly column: string;
  readonly kind: 'validity' | 'offsets' | 'values' | 'data' | 'unknown';
  /** Bytes the column needs here; undefined when only decoded offsets tell (variable-length data). */
  readonly needs: number | undefined;
  /** Offsets only: bytes per offset (4, or 8 for the Large types). */
  readonly width?: number;
}

interface TypeInfo {
  typeId: number;
  bitWidth?: number;
  precision?: number;
  unit?: number;
  byteWidth?: number;
  mode?: number;
  listSize?: number;
  indices?: DataType;
  children?: Field[];
}

/** Bytes per value of a fixed-width type, or undefined when it is not one. */
function valueWidth(type: TypeInfo): number | undefined {
  switch (type.typeId) {
    case 2: // Int
    case 7: // Decimal
    case 9: // Time
      return (type.bitWidth ?? 0) / 8 || undefined;
    case 3: // Float: HALF, SINGLE, DOUBLE
      return [2, 4, 8][type.precision ?? -1];
    case 8: // Date: DAY (int32) or MILLISECOND (int64)
      return type.unit === 0 ? 4 : 8;
    case 10: // Timestamp
    case 18: // Duration
      return 8;
    case 11: // Interval: YEAR_MONTH, DAY_TIME, MONTH_DAY_NANO
      return [4, 8, 16][type.unit ?? -1];
    case 15: // FixedSizeBinary
      return type.byteWidth;
    default:
      return undefined;
  }
}

class Walker {
  readonly slots: BufferSlot[] = [];
  #node = 0;
  readonly #nodes: readonly { length: number }[];
  readonly #v4: boolean;
  /** False once a type with a data-dependent buffer count (views) is met: later slots are unknown. */
  known = true;

  constructor(nodes: readonly { length: number }[], v4: boolean) {
    this.#nodes = nodes;
    this.#v4 = v4;
  }

  #push(column: string, kind: BufferSlot['kind'], needs: number | undefined, width?: number): void {
    const known = needs !== undefined && Number.isSafeInteger(needs) ? needs : undefined;
    this.slots.push(width === undefined ? { column, kind, needs: known } : { column, kind, needs: known, width });
  }

  walk(type: TypeInfo, column: string): void {
    if (!this.known) return;
    const n = this.#nodes[this.#node++]?.length ?? Number.NaN;
    const bits = Math.ceil(n / 8);
    const children = type.children ?? [];
    const id = type.typeId;
    if (id === 1) return; // Null: no buffers
    if (id === 14) {
      if (this.#v4) this.#push(column, 'validity', bits);
      this.#push(column, 'values', n); // type ids
      if (type.mode === 1) this.#push(column, 'values', n * 4); // dense: offsets into the children
      for (const child of children) this.walk(child.type as TypeInfo, `${column}.${child.name}`);
      return;
    }
    this.#push(column, 'validity', bits);
    const width = id === -1 ? valueWidth(type.indices as TypeInfo) : valueWidth(type);
    if (width !== undefined) this.#push(column, 'values', n * width);
    else if (id === 6) this.#push(column, 'values', bits);
    else if (id === 4 || id === 5 || id === 19 || id === 20) {
      const w = id >= 19 ? 8 : 4;
      this.#push(column, 'offsets', (n + 1) * w, w);
      this.#push(column, 'data', undefined);
    } else if (id === 12 || id === 17 || id === 21) {
      const w = id === 21 ? 8 : 4;
      this.#push(column, 'offsets', (n + 1) * w, w);
      this.walk(children[0]?.type as TypeInfo, `${column}[]`);
    } else if (id === 16 || id === 13) {
      for (const child of children)
        this.walk(child.type as TypeInfo, id === 16 ? `${column}[]` : `${column}.${child.name}`);
    } else this.known = false; // views and anything newer: their buffer counts depend on the data
  }
}

/**
 * The slot of every body buffer of a batch over `fields` with field nodes `nodes`: as many as the
 * layout fixes (views end it early: their buffer count is in the data). `v4`: metadata before V5
 * (unions carry a validity buffer).
 */
export function bufferSlots(
  fields: readonly Field[],
  nodes: readonly { length: number }[],
  v4 = false,
): readonly BufferSlot[] {
  const walker = new Walker(nodes, v4);
  for (const field of fields) walker.walk(field.type as unknown as TypeInfo, field.name);
  return walker.slots;
}
