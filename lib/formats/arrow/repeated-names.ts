/**
 * Arrow lets two columns share a name (Arrow C++'s generated_duplicate_fieldnames has two `ints`,
 * an Int8 and an Int32). apache-arrow builds every batch with `new RecordBatch(schema, data)`,
 * which merges the schema's fields by name: such a batch said Int32 for both `ints`, and a
 * writer trusting that schema wrote a corrupt file; rows, keyed by name, would lose a column. So
 * an Arrow reader renames repeated and empty top-level names as the Parquet reader does, by
 * DuckDB's rule (`ints`, `ints_1`; parquet/read/names.ts), before any batch is built.
 */
import { type DataType, type Field, Schema } from 'apache-arrow';
import { renamedColumns, uniqueNames, type RenamedColumn } from '../parquet/read/names.ts';

interface ReaderImpl {
  schema: Schema | undefined;
  _loadRecordBatch: (this: ReaderImpl, ...args: unknown[]) => unknown;
}

/** The renames {@link withUniqueNames} made for each schema it returned renamed. */
const renames = new WeakMap<Schema, RenamedColumn[]>();

/**
 * apache-arrow's IPC writer leaves an empty field name out of the file (`if (field.name)`), and
 * its reader makes a missing name null: a struct child named "" came back named null (the key
 * "null" in rows) from any file spillway wrote, while Arrow C++ reads a missing name as "". This
 * puts "" back in the nested fields of a schema just decoded (its Field objects are the reader's
 * own, shared by the types of the batches it builds, so they are set in place).
 */
export function restoreEmptyNames(fields: readonly Field[]): void {
  for (const field of fields) {
    if (field.name === null) (field as { name: string }).name = '';
    const children = (field.type as DataType).children as Field[] | undefined;
    if (children?.length) restoreEmptyNames(children);
  }
}

/** `schema` with unique, non-empty top-level names (the same schema when they already are). */
export function withUniqueNames(schema: Schema): Schema {
  if (renames.has(schema)) return schema;
  restoreEmptyNames(schema.fields);
  const names = schema.fields.map((f) => f.name);
  const unique = uniqueNames(names);
  if (unique.every((name, i) => name === names[i])) return schema;
  const renamed = new Schema(
    schema.fields.map((f, i) => (unique[i] === f.name ? f : f.clone({ name: unique[i]! }))),
    schema.metadata,
    schema.dictionaries,
  );
  renames.set(renamed, renamedColumns(names, unique));
  return renamed;
}

/** What `schema`'s renaming changed, as `stats.details.renamedColumns` says it (`ints -> ints_1`), if it was renamed. */
export function renamedColumnsOf(schema: Schema): string | undefined {
  const list = renames.get(schema);
  return list?.map((r) => `${r.from === '' ? '(empty)' : r.from} -> ${r.to}`).join(', ');
}

/**
 * Makes apache-arrow reader `reader` build its batches under {@link withUniqueNames} of its
 * schema (and answer that schema), from its next batch on; a reader of another shape is left alone.
 */
export function renameRepeatedColumns(reader: object): void {
  const impl = (reader as { _impl?: ReaderImpl })._impl;
  if (impl === undefined || typeof impl._loadRecordBatch !== 'function') return;
  if (impl.schema !== undefined) impl.schema = withUniqueNames(impl.schema);
  const load = impl._loadRecordBatch;
  impl._loadRecordBatch = function (this: ReaderImpl, ...args: unknown[]) {
    // a stream's schema arrives with its first message, after this patch
    if (this.schema !== undefined) this.schema = withUniqueNames(this.schema);
    return load.apply(this, args);
  };
}
