/**
 * Builds a RecordBatch from a schema and its struct data in time linear in the columns, and
 * right when column names repeat.
 * apache-arrow's `new RecordBatch(schema, data)` runs `schema.assign(fields)`, which looks every
 * field up by name in the others: quadratic, 50 s for one batch of a 100,000-column CSV file.
 * When every child already has the batch's length (nothing to back-fill), the batch is the same
 * object the constructor would build, so it is assembled directly.
 */
import { Field, Null, RecordBatch, Schema, Struct, makeBuilder, makeData, type Data } from 'apache-arrow';

/**
 * True when two columns share a name (valid Arrow: Arrow C++'s generated_duplicate_fieldnames).
 * The constructor's merge by name then mangles them: of two `ints` columns, the first came out an
 * Int8 column of nulls, so a file with them was written corrupt. Such a batch is always assembled
 * directly.
 */
export function repeatsNames(schema: Schema): boolean {
  const names = new Set<string>();
  for (const f of schema.fields) {
    if (names.has(f.name)) return true;
    names.add(f.name);
  }
  return false;
}

/** Below this many columns the constructor's quadratic lookup costs nothing worth avoiding. */
const DIRECT_FROM_COLUMNS = 256;

/** `new RecordBatch(schema, data)`, without the quadratic schema merge for wide batches. */
export function makeRecordBatchFast(schema: Schema, data: Data<Struct>, metadata?: Map<string, string>): RecordBatch {
  const children = data.children;
  if (
    (schema.fields.length < DIRECT_FROM_COLUMNS && !repeatsNames(schema)) ||
    children.length !== schema.fields.length ||
    children.some((c) => c.length !== data.length)
  ) {
    return new RecordBatch(schema, data, metadata);
  }
  const batch = Object.create(RecordBatch.prototype) as RecordBatch & { _metadata: Map<string, string> };
  Object.assign(batch, { schema, data, _metadata: metadata ?? new Map<string, string>() });
  return batch;
}

/**
 * A batch of no rows with `fields` as its schema (nested and dictionary types included): how a
 * source of no rows still hands its columns to the sink (a header, an Arrow or Parquet schema).
 */
export function emptyRecordBatch(fields: readonly Field[]): RecordBatch {
  const children = fields.map((f) => makeBuilder({ type: f.type }).finish().flush());
  const type = new Struct([...fields]);
  return new RecordBatch(new Schema([...fields]), makeData({ type, length: 0, nullCount: 0, children }));
}

/**
 * The columns `names` of `batch`, in that order (their data not copied); a name the batch lacks
 * is a column of nulls (as a row without the key reads null), a name it repeats its last column
 * (as rows keyed by name show it). Not apache-arrow's `RecordBatch.select`: it puts each column at
 * its index in the old batch, so a column that moves comes out null or misplaced. `as` renames
 * them: column `k` is named `as[k]` (same data, same field metadata).
 */
export function selectColumns(batch: RecordBatch, names: readonly string[], as?: readonly string[]): RecordBatch {
  const index = new Map<string, number>();
  batch.schema.fields.forEach((f, i) => index.set(f.name, i));
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const [k, name] of names.entries()) {
    const i = index.get(name);
    const target = as?.[k] ?? name;
    if (i === undefined) {
      fields.push(new Field(target, new Null(), true));
      children.push(makeData({ type: new Null(), length: batch.numRows, nullCount: batch.numRows }));
    } else {
      const field = batch.schema.fields[i]!;
      fields.push(target === name ? field : field.clone({ name: target }));
      children.push(batch.data.children[i]!);
    }
  }
  const schema = new Schema(fields, batch.schema.metadata);
  return makeRecordBatchFast(
    schema,
    makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }),
  );
}

/**
 * `batch` with the columns of `added` (of as many rows) set: a column of the same name is
 * replaced where it stands, the others appended in `added`'s order, as `{ ...row, ...added }`
 * orders an object's keys. No column data is copied. `batch` must not repeat a name.
 */
export function withColumns(batch: RecordBatch, added: RecordBatch): RecordBatch {
  const byName = new Map<string, number>();
  added.schema.fields.forEach((f, i) => byName.set(f.name, i));
  const fields: Field[] = [];
  const children: Data[] = [];
  const take = (from: RecordBatch, i: number): void => {
    fields.push(from.schema.fields[i]!);
    children.push(from.data.children[i]!);
  };
  batch.schema.fields.forEach((f, i) => {
    const j = byName.get(f.name);
    if (j === undefined) take(batch, i);
    else {
      take(added, j);
      byName.delete(f.name);
    }
  });
  for (const j of byName.values()) take(added, j);
  const schema = new Schema(fields, batch.schema.metadata);
  return makeRecordBatchFast(
    schema,
    makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }),
  );
}
