/**
 * A flatbuffers verifier for the Arrow IPC metadata apache-arrow decodes: schemas (fields, their
 * types and children, dictionaries, metadata) and record batch headers (field nodes, buffers).
 * apache-arrow reads flatbuffers without bounds checks: an offset or a vector length changed by
 * one bit reads zeros past the end instead of failing, so a flipped length made `fromArrow` loop
 * over hundreds of millions of phantom fields (650 MB, no end). Here every table, vector and
 * string must lie inside its message, vectors are no longer than the bytes they claim, nesting is
 * bounded, each type has the children it needs, and each buffer lies inside the message body.
 * Failures are plain Errors; callers wrap them with the file name (as for `ipc-metadata.ts`).
 */
import { Table, check } from './flatbuffer.ts';

/** Deepest nesting of fields accepted (Arrow C++ refuses beyond 64 as well). */
export const MAX_FIELD_DEPTH = 64;

/** Largest decimal scale (either sign) accepted: Decimal256 holds 76 digits. */
export const MAX_DECIMAL_SCALE = 128;

/** Rows a record batch may have beyond a bit of body each (a batch of only Null columns has no body). */
export const NULL_ROWS_ALLOWANCE = 1 << 20;

/** Type ids of the `Type` union (Schema.fbs) and how many children each needs (-1: any). */
const CHILDREN: Record<number, number> = {
  1: 0,
  2: 0,
  3: 0,
  4: 0,
  5: 0,
  6: 0,
  7: 0,
  8: 0,
  9: 0,
  10: 0,
  11: 0,
  12: 1, // List
  13: -1, // Struct
  14: -1, // Union (as many as its type ids, checked below)
  15: 0,
  16: 1,
  17: 1,
  18: 0,
  19: 0,
  20: 0,
  21: 1, // LargeList
  22: 2, // RunEndEncoded
  23: 0,
  24: 0,
  25: 1,
  26: 1,
};

/** A vector at field `i` of `table`: its first element's position and length, bounds-checked. */
function vector(table: Table, i: number, elementSize: number): { at: number; length: number } {
  const target = table.indirect(i);
  if (!target) return { at: 0, length: 0 };
  check(table.view, target, 4);
  const length = table.view.getUint32(target, true);
  if (length * elementSize > table.view.byteLength - target - 4)
    throw new Error(`metadata vector of ${length} elements at ${target} is longer than its message`);
  return { at: target + 4, length };
}

function string(table: Table, i: number): void {
  const { at, length } = vector(table, i, 1);
  if (at) check(table.view, at, length);
}

function tableAt(view: DataView, at: number): Table {
  check(view, at, 4);
  return new Table(view, at + view.getUint32(at, true));
}

function keyValues(table: Table, i: number): void {
  const { at, length } = vector(table, i, 4);
  for (let k = 0; k < length; k++) {
    const kv = tableAt(table.view, at + 4 * k);
    string(kv, 0);
    string(kv, 1);
  }
}

/** Counts fields as they are walked: a schema cannot have more fields than its bytes allow. */
interface Budget {
  fields: number;
}

function verifyField(field: Table, depth: number, budget: Budget): void {
  if (depth > MAX_FIELD_DEPTH) throw new Error(`schema nests fields deeper than ${MAX_FIELD_DEPTH} levels`);
  // every field takes at least its vtable and table: a few bytes each
  if (++budget.fields > field.view.byteLength / 4)
    throw new Error('schema declares more fields than its bytes can hold');
  string(field, 0);
  const typeId = field.uint8(2, 0);
  const expected = CHILDREN[typeId];
  if (expected === undefined) throw new Error(`field has unknown type id ${typeId}`);
  const typeAt = field.indirect(3);
  const type = typeAt ? new Table(field.view, typeAt) : undefined;
  if (type) {
    if (typeId === 2) {
      const width = type.int32(0, 0);
      if (![8, 16, 32, 64].includes(width)) throw new Error(`Int field has bit width ${width}`);
    } else if (typeId === 15 || typeId === 16) {
      const size = type.int32(0, 0);
      if (size < 0 || (typeId === 15 && size === 0))
        throw new Error(`${typeId === 15 ? 'FixedSizeBinary byte width' : 'FixedSizeList size'} ${size} is invalid`);
    } else if (typeId === 7) {
      const width = type.int32(2, 128);
      if (![32, 64, 128, 256].includes(width)) throw new Error(`Decimal field has bit width ${width}`);
      // a scale of millions made every value a string of millions of digits (a heap overflow)
      const precision = type.int32(0, 0);
      const scale = type.int32(1, 0);
      if (precision < 1 || precision > 76 || Math.abs(scale) > MAX_DECIMAL_SCALE)
        throw new Error(`Decimal field has precision ${precision} and scale ${scale}`);
    } else if (typeId === 10) {
      string(type, 1);
    }
  }
  const dictionaryAt = field.indirect(4);
  if (dictionaryAt) {
    const dictionary = new Table(field.view, dictionaryAt);
    const indexAt = dictionary.indirect(1);
    if (indexAt) {
      const width = new Table(field.view, indexAt).int32(0, 0);
      if (![8, 16, 32, 64].includes(width)) throw new Error(`dictionary index has bit width ${width}`);
    }
  }
  const children = vector(field, 5, 4);
  if (expected >= 0 && children.length !== expected)
    throw new Error(`field of type id ${typeId} has ${children.length} children, it needs ${expected}`);
  if (typeId === 14 && type) {
    const ids = vector(type, 1, 4);
    if (ids.at && ids.length !== children.length)
      throw new Error(`Union field has ${ids.length} type ids for ${children.length} children`);
  }
  for (let k = 0; k < children.length; k++) verifyField(tableAt(field.view, children.at + 4 * k), depth + 1, budget);
  keyValues(field, 6);
}

/** Verifies a Schema table (from a Schema message or a file footer). */
export function verifySchema(schema: Table): void {
  const fields = vector(schema, 1, 4);
  const budget: Budget = { fields: 0 };
  for (let k = 0; k < fields.length; k++) verifyField(tableAt(schema.view, fields.at + 4 * k), 1, budget);
  keyValues(schema, 2);
  vector(schema, 3, 8);
}

/**
 * Verifies a RecordBatch table: its node and buffer vectors lie inside the message, every
 * buffer inside the body (`bodyLength` bytes), and no count is negative or unsafe.
 */
export function verifyRecordBatch(batch: Table, bodyLength: number): void {
  const view = batch.view;
  // Uncompressed, every row of a column but Null costs at least a bit of the body: more rows than
  // that (beyond an allowance for Null-only batches) is a corrupt count that would make every
  // consumer loop over phantom rows. Compressed bodies expand, so only the safe range holds there.
  const compressed = batch.indirect(3) !== 0;
  const most = compressed ? BigInt(Number.MAX_SAFE_INTEGER) : BigInt(bodyLength) * 8n + BigInt(NULL_ROWS_ALLOWANCE);
  const rows = batch.field(0) ? (check(view, batch.field(0), 8), view.getBigInt64(batch.field(0), true)) : 0n;
  if (rows < 0n || rows > most) throw new Error(`record batch claims ${rows} rows in a ${bodyLength}-byte body`);
  const nodes = vector(batch, 1, 16);
  for (let k = 0; k < nodes.length; k++) {
    const length = view.getBigInt64(nodes.at + 16 * k, true);
    const nulls = view.getBigInt64(nodes.at + 16 * k + 8, true);
    if (length < 0n || length > most || nulls < 0n || nulls > length)
      throw new Error(`field node ${k} has length ${length} and ${nulls} nulls`);
  }
  const buffers = vector(batch, 2, 16);
  for (let k = 0; k < buffers.length; k++) {
    const offset = view.getBigInt64(buffers.at + 16 * k, true);
    const length = view.getBigInt64(buffers.at + 16 * k + 8, true);
    if (offset < 0n || length < 0n || offset + length > BigInt(bodyLength))
      throw new Error(`buffer ${k} (offset ${offset}, ${length} bytes) lies outside the ${bodyLength}-byte body`);
  }
  vector(batch, 4, 8);
}
